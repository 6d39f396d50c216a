//! MCP over Streamable HTTP at `POST /mcp`, stateless, for both eras of the protocol:
//!
//! - **legacy** (2025-03-26, 2025-06-18, 2025-11-25): `initialize` negotiates the version, then
//!   `ping`, `tools/list` (paginated) and `tools/call`; notifications and client responses get
//!   202; batches only where 2025-03-26 allows them;
//! - **modern** (2026-07-28): every request carries its version in `params._meta` and mirrors
//!   it in headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), which are checked against
//!   the body; `server/discover` replaces the handshake; results say `resultType: "complete"` and
//!   lists carry `ttlMs` and `cacheScope`.
//!
//! Tool failures and invalid arguments come back as `isError` results whose text tells the
//! model what to fix. Answers are JSON whenever the client accepts JSON, else one SSE event.

use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::args::json_type;
use crate::describe::Service;
use crate::jsonrpc::{
    self, ErrorObject, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};
use crate::wire::{
    Incoming, MCP_PATH, Response, accepts_only, empty_response, error_response,
    require_json_content_type,
};
use crate::{Context, Error, ErrorKind};

mod guard;
mod modern;
mod tools;
mod transport;

pub use guard::{AllowedHosts, AllowedOrigins};
pub use tools::tool_json;
use tools::{call_tool, list_tools};
use transport::{answer, negotiate};

/// Legacy protocol revisions served, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
/// Modern (per-request metadata) revisions served.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
/// The revision assumed when a legacy request carries no `MCP-Protocol-Version` header.
pub const DEFAULT_VERSION: &str = "2025-03-26";
/// Tools per `tools/list` page.
pub const PAGE_SIZE: usize = 50;
/// How long a modern client may cache `tools/list` and `server/discover`: the tools change only
/// with a deploy.
pub const LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// The headers mirrored from the body do not match it, or are missing (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// The requested protocol version is not served (2026-07-28).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

fn error_message(id: Value, code: i64, message: String) -> Value {
    jsonrpc::Response::<Value>::failure(id, ErrorObject::new(code, message)).to_value()
}

pub(crate) async fn handle_http<S: Service>(
    service: &S,
    context: &Context,
    request: Incoming,
) -> Response {
    if request.method != http::Method::POST {
        return accepts_only("POST", &request.method, MCP_PATH, context);
    }
    let headers = context.headers();
    if let Some(refusal) = guard::refusal(headers, context) {
        return error_response(&Error::forbidden(refusal), context);
    }
    let Some(format) = negotiate(headers) else {
        let error = Error::new(
            ErrorKind::NotAcceptable,
            "the MCP endpoint answers application/json or text/event-stream",
        );
        return error_response(&error, context);
    };
    if let Err(error) = require_json_content_type(headers) {
        return error_response(&error, context);
    }
    let message: Value = match serde_json::from_slice(&request.body) {
        Ok(message) => message,
        Err(error) => {
            let body = error_message(Value::Null, PARSE_ERROR, format!("parse error: {error}"));
            return answer(StatusCode::BAD_REQUEST, &body, format);
        }
    };
    if let Some(requested) = modern_version(&message) {
        let (status, body) = modern::handle(service, context, headers, requested, message).await;
        return match body {
            Some(body) => answer(status, &body, format),
            None => empty_response(status),
        };
    }

    let version = match headers
        .get(PROTOCOL_VERSION_HEADER)
        .map(|value| value.to_str().unwrap_or_default())
    {
        None => DEFAULT_VERSION,
        Some(version) if SUPPORTED_VERSIONS.contains(&version) => version,
        Some(version) if MODERN_VERSIONS.contains(&version) => {
            let text =
                format!("a {version} request carries `{META_PROTOCOL_VERSION}` in `params._meta`");
            return answer(
                StatusCode::BAD_REQUEST,
                &error_message(Value::Null, HEADER_MISMATCH, text),
                format,
            );
        }
        Some(version) => {
            let text = format!(
                "unsupported MCP-Protocol-Version `{version}`; supported: {}",
                all_versions().join(", ")
            );
            return answer(
                StatusCode::BAD_REQUEST,
                &error_message(Value::Null, INVALID_REQUEST, text),
                format,
            );
        }
    };
    if let Some((code, text)) = message
        .as_array()
        .and_then(|batch| crate::jsonrpc::batch_too_large(batch.len()))
    {
        return answer(
            StatusCode::BAD_REQUEST,
            &error_message(Value::Null, code, text),
            format,
        );
    }
    let reply = match message {
        Value::Array(_) if version != DEFAULT_VERSION => {
            let text = format!(
                "JSON-RPC batches are not part of MCP {version} (only 2025-03-26 had them)"
            );
            return answer(
                StatusCode::BAD_REQUEST,
                &error_message(Value::Null, INVALID_REQUEST, text),
                format,
            );
        }
        Value::Array(batch) => {
            let mut replies = Vec::new();
            for message in batch {
                replies.extend(legacy_message(service, context, message).await);
            }
            (!replies.is_empty()).then_some(Value::Array(replies))
        }
        message => legacy_message(service, context, message).await,
    };
    match reply {
        Some(reply) => answer(StatusCode::OK, &reply, format),
        None => empty_response(StatusCode::ACCEPTED),
    }
}

/// Every version served, modern first.
fn all_versions() -> Vec<&'static str> {
    MODERN_VERSIONS
        .iter()
        .chain(SUPPORTED_VERSIONS)
        .copied()
        .collect()
}

/// The protocol version a modern request declares in `params._meta`, if it is one.
fn modern_version(message: &Value) -> Option<String> {
    let version = message
        .get("params")?
        .get("_meta")?
        .get(META_PROTOCOL_VERSION)?;
    Some(
        version
            .as_str()
            .map_or_else(|| version.to_string(), str::to_owned),
    )
}

/// Answers one legacy message; `None` for notifications and client responses.
async fn legacy_message<S: Service>(
    service: &S,
    context: &Context,
    message: Value,
) -> Option<Value> {
    let Value::Object(mut object) = message else {
        let text = format!(
            "invalid request: expected an object, got {}",
            json_type(&message)
        );
        return Some(error_message(Value::Null, INVALID_REQUEST, text));
    };
    let id = object.remove("id")?; // a notification
    let method = object.remove("method")?; // a response to a request we never make
    let Value::String(method) = method else {
        return Some(error_message(
            id,
            INVALID_REQUEST,
            "`method` must be a string".into(),
        ));
    };
    let params = object.remove("params").unwrap_or(Value::Null);
    let description = S::description();
    let result = match method.as_str() {
        "initialize" => {
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            let version = requested
                .filter(|requested| SUPPORTED_VERSIONS.contains(requested))
                .unwrap_or(SUPPORTED_VERSIONS[0]);
            let mut result = json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": server_info(description),
            });
            if !description.docs.is_empty() {
                result["instructions"] = description.docs.into();
            }
            Ok(result)
        }
        "ping" => Ok(json!({})),
        "tools/list" => list_tools(description, &params),
        "tools/call" => call_tool(service, context, params).await,
        other => Err((METHOD_NOT_FOUND, format!("method not found: `{other}`"))),
    };
    Some(match result {
        Ok(result) => jsonrpc::Response::success(id, result).to_value(),
        Err((code, text)) => error_message(id, code, text),
    })
}

fn server_info<S>(description: &crate::ServiceDescription<S>) -> Value {
    json!({"name": description.name, "title": description.title, "version": description.version})
}

/// A method's result, or the JSON-RPC error code and message to answer instead.
type RequestResult = Result<Value, (i64, String)>;
