use dotdo::prelude::*;

struct Svc;

#[dotdo::service(crate_path = "dotdo")]
impl Svc {
    /// A.
    #[rpc(nme = "x")]
    #[http(get = "/a", content = "json")]
    #[mcp_tool(readonly)]
    #[queue(topic = "t")]
    async fn a(&self, x: u8) -> Result<(), dotdo::Error> { let _ = x; Ok(()) }
}

fn main() {}
