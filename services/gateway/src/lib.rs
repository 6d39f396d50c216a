//! The platform's public entry. Requests are routed by path prefix (or host) to the services
//! behind it over service bindings — prefix stripped as configured, `X-Request-ID` propagated,
//! the authenticated principal forwarded in a header the backends trust only from the gateway —
//! with CORS, logs, authentication (API keys verified by the auth service, its JWTs) and
//! per-prefix rate limits in front. A backend that fails or is missing gets 502/503, never a
//! hang; `GET /health` reports each backend.

use std::collections::BTreeMap;
use std::rc::Rc;

use dotdo::config::Config;
use dotdo::http::{Incoming, Response, error_response, html_escape};
use dotdo::mcp::{FORWARDED_HOST_HEADER, FORWARDED_PREFIX_HEADER};
use dotdo::middleware::{
    Authenticate, Cors, DurableStore, GATEWAY_HEADER, PRINCIPAL_HEADER, Quota, RateLimit,
    RateLimitStore, Standard, sign_forwarded,
};
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv, ServiceBinding, binding_error};
use dotdo::{LocalBoxFuture, Middleware, Next};
use http::HeaderName;
use http::header::{AUTHORIZATION, HOST};
use serde::{Deserialize, Serialize};

/// A service behind the gateway.
pub trait Backend {
    /// Sends a request; `Err` when no answer came (the backend is down, or too slow).
    fn send(&self, request: http::Request<Vec<u8>>) -> LocalBoxFuture<'_, dotdo::Result<Response>>;
}

/// A backend over a Workers service binding, with a timeout.
pub struct Binding {
    fetcher: worker::Fetcher,
    timeout_ms: u64,
}

impl Binding {
    /// A backend over `fetcher` that gives up after 10 s.
    fn new(fetcher: worker::Fetcher) -> Self {
        Binding {
            fetcher,
            timeout_ms: 10_000,
        }
    }
}

impl Backend for Binding {
    fn send(&self, request: http::Request<Vec<u8>>) -> LocalBoxFuture<'_, dotdo::Result<Response>> {
        Box::pin(async move {
            use futures_util::future::{Either, select};
            let failed = |error: worker::Error| Error::upstream(format!("backend: {error}"));
            // The caller's host travels in the URL (service bindings take `Host` from it), so a
            // backend sees the name it was reached by, as its MCP host check needs.
            let outgoing = dotdo::worker::convert::worker_request(request, "backend")?;
            let call = Box::pin(self.fetcher.fetch_request(outgoing));
            let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
                self.timeout_ms,
            )));
            let answer = match select(call, timeout).await {
                // A dispatch namespace without the script named answers so.
                Either::Left((Err(error), _)) if error.to_string().contains("Worker not found") => {
                    return Err(Error::not_found("no such worker"));
                }
                Either::Left((answer, _)) => answer.map_err(failed)?,
                Either::Right(_) => {
                    return Err(Error::upstream(format!(
                        "backend: no answer in {} ms",
                        self.timeout_ms
                    )));
                }
            };
            dotdo::worker::convert::http_response(answer).await
        })
    }
}

/// Where a prefix (or host) goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Route {
    /// `/db`: requests under it go to `backend`.
    pub prefix: String,
    /// When set, only requests for this `Host`.
    #[serde(default)]
    pub host: Option<String>,
    /// The service binding; for a tenant route, the dispatch namespace binding (or, locally, the
    /// tenants' service bindings listed in the var `TENANT_BINDINGS_<backend>`).
    pub backend: String,
    /// Whether the backend sees the path without the prefix (default: yes).
    #[serde(default = "yes")]
    pub strip: bool,
    /// Who may come through: `public` (the default; rate limited like everything), `internal`
    /// (admins only) or `tenant` (a tenant's own worker).
    #[serde(default)]
    pub tier: Tier,
    /// For a tenant route: the tenant is the host's first label when the host ends with this
    /// (`".tenants.example.com"`); without it, the first path segment after the prefix.
    #[serde(default)]
    pub tenant_host: Option<String>,
    /// For a tenant route: at most this many requests per tenant per window.
    #[serde(default)]
    pub tenant_limit: Option<Limit>,
}

impl Route {
    /// A public route of `prefix` to `backend`, prefix stripped.
    pub fn to(prefix: &str, backend: &str) -> Self {
        Route {
            prefix: prefix.into(),
            backend: backend.into(),
            strip: true,
            ..Route::default()
        }
    }
}

/// The three tiers of the platform: services anyone may call (rate limited), services for
/// admins only, and tenants' workers in a dispatch namespace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    #[default]
    Public,
    Internal,
    Tenant,
}

/// A request limit per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub requests: u32,
    pub window_seconds: u32,
}

fn yes() -> bool {
    true
}

/// The tenants behind a tenant route: a Workers for Platforms dispatch namespace when deployed
/// ([`DispatchNamespace`]), service bindings to each tenant's worker under `wrangler dev`,
/// which has no namespaces ([`TenantWorkers`]).
pub trait Tenants {
    /// Tenant `name`'s worker; `None` when there is no such tenant.
    fn worker(&self, name: &str) -> Option<Rc<dyn Backend>>;
}

/// Tenants known by name, each with its worker: service bindings in local development, or
/// services in this process in tests. A list, not a map: there are a handful, and a map type
/// of its own would add its code to the gateway's wasm.
#[derive(Default)]
pub struct TenantWorkers(pub Vec<(String, Rc<dyn Backend>)>);

impl Tenants for TenantWorkers {
    fn worker(&self, name: &str) -> Option<Rc<dyn Backend>> {
        self.0
            .iter()
            .find(|(tenant, _)| tenant == name)
            .map(|(_, worker)| worker.clone())
    }
}

/// The tenants of a dispatch namespace: every name is asked of it, and one it does not have
/// answers 404.
pub struct DispatchNamespace {
    dispatcher: worker::DynamicDispatcher,
}

impl Tenants for DispatchNamespace {
    fn worker(&self, name: &str) -> Option<Rc<dyn Backend>> {
        let fetcher = self.dispatcher.get(name).ok()?;
        Some(Rc::new(Binding::new(fetcher)))
    }
}

/// A tenant's name as a path segment or host label: lowercase letters, digits and inner
/// hyphens, at most 63 characters (a DNS label, and a valid script name).
pub fn is_tenant_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The header a tenant's worker learns its tenant from.
pub const TENANT_HEADER: &str = "x-dotdo-tenant";

pub struct Gateway {
    routes: Rc<Vec<Route>>,
    bound: Rc<Bindings>,
    authenticate: Rc<dyn Fn() -> Authenticate>,
    limits: Rc<dyn RateLimitStore>,
}

/// A route's backend as bound, with the secret that signs the principals forwarded to it: one
/// backend's secret lets it pose as nobody to the others. Kept together, a backend cannot be
/// reached without its secret being looked up by the same name.
struct Bound {
    backend: String,
    to: BoundTo,
    secret: Option<String>,
}

enum BoundTo {
    /// A service binding.
    Service(Rc<dyn Backend>),
    /// A tenant route's tenants.
    Tenants(Rc<dyn Tenants>),
}

/// The bound backends, by binding name: a list, as there are a few (one per route at most), and
/// three maps keyed by the same names were three copies of a map's code in the wasm.
#[derive(Default)]
struct Bindings(Vec<Bound>);

impl Bindings {
    fn get(&self, backend: &str) -> Option<&Bound> {
        self.0.iter().find(|bound| bound.backend == backend)
    }

    fn service(&self, backend: &str) -> Option<&Rc<dyn Backend>> {
        match self.get(backend).map(|bound| &bound.to) {
            Some(BoundTo::Service(service)) => Some(service),
            _ => None,
        }
    }

    fn tenants(&self, backend: &str) -> Option<&Rc<dyn Tenants>> {
        match self.get(backend).map(|bound| &bound.to) {
            Some(BoundTo::Tenants(tenants)) => Some(tenants),
            _ => None,
        }
    }

    fn secret(&self, backend: &str) -> Option<&str> {
        self.get(backend)?.secret.as_deref()
    }

    /// Binds `backend`, replacing what it was bound to.
    fn bind(&mut self, backend: &str, to: BoundTo, secret: Option<String>) {
        self.0.retain(|bound| bound.backend != backend);
        self.0.push(Bound {
            backend: backend.to_owned(),
            to,
            secret,
        });
    }
}

impl FromEnv for Gateway {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = Config::new(env);
        let routes: Vec<Route> = dotdo::json::from_text(&config.var("ROUTES")?)
            .map_err(|error| Error::internal(format!("ROUTES: {error}")))?;
        let mut bound = Bindings::default();
        for route in &routes {
            // Several routes may share a backend: it is bound once.
            if bound.get(&route.backend).is_some() {
                continue;
            }
            // A route whose binding (or, for tenants, namespace or local bindings) is not
            // configured stays out: it answers 503, and needs no secret.
            let to = if route.tier == Tier::Tenant {
                tenants_from_env(env, &config, &route.backend)?.map(BoundTo::Tenants)
            } else {
                env.service(&route.backend)
                    .ok()
                    .map(|fetcher| BoundTo::Service(Rc::new(Binding::new(fetcher))))
            };
            if let Some(to) = to {
                let secret = config.secret(&backend_secret_name(&route.backend))?;
                bound.bind(&route.backend, to, Some(secret));
            }
        }
        let service_key = config.secret("SERVICE_KEY")?;
        let auth = env.service("AUTH").map_err(binding_error)?;
        // One store for request limits and failed authentications alike.
        let limits: Rc<dyn RateLimitStore> = Rc::new(DurableStore::from_env(env, "RATE_LIMITER")?);
        let failures = limits.clone();
        Ok(Gateway {
            routes: Rc::new(routes),
            bound: Rc::new(bound),
            authenticate: Rc::new(move || {
                let verifier = || {
                    dotdo_auth::RemoteVerifier::new(
                        ServiceBinding::new(auth.clone()).with_bearer(service_key.clone()),
                    )
                };
                // Keys and tokens are both checked by the auth service, which knows revocations.
                Authenticate::new()
                    .api_keys(verifier())
                    .tokens(verifier())
                    .limit_failures(
                        failures.clone(),
                        AUTH_FAILURES_PER_IP,
                        AUTH_FAILURE_WINDOW_SECONDS,
                    )
            }),
            limits,
        })
    }
}

/// The tenants of the tenant route to `backend`: its dispatch namespace when one is bound under
/// that name, else (under `wrangler dev`) the service bindings the var
/// `TENANT_BINDINGS_<backend>` lists (`{"acme": "TENANT_ACME"}`), else none.
fn tenants_from_env(
    env: &Env,
    config: &Config,
    backend: &str,
) -> dotdo::Result<Option<Rc<dyn Tenants>>> {
    if let Ok(dispatcher) = env.dynamic_dispatcher(backend) {
        return Ok(Some(Rc::new(DispatchNamespace { dispatcher })));
    }
    let var = format!("TENANT_BINDINGS_{backend}");
    let Some(listed) = config.optional_var(&var) else {
        return Ok(None);
    };
    let listed = dotdo::config::name_bindings(&var, &listed)?;
    let mut workers = Vec::with_capacity(listed.len());
    for (tenant, binding) in listed {
        let fetcher = env.service(&binding).map_err(binding_error)?;
        workers.push((tenant, Rc::new(Binding::new(fetcher)) as Rc<dyn Backend>));
    }
    Ok(Some(Rc::new(TenantWorkers(workers))))
}

/// Failed authentications one client IP may make per window before it gets 429.
pub const AUTH_FAILURES_PER_IP: u32 = 20;
pub const AUTH_FAILURE_WINDOW_SECONDS: u32 = 300;

/// The gateway's secret for the backend bound as `binding`: `GATEWAY_SECRET_DB` for `DB`. The
/// backend holds the same value as its `GATEWAY_SECRET`.
pub fn backend_secret_name(binding: &str) -> String {
    format!("GATEWAY_SECRET_{binding}")
}

impl Gateway {
    /// A gateway over the given backends, their forwarding secrets, and authentication: for tests.
    pub fn new(
        routes: Vec<Route>,
        backends: BTreeMap<String, Rc<dyn Backend>>,
        backend_secrets: BTreeMap<String, String>,
        authenticate: Rc<dyn Fn() -> Authenticate>,
        limits: Rc<dyn RateLimitStore>,
    ) -> Self {
        let mut bound = Bindings::default();
        for (backend, service) in backends {
            let secret = backend_secrets.get(&backend).cloned();
            bound.bind(&backend, BoundTo::Service(service), secret);
        }
        Gateway {
            routes: Rc::new(routes),
            bound: Rc::new(bound),
            authenticate,
            limits,
        }
    }

    /// The tenants of the tenant route to `backend`, and the secret their forwarded principals
    /// are signed with: for tests.
    pub fn with_tenants(mut self, backend: &str, tenants: Rc<dyn Tenants>, secret: &str) -> Self {
        let bound = Rc::get_mut(&mut self.bound).expect("tenants are added before serving");
        bound.bind(backend, BoundTo::Tenants(tenants), Some(secret.to_owned()));
        self
    }

    fn middleware(&self) -> dotdo::Stack {
        let limits = RateLimit::new(self.limits.clone())
            .rule("/", 600, 60)
            .rule("/auth", 20, 60);
        Standard::new((self.authenticate)())
            .cors(Cors::any())
            .rate_limit(limits)
            .stack()
            .with(Forward {
                routes: self.routes.clone(),
                bound: self.bound.clone(),
                limits: self.limits.clone(),
            })
    }
}

/// The last layer: requests under a route go to its backend; the rest (`/health`) to the
/// gateway's own routes.
struct Forward {
    routes: Rc<Vec<Route>>,
    bound: Rc<Bindings>,
    limits: Rc<dyn RateLimitStore>,
}

impl Forward {
    fn route_for(&self, host: Option<&str>, path: &str) -> Option<&Route> {
        self.routes
            .iter()
            .filter(|route| {
                route
                    .host
                    .as_deref()
                    .is_none_or(|wanted| Some(wanted) == host)
            })
            .filter(|route| {
                // A tenant route by host is only for its tenants' hosts.
                route.tenant_host.as_deref().is_none_or(|suffix| {
                    host.and_then(|host| host.split(':').next())
                        .is_some_and(|host| host.ends_with(suffix))
                })
            })
            .filter(|route| {
                route.prefix == "/"
                    || path == route.prefix
                    || path.starts_with(&format!("{}/", route.prefix))
            })
            .max_by_key(|route| {
                let by_host = route.host.is_some() || route.tenant_host.is_some();
                (by_host, route.prefix.len())
            })
    }
}

/// Where a routed request goes.
struct Target {
    backend: Rc<dyn Backend>,
    /// The path (and query) the backend sees.
    path_and_query: String,
    /// Where the backend is mounted, when it sees the path without it.
    mount: Option<String>,
    tenant: Option<String>,
    quota: Option<Quota>,
}

impl Forward {
    /// The backend and path of a request on `route`, after the tier's checks: an internal
    /// route wants an admin; a tenant route a tenant that exists and is within its limit.
    async fn target(
        &self,
        route: &Route,
        request: &Incoming,
        context: &Context,
    ) -> Result<Target, Response> {
        let refuse = |error: Error| error_response(&error, context);
        let path = request.uri.path();
        let without_prefix = match route.prefix.as_str() {
            "/" => path,
            prefix => path
                .strip_prefix(prefix)
                .filter(|rest| !rest.is_empty())
                .unwrap_or("/"),
        };
        let with_query = |path: &str| match request.uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_owned(),
        };
        let mount = route.strip.then(|| route.prefix.clone());
        let forwarded = if route.strip { without_prefix } else { path };
        if route.tier == Tier::Internal {
            match context.principal() {
                None => {
                    return Err(refuse(Error::unauthorized(
                        "an internal service: sign in as an admin",
                    )));
                }
                Some(principal) if principal.role != "admin" => {
                    return Err(refuse(Error::forbidden("an internal service: admins only")));
                }
                Some(_) => {}
            }
        }
        if route.tier != Tier::Tenant {
            let Some(backend) = self.bound.service(&route.backend) else {
                return Err(refuse(Error::unavailable(format!(
                    "the `{}` service is not available",
                    route.backend
                ))));
            };
            return Ok(Target {
                backend: backend.clone(),
                path_and_query: with_query(forwarded),
                mount,
                tenant: None,
                quota: None,
            });
        }
        let Some(tenants) = self.bound.tenants(&route.backend) else {
            return Err(refuse(Error::unavailable("tenants are not available")));
        };
        // The tenant: the host's first label, or the path's first segment after the prefix.
        let (name, path_and_query, mount) = match &route.tenant_host {
            Some(suffix) => {
                let host = context.header("host").unwrap_or_default();
                let host = host.split(':').next().unwrap_or_default();
                let name = host.strip_suffix(suffix.as_str()).unwrap_or_default();
                (name.to_owned(), with_query(forwarded), mount)
            }
            None => {
                let rest = without_prefix.trim_start_matches('/');
                let (name, rest) = rest
                    .split_once('/')
                    .map_or((rest, ""), |(name, rest)| (name, rest));
                let mount = format!("{}/{name}", route.prefix.trim_end_matches('/'));
                (
                    name.to_owned(),
                    with_query(&format!("/{rest}")),
                    Some(mount),
                )
            }
        };
        if !is_tenant_name(&name) {
            return Err(refuse(Error::not_found(format!("no tenant in `{path}`"))));
        }
        let quota = match route.tenant_limit {
            None => None,
            Some(limit) => {
                let key = format!("tenant:{}:{name}", route.backend);
                let now = dotdo::clock::now_seconds();
                let quota = Quota::count(
                    &*self.limits,
                    &key,
                    limit.requests,
                    limit.window_seconds,
                    1,
                    now,
                    context,
                )
                .await
                .map_err(refuse)?;
                if quota.exceeded() {
                    let mut response = refuse(quota.error());
                    quota.set_headers(&mut response);
                    return Err(response);
                }
                Some(quota)
            }
        };
        let Some(backend) = tenants.worker(&name) else {
            return Err(refuse(Error::not_found(format!("no tenant `{name}`"))));
        };
        Ok(Target {
            backend,
            path_and_query,
            mount,
            tenant: Some(name),
            quota,
        })
    }
}

impl Middleware for Forward {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        Box::pin(async move {
            let Some(route) = self.route_for(context.header("host"), request.uri.path()) else {
                return next.run(request, context).await;
            };
            let target = match self.target(route, &request, &context).await {
                Ok(target) => target,
                Err(response) => return response,
            };
            let mut outgoing = http::Request::new(request.body);
            *outgoing.method_mut() = request.method.clone();
            let absolute = context
                .header("host")
                .map(|host| format!("https://{host}{}", target.path_and_query));
            *outgoing.uri_mut() = absolute
                .and_then(|uri| uri.parse().ok())
                .or_else(|| target.path_and_query.parse().ok())
                .unwrap_or_else(|| http::Uri::from_static("/"));
            let headers = outgoing.headers_mut();
            for (name, value) in context.headers() {
                // The gateway speaks for the caller: its credentials and any claim to be the
                // gateway (or to name the tenant) stop here.
                let name_text = name.as_str();
                if name == AUTHORIZATION
                    || name == HOST
                    || name_text == GATEWAY_HEADER
                    || name_text == PRINCIPAL_HEADER
                    || name_text == FORWARDED_PREFIX_HEADER
                    || name_text == FORWARDED_HOST_HEADER
                    || name_text == TENANT_HEADER
                {
                    continue;
                }
                headers.append(name.clone(), value.clone());
            }
            // Named by constants: a `&str` name is parsed on every insert.
            const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
            const PREFIX: HeaderName = HeaderName::from_static(FORWARDED_PREFIX_HEADER);
            const FORWARDED_HOST: HeaderName = HeaderName::from_static(FORWARDED_HOST_HEADER);
            const TENANT: HeaderName = HeaderName::from_static(TENANT_HEADER);
            const GATEWAY: HeaderName = HeaderName::from_static(GATEWAY_HEADER);
            const PRINCIPAL: HeaderName = HeaderName::from_static(PRINCIPAL_HEADER);
            headers.insert(REQUEST_ID, context.request_id_header().clone());
            // Where the backend is mounted, so what it links to (its MCP Server Card's URL)
            // points through the gateway.
            if let Some(Ok(mount)) = target.mount.as_deref().map(http::HeaderValue::from_str) {
                headers.insert(PREFIX, mount);
            }
            if let Some(host) = context.headers().get(HOST) {
                headers.insert(FORWARDED_HOST, host.clone());
            }
            if let Some(Ok(tenant)) = target.tenant.as_deref().map(http::HeaderValue::from_str) {
                headers.insert(TENANT, tenant);
            }
            let secret = self.bound.secret(&route.backend);
            let signed = secret
                .zip(context.principal())
                .and_then(|(secret, principal)| {
                    sign_forwarded(
                        secret,
                        principal,
                        context.request_id(),
                        dotdo::clock::now_seconds(),
                    )
                });
            if let Some((gateway, principal)) = signed {
                headers.insert(GATEWAY, gateway);
                headers.insert(PRINCIPAL, principal);
            }
            let mut response = match target.backend.send(outgoing).await {
                Ok(response) => response,
                // A dispatch namespace without this tenant's worker.
                Err(error)
                    if error.kind() == dotdo::ErrorKind::NotFound && target.tenant.is_some() =>
                {
                    let tenant = target.tenant.as_deref().unwrap_or_default();
                    error_response(&Error::not_found(format!("no tenant `{tenant}`")), &context)
                }
                Err(error) => {
                    dotdo::log::error(&context, "backend failed", &error);
                    let name = target.tenant.as_deref().unwrap_or(&route.backend);
                    error_response(
                        &Error::upstream(format!("the `{name}` service did not answer")),
                        &context,
                    )
                }
            };
            if let Some(quota) = target.quota {
                quota.set_headers(&mut response);
            }
            response
        })
    }
}

/// One backend's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BackendHealth {
    pub up: bool,
    pub status: Option<u16>,
}

/// The gateway's health and each backend's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// `ok` when every backend answers, else `degraded`.
    pub status: String,
    pub backends: Backends,
}

/// Each backend's health by its binding's name, in the order of the routes: a JSON object.
///
/// A list of pairs, not a `BTreeMap`: a map type's code, and schemars' schema code for maps
/// (which works out which keys a map allows), were 4.6 KiB of the gateway's gzipped wasm.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Backends(pub Vec<(String, BackendHealth)>);

impl Backends {
    /// The health of the backend bound as `name`.
    pub fn get(&self, name: &str) -> Option<&BackendHealth> {
        self.0
            .iter()
            .find(|(backend, _)| backend == name)
            .map(|(_, health)| health)
    }
}

impl Serialize for Backends {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(name, health)| (name, health)))
    }
}

impl<'de> Deserialize<'de> for Backends {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let backends = BTreeMap::<String, BackendHealth>::deserialize(deserializer)?;
        Ok(Backends(backends.into_iter().collect()))
    }
}

impl JsonSchema for Backends {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Backends".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<BackendHealth>(),
        })
    }
}

/// The platform's gateway.
#[dotdo::service(
    name = "gateway",
    entry = "worker",
    middleware = "middleware",
    documents = "documents"
)]
impl Gateway {
    /// The platform's index: each service behind the gateway, linked to its API page.
    #[http(get = "/", public)]
    async fn index(&self) -> Result<HttpResponse, dotdo::Error> {
        let mut items = String::from(
            r#"<li><a href="/docs">gateway</a>: health of the services (<code>/health</code>)</li>"#,
        );
        // A prefix kept on the way (`strip = false`) has no page of its own to link; internal
        // services are for admins, and tenants' workers are theirs.
        for route in self
            .routes
            .iter()
            .filter(|route| route.tier == Tier::Tenant)
        {
            let at = match &route.tenant_host {
                Some(suffix) => format!("<code>&lt;tenant&gt;{}</code>", html_escape(suffix)),
                None => format!("<code>{}/&lt;tenant&gt;</code>", html_escape(&route.prefix)),
            };
            items.push_str(&format!("<li>tenants' workers: {at}</li>"));
        }
        let listed = |route: &&Route| route.strip && route.tier == Tier::Public;
        for route in self.routes.iter().filter(listed) {
            let prefix = html_escape(&route.prefix);
            let backend = html_escape(&route.backend);
            let host = route
                .host
                .as_deref()
                .map(|host| format!(" (host <code>{}</code>)", html_escape(host)))
                .unwrap_or_default();
            items.push_str(&format!(
                r#"<li><a href="{prefix}/docs">{backend}</a>: <code>{prefix}</code>{host}, <a href="{prefix}/openapi.json">openapi.json</a></li>"#
            ));
        }
        Ok(HttpResponse::html(format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>APIs</title></head>\n<body>\n<h1>APIs</h1>\n<ul>\n{items}\n</ul>\n</body>\n</html>\n"
        )))
    }

    /// The platform's MCP servers, for a client that knows only the domain (an AI Catalog of
    /// Server Cards): the one endpoint at `/mcp` and each service's own, at its prefix.
    #[http(get = "/.well-known/mcp/catalog.json", public)]
    #[http(get = "/.well-known/ai-catalog.json", public)]
    async fn mcp_catalog(
        &self,
        #[header] host: Option<String>,
    ) -> Result<HttpResponse, dotdo::Error> {
        let host = host.unwrap_or_else(|| "localhost".into());
        let hostname = host.split(':').next().unwrap_or_default();
        let local =
            hostname == "localhost" || hostname == "127.0.0.1" || hostname.ends_with(".localhost");
        let scheme = if local { "http" } else { "https" };
        let entries: Vec<serde_json::Value> = self
            .routes
            .iter()
            .filter(|route| {
                route.tier == Tier::Public && self.bound.service(&route.backend).is_some()
            })
            .map(|route| {
                let name = route.prefix.trim_start_matches('/');
                // The hub keeps its prefix (`/mcp`): its card is its endpoint's.
                let card = if route.strip {
                    format!("{scheme}://{host}{}/mcp/server-card", route.prefix)
                } else {
                    format!("{scheme}://{host}{}/server-card", route.prefix)
                };
                serde_json::json!({
                    "identifier": format!("urn:air:{hostname}:mcp:{name}"),
                    "type": "application/mcp-server-card+json",
                    "url": card,
                })
            })
            .collect();
        let catalog = serde_json::json!({"specVersion": "1.0", "entries": entries});
        Ok(
            HttpResponse::json(&catalog)?
                .with_header("content-type", "application/ai-catalog+json"),
        )
    }

    /// Each backend's health: up when it answers at all.
    #[http(get = "/health")]
    async fn health(&self) -> Result<Health, dotdo::Error> {
        let mut backends = Backends::default();
        for route in self.routes.iter() {
            // Routes may share a backend: it is probed once.
            if backends.get(&route.backend).is_some() {
                continue;
            }
            // Tenants' workers are theirs to keep up: their route is up when its tenants are bound.
            if route.tier == Tier::Tenant {
                let up = self.bound.tenants(&route.backend).is_some();
                let health = BackendHealth { up, status: None };
                backends.0.push((route.backend.clone(), health));
                continue;
            }
            let health = match self.bound.service(&route.backend) {
                None => BackendHealth {
                    up: false,
                    status: None,
                },
                Some(backend) => {
                    let probe = http::Request::get("/")
                        .body(Vec::new())
                        .expect("a valid probe");
                    match backend.send(probe).await {
                        Ok(response) => BackendHealth {
                            up: true,
                            status: Some(response.status().as_u16()),
                        },
                        Err(_) => BackendHealth {
                            up: false,
                            status: None,
                        },
                    }
                }
            };
            backends.0.push((route.backend.clone(), health));
        }
        let status = if backends.0.iter().all(|(_, health)| health.up) {
            "ok"
        } else {
            "degraded"
        };
        Ok(Health {
            status: status.into(),
            backends,
        })
    }
}
