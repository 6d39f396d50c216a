//! The benchmark's dotdo side: a catalogue of 1,000 items computed from their id (no storage,
//! so the figures are the framework's), with the routes the Hono and hand-written workers
//! beside it have. Reads are open; writes and `/_rpc` need an API key (the only middleware).

use std::sync::atomic::{AtomicU64, Ordering};

use dotdo::middleware::{Authenticate, HashedKeys};
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    pub id: String,
    pub name: String,
    /// Price in cents.
    pub price: u32,
    pub tags: Vec<String>,
}

/// What a caller sends to create an item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NewItem {
    pub name: String,
    pub price: u32,
    pub tags: Vec<String>,
}

/// One message of the queue benchmark.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ItemCreated {
    pub id: String,
    pub seq: u32,
}

/// How many queue messages this instance consumed (one isolate serves the benchmark).
static CONSUMED: AtomicU64 = AtomicU64::new(0);

pub const ITEMS: u32 = 1000;

/// Item `n` (1..=1000) as every worker of the benchmark computes it.
pub fn item(n: u32) -> Item {
    Item {
        id: n.to_string(),
        name: format!("item {n}"),
        price: n * 10,
        tags: vec![
            "bench".into(),
            if n.is_multiple_of(2) { "even" } else { "odd" }.into(),
        ],
    }
}

pub struct Bench {
    keys: HashedKeys,
    queue: Option<worker::Queue>,
}

impl FromEnv for Bench {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let keys = dotdo::config::Config::new(env).secret("API_KEYS")?;
        Ok(Bench {
            keys: HashedKeys::parse(&keys)?,
            queue: Some(env.queue("BENCH_QUEUE").map_err(binding_error)?),
        })
    }
}

impl Bench {
    fn middleware(&self) -> dotdo::Stack {
        dotdo::Stack::new().with(Authenticate::new().api_keys(self.keys.clone()))
    }
}

/// The benchmark's catalogue.
#[dotdo::service(middleware = "middleware", documents = "documents")]
impl Bench {
    /// Fetch one item by id.
    #[rpc]
    #[http(get = "/items/:id")]
    #[mcp_tool(read_only)]
    async fn get_item(&self, id: String) -> Result<Item, dotdo::Error> {
        match id.parse::<u32>() {
            Ok(n) if (1..=ITEMS).contains(&n) => Ok(item(n)),
            _ => Err(Error::not_found(format!("no item `{id}`"))),
        }
    }

    /// The first 100 items.
    #[http(get = "/items")]
    async fn list_items(&self) -> Result<Vec<Item>, dotdo::Error> {
        Ok((1..=100).map(item).collect())
    }

    /// Create an item (it is answered, not kept).
    #[rpc]
    #[http(post = "/items", status = 201, auth)]
    async fn create_item(&self, item: NewItem) -> Result<Item, dotdo::Error> {
        if item.name.is_empty() {
            return Err(Error::invalid_field("name", "name must not be empty"));
        }
        Ok(Item {
            id: "1001".into(),
            name: item.name,
            price: item.price,
            tags: item.tags,
        })
    }

    /// Sends `count` `item.created` messages to the benchmark queue, 100 to a batch.
    #[http(post = "/bench/enqueue", auth)]
    async fn enqueue(&self, count: u32) -> Result<u32, dotdo::Error> {
        let queue = self
            .queue
            .as_ref()
            .ok_or_else(|| Error::unavailable("no queue"))?;
        let events: Vec<ItemCreated> = (0..count)
            .map(|seq| ItemCreated {
                id: (seq % ITEMS + 1).to_string(),
                seq,
            })
            .collect();
        for chunk in events.chunks(100) {
            BenchQueue::item_created_batch(queue, chunk).await?;
        }
        Ok(count)
    }

    /// How many queue messages were consumed so far.
    #[http(get = "/bench/consumed")]
    async fn consumed(&self) -> Result<u64, dotdo::Error> {
        Ok(CONSUMED.load(Ordering::Relaxed))
    }

    #[queue(type = "item.created")]
    async fn item_created(&self, event: ItemCreated) -> Result<(), dotdo::Error> {
        if event.id.is_empty() {
            return Err(Error::invalid_field("id", "id must not be empty"));
        }
        CONSUMED.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
