//! Arguments bound from headers, cookies or the raw body exist only in HTTP requests; one body,
//! valid names.

use dotdo::prelude::*;

pub struct Hooks;

#[dotdo::service]
impl Hooks {
    /// RPC calls carry no headers.
    #[rpc]
    #[http(post = "/a", public)]
    async fn over_rpc(&self, #[header] x_tenant: String) -> Result<u32, dotdo::Error> {
        let _ = x_tenant;
        Ok(1)
    }

    /// Nor do queue messages have a body of their own.
    #[queue(type = "hook")]
    async fn from_queue(&self, #[body] raw: Vec<u8>) -> Result<(), dotdo::Error> {
        let _ = raw;
        Ok(())
    }

    /// The body is read once.
    #[http(post = "/b", public)]
    async fn two_bodies(&self, #[body] first: Vec<u8>, #[body] second: String) -> Result<u32, dotdo::Error> {
        let _ = (first, second);
        Ok(1)
    }

    /// Not names a request could carry.
    #[http(get = "/c")]
    async fn bad_names(
        &self,
        #[header("x tenant")] tenant: String,
        #[cookie("a;b")] session: String,
        #[header] #[cookie] both: String,
        #[body("raw")] raw: Vec<u8>,
    ) -> Result<u32, dotdo::Error> {
        let _ = (tenant, session, both, raw);
        Ok(1)
    }
}

fn main() {}
