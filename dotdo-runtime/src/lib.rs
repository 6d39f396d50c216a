//! The runtime of dotdo services: what `#[dotdo::service]` generates code against.
//!
//! Users depend on the `dotdo` crate, which re-exports this one with the macros.

mod args;
pub mod body;
pub mod client;
pub mod clock;
pub mod config;
mod context;
pub mod cron;
mod describe;
mod error;
pub mod http;
pub mod jsonrpc;
pub mod log;
mod manifest;
pub mod mcp;
pub mod middleware;
pub mod queue;
pub mod random;
mod request_id;
pub mod rpc;
pub mod schema;
pub mod testing;
pub mod worker;

pub use context::{Context, Interface, Principal};
pub use describe::{MethodOutput, Service, ServiceDescription};
pub use error::{Error, ErrorData, ErrorKind, Problem, QueueDecision, Result};
/// The boxed, single-threaded future that verifiers, transports and middleware return.
pub use futures_util::future::LocalBoxFuture;
pub use middleware::{Middleware, Next, Stack};

/// What generated code names. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{Args, Source};
    pub use crate::describe::{
        Access, BodyBinding, CronDesc, DescriptionParts, Invoke, Layer, MethodDesc, QueueDesc,
        Reply, RouteDesc, RpcDesc, SchemaFn, ToolAnnotations, ToolDesc, Verb,
    };
    pub use crate::schema::{ArgSchema, args_schema, output_schema};
    pub use ::worker::{js_sys, wasm_bindgen, worker_sys};
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
        params
            .into_iter()
            .map(|(name, value)| match value {
                Ok(value) => Ok((name.into(), value)),
                Err(error) => Err(crate::Error::bad_request(std::format!(
                    "argument `{name}` of `{method}` cannot be encoded as JSON: {error}"
                ))),
            })
            .collect()
    }

    /// Boxes a method call's future, fixing its type for the description's fn pointers.
    pub fn boxed<'a, F>(future: F) -> LocalBoxFuture<'a, crate::Result<Reply>>
    where
        F: core::future::Future<Output = crate::Result<Reply>> + 'a,
    {
        std::boxed::Box::pin(future)
    }
}
