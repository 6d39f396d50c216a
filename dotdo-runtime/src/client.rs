//! What generated typed clients (`<Service>Client`) are built on: a JSON-RPC client over a
//! small [`Transport`] trait, so the same client works in-process, over HTTP and over a service
//! binding.

use std::cell::Cell;

use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Error;
use crate::error::ErrorData;
use crate::jsonrpc::Request;

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
        crate::json::from_value::<R>(result).map_err(|error| {
            Error::upstream(format!("`{method}` returned an unexpected result: {error}"))
        })
    }
}

/// The result of one call from what `/_rpc` answered (`None` for `null`): a JSON-RPC response,
/// or the problem document of an error answered before the endpoint ran (a middleware's 401, a
/// 413); either error comes back as the same [`Error`] kind, message and field.
pub fn decode_answer<R: DeserializeOwned>(method: &str, answer: &[u8]) -> Result<Option<R>, Error> {
    // Only the result's own decoding is generic: the answer is read once for every `R`.
    match answer_result(method, answer)? {
        None => Ok(None),
        Some(result) => crate::json::from_value::<R>(result)
            .map(Some)
            .map_err(|error| {
                Error::upstream(format!(
                    "`{method}` answered with a result of another type: {error}"
                ))
            }),
    }
}

/// The result of an answer as a `Value`. The envelope and the problem document are read by hand
/// from the parsed answer: derived `Deserialize`s of the two compiled the byte parser's struct
/// decoding for each (7 KB of wasm in every worker that calls a service or takes native calls).
pub(crate) fn answer_result(method: &str, answer: &[u8]) -> Result<Option<Value>, Error> {
    if let Ok(Value::Object(mut object)) = crate::json::parse(answer) {
        if let Some(outcome) = response_outcome(&mut object) {
            return outcome;
        }
        if let Some(detail) = object.get("detail").and_then(Value::as_str)
            && let Some(data) = ErrorData::from_object(&object)
        {
            return Err(Error::from_wire(detail.to_owned(), data));
        }
    }
    Err(Error::upstream(format!(
        "`{method}` answered with neither JSON-RPC nor a problem document: {}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    )))
}

/// A JSON-RPC response's outcome: its error, or its result (`None` for `null`); `None` when the
/// object is not a response (one with neither a result nor an id, as a problem document).
fn response_outcome(object: &mut Map<String, Value>) -> Option<Result<Option<Value>, Error>> {
    // `jsonrpc` may be absent, but is text when present.
    if object
        .get("jsonrpc")
        .is_some_and(|version| !version.is_string())
    {
        return None;
    }
    match object.get("error") {
        None | Some(Value::Null) => {}
        Some(error) => {
            let error = error.as_object()?;
            let code = error.get("code")?.as_i64()?;
            let message = error.get("message")?.as_str()?.to_owned();
            return Some(Err(Error::from_jsonrpc(code, message, error.get("data"))));
        }
    }
    let result = object.get_mut("result").map(Value::take);
    let id = object.get("id").unwrap_or(&Value::Null);
    match result {
        Some(Value::Null) | None if id.is_null() => None,
        Some(Value::Null) | None => Some(Ok(None)),
        Some(result) => Some(Ok(Some(result))),
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

    #[test]
    fn errors_come_back_from_either_form_and_anything_else_is_an_upstream_error() {
        let typed = br#"{"jsonrpc":"2.0","error":{"code":-32001,"message":"no item 7","data":{"kind":"not_found","status":404}},"id":1}"#;
        let error = decode_answer::<Value>("get", typed).unwrap_err();
        assert_eq!(
            (error.kind(), error.message()),
            (crate::ErrorKind::NotFound, "no item 7")
        );
        let bare =
            br#"{"jsonrpc":"2.0","error":{"code":-32601,"message":"method not found"},"id":1}"#;
        assert_eq!(
            decode_answer::<Value>("get", bare).unwrap_err().kind(),
            crate::ErrorKind::NotFound
        );
        let problem = br#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"sign in","kind":"unauthorized","field":null}"#;
        let error = decode_answer::<Value>("get", problem).unwrap_err();
        assert_eq!(
            (error.kind(), error.message()),
            (crate::ErrorKind::Unauthorized, "sign in")
        );
        for neither in [
            &b"<html>busy</html>"[..],
            br#"{"jsonrpc":"2.0","id":null}"#,
            br#"{"jsonrpc":"2.0","error":{"code":"x","message":"m"},"id":1}"#,
            br#"{"jsonrpc":2,"result":1,"id":1}"#,
            br#"{"detail":"d","kind":"no_such_kind","status":400}"#,
        ] {
            let error = decode_answer::<Value>("get", neither).unwrap_err();
            assert_eq!(
                error.kind(),
                crate::ErrorKind::Upstream,
                "{}",
                error.message()
            );
            assert!(
                error
                    .message()
                    .contains("neither JSON-RPC nor a problem document")
            );
        }
        let wrong_type = br#"{"jsonrpc":"2.0","result":"seven","id":1}"#;
        let error = decode_answer::<u32>("count", wrong_type).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Upstream);
        assert!(
            error
                .message()
                .contains("`count` answered with a result of another type")
        );
    }
}
