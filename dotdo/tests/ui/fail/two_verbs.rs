use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[http(get = "/a", post = "/a")]
    async fn a(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
