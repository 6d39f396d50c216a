//! Rate limits per route prefix, keyed by principal else client IP, in fixed windows, with
//! `X-RateLimit-*` headers and 429 + `Retry-After` when the limit is reached.
//!
//! On Workers the counts live in KV ([`KvStore`]): shared by every isolate and location, where
//! per-isolate memory would let each of hundreds of isolates admit the full limit. KV is
//! eventually consistent (a burst served by several locations at once can overshoot a little)
//! and keeps a key for at least 60 s; a Durable Object would be exact at the cost of a class per
//! worker and a round trip to one location. [`MemoryStore`] is for tests.

use std::cell::RefCell;
use std::collections::HashMap;

use futures_util::future::LocalBoxFuture;
use http::HeaderValue;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next};

/// Where the counts of the current windows are kept.
pub trait RateLimitStore {
    /// Counts one more request for `key` in the window starting at `window_start`, returning the
    /// count including this one.
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window_start: u64,
        window_seconds: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>>;
}

impl<T: RateLimitStore + ?Sized> RateLimitStore for std::rc::Rc<T> {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window_start: u64,
        window_seconds: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        (**self).hit(key, window_start, window_seconds)
    }
}

/// Counts in this isolate's memory: for tests and local tools, not for Workers.
#[derive(Default)]
pub struct MemoryStore {
    counts: RefCell<HashMap<(String, u64), u32>>,
}

impl RateLimitStore for MemoryStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window_start: u64,
        _window_seconds: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        let mut counts = self.counts.borrow_mut();
        counts.retain(|(_, start), _| *start >= window_start);
        let count = counts.entry((key.to_owned(), window_start)).or_default();
        *count += 1;
        let count = *count;
        Box::pin(async move { Ok(count) })
    }
}

/// Counts in a Workers KV namespace, one key per client and window.
pub struct KvStore {
    kv: worker::KvStore,
}

impl KvStore {
    pub fn new(kv: worker::KvStore) -> Self {
        KvStore { kv }
    }
}

impl RateLimitStore for KvStore {
    fn hit<'a>(
        &'a self,
        key: &'a str,
        window_start: u64,
        window_seconds: u32,
    ) -> LocalBoxFuture<'a, Result<u32, Error>> {
        Box::pin(async move {
            let name = format!("ratelimit:{key}:{window_start}");
            let store_error =
                |error: worker::kv::KvError| Error::internal(format!("rate limit store: {error}"));
            let current: u32 = self
                .kv
                .get(&name)
                .text()
                .await
                .map_err(store_error)?
                .and_then(|text| text.parse().ok())
                .unwrap_or(0);
            let count = current + 1;
            // KV keeps keys for at least 60 s; the window start in the key makes old ones unused.
            let ttl = u64::from(window_seconds).max(60);
            self.kv
                .put(&name, count.to_string())
                .map_err(store_error)?
                .expiration_ttl(ttl)
                .execute()
                .await
                .map_err(store_error)?;
            Ok(count)
        })
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
        None => format!(
            "ip:{}",
            context.header("cf-connecting-ip").unwrap_or("unknown")
        ),
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
            let now = (self.clock)();
            let window = u64::from(rule.window_seconds);
            let window_start = now - now % window;
            let reset = (window_start + window - now) as u32;
            let key = format!("{}:{}", rule.prefix, client_key(&context));
            let count = match self
                .store
                .hit(&key, window_start, rule.window_seconds)
                .await
            {
                Ok(count) => count,
                // An unavailable store must not take the service down: serve, and log why.
                Err(error) => {
                    dotdo_runtime::log::error(
                        &context,
                        "rate limit store failed; request served",
                        &error,
                    );
                    return next.run(request, context).await;
                }
            };
            let mut response = if count > rule.limit {
                error_response(&Error::rate_limited(reset), &context)
            } else {
                next.run(request, context).await
            };
            let headers = response.headers_mut();
            headers.insert("x-ratelimit-limit", HeaderValue::from(rule.limit));
            headers.insert(
                "x-ratelimit-remaining",
                HeaderValue::from(rule.limit.saturating_sub(count)),
            );
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
            response
        })
    }
}
