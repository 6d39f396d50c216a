//! How long `#[dotdo::service]` takes to expand an impl with 200 methods, each an RPC method,
//! an HTTP route and an MCP tool (parse, model, check, render; what the compiler pays).
//!
//! Run: `cargo bench -p dotdo-codegen --bench expand`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

fn service_with(methods: usize) -> TokenStream {
    let methods = (0..methods).map(|index| {
        let name = format_ident!("method_{index}");
        let path = format!("/things/{index}/:id");
        let doc = format!("Method number {index}.");
        quote! {
            #[doc = #doc]
            #[rpc]
            #[http(get = #path)]
            #[mcp_tool(read_only)]
            async fn #name(&self, id: String, limit: Option<u32>) -> Result<Thing, dotdo::Error> {
                let _ = (id, limit);
                Ok(Thing)
            }
        }
    });
    quote! { impl Big { #(#methods)* } }
}

fn bench(c: &mut Criterion) {
    let item = service_with(200);
    let expanded = dotdo_codegen::expand_service(TokenStream::new(), item.clone()).to_string();
    assert!(
        !expanded.contains("compile_error"),
        "the benchmark input must be valid"
    );
    c.bench_function("expand_200_methods", |b| {
        b.iter(|| dotdo_codegen::expand_service(TokenStream::new(), black_box(item.clone())))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
