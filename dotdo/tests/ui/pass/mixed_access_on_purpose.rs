//! `public` on the interface that is open on purpose silences the mixed-access warning (denied
//! here, so a warning would fail the build); reads may be public while RPC stays private.
#![deny(deprecated)]

use dotdo::prelude::*;

struct Guestbook;

#[dotdo::service]
impl Guestbook {
    /// Anyone may sign the guestbook over HTTP; services sign it over RPC.
    #[rpc]
    #[http(post = "/entries", public)]
    async fn sign(&self, name: String) -> Result<String, dotdo::Error> {
        Ok(name)
    }

    /// Anyone may read an entry, over HTTP and MCP; RPC is private as always.
    #[rpc]
    #[http(get = "/entries/:id")]
    #[mcp_tool(read_only)]
    async fn entry(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(id)
    }

    /// Anyone may clear the guestbook from MCP, on purpose.
    #[mcp_tool(destructive, public)]
    async fn clear(&self) -> Result<(), dotdo::Error> {
        Ok(())
    }

    /// Signed-in callers only, on every interface.
    #[rpc(role = "user")]
    #[http(delete = "/entries/:id", role = "user")]
    #[mcp_tool(destructive, role = "user")]
    async fn remove(&self, id: String) -> Result<(), dotdo::Error> {
        let _ = id;
        Ok(())
    }
}

fn main() {}
