use dotdo::prelude::*;

struct Svc;

impl Svc {
    #[rpc]
    async fn a(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[http(get = "/b")]
    async fn b(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
