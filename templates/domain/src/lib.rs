//! {{description}}

mod store;

use std::rc::Rc;

use dotdo::middleware::{Authenticate, HashedKeys, Standard};
use dotdo::prelude::*;
use dotdo::sql::Database;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};

pub use store::{MIGRATIONS, Store};

/// An item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    pub id: String,
    pub name: String,
    /// Price in cents.
    pub price: u32,
    /// Creation time, milliseconds since the epoch.
    pub created_at: u64,
}

/// What a caller sends to create an item.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NewItem {
    /// A unique id: 1 to 128 letters, digits, `_`, `.` and `-`.
    pub id: Name,
    /// What the item is called.
    pub name: String,
    /// Price in cents.
    pub price: u32,
}

/// A page of items and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Page {
    pub items: Vec<Item>,
    pub next_cursor: Option<String>,
}

/// Published when an item changes; consumed by `item_event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEvent {
    pub event_id: String,
    pub item_id: String,
    pub kind: String,
}

pub const MAX_PAGE_SIZE: u32 = 100;

pub struct {{crate_name | pascal_case}} {
    store: Store,
    events: Option<Rc<dyn dotdo::queue::Producer>>,
    keys: HashedKeys,
}

impl FromEnv for {{crate_name | pascal_case}} {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let keys = dotdo::config::Config::new(env).secret("API_KEYS")?;
        Ok({{crate_name | pascal_case}} {
            store: Store::new(Database::d1(env.d1("DB").map_err(binding_error)?)),
            {%- if with_queue %}
            events: Some(Rc::new(env.queue("EVENTS").map_err(binding_error)?)),
            {%- else %}
            events: None,
            {%- endif %}
            keys: HashedKeys::parse(&keys)?,
        })
    }
}

impl {{crate_name | pascal_case}} {
    /// The service on `db` (with [`MIGRATIONS`] applied), publishing events to `events`: for
    /// tests, with `Database::sqlite_in_memory(MIGRATIONS)`.
    pub fn new(db: Database, events: Option<Rc<dyn dotdo::queue::Producer>>, keys: HashedKeys) -> Self {
        {{crate_name | pascal_case}} { store: Store::new(db), events, keys }
    }

    fn middleware(&self) -> dotdo::Stack {
        Standard::new(Authenticate::new().api_keys(self.keys.clone())).body_limit(64 * 1024).stack()
    }

    /// Tells the queue (when there is one) that an item changed.
    async fn publish(&self, item_id: &str, kind: &str) -> dotdo::Result<()> {
        let Some(events) = &self.events else { return Ok(()) };
        let event_id = format!("{item_id}:{kind}:{}", dotdo::clock::now_millis());
        let event = ItemEvent { event_id, item_id: item_id.into(), kind: kind.into() };
        {%- if with_queue %}
        {{crate_name | pascal_case}}Queue::item_event(events.as_ref(), &event).await
        {%- else %}
        let _ = (events, event);
        Ok(())
        {%- endif %}
    }
}

/// {{description}}
#[dotdo::service(entry = "worker", middleware = "middleware")]
impl {{crate_name | pascal_case}} {
    /// Fetch one item by id.
    #[rpc]
    #[http(get = "/items/:id")]
    {%- if with_mcp %}
    #[mcp_tool(read_only)]
    {%- endif %}
    async fn get_item(&self, id: Name) -> Result<Item, dotdo::Error> {
        self.store.get(&id).await?.ok_or_else(|| Error::not_found(format!("no item `{id}`")))
    }

    /// List items in id order, a page at a time (at most 100).
    #[rpc]
    #[http(get = "/items")]
    {%- if with_mcp %}
    #[mcp_tool(read_only)]
    {%- endif %}
    async fn list_items(&self, limit: Option<u32>, cursor: Option<String>) -> Result<Page, dotdo::Error> {
        let limit = limit.unwrap_or(20);
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(Error::invalid_field("limit", format!("limit is 1 to {MAX_PAGE_SIZE}")));
        }
        let mut items = self.store.list(cursor.as_deref(), limit + 1).await?;
        let next_cursor = (items.len() > limit as usize).then(|| {
            items.truncate(limit as usize);
            items.last().map(|item| item.id.clone()).unwrap_or_default()
        });
        Ok(Page { items, next_cursor })
    }

    /// Create an item.
    #[rpc(role = "user")]
    #[http(post = "/items", status = 201, role = "user")]
    {%- if with_mcp %}
    #[mcp_tool(idempotent = false, role = "user")]
    {%- endif %}
    async fn create_item(&self, item: NewItem) -> Result<Item, dotdo::Error> {
        if item.name.trim().is_empty() {
            return Err(Error::invalid_field("name", "name must not be empty"));
        }
        let item = Item { id: item.id.into_string(), name: item.name, price: item.price, created_at: dotdo::clock::now_millis() };
        if !self.store.insert(&item).await? {
            return Err(Error::conflict(format!("item `{}` exists", item.id)));
        }
        self.publish(&item.id, "created").await?;
        Ok(item)
    }

    /// Delete an item.
    #[rpc(role = "user")]
    #[http(delete = "/items/:id", role = "user")]
    {%- if with_mcp %}
    #[mcp_tool(destructive, role = "user")]
    {%- endif %}
    async fn delete_item(&self, id: Name) -> Result<(), dotdo::Error> {
        if !self.store.delete(&id).await? {
            return Err(Error::not_found(format!("no item `{id}`")));
        }
        self.publish(&id, "deleted").await
    }

    /// Record an item event (idempotent by event id).
    {%- if with_queue %}
    #[queue(type = "item.event")]
    {%- else %}
    #[rpc]
    {%- endif %}
    async fn item_event(&self, event: ItemEvent) -> Result<(), dotdo::Error> {
        self.store.record_event(&event).await
    }

    /// The item events recorded so far (admins only).
    #[http(get = "/_events", role = "admin")]
    async fn events(&self) -> Result<Vec<ItemEvent>, dotdo::Error> {
        self.store.events().await
    }
}
