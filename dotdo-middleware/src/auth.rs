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
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next, Principal};

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
            let bytes = (0..32)
                .map(|i| {
                    hash.get(i * 2..i * 2 + 2)
                        .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .filter(|_| hash.len() == 64)
                .ok_or_else(malformed)?;
            digest.copy_from_slice(&bytes);
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
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
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

/// JWTs signed with HS256 and a shared secret. Every other algorithm, `none` included, is
/// refused; `exp` and `nbf` are checked (with a small leeway for clock skew), and `iss` / `aud`
/// when configured. The principal is `sub`, with `role` (default `user`) and `scope`.
#[derive(Clone)]
pub struct Jwt {
    key: Rc<Vec<u8>>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    clock: fn() -> u64,
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Value>,
    role: Option<String>,
    scope: Option<String>,
}

impl Jwt {
    pub fn hs256(secret: impl AsRef<[u8]>) -> Self {
        Jwt {
            key: Rc::new(secret.as_ref().to_vec()),
            issuer: None,
            audience: None,
            leeway: 30,
            clock: dotdo_runtime::clock::now_seconds,
        }
    }

    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = Some(audience.to_owned());
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
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
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
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
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
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| invalid("malformed claims"))?;
        let claims = Claims::deserialize(&raw).map_err(|_| invalid("malformed claims"))?;
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
            if claims.iss.as_deref() != Some(issuer) {
                return Err(invalid("wrong issuer"));
            }
        }
        if let Some(audience) = &self.audience {
            let matches = match &claims.aud {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience)),
                _ => false,
            };
            if !matches {
                return Err(invalid("wrong audience"));
            }
        }
        let id = claims
            .sub
            .filter(|sub| !sub.is_empty())
            .ok_or_else(|| invalid("no subject"))?;
        let principal = Principal {
            id,
            role: claims.role.unwrap_or_else(|| "user".to_owned()),
            scopes: claims
                .scope
                .map(|scope| scope.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        };
        Ok((principal, raw))
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

/// Authenticates `Authorization: Bearer` credentials with the verifiers configured.
#[derive(Default)]
pub struct Authenticate {
    api_keys: Option<Rc<dyn ApiKeyVerifier>>,
    jwt: Option<Jwt>,
    protected: Option<ProtectedResource>,
}

impl Authenticate {
    pub fn new() -> Self {
        Authenticate::default()
    }

    pub fn api_keys(mut self, verifier: impl ApiKeyVerifier + 'static) -> Self {
        self.api_keys = Some(Rc::new(verifier));
        self
    }

    pub fn jwt(mut self, jwt: Jwt) -> Self {
        self.jwt = Some(jwt);
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
        match &self.jwt {
            Some(jwt) if token.matches('.').count() == 2 => jwt.verify(token),
            _ => Err(Error::unauthorized("unrecognized credentials")),
        }
    }

    fn metadata(&self, protected: &ProtectedResource) -> Response {
        let body = json!({
            "resource": format!("{}/mcp", protected.resource.trim_end_matches('/')),
            "authorization_servers": protected.authorization_servers,
            "bearer_methods_supported": ["header"],
        });
        let mut response = Response::new(body.to_string().into_bytes());
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
            let authorization = context
                .headers()
                .get(AUTHORIZATION)
                .map(|value| value.to_str().unwrap_or_default().to_owned());
            let principal = match authorization {
                // A principal set before this layer (forwarded by a trusted gateway) stands.
                None => context.principal().cloned(),
                Some(authorization) => match self.principal(&authorization).await {
                    Ok(principal) => Some(principal),
                    Err(error) => return error_response(&error, &context),
                },
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
