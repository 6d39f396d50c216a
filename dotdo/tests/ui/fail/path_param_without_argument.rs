use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[http(get = "/items/:id/parts/:part")]
    async fn part(&self, id: String) -> Result<String, dotdo::Error> { Ok(id) }
}

fn main() {}
