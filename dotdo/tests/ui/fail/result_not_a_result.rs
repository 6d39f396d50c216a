//! A method whose return type is not a `Result`: reported at the return type in dotdo's words.

use dotdo::prelude::*;

pub struct Items;

#[dotdo::service]
impl Items {
    /// Not a result.
    #[http(get = "/plain")]
    async fn plain(&self) -> String {
        String::new()
    }
}

fn main() {}
