//! The workers-rs entrypoint, on wasm32: the exports `fetch`, `queue`, `scheduled` and `email` that
//! worker-build's shim wires to the Workers runtime, and one per `#[rpc]` method for native Workers
//! RPC. Each is one call into the runtime's glue.
//!
//! A crate that other workers depend on for its typed client and producer puts the entrypoint
//! behind a feature of its own (`#[dotdo::service(entry = "worker")]`); dependents turn that
//! feature off, so they do not link a second entrypoint.

use proc_macro2::TokenStream;
use quote::quote;

use crate::attr::Entry;
use crate::model::ServiceModel;

pub fn render_entry(service: &ServiceModel) -> TokenStream {
    let condition = match &service.entry {
        None => quote! { target_arch = "wasm32" },
        Some(Entry::Feature(feature)) => quote! { all(target_arch = "wasm32", feature = #feature) },
        Some(Entry::Off) => return TokenStream::new(),
    };
    let krate = &service.krate;
    let self_ty = &service.self_ty;
    // One export per event: its JS name, what the runtime hands it, and the glue that serves it.
    let export = |event: &str, input: TokenStream, context: TokenStream| {
        let event = quote::format_ident!("{event}");
        quote! {
            #[wasm_bindgen]
            pub fn #event(
                input: #input,
                env: #krate::worker::Env,
                ctx: #context,
            ) -> #krate::__private::js_sys::Promise {
                #krate::worker::glue::#event::<#self_ty>(input, env, ctx)
            }
        }
    };
    let sys = quote! { #krate::__private::worker_sys };
    let fetch = export(
        "fetch",
        quote! { #sys::web_sys::Request },
        quote! { #sys::Context },
    );
    let has_queue = service.exposed().any(|method| !method.queue.is_empty());
    let queue = has_queue.then(|| {
        export(
            "queue",
            quote! { #sys::MessageBatch },
            quote! { #sys::Context },
        )
    });
    let has_cron = service.exposed().any(|method| !method.cron.is_empty());
    let scheduled = has_cron.then(|| {
        export(
            "scheduled",
            quote! { #sys::ScheduledEvent },
            quote! { #sys::ScheduleContext },
        )
    });
    let has_email = service.exposed().any(|method| method.email.is_some());
    let email = has_email.then(|| {
        export(
            "email",
            quote! { #krate::__private::ForwardableEmailMessage },
            quote! { #sys::Context },
        )
    });
    // Each `#[rpc]` method is also a method of the worker's entrypoint, under its Rust name
    // (always a JavaScript identifier; `#[rpc(name = "…")]` renames the JSON-RPC method only):
    // worker-build puts every other export of the module on the entrypoint for Workers RPC.
    // `native_rpc = false` leaves them out, and the glue they need with them.
    let native_rpc = service
        .exposed()
        .filter(|method| service.native_rpc && method.rpc.is_some())
        .map(|method| {
            let js_name = crate::model::unraw(&method.ident);
            let export = quote::format_ident!("__dotdo_native_rpc_{}", js_name);
            let wire_name = method.rpc_name();
            quote! {
                #[wasm_bindgen(js_name = #js_name)]
                pub fn #export(
                    params: wasm_bindgen::JsValue,
                    options: wasm_bindgen::JsValue,
                ) -> #krate::__private::js_sys::Promise {
                    #krate::worker::glue::rpc::<#self_ty>(#wire_name, params, options)
                }
            }
        });
    quote! {
        #[cfg(#condition)]
        const _: () = {
            use #krate::__private::wasm_bindgen::{self, prelude::wasm_bindgen};
            use #krate::__private::js_sys;

            #fetch
            #queue
            #scheduled
            #email
            #(#native_rpc)*
        };
    }
}
