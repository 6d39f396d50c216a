//! The runtime's HTTP vocabulary, below every front end: the request and response types, the
//! body a front end receives, and the responses every interface shares (problem+json errors,
//! empty and JSON answers, the POST-only refusal).

use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, StatusCode};

use crate::{Context, Error, log};

/// A request as the runtime sees it: any body already read into memory.
pub type Request = http::Request<Vec<u8>>;
/// A response as the runtime produces it.
pub type Response = http::Response<Body>;

/// The chunks of a body sent as they are produced. An `Err` ends the body early: the client sees
/// a broken transfer (or, for server-sent events, a last `error` event), never a complete one.
pub type ByteStream = futures_util::stream::LocalBoxStream<'static, Result<Vec<u8>, Error>>;

/// A response body: bytes in memory, or a stream sent chunk by chunk as it is produced (on
/// Workers a real `ReadableStream`: the client has the first chunk before the last exists).
pub enum Body {
    Bytes(Vec<u8>),
    Stream(ByteStream),
}

impl Body {
    pub fn empty() -> Self {
        Body::Bytes(Vec::new())
    }

    /// A body of whatever chunks `stream` yields, each sent when it is ready.
    pub fn stream<S, B>(stream: S) -> Self
    where
        S: futures_util::Stream<Item = Result<B, Error>> + 'static,
        B: Into<Vec<u8>>,
    {
        use futures_util::StreamExt;
        Body::Stream(stream.map(|chunk| chunk.map(Into::into)).boxed_local())
    }

    /// The bytes, when the body is in memory.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Bytes(bytes) => Some(bytes),
            Body::Stream(_) => None,
        }
    }
}

/// Polls a body's stream always with one waker of its own, which wakes whoever polled last. A
/// host may poll a body from a new task for every chunk (workerd: one promise per pull); a
/// future inside that keeps the first waker it saw (workers-rs `Delay` does) would then wake a
/// task that is gone, and the body would hang until the runtime cancels it.
// Used by the Workers entry; in-process hosts poll a body from one task.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) struct StableWaker {
    inner: ByteStream,
    forward: std::sync::Arc<Forward>,
    waker: std::task::Waker,
}

struct Forward(futures_util::task::AtomicWaker);

impl std::task::Wake for Forward {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.wake();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.wake();
    }
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl StableWaker {
    pub(crate) fn new(inner: ByteStream) -> Self {
        let forward = std::sync::Arc::new(Forward(futures_util::task::AtomicWaker::new()));
        StableWaker {
            inner,
            waker: std::task::Waker::from(forward.clone()),
            forward,
        }
    }
}

impl futures_util::Stream for StableWaker {
    type Item = Result<Vec<u8>, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.forward.0.register(cx.waker());
        let waker = self.waker.clone();
        self.inner
            .as_mut()
            .poll_next(&mut std::task::Context::from_waker(&waker))
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::Bytes(bytes)
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Bytes(bytes) => write!(formatter, "Body::Bytes({} bytes)", bytes.len()),
            Body::Stream(_) => formatter.write_str("Body::Stream"),
        }
    }
}

pub use dotdo_routes::{DOCS_PATH, MCP_PATH, OPENAPI_PATH, RPC_PATH};

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
    #[cfg(feature = "multipart")]
    Multipart,
}

/// The body types a route takes, for a 415's message.
const ACCEPTED_BODIES: &str = if cfg!(feature = "multipart") {
    "application/json, application/x-www-form-urlencoded, multipart/form-data"
} else {
    "application/json, application/x-www-form-urlencoded"
};

/// The format of a route's body, by its content type (the header's value as sent): JSON (also
/// when none is given, as many clients omit it), a form, or a multipart form; anything else is
/// 415 naming them.
pub(crate) fn body_format(content_type: Option<&[u8]>) -> Result<BodyFormat, Error> {
    match content_type_essence(content_type).as_deref() {
        None => Ok(BodyFormat::Json),
        Some(essence) if is_json(essence) => Ok(BodyFormat::Json),
        Some("application/x-www-form-urlencoded") => Ok(BodyFormat::Form),
        #[cfg(feature = "multipart")]
        Some("multipart/form-data") => Ok(BodyFormat::Multipart),
        Some(essence) => Err(Error::new(
            crate::ErrorKind::UnsupportedMediaType,
            format!("expected a JSON or form body ({ACCEPTED_BODIES}), got `{essence}`"),
        )),
    }
}

/// `application/json` or any `+json` type.
fn is_json(essence: &str) -> bool {
    essence == "application/json" || essence.ends_with("+json")
}

/// The media type of the request's body, lower-case, without parameters; empty for a value that
/// is not text.
fn content_type_essence(content_type: Option<&[u8]>) -> Option<String> {
    let text = header_text(content_type?).unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default();
    Some(essence.trim().to_ascii_lowercase())
}

/// Where `needle` first occurs in `text`. A plain byte comparison: `str::find` with a `&str`
/// pattern links the Two-Way searcher (2 KB of wasm a new isolate's first request compiled, for
/// a three-byte `://`).
pub(crate) fn find_text(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    text.as_bytes()
        .windows(needle.len())
        .position(|window| window == needle.as_bytes())
}

/// A valid header value as text, as `HeaderValue::to_str` gives it: visible ASCII only.
pub(crate) fn header_text(value: &[u8]) -> Option<&str> {
    // Byte by byte: the slice's own `is_ascii` is a word-at-a-time loop several times the size,
    // for values a few dozen bytes long.
    if value.iter().all(u8::is_ascii) {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// A body must be JSON: `application/json` or any `+json` type, by its content type (the
/// header's value as sent). A missing content type is taken as JSON, since many clients omit it.
pub fn require_json_content_type(content_type: Option<&[u8]>) -> Result<(), Error> {
    let Some(essence) = content_type_essence(content_type) else {
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
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body.into());
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
    let mut response = Response::new(body.into());
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

    /// A future that keeps the first waker it is polled with, as workers-rs `Delay` does.
    struct FirstWakerOnly {
        first: std::rc::Rc<std::cell::RefCell<Option<std::task::Waker>>>,
        ready: std::rc::Rc<std::cell::Cell<bool>>,
    }

    impl std::future::Future for FirstWakerOnly {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            if self.ready.get() {
                return std::task::Poll::Ready(());
            }
            self.first
                .borrow_mut()
                .get_or_insert_with(|| cx.waker().clone());
            std::task::Poll::Pending
        }
    }

    struct Count(std::sync::atomic::AtomicUsize);
    impl std::task::Wake for Count {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn text_is_found_as_str_find_finds_it() {
        for (text, needle) in [
            ("https://host/path", "://"),
            ("no scheme", "://"),
            ("a DEV-only key dev-only", "dev-only"),
            ("ab", "abc"),
            ("", "x"),
            ("x", ""),
            ("héllo://é", "://"),
        ] {
            assert_eq!(
                find_text(text, needle),
                text.find(needle),
                "{text} {needle}"
            );
        }
    }

    #[test]
    fn a_stream_polled_from_a_new_task_each_time_wakes_the_latest() {
        use futures_util::{FutureExt, Stream, StreamExt};
        let first = std::rc::Rc::default();
        let ready = std::rc::Rc::new(std::cell::Cell::new(false));
        let pending = FirstWakerOnly {
            first: std::rc::Rc::clone(&first),
            ready: ready.clone(),
        };
        let stream = pending
            .into_stream()
            .map(|()| Ok(b"done".to_vec()))
            .boxed_local();
        let mut stable = StableWaker::new(stream);
        let counters: Vec<_> = (0..2)
            .map(|_| std::sync::Arc::new(Count(Default::default())))
            .collect();
        for counter in &counters {
            let waker = std::task::Waker::from(counter.clone());
            let poll = std::pin::Pin::new(&mut stable)
                .poll_next(&mut std::task::Context::from_waker(&waker));
            assert!(poll.is_pending());
        }
        // The timer fires: it wakes the waker it kept, which reaches the second poller.
        ready.set(true);
        first.borrow().as_ref().unwrap().wake_by_ref();
        let woken = |index: usize| counters[index].0.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!((woken(0), woken(1)), (0, 1));
    }

    #[test]
    fn json_content_types_are_recognised() {
        let json = |content_type: &str| require_json_content_type(Some(content_type.as_bytes()));
        assert!(require_json_content_type(None).is_ok());
        assert!(json("application/json; charset=utf-8").is_ok());
        assert!(json("Application/JSON").is_ok());
        assert!(json("application/merge-patch+json").is_ok());
        assert_eq!(json("text/plain").unwrap_err().http_status(), 415);
        // A value that is not text is no JSON type either.
        let error = require_json_content_type(Some("application/json\u{e9}".as_bytes()));
        assert_eq!(error.unwrap_err().http_status(), 415);
    }

    #[test]
    fn bodies_are_read_by_their_content_type() {
        let format = |content_type: Option<&str>| body_format(content_type.map(str::as_bytes));
        assert!(matches!(format(None), Ok(BodyFormat::Json)));
        assert!(matches!(
            format(Some("application/problem+json")),
            Ok(BodyFormat::Json)
        ));
        assert!(matches!(
            format(Some("application/x-www-form-urlencoded; charset=utf-8")),
            Ok(BodyFormat::Form)
        ));
        let error = format(Some("text/csv")).unwrap_err();
        assert_eq!(error.http_status(), 415);
        assert!(error.to_string().contains("got `text/csv`"), "{error}");
    }
}
