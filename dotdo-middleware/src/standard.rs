//! The stack every service starts from, assembled in the one order that is safe, so a service
//! states only what differs (its body limit, its origins, its limits).

use crate::{Authenticate, BodyLimit, Cors, RateLimit, RequestLog, Stack, TrustGateway};

/// The standard middleware of a service: request log, CORS (when set), body limit, gateway
/// trust (when behind the gateway), authentication, rate limits (when set).
///
/// ```text
/// fn middleware(&self) -> dotdo::Stack {
///     Standard::new(Authenticate::new().api_keys(self.keys.clone()))
///         .body_limit(64 * 1024)
///         .behind_gateway(self.gateway_secret.clone())
///         .stack()
/// }
/// ```
///
/// The order is why this exists: the log sees every answer, refusals included; CORS answers a
/// preflight before credentials are asked for; an oversized body is refused before anything
/// reads it; the gateway's principal is taken before authentication looks for one; limits count
/// per principal once it is known.
pub struct Standard {
    cors: Option<Cors>,
    body_limit: usize,
    gateway_secret: Option<String>,
    authenticate: Authenticate,
    rate_limit: Option<RateLimit>,
}

impl Standard {
    /// The largest body a service takes unless it says otherwise.
    pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

    pub fn new(authenticate: Authenticate) -> Self {
        Standard {
            cors: None,
            body_limit: Self::DEFAULT_BODY_LIMIT,
            gateway_secret: None,
            authenticate,
            rate_limit: None,
        }
    }

    /// Refuses bodies over `bytes` with 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Answers browsers' cross-origin requests as `cors` allows.
    pub fn cors(mut self, cors: Cors) -> Self {
        self.cors = Some(cors);
        self
    }

    /// Trusts the principal the gateway signed with `secret` (this backend's own).
    pub fn behind_gateway(mut self, secret: impl Into<String>) -> Self {
        self.gateway_secret = Some(secret.into());
        self
    }

    /// Counts requests against `limits`.
    pub fn rate_limit(mut self, limits: RateLimit) -> Self {
        self.rate_limit = Some(limits);
        self
    }

    /// The stack; a service may add its own layers inside it with [`Stack::with`].
    pub fn stack(self) -> Stack {
        let mut stack = Stack::new().with(RequestLog);
        if let Some(cors) = self.cors {
            stack = stack.with(cors);
        }
        stack = stack.with(BodyLimit::bytes(self.body_limit));
        if let Some(secret) = self.gateway_secret {
            stack = stack.with(TrustGateway::new(secret));
        }
        stack = stack.with(self.authenticate);
        if let Some(limits) = self.rate_limit {
            stack = stack.with(limits);
        }
        stack
    }
}

impl From<Standard> for Stack {
    fn from(standard: Standard) -> Stack {
        standard.stack()
    }
}
