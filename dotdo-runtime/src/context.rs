//! The per-call context a method may take as `&Context`: who is calling, with which request id
//! and headers, and anything the platform or middleware attached. It is in no schema.

use http::{HeaderMap, HeaderName, HeaderValue};

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
    headers: HeaderMap,
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
        Self::with_request_id(Interface::Queue, id, HeaderMap::new())
    }

    /// A context for an HTTP request: its headers, and its `X-Request-ID` when that is a
    /// valid id, else a fresh one.
    pub fn from_headers(interface: Interface, mut headers: HeaderMap) -> Self {
        // Moved out rather than copied: it goes back on the response by `take_request_id`.
        let id = headers.remove(crate::request_id::HEADER);
        Self::with_request_id(interface, id, headers)
    }

    /// A context whose request id is `id` when that is a valid one, else a fresh one.
    fn with_request_id(interface: Interface, id: Option<HeaderValue>, headers: HeaderMap) -> Self {
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
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    /// One header's value, when present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
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
        request_cookie(&self.headers, name)
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

/// The value of the request's cookie `name`, if it sent one. A `Cookie` header is only
/// `name=value` pairs joined by `;` (RFC 6265 §5.4), percent-encoded as the cookies dotdo sets
/// are: read here without the `cookie` crate's parser, which parses `Set-Cookie` attributes and
/// their dates too and would link a date parser into every worker.
pub(crate) fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(text.trim())
            .decode_utf8()
            .ok()
            .map(|text| text.into_owned())
    };
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| !key.trim().is_empty() && decoded(key).as_deref() == Some(name))
        .and_then(|(_, value)| decoded(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(http::header::COOKIE, value.parse().unwrap());
        }
        headers
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
        let headers = cookies(&["theme=dark;sid=abc%20123", " lang = en ; x=a=b"]);
        assert_eq!(request_cookie(&headers, "sid").as_deref(), Some("abc 123"));
        assert_eq!(request_cookie(&headers, "theme").as_deref(), Some("dark"));
        assert_eq!(request_cookie(&headers, "lang").as_deref(), Some("en"));
        // Only the first `=` separates the name; the value may hold more.
        assert_eq!(request_cookie(&headers, "x").as_deref(), Some("a=b"));
        assert_eq!(request_cookie(&headers, "missing"), None);
    }

    #[test]
    fn malformed_request_cookies_are_skipped() {
        let headers = cookies(&["novalue; =orphan; bad=%FF; ok=1"]);
        assert_eq!(request_cookie(&headers, "novalue"), None);
        assert_eq!(request_cookie(&headers, ""), None);
        assert_eq!(
            request_cookie(&headers, "bad"),
            None,
            "not UTF-8 once decoded"
        );
        assert_eq!(request_cookie(&headers, "ok").as_deref(), Some("1"));
        assert_eq!(request_cookie(&HeaderMap::new(), "ok"), None);
    }
}
