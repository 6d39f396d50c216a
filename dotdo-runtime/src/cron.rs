//! Scheduled runs: the cron expression that fired picks the `#[cron("…")]` method.

use crate::args::Args;
use crate::describe::Service;
use crate::{Context, Error};

/// Runs the method declared for `cron` (as written in wrangler.toml's `crons`).
pub async fn run<S: Service>(service: &S, context: &Context, cron: &str) -> Result<(), Error> {
    let description = S::description();
    let Some(schedule) = description
        .crons
        .iter()
        .find(|schedule| schedule.schedule == cron)
    else {
        let declared: Vec<&str> = description
            .crons
            .iter()
            .map(|schedule| schedule.schedule)
            .collect();
        return Err(Error::not_found(format!(
            "no `#[cron]` method for `{cron}`; declared: {}",
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        )));
    };
    let method = &description.methods[schedule.method];
    (method.invoke)(service, context, Args::new(method.params))
        .await
        .map(drop)
}
