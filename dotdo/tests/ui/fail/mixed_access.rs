//! Access that differs between one method's interfaces is a warning (here denied, to see it):
//! a write open to anyone over HTTP while its RPC needs a login, a destructive MCP tool anyone
//! may call, roles that differ.
#![deny(deprecated)]

use dotdo::prelude::*;

struct Items;

#[dotdo::service]
impl Items {
    /// Open over HTTP, a login over RPC.
    #[rpc]
    #[http(post = "/items")]
    async fn create_item(&self, name: String) -> Result<String, dotdo::Error> {
        Ok(name)
    }

    /// Anyone may delete through MCP.
    #[mcp_tool(destructive)]
    async fn delete_item(&self, id: String) -> Result<(), dotdo::Error> {
        let _ = id;
        Ok(())
    }

    /// A user over HTTP, an admin over MCP.
    #[http(put = "/items/:id", role = "user")]
    #[mcp_tool(idempotent, role = "admin")]
    async fn update_item(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(id)
    }

}

fn main() {}
