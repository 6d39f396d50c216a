//! MCP over Streamable HTTP at `POST /mcp`: stateless, JSON responses.
//!
//! Served: `initialize` (version negotiation), `ping`, `tools/list` (paginated) and `tools/call`;
//! notifications and client responses get 202. Tool failures and invalid arguments come back as
//! `isError` results whose text tells the model what to fix.

use http::StatusCode;
use http::header::{HOST, ORIGIN};
use serde_json::{Map, Value, json};

use crate::args::{Args, json_type};
use crate::describe::{Service, ToolDesc};
use crate::http::{Incoming, Response, empty_response, json_response, post_only, require_json_content_type};
use crate::{Context, Error, ErrorKind};

/// Protocol revisions served, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
/// The revision assumed when a request carries no `MCP-Protocol-Version` header.
pub const DEFAULT_VERSION: &str = "2025-03-26";
/// Tools per `tools/list` page.
pub const PAGE_SIZE: usize = 50;

const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";

/// The `tools/list` entry of one tool.
pub fn tool_json(tool: &ToolDesc) -> Value {
    let mut generator = crate::schema::generator();
    let mut entry = Map::new();
    entry.insert("name".into(), tool.name.into());
    if let Some(title) = tool.title {
        entry.insert("title".into(), title.into());
    }
    entry.insert("description".into(), tool.description.into());
    entry.insert("inputSchema".into(), (tool.input_schema)(&mut generator).to_value());
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

pub(crate) async fn handle_http<S: Service>(service: &S, context: &Context, request: Incoming) -> Response {
    if request.method != http::Method::POST {
        return post_only(&request.method, crate::http::MCP_PATH, context);
    }
    if !origin_allowed(context.headers()) {
        let error = Error::forbidden("this Origin may not use the MCP endpoint");
        return crate::http::error_response(&error, context);
    }
    if let Some(version) = context.headers().get(PROTOCOL_VERSION_HEADER) {
        let version = version.to_str().unwrap_or_default();
        if !SUPPORTED_VERSIONS.contains(&version) {
            let error = Error::bad_request(format!(
                "unsupported MCP-Protocol-Version `{version}`; supported: {}",
                SUPPORTED_VERSIONS.join(", ")
            ));
            return crate::http::error_response(&error, context);
        }
    }
    if let Err(error) = require_json_content_type(context.headers()) {
        return crate::http::error_response(&error, context);
    }
    let message: Value = match serde_json::from_slice(&request.body) {
        Ok(message) => message,
        Err(error) => {
            let body = error_message(Value::Null, crate::rpc::PARSE_ERROR, format!("parse error: {error}"));
            return json_response(StatusCode::BAD_REQUEST, body.to_string().into_bytes());
        }
    };
    let answer = match message {
        Value::Array(batch) => {
            let mut answers = Vec::new();
            for message in batch {
                answers.extend(handle_message(service, context, message).await);
            }
            (!answers.is_empty()).then_some(Value::Array(answers))
        }
        message => handle_message(service, context, message).await,
    };
    match answer {
        Some(answer) => json_response(StatusCode::OK, answer.to_string().into_bytes()),
        None => empty_response(StatusCode::ACCEPTED),
    }
}

/// Browsers send `Origin`; a page from another site must not drive local tools (DNS
/// rebinding). Allowed: no `Origin` (non-browser clients), localhost-class origins, and the
/// service's own host.
fn origin_allowed(headers: &http::HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|origin| origin.to_str().ok()) else {
        return true;
    };
    let Some(authority) = origin.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    let host = authority.rsplit_once(':').map_or(authority, |(host, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) { host } else { authority }
    });
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        return true;
    }
    headers.get(HOST).and_then(|own| own.to_str().ok()) == Some(authority)
}

/// Answers one message; `None` for notifications and client responses.
async fn handle_message<S: Service>(service: &S, context: &Context, message: Value) -> Option<Value> {
    let Value::Object(mut object) = message else {
        let text = format!("invalid request: expected an object, got {}", json_type(&message));
        return Some(error_message(Value::Null, crate::rpc::INVALID_REQUEST, text));
    };
    let Some(id) = object.remove("id") else {
        return None; // a notification
    };
    let Some(method) = object.remove("method") else {
        return None; // a response to a request we never make; acknowledged
    };
    let Value::String(method) = method else {
        return Some(error_message(id, crate::rpc::INVALID_REQUEST, "`method` must be a string".into()));
    };
    let params = object.remove("params").unwrap_or(Value::Null);
    Some(match request(service, context, &method, params).await {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, text)) => error_message(id, code, text),
    })
}

fn error_message(id: Value, code: i64, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

type RequestResult = Result<Value, (i64, String)>;

async fn request<S: Service>(service: &S, context: &Context, method: &str, params: Value) -> RequestResult {
    let description = S::description();
    match method {
        "initialize" => {
            let requested = params.get("protocolVersion").and_then(Value::as_str);
            let version = requested
                .filter(|requested| SUPPORTED_VERSIONS.contains(requested))
                .unwrap_or(SUPPORTED_VERSIONS[0]);
            let mut result = json!({
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": description.name, "version": description.version},
            });
            if !description.docs.is_empty() {
                result["instructions"] = description.docs.into();
            }
            Ok(result)
        }
        "ping" => Ok(json!({})),
        "tools/list" => {
            let tools = description.mcp_tools();
            let start = match params.get("cursor") {
                None | Some(Value::Null) => 0,
                Some(Value::String(cursor)) => cursor
                    .parse::<usize>()
                    .ok()
                    .filter(|start| *start < tools.len())
                    .ok_or((crate::rpc::INVALID_PARAMS, format!("invalid cursor `{cursor}`")))?,
                Some(_) => return Err((crate::rpc::INVALID_PARAMS, "`cursor` must be a string".into())),
            };
            let end = (start + PAGE_SIZE).min(tools.len());
            let mut result = json!({"tools": &tools[start..end]});
            if end < tools.len() {
                result["nextCursor"] = end.to_string().into();
            }
            Ok(result)
        }
        "tools/call" => call_tool(service, context, params).await,
        other => Err((crate::rpc::METHOD_NOT_FOUND, format!("method not found: `{other}`"))),
    }
}

async fn call_tool<S: Service>(service: &S, context: &Context, params: Value) -> RequestResult {
    let description = S::description();
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return Err((crate::rpc::INVALID_PARAMS, "`name` must be the tool's name".into()));
    };
    let Some(index) = description.tools.iter().position(|tool| tool.name == name) else {
        return Err((crate::rpc::INVALID_PARAMS, format!("unknown tool `{name}`")));
    };
    let tool = &description.tools[index];
    let method = &description.methods[tool.method];
    let mut args = Args::new(method.params);
    let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
    let outcome = match arguments {
        Value::Null => Ok(()),
        arguments => args.push_object(arguments, "`arguments`"),
    };
    let outcome = match outcome {
        Ok(()) => (method.invoke)(service, context, args).await,
        Err(error) => Err(error),
    };
    Ok(match outcome {
        Ok(reply) => {
            let text = reply.json().to_owned();
            let mut result = json!({"content": [{"type": "text", "text": text}], "isError": false});
            if description.mcp_tools()[index].get("outputSchema").is_some() {
                result["structuredContent"] = serde_json::from_str(reply.json()).unwrap_or(Value::Null);
            }
            result
        }
        Err(error) => {
            if error.kind() == ErrorKind::Internal {
                crate::log::error(context, "internal error in MCP tool", &error);
            }
            let text = match error.field() {
                Some(field) => format!("{} (field `{field}`): {}", error.kind(), error.public_message()),
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
            .map(|(name, value)| (http::HeaderName::from_static(name), http::HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn origins_from_localhost_or_the_own_host_are_allowed() {
        assert!(origin_allowed(&headers(&[])));
        assert!(origin_allowed(&headers(&[("origin", "http://localhost:6274")])));
        assert!(origin_allowed(&headers(&[("origin", "http://127.0.0.1")])));
        assert!(origin_allowed(&headers(&[("origin", "https://api.example.com"), ("host", "api.example.com")])));
    }

    #[test]
    fn other_origins_are_refused() {
        assert!(!origin_allowed(&headers(&[("origin", "https://evil.example")])));
        assert!(!origin_allowed(&headers(&[("origin", "https://evil.example"), ("host", "api.example.com")])));
        assert!(!origin_allowed(&headers(&[("origin", "null")])));
    }
}
