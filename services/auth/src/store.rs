//! Where the auth service keeps keys, sessions and grants: D1, whose SQL tests run on SQLite.

use dotdo::sql::Database;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// `last_used_at` is kept to this many seconds: a key used more often is written once per period.
pub const LAST_USED_RESOLUTION: f64 = 60.0;

/// The schema, in order: what `wrangler d1 migrations apply` runs, and tests on SQLite.
pub const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_init.sql")];

pub struct Store {
    db: Database,
}

impl Store {
    pub fn new(db: Database) -> Self {
        Store { db }
    }

    /// The database itself: tests look at what was written.
    pub fn database(&self) -> &Database {
        &self.db
    }

    pub async fn insert_key(&self, row: &KeyRow) -> dotdo::Result<()> {
        let sql = "INSERT INTO api_keys (id, key_hash, prefix, owner, role, scopes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
        let params = [
            Value::from(row.id.as_str()),
            row.key_hash.as_str().into(),
            row.prefix.as_str().into(),
            row.owner.as_str().into(),
            row.role.as_str().into(),
            row.scopes.as_str().into(),
            row.created_at.into(),
        ];
        self.db.execute(sql, &params).await.map(drop)
    }

    /// The active key with this hash, marking it used at `now`: one indexed read, and a write
    /// only for a key that exists and was last marked over [`LAST_USED_RESOLUTION`] seconds ago,
    /// so guessed keys and busy keys cost no database writes.
    pub async fn use_key(&self, key_hash: &str, now: f64) -> dotdo::Result<Option<KeyRow>> {
        let sql = "SELECT * FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL";
        let Some(mut row) = self.db.first::<KeyRow>(sql, &[key_hash.into()]).await? else {
            return Ok(None);
        };
        if row
            .last_used_at
            .is_some_and(|last| now - last < LAST_USED_RESOLUTION)
        {
            return Ok(Some(row));
        }
        row.last_used_at = Some(now);
        let sql = "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1";
        self.db
            .execute(sql, &[row.id.as_str().into(), now.into()])
            .await?;
        Ok(Some(row))
    }

    pub async fn list_keys(&self, owner: Option<&str>) -> dotdo::Result<Vec<KeyRow>> {
        match owner {
            Some(owner) => {
                let sql = "SELECT * FROM api_keys WHERE owner = ?1 ORDER BY created_at, rowid";
                self.db.query_as(sql, &[owner.into()]).await
            }
            None => {
                let sql = "SELECT * FROM api_keys ORDER BY created_at, rowid";
                self.db.query_as(sql, &[]).await
            }
        }
    }

    /// Revokes a key; `false` when there is no active key with that id.
    pub async fn revoke_key(&self, id: &str, now: f64) -> dotdo::Result<bool> {
        let sql = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
        Ok(self.db.execute(sql, &[id.into(), now.into()]).await? > 0)
    }

    pub async fn insert_session(&self, session: &SessionRow, now: f64) -> dotdo::Result<()> {
        let sql = "INSERT INTO sessions (id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)";
        let params = [
            Value::from(session.id.as_str()),
            session.user_id.as_str().into(),
            session.role.as_str().into(),
            now.into(),
        ];
        self.db.execute(sql, &params).await.map(drop)
    }

    pub async fn session(&self, id: &str) -> dotdo::Result<Option<SessionRow>> {
        let sql = "SELECT id, user_id, role, revoked_at FROM sessions WHERE id = ?1";
        self.db.first(sql, &[id.into()]).await
    }

    pub async fn revoke_session(&self, id: &str, now: f64) -> dotdo::Result<bool> {
        let sql = "UPDATE sessions SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL";
        Ok(self.db.execute(sql, &[id.into(), now.into()]).await? > 0)
    }

    pub async fn insert_refresh(
        &self,
        jti: &str,
        session_id: &str,
        expires_at: f64,
    ) -> dotdo::Result<()> {
        let sql = "INSERT INTO refresh_tokens (jti, session_id, expires_at) VALUES (?1, ?2, ?3)";
        let params = [jti.into(), session_id.into(), expires_at.into()];
        self.db.execute(sql, &params).await.map(drop)
    }

    /// Marks a refresh token used; `false` when it was used before (or never issued).
    pub async fn use_refresh(&self, jti: &str, now: f64) -> dotdo::Result<bool> {
        let sql = "UPDATE refresh_tokens SET used_at = ?2 WHERE jti = ?1 AND used_at IS NULL";
        Ok(self.db.execute(sql, &[jti.into(), now.into()]).await? > 0)
    }

    pub async fn add_grant(
        &self,
        user_id: &str,
        resource: &str,
        action: &str,
    ) -> dotdo::Result<()> {
        let sql = "INSERT INTO grants (user_id, resource, action) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";
        let params = [user_id.into(), resource.into(), action.into()];
        self.db.execute(sql, &params).await.map(drop)
    }

    /// The (resource, action) grants of a user.
    pub async fn grants(&self, user_id: &str) -> dotdo::Result<Vec<(String, String)>> {
        #[derive(Deserialize)]
        struct Grant {
            resource: String,
            action: String,
        }
        let sql = "SELECT resource, action FROM grants WHERE user_id = ?1";
        let rows: Vec<Grant> = self.db.query_as(sql, &[user_id.into()]).await?;
        Ok(rows
            .into_iter()
            .map(|grant| (grant.resource, grant.action))
            .collect())
    }
}
