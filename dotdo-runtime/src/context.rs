//! The per-call context a method may take as `&Context`: who is calling, with which request id
//! and headers, and anything the platform or middleware attached. It is in no schema.

use http::HeaderMap;

/// The authenticated caller, set by authentication middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub role: String,
    pub scopes: Vec<String>,
}

/// Which interface a call arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    Http,
    Rpc,
    Mcp,
    Queue,
}

/// The context of one call.
#[derive(Debug)]
pub struct Context {
    request_id: String,
    interface: Interface,
    headers: HeaderMap,
    principal: Option<Principal>,
    extensions: http::Extensions,
}

impl Context {
    /// A context for a call on `interface` with a fresh request id.
    pub fn new(interface: Interface) -> Self {
        Context {
            request_id: crate::request_id::generate(),
            interface,
            headers: HeaderMap::new(),
            principal: None,
            extensions: http::Extensions::new(),
        }
    }

    /// A context for an HTTP request: its headers, and its `X-Request-ID` when that is a
    /// valid id, else a fresh one.
    pub fn from_headers(interface: Interface, headers: HeaderMap) -> Self {
        let mut context = Context::new(interface);
        if let Some(id) = headers
            .get(crate::request_id::HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| crate::request_id::is_valid(id))
        {
            context.request_id = id.to_owned();
        }
        context.headers = headers;
        context
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
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
        self.principal.as_ref()
    }
    pub fn set_principal(&mut self, principal: Principal) {
        self.principal = Some(principal);
    }
    /// Typed values attached by the platform or middleware (bindings, configuration, …).
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }
    /// Shorthand for `extensions().get::<T>()`.
    pub fn get<T: Send + Sync + Clone + 'static>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }
}
