use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[http(get = "/things/:ns/*selector")]
    async fn select(&self, ns: String, selector: String) -> Result<String, dotdo::Error> { Ok(ns + &selector) }

    #[http(put = "/things/:ns/:id")]
    async fn put(&self, ns: String, id: String) -> Result<String, dotdo::Error> { Ok(ns + &id) }
}

fn main() {}
