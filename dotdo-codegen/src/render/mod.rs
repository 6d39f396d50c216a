//! Code generation, one file per artifact. Generated code stays thin: it names types and calls
//! the runtime through `<crate>::__private` and absolute paths, so it works under
//! `#![no_implicit_prelude]` and with a renamed dependency.

mod client;
mod describe;
mod documents;
mod entry;
mod invoke;
mod producer;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{MethodModel, ServiceModel};

pub use documents::interface_hash;

pub fn render(service: &ServiceModel) -> TokenStream {
    let invokers = service
        .exposed()
        .map(|method| invoke::render_invoker(service, method));
    // Schemas for what is documented: tools' input, routes' arguments and results (OpenAPI),
    // RPC methods' arguments and results (TypeScript declarations).
    let schemas = service
        .exposed()
        .filter(|method| method.has_schemas())
        .map(|method| describe::render_schemas(service, method));
    let description = describe::render_service_impl(service);
    let client = client::render_client(service);
    let producer = producer::render_producer(service);
    let entry = entry::render_entry(service);
    let warnings = crate::warn::access_warnings(service);
    // The warnings' `let _ = _w;` carries the user's span, so clippy would lint it as theirs.
    let warnings = (!warnings.is_empty()).then(|| {
        quote! {
            #[allow(clippy::let_unit_value)]
            const _: () = { #warnings };
        }
    });
    // The markers are consumed here, so `use dotdo::prelude::*` would otherwise look unused
    // whenever nothing else of the prelude is: naming `dotdo` from the user's module resolves it
    // through the prelude when imported (and as the crate itself when not).
    let prelude_use = service.names_default_crate.then(|| {
        quote! {
            const _: () = {
                #[allow(unused_imports)]
                use dotdo as _;
            };
        }
    });
    let documents_test = service
        .documents
        .as_ref()
        .map(|dir| documents::documents_test(service, dir));
    quote! {
        #warnings
        #prelude_use
        const _: () = {
            #(#invokers)*
            #(#schemas)*
            #description
        };
        #entry
        #client
        #producer
        #documents_test
    }
}

fn invoker_ident(method: &MethodModel) -> proc_macro2::Ident {
    format_ident!("__dotdo_invoke_{}", method.ident)
}

fn input_schema_ident(method: &MethodModel) -> proc_macro2::Ident {
    format_ident!("__dotdo_input_schema_{}", method.ident)
}

fn result_schema_ident(method: &MethodModel) -> proc_macro2::Ident {
    format_ident!("__dotdo_result_schema_{}", method.ident)
}
