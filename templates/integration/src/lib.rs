//! {{description}}

use std::rc::Rc;

use dotdo::middleware::{Authenticate, HashedKeys, Standard, WebhookSignature};
use dotdo::prelude::*;
use dotdo::upstream::Upstream;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};

/// A record of the external API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Record {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub status: String,
}

/// What a caller sends to create a record.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NewRecord {
    /// A short title.
    pub title: String,
}

/// A webhook the external API sends when a record changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookEvent {
    /// The record that changed.
    pub record_id: String,
    /// What happened (`updated`, `closed`, …).
    pub action: String,
}

pub struct {{crate_name | pascal_case}} {
    upstream: Upstream,
    webhooks: Option<Rc<dyn dotdo::queue::Producer>>,
    keys: HashedKeys,
    /// The secret the external API signs its webhooks with.
    webhook_secret: String,
}

impl FromEnv for {{crate_name | pascal_case}} {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let var = |name: &str| config.var(name);
        let api_key = config.optional_secret("UPSTREAM_API_KEY")?.unwrap_or_default();
        let timeout_ms = var("UPSTREAM_TIMEOUT_MS")?.parse().map_err(|_| Error::internal("UPSTREAM_TIMEOUT_MS is not a number"))?;
        Ok({{crate_name | pascal_case}} {
            upstream: Upstream::new(&var("UPSTREAM_BASE_URL")?).bearer(&api_key).timeout_ms(timeout_ms),
            {%- if with_queue %}
            webhooks: Some(Rc::new(env.queue("WEBHOOKS").map_err(binding_error)?)),
            {%- else %}
            webhooks: None,
            {%- endif %}
            keys: HashedKeys::parse(&config.secret("API_KEYS")?)?,
            webhook_secret: config.secret("WEBHOOK_SECRET")?,
        })
    }
}

impl {{crate_name | pascal_case}} {
    /// The service over `upstream`, sending webhooks to `webhooks`, accepting webhooks signed
    /// with `webhook_secret`: for tests.
    pub fn new(upstream: Upstream, webhooks: Option<Rc<dyn dotdo::queue::Producer>>, keys: HashedKeys, webhook_secret: &str) -> Self {
        {{crate_name | pascal_case}} { upstream, webhooks, keys, webhook_secret: webhook_secret.to_owned() }
    }

    /// Webhooks are taken only with a valid signature over their raw body (401 otherwise).
    fn signed_webhooks(&self) -> dotdo::Stack {
        dotdo::Stack::new().with(WebhookSignature::hmac_sha256(&self.webhook_secret))
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone())).body_limit(64 * 1024).stack()
    }
}

/// {{description}}
#[dotdo::service(entry = "worker", middleware = "middleware")]
impl {{crate_name | pascal_case}} {
    /// Fetch a record from the external API.
    #[rpc]
    #[http(get = "/records/:id")]
    {%- if with_mcp %}
    #[mcp_tool(read_only, open_world)]
    {%- endif %}
    async fn get_record(&self, id: String) -> Result<Record, dotdo::Error> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(Error::invalid_field("id", "record ids are letters, digits, `-` and `_`"));
        }
        self.upstream.get(&format!("/v1/records/{id}")).await
    }

    /// Create a record in the external API.
    #[rpc(role = "user")]
    #[http(post = "/records", status = 201, role = "user")]
    {%- if with_mcp %}
    #[mcp_tool(open_world, role = "user")]
    {%- endif %}
    async fn create_record(&self, record: NewRecord) -> Result<Record, dotdo::Error> {
        if record.title.trim().is_empty() {
            return Err(Error::invalid_field("title", "title must not be empty"));
        }
        self.upstream.post("/v1/records", &record).await
    }

    /// Receive a webhook from the external API: queued, so the sender gets its answer at once
    /// and a slow or failing API is retried later.
    /// Signed: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
    #[http(post = "/webhooks", status = 202, middleware = "signed_webhooks")]
    async fn receive_webhook(&self, event: WebhookEvent) -> Result<(), dotdo::Error> {
        match &self.webhooks {
            {%- if with_queue %}
            Some(queue) => {{crate_name | pascal_case}}Queue::process_webhook(queue.as_ref(), &event).await,
            {%- else %}
            Some(_) => Err(Error::internal("webhooks have no queue")),
            {%- endif %}
            None => self.process_webhook(event).await,
        }
    }

    /// Process a webhook: acknowledge the change upstream. Upstream failures are retried.
    {%- if with_queue %}
    #[queue(type = "webhook.received")]
    {%- else %}
    #[rpc]
    {%- endif %}
    async fn process_webhook(&self, event: WebhookEvent) -> Result<(), dotdo::Error> {
        // One key per change: the API acts on it once however often it is retried.
        let key = format!("{}:{}", event.record_id, event.action);
        let path = format!("/v1/records/{}/ack", event.record_id);
        let _: serde_json::Value = self.upstream.post_idempotent(&path, &serde_json::json!({"action": event.action}), &key).await?;
        Ok(())
    }
}
