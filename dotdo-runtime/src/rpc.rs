//! JSON-RPC 2.0 at `POST /_rpc`: single requests, batches and notifications.

use serde_json::{Value, json};

use crate::args::{Args, json_type};
use crate::describe::Service;
use crate::wire::{
    Incoming, RPC_PATH, Response, accepts_only, empty_response, error_response, json_response,
    require_json_content_type,
};
use crate::{Context, Error};

use crate::json::JsonText;
use crate::jsonrpc::batch_too_large;
pub use crate::jsonrpc::{
    ErrorObject, INVALID_PARAMS, INVALID_REQUEST, MAX_BATCH_CALLS, METHOD_NOT_FOUND, PARSE_ERROR,
};
/// A response whose result is the method's JSON as it was serialized.
type ResponseObject = crate::jsonrpc::Response<JsonText>;

/// How a successful response begins: the method's JSON follows as it is, then the id.
pub(crate) const RESULT_PREFIX: &[u8] = br#"{"jsonrpc":"2.0","result":"#;

/// The error object of a method's error: its kind's code, its public message and wire data.
fn error_object(error: &Error, context: &Context) -> ErrorObject {
    if error.kind() == crate::ErrorKind::Internal {
        crate::log::error(context, "internal error in RPC method", error);
    }
    ErrorObject {
        code: error.jsonrpc_code(),
        message: error.public_message().to_owned(),
        data: serde_json::to_value(error.wire_data()).ok(),
    }
}

pub(crate) async fn handle_http<S: Service>(
    service: &S,
    context: &Context,
    request: Incoming,
) -> Response {
    if request.method != http::Method::POST {
        return accepts_only("POST", &request.method, RPC_PATH, context);
    }
    if let Err(error) = require_json_content_type(context.header_bytes("content-type")) {
        return error_response(&error, context);
    }
    match answer(service, context, &request.body).await {
        (status, Some(body)) => json_response(status, body),
        (_, None) => empty_response(http::StatusCode::NO_CONTENT),
    }
}

/// Answers a JSON-RPC payload; `None` when it held only notifications.
pub async fn handle_body<S: Service>(
    service: &S,
    context: &Context,
    body: &[u8],
) -> Option<Vec<u8>> {
    answer(service, context, body).await.1
}

/// The HTTP status and body answering a JSON-RPC payload: 200 for answers (errors of single
/// calls included), 400 for a batch over [`MAX_BATCH_CALLS`], which runs none of its calls.
async fn answer<S: Service>(
    service: &S,
    context: &Context,
    body: &[u8],
) -> (http::StatusCode, Option<Vec<u8>>) {
    let ok = http::StatusCode::OK;
    let message: Value = match crate::json::parse(body) {
        Ok(message) => message,
        Err(error) => {
            let error = ErrorObject::new(PARSE_ERROR, format!("parse error: {error}"));
            return (
                ok,
                Some(encode(&ResponseObject::failure(Value::Null, error))),
            );
        }
    };
    if let Some((code, text)) = message
        .as_array()
        .and_then(|batch| batch_too_large(batch.len()))
    {
        let error = ErrorObject::new(code, text);
        return (
            http::StatusCode::BAD_REQUEST,
            Some(encode(&ResponseObject::failure(Value::Null, error))),
        );
    }
    let body = match message {
        Value::Array(batch) if batch.is_empty() => {
            let error = ErrorObject::new(INVALID_REQUEST, "invalid request: empty batch");
            Some(encode(&ResponseObject::failure(Value::Null, error)))
        }
        Value::Array(batch) => {
            // In order, one at a time: a worker is single-threaded, and a join of futures would
            // cost more wasm than it saves time.
            let mut responses = Vec::with_capacity(batch.len());
            for message in batch {
                responses.extend(call(service, context, message).await);
            }
            (!responses.is_empty()).then(|| {
                let mut body = vec![b'['];
                for (index, response) in responses.iter().enumerate() {
                    if index > 0 {
                        body.push(b',');
                    }
                    write(&mut body, response);
                }
                body.push(b']');
                body
            })
        }
        message => call(service, context, message)
            .await
            .map(|response| encode(&response)),
    };
    (ok, body)
}

fn encode(response: &ResponseObject) -> Vec<u8> {
    let mut body = Vec::new();
    write(&mut body, response);
    body
}

/// Writes a response as its derived `Serialize` would, with the result's JSON put in as it is.
fn write(body: &mut Vec<u8>, response: &ResponseObject) {
    const SERIALIZES: &str = "JSON-RPC responses always serialize";
    match (&response.result, &response.error) {
        (None, Some(error)) => {
            body.extend_from_slice(br#"{"jsonrpc":"2.0","error":"#);
            serde_json::to_writer(&mut *body, error).expect(SERIALIZES);
        }
        // `success` always sets a result; with neither, it is `null`.
        (result, _) => {
            body.extend_from_slice(RESULT_PREFIX);
            body.extend_from_slice(result.as_ref().map_or("null", JsonText::get).as_bytes());
        }
    }
    body.extend_from_slice(br#","id":"#);
    serde_json::to_writer(&mut *body, &response.id).expect(SERIALIZES);
    body.push(b'}');
}

/// Runs one request; `None` for a notification (no `id`), which gets no response.
async fn call<S: Service>(
    service: &S,
    context: &Context,
    message: Value,
) -> Option<ResponseObject> {
    let Value::Object(object) = message else {
        let error = ErrorObject::new(
            INVALID_REQUEST,
            format!(
                "invalid request: expected an object, got {}",
                json_type(&message)
            ),
        );
        return Some(ResponseObject::failure(Value::Null, error));
    };
    // Taken apart in one pass: `remove` by key would compile the map's search and rebalancing
    // for this one use (worker size).
    let (mut id, mut version, mut method, mut params) = (None, None, None, None);
    for (key, value) in object {
        match key.as_str() {
            "id" => id = Some(value),
            "jsonrpc" => version = Some(value),
            "method" => method = Some(value),
            "params" => params = Some(value),
            _ => {}
        }
    }
    let is_notification = id.is_none();
    let id = id.unwrap_or(Value::Null);
    if !matches!(id, Value::Null | Value::String(_) | Value::Number(_)) {
        let error = ErrorObject::new(
            INVALID_REQUEST,
            "invalid request: `id` must be a string, a number or null",
        );
        return Some(ResponseObject::failure(Value::Null, error));
    }
    if version.as_ref().and_then(Value::as_str) != Some(crate::jsonrpc::VERSION) {
        let error = ErrorObject::new(
            INVALID_REQUEST,
            "invalid request: `jsonrpc` must be \"2.0\"",
        );
        return Some(ResponseObject::failure(id, error));
    }
    let Some(Value::String(method_name)) = method else {
        let error = ErrorObject::new(
            INVALID_REQUEST,
            "invalid request: `method` must be a string",
        );
        return Some(ResponseObject::failure(id, error));
    };

    let result = invoke(service, context, &method_name, params).await;
    if is_notification {
        if let Err(error) = &result {
            crate::log::emit(
                "warn",
                "JSON-RPC notification failed",
                json!({"request_id": context.request_id(), "method": method_name, "error": error.message})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
        }
        return None;
    }
    Some(match result {
        Ok(result) => ResponseObject::success(id, result),
        Err(error) => ResponseObject::failure(id, error),
    })
}

async fn invoke<S: Service>(
    service: &S,
    context: &Context,
    method_name: &str,
    params: Option<Value>,
) -> Result<JsonText, ErrorObject> {
    let description = S::description();
    let Some(rpc) = description.rpc.iter().find(|rpc| rpc.name == method_name) else {
        return Err(ErrorObject::new(
            METHOD_NOT_FOUND,
            format!("method not found: `{method_name}`"),
        ));
    };
    let method = &description.methods[rpc.method];
    rpc.access
        .check(true, context)
        .map_err(|error| error_object(&error, context))?;
    let mut args = Args::new(method.params);
    args.push_params(params)
        .map_err(|error| error_object(&error, context))?;
    (method.invoke)(service, context, args)
        .await
        .and_then(|reply| reply.into_json_text())
        .map_err(|error| error_object(&error, context))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written envelope is what the derived `Serialize` writes for the same response.
    #[test]
    fn responses_are_written_as_serde_writes_them() {
        let result = r#"{"items":[1,2.5,"é"],"next":null}"#;
        let error = || ErrorObject::new(INVALID_REQUEST, "invalid request: \"quoted\"");
        let cases = [
            (
                ResponseObject::success(json!(7), JsonText::parse(result).unwrap()),
                crate::jsonrpc::Response::success(json!(7), serde_json::from_str(result).unwrap()),
            ),
            (
                ResponseObject::failure(json!("a-1"), error()),
                crate::jsonrpc::Response::<Value>::failure(json!("a-1"), error()),
            ),
            (
                ResponseObject::failure(Value::Null, error()),
                crate::jsonrpc::Response::<Value>::failure(Value::Null, error()),
            ),
        ];
        for (written, derived) in cases {
            assert_eq!(
                String::from_utf8(encode(&written)).unwrap(),
                String::from_utf8(derived.to_vec()).unwrap()
            );
        }
    }
}
