//! The platform's webhooks.
//!
//! **In**: `POST /in/:provider` (Stripe, GitHub, WorkOS, Resend/Svix) is verified over the raw
//! body with the provider's scheme and a 5-minute timestamp tolerance where the scheme has a
//! timestamp (`dotdo::middleware::WebhookSignature`), deduplicated by the provider's event id (a
//! replay is answered 200 and not processed again), then published as a typed queue message
//! (`webhook.received`). An event that cannot be published is forgotten and answered 503, so
//! the provider sends it again: none is lost.
//!
//! **Out**: each event goes to the subscriptions whose patterns match `<provider>.<type>`, one
//! delivery each, signed with the subscription's secret (Standard Webhooks: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature`) and POSTed to its URL. A 2xx delivers it; a 408,
//! 429, 5xx or network failure is retried with the dispatcher's backoff; another 4xx, or the
//! retries used up, leaves it `dead`, in the delivery log, replayable.

use std::rc::Rc;

use base64::Engine as _;
use dotdo::LocalBoxFuture;
use dotdo::middleware::{Authenticate, HashedKeys, Standard, WebhookSignature};
use dotdo::prelude::*;
use dotdo::queue::{DeadLetter, Producer};
use dotdo::sql::Database;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The providers whose webhooks are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Stripe,
    Github,
    Workos,
    /// Resend, or any sender of Standard Webhooks (Svix).
    Resend,
}

impl Provider {
    fn as_str(self) -> &'static str {
        match self {
            Provider::Stripe => "stripe",
            Provider::Github => "github",
            Provider::Workos => "workos",
            Provider::Resend => "resend",
        }
    }

    fn secret_name(self) -> &'static str {
        match self {
            Provider::Stripe => "STRIPE_WEBHOOK_SECRET",
            Provider::Github => "GITHUB_WEBHOOK_SECRET",
            Provider::Workos => "WORKOS_WEBHOOK_SECRET",
            Provider::Resend => "RESEND_WEBHOOK_SECRET",
        }
    }

    const ALL: [Provider; 4] = [
        Provider::Stripe,
        Provider::Github,
        Provider::Workos,
        Provider::Resend,
    ];

    fn verifier(self, secret: &str) -> dotdo::Result<WebhookSignature> {
        Ok(match self {
            Provider::Stripe => WebhookSignature::stripe(secret),
            Provider::Github => WebhookSignature::github(secret),
            Provider::Workos => WebhookSignature::workos(secret),
            Provider::Resend => WebhookSignature::standard_webhooks(secret)?,
        })
    }

    /// The provider's id and type of the event: where each provider puts them.
    fn event_id_and_type(self, ctx: &Context, payload: &Value) -> Option<(String, String)> {
        let field = |name: &str| payload.get(name).and_then(Value::as_str).map(str::to_owned);
        match self {
            Provider::Stripe => Some((field("id")?, field("type")?)),
            Provider::Workos => Some((field("id")?, field("event")?)),
            Provider::Github => {
                let event = ctx.header("x-github-event")?;
                let kind = match payload.get("action").and_then(Value::as_str) {
                    Some(action) => format!("{event}.{action}"),
                    None => event.to_owned(),
                };
                Some((ctx.header("x-github-delivery")?.to_owned(), kind))
            }
            Provider::Resend => {
                let id = ctx.header("webhook-id").or_else(|| ctx.header("svix-id"))?;
                Some((id.to_owned(), field("type")?))
            }
        }
    }
}

/// A verified inbound event, as published (`webhook.received`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InboundEvent {
    pub provider: Provider,
    /// The provider's event id.
    pub id: String,
    /// The provider's event type (`invoice.paid`, `push`, `user.created`).
    #[serde(rename = "type")]
    pub event_type: String,
    pub payload: Value,
}

/// What `POST /in/:provider` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Received {
    pub provider: Provider,
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// Seen before: not processed again.
    pub duplicate: bool,
}

/// A subscription to create.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Where deliveries are POSTed: `https://…` (`http://` in local development).
    pub url: String,
    /// Event types it wants, `<provider>.<type>`: exact, `stripe.*`, or `*` for all.
    pub events: Vec<String>,
}

/// A subscription; its `secret` is shown when it is created, and only then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// The Standard Webhooks secret (`whsec_…`) its deliveries are signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub created_at: u64,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Its last try failed transiently: it will be tried again.
    Failed,
    /// Refused, or out of retries: replay it once the subscriber is fixed.
    Dead,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Dead => "dead",
        }
    }
}

/// One event's delivery to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    /// Its `webhook-id`.
    pub id: String,
    pub subscription_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The subscriber's last HTTP status.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub generation: u32,
    pub created_at: u64,
    pub updated_at: u64,
}

/// The message of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Send {
    pub id: String,
    #[serde(default)]
    pub generation: u32,
}

/// POSTs a delivery: its HTTP status, or the error of a request that got none.
pub trait Sender {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> LocalBoxFuture<'a, dotdo::Result<u16>>;
}

/// `fetch` on Workers.
struct Fetch;

impl Sender for Fetch {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> LocalBoxFuture<'a, dotdo::Result<u16>> {
        Box::pin(async move {
            let failed = |error: worker::Error| {
                Error::unavailable(format!("the subscriber could not be reached: {error}"))
            };
            let headers = headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .filter(|(name, _)| !name.eq_ignore_ascii_case("content-type"))
                .chain([("content-type", "application/json")]);
            let request = dotdo::worker::convert::js_request("POST", url, headers, Some(&body))
                .map_err(failed)?;
            let response = worker::Fetch::Request(request)
                .send()
                .await
                .map_err(failed)?;
            Ok(response.status_code())
        })
    }
}

pub struct Webhooks {
    db: Database,
    events: Rc<dyn Producer>,
    deliveries: Rc<dyn Producer>,
    sender: Rc<dyn Sender>,
    /// Each provider's signing secret, when configured.
    secrets: Vec<(Provider, String)>,
    keys: HashedKeys,
    gateway_secret: String,
}

impl FromEnv for Webhooks {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let mut secrets = Vec::new();
        for provider in Provider::ALL {
            if let Some(secret) = config.optional_secret(provider.secret_name())? {
                secrets.push((provider, secret));
            }
        }
        Ok(Webhooks {
            db: Database::d1(env.d1("DB_WEBHOOKS").map_err(binding_error)?),
            events: Rc::new(env.queue("EVENTS").map_err(binding_error)?),
            deliveries: Rc::new(env.queue("DELIVERIES").map_err(binding_error)?),
            sender: Rc::new(Fetch),
            secrets,
            keys: HashedKeys::parse(&config.optional_secret("API_KEYS")?.unwrap_or_default())?,
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
        })
    }
}

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

const DELIVERY_COLUMNS: &str = "id, subscription_id, event_type, status, attempts, last_status, last_error, generation, created_at, updated_at";

#[derive(Deserialize)]
struct DeliveryRow {
    id: String,
    subscription_id: String,
    event_type: String,
    status: DeliveryStatus,
    attempts: f64,
    last_status: Option<f64>,
    last_error: Option<String>,
    generation: f64,
    created_at: f64,
    updated_at: f64,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Delivery {
        Delivery {
            id: row.id,
            subscription_id: row.subscription_id,
            event_type: row.event_type,
            status: row.status,
            attempts: row.attempts as u32,
            last_status: row.last_status.map(|status| status as u16),
            last_error: row.last_error,
            generation: row.generation as u32,
            created_at: row.created_at as u64,
            updated_at: row.updated_at as u64,
        }
    }
}

#[derive(Deserialize)]
struct SubscriptionRow {
    id: String,
    url: String,
    events: String,
    secret: String,
    created_at: f64,
}

impl SubscriptionRow {
    fn public(self, with_secret: bool) -> dotdo::Result<Subscription> {
        Ok(Subscription {
            events: dotdo::json::from_text(&self.events)
                .map_err(|error| Error::internal(format!("stored events: {error}")))?,
            id: self.id,
            url: self.url,
            secret: with_secret.then_some(self.secret),
            created_at: self.created_at as u64,
        })
    }
}

/// Whether `pattern` (`stripe.*`, `github.push`, `*`) takes events of `kind`.
fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

impl Webhooks {
    /// The service on `db` (with [`MIGRATIONS`] applied), publishing to `events` and
    /// `deliveries`, posting through `sender`, taking these providers' secrets: for tests.
    pub fn new(
        db: Database,
        events: Rc<dyn Producer>,
        deliveries: Rc<dyn Producer>,
        sender: Rc<dyn Sender>,
        secrets: Vec<(Provider, String)>,
        keys: HashedKeys,
    ) -> Self {
        Webhooks {
            db,
            events,
            deliveries,
            sender,
            secrets,
            keys,
            gateway_secret: String::new(),
        }
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone()))
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    async fn delivery(&self, id: &str) -> dotdo::Result<Delivery> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1");
        self.db
            .first::<DeliveryRow>(&sql, &[id.into()])
            .await?
            .map(Delivery::from)
            .ok_or_else(|| Error::not_found(format!("no delivery `{id}`")))
    }

    async fn set_delivery(
        &self,
        id: &str,
        status: DeliveryStatus,
        http_status: Option<u16>,
        error: Option<&str>,
    ) -> dotdo::Result<()> {
        self.db
            .execute(
                "UPDATE deliveries SET status = ?2, last_status = COALESCE(?3, last_status), last_error = ?4, updated_at = ?5 WHERE id = ?1",
                &[id.into(), status.as_str().into(), http_status.into(), error.into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        Ok(())
    }

    async fn send_attempt(&self, id: &str, generation: u32) -> dotdo::Result<()> {
        let send = Send {
            id: id.to_owned(),
            generation,
        };
        dotdo::queue::produce(&*self.deliveries, "delivery.send", &send).await
    }

    /// Marks a delivery dead for the reason, when the attempt is of its generation.
    async fn dead(&self, send: &Send, reason: &str) -> dotdo::Result<()> {
        if let Ok(delivery) = self.delivery(&send.id).await
            && delivery.generation == send.generation
            && delivery.status != DeliveryStatus::Delivered
        {
            self.set_delivery(&send.id, DeliveryStatus::Dead, None, Some(reason))
                .await?;
        }
        Ok(())
    }
}

/// Webhooks for the platform: verified in, signed out.
#[dotdo::service(
    name = "webhooks",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl Webhooks {
    /// Take a provider's webhook: verified over the raw body, deduplicated by the provider's
    /// event id, published as `webhook.received`.
    #[http(post = "/in/:provider", public)]
    async fn receive(
        &self,
        ctx: &Context,
        provider: Provider,
        #[body] body: Vec<u8>,
    ) -> Result<Received, dotdo::Error> {
        let Some((_, secret)) = self.secrets.iter().find(|(known, _)| *known == provider) else {
            return Err(Error::not_found(format!(
                "webhooks from `{}` are not taken here (no `{}`)",
                provider.as_str(),
                provider.secret_name()
            )));
        };
        provider.verifier(secret)?.verify_request(ctx, &body)?;
        let payload: Value = dotdo::json::parse(&body)
            .map_err(|error| Error::bad_request(format!("the body is not JSON: {error}")))?;
        let (id, event_type) = provider.event_id_and_type(ctx, &payload).ok_or_else(|| {
            Error::bad_request(format!(
                "no event id and type where `{}` puts them",
                provider.as_str()
            ))
        })?;
        let inserted = self
            .db
            .execute(
                "INSERT INTO inbound (provider, event_id, type, received_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                &[provider.as_str().into(), id.as_str().into(), event_type.as_str().into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        let received = Received {
            provider,
            id: id.clone(),
            event_type: event_type.clone(),
            duplicate: inserted == 0,
        };
        if received.duplicate {
            return Ok(received);
        }
        let event = InboundEvent {
            provider,
            id: id.clone(),
            event_type,
            payload,
        };
        if let Err(error) = dotdo::queue::produce(&*self.events, "webhook.received", &event).await {
            // Forgotten, so the provider's retry is taken as new.
            self.db
                .execute(
                    "DELETE FROM inbound WHERE provider = ?1 AND event_id = ?2",
                    &[provider.as_str().into(), id.as_str().into()],
                )
                .await?;
            return Err(Error::unavailable(format!(
                "the event could not be queued: {}",
                error.public_message()
            )));
        }
        Ok(received)
    }

    /// Subscribe a URL to event types; the answer carries its signing secret, once.
    #[rpc(role = "admin")]
    #[http(post = "/subscriptions", status = 201, role = "admin")]
    async fn create_subscription(
        &self,
        ctx: &Context,
        subscription: NewSubscription,
    ) -> Result<Subscription, dotdo::Error> {
        let secure = subscription.url.starts_with("https://");
        let local =
            subscription.url.starts_with("http://") && dotdo::config::is_local_development(ctx);
        if !(secure || local) || subscription.url.len() > 2048 {
            return Err(Error::invalid_field(
                "url",
                "a subscriber's URL is `https://…` (`http://` in local development only)",
            ));
        }
        if subscription.events.is_empty()
            || subscription
                .events
                .iter()
                .any(|pattern| pattern.is_empty() || pattern.len() > 128)
        {
            return Err(Error::invalid_field(
                "events",
                "name one event type or more: `stripe.invoice.paid`, `stripe.*`, `*`",
            ));
        }
        let id = dotdo::random::alphanumeric(20)?;
        let mut key = [0u8; 24];
        dotdo::random::fill(&mut key)?;
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        );
        let now = dotdo::clock::now_millis();
        let events = serde_json::to_string(&subscription.events)
            .map_err(|error| Error::internal(error.to_string()))?;
        self.db
            .execute(
                "INSERT INTO subscriptions (id, url, events, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                &[id.as_str().into(), subscription.url.as_str().into(), events.into(), secret.as_str().into(), now.into()],
            )
            .await?;
        Ok(Subscription {
            id,
            url: subscription.url,
            events: subscription.events,
            secret: Some(secret),
            created_at: now,
        })
    }

    /// The subscriptions (without their secrets).
    #[rpc(role = "admin")]
    #[http(get = "/subscriptions", role = "admin")]
    #[mcp_tool(read_only, role = "admin")]
    async fn list_subscriptions(&self) -> Result<Vec<Subscription>, dotdo::Error> {
        self.db
            .query_as::<SubscriptionRow>(
                "SELECT id, url, events, secret, created_at FROM subscriptions ORDER BY id",
                &[],
            )
            .await?
            .into_iter()
            .map(|row| row.public(false))
            .collect()
    }

    /// The delivery log, newest change first: optionally of one status or subscription.
    #[rpc(role = "admin")]
    #[http(get = "/deliveries", role = "admin")]
    #[mcp_tool(read_only, role = "admin")]
    async fn list_deliveries(
        &self,
        status: Option<DeliveryStatus>,
        subscription: Option<Name>,
    ) -> Result<Vec<Delivery>, dotdo::Error> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR subscription_id = ?2) ORDER BY updated_at DESC, id LIMIT 100"
        );
        Ok(self
            .db
            .query_as::<DeliveryRow>(
                &sql,
                &[
                    status.map(DeliveryStatus::as_str).into(),
                    subscription.map(String::from).into(),
                ],
            )
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect())
    }

    /// One delivery.
    #[rpc(role = "admin")]
    #[http(get = "/deliveries/:id", role = "admin")]
    async fn get_delivery(&self, id: Name) -> Result<Delivery, dotdo::Error> {
        self.delivery(id.as_str()).await
    }

    /// Deliver a dead delivery again, from its first try.
    #[rpc(role = "admin")]
    #[http(post = "/deliveries/:id/replay", role = "admin")]
    #[mcp_tool(role = "admin", destructive = false)]
    async fn replay_delivery(&self, id: Name) -> Result<Delivery, dotdo::Error> {
        let delivery = self.delivery(id.as_str()).await?;
        if delivery.status != DeliveryStatus::Dead {
            return Err(Error::conflict(format!(
                "delivery `{}` is {}: only dead deliveries are replayed",
                delivery.id,
                delivery.status.as_str()
            )));
        }
        let generation = delivery.generation + 1;
        self.db
            .execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, generation = ?2, updated_at = ?3 WHERE id = ?1",
                &[delivery.id.as_str().into(), generation.into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        if let Err(error) = self.send_attempt(&delivery.id, generation).await {
            self.set_delivery(
                &delivery.id,
                DeliveryStatus::Dead,
                None,
                Some("the replay could not be queued"),
            )
            .await?;
            return Err(Error::unavailable(format!(
                "the replay could not be queued: {}",
                error.public_message()
            )));
        }
        self.delivery(&delivery.id).await
    }

    /// Fan an inbound event out to the subscriptions that want it, one delivery each.
    #[queue(type = "webhook.received", queue = "dotdo-webhooks-events")]
    async fn fan_out(&self, event: InboundEvent) -> Result<(), dotdo::Error> {
        let kind = format!("{}.{}", event.provider.as_str(), event.event_type);
        let subscriptions = self
            .db
            .query_as::<SubscriptionRow>(
                "SELECT id, url, events, secret, created_at FROM subscriptions ORDER BY id",
                &[],
            )
            .await?;
        let body = dotdo::json::to_text(
            &json!({"type": kind, "provider": event.provider, "id": event.id, "data": event.payload}),
        );
        let now = dotdo::clock::now_millis();
        for subscription in subscriptions {
            let patterns: Vec<String> =
                dotdo::json::from_text(&subscription.events).unwrap_or_default();
            if !patterns.iter().any(|pattern| matches(pattern, &kind)) {
                continue;
            }
            // Named by subscription and event: a redelivered event makes no second delivery.
            let id = format!(
                "{}.{}.{}",
                subscription.id,
                event.provider.as_str(),
                event.id
            )
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect::<String>();
            self.db
                .execute(
                    "INSERT INTO deliveries (id, subscription_id, event_type, event, status, attempts, generation, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'pending', 0, 0, ?5, ?5) ON CONFLICT DO NOTHING",
                    &[id.as_str().into(), subscription.id.as_str().into(), kind.as_str().into(), body.as_str().into(), now.into()],
                )
                .await?;
            // Sent again if this event comes again before its delivery settled: a subscriber
            // may see a delivery twice (at least once), never none; `webhook-id` tells them.
            let pending = self.delivery(&id).await?;
            if matches!(pending.status, DeliveryStatus::Pending) && pending.attempts == 0 {
                self.send_attempt(&id, pending.generation).await?;
            }
        }
        Ok(())
    }

    /// Try one delivery: 2xx delivers it; 408, 429, 5xx and network failures are retried;
    /// another 4xx leaves it dead.
    #[queue(type = "delivery.send", queue = "dotdo-webhooks-deliveries")]
    async fn deliver(&self, send: Send) -> Result<(), dotdo::Error> {
        let delivery = self.delivery(&send.id).await?;
        if delivery.generation != send.generation
            || matches!(
                delivery.status,
                DeliveryStatus::Delivered | DeliveryStatus::Dead
            )
        {
            return Ok(());
        }
        let row = self
            .db
            .query(
                "SELECT d.event AS event, s.url AS url, s.secret AS secret FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id WHERE d.id = ?1",
                &[send.id.as_str().into()],
            )
            .await?;
        let Some(row) = row.first() else {
            self.set_delivery(
                &send.id,
                DeliveryStatus::Dead,
                None,
                Some("its subscription is gone"),
            )
            .await?;
            return Ok(());
        };
        let text = |name: &str| {
            row.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (event, url, secret) = (text("event"), text("url"), text("secret"));
        self.db
            .execute(
                "UPDATE deliveries SET attempts = attempts + 1, updated_at = ?2 WHERE id = ?1",
                &[send.id.as_str().into(), dotdo::clock::now_millis().into()],
            )
            .await?;
        let headers = WebhookSignature::standard_webhooks(&secret)?.sign_headers(
            &send.id,
            dotdo::clock::now_seconds(),
            event.as_bytes(),
        );
        match self.sender.post(&url, headers, event.into_bytes()).await {
            Ok(status) if (200..300).contains(&status) => {
                self.set_delivery(&send.id, DeliveryStatus::Delivered, Some(status), None)
                    .await
            }
            Ok(status) if status == 408 || status == 429 || status >= 500 => {
                let reason = format!("the subscriber answered {status}");
                self.set_delivery(
                    &send.id,
                    DeliveryStatus::Failed,
                    Some(status),
                    Some(&reason),
                )
                .await?;
                Err(Error::unavailable(reason))
            }
            Ok(status) => {
                let reason = format!("the subscriber refused it: {status}");
                self.set_delivery(&send.id, DeliveryStatus::Dead, Some(status), Some(&reason))
                    .await?;
                Err(Error::invalid_field("url", reason))
            }
            Err(error) => {
                let reason = error.public_message().to_owned();
                self.set_delivery(&send.id, DeliveryStatus::Failed, None, Some(&reason))
                    .await?;
                Err(Error::unavailable(reason))
            }
        }
    }

    /// A delivery whose retries are used up (Queues moved it here).
    #[queue(type = "delivery.send", queue = "dotdo-webhooks-dlq")]
    async fn retries_exhausted(&self, send: Send) -> Result<(), dotdo::Error> {
        self.dead(&send, "its retries are used up").await
    }

    /// A delivery the dispatcher dead-lettered (the subscriber refused it).
    #[queue(type = "dotdo.dead_letter", queue = "dotdo-webhooks-dlq")]
    async fn dead_letter(&self, letter: DeadLetter) -> Result<(), dotdo::Error> {
        match letter.data_of::<Send>("delivery.send") {
            Some(send) => self.dead(&send, &letter.reason).await,
            // An inbound event that could never be fanned out stays in the log only.
            None => Ok(()),
        }
    }
}
