//! `documents = "dir"`: the OpenAPI document and `tools/list` entries rendered before the build.
//! Natively a unit test writes and checks the files; the wasm build embeds them, and refuses to
//! compile when the impl's interface changed since they were written.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::model::ServiceModel;
use dotdo_routes::documents::{
    INTERFACE_HASH_FILE, MCP_TOOLS_EXACT_FILE, MCP_TOOLS_FILE, OPENAPI_FILE, OPENAPI_PRIVATE_FILE,
};

/// A hash of what in the impl shapes its documents: the service's options, its type, and each
/// method's attributes (markers, doc comments) and signature; not the methods' bodies, whose
/// changes need no new documents. FNV-1a over the tokens' text: stable for a given source.
pub fn interface_hash(attr: &TokenStream, item: &syn::ItemImpl) -> String {
    let mut text = attr.to_string();
    text.push_str(&item.self_ty.to_token_stream().to_string());
    for attr in &item.attrs {
        text.push_str(&attr.to_token_stream().to_string());
    }
    for impl_item in &item.items {
        if let syn::ImplItem::Fn(function) = impl_item {
            for attr in &function.attrs {
                text.push_str(&attr.to_token_stream().to_string());
            }
            text.push_str(&function.sig.to_token_stream().to_string());
        }
    }
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `Service::DOCUMENTS` in the wasm build: the files under `dir` that its routes and tools need,
/// embedded. A missing file, or documents written for another version of the impl, is reported
/// at compile time with the command that writes them.
pub fn documents_const(
    service: &ServiceModel,
    dir: &syn::LitStr,
    routes: bool,
    tools: bool,
) -> TokenStream {
    let krate = &service.krate;
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let dir_name = dir.value().trim_end_matches('/').to_owned();
    let bless =
        "render them with the crate's unit tests, natively: `DOTDO_BLESS=1 cargo test --lib`";
    let error = |message: String| quote_spanned! {dir.span()=> ::core::compile_error!(#message) };
    // A file's text, for the macro to read, and its inclusion, unused, so that cargo rebuilds
    // the worker when the file changes.
    let read = |name: &str| -> Result<(String, TokenStream), TokenStream> {
        let relative = format!("{dir_name}/{name}");
        let path = std::path::Path::new(&manifest_dir).join(&relative);
        let text = std::fs::read_to_string(&path);
        if !manifest_dir.is_empty() && text.is_err() {
            return Err(error(format!(
                "`documents = {:?}`: {relative} is missing; {bless}",
                dir.value()
            )));
        }
        let absolute = format!("/{relative}");
        let included = quote! {
            const _: &str = ::core::include_str!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), #absolute));
        };
        Ok((text.unwrap_or_default(), included))
    };
    // A document is embedded as compact JSON: its file is indented, for reviewable diffs, and
    // the indentation would be a third of the worker's copy.
    let file = |name: &str, needed: bool| -> TokenStream {
        if !needed {
            return quote! { "" };
        }
        let (text, included) = match read(name) {
            Ok(read) => read,
            Err(error) => return error,
        };
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(document) => {
                let compact = document.to_string();
                quote! {{ #included #compact }}
            }
            Err(parse_error) => error(format!(
                "`documents = {:?}`: {dir_name}/{name} is not JSON ({parse_error}); {bless}",
                dir.value()
            )),
        }
    };
    let hash_check = match read(INTERFACE_HASH_FILE) {
        Err(error) => quote! { #error; },
        Ok((written, included)) => {
            let stale = !manifest_dir.is_empty() && written.trim() != service.interface_hash;
            let stale = stale.then(|| {
                let error = error(format!(
                    "the documents under `{dir_name}/` were rendered for another version of this impl (its routes, tools, doc comments or signatures have changed since): {bless}"
                ));
                quote! { #error; }
            });
            quote! { #included #stale }
        }
    };
    let openapi = file(OPENAPI_FILE, routes);
    let openapi_private = file(OPENAPI_PRIVATE_FILE, routes);
    let mcp_tools = file(MCP_TOOLS_FILE, tools);
    let mcp_tools_exact = file(MCP_TOOLS_EXACT_FILE, tools);
    quote! {
        #[cfg(target_arch = "wasm32")]
        const DOCUMENTS: ::core::option::Option<#krate::__private::Documents> = {
            #hash_check
            ::core::option::Option::Some(#krate::__private::Documents {
                openapi: #openapi,
                openapi_private: #openapi_private,
                mcp_tools: #mcp_tools,
                mcp_tools_exact: #mcp_tools_exact,
            })
        };
    }
}

/// The unit test that checks (or, with `DOTDO_BLESS=1`, writes) the documents natively.
pub fn documents_test(service: &ServiceModel, dir: &syn::LitStr) -> TokenStream {
    let krate = &service.krate;
    let self_ty = &service.self_ty;
    let test = format_ident!("dotdo_documents_of_{}_are_current", service.ident);
    let dir = format!("/{}", dir.value().trim_end_matches('/'));
    let hash = &service.interface_hash;
    quote! {
        #[cfg(all(test, not(target_arch = "wasm32")))]
        #[test]
        #[allow(non_snake_case)]
        fn #test() {
            #krate::__private::check_documents::<#self_ty>(
                ::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), #dir),
                #hash,
            );
        }
    }
}
