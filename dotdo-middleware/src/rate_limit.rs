//! Rate limits per route prefix, keyed by principal else client IP, in fixed windows, with
//! `X-RateLimit-*` headers and 429 + `Retry-After` when the limit is reached.
//!
//! On Workers the counts live in Durable Objects ([`DurableStore`], the [`RateLimiter`] class):
//! one object per counted key, which handles its requests one at a time, so the count is exact
//! however many isolates and locations serve the bursts. (KV, eventually consistent and limited
//! to about one write per second per key, cannot count: under load it never trips.)
//! [`MemoryStore`] is for tests. A store that fails refuses the request (503) rather than
//! letting it through uncounted.
//!
//! A JSON-RPC or MCP batch counts as the number of calls it carries.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::future::LocalBoxFuture;
use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use dotdo_runtime::http::{Incoming, MCP_PATH, RPC_PATH, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next};

/// Where the counts of the current windows are kept.
pub trait RateLimitStore {
    /// Adds `weight` to the count of `key` in the window starting at `window_start` (a new
    /// window starts at 0), returning the count after it. A weight of 0 reads the count.
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Window,
        weight: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>>;
}

/// A fixed window: its start and length, in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: u64,
    pub seconds: u32,
}

impl Window {
    /// The window of `seconds` that `now` falls in.
    pub fn at(now: u64, seconds: u32) -> Self {
        let length = u64::from(seconds.max(1));
        Window {
            start: now - now % length,
            seconds: seconds.max(1),
        }
    }

    pub fn end(&self) -> u64 {
        self.start + u64::from(self.seconds)
    }

    /// Seconds from `now` until the window ends (at least 1).
    pub fn remaining(&self, now: u64) -> u32 {
        self.end().saturating_sub(now).max(1) as u32
    }
}

impl<T: RateLimitStore + ?Sized> RateLimitStore for std::rc::Rc<T> {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Window,
        weight: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        (**self).hit(key, window, weight)
    }
}

/// One key's count in its current window: what a [`RateLimiter`] object keeps, and what
/// [`MemoryStore`] keeps per key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowCount {
    pub window: Window,
    pub count: u32,
}

impl WindowCount {
    /// Adds `weight` in `window`; a later window starts from 0, an earlier one (a request from a
    /// slow clock) counts in the current one.
    pub fn hit(&mut self, window: Window, weight: u32) -> u32 {
        if window.start > self.window.start {
            *self = WindowCount { window, count: 0 };
        }
        self.count = self.count.saturating_add(weight);
        self.count
    }
}

/// Counts in this isolate's memory: for tests and local tools, not for Workers.
#[derive(Default)]
pub struct MemoryStore {
    counts: RefCell<HashMap<String, WindowCount>>,
}

impl RateLimitStore for MemoryStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Window,
        weight: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        let count = self
            .counts
            .borrow_mut()
            .entry(key.to_owned())
            .or_default()
            .hit(window, weight);
        Box::pin(async move { Ok(count) })
    }
}

/// The body of one count request to a [`RateLimiter`] object.
#[derive(Debug, Serialize, Deserialize)]
struct HitRequest {
    window: Window,
    weight: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct HitResponse {
    count: u32,
}

/// Counts in Durable Objects of the [`RateLimiter`] class, one object per key: exact under any
/// concurrency. Bind the class in wrangler.toml:
///
/// ```toml
/// [[durable_objects.bindings]]
/// name = "RATE_LIMITER"
/// class_name = "RateLimiter"
///
/// [[migrations]]
/// tag = "v1"
/// new_sqlite_classes = ["RateLimiter"]
/// ```
///
/// and enable the crate's `rate-limiter` feature in the worker that exports the class.
pub struct DurableStore {
    namespace: worker::ObjectNamespace,
}

impl DurableStore {
    pub fn new(namespace: worker::ObjectNamespace) -> Self {
        DurableStore { namespace }
    }

    /// The namespace bound as `binding` (conventionally `RATE_LIMITER`).
    pub fn from_env(env: &worker::Env, binding: &str) -> Result<Self, Error> {
        env.durable_object(binding)
            .map(Self::new)
            .map_err(dotdo_runtime::worker::binding_error)
    }
}

impl RateLimitStore for DurableStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window: Window,
        weight: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        Box::pin(async move {
            let failed =
                |error: worker::Error| Error::unavailable(format!("rate limiter: {error}"));
            let stub = self.namespace.get_by_name(key).map_err(failed)?;
            let body = serde_json::to_string(&HitRequest { window, weight })?;
            let request = dotdo_runtime::worker::convert::js_request(
                "POST",
                "https://rate-limiter/hit",
                [],
                Some(body.as_bytes()),
            )
            .map_err(failed)?;
            let mut response = stub.fetch_with_request(request).await.map_err(failed)?;
            if response.status_code() != 200 {
                return Err(Error::unavailable(format!(
                    "rate limiter answered {}",
                    response.status_code()
                )));
            }
            let answer = response.text().await.map_err(failed)?;
            let answer: HitResponse = dotdo_runtime::json::from_text(&answer)
                .map_err(|error| Error::unavailable(format!("rate limiter: {error}")))?;
            Ok(answer.count)
        })
    }
}

#[cfg(feature = "rate-limiter")]
pub use object::RateLimiter;

/// The Durable Object class, in a module of its own: its macro needs `wasm_bindgen` in scope.
#[cfg(feature = "rate-limiter")]
mod object {
    use super::{HitRequest, HitResponse, WindowCount};
    use worker::js_sys;
    use worker::wasm_bindgen;
    use worker::wasm_bindgen_futures::JsFuture;
    use worker::worker_sys::{DurableObjectState, DurableObjectStorage};

    /// The Durable Object class behind [`DurableStore`]: one instance per counted key. A Durable
    /// Object runs one event at a time and its storage calls hold other events back (input gates),
    /// so read, add and write are one step however many requests arrive at once. The count is kept
    /// in storage, so an evicted object resumes it; an alarm at the window's end deletes it.
    #[worker::durable_object]
    pub struct RateLimiter {
        state: DurableObjectState,
    }

    const COUNT_KEY: &str = "count";

    /// When the alarm that forgets `count` fires: a second after its window ends.
    fn forget_at(count: &WindowCount) -> i64 {
        (count.window.end() as i64 + 1) * 1000
    }

    impl RateLimiter {
        fn storage(&self) -> worker::Result<DurableObjectStorage> {
            Ok(self.state.storage()?)
        }

        /// The stored count, crossing as one JSON text. workers-rs's typed `get` and `put` go
        /// through serde-wasm-bindgen: a crossing per field, and 8 KB of wasm in each worker
        /// that has the class. The stored value is the same plain object either way.
        async fn count(&self) -> worker::Result<WindowCount> {
            let value = JsFuture::from(self.storage()?.get(COUNT_KEY)?).await?;
            if value.is_undefined() {
                return Ok(WindowCount::default());
            }
            let text = js_sys::JSON::stringify(&value)?
                .as_string()
                .unwrap_or_default();
            dotdo_runtime::json::from_text(&text)
                .map_err(|error| worker::Error::RustError(format!("the stored count: {error}")))
        }

        async fn keep(&self, count: &WindowCount) -> worker::Result<()> {
            let value = js_sys::JSON::parse(&serde_json::to_string(count)?)?;
            JsFuture::from(self.storage()?.put(COUNT_KEY, value)?).await?;
            Ok(())
        }

        async fn set_alarm(&self, at_ms: i64) -> worker::Result<()> {
            let time = js_sys::Date::new(&(at_ms as f64).into());
            JsFuture::from(self.storage()?.set_alarm(time, js_sys::Object::new())?).await?;
            Ok(())
        }
    }

    impl worker::DurableObject for RateLimiter {
        fn new(state: worker::State, _env: worker::Env) -> Self {
            RateLimiter {
                state: state._inner(),
            }
        }

        async fn fetch(&self, mut request: worker::Request) -> worker::Result<worker::Response> {
            let text = request.text().await.unwrap_or_default();
            let Ok(hit) = dotdo_runtime::json::from_text::<HitRequest>(&text) else {
                return worker::Response::error(
                    "expected {\"window\": {\"start\", \"seconds\"}, \"weight\"}",
                    400,
                );
            };
            let mut current = self.count().await?;
            let counted_window = current.window;
            let count = current.hit(hit.window, hit.weight);
            if hit.weight > 0 {
                // One write per hit; the alarm moves only when a new window starts.
                self.keep(&current).await?;
                if current.window != counted_window {
                    self.set_alarm(forget_at(&current)).await?;
                }
            }
            worker::Response::from_json(&HitResponse { count })
        }

        /// Forgets the count once its window has ended, so idle keys cost no storage.
        async fn alarm(&self) -> worker::Result<worker::Response> {
            let current = self.count().await?;
            if current.window.end() > dotdo_runtime::clock::now_seconds() {
                self.set_alarm(forget_at(&current)).await?;
            } else {
                JsFuture::from(self.storage()?.delete_all()?).await?;
            }
            worker::Response::ok("")
        }
    }
}

struct Rule {
    prefix: String,
    limit: u32,
    window_seconds: u32,
}

/// Fixed-window limits by path prefix; the longest matching prefix applies.
pub struct RateLimit {
    store: Box<dyn RateLimitStore>,
    rules: Vec<Rule>,
    clock: fn() -> u64,
}

impl RateLimit {
    pub fn new(store: impl RateLimitStore + 'static) -> Self {
        RateLimit {
            store: Box::new(store),
            rules: Vec::new(),
            clock: dotdo_runtime::clock::now_seconds,
        }
    }

    /// At most `limit` requests per `window_seconds` under `prefix` (`"/"` for everything).
    pub fn rule(mut self, prefix: &str, limit: u32, window_seconds: u32) -> Self {
        self.rules.push(Rule {
            prefix: prefix.to_owned(),
            limit,
            window_seconds: window_seconds.max(1),
        });
        self
    }

    /// Replaces the clock (seconds since the epoch), for tests.
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    fn rule_for(&self, path: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|rule| path.starts_with(&rule.prefix))
            .max_by_key(|rule| rule.prefix.len())
    }
}

/// Who is counted: the principal when authenticated (put this layer after authentication),
/// else the client IP Cloudflare reports.
fn client_key(context: &Context) -> String {
    match context.principal() {
        Some(principal) => format!("principal:{}", principal.id),
        None => format!("ip:{}", client_ip(context)),
    }
}

/// The client's IP as Cloudflare reports it.
pub(crate) fn client_ip(context: &Context) -> &str {
    context.header("cf-connecting-ip").unwrap_or("unknown")
}

/// How many calls a request carries: the length of a JSON-RPC or MCP batch, else 1.
fn calls_in(request: &Incoming) -> u32 {
    let path = request.uri.path();
    let batch = (path == RPC_PATH || path == MCP_PATH)
        && request.body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
    if !batch {
        return 1;
    }
    // Parsed as a value: a typed parse would compile serde_json's typed decoding, and the float
    // formatting its errors bring, into every worker.
    match dotdo_runtime::json::parse(&request.body) {
        Ok(serde_json::Value::Array(calls)) => calls.len().max(1) as u32,
        _ => 1,
    }
}

/// Adds `weight` for `key` in `window`; a failing store is a 503, never an uncounted request.
pub(crate) async fn count(
    store: &dyn RateLimitStore,
    key: &str,
    window: Window,
    weight: u32,
    context: &Context,
) -> Result<u32, Error> {
    store.hit(key, window, weight).await.map_err(|error| {
        dotdo_runtime::log::error(context, "rate limit store failed; request refused", &error);
        Error::unavailable("rate limiting is unavailable; try again shortly").with_retry_after(1)
    })
}

/// Where one key stands against its limit after a request was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    /// The count in the current window, this request's weight included.
    pub count: u32,
    /// Seconds until the window ends.
    pub reset: u32,
}

impl Quota {
    /// Counts `weight` requests for `key` against `limit` per `window_seconds`: what the
    /// [`RateLimit`] layer does per client, and what any other keyed limit (a gateway's per
    /// tenant) uses. A store that fails is an error (503), never an uncounted request.
    pub async fn count(
        store: &dyn RateLimitStore,
        key: &str,
        limit: u32,
        window_seconds: u32,
        weight: u32,
        now: u64,
        context: &Context,
    ) -> Result<Quota, Error> {
        let window = Window::at(now, window_seconds);
        let count = count(store, key, window, weight, context).await?;
        Ok(Quota {
            limit,
            count,
            reset: window.remaining(now),
        })
    }

    pub fn exceeded(&self) -> bool {
        self.count > self.limit
    }

    /// The 429 to answer when [`exceeded`](Self::exceeded).
    pub fn error(&self) -> Error {
        Error::rate_limited(self.reset)
    }

    /// `X-RateLimit-Limit`, `-Remaining` and `-Reset` on `response`, unless a limit further in
    /// (a gateway's per tenant) already set a tighter one: the caller sees the limit it meets
    /// first.
    pub fn set_headers(&self, response: &mut Response) {
        // Named by `HeaderName` constants: a `&str` name is parsed on every insert and lookup.
        const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
        const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
        const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
        let remaining = self.limit.saturating_sub(self.count);
        let tighter_inside = response
            .headers()
            .get(REMAINING)
            .and_then(|value| value.to_str().ok()?.parse::<u32>().ok())
            .is_some_and(|inner| inner < remaining);
        if tighter_inside {
            return;
        }
        let headers = response.headers_mut();
        headers.insert(LIMIT, HeaderValue::from(self.limit));
        headers.insert(REMAINING, HeaderValue::from(remaining));
        headers.insert(RESET, HeaderValue::from(self.reset));
    }
}

impl Middleware for RateLimit {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        Box::pin(async move {
            let Some(rule) = self.rule_for(request.uri.path()) else {
                return next.run(request, context).await;
            };
            let key = format!("{}:{}", rule.prefix, client_key(&context));
            let quota = Quota::count(
                &*self.store,
                &key,
                rule.limit,
                rule.window_seconds,
                calls_in(&request),
                (self.clock)(),
                &context,
            )
            .await;
            let quota = match quota {
                Ok(quota) => quota,
                Err(error) => return error_response(&error, &context),
            };
            let mut response = if quota.exceeded() {
                error_response(&quota.error(), &context)
            } else {
                next.run(request, context).await
            };
            quota.set_headers(&mut response);
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_count_resets_in_a_later_window_and_reads_with_weight_zero() {
        let mut count = WindowCount::default();
        let first = Window::at(125, 60);
        assert_eq!(
            first,
            Window {
                start: 120,
                seconds: 60
            }
        );
        assert_eq!(first.remaining(125), 55);
        assert_eq!(count.hit(first, 1), 1);
        assert_eq!(count.hit(first, 5), 6);
        assert_eq!(count.hit(first, 0), 6, "a read");
        assert_eq!(
            count.hit(Window::at(59, 60), 1),
            7,
            "an earlier window counts in the current one"
        );
        assert_eq!(count.hit(Window::at(180, 60), 1), 1, "a new window");
    }

    #[test]
    fn nested_limits_report_the_tightest() {
        let mut response = Response::new(dotdo_runtime::http::Body::empty());
        let tenant = Quota {
            limit: 3,
            count: 2,
            reset: 40,
        };
        let everyone = Quota {
            limit: 600,
            count: 10,
            reset: 50,
        };
        tenant.set_headers(&mut response);
        everyone.set_headers(&mut response);
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert_eq!(
            (
                header("x-ratelimit-limit"),
                header("x-ratelimit-remaining"),
                header("x-ratelimit-reset")
            ),
            ("3".into(), "1".into(), "40".into())
        );
        // A looser inner limit gives way to the tighter outer one.
        let mut response = Response::new(dotdo_runtime::http::Body::empty());
        everyone.set_headers(&mut response);
        Quota {
            limit: 5,
            count: 5,
            reset: 9,
        }
        .set_headers(&mut response);
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
        assert!(
            !tenant.exceeded()
                && Quota {
                    limit: 5,
                    count: 6,
                    reset: 9
                }
                .exceeded()
        );
    }

    fn incoming(path: &str, body: &str) -> Incoming {
        Incoming {
            method: http::Method::POST,
            uri: path.parse().unwrap(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_batch_counts_as_its_calls() {
        assert_eq!(
            calls_in(&incoming("/_rpc", r#" [{"a":1},{"b":2},{"c":3}]"#)),
            3
        );
        assert_eq!(calls_in(&incoming("/mcp", r#"[{}, {}]"#)), 2);
        assert_eq!(calls_in(&incoming("/_rpc", r#"{"jsonrpc":"2.0"}"#)), 1);
        assert_eq!(
            calls_in(&incoming("/items", r#"[1,2,3]"#)),
            1,
            "a JSON array body elsewhere is one request"
        );
        assert_eq!(calls_in(&incoming("/_rpc", r#"[not json"#)), 1);
    }
}
