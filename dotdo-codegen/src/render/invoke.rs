//! One invoker per exposed method: takes each argument by name from the runtime's `Args`, calls
//! the method, and serializes its result. Every interface calls the same invoker.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{ArgumentSources, BindingFrom, MethodModel, ServiceModel};

pub fn render_invoker(service: &ServiceModel, method: &MethodModel) -> TokenStream {
    let krate = &service.krate;
    let self_ty = &service.self_ty;
    let invoker = super::invoker_ident(method);
    let method_ident = &method.ident;
    let takes = method.params().map(|arg| {
        let ident = &arg.ident;
        let ty = &arg.ty;
        let name = &arg.name;
        // A header or cookie argument is that header or cookie, never a same-named query
        // parameter or body field.
        let extracted = arg.binding.as_ref().is_some_and(|binding| {
            matches!(
                binding.from,
                BindingFrom::Header(_) | BindingFrom::Cookie(_)
            )
        });
        if extracted {
            quote! { let #ident: #ty = __args.take_extracted(#name)?; }
        } else {
            // Each argument is decoded only from the kinds of values its method's interfaces
            // give it: a type's decoding is compiled for each kind it is taken from (worker size).
            let take = match method.argument_sources(arg) {
                ArgumentSources::Json => quote! { take_json },
                ArgumentSources::TextOrJson => quote! { take_text_or_json },
                ArgumentSources::Any => quote! { take },
            };
            quote! { let #ident: #ty = __args.#take(#name)?; }
        }
    });
    let call_args = method.args.iter().map(|arg| {
        if arg.is_context {
            quote! { __context }
        } else {
            let ident = &arg.ident;
            quote! { #ident }
        }
    });
    let call = quote! { <#self_ty>::#method_ident(__service, #(#call_args),*).await };
    // Named through the return type, so a result that is not one is reported at that type.
    let reply = match &method.output {
        Some(output) => quote_spanned! {output.span()=>
            <#output as #krate::MethodOutput>::into_reply(#call)
        },
        None => quote_spanned! {method.ident.span()=> #krate::MethodOutput::into_reply(#call) },
    };
    quote! {
        #[allow(non_snake_case, unused_mut, unused_variables, clippy::needless_question_mark)]
        fn #invoker<'a>(
            __service: &'a #self_ty,
            __context: &'a #krate::Context,
            mut __args: #krate::__private::Args<'a>,
        ) -> #krate::__private::LocalBoxFuture<'a, #krate::Result<#krate::__private::Reply>> {
            #krate::__private::boxed(async move {
                #(#takes)*
                __args.finish()?;
                #reply
            })
        }
    }
}
