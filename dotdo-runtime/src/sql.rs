//! SQL on D1, written once: a service's queries run on D1 under workerd and, in native tests,
//! on SQLite — the engine D1 is — so they are tested for real, without a second in-memory
//! implementation of the service's storage beside them.
//!
//! ```text
//! let db = Database::d1(env.d1("DB").map_err(binding_error)?);          // on Workers
//! let db = Database::sqlite_in_memory(&[include_str!("../migrations/0001_init.sql")]); // tests
//! let item: Option<Item> = db.first("SELECT * FROM items WHERE id = ?1", &[id.into()]).await?;
//! let changed = db.execute("DELETE FROM items WHERE id = ?1", &[id.into()]).await?;
//! ```
//!
//! Parameters are JSON values bound by position (`?1`, `?2`, …); rows are JSON objects by column
//! name, decoded into any `Deserialize` type the same way on both engines.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use worker::D1Database;

use crate::Error;

/// One row, by column name.
pub type Row = Map<String, Value>;

/// A SQL statement and its parameters, for [`Database::batch`].
pub type Statement<'a> = (&'a str, Vec<Value>);

/// A D1 database, or the SQLite database standing in for it in tests.
pub struct Database {
    engine: Engine,
}

enum Engine {
    D1(D1Database),
    #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
    Sqlite(std::cell::RefCell<rusqlite::Connection>),
}

impl Database {
    pub fn d1(database: D1Database) -> Self {
        Database {
            engine: Engine::D1(database),
        }
    }

    /// An in-memory SQLite database with `migrations` applied in order (feature `sqlite`, which
    /// `testing` enables): the service's own SQL, run natively.
    #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
    pub fn sqlite_in_memory(migrations: &[&str]) -> Self {
        let connection = rusqlite::Connection::open_in_memory().expect("SQLite opens in memory");
        for migration in migrations {
            connection
                .execute_batch(migration)
                .unwrap_or_else(|error| panic!("a migration fails on SQLite: {error}"));
        }
        Database {
            engine: Engine::Sqlite(std::cell::RefCell::new(connection)),
        }
    }

    /// How many rows all statements so far have inserted, updated or deleted (SQLite only):
    /// lets a test see which requests write.
    #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
    pub fn rows_written(&self) -> u64 {
        match &self.engine {
            Engine::Sqlite(connection) => connection.borrow().total_changes(),
            Engine::D1(_) => 0,
        }
    }

    /// The rows of a query.
    pub async fn query(&self, sql: &str, params: &[Value]) -> crate::Result<Vec<Row>> {
        match &self.engine {
            Engine::D1(database) => d1::rows(d1::prepare(database, sql, params)?).await,
            #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
            Engine::Sqlite(connection) => sqlite::query(&connection.borrow(), sql, params),
        }
    }

    /// The rows of a query, each decoded as `T`.
    pub async fn query_as<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> crate::Result<Vec<T>> {
        self.query(sql, params)
            .await?
            .into_iter()
            .map(decode_row)
            .collect()
    }

    /// The first row of a query, decoded as `T`.
    pub async fn first<T: DeserializeOwned>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> crate::Result<Option<T>> {
        self.query(sql, params)
            .await?
            .into_iter()
            .next()
            .map(decode_row)
            .transpose()
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> crate::Result<usize> {
        match &self.engine {
            Engine::D1(database) => d1::changes(d1::prepare(database, sql, params)?).await,
            #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
            Engine::Sqlite(connection) => sqlite::execute(&connection.borrow(), sql, params),
        }
    }

    /// Runs statements in one transaction: all or nothing.
    pub async fn batch(&self, statements: &[Statement<'_>]) -> crate::Result<()> {
        match &self.engine {
            Engine::D1(database) => {
                let prepared = statements
                    .iter()
                    .map(|(sql, params)| d1::prepare(database, sql, params))
                    .collect::<crate::Result<Vec<_>>>()?;
                database.batch(prepared).await.map_err(d1::error)?;
                Ok(())
            }
            #[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
            Engine::Sqlite(connection) => {
                let mut connection = connection.borrow_mut();
                let transaction = connection.transaction().map_err(sqlite::error)?;
                for (sql, params) in statements {
                    sqlite::execute(&transaction, sql, params)?;
                }
                transaction.commit().map_err(sqlite::error)
            }
        }
    }
}

fn decode_row<T: DeserializeOwned>(row: Row) -> crate::Result<T> {
    crate::json::from_value(Value::Object(row))
        .map_err(|error| Error::internal(format!("a row does not decode: {error}")))
}

mod d1 {
    use worker::js_sys::{JSON, Promise, Reflect};
    use worker::wasm_bindgen::JsValue;
    use worker::wasm_bindgen_futures::JsFuture;
    use worker::{D1Database, D1PreparedStatement};

    use super::*;

    pub fn error(error: worker::Error) -> Error {
        Error::internal(format!("D1: {error}"))
    }

    /// What a rejected D1 call says (its `Error`'s message, with D1's cause).
    fn rejected(error: JsValue) -> Error {
        let message_of = |value: &JsValue| {
            Reflect::get(value, &"message".into())
                .ok()
                .and_then(|message| message.as_string())
        };
        let message = message_of(&error).unwrap_or_else(|| format!("{error:?}"));
        match Reflect::get(&error, &"cause".into())
            .ok()
            .and_then(|cause| message_of(&cause))
        {
            Some(cause) if !message.contains(&cause) => {
                Error::internal(format!("D1: {message}: {cause}"))
            }
            _ => Error::internal(format!("D1: {message}")),
        }
    }

    async fn settle(promise: Result<Promise, JsValue>) -> crate::Result<JsValue> {
        JsFuture::from(promise.map_err(rejected)?)
            .await
            .map_err(rejected)
    }

    /// The rows of `statement`, read with one `JSON.stringify` and decoded by serde_json:
    /// integers stay integers, and no value crosses from JavaScript one field at a time.
    pub async fn rows(statement: D1PreparedStatement) -> crate::Result<Vec<Row>> {
        let result = settle(statement.inner().all()).await?;
        let results = Reflect::get(&result, &"results".into()).map_err(rejected)?;
        if results.is_undefined() || results.is_null() {
            return Ok(Vec::new());
        }
        let json = JSON::stringify(&results).map_err(rejected)?;
        let not_rows = |why: &dyn std::fmt::Display| {
            Error::internal(format!("D1: rows are not JSON objects: {why}"))
        };
        let rows = match crate::json::parse(String::from(json)) {
            Ok(Value::Array(rows)) => rows,
            Ok(other) => return Err(not_rows(&crate::args::json_type(&other))),
            Err(error) => return Err(not_rows(&error)),
        };
        rows.into_iter()
            .map(|row| match row {
                Value::Object(row) => Ok(row),
                other => Err(not_rows(&crate::args::json_type(&other))),
            })
            .collect()
    }

    /// Runs `statement`; the number of rows it changed.
    pub async fn changes(statement: D1PreparedStatement) -> crate::Result<usize> {
        let result = settle(statement.inner().run()).await?;
        let changes = Reflect::get(&result, &"meta".into())
            .and_then(|meta| Reflect::get(&meta, &"changes".into()))
            .map_err(rejected)?;
        Ok(changes.as_f64().map_or(0, |changes| changes as usize))
    }

    pub fn prepare(
        database: &D1Database,
        sql: &str,
        params: &[Value],
    ) -> crate::Result<D1PreparedStatement> {
        let values: Vec<JsValue> = params.iter().map(js).collect();
        database.prepare(sql).bind(&values).map_err(error)
    }

    fn js(value: &Value) -> JsValue {
        match value {
            Value::Null => JsValue::NULL,
            Value::Bool(flag) => JsValue::from(*flag),
            Value::Number(number) => JsValue::from(number.as_f64().unwrap_or(0.0)),
            Value::String(text) => JsValue::from(text.as_str()),
            other => JsValue::from(crate::json::to_text(other).as_str()),
        }
    }
}

#[cfg(all(feature = "sqlite", not(target_arch = "wasm32")))]
mod sqlite {
    use rusqlite::types::{Value as Sql, ValueRef};

    use super::*;

    pub fn error(error: rusqlite::Error) -> Error {
        Error::internal(format!("SQLite: {error}"))
    }

    /// Values bound as D1 binds them: booleans as 0/1, objects and arrays as JSON text.
    fn params(params: &[Value]) -> Vec<Sql> {
        params
            .iter()
            .map(|value| match value {
                Value::Null => Sql::Null,
                Value::Bool(flag) => Sql::Integer(i64::from(*flag)),
                Value::Number(number) => number
                    .as_i64()
                    .map_or_else(|| Sql::Real(number.as_f64().unwrap_or(0.0)), Sql::Integer),
                Value::String(text) => Sql::Text(text.clone()),
                other => Sql::Text(crate::json::to_text(other)),
            })
            .collect()
    }

    pub fn query(
        connection: &rusqlite::Connection,
        sql: &str,
        values: &[Value],
    ) -> crate::Result<Vec<Row>> {
        let mut statement = connection.prepare(sql).map_err(error)?;
        let names: Vec<String> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params(values)))
            .map_err(error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(error)? {
            let mut map = Row::new();
            for (index, name) in names.iter().enumerate() {
                let value = match row.get_ref(index).map_err(error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(integer) => Value::from(integer),
                    ValueRef::Real(real) => Value::from(real),
                    ValueRef::Text(text) => Value::from(String::from_utf8_lossy(text).into_owned()),
                    // D1 returns a blob as an array of its bytes.
                    ValueRef::Blob(bytes) => Value::from(bytes.to_vec()),
                };
                map.insert(name.clone(), value);
            }
            out.push(map);
        }
        Ok(out)
    }

    pub fn execute(
        connection: &rusqlite::Connection,
        sql: &str,
        values: &[Value],
    ) -> crate::Result<usize> {
        connection
            .execute(sql, rusqlite::params_from_iter(params(values)))
            .map_err(error)
    }
}

// The runtime dev-depends on itself with `sqlite`, so these always build under test.
#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    const SCHEMA: &str =
        "CREATE TABLE items (id TEXT PRIMARY KEY, price INTEGER NOT NULL, tags TEXT, ok INTEGER)";

    #[derive(Debug, PartialEq, Deserialize)]
    struct Item {
        id: String,
        price: u64,
        tags: Option<String>,
    }

    #[test]
    fn statements_bind_by_position_and_rows_decode_by_name() {
        futures_executor::block_on(async {
            let db = Database::sqlite_in_memory(&[SCHEMA]);
            let insert = "INSERT INTO items (id, price, tags, ok) VALUES (?1, ?2, ?3, ?4)";
            let inserted = db
                .execute(insert, &["a".into(), 5.into(), json!(["x"]), true.into()])
                .await
                .unwrap();
            assert_eq!(inserted, 1);
            let item: Option<Item> = db
                .first(
                    "SELECT id, price, tags FROM items WHERE id = ?1",
                    &["a".into()],
                )
                .await
                .unwrap();
            let expected = Item {
                id: "a".into(),
                price: 5,
                tags: Some("[\"x\"]".into()),
            };
            assert_eq!(item, Some(expected));
            let rows = db.query("SELECT ok FROM items", &[]).await.unwrap();
            assert_eq!(rows[0]["ok"], 1, "booleans are stored as D1 stores them");
            assert_eq!(db.rows_written(), 1);
        });
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        futures_executor::block_on(async {
            let db = Database::sqlite_in_memory(&[SCHEMA]);
            let insert = "INSERT INTO items (id, price) VALUES (?1, ?2)";
            let failing = [
                (insert, vec!["a".into(), 1.into()]),
                (insert, vec!["a".into(), 2.into()]),
            ];
            let error = db.batch(&failing).await.unwrap_err();
            assert!(error.to_string().contains("UNIQUE"), "{error}");
            let items: Vec<Item> = db
                .query_as("SELECT id, price, tags FROM items", &[])
                .await
                .unwrap();
            assert!(items.is_empty(), "the first insert was rolled back");
        });
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_an_internal_error() {
        futures_executor::block_on(async {
            let db = Database::sqlite_in_memory(&[SCHEMA]);
            db.execute("INSERT INTO items (id, price) VALUES ('a', 1)", &[])
                .await
                .unwrap();
            let error = db
                .first::<Item>("SELECT id FROM items", &[])
                .await
                .unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Internal);
            assert!(error.to_string().contains("price"), "{error}");
        });
    }
}
