//! Workers KV, written once: a service stores JSON values by key in a KV namespace on Workers
//! and, in native tests, in memory with KV's semantics (values, expiry, the 60-second minimum
//! TTL), so the service has no storage enum of its own.
//!
//! ```text
//! let kv = KeyValue::kv(env.kv("CACHE").map_err(binding_error)?);   // on Workers
//! let kv = KeyValue::in_memory();                                     // in tests
//! kv.put("user:1", &profile, Some(3600)).await?;                      // expires in an hour
//! let profile: Option<Profile> = kv.get("user:1").await?;
//! kv.delete("user:1").await?;
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// KV refuses shorter expiries; the in-memory store refuses them too.
pub const MIN_TTL_SECONDS: u64 = 60;

/// A KV namespace, or its in-memory stand-in.
pub struct KeyValue {
    store: Store,
}

enum Store {
    Kv(worker::KvStore),
    /// Values (JSON text) and when they expire (Unix seconds).
    Memory(RefCell<BTreeMap<String, (String, Option<u64>)>>),
}

fn kv_error(error: worker::kv::KvError) -> Error {
    Error::upstream(format!("KV: {error}"))
}

impl KeyValue {
    pub fn kv(namespace: worker::KvStore) -> Self {
        KeyValue {
            store: Store::Kv(namespace),
        }
    }

    /// An empty store in memory, expiring values by [`crate::clock`]: for tests.
    pub fn in_memory() -> Self {
        KeyValue {
            store: Store::Memory(RefCell::default()),
        }
    }

    /// The value under `key`, if there is one that has not expired.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> crate::Result<Option<T>> {
        let text = match &self.store {
            Store::Kv(namespace) => namespace.get(key).text().await.map_err(kv_error)?,
            Store::Memory(values) => {
                let now = crate::clock::now_seconds();
                let mut values = values.borrow_mut();
                match values.get(key) {
                    Some((_, Some(expires))) if *expires <= now => {
                        values.remove(key);
                        None
                    }
                    found => found.map(|(text, _)| text.clone()),
                }
            }
        };
        text.map(|text| {
            crate::json::from_text(&text).map_err(|error| {
                Error::internal(format!("KV value `{key}` does not decode: {error}"))
            })
        })
        .transpose()
    }

    /// Stores `value` under `key`, expiring after `ttl_seconds` (at least [`MIN_TTL_SECONDS`]).
    pub async fn put<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        ttl_seconds: Option<u64>,
    ) -> crate::Result<()> {
        if let Some(ttl) = ttl_seconds.filter(|ttl| *ttl < MIN_TTL_SECONDS) {
            return Err(Error::internal(format!(
                "KV expiries are at least {MIN_TTL_SECONDS} seconds, not {ttl}"
            )));
        }
        let text = serde_json::to_string(value).map_err(|error| {
            Error::internal(format!("KV value `{key}` does not encode: {error}"))
        })?;
        match &self.store {
            Store::Kv(namespace) => {
                let mut put = namespace.put(key, text).map_err(kv_error)?;
                if let Some(ttl) = ttl_seconds {
                    put = put.expiration_ttl(ttl);
                }
                put.execute().await.map_err(kv_error)
            }
            Store::Memory(values) => {
                let expires = ttl_seconds.map(|ttl| crate::clock::now_seconds() + ttl);
                values.borrow_mut().insert(key.to_owned(), (text, expires));
                Ok(())
            }
        }
    }

    pub async fn delete(&self, key: &str) -> crate::Result<()> {
        match &self.store {
            Store::Kv(namespace) => namespace.delete(key).await.map_err(kv_error),
            Store::Memory(values) => {
                values.borrow_mut().remove(key);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_are_deleted() {
        futures_executor::block_on(async {
            let kv = KeyValue::in_memory();
            assert_eq!(kv.get::<Vec<f32>>("v").await.unwrap(), None);
            kv.put("v", &[1.5f32, 2.0][..], None).await.unwrap();
            assert_eq!(kv.get::<Vec<f32>>("v").await.unwrap(), Some(vec![1.5, 2.0]));
            kv.delete("v").await.unwrap();
            assert_eq!(kv.get::<Vec<f32>>("v").await.unwrap(), None);
        });
    }

    #[test]
    fn expiries_hold_to_kv_rules() {
        futures_executor::block_on(async {
            let kv = KeyValue::in_memory();
            let error = kv.put("k", "v", Some(59)).await.unwrap_err();
            assert!(error.to_string().contains("at least 60"), "{error}");
            kv.put("k", "v", Some(60)).await.unwrap();
            assert_eq!(kv.get::<String>("k").await.unwrap().as_deref(), Some("v"));
            // An expiry already in the past is gone on the next read.
            if let Store::Memory(values) = &kv.store {
                values.borrow_mut().get_mut("k").unwrap().1 = Some(0);
            }
            assert_eq!(kv.get::<String>("k").await.unwrap(), None);
        });
    }

    #[test]
    fn a_value_of_another_shape_is_an_internal_error() {
        futures_executor::block_on(async {
            let kv = KeyValue::in_memory();
            kv.put("k", "text", None).await.unwrap();
            let error = kv.get::<Vec<u8>>("k").await.unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Internal);
        });
    }
}
