//! The 2026-07-28 revision: stateless requests that carry their own metadata.

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
        let body = jsonrpc::Response::<Value>::failure(id.clone().unwrap_or(Value::Null), error);
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
        let text = format!("`params._meta` must carry `{META_CLIENT_CAPABILITIES}` (an object)");
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
