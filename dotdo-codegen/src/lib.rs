//! The expansion of `#[dotdo::service]`, as a plain library so it can be unit-tested,
//! snapshot-tested and benchmarked outside the compiler. `dotdo-macros` is a thin wrapper.
//!
//! parse → model → check → render, after serde_derive: the model keeps the original tokens for
//! spans, the check pass reports every problem at once, and the impl is always emitted (with
//! the markers stripped) so the IDE keeps working when there are errors.

mod attr;
pub mod check;
mod ctxt;
mod model;
mod render;
mod warn;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// Expands `#[dotdo::service(attr)] item`.
pub fn expand_service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut item_impl = match syn::parse2::<syn::ItemImpl>(item.clone()) {
        Ok(item_impl) => item_impl,
        Err(_) => {
            let error = syn::Error::new_spanned(
                &item,
                "`#[dotdo::service]` goes on an impl block: `#[dotdo::service] impl Items { ... }`",
            );
            let error = error.to_compile_error();
            return quote! { #error #item };
        }
    };
    let ctxt = ctxt::Ctxt::default();
    let service_attr = attr::parse_service(&ctxt, attr.clone());
    let interface_hash = match service_attr.documents {
        Some(_) => render::interface_hash(&attr, &item_impl),
        None => String::new(),
    };
    let model = model::ServiceModel::from_impl(&ctxt, service_attr, interface_hash, &mut item_impl);
    if let Some(model) = &model {
        check::check(&ctxt, model);
    }
    let mut output = item_impl.into_token_stream();
    match (ctxt.check(), model) {
        (Ok(()), Some(model)) => output.extend(render::render(&model)),
        (Err(errors), _) => output.extend(errors.to_compile_error()),
        (Ok(()), None) => unreachable!("a missing model always records an error"),
    }
    output
}

/// `#[rpc]`, `#[http]`, `#[mcp_tool]` or `#[queue]` where no `#[dotdo::service]` reads it.
pub fn marker_outside_service(marker: &str, item: TokenStream) -> TokenStream {
    let message = format!(
        "`#[{marker}]` only works on a method inside a `#[dotdo::service]` impl block; put `#[dotdo::service]` on the impl"
    );
    let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
    quote! { #error #item }
}
