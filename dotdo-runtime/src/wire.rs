//! The runtime's HTTP vocabulary, below every front end: the request and response types, the
//! body a front end receives, and the responses every interface shares (problem+json errors,
//! empty and JSON answers, the POST-only refusal).

use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Method, StatusCode};

use crate::{Context, Error, log};

/// A request as the runtime sees it: any body already read into memory.
pub type Request = http::Request<Vec<u8>>;
/// A response as the runtime produces it.
pub type Response = http::Response<Vec<u8>>;

pub use dotdo_routes::{MCP_PATH, OPENAPI_PATH, RPC_PATH};

/// What a front end needs of a request once its headers have moved into the [`Context`].
pub struct Incoming {
    pub method: Method,
    pub uri: http::Uri,
    pub body: Vec<u8>,
}

/// How a route's body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Form,
}

/// The format of a route's body, by its content type: JSON (also when none is given, as many
/// clients omit it) or a form; anything else is 415 naming both.
pub(crate) fn body_format(headers: &HeaderMap) -> Result<BodyFormat, Error> {
    match content_type_essence(headers).as_deref() {
        None => Ok(BodyFormat::Json),
        Some(essence) if is_json(essence) => Ok(BodyFormat::Json),
        Some("application/x-www-form-urlencoded") => Ok(BodyFormat::Form),
        Some(essence) => Err(Error::new(
            crate::ErrorKind::UnsupportedMediaType,
            format!(
                "expected a JSON or form body (application/json, application/x-www-form-urlencoded), got `{essence}`"
            ),
        )),
    }
}

/// `application/json` or any `+json` type.
fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// The media type of the request's body, lower-case, without parameters.
fn content_type_essence(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?;
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default();
    Some(essence.trim().to_ascii_lowercase())
}

/// A body must be JSON: `application/json` or any `+json` type. A missing content type is
/// taken as JSON, since many clients omit it.
pub fn require_json_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(essence) = content_type_essence(headers) else {
        return Ok(());
    };
    if is_json(&essence) {
        Ok(())
    } else {
        Err(Error::new(
            crate::ErrorKind::UnsupportedMediaType,
            format!("expected a JSON body (Content-Type: application/json), got `{essence}`"),
        ))
    }
}

pub(crate) fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The problem+json response for an error. Internal errors are logged with their detail; the
/// caller gets none of it.
pub fn error_response(error: &Error, context: &Context) -> Response {
    if error.kind() == crate::ErrorKind::Internal {
        log::error(context, "internal error", error);
    }
    let body = serde_json::to_vec(&error.problem(Some(context.request_id())))
        .expect("a problem document always serializes");
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if error.kind() == crate::ErrorKind::Unauthorized {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The answer to a method an endpoint of dotdo's own does not take: 204 to `OPTIONS`, else
/// 405; `Allow` names the ones it does (`"POST"`, `"GET, HEAD"`).
pub(crate) fn accepts_only(
    allow: &'static str,
    method: &Method,
    path: &str,
    context: &Context,
) -> Response {
    let mut response = if method == Method::OPTIONS {
        empty_response(StatusCode::NO_CONTENT)
    } else {
        error_response(
            &Error::new(
                crate::ErrorKind::MethodNotAllowed,
                format!("`{path}` accepts only {allow}"),
            ),
            context,
        )
    };
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// Puts the request id on a response.
pub(crate) fn with_request_id(mut response: Response, context: Context) -> Response {
    response
        .headers_mut()
        .insert(crate::request_id::HEADER, context.into_request_id_header());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let error = require_json_content_type(&headers).unwrap_err();
        assert_eq!(error.http_status(), 415);
    }
}
