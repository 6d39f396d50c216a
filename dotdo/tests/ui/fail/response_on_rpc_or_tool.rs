//! An `HttpResponse` (or any result that is not JSON) is for `#[http]` only: RPC and MCP
//! answer JSON, so they refuse it at compile time, in dotdo's words.

use dotdo::prelude::*;

pub struct Pages;

pub struct NotAResult;

#[dotdo::service]
impl Pages {
    /// Fine: HTTP answers any response.
    #[http(get = "/")]
    async fn home(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::html("<h1>hi</h1>"))
    }

    /// Refused: the typed client decodes JSON.
    #[rpc]
    #[http(get = "/page")]
    async fn page(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::html("<p>page</p>"))
    }

    /// Refused: a tool answers JSON with a schema.
    #[mcp_tool(read_only)]
    async fn tool_page(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::text("page"))
    }

    /// Refused everywhere: neither JSON nor a response.
    #[http(get = "/nothing")]
    async fn nothing(&self) -> Result<NotAResult, dotdo::Error> {
        Ok(NotAResult)
    }
}

fn main() {}
