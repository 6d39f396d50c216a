//! Methods may return any error that converts into `dotdo::Error`.
use dotdo::prelude::*;

struct MyError;

impl From<MyError> for dotdo::Error {
    fn from(_: MyError) -> Self {
        dotdo::Error::conflict("mine")
    }
}

struct Svc;

#[dotdo::service]
impl Svc {
    #[rpc]
    async fn run(&self) -> Result<u8, MyError> {
        Err(MyError)
    }
}

fn main() {}
