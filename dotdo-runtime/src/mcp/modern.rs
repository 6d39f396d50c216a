//! The 2026-07-28 revision: stateless requests that carry their own metadata, checked here
//! before the call is answered like any other.

use super::*;

/// Checks a modern request's envelope and mirrored headers: its era, `None` for a notification,
/// or the status and error to answer.
pub(super) fn validate(
    context: &Context,
    requested: String,
    message: &Value,
) -> Result<Option<Era>, (StatusCode, Value)> {
    let id = message.get("id").cloned();
    let reject = |status: StatusCode, code: i64, text: String, data: Option<Value>| {
        let error = ErrorObject {
            code,
            message: text,
            data,
        };
        let body = jsonrpc::Response::<Value>::failure(id.clone().unwrap_or(Value::Null), error);
        (status, body.to_value())
    };
    let Some(method) = message.get("method").and_then(Value::as_str) else {
        return Err(reject(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "`method` must be a string".into(),
            None,
        ));
    };
    if let Err(text) = mirrored(
        context,
        PROTOCOL_VERSION_HEADER,
        "MCP-Protocol-Version",
        &requested,
        false,
    ) {
        return Err(reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None));
    }
    let Some(version) = MODERN_VERSIONS.iter().find(|known| **known == requested) else {
        let data = json!({"supported": all_versions(), "requested": requested});
        return Err(reject(
            StatusCode::BAD_REQUEST,
            UNSUPPORTED_PROTOCOL_VERSION,
            "Unsupported protocol version".into(),
            Some(data),
        ));
    };
    if let Err(text) = mirrored(context, METHOD_HEADER, "Mcp-Method", method, false) {
        return Err(reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None));
    }
    let params = message.get("params").unwrap_or(&Value::Null);
    if !params["_meta"]
        .get(META_CLIENT_CAPABILITIES)
        .is_some_and(Value::is_object)
    {
        let text = format!("`params._meta` must carry `{META_CLIENT_CAPABILITIES}` (an object)");
        return Err(reject(StatusCode::BAD_REQUEST, INVALID_PARAMS, text, None));
    }
    // What the request acts on is mirrored too: a tool's or prompt's name, a resource's URI.
    let named = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(field) = named {
        let body_name = params
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Err(text) = mirrored(context, NAME_HEADER, "Mcp-Name", body_name, true) {
            return Err(reject(StatusCode::BAD_REQUEST, HEADER_MISMATCH, text, None));
        }
    }
    if id.is_none() {
        return Ok(None);
    }
    Ok(Some(Era::Modern(version)))
}

/// Checks that a header mirroring a body value was sent and equals it (`decode`: the header
/// may use the Base64 sentinel form); the error says which and how it differs.
fn mirrored(
    context: &Context,
    header: &str,
    label: &str,
    body_value: &str,
    decode: bool,
) -> Result<(), String> {
    let sent = context.header_bytes(header).map(|value| {
        let text = crate::wire::header_text(value);
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
