use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[http(get = "/search", body = "query")]
    async fn search(&self, query: String) -> Result<String, dotdo::Error> { Ok(query) }

    #[http(delete = "/items/:id", body = "reason")]
    async fn remove(&self, id: String, reason: String) -> Result<String, dotdo::Error> { Ok(id + &reason) }
}

fn main() {}
