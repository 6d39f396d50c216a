//! The principal a gateway authenticated, trusted only when the gateway signed it for this
//! backend: the gateway sends it in `X-Dotdo-Principal` and, in `X-Dotdo-Gateway`, an expiry and
//! an HMAC-SHA256 over the expiry, the request id and the principal, keyed with the secret it
//! shares with *this* backend alone. Without a valid, unexpired signature the header is ignored,
//! so a client cannot claim to be anyone, a backend cannot pose as the gateway to another backend
//! (each has its own secret), and a captured header stops working within a minute.

use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use http::{HeaderName, HeaderValue};
use sha2::Sha256;

use dotdo_runtime::http::{Incoming, Response};
use dotdo_runtime::{Context, Middleware, Next, Principal};

pub const GATEWAY_HEADER: &str = "x-dotdo-gateway";
pub const PRINCIPAL_HEADER: &str = "x-dotdo-principal";

/// How long a forwarded principal stays valid: long enough for a backend call, short enough
/// that a leaked header is useless.
pub const FORWARDED_TTL_SECONDS: u64 = 60;

const SIGNATURE_VERSION: &str = "v1";

fn signature(secret: &str, expires: u64, request_id: &str, principal: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in [
        SIGNATURE_VERSION,
        &expires.to_string(),
        request_id,
        principal,
    ] {
        mac.update(part.as_bytes());
        mac.update(b"\n");
    }
    mac
}

/// The two headers a gateway sends to one backend for `principal`: (`X-Dotdo-Gateway`,
/// `X-Dotdo-Principal`), signed with that backend's `secret` for the call with `request_id`.
pub fn sign_forwarded(
    secret: &str,
    principal: &Principal,
    request_id: &str,
    now: u64,
) -> Option<(HeaderValue, HeaderValue)> {
    let principal = serde_json::to_string(principal).ok()?;
    let expires = now + FORWARDED_TTL_SECONDS;
    let tag = hex::encode(
        signature(secret, expires, request_id, &principal)
            .finalize()
            .into_bytes(),
    );
    let gateway = HeaderValue::from_str(&format!("{SIGNATURE_VERSION},{expires},{tag}")).ok()?;
    Some((gateway, HeaderValue::from_str(&principal).ok()?))
}

/// The headers that make a call carry `principal`, signed with `secret` (the one the called
/// service trusts as its gateway's) for a fresh request id: `X-Request-ID` and the forwarding
/// pair. A platform service calling another as its own caller (a job as its enqueuer) sends them.
pub fn forwarding_headers(
    secret: &str,
    principal: &Principal,
) -> Result<http::HeaderMap, dotdo_runtime::Error> {
    let request_id = dotdo_runtime::random::alphanumeric(32)?;
    let (gateway, forwarded) = sign_forwarded(
        secret,
        principal,
        &request_id,
        dotdo_runtime::clock::now_seconds(),
    )
    .ok_or_else(|| dotdo_runtime::Error::internal("the principal cannot be forwarded"))?;
    // Names made at compile time: inserting by `&str` parses the name at run time, which
    // links `http`'s table of standard headers (12 KB of wasm) into every worker that forwards.
    const GATEWAY: HeaderName = HeaderName::from_static(GATEWAY_HEADER);
    const PRINCIPAL: HeaderName = HeaderName::from_static(PRINCIPAL_HEADER);
    let mut headers = http::HeaderMap::with_capacity(3);
    headers.insert(
        dotdo_runtime::http::REQUEST_ID_HEADER,
        HeaderValue::from_str(&request_id).expect("alphanumeric ids are header values"),
    );
    headers.insert(GATEWAY, gateway);
    headers.insert(PRINCIPAL, forwarded);
    Ok(headers)
}

/// The service binding `binding` of `env`, calling as `principal` (see [`forwarding_headers`]):
/// make one per call, as the signature lasts a minute.
pub fn binding_as(
    env: &worker::Env,
    binding: &str,
    secret: &str,
    principal: &Principal,
) -> Result<dotdo_runtime::worker::ServiceBinding, dotdo_runtime::Error> {
    Ok(
        dotdo_runtime::worker::ServiceBinding::from_env(env, binding)?
            .with_headers(forwarding_headers(secret, principal)?),
    )
}

/// The services a platform service calls as its own caller (the queue service's targets, the
/// MCP hub's services): names to bindings from a JSON var (`{"db": "DB"}`), each binding with
/// the `FORWARD_SECRET_<BINDING>` secret its service trusts as its gateway's.
pub struct ForwardingBindings {
    env: worker::Env,
    /// (name, binding, forwarding secret), in name order: a handful, so a list (a hash map of
    /// its own, and a sort by each caller that lists them, were code in every worker using it).
    services: Vec<(String, String, String)>,
}

impl ForwardingBindings {
    /// The services of the JSON var `var`, each with its secret (a missing one is an error).
    pub fn from_var(env: &worker::Env, var: &str) -> Result<Self, dotdo_runtime::Error> {
        let config = dotdo_runtime::config::Config::new(env);
        let listed = dotdo_runtime::config::name_bindings(var, &config.var(var)?)?;
        let mut services = Vec::with_capacity(listed.len());
        for (name, binding) in listed {
            let secret = config.secret(&format!("FORWARD_SECRET_{binding}"))?;
            services.push((name, binding, secret));
        }
        Ok(ForwardingBindings {
            env: env.clone(),
            services,
        })
    }

    /// The services' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.services
            .iter()
            .map(|(name, ..)| name.clone())
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.services.iter().any(|(service, ..)| service == name)
    }

    /// The binding of `name`, calling as `principal` (anonymously without one); `None` for a
    /// name that is not one of the services.
    pub fn binding(
        &self,
        name: &str,
        principal: Option<&Principal>,
    ) -> Option<Result<dotdo_runtime::worker::ServiceBinding, dotdo_runtime::Error>> {
        let (_, binding, secret) = self.services.iter().find(|(service, ..)| service == name)?;
        Some(match principal {
            Some(principal) => binding_as(&self.env, binding, secret, principal),
            None => dotdo_runtime::worker::ServiceBinding::from_env(&self.env, binding),
        })
    }
}

/// Sets the principal a gateway forwarded, when the gateway signed it with this backend's secret
/// and the signature has not expired. Put it before `Authenticate`, which leaves an already-set
/// principal alone only if the request has no credentials of its own.
pub struct TrustGateway {
    secret: String,
    clock: fn() -> u64,
}

impl TrustGateway {
    /// Trusts principals signed with `secret`, the one this backend shares with the gateway. An
    /// empty secret trusts nothing.
    pub fn new(secret: impl Into<String>) -> Self {
        TrustGateway {
            secret: secret.into(),
            clock: dotdo_runtime::clock::now_seconds,
        }
    }

    /// Replaces the clock (seconds since the epoch), for tests.
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    /// The principal of `context`'s forwarding headers, if they carry a valid signature.
    pub fn verify(&self, context: &Context) -> Option<Principal> {
        if self.secret.is_empty() {
            return None;
        }
        let (version, rest) = context.header(GATEWAY_HEADER)?.split_once(',')?;
        let (expires, tag) = rest.split_once(',')?;
        let expires: u64 = expires.parse().ok()?;
        let now = (self.clock)();
        if version != SIGNATURE_VERSION || expires < now || expires > now + FORWARDED_TTL_SECONDS {
            return None;
        }
        let principal = context.header(PRINCIPAL_HEADER)?;
        signature(&self.secret, expires, context.request_id(), principal)
            .verify_slice(&hex::decode(tag).ok()?)
            .ok()?;
        dotdo_runtime::json::from_text(principal).ok()
    }
}

impl Middleware for TrustGateway {
    fn call<'a>(
        &'a self,
        request: Incoming,
        mut context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        if let Some(principal) = self.verify(&context) {
            context.set_principal(principal);
        }
        next.run(request, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn context_with(headers: Option<(HeaderValue, HeaderValue)>, request_id: &str) -> Context {
        let mut map = http::HeaderMap::new();
        map.insert("x-request-id", HeaderValue::from_str(request_id).unwrap());
        if let Some((gateway, principal)) = headers {
            map.insert(GATEWAY_HEADER, gateway);
            map.insert(PRINCIPAL_HEADER, principal);
        }
        Context::from_headers(dotdo_runtime::Interface::Http, map)
    }

    fn admin() -> Principal {
        Principal {
            id: "ops".into(),
            role: "admin".into(),
            scopes: vec![],
        }
    }

    #[test]
    fn a_principal_signed_for_this_backend_is_trusted() {
        let headers = sign_forwarded("db-secret", &admin(), "req-1", NOW);
        let trusted = TrustGateway::new("db-secret")
            .with_clock(|| NOW)
            .verify(&context_with(headers, "req-1"));
        assert_eq!(trusted, Some(admin()));
    }

    #[test]
    fn a_principal_signed_with_another_backends_secret_is_ignored() {
        let headers = sign_forwarded("auth-secret", &admin(), "req-1", NOW);
        assert_eq!(
            TrustGateway::new("db-secret")
                .with_clock(|| NOW)
                .verify(&context_with(headers, "req-1")),
            None
        );
    }

    #[test]
    fn expired_replayed_or_altered_headers_are_ignored() {
        let trust = TrustGateway::new("db-secret").with_clock(|| NOW + FORWARDED_TTL_SECONDS + 1);
        assert_eq!(
            trust.verify(&context_with(
                sign_forwarded("db-secret", &admin(), "req-1", NOW),
                "req-1"
            )),
            None,
            "expired"
        );
        let trust = TrustGateway::new("db-secret").with_clock(|| NOW);
        assert_eq!(
            trust.verify(&context_with(
                sign_forwarded("db-secret", &admin(), "req-1", NOW),
                "req-2"
            )),
            None,
            "another request"
        );
        let (gateway, _) = sign_forwarded("db-secret", &admin(), "req-1", NOW).unwrap();
        let forged = HeaderValue::from_static(r#"{"id":"ops","role":"superadmin"}"#);
        assert_eq!(
            trust.verify(&context_with(Some((gateway, forged)), "req-1")),
            None,
            "altered principal"
        );
        let garbage = Some((
            HeaderValue::from_static("v1,notanumber,zz"),
            HeaderValue::from_static("{}"),
        ));
        assert_eq!(trust.verify(&context_with(garbage, "req-1")), None);
        assert_eq!(
            TrustGateway::new("").verify(&context_with(
                sign_forwarded("", &admin(), "req-1", NOW),
                "req-1"
            )),
            None,
            "no secret, no trust"
        );
    }
}
