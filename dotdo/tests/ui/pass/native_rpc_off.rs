//! `native_rpc = false`: no native Workers RPC methods on the entrypoint, so an `#[rpc]` method
//! may have a name the entrypoint uses.
use dotdo::prelude::*;

struct Svc;

#[dotdo::service(native_rpc = false)]
impl Svc {
    /// Fetch a page.
    #[rpc]
    async fn fetch(&self, url: String) -> Result<String, dotdo::Error> {
        Ok(url)
    }
}

fn main() {}
