//! Authentication: `Authorization: Bearer` with an API key (`sk_live_…` / `sk_test_…`) or a JWT
//! (HS256 only), producing the call's [`Principal`]. What a route then requires (any principal
//! under `/_`, a role) the runtime checks; this layer only says who is calling.
//!
//! A request without credentials passes through unauthenticated; credentials that are present
//! but malformed, unknown, revoked, expired or forged are refused with 401 at once. No answer
//! names a secret or says which part of a token was wrong beyond what the caller can fix.

use std::rc::Rc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next, Principal};

use crate::rate_limit::{RateLimitStore, Window, client_ip, count};

/// Checks an API key: the auth service over its typed client, or [`HashedKeys`] for a
/// standalone service. `Ok(None)` for a key it does not know (or that was revoked).
pub trait ApiKeyVerifier {
    fn verify<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Principal>, Error>>;
}

/// API keys known by their SHA-256, from a secret: one key per line or comma,
/// `<sha256 hex>=<principal id>:<role>[:<scope> <scope>…]`. The keys themselves are never stored.
#[derive(Clone, Default)]
pub struct HashedKeys {
    keys: Rc<Vec<([u8; 32], Principal)>>,
}

impl HashedKeys {
    /// Parses the secret's text; a malformed entry is an error naming its position, not its text.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let mut keys = Vec::new();
        for (index, entry) in text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .enumerate()
        {
            let malformed = || {
                Error::internal(format!(
                    "API key entry {} is not `<sha256 hex>=<id>:<role>[:<scopes>]`",
                    index + 1
                ))
            };
            let (hash, who) = entry.split_once('=').ok_or_else(malformed)?;
            let mut digest = [0u8; 32];
            hex::decode_to_slice(hash, &mut digest).map_err(|_| malformed())?;
            let mut parts = who.splitn(3, ':');
            let (Some(id), Some(role)) = (parts.next(), parts.next()) else {
                return Err(malformed());
            };
            let scopes = parts
                .next()
                .map(|scopes| scopes.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            keys.push((
                digest,
                Principal {
                    id: id.to_owned(),
                    role: role.to_owned(),
                    scopes,
                },
            ));
        }
        Ok(HashedKeys {
            keys: Rc::new(keys),
        })
    }

    /// The entry line for `key`, for setting up the secret.
    pub fn entry_for(key: &str, id: &str, role: &str) -> String {
        format!("{}={id}:{role}", key_hash(key))
    }
}

/// The SHA-256 of an API key, hex: how keys are stored and looked up, never the key itself.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

impl ApiKeyVerifier for HashedKeys {
    fn verify<'a>(&'a self, key: &'a str) -> LocalBoxFuture<'a, Result<Option<Principal>, Error>> {
        let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        // Every entry is compared, in constant time, so timing says nothing about near misses.
        let mut found = None;
        for (known, principal) in self.keys.iter() {
            if bool::from(known.ct_eq(&digest)) {
                found = Some(principal.clone());
            }
        }
        Box::pin(async move { Ok(found) })
    }
}

/// Checks a bearer token (a JWT): a [`Jwt`] verifier here, or the issuing auth service, which
/// also knows whether the token's session was revoked.
pub trait TokenVerifier {
    fn verify_token<'a>(&'a self, token: &'a str) -> LocalBoxFuture<'a, Result<Principal, Error>>;
}

/// JWTs signed with HS256 and a shared secret, for one audience. Every other algorithm, `none`
/// included, is refused; `exp`, `nbf` (with a small leeway for clock skew) and `aud` are always
/// checked, `iss` when configured, so a token minted for another audience (a refresh token, a
/// token for another service) is never accepted. The principal is `sub`, with `role` (default
/// `user`) and `scope`.
#[derive(Clone)]
pub struct Jwt {
    key: Rc<Vec<u8>>,
    issuer: Option<String>,
    audience: String,
    leeway: u64,
    clock: fn() -> u64,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

/// The claims a token is checked by. Read from the claims object by hand: a derived
/// `Deserialize` from the `Value` would compile serde's `&Value` deserializer for this struct
/// alone (worker size). Each is absent, `null`, or of its type; anything else is malformed.
struct Claims<'a> {
    sub: Option<&'a str>,
    exp: Option<u64>,
    nbf: Option<u64>,
    iss: Option<&'a str>,
    aud: Option<&'a Value>,
    role: Option<&'a str>,
    scope: Option<&'a str>,
}

impl<'a> Claims<'a> {
    fn read(raw: &'a Value) -> Option<Self> {
        let object = raw.as_object()?;
        let field = |name: &str| object.get(name).filter(|value| !value.is_null());
        let text = |name| field(name).map_or(Some(None), |value| value.as_str().map(Some));
        let seconds = |name| field(name).map_or(Some(None), |value| value.as_u64().map(Some));
        Some(Claims {
            sub: text("sub")?,
            exp: seconds("exp")?,
            nbf: seconds("nbf")?,
            iss: text("iss")?,
            aud: field("aud"),
            role: text("role")?,
            scope: text("scope")?,
        })
    }
}

impl Jwt {
    /// Tokens signed with `secret` and addressed to `audience` (their `aud` is it, or a list
    /// holding it).
    pub fn hs256(secret: impl AsRef<[u8]>, audience: &str) -> Self {
        Jwt {
            key: Rc::new(secret.as_ref().to_vec()),
            issuer: None,
            audience: audience.to_owned(),
            leeway: 30,
            clock: dotdo_runtime::clock::now_seconds,
        }
    }

    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// Replaces the clock (seconds since the epoch), for tests.
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    /// Signs `claims` (for tests and the auth service): `base64url(header).base64url(claims).mac`.
    pub fn sign(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(dotdo_runtime::json::to_text(claims));
        let signing_input = format!("{header}.{payload}");
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The principal a token stands for, or why it does not.
    pub fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.verify_claims(token).map(|(principal, _)| principal)
    }

    /// The principal and all the claims of a valid token (for `jti`, `sid` and other claims of
    /// the issuer's own).
    pub fn verify_claims(&self, token: &str) -> Result<(Principal, Value), Error> {
        let invalid = |why: &str| Error::unauthorized(format!("invalid token: {why}"));
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a JWT"));
        };
        let header: JwtHeader = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| dotdo_runtime::json::from_text(bytes).ok())
            .ok_or_else(|| invalid("malformed header"))?;
        if header.alg != "HS256" {
            return Err(invalid("unsupported algorithm"));
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid("malformed signature"))?;
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(&token.as_bytes()[..header_and_payload_len(token)]);
        mac.verify_slice(&signature)
            .map_err(|_| invalid("bad signature"))?;
        let raw: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|bytes| dotdo_runtime::json::parse(bytes).ok())
            .ok_or_else(|| invalid("malformed claims"))?;
        let claims = Claims::read(&raw).ok_or_else(|| invalid("malformed claims"))?;
        let now = (self.clock)();
        match claims.exp {
            Some(exp) if now > exp + self.leeway => return Err(invalid("expired")),
            None => return Err(invalid("no expiry")),
            _ => {}
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + self.leeway) {
            return Err(invalid("not valid yet"));
        }
        if let Some(issuer) = &self.issuer {
            if claims.iss != Some(issuer.as_str()) {
                return Err(invalid("wrong issuer"));
            }
        }
        let audience = self.audience.as_str();
        let addressed = match claims.aud {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
            _ => false,
        };
        if !addressed {
            return Err(invalid("wrong audience"));
        }
        let id = claims
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| invalid("no subject"))?;
        let principal = Principal {
            id: id.to_owned(),
            role: claims.role.unwrap_or("user").to_owned(),
            scopes: claims
                .scope
                .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        };
        Ok((principal, raw))
    }
}

impl TokenVerifier for Jwt {
    fn verify_token<'a>(&'a self, token: &'a str) -> LocalBoxFuture<'a, Result<Principal, Error>> {
        let verified = self.verify(token);
        Box::pin(async move { verified })
    }
}

/// The length of `header.payload`: what the signature covers.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}

/// Makes the MCP endpoint require authentication the OAuth way (MCP authorization, RFC 9728):
/// an unauthenticated request to `/mcp` gets 401 with
/// `WWW-Authenticate: Bearer resource_metadata="<resource>/.well-known/oauth-protected-resource"`,
/// and that document names the authorization servers.
#[derive(Clone)]
pub struct ProtectedResource {
    /// The service's public base URL (`https://items.example.com`).
    pub resource: String,
    pub authorization_servers: Vec<String>,
}

const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Failed authentications counted per client IP: past `max` in a window, 429.
struct FailureLimit {
    store: Box<dyn RateLimitStore>,
    max: u32,
    window_seconds: u32,
}

/// Authenticates `Authorization: Bearer` credentials with the verifiers configured.
pub struct Authenticate {
    api_keys: Option<Rc<dyn ApiKeyVerifier>>,
    tokens: Option<Rc<dyn TokenVerifier>>,
    protected: Option<ProtectedResource>,
    failures: Option<FailureLimit>,
    clock: fn() -> u64,
}

impl Default for Authenticate {
    fn default() -> Self {
        Authenticate {
            api_keys: None,
            tokens: None,
            protected: None,
            failures: None,
            clock: dotdo_runtime::clock::now_seconds,
        }
    }
}

impl Authenticate {
    pub fn new() -> Self {
        Authenticate::default()
    }

    pub fn api_keys(mut self, verifier: impl ApiKeyVerifier + 'static) -> Self {
        self.api_keys = Some(Rc::new(verifier));
        self
    }

    /// Verifies JWTs here, with `jwt`'s secret and audience.
    pub fn jwt(self, jwt: Jwt) -> Self {
        self.tokens(jwt)
    }

    /// Verifies JWTs with `verifier` (the auth service's, which also refuses revoked sessions).
    pub fn tokens(mut self, verifier: impl TokenVerifier + 'static) -> Self {
        self.tokens = Some(Rc::new(verifier));
        self
    }

    /// Counts failed authentications per client IP (`CF-Connecting-IP`) in `store`: after `max`
    /// failures in `window_seconds`, that client gets 429 without its credentials being checked,
    /// so guessing keys costs the verifier (and the auth service's database) nothing.
    pub fn limit_failures(
        mut self,
        store: impl RateLimitStore + 'static,
        max: u32,
        window_seconds: u32,
    ) -> Self {
        self.failures = Some(FailureLimit {
            store: Box::new(store),
            max: max.max(1),
            window_seconds,
        });
        self
    }

    /// Replaces the clock (seconds since the epoch) of the failure windows, for tests.
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    pub fn protect_mcp(mut self, resource: ProtectedResource) -> Self {
        self.protected = Some(resource);
        self
    }

    async fn principal(&self, authorization: &str) -> Result<Principal, Error> {
        let token = authorization
            .strip_prefix("Bearer ")
            .or_else(|| authorization.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Error::unauthorized("malformed Authorization header: expected `Bearer <token>`")
            })?;
        if token.starts_with("sk_live_") || token.starts_with("sk_test_") {
            let verifier = self
                .api_keys
                .as_ref()
                .ok_or_else(|| Error::unauthorized("API keys are not accepted here"))?;
            return verifier
                .verify(token)
                .await?
                .ok_or_else(|| Error::unauthorized("invalid API key"));
        }
        match &self.tokens {
            Some(tokens) if token.matches('.').count() == 2 => tokens.verify_token(token).await,
            _ => Err(Error::unauthorized("unrecognized credentials")),
        }
    }

    /// The principal of `authorization`, with failed attempts counted when configured.
    async fn authenticate(
        &self,
        authorization: &str,
        context: &Context,
    ) -> Result<Principal, Error> {
        let Some(limit) = &self.failures else {
            return self.principal(authorization).await;
        };
        let now = (self.clock)();
        let window = Window::at(now, limit.window_seconds);
        let key = format!("auth-failures:ip:{}", client_ip(context));
        if count(&*limit.store, &key, window, 0, context).await? >= limit.max {
            return Err(Error::rate_limited(window.remaining(now)));
        }
        let error = match self.principal(authorization).await {
            Ok(principal) => return Ok(principal),
            // Only refused credentials count: a verifier that is down is not the client's doing.
            Err(error) if error.kind() != dotdo_runtime::ErrorKind::Unauthorized => {
                return Err(error);
            }
            Err(error) => error,
        };
        let failures = count(&*limit.store, &key, window, 1, context).await?;
        if failures > limit.max {
            Err(Error::rate_limited(window.remaining(now)))
        } else {
            Err(error)
        }
    }

    fn metadata(&self, protected: &ProtectedResource) -> Response {
        let body = json!({
            "resource": format!("{}/mcp", protected.resource.trim_end_matches('/')),
            "authorization_servers": protected.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        let mut response = Response::new(dotdo_runtime::json::to_text(&body).into_bytes().into());
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl Middleware for Authenticate {
    fn call<'a>(
        &'a self,
        request: Incoming,
        mut context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        Box::pin(async move {
            let path = request.uri.path();
            if let Some(protected) = &self.protected {
                if path == METADATA_PATH && request.method == http::Method::GET {
                    return self.metadata(protected);
                }
            }
            // A value that is not text is an empty credential, refused as one.
            let authorization = context.header_or_empty("authorization").map(str::to_owned);
            let principal = match authorization {
                // A principal set before this layer (forwarded by a trusted gateway) stands.
                None => context.principal().cloned(),
                // Boxed, so its state is not inlined here: a new isolate whose first request
                // carries no credentials (a public read) does not compile their checking.
                Some(authorization) => {
                    match Box::pin(self.authenticate(&authorization, &context)).await {
                        Ok(principal) => Some(principal),
                        Err(error) => return error_response(&error, &context),
                    }
                }
            };
            if principal.is_none() && path == dotdo_runtime::http::MCP_PATH {
                if let Some(protected) = &self.protected {
                    let mut response =
                        error_response(&Error::unauthorized("authentication required"), &context);
                    let challenge = format!(
                        "Bearer resource_metadata=\"{}{METADATA_PATH}\"",
                        protected.resource.trim_end_matches('/')
                    );
                    if let Ok(challenge) = HeaderValue::from_str(&challenge) {
                        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
                    }
                    return response;
                }
            }
            if let Some(principal) = &principal {
                context.set_principal(principal.clone());
            }
            let mut response = next.run(request, context).await;
            if let Some(principal) = principal {
                response.extensions_mut().insert(principal);
            }
            response
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What `Claims::read` replaced: the same fields through a derived `Deserialize`.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Derived {
        sub: Option<String>,
        exp: Option<u64>,
        nbf: Option<u64>,
        iss: Option<String>,
        #[serde(default)]
        aud: Option<Value>,
        role: Option<String>,
        scope: Option<String>,
    }

    fn read(raw: &Value) -> Option<Derived> {
        Claims::read(raw).map(|claims| Derived {
            sub: claims.sub.map(str::to_owned),
            exp: claims.exp,
            nbf: claims.nbf,
            iss: claims.iss.map(str::to_owned),
            aud: claims.aud.cloned(),
            role: claims.role.map(str::to_owned),
            scope: claims.scope.map(str::to_owned),
        })
    }

    #[test]
    fn claims_are_read_as_a_derived_deserialize_reads_an_object() {
        let objects = [
            json!({}),
            json!({"sub": "u1", "exp": 10, "nbf": 0, "iss": "i", "aud": "a", "role": "admin", "scope": "x y"}),
            json!({"sub": null, "exp": null, "aud": null, "role": null}),
            json!({"aud": ["a", "b"], "extra": {"nested": true}}),
            json!({"exp": 18446744073709551615_u64}),
            json!({"exp": -1}),
            json!({"exp": 1.5}),
            json!({"exp": "10"}),
            json!({"sub": 7}),
            json!({"role": ["admin"]}),
            json!({"scope": {"a": 1}}),
            json!({"iss": true}),
            json!({"nbf": 1e3}),
        ];
        for raw in objects {
            assert_eq!(read(&raw), Derived::deserialize(&raw).ok(), "{raw}");
        }
    }

    #[test]
    fn claims_that_are_not_an_object_are_malformed() {
        for raw in [
            json!(null),
            json!("sub"),
            json!(3),
            json!([]),
            json!(["u1", 10]),
        ] {
            assert!(Claims::read(&raw).is_none(), "{raw}");
        }
    }
}
