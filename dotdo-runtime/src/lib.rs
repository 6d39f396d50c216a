//! The runtime of dotdo services: what `#[dotdo::service]` generates code against.
//!
//! Users depend on the `dotdo` crate, which re-exports this one with the macros.
//!
//! The modules are layered, each using only those below it (docs/architecture.md):
//! 1. wire types and helpers: `error`, `jsonrpc`, `wire`, `context`, `args`, `schema`, `body`,
//!    `config`, `log`, `name`, `response`, `sql`, `kv`, `upstream`, `middleware`;
//! 2. the service description: `describe`;
//! 3. the front ends, beside each other: `routes` (HTTP routes), `rpc`, `mcp`, `queue`, `cron`;
//! 4. the entries: `dispatch` (HTTP), `worker` (workerd), `testing` (in-process), and the
//!    renderings of a description (`manifest`, `openapi`).

mod args;
pub mod body;
mod bounded;
pub mod client;
pub mod clock;
pub mod config;
mod context;
pub mod cron;
mod describe;
mod dispatch;
pub mod documents;
pub mod email;
mod error;
pub mod json;
pub mod jsonrpc;
pub mod kv;
pub mod log;
mod manifest;
pub mod mcp;
pub mod middleware;
#[cfg(feature = "multipart")]
mod multipart;
mod name;
pub mod native_rpc;
mod openapi;
pub mod queue;
pub mod random;
mod raw_body;
mod request_id;
mod response;
mod routes;
pub mod rpc;
mod schema;
pub mod sql;
pub mod sse;
#[cfg(feature = "testing")]
pub mod testing;
mod typescript;
pub mod upstream;
mod wire;
pub mod worker;

/// The worker's allocator on wasm: Talc, smaller than Rust's default dlmalloc (about 3 KiB of a
/// worker, gzipped: docs/performance.md) and faster in Talc's own benchmarks. Its cell is for
/// one thread, as a worker runs: the `atomics` guard keeps it out of threaded wasm.
#[cfg(all(
    feature = "allocator",
    target_arch = "wasm32",
    not(target_feature = "atomics")
))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Serving a service over HTTP from any host: the request and response types, the entry points
/// ([`serve`](http::serve) through the service's middleware, [`handle`](http::handle) inside it)
/// and the problem+json error response every interface answers with.
pub mod http {
    pub use crate::dispatch::{handle, serve, serve_through};
    #[cfg(feature = "multipart")]
    pub use crate::multipart::Upload;
    /// `X-Request-ID`, the request id every response carries and calls forward.
    pub use crate::request_id::HEADER as REQUEST_ID_HEADER;
    pub use crate::response::html_escape;
    pub use crate::wire::{
        Body, ByteStream, DOCS_PATH, Incoming, MCP_PATH, OPENAPI_PATH, RPC_PATH, Request, Response,
        error_response, require_json_content_type,
    };
    pub use cookie::{Cookie, SameSite};
}

pub use bounded::{Bounded, OutOfRange};
pub use context::{Context, Interface, Principal};
pub use describe::{
    Documents, McpDelegate, McpFeatures, McpResult, MethodOutput, Service, ServiceDescription,
};
pub use error::{Error, ErrorData, ErrorKind, Problem, QueueDecision, Result};
/// The boxed, single-threaded future that verifiers, transports and middleware return.
pub use futures_util::future::LocalBoxFuture;
/// Streams for [`HttpResponse::stream`] and [`HttpResponse::sse`]: `futures`' `stream` module
/// (`iter`, `unfold`, `StreamExt`…), so a service needs no dependency of its own for them.
pub use futures_util::stream;
pub use middleware::{Middleware, Next, Stack};
pub use name::{InvalidName, Name};
pub use response::{HttpResponse, IntoResponse};

/// What generated code names. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{Args, Source};
    pub use crate::client::rpc_param;
    pub use crate::describe::Documents;
    pub use crate::describe::ResultSchemaFn;
    pub use crate::describe::{
        Access, BodyBinding, Complete, CronDesc, DescriptionParts, Extract, ExtractFrom, Invoke,
        Layer, MethodDesc, PromptArgDesc, PromptDesc, QueueDesc, Reply, ResourceDesc, RouteDesc,
        RoutePart, RpcDesc, SchemaFn, ToolAnnotations, ToolDesc, Verb,
    };
    #[cfg(not(target_arch = "wasm32"))]
    pub use crate::documents::check as check_documents;
    pub use crate::schema::{
        ArgSchema, NoResultSchema, ResultSchema, SchemaOf, args_schema, output_schema,
    };
    pub use ::worker::{ForwardableEmailMessage, js_sys, wasm_bindgen, worker_sys};

    /// A tool's schema function in a wasm build with prebuilt documents: never called, as the
    /// documents are served instead of rendering them.
    pub fn prebuilt_schema(_: &mut SchemaGenerator) -> Schema {
        Schema::default()
    }
    pub use futures_util::future::LocalBoxFuture;
    pub use schemars::{JsonSchema, Schema, SchemaGenerator};
    pub use serde;
    pub use serde_json;
    pub use std;

    /// The named params of a typed client call, or the error of the first that fails to encode.
    pub fn named_params<const N: usize>(
        method: &str,
        params: [(&'static str, serde_json::Result<serde_json::Value>); N],
    ) -> crate::Result<serde_json::Map<std::string::String, serde_json::Value>> {
        let mut object = serde_json::Map::new();
        for (name, value) in params {
            match value {
                Ok(value) => object.insert(name.into(), value),
                Err(error) => {
                    return Err(crate::Error::bad_request(std::format!(
                        "argument `{name}` of `{method}` cannot be encoded as JSON: {error}"
                    )));
                }
            };
        }
        Ok(object)
    }

    /// Whether an argument of type `T` must be given (it cannot be absent, as an `Option` can).
    pub fn is_required<T: serde::de::DeserializeOwned>() -> bool {
        crate::args::accepts_absence::<T>().is_none()
    }

    /// Checks, at compile time, that a prompt's result is one it can answer.
    pub fn prompt_output<T: crate::mcp::PromptOutput>() {}

    /// Boxes a completion method's call.
    pub fn completion<'a, F, E>(
        future: F,
    ) -> LocalBoxFuture<'a, crate::Result<std::vec::Vec<std::string::String>>>
    where
        F: core::future::Future<
                Output = core::result::Result<std::vec::Vec<std::string::String>, E>,
            > + 'a,
        E: Into<crate::Error>,
    {
        std::boxed::Box::pin(async move { future.await.map_err(Into::into) })
    }

    /// Boxes a method call's future, fixing its type for the description's fn pointers.
    pub fn boxed<'a, F>(future: F) -> LocalBoxFuture<'a, crate::Result<Reply>>
    where
        F: core::future::Future<Output = crate::Result<Reply>> + 'a,
    {
        std::boxed::Box::pin(future)
    }
}
