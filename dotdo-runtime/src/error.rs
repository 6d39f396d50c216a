//! The one error type of dotdo services, and the single place where an error kind is mapped to
//! every interface: an HTTP status, a JSON-RPC code, an MCP tool result and a queue decision.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, independent of the interface the call arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request is malformed (bad JSON, an unparsable path segment, …).
    BadRequest,
    /// No valid credentials.
    Unauthorized,
    /// Valid credentials without the right to do this.
    Forbidden,
    /// The thing asked for does not exist (or the path is unknown).
    NotFound,
    /// The path exists but not with this HTTP method.
    MethodNotAllowed,
    /// No representation the client accepts (`Accept`).
    NotAcceptable,
    /// The request conflicts with the current state (duplicate, stale version, …).
    Conflict,
    /// The body is larger than allowed.
    PayloadTooLarge,
    /// The body is not JSON.
    UnsupportedMediaType,
    /// A field or argument is missing or has an invalid value; [`Error::field`] names it.
    InvalidField,
    /// Too many requests; [`Error::retry_after`] says when to come back.
    RateLimited,
    /// A service this one depends on failed.
    Upstream,
    /// The service cannot serve right now.
    Unavailable,
    /// A bug or an unexpected failure. Its message is never shown to callers.
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::BadRequest,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::MethodNotAllowed,
        ErrorKind::NotAcceptable,
        ErrorKind::Conflict,
        ErrorKind::PayloadTooLarge,
        ErrorKind::UnsupportedMediaType,
        ErrorKind::InvalidField,
        ErrorKind::RateLimited,
        ErrorKind::Upstream,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The HTTP status this kind answers with.
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::NotAcceptable => 406,
            ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::InvalidField => 422,
            ErrorKind::RateLimited => 429,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// The JSON-RPC 2.0 error code. Argument problems use the standard "invalid params" code;
    /// application errors use the server range (-32000 to -32099), one code per kind.
    pub const fn jsonrpc_code(self) -> i64 {
        match self {
            ErrorKind::BadRequest | ErrorKind::InvalidField => -32602,
            ErrorKind::Internal => -32603,
            ErrorKind::Unauthorized => -32001,
            ErrorKind::Upstream => -32002,
            ErrorKind::Forbidden => -32003,
            ErrorKind::NotFound => -32004,
            ErrorKind::MethodNotAllowed => -32005,
            ErrorKind::NotAcceptable => -32016,
            ErrorKind::Unavailable => -32006,
            ErrorKind::Conflict => -32009,
            ErrorKind::PayloadTooLarge => -32013,
            ErrorKind::UnsupportedMediaType => -32015,
            ErrorKind::RateLimited => -32029,
        }
    }

    /// Whether a queue message failing with this kind may succeed when tried again.
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::Upstream
                | ErrorKind::Unavailable
                | ErrorKind::Internal
        )
    }

    /// The snake_case name used on every wire (`"not_found"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "bad_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::MethodNotAllowed => "method_not_allowed",
            ErrorKind::NotAcceptable => "not_acceptable",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }

    /// The HTTP reason phrase, used as the problem `title`.
    pub fn title(self) -> &'static str {
        http::StatusCode::from_u16(self.http_status())
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Error")
    }

    fn from_str(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a queue consumer does with a message whose handler returned this error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueDecision {
    /// Try again later; the message may succeed then.
    Retry,
    /// The message can never succeed: send it to the dead-letter path.
    GiveUp,
}

/// The error every dotdo method returns.
///
/// Build one with the constructor named after its kind (`Error::not_found("item 7")`), add the
/// offending field with [`Error::with_field`], and override the queue decision with
/// [`Error::retryable`] / [`Error::permanent`]. The message of an [`ErrorKind::Internal`] error is
/// logged but never sent to a caller.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    field: Option<String>,
    retry_after: Option<u32>,
    retryable: Option<bool>,
}

impl Error {
    /// An error of `kind` with a message for the caller.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error {
            kind,
            message: message.into(),
            field: None,
            retry_after: None,
            retryable: None,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    /// The field at `field` (a dotted path such as `item.price`) is missing or invalid.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidField, message).with_field(field)
    }
    /// Too many requests; try again after `seconds`.
    pub fn rate_limited(retry_after_seconds: u32) -> Self {
        let mut error = Self::new(ErrorKind::RateLimited, "too many requests");
        error.retry_after = Some(retry_after_seconds);
        error
    }
    pub fn upstream(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Upstream, message)
    }
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    /// An unexpected failure. `detail` is logged, never shown to the caller.
    pub fn internal(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, detail)
    }

    /// Names the field or argument this error is about.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
    /// Marks the error as transient for queues: the message is retried with backoff.
    pub fn retryable(mut self) -> Self {
        self.retryable = Some(true);
        self
    }
    /// Marks the error as permanent for queues: the message goes to the dead-letter path.
    pub fn permanent(mut self) -> Self {
        self.retryable = Some(false);
        self
    }
    /// Asks a retrying caller or queue to wait this many seconds.
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The message as written by the code that raised the error (for internal errors: the
    /// detail that is logged and never sent).
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The message a caller may see.
    pub fn public_message(&self) -> &str {
        match self.kind {
            ErrorKind::Internal => "internal server error",
            _ => &self.message,
        }
    }
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
    pub fn retry_after(&self) -> Option<u32> {
        self.retry_after
    }

    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }
    pub fn jsonrpc_code(&self) -> i64 {
        self.kind.jsonrpc_code()
    }
    /// Retry or give up, for a queue message whose handler failed with this error.
    pub fn queue_decision(&self) -> QueueDecision {
        if self.retryable.unwrap_or_else(|| self.kind.is_transient()) {
            QueueDecision::Retry
        } else {
            QueueDecision::GiveUp
        }
    }

    /// The machine-readable details carried beside the message on every wire.
    pub fn wire_data(&self) -> ErrorData {
        ErrorData {
            kind: self.kind,
            status: self.kind.http_status(),
            field: self.field.clone(),
            retry_after: self.retry_after,
        }
    }

    /// Rebuilds an error that crossed a wire as a message and its [`ErrorData`].
    pub fn from_wire(message: impl Into<Cow<'static, str>>, data: ErrorData) -> Self {
        let mut error = Self::new(data.kind, message);
        error.field = data.field;
        error.retry_after = data.retry_after;
        error
    }

    /// Rebuilds an error from a JSON-RPC error object: its `data` when it came from a dotdo
    /// service, else the kind that the standard code stands for.
    pub fn from_jsonrpc(code: i64, message: String, data: Option<&serde_json::Value>) -> Self {
        if let Some(data) = data.and_then(ErrorData::from_json) {
            return Self::from_wire(message, data);
        }
        let kind = match code {
            -32700 | -32600 => ErrorKind::BadRequest,
            -32601 => ErrorKind::NotFound,
            -32602 => ErrorKind::InvalidField,
            _ => ErrorKind::ALL
                .into_iter()
                .find(|kind| kind.jsonrpc_code() == code)
                .unwrap_or(ErrorKind::Upstream),
        };
        Self::new(kind, message)
    }

    /// What a caller may read of this error in one line: its kind, the field it is about, and
    /// its public message (an internal error's detail stays in the log):
    /// `invalid_field (field `name`): must not be empty`. What an MCP tool's error result, a
    /// native RPC caller's `Error` and a failed job's note say.
    pub fn public_summary(&self) -> String {
        match &self.field {
            Some(field) => format!("{} (field `{field}`): {}", self.kind, self.public_message()),
            None => format!("{}: {}", self.kind, self.public_message()),
        }
    }

    /// The RFC 9457 problem document for this error.
    pub fn problem<'a>(&'a self, request_id: Option<&'a str>) -> Problem<'a> {
        Problem {
            problem_type: "about:blank",
            title: self.kind.title(),
            status: self.kind.http_status(),
            detail: self.public_message(),
            kind: self.kind,
            field: self.field.as_deref(),
            retry_after: self.retry_after,
            request_id,
        }
    }
}

/// The details of an error that travel beside its message (JSON-RPC `data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    pub kind: ErrorKind,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

impl ErrorData {
    /// The data as a JSON value holds it (what `Deserialize` accepts of an object: `field` and
    /// `retry_after` absent or `null` when unset, anything else of the wrong type refused). Read
    /// by hand: deserializing a struct from a `Value` compiles a deserializer for it alone, 3.5 KB
    /// of wasm in every worker with a typed client.
    fn from_json(data: &serde_json::Value) -> Option<Self> {
        Self::from_object(data.as_object()?)
    }

    /// [`from_json`](Self::from_json) of an object: a problem document's members.
    pub(crate) fn from_object(object: &serde_json::Map<String, serde_json::Value>) -> Option<Self> {
        use serde_json::Value;
        // `None` for a wrong type, `Some(None)` for unset.
        let optional = |name: &str| match object.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(value) => Some(Some(value)),
        };
        let field = match optional("field")? {
            None => None,
            Some(field) => Some(field.as_str()?.to_owned()),
        };
        let retry_after = match optional("retry_after")? {
            None => None,
            Some(seconds) => Some(u32::try_from(seconds.as_u64()?).ok()?),
        };
        Some(ErrorData {
            kind: ErrorKind::from_str(object.get("kind")?.as_str()?)?,
            status: u16::try_from(object.get("status")?.as_u64()?).ok()?,
            field,
            retry_after,
        })
    }
}

impl Serialize for ErrorKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        ErrorKind::from_str(&name)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown error kind `{name}`")))
    }
}

/// An RFC 9457 `application/problem+json` body.
#[derive(Debug, Serialize)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    pub problem_type: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: &'a str,
    pub kind: ErrorKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug
            .field("kind", &self.kind)
            .field("message", &self.message);
        if let Some(field) = &self.field {
            debug.field("field", field);
        }
        if let Some(retry_after) = self.retry_after {
            debug.field("retry_after", &retry_after);
        }
        if let Some(retryable) = self.retryable {
            debug.field("retryable", &retryable);
        }
        debug.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} (`{field}`): {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for Error {}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::internal(format!("JSON: {error}"))
    }
}

/// `Result` with [`Error`] as its error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_kind_has_a_distinct_name_and_round_trips_through_serde() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::String(kind.as_str().into()));
            assert_eq!(serde_json::from_value::<ErrorKind>(json).unwrap(), kind);
        }
    }

    #[test]
    fn kinds_map_to_statuses_and_codes() {
        assert_eq!(Error::not_found("x").http_status(), 404);
        assert_eq!(Error::invalid_field("a", "x").http_status(), 422);
        assert_eq!(Error::internal("x").jsonrpc_code(), -32603);
        assert_eq!(Error::invalid_field("a", "x").jsonrpc_code(), -32602);
        assert_eq!(Error::not_found("x").jsonrpc_code(), -32004);
    }

    #[test]
    fn application_jsonrpc_codes_are_unique_so_they_map_back_to_their_kind() {
        for kind in ErrorKind::ALL {
            if matches!(kind, ErrorKind::BadRequest | ErrorKind::InvalidField) {
                continue;
            }
            let back = Error::from_jsonrpc(kind.jsonrpc_code(), "m".into(), None);
            assert_eq!(back.kind(), kind);
        }
    }

    #[test]
    fn queue_decision_follows_the_kind_unless_overridden() {
        assert_eq!(Error::upstream("x").queue_decision(), QueueDecision::Retry);
        assert_eq!(
            Error::not_found("x").queue_decision(),
            QueueDecision::GiveUp
        );
        assert_eq!(
            Error::not_found("x").retryable().queue_decision(),
            QueueDecision::Retry
        );
        assert_eq!(
            Error::upstream("x").permanent().queue_decision(),
            QueueDecision::GiveUp
        );
    }

    #[test]
    fn internal_errors_do_not_leak_their_detail() {
        let error = Error::internal("db password is hunter2");
        let problem = serde_json::to_string(&error.problem(Some("r1"))).unwrap();
        assert!(!problem.contains("hunter2"), "{problem}");
        assert!(problem.contains("internal server error"));
    }

    #[test]
    fn wire_data_is_read_as_deserialize_reads_it() {
        let cases = [
            json!({"kind": "not_found", "status": 404}),
            json!({"kind": "invalid_field", "status": 422, "field": "a.b", "retry_after": 3}),
            json!({"kind": "rate_limited", "status": 429, "field": null, "retry_after": null, "extra": 1}),
            json!({"kind": "no_such_kind", "status": 404}),
            json!({"kind": "not_found", "status": 70000}),
            json!({"kind": "not_found", "status": -1}),
            json!({"kind": "not_found", "status": 404.5}),
            json!({"kind": "not_found"}),
            json!({"status": 404}),
            json!({"kind": "not_found", "status": 404, "field": 5}),
            json!({"kind": "not_found", "status": 404, "retry_after": "soon"}),
            json!({"kind": "not_found", "status": 404, "retry_after": 5_000_000_000u64}),
            json!("not_found"),
            json!(null),
        ];
        for data in &cases {
            assert_eq!(
                ErrorData::from_json(data),
                ErrorData::deserialize(data).ok(),
                "{data}"
            );
        }
        // A service's data wins over the code; data it cannot read leaves the code to decide.
        let read = Error::from_jsonrpc(-32004, "m".into(), Some(&cases[1]));
        assert_eq!(
            (read.kind(), read.field()),
            (ErrorKind::InvalidField, Some("a.b"))
        );
        let unread = Error::from_jsonrpc(-32004, "m".into(), Some(&cases[9]));
        assert_eq!((unread.kind(), unread.field()), (ErrorKind::NotFound, None));
    }

    #[test]
    fn errors_round_trip_through_their_wire_data() {
        let error = Error::invalid_field("item.price", "expected u32").with_retry_after(3);
        let back = Error::from_jsonrpc(
            error.jsonrpc_code(),
            error.message().into(),
            Some(&serde_json::to_value(error.wire_data()).unwrap()),
        );
        assert_eq!(back, error);
    }
}
