//! What generated typed clients (`<Service>Client`) are built on: a JSON-RPC client over a
//! small [`Transport`] trait, so the same client works in-process, over HTTP and over a service
//! binding.

use std::cell::Cell;

use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Error;
use crate::error::ErrorData;
use crate::jsonrpc::{Request, Response};

/// Carries one JSON-RPC payload to a service's `/_rpc` endpoint and brings back the answer.
pub trait Transport {
    fn send<'a>(&'a self, payload: Vec<u8>) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>>;
}

impl<T: Transport + ?Sized> Transport for &T {
    fn send<'a>(&'a self, payload: Vec<u8>) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        (**self).send(payload)
    }
}

/// What an `#[rpc]` method may return: JSON the typed client decodes, so `Deserialize` as well
/// as `Serialize` (an `HttpResponse` or other non-JSON result is for `#[http]` only).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the result of an `#[rpc]` method: RPC answers JSON the typed client decodes",
    label = "the typed client decodes this",
    note = "return a type with `serde::Serialize` and `serde::Deserialize`, or leave `#[rpc]` off the method (an `HttpResponse` is for `#[http]` only; MCP needs `Serialize` and `JsonSchema`)"
)]
pub trait RpcResult: DeserializeOwned {}

// Not recommended, so a missing `Deserialize` is reported in the words above.
#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> RpcResult for T {}

/// An argument the typed client can send: JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an argument of an `#[rpc]` method: the typed client sends arguments as JSON",
    label = "the typed client sends this as JSON",
    note = "take a type with `serde::Serialize` and `serde::Deserialize`, or leave `#[rpc]` off the method (headers, cookies, raw bodies and file uploads are for `#[http]` only)"
)]
pub trait RpcParam: Serialize {}

#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> RpcParam for T {}

/// An argument as the JSON the client sends.
#[doc(hidden)]
pub fn rpc_param<T: RpcParam + ?Sized>(value: &T) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(value)
}

/// A JSON-RPC 2.0 client.
pub struct RpcClient<T> {
    transport: T,
    next_id: Cell<u64>,
}

impl<T: Transport> RpcClient<T> {
    pub fn new(transport: T) -> Self {
        RpcClient {
            transport,
            next_id: Cell::new(1),
        }
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Calls `method` with `params` (an object of named arguments) and decodes its result. An
    /// error the service returned comes back as the same [`Error`] kind, message and field.
    pub async fn call<P: Serialize, R: RpcResult>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R, Error> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let payload = serde_json::to_vec(&Request::new(id, method, params)).map_err(|error| {
            Error::bad_request(format!("encoding params of `{method}`: {error}"))
        })?;
        let answer = self.transport.send(payload).await?;
        let result = decode_answer::<Value>(method, &answer)?.unwrap_or(Value::Null);
        R::deserialize(result).map_err(|error| {
            Error::upstream(format!("`{method}` returned an unexpected result: {error}"))
        })
    }
}

/// The result of one call from what `/_rpc` answered (`None` for `null`): a JSON-RPC response,
/// or the problem document of an error answered before the endpoint ran (a middleware's 401, a
/// 413); either error comes back as the same [`Error`] kind, message and field. `R` is `Value`,
/// or a typed result.
pub fn decode_answer<R: DeserializeOwned>(method: &str, answer: &[u8]) -> Result<Option<R>, Error> {
    if let Ok(response) = serde_json::from_slice::<Response<R>>(answer) {
        if let Some(error) = response.error {
            return Err(Error::from_jsonrpc(
                error.code,
                error.message,
                error.data.as_ref(),
            ));
        }
        if response.result.is_some() || response.id != Value::Null {
            return Ok(response.result);
        }
    }
    // The problem document's fields spelled out: `#[serde(flatten)]` would buffer the whole
    // document through serde's generic content type, several KiB of wasm in every worker.
    #[derive(serde::Deserialize)]
    struct ProblemAnswer {
        detail: String,
        kind: crate::ErrorKind,
        status: u16,
        #[serde(default)]
        field: Option<String>,
        #[serde(default)]
        retry_after: Option<u32>,
    }
    match serde_json::from_slice::<ProblemAnswer>(answer) {
        Ok(problem) => {
            let data = ErrorData {
                kind: problem.kind,
                status: problem.status,
                field: problem.field,
                retry_after: problem.retry_after,
            };
            Err(Error::from_wire(problem.detail, data))
        }
        Err(_) => Err(Error::upstream(format!(
            "`{method}` answered with neither JSON-RPC nor a problem document: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(200)])
        ))),
    }
}

#[cfg(test)]
mod answer_tests {
    use super::*;

    #[test]
    fn results_come_back_and_null_is_none() {
        let answer = br#"{"jsonrpc":"2.0","result":[{"id":"a"},{"id":"b"}],"id":1}"#;
        let result = decode_answer::<Value>("list", answer).unwrap().unwrap();
        assert_eq!(result, serde_json::json!([{"id": "a"}, {"id": "b"}]));
        let null = br#"{"jsonrpc":"2.0","result":null,"id":1}"#;
        assert_eq!(decode_answer::<Value>("list", null).unwrap(), None);
    }
}
