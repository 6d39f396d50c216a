//! Where the auth service keeps keys, sessions and grants: D1 on Workers, memory in tests.

use std::cell::RefCell;

use dotdo::Error;
use dotdo::worker::D1Database;
use serde::{Deserialize, Serialize};
use worker::wasm_bindgen::JsValue;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub key_hash: String,
    pub prefix: String,
    pub owner: String,
    pub role: String,
    pub scopes: String,
    pub created_at: f64,
    pub last_used_at: Option<f64>,
    pub revoked_at: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub role: String,
    pub revoked_at: Option<f64>,
}

#[derive(Default)]
pub struct Memory {
    keys: Vec<KeyRow>,
    sessions: Vec<SessionRow>,
    /// (jti, session id, used)
    refresh: Vec<(String, String, bool)>,
    grants: Vec<(String, String, String)>,
    /// Key-use writes, so tests can see that guessed keys cost none.
    writes: u32,
}

/// `last_used_at` is kept to this many seconds: a key used more often is written once per period.
pub const LAST_USED_RESOLUTION: f64 = 60.0;

pub enum Store {
    D1(D1Database),
    Memory(RefCell<Memory>),
}

fn db(error: worker::Error) -> Error {
    Error::internal(format!("D1: {error}"))
}

fn changes(result: worker::d1::D1Result) -> dotdo::Result<usize> {
    Ok(result
        .meta()
        .map_err(db)?
        .and_then(|meta| meta.changes)
        .unwrap_or(0))
}

impl Store {
    pub fn memory() -> Self {
        Store::Memory(RefCell::new(Memory::default()))
    }

    pub async fn insert_key(&self, row: &KeyRow) -> dotdo::Result<()> {
        match self {
            Store::D1(d1) => {
                let values = [
                    JsValue::from(row.id.as_str()),
                    JsValue::from(row.key_hash.as_str()),
                    JsValue::from(row.prefix.as_str()),
                    JsValue::from(row.owner.as_str()),
                    JsValue::from(row.role.as_str()),
                    JsValue::from(row.scopes.as_str()),
                    JsValue::from(row.created_at),
                ];
                let sql = "INSERT INTO api_keys (id, key_hash, prefix, owner, role, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
                d1.prepare(sql)
                    .bind(&values)
                    .map_err(db)?
                    .run()
                    .await
                    .map_err(db)?;
                Ok(())
            }
            Store::Memory(memory) => {
                memory.borrow_mut().keys.push(row.clone());
                Ok(())
            }
        }
    }

    /// The active key with this hash, marking it used at `now`: one indexed read, and a write
    /// only for a key that exists and was last marked over [`LAST_USED_RESOLUTION`] seconds ago,
    /// so guessed keys and busy keys cost no database writes.
    pub async fn use_key(&self, key_hash: &str, now: f64) -> dotdo::Result<Option<KeyRow>> {
        let Some(mut row) = self.active_key(key_hash).await? else {
            return Ok(None);
        };
        if row
            .last_used_at
            .is_some_and(|last| now - last < LAST_USED_RESOLUTION)
        {
            return Ok(Some(row));
        }
        row.last_used_at = Some(now);
        match self {
            Store::D1(d1) => {
                let sql = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1";
                d1.prepare(sql)
                    .bind(&[JsValue::from(row.id.as_str()), JsValue::from(now)])
                    .map_err(db)?
                    .run()
                    .await
                    .map_err(db)?;
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                memory.writes += 1;
                if let Some(stored) = memory.keys.iter_mut().find(|stored| stored.id == row.id) {
                    stored.last_used_at = Some(now);
                }
            }
        }
        Ok(Some(row))
    }

    async fn active_key(&self, key_hash: &str) -> dotdo::Result<Option<KeyRow>> {
        match self {
            Store::D1(d1) => {
                let sql = "SELECT * FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL";
                let statement = d1
                    .prepare(sql)
                    .bind(&[JsValue::from(key_hash)])
                    .map_err(db)?;
                statement.first::<KeyRow>(None).await.map_err(db)
            }
            Store::Memory(memory) => Ok(memory
                .borrow()
                .keys
                .iter()
                .find(|row| row.key_hash == key_hash && row.revoked_at.is_none())
                .cloned()),
        }
    }

    /// How many key-use writes the in-memory store has taken: for tests.
    pub fn memory_writes(&self) -> u32 {
        match self {
            Store::D1(_) => 0,
            Store::Memory(memory) => memory.borrow().writes,
        }
    }

    pub async fn list_keys(&self, owner: Option<&str>) -> dotdo::Result<Vec<KeyRow>> {
        match self {
            Store::D1(d1) => {
                let statement = match owner {
                    Some(owner) => d1
                        .prepare("SELECT * FROM api_keys WHERE owner = ?1 ORDER BY created_at, id")
                        .bind(&[JsValue::from(owner)])
                        .map_err(db)?,
                    None => d1.prepare("SELECT * FROM api_keys ORDER BY created_at, id"),
                };
                statement.all().await.map_err(db)?.results().map_err(db)
            }
            Store::Memory(memory) => Ok(memory
                .borrow()
                .keys
                .iter()
                .filter(|row| owner.is_none_or(|owner| row.owner == owner))
                .cloned()
                .collect()),
        }
    }

    /// Revokes a key; `false` when there is no active key with that id.
    pub async fn revoke_key(&self, id: &str, now: f64) -> dotdo::Result<bool> {
        match self {
            Store::D1(d1) => {
                let sql =
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
                let result = d1
                    .prepare(sql)
                    .bind(&[JsValue::from(id), JsValue::from(now)])
                    .map_err(db)?
                    .run()
                    .await
                    .map_err(db)?;
                Ok(changes(result)? > 0)
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                let row = memory
                    .keys
                    .iter_mut()
                    .find(|row| row.id == id && row.revoked_at.is_none());
                Ok(row.map(|row| row.revoked_at = Some(now)).is_some())
            }
        }
    }

    pub async fn insert_session(&self, session: &SessionRow, now: f64) -> dotdo::Result<()> {
        match self {
            Store::D1(d1) => {
                let values = [
                    JsValue::from(session.id.as_str()),
                    JsValue::from(session.user_id.as_str()),
                    JsValue::from(session.role.as_str()),
                    JsValue::from(now),
                ];
                d1.prepare(
                    "INSERT INTO sessions (id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .bind(&values)
                .map_err(db)?
                .run()
                .await
                .map_err(db)?;
                Ok(())
            }
            Store::Memory(memory) => {
                memory.borrow_mut().sessions.push(session.clone());
                Ok(())
            }
        }
    }

    pub async fn session(&self, id: &str) -> dotdo::Result<Option<SessionRow>> {
        match self {
            Store::D1(d1) => {
                let statement = d1
                    .prepare("SELECT id, user_id, role, revoked_at FROM sessions WHERE id = ?1")
                    .bind(&[JsValue::from(id)])
                    .map_err(db)?;
                statement.first::<SessionRow>(None).await.map_err(db)
            }
            Store::Memory(memory) => Ok(memory
                .borrow()
                .sessions
                .iter()
                .find(|session| session.id == id)
                .cloned()),
        }
    }

    pub async fn revoke_session(&self, id: &str, now: f64) -> dotdo::Result<bool> {
        match self {
            Store::D1(d1) => {
                let sql =
                    "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
                let result = d1
                    .prepare(sql)
                    .bind(&[JsValue::from(id), JsValue::from(now)])
                    .map_err(db)?
                    .run()
                    .await
                    .map_err(db)?;
                Ok(changes(result)? > 0)
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                let session = memory
                    .sessions
                    .iter_mut()
                    .find(|session| session.id == id && session.revoked_at.is_none());
                Ok(session
                    .map(|session| session.revoked_at = Some(now))
                    .is_some())
            }
        }
    }

    pub async fn insert_refresh(
        &self,
        jti: &str,
        session_id: &str,
        expires_at: f64,
    ) -> dotdo::Result<()> {
        match self {
            Store::D1(d1) => {
                let values = [
                    JsValue::from(jti),
                    JsValue::from(session_id),
                    JsValue::from(expires_at),
                ];
                d1.prepare(
                    "INSERT INTO refresh_tokens (jti, session_id, expires_at) VALUES (?1, ?2, ?3)",
                )
                .bind(&values)
                .map_err(db)?
                .run()
                .await
                .map_err(db)?;
                Ok(())
            }
            Store::Memory(memory) => {
                memory
                    .borrow_mut()
                    .refresh
                    .push((jti.to_owned(), session_id.to_owned(), false));
                Ok(())
            }
        }
    }

    /// Marks a refresh token used; `false` when it was used before (or never issued).
    pub async fn use_refresh(&self, jti: &str, now: f64) -> dotdo::Result<bool> {
        match self {
            Store::D1(d1) => {
                let sql =
                    "UPDATE refresh_tokens SET used_at = ?2 WHERE jti = ?1 AND used_at IS NULL";
                let result = d1
                    .prepare(sql)
                    .bind(&[JsValue::from(jti), JsValue::from(now)])
                    .map_err(db)?
                    .run()
                    .await
                    .map_err(db)?;
                Ok(changes(result)? > 0)
            }
            Store::Memory(memory) => {
                let mut memory = memory.borrow_mut();
                let token = memory
                    .refresh
                    .iter_mut()
                    .find(|(id, _, used)| id == jti && !*used);
                Ok(token.map(|(_, _, used)| *used = true).is_some())
            }
        }
    }

    pub async fn add_grant(
        &self,
        user_id: &str,
        resource: &str,
        action: &str,
    ) -> dotdo::Result<()> {
        match self {
            Store::D1(d1) => {
                let values = [
                    JsValue::from(user_id),
                    JsValue::from(resource),
                    JsValue::from(action),
                ];
                d1.prepare("INSERT INTO grants (user_id, resource, action) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING").bind(&values).map_err(db)?.run().await.map_err(db)?;
                Ok(())
            }
            Store::Memory(memory) => {
                let grant = (user_id.to_owned(), resource.to_owned(), action.to_owned());
                let mut memory = memory.borrow_mut();
                if !memory.grants.contains(&grant) {
                    memory.grants.push(grant);
                }
                Ok(())
            }
        }
    }

    /// The (resource, action) grants of a user.
    pub async fn grants(&self, user_id: &str) -> dotdo::Result<Vec<(String, String)>> {
        match self {
            Store::D1(d1) => {
                #[derive(Deserialize)]
                struct Grant {
                    resource: String,
                    action: String,
                }
                let statement = d1
                    .prepare("SELECT resource, action FROM grants WHERE user_id = ?1")
                    .bind(&[JsValue::from(user_id)])
                    .map_err(db)?;
                let rows: Vec<Grant> = statement.all().await.map_err(db)?.results().map_err(db)?;
                Ok(rows
                    .into_iter()
                    .map(|grant| (grant.resource, grant.action))
                    .collect())
            }
            Store::Memory(memory) => Ok(memory
                .borrow()
                .grants
                .iter()
                .filter(|(user, _, _)| user == user_id)
                .map(|(_, resource, action)| (resource.clone(), action.clone()))
                .collect()),
        }
    }
}
