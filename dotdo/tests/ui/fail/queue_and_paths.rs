use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[queue]
    async fn two_payloads(&self, a: u8, b: u8) -> Result<(), dotdo::Error> { let _ = (a, b); Ok(()) }

    #[http(post = "/mcp")]
    async fn reserved(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[http(get = "items")]
    async fn relative(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[http(post = "/created", status = 404)]
    async fn wrong_status(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
