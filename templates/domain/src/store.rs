//! Where items live: D1. Tests run the same SQL on SQLite (`Database::sqlite_in_memory`).

use dotdo::sql::Database;
use serde_json::Value;

use crate::{Item, ItemEvent};

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

pub struct Store {
    db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Store { db }
    }

    pub async fn get(&self, id: &str) -> dotdo::Result<Option<Item>> {
        self.db.first("SELECT id, name, price, created_at FROM items WHERE id = ?1", &[id.into()]).await
    }

    /// Items after `cursor` in id order.
    pub async fn list(&self, cursor: Option<&str>, limit: u32) -> dotdo::Result<Vec<Item>> {
        let sql = "SELECT id, name, price, created_at FROM items WHERE id > ?1 ORDER BY id LIMIT ?2";
        self.db.query_as(sql, &[cursor.unwrap_or("").into(), limit.into()]).await
    }

    /// Inserts `item`; `false` when its id exists.
    pub async fn insert(&self, item: &Item) -> dotdo::Result<bool> {
        let sql = "INSERT INTO items (id, name, price, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
        let params = [Value::from(item.id.as_str()), item.name.as_str().into(), item.price.into(), item.created_at.into()];
        Ok(self.db.execute(sql, &params).await? > 0)
    }

    /// Deletes the item; `false` when there was none.
    pub async fn delete(&self, id: &str) -> dotdo::Result<bool> {
        Ok(self.db.execute("DELETE FROM items WHERE id = ?1", &[id.into()]).await? > 0)
    }

    /// Records an event once, whatever how often it is delivered.
    pub async fn record_event(&self, event: &ItemEvent) -> dotdo::Result<()> {
        let sql = "INSERT INTO item_events (event_id, item_id, kind, at) VALUES (?1, ?2, ?3, unixepoch()) ON CONFLICT DO NOTHING";
        let params = [event.event_id.as_str().into(), event.item_id.as_str().into(), event.kind.as_str().into()];
        self.db.execute(sql, &params).await.map(drop)
    }

    pub async fn events(&self) -> dotdo::Result<Vec<ItemEvent>> {
        self.db.query_as("SELECT event_id, item_id, kind FROM item_events ORDER BY at, rowid", &[]).await
    }
}
