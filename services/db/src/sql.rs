//! Two primitives — query and execute (plus an atomic batch) — over D1 on Workers and SQLite
//! natively, so every query of the service is written once and tested on the engine D1 runs.

use dotdo::Error;
use dotdo::worker::D1Database;
use serde_json::{Map, Value};

pub type Row = Map<String, Value>;

pub enum Db {
    D1(D1Database),
    #[cfg(not(target_arch = "wasm32"))]
    Sqlite(std::cell::RefCell<rusqlite::Connection>),
}

fn d1_error(error: worker::Error) -> Error {
    Error::internal(format!("D1: {error}"))
}

fn js(value: &Value) -> worker::wasm_bindgen::JsValue {
    use worker::wasm_bindgen::JsValue;
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(flag) => JsValue::from(*flag),
        Value::Number(number) => JsValue::from(number.as_f64().unwrap_or(0.0)),
        Value::String(text) => JsValue::from(text.as_str()),
        other => JsValue::from(other.to_string().as_str()),
    }
}

impl Db {
    /// An in-memory SQLite database with the migrations applied: for tests.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn sqlite_in_memory() -> Self {
        let connection = rusqlite::Connection::open_in_memory().expect("SQLite opens in memory");
        connection
            .execute_batch(include_str!("../migrations/0001_init.sql"))
            .expect("the migrations apply");
        Db::Sqlite(std::cell::RefCell::new(connection))
    }

    pub async fn query(&self, sql: &str, params: &[Value]) -> dotdo::Result<Vec<Row>> {
        match self {
            Db::D1(d1) => {
                let values: Vec<_> = params.iter().map(js).collect();
                let result = d1
                    .prepare(sql)
                    .bind(&values)
                    .map_err(d1_error)?
                    .all()
                    .await
                    .map_err(d1_error)?;
                result.results::<Row>().map_err(d1_error)
            }
            #[cfg(not(target_arch = "wasm32"))]
            Db::Sqlite(connection) => sqlite::query(&connection.borrow(), sql, params),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> dotdo::Result<usize> {
        match self {
            Db::D1(d1) => {
                let values: Vec<_> = params.iter().map(js).collect();
                let result = d1
                    .prepare(sql)
                    .bind(&values)
                    .map_err(d1_error)?
                    .run()
                    .await
                    .map_err(d1_error)?;
                Ok(result
                    .meta()
                    .map_err(d1_error)?
                    .and_then(|meta| meta.changes)
                    .unwrap_or(0))
            }
            #[cfg(not(target_arch = "wasm32"))]
            Db::Sqlite(connection) => sqlite::execute(&connection.borrow(), sql, params),
        }
    }

    /// Runs statements in one transaction: all or nothing.
    pub async fn batch(&self, statements: Vec<(&str, Vec<Value>)>) -> dotdo::Result<()> {
        match self {
            Db::D1(d1) => {
                let mut prepared = Vec::with_capacity(statements.len());
                for (sql, params) in &statements {
                    let values: Vec<_> = params.iter().map(js).collect();
                    prepared.push(d1.prepare(*sql).bind(&values).map_err(d1_error)?);
                }
                d1.batch(prepared).await.map_err(d1_error)?;
                Ok(())
            }
            #[cfg(not(target_arch = "wasm32"))]
            Db::Sqlite(connection) => {
                let mut connection = connection.borrow_mut();
                let transaction = connection.transaction().map_err(sqlite::error)?;
                for (sql, params) in &statements {
                    sqlite::execute(&transaction, sql, params)?;
                }
                transaction.commit().map_err(sqlite::error)
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod sqlite {
    use super::*;
    use rusqlite::types::{Value as Sql, ValueRef};

    pub fn error(error: rusqlite::Error) -> Error {
        Error::internal(format!("SQLite: {error}"))
    }

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
                other => Sql::Text(other.to_string()),
            })
            .collect()
    }

    pub fn query(
        connection: &rusqlite::Connection,
        sql: &str,
        values: &[Value],
    ) -> dotdo::Result<Vec<Row>> {
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
                    ValueRef::Blob(_) => Value::Null,
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
    ) -> dotdo::Result<usize> {
        connection
            .execute(sql, rusqlite::params_from_iter(params(values)))
            .map_err(error)
    }
}
