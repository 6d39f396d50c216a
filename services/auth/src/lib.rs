//! The platform's auth service: API keys (created once, stored as hashes, revocable), sessions
//! with JWT access tokens and rotating refresh tokens, role-based permissions with grants, and
//! the verifier that other services' middleware uses over the typed client.

mod store;

use std::rc::Rc;

use dotdo::client::Transport;
use dotdo::middleware::{ApiKeyVerifier, Authenticate, Jwt, Standard, TokenVerifier, key_hash};
use dotdo::prelude::*;
use dotdo::sql::Database;
use dotdo::worker::{Env, FromEnv, binding_error};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

pub use store::{KeyRow, MIGRATIONS, SessionRow, Store};

pub const ISSUER: &str = "dotdo-auth";
pub const AUDIENCE: &str = "dotdo";
const REFRESH_AUDIENCE: &str = "dotdo-refresh";
pub const ACCESS_TTL_SECONDS: u64 = 60 * 60;
pub const REFRESH_TTL_SECONDS: u64 = 30 * 24 * 60 * 60;
pub const ROLES: &[&str] = &["admin", "user", "viewer", "service"];

/// A key as created: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreatedKey {
    pub id: String,
    /// `sk_live_…` or `sk_test_…`: store it now, it cannot be shown again.
    pub key: String,
    pub owner: String,
    pub role: String,
}

/// A key as listed: never the key or its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyInfo {
    pub id: String,
    pub prefix: String,
    pub owner: String,
    pub role: String,
    pub scopes: Vec<String>,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
    pub revoked: bool,
}

/// The body of `POST /refresh`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Tokens of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds the access token is valid.
    pub expires_in: u64,
    pub session_id: String,
}

pub struct Auth {
    store: Rc<Store>,
    /// Shared with the gateway: requests carrying it may carry the caller's principal.
    gateway_secret: String,
    jwt_secret: Rc<String>,
    bootstrap_hash: Option<String>,
    clock: fn() -> u64,
}

impl FromEnv for Auth {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = dotdo::config::Config::new(env);
        let jwt_secret = config.secret("JWT_SECRET")?;
        if jwt_secret.len() < 32 {
            return Err(Error::internal("JWT_SECRET must be at least 32 characters"));
        }
        Ok(Auth {
            store: Rc::new(Store::new(Database::d1(
                env.d1("DB").map_err(binding_error)?,
            ))),
            gateway_secret: config
                .optional_secret("GATEWAY_SECRET")?
                .unwrap_or_default(),
            jwt_secret: Rc::new(jwt_secret),
            bootstrap_hash: config
                .optional_secret("BOOTSTRAP_ADMIN_KEY")?
                .map(|key| key_hash(&key)),
            clock: dotdo::clock::now_seconds,
        })
    }
}

impl Auth {
    /// The service on `db` (with [`MIGRATIONS`] applied): for tests, with
    /// `Database::sqlite_in_memory(MIGRATIONS)`.
    pub fn new(
        db: Database,
        jwt_secret: &str,
        bootstrap_admin_key: Option<&str>,
        clock: fn() -> u64,
    ) -> Self {
        Auth {
            store: Rc::new(Store::new(db)),
            gateway_secret: String::new(),
            jwt_secret: Rc::new(jwt_secret.to_owned()),
            bootstrap_hash: bootstrap_admin_key.map(key_hash),
            clock,
        }
    }

    /// The service's database: tests look at what was written.
    pub fn database(&self) -> &Database {
        self.store.database()
    }

    /// Verifies access tokens this service issued.
    pub fn access_jwt(&self) -> Jwt {
        Jwt::hs256(self.jwt_secret.as_bytes(), AUDIENCE)
            .issuer(ISSUER)
            .with_clock(self.clock)
    }

    fn refresh_jwt(&self) -> Jwt {
        Jwt::hs256(self.jwt_secret.as_bytes(), REFRESH_AUDIENCE)
            .issuer(ISSUER)
            .with_clock(self.clock)
    }

    fn middleware(&self) -> dotdo::Stack {
        let keys = LocalKeys {
            store: self.store.clone(),
            bootstrap_hash: self.bootstrap_hash.clone(),
            clock: self.clock,
        };
        let sessions = SessionTokens {
            jwt: self.access_jwt(),
            store: self.store.clone(),
        };
        Standard::new(Authenticate::new().api_keys(keys).tokens(sessions))
            .body_limit(16 * 1024)
            .behind_gateway(self.gateway_secret.clone())
            .stack()
    }

    async fn new_session(
        &self,
        user_id: &str,
        role: &str,
        session_id: String,
    ) -> dotdo::Result<Tokens> {
        let now = (self.clock)();
        let jti = dotdo::random::alphanumeric(24)?;
        let access = json!({"sub": user_id, "role": role, "sid": session_id, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ACCESS_TTL_SECONDS});
        let refresh = json!({"sub": user_id, "role": role, "sid": session_id, "jti": jti, "iss": ISSUER, "aud": REFRESH_AUDIENCE, "iat": now, "exp": now + REFRESH_TTL_SECONDS});
        self.store
            .insert_refresh(&jti, &session_id, (now + REFRESH_TTL_SECONDS) as f64)
            .await?;
        Ok(Tokens {
            access_token: self.access_jwt().sign(&access),
            refresh_token: self.refresh_jwt().sign(&refresh),
            token_type: "Bearer".into(),
            expires_in: ACCESS_TTL_SECONDS,
            session_id,
        })
    }
}

/// This service's own token check: a valid access token whose session is still active.
struct SessionTokens {
    jwt: Jwt,
    store: Rc<Store>,
}

impl TokenVerifier for SessionTokens {
    fn verify_token<'a>(
        &'a self,
        token: &'a str,
    ) -> dotdo::LocalBoxFuture<'a, dotdo::Result<Principal>> {
        Box::pin(verify_access_token(&self.jwt, &self.store, token))
    }
}

/// The principal of an access token this service issued, unless its session was revoked: a
/// revoked session's access tokens stop working at once, not when they expire.
async fn verify_access_token(jwt: &Jwt, store: &Store, token: &str) -> dotdo::Result<Principal> {
    let (principal, claims) = jwt.verify_claims(token)?;
    let session_id = claims["sid"]
        .as_str()
        .ok_or_else(|| Error::unauthorized("invalid token: no session"))?;
    match store.session(session_id).await? {
        Some(session) if session.revoked_at.is_none() => Ok(principal),
        _ => Err(Error::unauthorized("the session was revoked")),
    }
}

/// This service's own key check: the bootstrap admin key from its secret, then the keys in D1.
struct LocalKeys {
    store: Rc<Store>,
    bootstrap_hash: Option<String>,
    clock: fn() -> u64,
}

impl ApiKeyVerifier for LocalKeys {
    fn verify<'a>(
        &'a self,
        key: &'a str,
    ) -> dotdo::LocalBoxFuture<'a, dotdo::Result<Option<Principal>>> {
        Box::pin(async move {
            verify_key(
                &self.store,
                self.bootstrap_hash.as_deref(),
                key,
                (self.clock)(),
            )
            .await
        })
    }
}

async fn verify_key(
    store: &Store,
    bootstrap_hash: Option<&str>,
    key: &str,
    now: u64,
) -> dotdo::Result<Option<Principal>> {
    let hash = key_hash(key);
    if bootstrap_hash
        .is_some_and(|bootstrap| bool::from(bootstrap.as_bytes().ct_eq(hash.as_bytes())))
    {
        return Ok(Some(Principal {
            id: "bootstrap".into(),
            role: "admin".into(),
            scopes: Vec::new(),
        }));
    }
    let row = store.use_key(&hash, now as f64).await?;
    Ok(row.map(|row| Principal {
        id: row.owner,
        role: row.role,
        scopes: split_scopes(&row.scopes),
    }))
}

fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

/// A user id or key owner: 1 to 128 letters, digits or `-_.@:`, as its schema states.
pub type Identifier = GrantPart<false>;

/// One of [`ROLES`], as its schema states: anything else is refused when the request is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleName(String);

impl TryFrom<String> for RoleName {
    type Error = String;
    fn try_from(role: String) -> Result<Self, String> {
        match check_role(&role) {
            Ok(()) => Ok(RoleName(role)),
            Err(error) => Err(error.message().to_owned()),
        }
    }
}

impl From<RoleName> for String {
    fn from(role: RoleName) -> String {
        role.0
    }
}

impl JsonSchema for RoleName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Role".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "enum": ROLES})
    }
}

fn check_role(role: &str) -> dotdo::Result<()> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(Error::invalid_field(
            "role",
            format!("role is one of {}", ROLES.join(", ")),
        ))
    }
}

/// The characters of user ids, resources and actions.
const IDENTIFIER: &str = "[A-Za-z0-9_.@:-]{1,128}";

/// A grant's part: a user id or an action (1 to 128 letters, digits or `-_.@:`), or with
/// `pattern`, a resource that may end in `*` (all resources with that prefix).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct GrantPart<const PATTERN: bool>(String);

impl<const PATTERN: bool> TryFrom<String> for GrantPart<PATTERN> {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let name = if PATTERN {
            text.trim_end_matches('*')
        } else {
            &text
        };
        if check_name("value", name).is_err() {
            let star = if PATTERN {
                ", optionally ending in `*`"
            } else {
                ""
            };
            return Err(format!(
                "must be 1 to 128 letters, digits or `-_.@:`{star}, got `{text}`"
            ));
        }
        Ok(GrantPart(text))
    }
}

impl<const PATTERN: bool> From<GrantPart<PATTERN>> for String {
    fn from(part: GrantPart<PATTERN>) -> String {
        part.0
    }
}

impl<const PATTERN: bool> JsonSchema for GrantPart<PATTERN> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        if PATTERN {
            "ResourcePattern"
        } else {
            "Identifier"
        }
        .into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let star = if PATTERN { "\\**" } else { "" };
        schemars::json_schema!({"type": "string", "pattern": format!("^{IDENTIFIER}{star}$")})
    }
}

fn check_name(field: &str, value: &str) -> dotdo::Result<()> {
    let ok = (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_field(
            field,
            format!("{field} is 1 to 128 letters, digits or `-_.@:`"),
        ))
    }
}

/// Whether `resource` is covered by a grant pattern: exact, `*`, or a `prefix:*` wildcard.
pub fn pattern_matches(pattern: &str, resource: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) if prefix.ends_with(':') => resource.starts_with(prefix),
        _ => pattern == resource,
    }
}

/// The built-in permissions of each role: admin may do anything; user may read and write
/// anything outside `admin:`; viewer may read; service may read (services act through RPC).
pub fn role_allows(role: &str, resource: &str, action: &str) -> bool {
    match role {
        "admin" => true,
        "user" => !resource.starts_with("admin:") && matches!(action, "read" | "write"),
        "viewer" | "service" => action == "read" && !resource.starts_with("admin:"),
        _ => false,
    }
}

/// The platform's identity and access service.
#[dotdo::service(entry = "worker", middleware = "middleware", documents = "documents")]
impl Auth {
    /// Create an API key. The key is returned once; only its hash is kept.
    #[rpc(role = "admin")]
    #[http(post = "/_keys", role = "admin", status = 201)]
    async fn create_api_key(
        &self,
        owner: Identifier,
        role: RoleName,
        live: Option<bool>,
        scopes: Option<Vec<String>>,
    ) -> Result<CreatedKey, dotdo::Error> {
        let (owner, role) = (String::from(owner), String::from(role));
        let prefix = if live.unwrap_or(false) {
            "sk_live_"
        } else {
            "sk_test_"
        };
        let key = format!("{prefix}{}", dotdo::random::alphanumeric(32)?);
        let id = format!("key_{}", dotdo::random::alphanumeric(16)?);
        let row = KeyRow {
            id: id.clone(),
            key_hash: key_hash(&key),
            prefix: prefix.trim_end_matches('_').to_owned(),
            owner: owner.clone(),
            role: role.clone(),
            scopes: scopes.unwrap_or_default().join(" "),
            created_at: (self.clock)() as f64,
            last_used_at: None,
            revoked_at: None,
        };
        self.store.insert_key(&row).await?;
        Ok(CreatedKey {
            id,
            key,
            owner,
            role,
        })
    }

    /// List API keys (never the keys themselves), optionally of one owner.
    #[rpc(role = "admin")]
    #[http(get = "/_keys", role = "admin")]
    async fn list_api_keys(&self, owner: Option<String>) -> Result<Vec<KeyInfo>, dotdo::Error> {
        let rows = self.store.list_keys(owner.as_deref()).await?;
        Ok(rows
            .into_iter()
            .map(|row| KeyInfo {
                scopes: split_scopes(&row.scopes),
                id: row.id,
                prefix: row.prefix,
                owner: row.owner,
                role: row.role,
                created_at: row.created_at as u64,
                last_used_at: row.last_used_at.map(|at| at as u64),
                revoked: row.revoked_at.is_some(),
            })
            .collect())
    }

    /// Revoke an API key: it stops working at once.
    #[rpc(role = "admin")]
    #[http(delete = "/_keys/:id", role = "admin")]
    async fn revoke_api_key(&self, id: String) -> Result<(), dotdo::Error> {
        if self.store.revoke_key(&id, (self.clock)() as f64).await? {
            Ok(())
        } else {
            Err(Error::not_found(format!("no active key `{id}`")))
        }
    }

    /// Who a key belongs to, for other services' middleware; `null` for an unknown or revoked
    /// key. Records when the key was last used.
    #[rpc(role = "service")]
    async fn verify_api_key(&self, key: String) -> Result<Option<Principal>, dotdo::Error> {
        verify_key(
            &self.store,
            self.bootstrap_hash.as_deref(),
            &key,
            (self.clock)(),
        )
        .await
    }

    /// Who an access token stands for, for other services' middleware; an error for an invalid
    /// or expired token, or one whose session was revoked.
    #[rpc(role = "service")]
    async fn verify_access_token(&self, token: String) -> Result<Principal, dotdo::Error> {
        verify_access_token(&self.access_jwt(), &self.store, &token).await
    }

    /// Start a session for a user: an access token (1 h) and a refresh token (30 days).
    #[rpc(role = "admin")]
    #[http(post = "/_sessions", role = "admin", status = 201)]
    async fn issue_session(
        &self,
        user_id: Identifier,
        role: RoleName,
    ) -> Result<Tokens, dotdo::Error> {
        let (user_id, role) = (String::from(user_id), String::from(role));
        let session_id = format!("ses_{}", dotdo::random::alphanumeric(16)?);
        let session = SessionRow {
            id: session_id.clone(),
            user_id: user_id.clone(),
            role: role.clone(),
            revoked_at: None,
        };
        self.store
            .insert_session(&session, (self.clock)() as f64)
            .await?;
        self.new_session(&user_id, &role, session_id).await
    }

    /// Trade a refresh token for new tokens. Each refresh token works once: a second use means
    /// it was stolen, and the whole session is revoked.
    #[http(post = "/refresh")]
    async fn refresh(&self, request: RefreshRequest) -> Result<Tokens, dotdo::Error> {
        let (_, claims) = self.refresh_jwt().verify_claims(&request.refresh_token)?;
        let (Some(jti), Some(session_id)) = (claims["jti"].as_str(), claims["sid"].as_str()) else {
            return Err(Error::unauthorized("invalid token: not a refresh token"));
        };
        let now = (self.clock)() as f64;
        let session = self
            .store
            .session(session_id)
            .await?
            .filter(|session| session.revoked_at.is_none());
        let Some(session) = session else {
            return Err(Error::unauthorized("the session was revoked"));
        };
        if !self.store.use_refresh(jti, now).await? {
            self.store.revoke_session(session_id, now).await?;
            return Err(Error::unauthorized(
                "refresh token reused: the session is revoked",
            ));
        }
        self.new_session(&session.user_id, &session.role, session.id)
            .await
    }

    /// Revoke a session: its access and refresh tokens stop working at once.
    #[rpc(role = "admin")]
    #[http(delete = "/_sessions/:session_id", role = "admin")]
    async fn revoke_session(&self, session_id: String) -> Result<(), dotdo::Error> {
        if self
            .store
            .revoke_session(&session_id, (self.clock)() as f64)
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "no active session `{session_id}`"
            )))
        }
    }

    /// Grant a user an action on a resource (`items:42`, or `items:*` for all items).
    #[rpc(role = "admin")]
    #[http(post = "/_grants", role = "admin", status = 201)]
    async fn grant(
        &self,
        user_id: GrantPart<false>,
        resource: GrantPart<true>,
        action: GrantPart<false>,
    ) -> Result<(), dotdo::Error> {
        self.store
            .add_grant(&user_id.0, &resource.0, &action.0)
            .await
    }

    /// Whether a user with a role may do an action on a resource: the role's permissions, then
    /// the user's grants.
    #[rpc]
    #[http(post = "/_permissions/check")]
    #[mcp_tool(read_only, auth)]
    async fn check_permission(
        &self,
        user_id: String,
        role: RoleName,
        resource: String,
        action: String,
    ) -> Result<bool, dotdo::Error> {
        let role = String::from(role);
        if role_allows(&role, &resource, &action) {
            return Ok(true);
        }
        let grants = self.store.grants(&user_id).await?;
        Ok(grants.iter().any(|(pattern, granted)| {
            (granted == &action || granted == "*") && pattern_matches(pattern, &resource)
        }))
    }
}

/// The `ApiKeyVerifier` other services give their `Authenticate` layer: asks this service over
/// its typed client (a service binding with the calling service's own key).
pub struct RemoteVerifier<T> {
    client: AuthClient<T>,
}

impl<T: Transport> RemoteVerifier<T> {
    pub fn new(transport: T) -> Self {
        RemoteVerifier {
            client: AuthClient::new(transport),
        }
    }
}

/// Access tokens are checked by the auth service too, so a revoked session is refused everywhere.
impl<T: Transport> TokenVerifier for RemoteVerifier<T> {
    fn verify_token<'a>(
        &'a self,
        token: &'a str,
    ) -> dotdo::LocalBoxFuture<'a, dotdo::Result<Principal>> {
        Box::pin(self.client.verify_access_token(token.to_owned()))
    }
}

impl<T: Transport> ApiKeyVerifier for RemoteVerifier<T> {
    fn verify<'a>(
        &'a self,
        key: &'a str,
    ) -> dotdo::LocalBoxFuture<'a, dotdo::Result<Option<Principal>>> {
        Box::pin(self.client.verify_api_key(key.to_owned()))
    }
}
