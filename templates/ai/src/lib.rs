//! {{description}}

use std::rc::Rc;

use dotdo::middleware::{Authenticate, DurableStore, HashedKeys, RateLimit, RateLimitStore, Standard};
use dotdo::kv::KeyValue;
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};

mod model;

pub use model::{LocalModel, Model, WorkersAi};

/// Generated text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Generation {
    pub text: String,
    /// The model that wrote it.
    pub model: String,
}

/// An embedding vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Embedding {
    pub values: Vec<f32>,
    pub model: String,
}

/// A batch job: embed these texts and keep the vectors under their ids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedJob {
    pub items: Vec<EmbedItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedItem {
    pub id: String,
    pub text: String,
}

pub const MAX_PROMPT_CHARS: usize = 8_000;

pub struct {{crate_name | pascal_case}} {
    model: Rc<dyn Model>,
    /// Embeddings of batch jobs, by item id.
    vectors: KeyValue,
    keys: HashedKeys,
    /// Counts for the rate limits: generation costs money, so every caller is limited.
    limits: Rc<dyn RateLimitStore>,
}

impl FromEnv for {{crate_name | pascal_case}} {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let var = |name: &str| config.var(name);
        let model: Rc<dyn Model> = match var("AI_MODE")?.as_str() {
            "local" => Rc::new(LocalModel),
            _ => Rc::new(WorkersAi::new(env.ai("AI").map_err(binding_error)?, var("TEXT_MODEL")?, var("EMBEDDING_MODEL")?)),
        };
        Ok({{crate_name | pascal_case}} {
            model,
            vectors: KeyValue::kv(env.kv("EMBEDDINGS").map_err(binding_error)?),
            keys: HashedKeys::parse(&config.secret("API_KEYS")?)?,
            limits: Rc::new(DurableStore::from_env(env, "RATE_LIMITER")?),
        })
    }
}

impl {{crate_name | pascal_case}} {
    /// The service on `model`, keeping vectors and rate-limit counts in memory: for tests.
    pub fn with_model(model: Rc<dyn Model>, keys: HashedKeys) -> Self {
        let limits = Rc::new(dotdo::middleware::MemoryStore::default());
        {{crate_name | pascal_case}} { model, vectors: KeyValue::in_memory(), keys, limits }
    }

    fn middleware(&self) -> dotdo::Stack {
        // Per caller (principal, else IP): generation is the expensive route; MCP and RPC
        // calls count under their own paths, a batch as its calls.
        let limits = RateLimit::new(self.limits.clone())
            .rule("/", GENERAL_LIMIT_PER_MINUTE, 60)
            .rule("/generate", GENERATE_LIMIT_PER_MINUTE, 60)
            .rule("/mcp", GENERATE_LIMIT_PER_MINUTE, 60)
            .rule("/_rpc", GENERATE_LIMIT_PER_MINUTE, 60);
        Standard::new(Authenticate::new().api_keys(self.keys.clone()).limit_failures(self.limits.clone(), 20, 300))
            .body_limit(256 * 1024)
            .rate_limit(limits)
            .stack()
    }
}

/// Requests per minute per caller to `/generate`, `/mcp` and `/_rpc`.
pub const GENERATE_LIMIT_PER_MINUTE: u32 = 20;
/// Requests per minute per caller to everything else.
pub const GENERAL_LIMIT_PER_MINUTE: u32 = 120;

fn check_text(field: &str, text: &str) -> dotdo::Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid_field(field, format!("{field} must not be empty")));
    }
    if text.chars().count() > MAX_PROMPT_CHARS {
        return Err(Error::invalid_field(field, format!("{field} is longer than {MAX_PROMPT_CHARS} characters")));
    }
    Ok(())
}

/// {{description}}
#[dotdo::service(entry = "worker", middleware = "middleware")]
impl {{crate_name | pascal_case}} {
    /// Generate text from a prompt.
    #[rpc]
    // Open to anyone on purpose, limited per caller (see `middleware`); `/_rpc` is for services.
    #[http(post = "/generate", public)]
    {%- if with_mcp %}
    #[mcp_tool(read_only, open_world, public)]
    {%- endif %}
    async fn generate(&self, prompt: String, max_tokens: Option<u32>) -> Result<Generation, dotdo::Error> {
        check_text("prompt", &prompt)?;
        let max_tokens = max_tokens.unwrap_or(256);
        if !(1..=2048).contains(&max_tokens) {
            return Err(Error::invalid_field("max_tokens", "max_tokens is 1 to 2048"));
        }
        self.model.generate(&prompt, max_tokens).await
    }

    /// Embed a text as a vector.
    #[rpc]
    #[http(post = "/embed", public)]
    {%- if with_mcp %}
    #[mcp_tool(read_only, public)]
    {%- endif %}
    async fn embed(&self, text: String) -> Result<Embedding, dotdo::Error> {
        check_text("text", &text)?;
        let mut vectors = self.model.embed(&[text]).await?;
        let values = vectors.pop().ok_or_else(|| Error::upstream("the model returned no vector"))?;
        Ok(Embedding { values, model: self.model.embedding_model() })
    }

    /// A stored embedding of a batch job, by id.
    #[http(get = "/embeddings/:id")]
    #[rpc]
    {%- if with_mcp %}
    #[mcp_resource(uri = "embeddings://{id}", name = "embedding", mime_type = "application/json")]
    {%- endif %}
    async fn embedding(&self, id: String) -> Result<Vec<f32>, dotdo::Error> {
        self.vectors.get(&id).await?.ok_or_else(|| Error::not_found(format!("no embedding `{id}`")))
    }

    {%- if with_mcp %}

    /// Ask the model for a summary of a text.
    #[mcp_prompt(title = "Summarize")]
    async fn summarize(
        &self,
        /// The text to summarize.
        text: String,
        /// At most this many words (50 when not given).
        words: Option<u32>,
    ) -> Result<Vec<dotdo::mcp::PromptMessage>, dotdo::Error> {
        check_text("text", &text)?;
        let words = words.unwrap_or(50);
        Ok(vec![
            dotdo::mcp::PromptMessage::user(format!("Summarize the following text in at most {words} words.")),
            dotdo::mcp::PromptMessage::user(text),
        ])
    }
    {%- endif %}

    /// Embed a batch of texts and store the vectors (a job from the queue).
    {%- if with_queue %}
    #[queue(type = "embed.batch")]
    {%- else %}
    #[rpc]
    {%- endif %}
    async fn embed_batch(&self, job: EmbedJob) -> Result<(), dotdo::Error> {
        for item in &job.items {
            check_text("text", &item.text).map_err(|error| error.with_field(format!("items.{}", item.id)))?;
        }
        let texts: Vec<String> = job.items.iter().map(|item| item.text.clone()).collect();
        let vectors = self.model.embed(&texts).await?;
        if vectors.len() != job.items.len() {
            return Err(Error::upstream("the model returned a vector count that does not match"));
        }
        for (item, values) in job.items.iter().zip(vectors) {
            self.vectors.put(&item.id, &values, None).await?;
        }
        Ok(())
    }
}
