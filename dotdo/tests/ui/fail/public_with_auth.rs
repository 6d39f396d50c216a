//! `public` opens an interface to anyone: it cannot also ask for a principal.

use dotdo::prelude::*;

struct Items;

#[dotdo::service]
impl Items {
    /// Contradicts itself.
    #[http(get = "/items/:id", public, auth)]
    async fn get_item(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(id)
    }

    /// So does this tool.
    #[mcp_tool(read_only, role = "admin", public)]
    async fn count(&self) -> Result<u32, dotdo::Error> {
        Ok(0)
    }
}

fn main() {}
