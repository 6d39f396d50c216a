//! The JSON-RPC 2.0 wire types, once, for the `/_rpc` endpoint, the typed client and MCP (which
//! speaks JSON-RPC): request, response, error object, the standard codes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// The most calls one batch may carry (JSON-RPC and MCP alike): each call costs the worker CPU
/// and is counted by rate limits, so a batch cannot multiply what one request may do.
pub const MAX_BATCH_CALLS: usize = 20;

/// The JSON-RPC error for a batch over [`MAX_BATCH_CALLS`], if `calls` is.
pub fn batch_too_large(calls: usize) -> Option<(i64, String)> {
    (calls > MAX_BATCH_CALLS).then(|| {
        (
            INVALID_REQUEST,
            format!(
                "invalid request: a batch carries at most {MAX_BATCH_CALLS} calls, this one {calls}"
            ),
        )
    })
}

/// The protocol version every message carries: always `"2.0"`.
pub const VERSION: &str = "2.0";

/// A request or notification as a client sends it.
#[derive(Debug, Serialize)]
pub struct Request<'a, P> {
    pub jsonrpc: &'static str,
    pub id: u64,
    pub method: &'a str,
    pub params: &'a P,
}

impl<'a, P> Request<'a, P> {
    pub fn new(id: u64, method: &'a str, params: &'a P) -> Self {
        Request {
            jsonrpc: VERSION,
            id,
            method,
            params,
        }
    }
}

/// An error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        ErrorObject {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// A response: a result or an error, for the request with `id` (`null` when it had none that
/// could be read). `R` is the result's type: a `Value`, raw JSON, or a typed result.
#[derive(Debug, Serialize, Deserialize)]
pub struct Response<R = Value> {
    #[serde(default = "version")]
    pub jsonrpc: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    #[serde(default)]
    pub id: Value,
}

fn version() -> String {
    VERSION.to_owned()
}

fn none<R>() -> Option<R> {
    None
}

impl<R> Response<R> {
    pub fn success(id: Value, result: R) -> Self {
        Response {
            jsonrpc: version(),
            result: Some(result),
            error: None,
            id,
        }
    }

    pub fn failure(id: Value, error: ErrorObject) -> Self {
        Response {
            jsonrpc: version(),
            result: None,
            error: Some(error),
            id,
        }
    }
}

impl<R: Serialize> Response<R> {
    /// The response as a JSON value (for MCP, which adds to results).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("JSON-RPC responses always serialize")
    }

    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("JSON-RPC responses always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn responses_carry_a_result_or_an_error_never_both() {
        let ok = Response::success(json!(1), json!({"a": 1})).to_value();
        assert_eq!(ok, json!({"jsonrpc": "2.0", "id": 1, "result": {"a": 1}}));
        let error = ErrorObject::new(METHOD_NOT_FOUND, "no").with_data(json!({"kind": "x"}));
        let failed = Response::<Value>::failure(Value::Null, error).to_value();
        assert_eq!(
            failed,
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32601, "message": "no", "data": {"kind": "x"}}})
        );
        let read: Response = serde_json::from_value(failed).unwrap();
        assert_eq!(read.error.unwrap().code, METHOD_NOT_FOUND);
        assert!(read.result.is_none());
    }

    #[test]
    fn requests_are_numbered_and_versioned() {
        let params = json!({"id": "1"});
        let request = serde_json::to_value(Request::new(3, "get_item", &params)).unwrap();
        assert_eq!(
            request,
            json!({"jsonrpc": "2.0", "id": 3, "method": "get_item", "params": {"id": "1"}})
        );
    }
}
