//! The per-call context a method may take as `&Context`: who is calling, with which request id
//! and headers, and anything the platform or middleware attached. It is in no schema.

use std::cell::OnceCell;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::wire::header_text;

/// The authenticated caller, set by authentication middleware. It is also the wire form of a
/// caller between services (a forwarded principal, a verified key or token).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Principal {
    /// Who: a user, a key's owner, a service.
    pub id: String,
    /// What it may do: `admin`, `user`, `viewer`, `service`, …
    pub role: String,
    /// Finer permissions, when the credential carries them.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Which interface a call arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    Http,
    Rpc,
    Mcp,
    Queue,
    Cron,
    Email,
}

/// The context of one call.
#[derive(Debug)]
pub struct Context {
    /// Kept as a header value: it is validated once and goes back on the response as is.
    request_id: HeaderValue,
    interface: Interface,
    headers: RequestHeaders,
    /// Typed values, the principal among them: empty (and unallocated) for most calls.
    extensions: http::Extensions,
    /// The worker's bindings, when running on Workers.
    env: Option<worker::Env>,
    /// Headers (and cookies) a method set for its HTTP response, beside a typed result, in the
    /// order set. A list, not a `HeaderMap`: a context is moved several times per call, and
    /// most calls set none.
    response_headers: std::cell::RefCell<Vec<(HeaderName, HeaderValue)>>,
    /// The service, when the host shares ownership of it (Workers, the test client): a call
    /// that streams after its handler answered keeps it alive.
    shared_service: Option<std::rc::Rc<dyn std::any::Any>>,
}

impl Context {
    /// A context for a call on `interface` with a fresh request id.
    pub fn new(interface: Interface) -> Self {
        Self::from_headers(interface, HeaderMap::new())
    }

    /// A context for an event on Workers (a queue message, a cron run) with the worker's
    /// bindings, as a fetch gets them: every entry builds its context the same way.
    pub fn with_env(interface: Interface, env: worker::Env) -> Self {
        let mut context = Self::new(interface);
        context.set_env(env);
        context
    }

    /// A context for a queue message, whose id is the request id its log lines carry (no new
    /// id is made for it, so a failed message's lines are found by its id).
    pub fn for_message(message_id: &str) -> Self {
        let id = HeaderValue::from_str(message_id).ok();
        Self::with_request_id(
            Interface::Queue,
            id,
            RequestHeaders::from_map(HeaderMap::new()),
        )
    }

    /// A context for an HTTP request: its headers, and its `X-Request-ID` when that is a
    /// valid id, else a fresh one.
    pub fn from_headers(interface: Interface, mut headers: HeaderMap) -> Self {
        // Moved out rather than copied: it goes back on the response by `take_request_id`.
        let id = headers.remove(crate::request_id::HEADER);
        Self::with_request_id(interface, id, RequestHeaders::from_map(headers))
    }

    /// A context for an HTTP request whose headers arrived as text pairs (a Fetch `Headers`,
    /// names lower-case): they become a [`HeaderMap`] only if something asks for the map.
    pub fn from_header_pairs(interface: Interface, mut pairs: Vec<[String; 2]>) -> Self {
        let mut id = None;
        pairs.retain_mut(|[name, value]| {
            if !name.eq_ignore_ascii_case("x-request-id") {
                return true;
            }
            id.get_or_insert_with(|| std::mem::take(value));
            false
        });
        let id = id.and_then(|value| HeaderValue::from_str(&value).ok());
        let headers = RequestHeaders {
            pairs,
            map: OnceCell::new(),
        };
        Self::with_request_id(interface, id, headers)
    }

    /// A context whose request id is `id` when that is a valid one, else a fresh one.
    fn with_request_id(
        interface: Interface,
        id: Option<HeaderValue>,
        headers: RequestHeaders,
    ) -> Self {
        let request_id = id
            .filter(|id| id.to_str().is_ok_and(crate::request_id::is_valid))
            .unwrap_or_else(|| {
                HeaderValue::from_str(&crate::request_id::generate())
                    .expect("generated ids are valid header values")
            });
        Context {
            request_id,
            interface,
            headers,
            extensions: http::Extensions::new(),
            env: None,
            response_headers: Default::default(),
            shared_service: None,
        }
    }

    pub fn request_id(&self) -> &str {
        self.request_id
            .to_str()
            .expect("request ids are validated ASCII")
    }
    /// The request id as a header value, to propagate to the services this call reaches.
    pub fn request_id_header(&self) -> &HeaderValue {
        &self.request_id
    }
    /// Ends the context, giving its request id as the `X-Request-ID` value of the response.
    pub fn into_request_id_header(self) -> HeaderValue {
        self.request_id
    }
    pub fn interface(&self) -> Interface {
        self.interface
    }
    pub(crate) fn set_interface(&mut self, interface: Interface) {
        self.interface = interface;
    }
    /// The request's headers. Reading one by name with [`header`](Self::header) costs less on
    /// Workers, where the map is built on first use.
    pub fn headers(&self) -> &HeaderMap {
        self.headers.map()
    }
    /// One header's first value, when present and text (visible ASCII), as
    /// `headers().get(name)?.to_str()` gives it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name).and_then(header_text)
    }
    /// One header's first value when present: its text, or `""` when it is not text.
    pub fn header_or_empty(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .map(|value| header_text(value).unwrap_or_default())
    }
    /// One header's first value as sent, text or not.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers.values(name).next()
    }
    /// Every value of one header, in the order sent, as `headers().get_all(name)` gives them.
    pub(crate) fn header_values<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = &'s [u8]> + use<'s, 'n> {
        self.headers.values(name)
    }
    pub fn principal(&self) -> Option<&Principal> {
        self.extensions.get::<Principal>()
    }
    pub fn set_principal(&mut self, principal: Principal) {
        self.extensions.insert(principal);
    }
    /// Typed values attached by the platform or middleware (bindings, configuration, …).
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }
    /// The worker's bindings (D1, KV, queues, services, secrets, vars) when running on Workers;
    /// `None` in-process.
    pub fn env(&self) -> Option<&worker::Env> {
        self.env.as_ref()
    }
    pub fn set_env(&mut self, env: worker::Env) {
        self.env = Some(env);
    }
    /// The value of the request's cookie `name`, if it sent one.
    pub fn cookie(&self, name: &str) -> Option<String> {
        request_cookie(self.header_values("cookie"), name)
    }
    /// Sets a header on this call's HTTP response, whatever the method returns (a typed JSON
    /// result keeps its type). Ignored on RPC, MCP, queue and cron calls.
    pub fn set_header(&self, name: &str, value: &str) -> crate::Result<()> {
        let (name, value) = crate::response::header(name, value).map_err(crate::Error::internal)?;
        let mut headers = self.response_headers.borrow_mut();
        headers.retain(|(set, _)| *set != name);
        headers.push((name, value));
        Ok(())
    }
    /// Adds a cookie to this call's HTTP response: `HttpOnly`, `Secure`, `SameSite=Lax` and
    /// `Path=/` unless it says otherwise. Ignored on RPC, MCP, queue and cron calls.
    pub fn set_cookie(&self, cookie: cookie::Cookie<'_>) -> crate::Result<()> {
        let value = crate::response::set_cookie(cookie).map_err(crate::Error::internal)?;
        self.response_headers
            .borrow_mut()
            .push((http::header::SET_COOKIE, value));
        Ok(())
    }
    /// The headers set with [`set_header`](Self::set_header) and
    /// [`set_cookie`](Self::set_cookie) in the order set, leaving none.
    pub(crate) fn take_response_headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        std::mem::take(&mut self.response_headers.borrow_mut())
    }
    /// Shares ownership of the service this call runs on (see `shared_service`).
    pub fn share_service(&mut self, service: std::rc::Rc<dyn std::any::Any>) {
        self.shared_service = Some(service);
    }
    pub(crate) fn shared_service(&self) -> Option<std::rc::Rc<dyn std::any::Any>> {
        self.shared_service.clone()
    }
    /// Shorthand for `extensions().get::<T>()`.
    pub fn get<T: Send + Sync + Clone + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }
}

#[cfg(test)]
impl Context {
    /// A context for a request that sent these headers, handed over as Workers hands them.
    pub(crate) fn with_sent_headers(interface: Interface, sent: &[(&str, &str)]) -> Self {
        let pairs = sent
            .iter()
            .map(|(name, value)| [name.to_string(), value.to_string()])
            .collect();
        Context::from_header_pairs(interface, pairs)
    }
}

/// A request's headers. On Workers they arrive as text pairs, and become a [`HeaderMap`] only
/// when something asks for the map: parsing each name into an `http::HeaderName` costs every
/// request, and a new isolate compiling `http`'s standard-header table (12 KB of wasm), while
/// most requests are served reading a header or two by name, or none.
#[derive(Debug)]
struct RequestHeaders {
    /// As sent; empty when the headers came as a map.
    pairs: Vec<[String; 2]>,
    map: OnceCell<HeaderMap>,
}

impl RequestHeaders {
    fn from_map(map: HeaderMap) -> Self {
        RequestHeaders {
            pairs: Vec::new(),
            map: OnceCell::from(map),
        }
    }

    fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| header_map(&self.pairs))
    }

    /// The values of `name` that the map holds (or would), in order.
    fn values<'s, 'n>(&'s self, name: &'n str) -> HeaderValues<'s, 'n> {
        match self.map.get() {
            Some(map) => HeaderValues::InMap(map.iter(), name),
            None => HeaderValues::InPairs(self.pairs.iter(), name),
        }
    }
}

/// One header's values, from whichever form the headers are in. An enum rather than an iterator
/// chain: this is on every worker's request path, and a chain of adapters compiles to several
/// times the code (worker size).
enum HeaderValues<'s, 'n> {
    /// Searched by name rather than looked up: a `&str` key is parsed against `http`'s table
    /// of standard names, whose code a worker otherwise need not carry.
    InMap(http::header::Iter<'s, HeaderValue>, &'n str),
    InPairs(std::slice::Iter<'s, [String; 2]>, &'n str),
}

impl<'s> Iterator for HeaderValues<'s, '_> {
    type Item = &'s [u8];

    fn next(&mut self) -> Option<&'s [u8]> {
        match self {
            HeaderValues::InMap(entries, name) => entries
                .find(|(sent, _)| sent.as_str().eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_bytes()),
            HeaderValues::InPairs(pairs, name) => pairs
                .find(|[sent, value]| sent.eq_ignore_ascii_case(name) && is_header_value(value))
                .map(|[_, value]| value.as_bytes()),
        }
    }
}

/// Text pairs as a `HeaderMap`, leaving out what `http` cannot represent.
pub(crate) fn header_map(pairs: &[[String; 2]]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(pairs.len());
    for [name, value] in pairs {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// Whether `http` takes `value` as a header value (`HeaderValue::from_str`).
pub(crate) fn is_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|byte| byte == b'\t' || (byte >= 32 && byte != 127))
}

/// The value of the request's cookie `name`, if it sent one. A `Cookie` header is only
/// `name=value` pairs joined by `;` (RFC 6265 §5.4), percent-encoded as the cookies dotdo sets
/// are: read here without the `cookie` crate's parser, which parses `Set-Cookie` attributes and
/// their dates too and would link a date parser into every worker.
fn request_cookie<'v>(
    cookie_headers: impl Iterator<Item = &'v [u8]>,
    name: &str,
) -> Option<String> {
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(text.trim())
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    cookie_headers
        .filter_map(header_text)
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| !key.trim().is_empty() && decoded(key).as_deref() == Some(name))
        .and_then(|(_, value)| decoded(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same request headers both ways a context gets them: as a `HeaderMap` (in-process)
    /// and as the text pairs of a Fetch `Headers` (Workers).
    fn both_ways(pairs: &[(&str, &str)]) -> [Context; 2] {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let Ok(value) = HeaderValue::from_str(value) {
                map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
            }
        }
        [
            Context::from_headers(Interface::Http, map),
            Context::with_sent_headers(Interface::Http, pairs),
        ]
    }

    fn cookies(values: &[&str]) -> [Context; 2] {
        let pairs: Vec<(&str, &str)> = values.iter().map(|value| ("cookie", *value)).collect();
        both_ways(&pairs)
    }

    #[test]
    fn a_header_set_again_replaces_the_first_and_every_cookie_is_kept_in_order() {
        let context = Context::new(Interface::Http);
        assert!(context.take_response_headers().is_empty());
        context.set_header("cache-control", "no-store").unwrap();
        context.set_cookie(cookie::Cookie::new("a", "1")).unwrap();
        context.set_header("Cache-Control", "private").unwrap();
        context.set_cookie(cookie::Cookie::new("b", "2")).unwrap();
        let set: Vec<(String, String)> = context
            .take_response_headers()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        let names: Vec<&str> = set.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["set-cookie", "cache-control", "set-cookie"]);
        assert_eq!(set[1].1, "private");
        assert!(
            set[0].1.starts_with("a=1;") && set[2].1.starts_with("b=2;"),
            "{set:?}"
        );
        assert!(context.take_response_headers().is_empty(), "taken once");
    }

    #[test]
    fn request_cookies_are_found_by_name_across_headers_and_decoded() {
        for context in cookies(&["theme=dark;sid=abc%20123", " lang = en ; x=a=b"]) {
            assert_eq!(context.cookie("sid").as_deref(), Some("abc 123"));
            assert_eq!(context.cookie("theme").as_deref(), Some("dark"));
            assert_eq!(context.cookie("lang").as_deref(), Some("en"));
            // Only the first `=` separates the name; the value may hold more.
            assert_eq!(context.cookie("x").as_deref(), Some("a=b"));
            assert_eq!(context.cookie("missing"), None);
        }
    }

    #[test]
    fn malformed_request_cookies_are_skipped() {
        for context in cookies(&["novalue; =orphan; bad=%FF; ok=1"]) {
            assert_eq!(context.cookie("novalue"), None);
            assert_eq!(context.cookie(""), None);
            assert_eq!(context.cookie("bad"), None, "not UTF-8 once decoded");
            assert_eq!(context.cookie("ok").as_deref(), Some("1"));
        }
        for context in cookies(&[]) {
            assert_eq!(context.cookie("ok"), None);
        }
    }

    #[test]
    fn headers_read_the_same_from_text_pairs_as_from_a_map() {
        let sent = [
            ("accept", "application/json"),
            ("x-request-id", "req-from-the-caller"),
            ("x-tag", "a"),
            ("x-tag", "b"),
            ("x-latin", "caf\u{e9}"),
            ("x-control", "bad\u{1}value"),
        ];
        for context in both_ways(&sent) {
            assert_eq!(context.request_id(), "req-from-the-caller");
            assert_eq!(
                context.header("x-request-id"),
                None,
                "moved to the request id"
            );
            assert_eq!(context.header("Accept"), Some("application/json"));
            assert_eq!(context.header("x-tag"), Some("a"), "the first value");
            let tags: Vec<&[u8]> = context.header_values("x-tag").collect();
            assert_eq!(tags, [b"a", b"b"]);
            // Sent, but not visible ASCII: there as bytes, not as text.
            assert_eq!(context.header("x-latin"), None);
            assert_eq!(
                context.header_bytes("x-latin"),
                Some("caf\u{e9}".as_bytes())
            );
            // Not a value `http` takes: absent both ways.
            assert_eq!(context.header_bytes("x-control"), None);
            assert_eq!(context.header("missing"), None);
        }
        let [from_map, from_pairs] = both_ways(&sent);
        assert_eq!(from_pairs.headers(), from_map.headers());
        // Once the map is built, reading by name goes through it and agrees.
        assert_eq!(from_pairs.header("accept"), Some("application/json"));
        assert_eq!(from_pairs.header_values("x-tag").count(), 2);
    }

    #[test]
    fn an_invalid_request_id_in_text_pairs_is_replaced_and_not_kept_as_a_header() {
        let [_, context] = both_ways(&[("x-request-id", "has spaces and ; semicolons")]);
        assert_ne!(context.request_id(), "has spaces and ; semicolons");
        assert!(crate::request_id::is_valid(context.request_id()));
        assert!(context.headers().is_empty());
    }
}
