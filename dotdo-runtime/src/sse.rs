//! Server-sent events: [`Event`], what [`HttpResponse::sse`](crate::HttpResponse::sse) sends,
//! encoded as the HTML standard's `text/event-stream` describes it.
//!
//! ```
//! use dotdo_runtime::sse::Event;
//! use std::time::Duration;
//!
//! let event = Event::data("line one\nline two").event("update").id("42");
//! assert_eq!(
//!     String::from_utf8(event.encode().unwrap()).unwrap(),
//!     "event: update\nid: 42\ndata: line one\ndata: line two\n\n"
//! );
//! let json = Event::json(&serde_json::json!({"n": 1})).unwrap();
//! assert_eq!(json.data_text(), Some(r#"{"n":1}"#));
//! let hint = Event::comment("keep-alive").retry(Duration::from_secs(5));
//! assert_eq!(hint.encode().unwrap(), b": keep-alive\nretry: 5000\n\n");
//! ```

use std::time::Duration;

use serde::Serialize;

use crate::Error;

/// One server-sent event: data (several lines allowed), and optionally its type (`event:`), an
/// id the browser sends back as `Last-Event-ID` when it reconnects, a reconnection delay, and a
/// comment. An event type or id that would break the stream (a line break, or NUL in an id) is an
/// internal error when the event is sent, as an invalid `HttpResponse` builder input is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    event: Option<String>,
    id: Option<String>,
    data: Option<String>,
    retry: Option<Duration>,
    comment: Option<String>,
}

impl Event {
    /// An event carrying `data` (a `message` event unless [`event`](Self::event) names another).
    pub fn data(data: impl Into<String>) -> Self {
        Event {
            data: Some(data.into()),
            ..Event::default()
        }
    }

    /// An event whose data is `value` as JSON.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> crate::Result<Self> {
        serde_json::to_string(value)
            .map(Self::data)
            .map_err(|error| Error::internal(format!("serializing an event: {error}")))
    }

    /// A comment line only: clients ignore it, and a connection kept busy with one is not cut
    /// off as idle by a proxy.
    pub fn comment(text: impl Into<String>) -> Self {
        Event {
            comment: Some(text.into()),
            ..Event::default()
        }
    }

    /// The event's type, which a browser's `EventSource` dispatches on.
    pub fn event(mut self, name: impl Into<String>) -> Self {
        self.event = Some(name.into());
        self
    }

    /// The event's id, sent back in `Last-Event-ID` when the client reconnects.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// How long the client waits before reconnecting if the stream breaks.
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = Some(delay);
        self
    }

    pub fn event_type(&self) -> Option<&str> {
        self.event.as_deref()
    }

    pub fn event_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn data_text(&self) -> Option<&str> {
        self.data.as_deref()
    }

    pub fn retry_delay(&self) -> Option<Duration> {
        self.retry
    }

    /// The event as it goes on the wire, ending with the blank line that dispatches it.
    pub fn encode(&self) -> crate::Result<Vec<u8>> {
        let mut out = String::new();
        if let Some(comment) = &self.comment {
            for line in lines(comment) {
                out.push_str(": ");
                out.push_str(line);
                out.push('\n');
            }
        }
        if let Some(event) = &self.event {
            out.push_str("event: ");
            out.push_str(single_line("event type", event, false)?);
            out.push('\n');
        }
        if let Some(id) = &self.id {
            out.push_str("id: ");
            out.push_str(single_line("event id", id, true)?);
            out.push('\n');
        }
        if let Some(retry) = self.retry {
            out.push_str(&format!("retry: {}\n", retry.as_millis()));
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                out.push_str("data: ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push('\n');
        Ok(out.into_bytes())
    }
}

/// The lines of a text by every line ending the format knows (CRLF, CR, LF): a `data:` field per
/// line, which the client joins back with LF.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            Some(end) => {
                let skip = if text[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&text[end + skip..]);
                Some(&text[..end])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

fn single_line<'a>(what: &str, value: &'a str, no_nul: bool) -> crate::Result<&'a str> {
    if value.contains(['\r', '\n']) || (no_nul && value.contains('\0')) {
        return Err(Error::internal(format!(
            "the {what} `{}` would break the event stream (line break{})",
            value.escape_debug(),
            if no_nul { " or NUL" } else { "" }
        )));
    }
    Ok(value)
}

/// Parses a `text/event-stream` body into its events, as a browser's `EventSource` does
/// (comments skipped, `data` lines joined with LF, an event without data not dispatched).
/// For tests of SSE routes.
pub fn parse(stream: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let mut current = Event::default();
    let mut data: Option<String> = None;
    let mut text = stream.strip_prefix('\u{feff}').unwrap_or(stream);
    // A last event without its blank line is incomplete: never dispatched.
    while let Some(end) = text.find(['\r', '\n']) {
        let line = &text[..end];
        let skip = if text[end..].starts_with("\r\n") {
            2
        } else {
            1
        };
        text = &text[end + skip..];
        if line.is_empty() {
            if let Some(data) = data.take() {
                current.data = Some(data);
                events.push(std::mem::take(&mut current));
            } else {
                current = Event::default();
            }
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "" => {}
            "event" => current.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => current.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(millis) = value.parse() {
                    current.retry = Some(Duration::from_millis(millis));
                }
            }
            "data" => match &mut data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_ending_splits_data_into_data_lines() {
        let event = Event::data("a\r\nb\rc\nd");
        assert_eq!(
            event.encode().unwrap(),
            b"data: a\ndata: b\ndata: c\ndata: d\n\n"
        );
        assert_eq!(Event::data("").encode().unwrap(), b"data: \n\n");
    }

    #[test]
    fn a_type_or_id_that_would_break_the_stream_is_refused() {
        let error = Event::data("x").event("a\nb").encode().unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Internal);
        assert!(error.to_string().contains("event type"), "{error}");
        assert!(Event::data("x").id("1\r").encode().is_err());
        assert!(Event::data("x").id("1\0").encode().is_err());
        assert!(Event::data("x").event("a\0b").encode().is_ok());
    }

    #[test]
    fn what_is_encoded_parses_back_as_it_was() {
        let events = [
            Event::data("one\ntwo").event("update").id("7"),
            Event::json(&serde_json::json!({"n": [1, 2]})).unwrap(),
            Event::data("last").retry(Duration::from_millis(1500)),
        ];
        let mut wire = Event::comment("hello").encode().unwrap();
        for event in &events {
            wire.extend(event.encode().unwrap());
        }
        assert_eq!(parse(std::str::from_utf8(&wire).unwrap()), events);
    }

    #[test]
    fn parsing_follows_the_event_source_rules() {
        let events = parse("data:no space\r\n\r\nevent: lonely\n\ndata: a\ndata\n\ndata: cut");
        let data: Vec<_> = events.iter().map(|e| e.data_text().unwrap()).collect();
        assert_eq!(data, ["no space", "a\n"]);
        assert_eq!(
            events[1].event_type(),
            None,
            "a type without data is dropped"
        );
    }
}
