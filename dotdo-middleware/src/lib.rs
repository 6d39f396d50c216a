//! Shared middleware for dotdo services, written once for every service and template.
//!
//! ```text
//! #[dotdo::service(middleware = "middleware")]
//! impl Items { … }
//!
//! impl Items {
//!     fn middleware(&self) -> dotdo::Stack {
//!         Standard::new(Authenticate::new().api_keys(self.keys.clone()).jwt(self.jwt.clone()).limit_failures(self.limits.clone(), 10, 300))
//!             .cors(Cors::origins(["https://app.example.com"]))
//!             .body_limit(1 << 20)
//!             .rate_limit(RateLimit::new(self.limits.clone()).rule("/", 100, 60))
//!             .stack()
//!     }
//! }
//! ```
//!
//! [`Standard`] assembles the usual layers in their safe order; a `Stack` built by hand with
//! `.with(…)` takes any layers in any order.
//!
//! Every path under `/_` needs an authenticated principal (the runtime enforces it after the
//! stack has run); routes ask for more with `#[http(…, auth)]` or `#[http(…, role = "admin")]`.

mod auth;
mod body_limit;
mod cors;
mod rate_limit;
mod request_log;
mod signature;
mod standard;
mod trust;

pub use auth::{
    ApiKeyVerifier, Authenticate, HashedKeys, Jwt, ProtectedResource, TokenVerifier, key_hash,
};
pub use body_limit::BodyLimit;
pub use cors::Cors;
#[cfg(feature = "rate-limiter")]
pub use rate_limit::RateLimiter;
pub use rate_limit::{
    DurableStore, MemoryStore, Quota, RateLimit, RateLimitStore, Window, WindowCount,
};
pub use request_log::RequestLog;
pub use signature::{DEFAULT_TOLERANCE_SECONDS, WebhookSignature};
pub use standard::Standard;
pub use trust::{
    FORWARDED_TTL_SECONDS, ForwardingBindings, GATEWAY_HEADER, PRINCIPAL_HEADER, TrustGateway,
    binding_as, forwarding_headers, sign_forwarded,
};

pub use dotdo_runtime::{Context, Error, Middleware, Next, Principal, Stack};
