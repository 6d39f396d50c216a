//! Streamed bodies and server-sent events, in-process: chunks are sent as the stream yields
//! them, a failure mid-stream is never a complete-looking body, HEAD does not run a stream, and
//! `Last-Event-ID` resumes a feed. (On workerd, the first event is read before the last is
//! produced: "streamed bodies" in `tests/e2e/workers.test.mjs`.)

use std::sync::atomic::{AtomicUsize, Ordering};

use dotdo::prelude::*;
use dotdo::sse::Event;
use dotdo::stream::{self, StreamExt};
use dotdo::testing::TestClient;
use futures_executor::block_on;

#[derive(Default)]
struct Feed;

/// How many rows the export stream has produced (HEAD must produce none).
static ROWS_PRODUCED: AtomicUsize = AtomicUsize::new(0);

#[dotdo::service]
impl Feed {
    /// Ticks `after` + 1 to `n` as events, resuming after the id a reconnecting client sends.
    #[http(get = "/ticks")]
    async fn ticks(
        &self,
        n: u32,
        #[header("last-event-id")] after: Option<u32>,
    ) -> Result<HttpResponse, dotdo::Error> {
        let first = after.map_or(1, |after| after.saturating_add(1));
        let events = stream::iter(first..=n).map(|tick| {
            Event::json(&serde_json::json!({ "tick": tick }))
                .map(|event| event.event("tick").id(tick.to_string()))
        });
        Ok(HttpResponse::sse(events))
    }

    /// A CSV export, a row per chunk.
    #[http(get = "/export.csv")]
    async fn export(&self) -> Result<HttpResponse, dotdo::Error> {
        let rows = stream::iter(["id,name\n", "1,ada\n", "2,grace\n"]).map(|row| {
            ROWS_PRODUCED.fetch_add(1, Ordering::SeqCst);
            Ok::<_, dotdo::Error>(row)
        });
        Ok(HttpResponse::stream("text/csv", rows).attachment("people.csv"))
    }

    /// A feed whose source fails after one event.
    #[http(get = "/broken-feed")]
    async fn broken_feed(&self) -> Result<HttpResponse, dotdo::Error> {
        let events = stream::iter([
            Ok(Event::data("first")),
            Err(dotdo::Error::internal(
                "the upstream cursor hunter2 expired",
            )),
            Ok(Event::data("never sent")),
        ]);
        Ok(HttpResponse::sse(events))
    }

    /// A download whose source fails after one chunk.
    #[http(get = "/broken-download")]
    async fn broken_download(&self) -> Result<HttpResponse, dotdo::Error> {
        let chunks = stream::iter([
            Ok("part one".to_owned()),
            Err(dotdo::Error::unavailable("the store went away")),
        ]);
        Ok(HttpResponse::stream("application/octet-stream", chunks))
    }

    /// An event whose id would break the stream.
    #[http(get = "/bad-id")]
    async fn bad_id(&self) -> Result<HttpResponse, dotdo::Error> {
        Ok(HttpResponse::sse(stream::iter([Ok(
            Event::data("x").id("1\nevent: forged")
        )])))
    }
}

#[test]
fn events_are_sent_one_chunk_each_with_the_event_stream_headers() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/ticks?n=3").send());
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/event-stream"));
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    assert_eq!(response.chunks().len(), 3, "one chunk per event");
    assert!(response.aborted().is_none());
    let events = response.events();
    let ticks: Vec<_> = events
        .iter()
        .map(|event| (event.event_type(), event.event_id(), event.data_text()))
        .collect();
    assert_eq!(
        ticks,
        [
            (Some("tick"), Some("1"), Some(r#"{"tick":1}"#)),
            (Some("tick"), Some("2"), Some(r#"{"tick":2}"#)),
            (Some("tick"), Some("3"), Some(r#"{"tick":3}"#)),
        ]
    );
}

#[test]
fn a_reconnecting_client_resumes_after_its_last_event_id() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/ticks?n=4").header("last-event-id", "2").send());
    let ids: Vec<_> = response
        .events()
        .iter()
        .map(|event| event.event_id().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["3", "4"]);
    let bad = block_on(client.get("/ticks?n=4").header("last-event-id", "x").send());
    assert_eq!(bad.status(), 400, "{}", bad.text());
    assert!(bad.text().contains("last-event-id"), "{}", bad.text());
}

#[test]
fn a_stream_is_sent_chunk_by_chunk_and_head_does_not_run_it() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/export.csv").send());
    assert_eq!(response.header("content-type"), Some("text/csv"));
    assert!(
        response
            .header("content-disposition")
            .unwrap()
            .contains("people.csv")
    );
    assert_eq!(response.chunks().len(), 3);
    assert_eq!(response.text(), "id,name\n1,ada\n2,grace\n");
    assert_eq!(
        response.header("content-length"),
        None,
        "a stream's length is not known in advance"
    );

    let produced = ROWS_PRODUCED.load(Ordering::SeqCst);
    let head = block_on(client.request(http::Method::HEAD, "/export.csv").send());
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("content-type"), Some("text/csv"));
    assert!(head.bytes().is_empty());
    assert_eq!(head.header("content-length"), None);
    assert_eq!(
        ROWS_PRODUCED.load(Ordering::SeqCst),
        produced,
        "HEAD produced no row"
    );
}

#[test]
fn a_feed_that_fails_ends_with_an_error_event_naming_no_internals() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/broken-feed").send());
    assert_eq!(
        response.status(),
        200,
        "the status was sent with the first event"
    );
    assert!(response.aborted().is_none(), "the feed ends cleanly");
    let events = response.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].data_text(), Some("first"));
    assert_eq!(events[1].event_type(), Some("error"));
    let problem: serde_json::Value = serde_json::from_str(events[1].data_text().unwrap()).unwrap();
    assert_eq!(problem["status"], 500);
    assert!(problem["request_id"].is_string());
    assert!(
        !response.text().contains("hunter2") && !response.text().contains("never sent"),
        "{}",
        response.text()
    );
}

#[test]
fn a_download_that_fails_breaks_off_instead_of_looking_complete() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/broken-download").send());
    assert_eq!(response.text(), "part one");
    let error = response.aborted().expect("the transfer breaks off");
    assert_eq!(error.kind(), ErrorKind::Unavailable);
}

#[test]
fn an_event_that_would_break_the_stream_is_not_sent() {
    let client = TestClient::new(Feed);
    let response = block_on(client.get("/bad-id").send());
    let events = response.events();
    assert_eq!(events.len(), 1, "{}", response.text());
    assert_eq!(events[0].event_type(), Some("error"));
    assert!(!response.text().contains("forged"), "{}", response.text());
}
