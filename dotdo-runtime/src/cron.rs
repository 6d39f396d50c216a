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

/// A cron expression, checked by the parser `#[cron("…")]` is checked with at compile time
/// (croner; five fields, or six with seconds): an argument of this type is refused (422 naming
/// it) when it does not parse.
///
/// ```
/// use dotdo_runtime::cron::Expression;
/// let nightly: Expression = "0 3 * * *".parse().unwrap();
/// // 2026-11-27 12:00 UTC → the next 03:00 UTC.
/// assert_eq!(nightly.next_after(1_795_780_800_000), Some(1_795_834_800_000));
/// assert!("0 25 * * *".parse::<Expression>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Expression(String);

fn parser() -> croner::parser::CronParser {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .build()
}

impl Expression {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first time it fires strictly after `after` (milliseconds since the epoch, UTC), in
    /// the same unit; `None` when it never fires again.
    pub fn next_after(&self, after: u64) -> Option<u64> {
        let cron = parser().parse(&self.0).ok()?;
        let start =
            chrono::DateTime::<chrono::Utc>::from_timestamp_millis(i64::try_from(after).ok()?)?;
        let next = cron.find_next_occurrence(&start, false).ok()?;
        u64::try_from(next.timestamp_millis()).ok()
    }
}

impl std::str::FromStr for Expression {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Self::try_from(text.to_owned())
    }
}

impl TryFrom<String> for Expression {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let trimmed = text.trim();
        match parser().parse(trimmed) {
            Ok(_) => Ok(Expression(trimmed.to_owned())),
            Err(error) => Err(format!("`{trimmed}` is not a cron expression: {error}")),
        }
    }
}

impl From<Expression> for String {
    fn from(expression: Expression) -> String {
        expression.0
    }
}

impl schemars::JsonSchema for Expression {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CronExpression".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A cron expression: minute hour day-of-month month day-of-week (UTC), optionally with seconds first",
            "examples": ["*/5 * * * *", "0 3 * * 1-5"],
        })
    }
}
