use dotdo::prelude::*;

struct Svc;

#[dotdo::service]
impl Svc {
    #[cron("*/5 * * *")]
    async fn four_fields(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[cron("61 * * * *")]
    async fn bad_minute(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[cron("0 * * * *")]
    async fn takes_an_argument(&self, n: u8) -> Result<(), dotdo::Error> { let _ = n; Ok(()) }

    #[cron("0 * * * *")]
    async fn same_schedule(&self) -> Result<(), dotdo::Error> { Ok(()) }

    #[cron]
    async fn no_schedule(&self) -> Result<(), dotdo::Error> { Ok(()) }
}

fn main() {}
