use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[rpc]
    fn not_async(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[rpc]
    async fn no_receiver() -> Result<(), dotdo::Error> { Ok(()) }

    #[rpc]
    async fn mutable_receiver(&mut self) -> Result<(), dotdo::Error> { Ok(()) }

    #[rpc]
    async fn no_result(&self) {}

    #[rpc]
    async fn borrowed(&self, name: &str) -> Result<(), dotdo::Error> { let _ = name; Ok(()) }
}

fn main() {}
