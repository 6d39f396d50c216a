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
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use crate::args::{Args, json_type};
use crate::describe::{Service, ToolDesc};
use crate::http::{Incoming, Response, empty_response, post_only, require_json_content_type};
use crate::jsonrpc::{
    self, ErrorObject, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};
use crate::{Context, Error, ErrorKind};

mod guard;

pub use guard::{AllowedHosts, AllowedOrigins};

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

/// The `tools/list` entry of one tool.
pub fn tool_json(tool: &ToolDesc) -> Value {
    let mut generator = crate::schema::generator();
    let mut entry = Map::new();
    entry.insert("name".into(), tool.name.into());
    if let Some(title) = tool.title {
        entry.insert("title".into(), title.into());
    }
    entry.insert("description".into(), tool.description.into());
    entry.insert(
        "inputSchema".into(),
        (tool.input_schema)(&mut generator).to_value(),
    );
    let output = (tool.output_schema)(&mut generator).to_value();
    if output.is_object() {
        entry.insert("outputSchema".into(), output);
    }
    let hints = [
        ("readOnlyHint", tool.annotations.read_only),
        ("destructiveHint", tool.annotations.destructive),
        ("idempotentHint", tool.annotations.idempotent),
        ("openWorldHint", tool.annotations.open_world),
    ];
    let annotations: Map<String, Value> = hints
        .into_iter()
        .filter_map(|(name, hint)| hint.map(|hint| (name.to_owned(), Value::Bool(hint))))
        .collect();
    if !annotations.is_empty() {
        entry.insert("annotations".into(), Value::Object(annotations));
    }
    Value::Object(entry)
}

/// How the answer is written: what the client's `Accept` allows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    EventStream,
}

/// JSON whenever JSON is acceptable (including no `Accept`, `*/*`, `application/*`), else SSE
/// when that is; `None` when neither is.
fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let accepted: Vec<String> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter(|range| !range.contains("q=0") || range.contains("q=0."))
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    let accepts = |media: &str| {
        accepted.iter().any(|range| {
            range == media
                || range == "*/*"
                || range == &format!("{}/*", media.split('/').next().unwrap_or_default())
        })
    };
    if accepted.is_empty() || accepts("application/json") {
        Some(Format::Json)
    } else if accepts("text/event-stream") {
        Some(Format::EventStream)
    } else {
        None
    }
}

fn answer(status: StatusCode, message: &Value, format: Format) -> Response {
    let (body, content_type) = match format {
        Format::Json => (message.to_string(), "application/json"),
        Format::EventStream => (
            format!("event: message\ndata: {message}\n\n"),
            "text/event-stream",
        ),
    };
    let mut response = Response::new(body.into_bytes());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn error_message(id: Value, code: i64, message: String) -> Value {
    jsonrpc::Response::<Value>::failure(id, ErrorObject::new(code, message)).to_value()
}

pub(crate) async fn handle_http<S: Service>(
    service: &S,
    context: &Context,
    request: Incoming,
) -> Response {
    if request.method != http::Method::POST {
        return post_only(&request.method, crate::http::MCP_PATH, context);
    }
    let headers = context.headers();
    if let Some(refusal) = guard::refusal(headers, context) {
        return crate::http::error_response(&Error::forbidden(refusal), context);
    }
    let Some(format) = negotiate(headers) else {
        let error = Error::new(
            ErrorKind::NotAcceptable,
            "the MCP endpoint answers application/json or text/event-stream",
        );
        return crate::http::error_response(&error, context);
    };
    if let Err(error) = require_json_content_type(headers) {
        return crate::http::error_response(&error, context);
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
        .and_then(|batch| crate::rpc::batch_too_large(batch.len()))
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

type RequestResult = Result<Value, (i64, String)>;

fn list_tools<S>(description: &crate::ServiceDescription<S>, params: &Value) -> RequestResult {
    let tools = description.mcp_tools();
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .parse::<usize>()
            .ok()
            .filter(|start| *start < tools.len())
            .ok_or((INVALID_PARAMS, format!("invalid cursor `{cursor}`")))?,
        Some(_) => return Err((INVALID_PARAMS, "`cursor` must be a string".into())),
    };
    let end = (start + PAGE_SIZE).min(tools.len());
    let mut result = json!({"tools": &tools[start..end]});
    if end < tools.len() {
        result["nextCursor"] = end.to_string().into();
    }
    Ok(result)
}

/// The 2026-07-28 revision: stateless requests that carry their own metadata.
mod modern {
    use super::*;

    pub(super) async fn handle<S: Service>(
        service: &S,
        context: &Context,
        headers: &HeaderMap,
        requested: String,
        message: Value,
    ) -> (StatusCode, Option<Value>) {
        let id = message.get("id").cloned();
        let reject = |status: StatusCode, code: i64, text: String, data: Option<Value>| {
            let error = ErrorObject {
                code,
                message: text,
                data,
            };
            let body =
                jsonrpc::Response::<Value>::failure(id.clone().unwrap_or(Value::Null), error);
            (status, Some(body.to_value()))
        };
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return reject(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "`method` must be a string".into(),
                None,
            );
        };
        if let Err(text) = mirrored(
            headers,
            PROTOCOL_VERSION_HEADER,
            "MCP-Protocol-Version",
            &requested,
            false,
        ) {
            return reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None);
        }
        if !MODERN_VERSIONS.contains(&requested.as_str()) {
            let data = json!({"supported": all_versions(), "requested": requested});
            return reject(
                StatusCode::BAD_REQUEST,
                UNSUPPORTED_PROTOCOL_VERSION,
                "Unsupported protocol version".into(),
                Some(data),
            );
        }
        if let Err(text) = mirrored(headers, METHOD_HEADER, "Mcp-Method", method, false) {
            return reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None);
        }
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        if !params["_meta"]
            .get(META_CLIENT_CAPABILITIES)
            .is_some_and(Value::is_object)
        {
            let text =
                format!("`params._meta` must carry `{META_CLIENT_CAPABILITIES}` (an object)");
            return reject(StatusCode::BAD_REQUEST, INVALID_PARAMS, text, None);
        }
        if method == "tools/call" {
            let body_name = params
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Err(text) = mirrored(headers, NAME_HEADER, "Mcp-Name", body_name, true) {
                return reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None);
            }
        }
        let Some(id) = id.clone() else {
            return (StatusCode::ACCEPTED, None); // a notification
        };

        let description = S::description();
        let (result, cacheable) = match method {
            "server/discover" => {
                let mut result =
                    json!({"supportedVersions": all_versions(), "capabilities": {"tools": {}}});
                if !description.docs.is_empty() {
                    result["instructions"] = description.docs.into();
                }
                (Ok(result), true)
            }
            "tools/list" => (list_tools(description, &params), true),
            "tools/call" => (call_tool(service, context, params).await, false),
            other => {
                return reject(
                    StatusCode::NOT_FOUND,
                    METHOD_NOT_FOUND,
                    format!("method not found: `{other}`"),
                    None,
                );
            }
        };
        match result {
            Ok(mut result) => {
                result["resultType"] = "complete".into();
                if cacheable {
                    result["ttlMs"] = LIST_TTL_MS.into();
                    // The same for every caller: nothing here depends on who asks.
                    result["cacheScope"] = "public".into();
                }
                result["_meta"] = json!({META_SERVER_INFO: server_info(description)});
                (
                    StatusCode::OK,
                    Some(jsonrpc::Response::success(id, result).to_value()),
                )
            }
            Err((code, text)) => reject(StatusCode::OK, code, text, None),
        }
    }

    /// Checks that a header mirroring a body value was sent and equals it (`decode`: the header
    /// may use the Base64 sentinel form); the error says which and how it differs.
    fn mirrored(
        headers: &HeaderMap,
        header: &str,
        label: &str,
        body_value: &str,
        decode: bool,
    ) -> Result<(), String> {
        let sent = headers.get(header).map(|value| {
            let text = value.to_str().ok();
            if decode {
                text.and_then(decode_header_value)
            } else {
                text.map(str::to_owned)
            }
        });
        match sent {
            Some(Some(sent)) if sent == body_value => Ok(()),
            Some(Some(sent)) => Err(format!(
                "header mismatch: {label} `{sent}` differs from the body's `{body_value}`"
            )),
            Some(None) => Err(format!(
                "header mismatch: {label} is not a valid header value"
            )),
            None => Err(format!(
                "header mismatch: {label} must be sent, equal to `{body_value}`"
            )),
        }
    }

    /// A header value as sent, or the Base64 sentinel form `=?base64?…?=` decoded.
    fn decode_header_value(value: &str) -> Option<String> {
        match value
            .strip_prefix("=?base64?")
            .and_then(|rest| rest.strip_suffix("?="))
        {
            None => Some(value.to_owned()),
            Some(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok()),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::decode_header_value;

        #[test]
        fn sentinel_values_are_base64_decoded() {
            assert_eq!(decode_header_value("get_item").as_deref(), Some("get_item"));
            assert_eq!(
                decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").as_deref(),
                Some("Hello, 世界")
            );
            assert_eq!(decode_header_value("=?base64?not*base64?="), None);
        }
    }
}

async fn call_tool<S: Service>(service: &S, context: &Context, params: Value) -> RequestResult {
    let description = S::description();
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err((INVALID_PARAMS, "`name` must be the tool's name".into()));
    };
    let Some(index) = description.tools.iter().position(|tool| tool.name == name) else {
        return Err((INVALID_PARAMS, format!("unknown tool `{name}`")));
    };
    let tool = &description.tools[index];
    let method = &description.methods[tool.method];
    let mut args = Args::new(method.params);
    let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
    let outcome = tool
        .access
        .check(false, context)
        .and_then(|()| match arguments {
            Value::Null => Ok(()),
            arguments => args.push_object(arguments, "`arguments`"),
        });
    let outcome = match outcome {
        Ok(()) => (method.invoke)(service, context, args).await,
        Err(error) => Err(error),
    };
    Ok(match outcome {
        Ok(reply) => {
            let text = reply.json().to_owned();
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if description.mcp_tools()[index].get("outputSchema").is_some() {
                result["structuredContent"] =
                    serde_json::from_str(reply.json()).unwrap_or(Value::Null);
            }
            result
        }
        Err(error) => {
            if error.kind() == ErrorKind::Internal {
                crate::log::error(context, "internal error in MCP tool", &error);
            }
            let text = match error.field() {
                Some(field) => format!(
                    "{} (field `{field}`): {}",
                    error.kind(),
                    error.public_message()
                ),
                None => format!("{}: {}", error.kind(), error.public_message()),
            };
            json!({"content": [{"type": "text", "text": text}], "isError": true})
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    http::HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn json_is_chosen_whenever_it_is_acceptable() {
        assert!(negotiate(&headers(&[])) == Some(Format::Json));
        assert!(
            negotiate(&headers(&[(
                "accept",
                "application/json, text/event-stream"
            )])) == Some(Format::Json)
        );
        assert!(negotiate(&headers(&[("accept", "*/*")])) == Some(Format::Json));
        assert!(
            negotiate(&headers(&[("accept", "text/event-stream")])) == Some(Format::EventStream)
        );
        assert!(negotiate(&headers(&[("accept", "text/html")])).is_none());
    }
}
