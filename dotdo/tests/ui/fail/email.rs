//! `#[email]` takes the message, once per service.

use dotdo::email::InboundEmail;
use dotdo::prelude::*;

pub struct Inbox;

#[dotdo::service]
impl Inbox {
    #[email]
    async fn receive(&self, email: InboundEmail, folder: String) -> Result<(), dotdo::Error> {
        let _ = (email, folder);
        Ok(())
    }

    #[email]
    async fn also(&self, email: InboundEmail) -> Result<(), dotdo::Error> {
        let _ = email;
        Ok(())
    }

    #[email(folder = "x")]
    async fn options(&self, email: InboundEmail) -> Result<(), dotdo::Error> {
        let _ = email;
        Ok(())
    }
}

fn main() {}
