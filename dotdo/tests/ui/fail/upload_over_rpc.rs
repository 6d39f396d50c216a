//! A file upload exists only in a multipart HTTP request: the typed RPC client cannot send one.

use dotdo::prelude::*;

pub struct Photos;

#[dotdo::service]
impl Photos {
    /// Files do not travel over JSON-RPC.
    #[rpc]
    #[http(post = "/photos", public)]
    async fn add(&self, photo: Upload) -> Result<usize, dotdo::Error> {
        Ok(photo.len())
    }
}

fn main() {}
