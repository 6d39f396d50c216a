//! The `#[dotdo::service]` attribute and its method markers. Use them through the `dotdo`
//! crate; the expansion itself lives in `dotdo-codegen`.

use proc_macro::TokenStream;

/// Turns an impl block into a dotdo service: HTTP routes, JSON-RPC, MCP tools and queue
/// consumers from its marked methods. Options: `crate = "path"` (where the `dotdo` crate is,
/// when renamed), `name = "..."` (the service name reported to MCP clients).
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::expand_service(attr.into(), item.into()).into()
}

/// Exposes a method over JSON-RPC (`POST /_rpc`) and the typed client. Option: `name`.
#[proc_macro_attribute]
pub fn rpc(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("rpc", item.into()).into()
}

/// Exposes a method as an HTTP route: `#[http(get = "/items/:id")]`. Options: one of `get`,
/// `post`, `put`, `patch`, `delete`; `body`; `status`.
#[proc_macro_attribute]
pub fn http(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("http", item.into()).into()
}

/// Exposes a method as an MCP tool. Options: `name`, `title`, `description`, `read_only`,
/// `destructive`, `idempotent`, `open_world`.
#[proc_macro_attribute]
pub fn mcp_tool(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("mcp_tool", item.into()).into()
}

/// Exposes a method as an MCP resource: `#[mcp_resource(uri = "items://{id}")]`, a fixed URI or
/// an RFC 6570 template whose variables are the method's arguments. Options: `name`, `title`,
/// `description`, `mime_type`, `complete`, `auth`, `role`, `public`.
#[proc_macro_attribute]
pub fn mcp_resource(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("mcp_resource", item.into()).into()
}

/// Exposes a method as an MCP prompt whose arguments are the method's. Options: `name`, `title`,
/// `description`, `complete`, `auth`, `role`, `public`.
#[proc_macro_attribute]
pub fn mcp_prompt(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("mcp_prompt", item.into()).into()
}

/// Consumes queue messages of a type: `#[queue(type = "item.created")]`. Options: `type`,
/// `queue`.
#[proc_macro_attribute]
pub fn queue(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("queue", item.into()).into()
}

/// Runs a method for each inbound email (Email Routing's `email` event): its one argument is
/// the message, a `dotdo::email::InboundEmail`. At most one per service.
#[proc_macro_attribute]
pub fn email(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("email", item.into()).into()
}

/// Runs a method when a cron trigger fires: `#[cron("*/5 * * * *")]`, matching an entry of
/// `[triggers] crons` in wrangler.toml. Repeatable.
#[proc_macro_attribute]
pub fn cron(_attr: TokenStream, item: TokenStream) -> TokenStream {
    dotdo_codegen::marker_outside_service("cron", item.into()).into()
}
