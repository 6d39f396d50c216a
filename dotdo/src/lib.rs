//! # dotdo
//!
//! Write a plain Rust `impl`, mark it `#[dotdo::service]`, mark its methods with `#[rpc]`,
//! `#[http(get = "/items/:id")]`, `#[mcp_tool]` and `#[queue]`, and get all four interfaces of
//! a Cloudflare Workers microservice from it: an HTTP router, a JSON-RPC endpoint with a typed
//! client, an MCP server with its tool manifest, and a queue dispatcher.
//!
//! ```
//! use dotdo::prelude::*;
//!
//! #[derive(Default)]
//! struct Greeter;
//!
//! /// Says hello.
//! #[dotdo::service]
//! impl Greeter {
//!     /// Greets someone by name.
//!     #[rpc]
//!     #[http(get = "/hello/:name")]
//!     #[mcp_tool(read_only)]
//!     async fn hello(&self, name: String) -> Result<String, dotdo::Error> {
//!         Ok(format!("Hello, {name}!"))
//!     }
//! }
//!
//! # futures_executor::block_on(async {
//! let client = dotdo::testing::TestClient::new(Greeter);
//! let response = client.get("/hello/world").await;
//! assert_eq!(response.json::<String>(), "Hello, world!");
//! # });
//! ```
//!
//! See `docs/reference.md` for every attribute and option.

pub use dotdo_macros::{
    cron, email, http, mcp_prompt, mcp_resource, mcp_tool, queue, rpc, service,
};
#[doc(hidden)]
pub use dotdo_runtime::__private;
/// The in-process test client (feature `testing`, for `[dev-dependencies]`).
#[cfg(feature = "testing")]
pub use dotdo_runtime::testing;
pub use dotdo_runtime::{
    Bounded, Context, Documents, Error, ErrorData, ErrorKind, HttpResponse, Interface,
    IntoResponse, InvalidName, LocalBoxFuture, McpDelegate, McpFeatures, McpResult, MethodOutput,
    Middleware, Name, Next, Principal, Problem, QueueDecision, Result, Service, ServiceDescription,
    Stack, client, clock, config, cron, documents, email, http, json, jsonrpc, kv, log, mcp, queue,
    random, rpc, sql, sse, stream, upstream, worker,
};

/// The middleware model and the shared layers: CORS, request logs, authentication, rate and
/// body limits.
pub mod middleware {
    pub use dotdo_middleware::*;
    pub use dotdo_runtime::middleware::*;
}

/// Everything a service module needs: `use dotdo::prelude::*;`.
pub mod prelude {
    /// The crate under its own name: `#[dotdo::service]` names it from the module it expands
    /// in, so a prelude imported for the markers it consumes is not reported unused.
    #[doc(hidden)]
    pub use crate as dotdo;
    pub use dotdo_macros::{
        cron, email, http, mcp_prompt, mcp_resource, mcp_tool, queue, rpc, service,
    };
    pub use dotdo_runtime::__private::JsonSchema;
    pub use dotdo_runtime::http::Cookie;
    #[cfg(feature = "multipart")]
    pub use dotdo_runtime::http::Upload;
    pub use dotdo_runtime::{
        Context, Error, ErrorKind, HttpResponse, IntoResponse, Name, Principal,
    };
}
