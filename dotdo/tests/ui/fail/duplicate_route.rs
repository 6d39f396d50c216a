use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[http(get = "/items/:id")]
    async fn a(&self, id: String) -> Result<String, dotdo::Error> { Ok(id) }

    #[http(get = "/items/:key")]
    async fn b(&self, key: String) -> Result<String, dotdo::Error> { Ok(key) }
}

fn main() {}
