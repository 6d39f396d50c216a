//! Native Workers RPC: each `#[rpc]` method is also a method of the worker's entrypoint, which a
//! JavaScript worker calls over a service binding (`await env.ITEMS.get_item({ id: "42" })`).
//! A call is served as the same call to `/_rpc` would be, through the service's middleware, so
//! one set of credentials and access rules covers both; only the JavaScript conversions (in
//! `worker::glue::rpc`) differ.

use crate::describe::Service;
use crate::wire::{Body, Incoming, RPC_PATH};
use crate::{Context, Error, ErrorKind};

/// The second argument of a native call: who is calling, as the HTTP request would say it.
#[derive(Debug, Default)]
struct Options {
    /// An `Authorization` header value (`"Bearer sk_…"`).
    authorization: Option<String>,
    /// Further request headers, as the service's middleware reads them (a signed principal, a
    /// request id): an object of strings.
    headers: serde_json::Map<String, serde_json::Value>,
}

impl Options {
    /// The options from their JSON text, read by hand from the parsed value (a derived
    /// `Deserialize` compiled the byte parser's struct decoding for them alone, in every worker
    /// with `#[rpc]` methods); the error says what is wrong, to follow [`OPTIONS_ARE`].
    fn parse(text: &str) -> Result<Self, String> {
        use serde_json::Value;
        let members = match crate::json::parse(text) {
            Ok(Value::Object(members)) => members,
            Ok(other) => return Err(format!("got {}", crate::args::json_type(&other))),
            Err(error) => return Err(error.to_string()),
        };
        let mut options = Options::default();
        for (name, value) in members {
            // As the derived reader took them: `authorization` may be `null`, `headers` may not,
            // and any other member is refused whatever its value.
            match (name.as_str(), value) {
                ("authorization", Value::Null) => {}
                ("authorization", Value::String(authorization)) => {
                    options.authorization = Some(authorization)
                }
                ("headers", Value::Object(headers)) => options.headers = headers,
                ("authorization" | "headers", other) => {
                    return Err(format!("`{name}` is {}", crate::args::json_type(&other)));
                }
                _ => return Err(format!("unknown field `{name}`")),
            }
        }
        Ok(options)
    }
}

/// The id of a native call's `/_rpc` request, and how the endpoint's answer of a result to it
/// ends (after the result's JSON, as `rpc` writes it).
const CALL_ID: u32 = 1;
const RESULT_SUFFIX: &[u8] = br#","id":1}"#;

/// What the options must be, as a refusal says it.
const OPTIONS_ARE: &str =
    "the options are { authorization?: string, headers?: { [name]: string } }";

/// A native call as the `/_rpc` request that serves it: its headers as lower-case text pairs,
/// as a Fetch request's arrive (an `http::HeaderMap` would compile `http`'s parser of header
/// names, with its table of the standard ones, into every worker with `#[rpc]` methods).
#[derive(Debug)]
pub struct NativeCall {
    pub headers: Vec<[String; 2]>,
    pub body: Vec<u8>,
}

/// The request for a call of `method` with `params` (the JSON of its one argument, an object
/// of named arguments; `None` when the caller passed none) and `options` (the JSON of its
/// second, or `None`).
pub fn request(
    method: &str,
    params: Option<&str>,
    options: Option<&str>,
) -> Result<NativeCall, Error> {
    let params = params.unwrap_or("{}");
    let params = crate::json::JsonText::parse(params)
        .map_err(|error| Error::bad_request(format!("the arguments are not JSON: {error}")))?;
    if !params.get().trim_start().starts_with('{') {
        return Err(Error::bad_request(format!(
            "`{method}` takes one object of named arguments, such as {{ id: \"42\" }}"
        )));
    }
    let options: Options = match options {
        None | Some("null") => Options::default(),
        Some(text) => Options::parse(text)
            .map_err(|error| Error::bad_request(format!("{OPTIONS_ARE}: {error}")))?,
    };
    let mut headers = Vec::with_capacity(options.headers.len() + 2);
    for (name, value) in options.headers {
        if !is_header_name(&name) {
            return Err(Error::bad_request(format!("`{name}` is not a header name")));
        }
        let serde_json::Value::String(value) = value else {
            return Err(Error::bad_request(format!(
                "{OPTIONS_ARE}: the value of header `{name}` is not a string"
            )));
        };
        if !crate::context::is_header_value(&value) {
            return Err(Error::bad_request(format!(
                "the value of `{name}` is not a header value"
            )));
        }
        let name = name.to_ascii_lowercase();
        // Ours, below, stand in for any the caller gave.
        let replaced =
            name == "content-type" || (name == "authorization" && options.authorization.is_some());
        if !replaced {
            headers.push([name, value]);
        }
    }
    if let Some(authorization) = options.authorization {
        if !crate::context::is_header_value(&authorization) {
            return Err(Error::bad_request("`authorization` is not a header value"));
        }
        headers.push(["authorization".to_owned(), authorization]);
    }
    headers.push(["content-type".to_owned(), "application/json".to_owned()]);
    // The arguments go on as the caller's JSON, not parsed into values and written again.
    let method = serde_json::to_string(method)
        .map_err(|error| Error::internal(format!("encoding the call: {error}")))?;
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{CALL_ID},"method":{method},"params":{}}}"#,
        params.get()
    );
    Ok(NativeCall {
        headers,
        body: body.into_bytes(),
    })
}

/// Whether `name` is an HTTP header name (RFC 9110 §5.1: a token), as `http::HeaderName` takes
/// one, in either case.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

/// Serves `body` (from [`request`]) as `/_rpc` would, through the service's middleware, with
/// the service shared with the call as on every entry, and gives the result's JSON as the
/// method answered it (`null` for none).
pub async fn call<S: Service>(
    service: std::rc::Rc<S>,
    mut context: Context,
    method: &str,
    body: Vec<u8>,
) -> Result<String, Error> {
    context.share_service(service.clone());
    let stack = service.middleware();
    if let Some(limit) = stack.body_limit()
        && body.len() > limit
    {
        return Err(Error::new(
            ErrorKind::PayloadTooLarge,
            format!("the arguments are over the limit of {limit} bytes"),
        ));
    }
    let incoming = Incoming {
        method: http::Method::POST,
        uri: http::Uri::from_static(RPC_PATH),
        body,
    };
    let response = crate::dispatch::serve_through(&*service, &stack, context, incoming).await;
    let Body::Bytes(answer) = response.into_body() else {
        return Err(Error::internal("`/_rpc` answered with a stream"));
    };
    // The endpoint writes a result as the method's JSON between `RESULT_PREFIX` and the id:
    // passed on as it is, once checked to be one JSON value (a middleware may have answered
    // anything). Errors and anything else are decoded.
    let written = answer
        .strip_prefix(crate::rpc::RESULT_PREFIX)
        .and_then(|rest| rest.strip_suffix(RESULT_SUFFIX))
        .and_then(|result| std::str::from_utf8(result).ok())
        .and_then(|result| crate::json::JsonText::parse(result).ok());
    if let Some(result) = written {
        return Ok(result.into_string());
    }
    let result = crate::client::answer_result(method, &answer)?;
    Ok(result.map_or_else(|| "null".to_owned(), |value| crate::json::to_text(&value)))
}

/// The message of the JavaScript `Error` a failed call throws. Workers RPC carries an error's
/// message and type across, not its own properties, so the message says it all, in a form a
/// caller can match: `not_found: no item 42`, or `invalid_field (field `name`): must not be
/// empty` ([`Error::public_summary`]).
pub fn error_message(error: &Error) -> String {
    error.public_summary()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_call_becomes_the_json_rpc_request_with_the_callers_headers() {
        let call = request(
            "get_item",
            Some(r#"{"id":"42"}"#),
            Some(r#"{"authorization":"Bearer sk_1","headers":{"x-request-id":"abc"}}"#),
        )
        .unwrap();
        let body: Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "get_item", "params": {"id": "42"}})
        );
        assert_eq!(
            call.headers,
            [
                ["x-request-id", "abc"],
                ["authorization", "Bearer sk_1"],
                ["content-type", "application/json"],
            ]
            .map(|pair| pair.map(str::to_owned))
        );
    }

    #[test]
    fn no_arguments_are_an_empty_object_and_no_options_no_credentials() {
        let call = request("ping", None, None).unwrap();
        let body: Value = serde_json::from_slice(&call.body).unwrap();
        assert_eq!(body["params"], serde_json::json!({}));
        assert!(call.headers.iter().all(|[name, _]| name != "authorization"));
    }

    #[test]
    fn the_callers_names_are_lower_case_and_its_own_credentials_and_type_give_way() {
        let call = request(
            "get_item",
            None,
            Some(r#"{"authorization":"Bearer sk_1","headers":{"Authorization":"Bearer other","Content-Type":"text/plain","X-Tenant":"t1"}}"#),
        )
        .unwrap();
        assert_eq!(
            call.headers,
            [
                ["x-tenant", "t1"],
                ["authorization", "Bearer sk_1"],
                ["content-type", "application/json"],
            ]
            .map(|pair| pair.map(str::to_owned))
        );
        let kept = request(
            "get_item",
            None,
            Some(r#"{"headers":{"Authorization":"Bearer sk_2"}}"#),
        )
        .unwrap();
        assert_eq!(
            kept.headers[0],
            ["authorization", "Bearer sk_2"].map(str::to_owned)
        );
    }

    #[test]
    fn header_names_are_tokens_as_http_takes_them() {
        for name in ["x-a", "X-A", "a!#$%&'*+-.^_`|~9", "content-type"] {
            assert!(is_header_name(name), "{name}");
            assert!(
                http::HeaderName::from_bytes(name.as_bytes()).is_ok(),
                "{name}"
            );
        }
        for name in ["", "a b", "a:b", "a\"b", "a(b)", "é", "a\tb", "a/b", "a@b"] {
            assert!(!is_header_name(name), "{name:?}");
            assert!(
                http::HeaderName::from_bytes(name.as_bytes()).is_err(),
                "{name:?}"
            );
        }
    }

    #[test]
    fn the_answer_to_a_call_ends_with_its_id() {
        let call = request("get_item", Some(r#"{"id":"42"}"#), None).unwrap();
        let body: Value = serde_json::from_slice(&call.body).unwrap();
        let suffix = format!(r#","id":{}}}"#, crate::json::to_text(&body["id"]));
        assert_eq!(suffix.as_bytes(), RESULT_SUFFIX);
    }

    #[test]
    fn bad_arguments_and_options_say_what_is_wrong() {
        let positional = request("get_item", Some(r#"["42"]"#), None).unwrap_err();
        assert_eq!(positional.kind(), ErrorKind::BadRequest);
        assert!(
            positional
                .message()
                .contains("one object of named arguments"),
            "{positional}"
        );
        let unknown = request("get_item", None, Some(r#"{"token":"x"}"#)).unwrap_err();
        assert!(
            unknown.message().contains("unknown field `token`"),
            "{unknown}"
        );
        let bad_name = request("get_item", None, Some(r#"{"headers":{"a b":"x"}}"#)).unwrap_err();
        assert!(
            bad_name.message().contains("`a b` is not a header name"),
            "{bad_name}"
        );
        let not_text = request("get_item", None, Some(r#"{"headers":{"x-a":1}}"#)).unwrap_err();
        assert!(
            not_text.message().ends_with(
                "headers?: { [name]: string } }: the value of header `x-a` is not a string"
            ),
            "{not_text}"
        );
        for (options, says) in [
            (r#"["x"]"#, "got an array"),
            (r#"{"authorization":7}"#, "`authorization` is a number"),
            (r#"{"headers":"x-a: 1"}"#, "`headers` is a string"),
            ("{", "EOF while parsing"),
        ] {
            let refused = request("get_item", None, Some(options)).unwrap_err();
            assert_eq!(refused.kind(), ErrorKind::BadRequest);
            assert!(
                refused.message().starts_with(OPTIONS_ARE) && refused.message().contains(says),
                "{options}: {refused}"
            );
        }
        assert!(request("get_item", None, Some(r#"{"authorization":null}"#)).is_ok());
        for (options, says) in [
            (r#"{"headers":null}"#, "`headers` is null"),
            (r#"{"token":null}"#, "unknown field `token`"),
        ] {
            let refused = request("get_item", None, Some(options)).unwrap_err();
            assert!(refused.message().contains(says), "{options}: {refused}");
        }
        let bad_value = request("get_item", None, Some(r#"{"authorization":"a\nb"}"#)).unwrap_err();
        assert!(
            bad_value.message().contains("`authorization`"),
            "{bad_value}"
        );
    }

    #[test]
    fn the_error_message_carries_kind_field_and_the_public_message() {
        assert_eq!(
            error_message(&Error::not_found("no item `7`")),
            "not_found: no item `7`"
        );
        assert_eq!(
            error_message(&Error::invalid_field("name", "must not be empty")),
            "invalid_field (field `name`): must not be empty"
        );
        // An internal error's detail stays in the log.
        let internal = error_message(&Error::internal("db password wrong"));
        assert!(internal.starts_with("internal: "), "{internal}");
        assert!(!internal.contains("password"), "{internal}");
    }
}
