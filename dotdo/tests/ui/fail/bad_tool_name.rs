use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    /// Has a space in its name.
    #[mcp_tool(name = "get item")]
    async fn a(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[mcp_tool]
    async fn undocumented(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
