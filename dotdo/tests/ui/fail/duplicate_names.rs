use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    /// A.
    #[rpc(name = "run")]
    #[mcp_tool(name = "run")]
    #[queue(type = "ran")]
    async fn a(&self, x: u8) -> Result<(), dotdo::Error> { let _ = x; Ok(()) }

    /// B.
    #[rpc(name = "run")]
    #[mcp_tool(name = "run")]
    #[queue(type = "ran")]
    async fn b(&self, x: u8) -> Result<(), dotdo::Error> { let _ = x; Ok(()) }
}

fn main() {}
