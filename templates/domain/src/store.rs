//! Where items live: D1 on Workers, memory in tests. One type, so the service is not generic.

use std::cell::RefCell;
use std::collections::BTreeMap;

use dotdo::Error;
use dotdo::worker::D1Database;
use worker::wasm_bindgen::JsValue;

use crate::{Item, ItemEvent};

pub enum Store {
    D1(D1Database),
    Memory(RefCell<Memory>),
}

#[derive(Default)]
pub struct Memory {
    items: BTreeMap<String, Item>,
    events: Vec<ItemEvent>,
}

fn db_error(error: worker::Error) -> Error {
    Error::internal(format!("D1: {error}"))
}

impl Store {
    pub fn memory() -> Self {
        Store::Memory(RefCell::new(Memory::default()))
    }

    pub async fn get(&self, id: &str) -> dotdo::Result<Option<Item>> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare("SELECT id, name, price, created_at FROM items WHERE id = ?1");
                statement.bind(&[JsValue::from(id)]).map_err(db_error)?.first::<Item>(None).await.map_err(db_error)
            }
            Store::Memory(memory) => Ok(memory.borrow().items.get(id).cloned()),
        }
    }

    /// Items after `cursor` in id order.
    pub async fn list(&self, cursor: Option<&str>, limit: u32) -> dotdo::Result<Vec<Item>> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare("SELECT id, name, price, created_at FROM items WHERE id > ?1 ORDER BY id LIMIT ?2");
                let values = [JsValue::from(cursor.unwrap_or("")), JsValue::from(limit)];
                statement.bind(&values).map_err(db_error)?.all().await.map_err(db_error)?.results().map_err(db_error)
            }
            Store::Memory(memory) => Ok(memory
                .borrow()
                .items
                .values()
                .filter(|item| cursor.is_none_or(|cursor| item.id.as_str() > cursor))
                .take(limit as usize)
                .cloned()
                .collect()),
        }
    }

    /// Inserts `item`; `false` when its id exists.
    pub async fn insert(&self, item: &Item) -> dotdo::Result<bool> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare("INSERT INTO items (id, name, price, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING");
                let values = [
                    JsValue::from(item.id.as_str()),
                    JsValue::from(item.name.as_str()),
                    JsValue::from(item.price),
                    JsValue::from(item.created_at as f64),
                ];
                let result = statement.bind(&values).map_err(db_error)?.run().await.map_err(db_error)?;
                Ok(result.meta().map_err(db_error)?.and_then(|meta| meta.changes).unwrap_or(0) > 0)
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                if memory.items.contains_key(&item.id) {
                    return Ok(false);
                }
                memory.items.insert(item.id.clone(), item.clone());
                Ok(true)
            }
        }
    }

    /// Deletes the item; `false` when there was none.
    pub async fn delete(&self, id: &str) -> dotdo::Result<bool> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare("DELETE FROM items WHERE id = ?1");
                let result = statement.bind(&[JsValue::from(id)]).map_err(db_error)?.run().await.map_err(db_error)?;
                Ok(result.meta().map_err(db_error)?.and_then(|meta| meta.changes).unwrap_or(0) > 0)
            }
            Store::Memory(memory) => Ok(memory.borrow_mut().items.remove(id).is_some()),
        }
    }

    /// Records an event once, whatever how often it is delivered.
    pub async fn record_event(&self, event: &ItemEvent) -> dotdo::Result<()> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare(
                    "INSERT INTO item_events (event_id, item_id, kind, at) VALUES (?1, ?2, ?3, unixepoch()) ON CONFLICT DO NOTHING",
                );
                let values = [JsValue::from(event.event_id.as_str()), JsValue::from(event.item_id.as_str()), JsValue::from(event.kind.as_str())];
                statement.bind(&values).map_err(db_error)?.run().await.map_err(db_error)?;
                Ok(())
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                if !memory.events.iter().any(|known| known.event_id == event.event_id) {
                    memory.events.push(event.clone());
                }
                Ok(())
            }
        }
    }

    pub async fn events(&self) -> dotdo::Result<Vec<ItemEvent>> {
        match self {
            Store::D1(db) => {
                let statement = db.prepare("SELECT event_id, item_id, kind FROM item_events ORDER BY at, event_id");
                statement.all().await.map_err(db_error)?.results().map_err(db_error)
            }
            Store::Memory(memory) => Ok(memory.borrow().events.clone()),
        }
    }
}
