//! How an answer is written: JSON whenever the client's `Accept` allows it, else one
//! server-sent event.

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::Context;
use crate::wire::Response;

/// How the answer is written: what the client's `Accept` allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    EventStream,
}

/// JSON whenever JSON is acceptable (including no `Accept`, `*/*`, `application/*`), else SSE
/// when that is; `None` when neither is.
pub(super) fn negotiate(context: &Context) -> Option<Format> {
    let accepted = accepted(context);
    let accepts = |media: &str| accepts(&accepted, media);
    if accepted.is_empty() || accepts("application/json") {
        Some(Format::Json)
    } else if accepts("text/event-stream") {
        Some(Format::EventStream)
    } else {
        None
    }
}

/// Whether the client names `text/event-stream` itself: then a call's notifications are
/// streamed before its result (`*/*` alone does not ask for a stream).
pub(super) fn accepts_event_stream(context: &Context) -> bool {
    accepted(context)
        .iter()
        .any(|range| range == "text/event-stream")
}

/// The media ranges of `Accept`, lower-case, without parameters or those refused with `q=0`.
fn accepted(context: &Context) -> Vec<String> {
    context
        .header_values("accept")
        .filter_map(crate::wire::header_text)
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
        .collect()
}

fn accepts(accepted: &[String], media: &str) -> bool {
    accepted.iter().any(|range| {
        range == media
            || range == "*/*"
            || range == &format!("{}/*", media.split('/').next().unwrap_or_default())
    })
}

/// One message as a server-sent event.
pub(super) fn event(message: &Value) -> Vec<u8> {
    let data = crate::json::to_text(message);
    format!("event: message\ndata: {data}\n\n").into_bytes()
}

pub(super) fn answer(status: StatusCode, message: &Value, format: Format) -> Response {
    let (body, content_type) = match format {
        Format::Json => (
            crate::json::to_text(message).into_bytes(),
            "application/json",
        ),
        Format::EventStream => (event(message), "text/event-stream"),
    };
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Context {
        Context::with_sent_headers(crate::Interface::Mcp, pairs)
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
