//! A result type that cannot be serialized, and an RPC result the typed client cannot decode:
//! each reported at the return type, in dotdo's words.

use dotdo::prelude::*;

pub struct Opaque;

#[derive(serde::Serialize)]
pub struct WriteOnly {
    pub id: String,
}

pub struct Items;

#[dotdo::service]
impl Items {
    /// Returns something that is not JSON.
    #[http(get = "/opaque")]
    async fn opaque(&self) -> Result<Opaque, dotdo::Error> {
        Ok(Opaque)
    }

    /// Serializable, but the typed client could not read it back.
    #[rpc]
    async fn write_only(&self) -> Result<WriteOnly, dotdo::Error> {
        Ok(WriteOnly { id: "1".into() })
    }
}

fn main() {}
