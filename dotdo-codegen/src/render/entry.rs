//! The workers-rs entrypoint, on wasm32: the exports `fetch`, `queue` and `scheduled` that
//! worker-build's shim wires to the Workers runtime. Each is one call into the runtime's glue.
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
    let has_queue = service.exposed().any(|method| !method.queue.is_empty());
    let has_cron = service.exposed().any(|method| !method.cron.is_empty());
    let queue = has_queue.then(|| {
        quote! {
            #[wasm_bindgen]
            pub fn queue(
                batch: #krate::__private::worker_sys::MessageBatch,
                env: #krate::worker::Env,
                ctx: #krate::__private::worker_sys::Context,
            ) -> #krate::__private::js_sys::Promise {
                #krate::worker::glue::queue::<#self_ty>(batch, env, ctx)
            }
        }
    });
    let scheduled = has_cron.then(|| {
        quote! {
            #[wasm_bindgen]
            pub fn scheduled(
                event: #krate::__private::worker_sys::ScheduledEvent,
                env: #krate::worker::Env,
                ctx: #krate::__private::worker_sys::ScheduleContext,
            ) -> #krate::__private::js_sys::Promise {
                #krate::worker::glue::scheduled::<#self_ty>(event, env, ctx)
            }
        }
    });
    quote! {
        #[cfg(#condition)]
        const _: () = {
            use #krate::__private::wasm_bindgen::{self, prelude::wasm_bindgen};
            use #krate::__private::js_sys;

            #[wasm_bindgen]
            pub fn fetch(
                request: #krate::__private::worker_sys::web_sys::Request,
                env: #krate::worker::Env,
                ctx: #krate::__private::worker_sys::Context,
            ) -> #krate::__private::js_sys::Promise {
                #krate::worker::glue::fetch::<#self_ty>(request, env, ctx)
            }
            #queue
            #scheduled
        };
    }
}
