use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    /// Would take the entrypoint's own fetch handler over native Workers RPC.
    #[rpc]
    async fn fetch(&self, url: String) -> Result<String, dotdo::Error> { Ok(url) }

    /// Renamed on JSON-RPC only: still the Rust name over native RPC.
    #[rpc(name = "run")]
    async fn queue(&self) -> Result<(), dotdo::Error> { Ok(()) }

    /// Fine: the JSON-RPC name may be anything.
    #[rpc(name = "scheduled")]
    async fn schedule_page(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
