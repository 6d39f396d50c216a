//! The platform's email.
//!
//! `send` renders a message — from a stored template with `{{variable}}` places, or given
//! whole — refuses an address suppressed after a hard bounce, logs it `queued` and sends it
//! through the `dotdo-email-sends` queue, whose consumer hands it to the provider: Cloudflare's
//! `send_email` binding or a Resend-compatible HTTP API (`EMAIL_PROVIDER`). A provider failure
//! worth retrying (5xx, 429, timeouts) is retried with the dispatcher's backoff; a refusal, or
//! retries used up, leaves it `dead` in the log, replayable. Email received through Email
//! Routing runs the `#[email]` method, which keeps it in the inbound log.

use std::rc::Rc;

use dotdo::LocalBoxFuture;
use dotdo::email::InboundEmail;
use dotdo::middleware::{Authenticate, HashedKeys, Standard};
use dotdo::prelude::*;
use dotdo::queue::{DeadLetter, Producer};
use dotdo::sql::Database;
use dotdo::upstream::Upstream;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A message as the provider gets it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outgoing {
    /// The send's id: the provider's idempotency key, so a retry never sends twice.
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// Hands messages to an email provider: the provider's id for the message.
pub trait Mailer {
    fn send<'a>(&'a self, email: &'a Outgoing) -> LocalBoxFuture<'a, dotdo::Result<String>>;
}

/// A Resend-compatible API (`POST /emails`), through the typed upstream client: timeouts,
/// retries where safe, its answers as `dotdo::Error`s (5xx and 429 transient, 4xx not).
pub struct ResendApi(pub Upstream);

#[derive(Deserialize)]
struct Sent {
    id: String,
}

impl Mailer for ResendApi {
    fn send<'a>(&'a self, email: &'a Outgoing) -> LocalBoxFuture<'a, dotdo::Result<String>> {
        Box::pin(async move {
            let body = json!({
                "from": email.from,
                "to": [email.to],
                "subject": email.subject,
                "text": email.text,
                "html": email.html,
            });
            let sent: Sent = self.0.post_idempotent("/emails", &body, &email.id).await?;
            Ok(sent.id)
        })
    }
}

/// Cloudflare's `send_email` binding (the Email Service).
pub struct CloudflareEmail(pub worker::SendEmail);

impl Mailer for CloudflareEmail {
    fn send<'a>(&'a self, email: &'a Outgoing) -> LocalBoxFuture<'a, dotdo::Result<String>> {
        Box::pin(async move {
            let mut builder =
                worker::SendEmailBuilder::builder(&email.from, &email.to, &email.subject);
            if let Some(text) = &email.text {
                builder = builder.text(text);
            }
            if let Some(html) = &email.html {
                builder = builder.html(html);
            }
            let sent = self
                .0
                .send_with_builder(&builder.build())
                .await
                .map_err(|error| Error::upstream(format!("send_email: {error:?}")))?;
            Ok(sent.message_id())
        })
    }
}

/// An email to send: a template and its variables, or a subject and bodies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEmail {
    pub to: String,
    /// The sender (`EMAIL_FROM` when not given).
    #[serde(default)]
    pub from: Option<String>,
    /// A stored template to render.
    #[serde(default)]
    pub template: Option<Name>,
    /// The template's `{{places}}`, by name.
    #[serde(default)]
    pub variables: Map<String, Value>,
    /// Without a template: the subject, and a text or HTML body.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Template {
    pub subject: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
}

/// Where a send is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SendStatus {
    Queued,
    Sent,
    /// Its last try failed transiently: it will be tried again.
    Failed,
    /// Refused, suppressed or out of retries: replay it once the cause is fixed.
    Dead,
}

impl SendStatus {
    fn as_str(self) -> &'static str {
        match self {
            SendStatus::Queued => "queued",
            SendStatus::Sent => "sent",
            SendStatus::Failed => "failed",
            SendStatus::Dead => "dead",
        }
    }
}

/// One email in the send log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Send {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub template: Option<String>,
    pub status: SendStatus,
    pub attempts: u32,
    /// The provider's id for it, once sent.
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub generation: u32,
    pub created_at: u64,
    pub updated_at: u64,
}

/// The message of one send attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: String,
    #[serde(default)]
    pub generation: u32,
}

/// A suppressed address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Suppression {
    pub address: String,
    /// `hard_bounce`, `complaint`, …
    pub reason: String,
}

/// A received email, as the inbound log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Received {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: Option<String>,
    pub size: u64,
    pub received_at: u64,
}

pub struct Mail {
    db: Database,
    sends: Rc<dyn Producer>,
    mailer: Rc<dyn Mailer>,
    default_from: String,
    keys: HashedKeys,
    gateway_secret: String,
}

impl FromEnv for Mail {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let mailer: Rc<dyn Mailer> = match config
            .optional_var("EMAIL_PROVIDER")
            .as_deref()
            .unwrap_or("resend")
        {
            "cloudflare" => Rc::new(CloudflareEmail(
                env.send_email("SEND_EMAIL").map_err(binding_error)?,
            )),
            "resend" => {
                let base = config
                    .optional_var("RESEND_API_URL")
                    .unwrap_or_else(|| "https://api.resend.com".into());
                Rc::new(ResendApi(
                    Upstream::new(&base)
                        .bearer(&config.secret("RESEND_API_KEY")?)
                        .timeout_ms(10_000),
                ))
            }
            other => {
                return Err(Error::internal(format!(
                    "`EMAIL_PROVIDER` is `resend` or `cloudflare`, not `{other}`"
                )));
            }
        };
        Ok(Mail {
            db: Database::d1(env.d1("DB_EMAIL").map_err(binding_error)?),
            sends: Rc::new(env.queue("SENDS").map_err(binding_error)?),
            mailer,
            default_from: config.var("EMAIL_FROM")?,
            keys: HashedKeys::parse(&config.optional_secret("API_KEYS")?.unwrap_or_default())?,
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
        })
    }
}

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

const SEND_COLUMNS: &str = "id, sender, recipient, subject, template, status, attempts, provider_id, last_error, generation, created_at, updated_at";

#[derive(Deserialize)]
struct SendRow {
    id: String,
    sender: String,
    recipient: String,
    subject: String,
    template: Option<String>,
    status: SendStatus,
    attempts: f64,
    provider_id: Option<String>,
    last_error: Option<String>,
    generation: f64,
    created_at: f64,
    updated_at: f64,
}

impl From<SendRow> for Send {
    fn from(row: SendRow) -> Send {
        Send {
            id: row.id,
            from: row.sender,
            to: row.recipient,
            subject: row.subject,
            template: row.template,
            status: row.status,
            attempts: row.attempts as u32,
            provider_id: row.provider_id,
            last_error: row.last_error,
            generation: row.generation as u32,
            created_at: row.created_at as u64,
            updated_at: row.updated_at as u64,
        }
    }
}

/// An address fit for a header: one `@`, no spaces or line breaks (no header injection).
fn check_address(field: &str, address: &str) -> dotdo::Result<String> {
    let address = address.trim();
    let valid = address.len() <= 320
        && address.split('@').count() == 2
        && address.split('@').all(|part| !part.is_empty())
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    if valid {
        Ok(address.to_ascii_lowercase())
    } else {
        Err(Error::invalid_field(
            field,
            format!("`{address}` is not an email address"),
        ))
    }
}

/// `{{ name }}` places filled from `variables` (HTML-escaped in HTML); a place without a value
/// is an error naming it.
fn render(text: &str, variables: &Map<String, Value>, html: bool) -> dotdo::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        let value = match variables.get(name) {
            Some(Value::String(text)) => text.clone(),
            Some(other) => dotdo::json::to_text(other),
            None => {
                return Err(Error::invalid_field(
                    format!("variables.{name}"),
                    format!("the template uses `{{{{{name}}}}}`: give it a value"),
                ));
            }
        };
        out.push_str(&if html {
            dotdo::http::html_escape(&value)
        } else {
            value
        });
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Mail {
    /// The service on `db` (with [`MIGRATIONS`] applied), queueing sends on `sends`, sending
    /// through `mailer`: for tests.
    pub fn new(
        db: Database,
        sends: Rc<dyn Producer>,
        mailer: Rc<dyn Mailer>,
        default_from: &str,
        keys: HashedKeys,
    ) -> Self {
        Mail {
            db,
            sends,
            mailer,
            default_from: default_from.to_owned(),
            keys,
            gateway_secret: String::new(),
        }
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone()))
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    async fn find(&self, id: &str) -> dotdo::Result<Send> {
        let sql = format!("SELECT {SEND_COLUMNS} FROM sends WHERE id = ?1");
        self.db
            .first::<SendRow>(&sql, &[id.into()])
            .await?
            .map(Send::from)
            .ok_or_else(|| Error::not_found(format!("no email `{id}`")))
    }

    async fn set_status(
        &self,
        id: &str,
        status: SendStatus,
        error: Option<&str>,
    ) -> dotdo::Result<()> {
        self.db
            .execute(
                "UPDATE sends SET status = ?2, last_error = COALESCE(?3, last_error), updated_at = ?4 WHERE id = ?1",
                &[id.into(), status.as_str().into(), error.into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        Ok(())
    }

    async fn suppressed(&self, address: &str) -> dotdo::Result<Option<String>> {
        let rows = self
            .db
            .query(
                "SELECT reason FROM suppressions WHERE address = ?1",
                &[address.into()],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|row| row.get("reason"))
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    async fn queue_attempt(&self, id: &str, generation: u32) -> dotdo::Result<()> {
        let attempt = Attempt {
            id: id.to_owned(),
            generation,
        };
        dotdo::queue::produce(&*self.sends, "email.send", &attempt).await
    }

    async fn dead(&self, attempt: &Attempt, reason: &str) -> dotdo::Result<()> {
        if let Ok(send) = self.find(&attempt.id).await
            && send.generation == attempt.generation
            && send.status != SendStatus::Sent
        {
            self.set_status(&attempt.id, SendStatus::Dead, Some(reason))
                .await?;
        }
        Ok(())
    }
}

/// Email for the platform: templates, sends through a queue, suppressions, inbound.
#[dotdo::service(
    name = "email",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl Mail {
    /// Send an email: a template with its variables, or a subject with a text or HTML body.
    /// It is queued at once (202) and sent by the queue consumer, with retries.
    #[rpc(role = "service")]
    #[http(post = "/send", status = 202, role = "service")]
    #[mcp_tool(role = "service", destructive = false, open_world)]
    async fn send(&self, email: NewEmail) -> Result<Send, dotdo::Error> {
        let to = check_address("to", &email.to)?;
        let from = check_address("from", email.from.as_deref().unwrap_or(&self.default_from))?;
        if let Some(reason) = self.suppressed(&to).await? {
            return Err(Error::invalid_field(
                "to",
                format!("`{to}` is suppressed ({reason}): no email is sent to it"),
            ));
        }
        let (subject, text, html) = match (&email.template, &email.subject) {
            (Some(name), None) => {
                let template = self.template(name.clone()).await?;
                let render_part = |part: &Option<String>, html| {
                    part.as_deref()
                        .map(|part| render(part, &email.variables, html))
                        .transpose()
                };
                (
                    render(&template.subject, &email.variables, false)?,
                    render_part(&template.text, false)?,
                    render_part(&template.html, true)?,
                )
            }
            (None, Some(subject)) if email.text.is_some() || email.html.is_some() => {
                (subject.clone(), email.text.clone(), email.html.clone())
            }
            (Some(_), Some(_)) => {
                return Err(Error::invalid_field(
                    "subject",
                    "a template has its own subject: give one or the other",
                ));
            }
            _ => {
                return Err(Error::invalid_field(
                    "template",
                    "give a `template`, or a `subject` with a `text` or `html` body",
                ));
            }
        };
        if subject.contains(['\r', '\n']) {
            return Err(Error::invalid_field("subject", "a subject is one line"));
        }
        let id = dotdo::random::alphanumeric(20)?;
        let now = dotdo::clock::now_millis();
        self.db
            .execute(
                "INSERT INTO sends (id, sender, recipient, subject, text, html, template, status, attempts, generation, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 0, 0, ?8, ?8)",
                &[
                    id.as_str().into(),
                    from.into(),
                    to.into(),
                    subject.into(),
                    text.into(),
                    html.into(),
                    email.template.map(String::from).into(),
                    now.into(),
                ],
            )
            .await?;
        if let Err(error) = self.queue_attempt(&id, 0).await {
            self.db
                .execute("DELETE FROM sends WHERE id = ?1", &[id.as_str().into()])
                .await?;
            return Err(Error::unavailable(format!(
                "the email could not be queued: {}",
                error.public_message()
            )));
        }
        self.find(&id).await
    }

    /// Store a template: a subject, and a text or HTML body, with `{{variable}}` places.
    #[rpc(role = "service")]
    #[http(put = "/templates/:name", role = "service")]
    async fn put_template(&self, name: Name, template: Template) -> Result<Template, dotdo::Error> {
        if template.text.is_none() && template.html.is_none() {
            return Err(Error::invalid_field(
                "template",
                "a template has a `text` or `html` body",
            ));
        }
        self.db
            .execute(
                "INSERT INTO templates (name, subject, text, html, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET subject = ?2, text = ?3, html = ?4, updated_at = ?5",
                &[
                    name.as_str().into(),
                    template.subject.as_str().into(),
                    template.text.clone().into(),
                    template.html.clone().into(),
                    dotdo::clock::now_millis().into(),
                ],
            )
            .await?;
        Ok(template)
    }

    /// A stored template.
    #[rpc]
    #[http(get = "/templates/:name", auth)]
    async fn template(&self, name: Name) -> Result<Template, dotdo::Error> {
        self.db
            .first::<Template>(
                "SELECT subject, text, html FROM templates WHERE name = ?1",
                &[name.as_str().into()],
            )
            .await?
            .ok_or_else(|| Error::not_found(format!("no template `{name}`")))
    }

    /// The send log, newest change first, optionally of one status.
    #[rpc(role = "admin")]
    #[http(get = "/sends", role = "admin")]
    #[mcp_tool(read_only, role = "admin")]
    async fn list_sends(&self, status: Option<SendStatus>) -> Result<Vec<Send>, dotdo::Error> {
        let sql = format!(
            "SELECT {SEND_COLUMNS} FROM sends WHERE (?1 IS NULL OR status = ?1) ORDER BY updated_at DESC, id LIMIT 100"
        );
        Ok(self
            .db
            .query_as::<SendRow>(&sql, &[status.map(SendStatus::as_str).into()])
            .await?
            .into_iter()
            .map(Send::from)
            .collect())
    }

    /// One email of the send log.
    #[rpc(role = "admin")]
    #[http(get = "/sends/:id", role = "admin")]
    async fn get_send(&self, id: Name) -> Result<Send, dotdo::Error> {
        self.find(id.as_str()).await
    }

    /// Send a dead email again, from its first try.
    #[rpc(role = "admin")]
    #[http(post = "/sends/:id/replay", role = "admin")]
    async fn replay_send(&self, id: Name) -> Result<Send, dotdo::Error> {
        let send = self.find(id.as_str()).await?;
        if send.status != SendStatus::Dead {
            return Err(Error::conflict(format!(
                "email `{}` is {}: only dead ones are replayed",
                send.id,
                send.status.as_str()
            )));
        }
        let generation = send.generation + 1;
        self.db
            .execute(
                "UPDATE sends SET status = 'queued', attempts = 0, generation = ?2, updated_at = ?3 WHERE id = ?1",
                &[send.id.as_str().into(), generation.into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        if let Err(error) = self.queue_attempt(&send.id, generation).await {
            self.set_status(
                &send.id,
                SendStatus::Dead,
                Some("the replay could not be queued"),
            )
            .await?;
            return Err(Error::unavailable(format!(
                "the replay could not be queued: {}",
                error.public_message()
            )));
        }
        self.find(&send.id).await
    }

    /// Suppress an address (a hard bounce, a complaint): no email is sent to it again.
    #[rpc(role = "service")]
    #[http(post = "/suppressions", status = 201, role = "service")]
    async fn suppress(&self, suppression: Suppression) -> Result<Suppression, dotdo::Error> {
        let address = check_address("address", &suppression.address)?;
        self.db
            .execute(
                "INSERT INTO suppressions (address, reason, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (address) DO UPDATE SET reason = ?2",
                &[address.as_str().into(), suppression.reason.as_str().into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        Ok(Suppression {
            address,
            reason: suppression.reason,
        })
    }

    /// The emails received through Email Routing, newest first.
    #[rpc(role = "admin")]
    #[http(get = "/inbound", role = "admin")]
    async fn list_inbound(&self) -> Result<Vec<Received>, dotdo::Error> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            sender: String,
            recipient: String,
            subject: Option<String>,
            size: f64,
            received_at: f64,
        }
        Ok(self
            .db
            .query_as::<Row>(
                "SELECT id, sender, recipient, subject, size, received_at FROM inbound ORDER BY received_at DESC, id LIMIT 100",
                &[],
            )
            .await?
            .into_iter()
            .map(|row| Received {
                id: row.id,
                from: row.sender,
                to: row.recipient,
                subject: row.subject,
                size: row.size as u64,
                received_at: row.received_at as u64,
            })
            .collect())
    }

    /// Send one queued email (a delivery from the sends queue): 5xx, 429 and timeouts are
    /// retried; a refusal leaves it dead.
    #[queue(type = "email.send", queue = "dotdo-email-sends")]
    async fn deliver(&self, attempt: Attempt) -> Result<(), dotdo::Error> {
        let send = self.find(&attempt.id).await?;
        if send.generation != attempt.generation
            || matches!(send.status, SendStatus::Sent | SendStatus::Dead)
        {
            return Ok(());
        }
        // Bounced since it was asked for: not sent.
        if let Some(reason) = self.suppressed(&send.to).await? {
            let reason = format!("`{}` is suppressed ({reason})", send.to);
            self.set_status(&send.id, SendStatus::Dead, Some(&reason))
                .await?;
            return Ok(());
        }
        self.db
            .execute(
                "UPDATE sends SET attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
                &[send.id.as_str().into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        let bodies = self
            .db
            .query(
                "SELECT text, html FROM sends WHERE id = ?1",
                &[send.id.as_str().into()],
            )
            .await?;
        let body = |name: &str| {
            bodies
                .first()
                .and_then(|row| row.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let outgoing = Outgoing {
            id: send.id.clone(),
            from: send.from.clone(),
            to: send.to.clone(),
            subject: send.subject.clone(),
            text: body("text"),
            html: body("html"),
        };
        match self.mailer.send(&outgoing).await {
            Ok(provider_id) => {
                self.db
                    .execute(
                        "UPDATE sends SET status = 'sent', provider_id = ?2, last_error = NULL, updated_at = ?3 WHERE id = ?1",
                        &[send.id.as_str().into(), provider_id.into(), dotdo::clock::now_millis().into()],
                    )
                    .await?;
                Ok(())
            }
            Err(error) => {
                let status = match error.queue_decision() {
                    dotdo::QueueDecision::Retry => SendStatus::Failed,
                    dotdo::QueueDecision::GiveUp => SendStatus::Dead,
                };
                let reason = error.public_summary();
                self.set_status(&send.id, status, Some(&reason)).await?;
                Err(error)
            }
        }
    }

    /// An email whose retries are used up (Queues moved it here).
    #[queue(type = "email.send", queue = "dotdo-email-dlq")]
    async fn retries_exhausted(&self, attempt: Attempt) -> Result<(), dotdo::Error> {
        self.dead(&attempt, "its retries are used up").await
    }

    /// An email the dispatcher dead-lettered (the provider refused it).
    #[queue(type = "dotdo.dead_letter", queue = "dotdo-email-dlq")]
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), dotdo::Error> {
        match letter.data_of::<Attempt>("email.send") {
            Some(attempt) => self.dead(&attempt, &letter.reason).await,
            None => Ok(()),
        }
    }

    /// Email received through Email Routing: kept in the inbound log (once per `Message-ID`).
    /// A message whose envelope addresses are not addresses is refused.
    #[email]
    async fn receive(&self, email: InboundEmail) -> Result<(), dotdo::Error> {
        let to = check_address("to", &email.to)?;
        let from = check_address("from", &email.from)?;
        let id = email
            .header("message-id")
            .map(|id| id.trim_matches(['<', '>']).to_owned())
            .filter(|id| !id.is_empty())
            .map_or_else(|| dotdo::random::alphanumeric(20), Ok)?;
        self.db
            .execute(
                "INSERT INTO inbound (id, sender, recipient, subject, size, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                &[
                    id.into(),
                    from.into(),
                    to.into(),
                    email.subject().into(),
                    (email.raw.len() as u64).into(),
                    dotdo::clock::now_millis().into(),
                ],
            )
            .await?;
        Ok(())
    }
}
