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
    Authenticate, Cors, DurableStore, GATEWAY_HEADER, PRINCIPAL_HEADER, RateLimit, RateLimitStore,
    Standard, sign_forwarded,
};
use dotdo::prelude::*;
use dotdo::worker::{Env, FromEnv, ServiceBinding, binding_error};
use dotdo::{LocalBoxFuture, Middleware, Next};
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Route {
    /// `/db`: requests under it go to `backend`.
    pub prefix: String,
    /// When set, only requests for this `Host`.
    #[serde(default)]
    pub host: Option<String>,
    pub backend: String,
    /// Whether the backend sees the path without the prefix (default: yes).
    #[serde(default = "yes")]
    pub strip: bool,
}

fn yes() -> bool {
    true
}

pub struct Gateway {
    routes: Rc<Vec<Route>>,
    backends: Rc<BTreeMap<String, Rc<dyn Backend>>>,
    /// Per backend, the secret that signs the principals forwarded to it: one backend's secret
    /// lets it pose as nobody to the others.
    backend_secrets: Rc<BTreeMap<String, String>>,
    authenticate: Rc<dyn Fn() -> Authenticate>,
    limits: Rc<dyn RateLimitStore>,
}

impl FromEnv for Gateway {
    fn from_env(env: &Env) -> dotdo::Result<Self> {
        let config = Config::new(env);
        let routes: Vec<Route> = serde_json::from_str(&config.var("ROUTES")?)
            .map_err(|error| Error::internal(format!("ROUTES: {error}")))?;
        let mut backends: BTreeMap<String, Rc<dyn Backend>> = BTreeMap::new();
        let mut backend_secrets = BTreeMap::new();
        for route in &routes {
            // A binding that is not configured stays out: its routes answer 503.
            if let Ok(fetcher) = env.service(&route.backend) {
                backends.insert(
                    route.backend.clone(),
                    Rc::new(Binding {
                        fetcher,
                        timeout_ms: 10_000,
                    }),
                );
                backend_secrets.insert(
                    route.backend.clone(),
                    config.secret(&backend_secret_name(&route.backend))?,
                );
            }
        }
        let service_key = config.secret("SERVICE_KEY")?;
        let auth = env.service("AUTH").map_err(binding_error)?;
        // One store for request limits and failed authentications alike.
        let limits: Rc<dyn RateLimitStore> = Rc::new(DurableStore::from_env(env, "RATE_LIMITER")?);
        let failures = limits.clone();
        Ok(Gateway {
            routes: Rc::new(routes),
            backends: Rc::new(backends),
            backend_secrets: Rc::new(backend_secrets),
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
        Gateway {
            routes: Rc::new(routes),
            backends: Rc::new(backends),
            backend_secrets: Rc::new(backend_secrets),
            authenticate,
            limits,
        }
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
                backends: self.backends.clone(),
                secrets: self.backend_secrets.clone(),
            })
    }
}

/// The last layer: requests under a route go to its backend; the rest (`/health`) to the
/// gateway's own routes.
struct Forward {
    routes: Rc<Vec<Route>>,
    backends: Rc<BTreeMap<String, Rc<dyn Backend>>>,
    secrets: Rc<BTreeMap<String, String>>,
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
            .filter(|route| path == route.prefix || path.starts_with(&format!("{}/", route.prefix)))
            .max_by_key(|route| (route.host.is_some(), route.prefix.len()))
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
            let path = request.uri.path().to_owned();
            let Some(route) = self.route_for(context.header("host"), &path) else {
                return next.run(request, context).await;
            };
            let Some(backend) = self.backends.get(&route.backend) else {
                let error =
                    Error::unavailable(format!("the `{}` service is not available", route.backend));
                return error_response(&error, &context);
            };
            let forwarded_path = if route.strip {
                path.strip_prefix(&route.prefix)
                    .filter(|rest| !rest.is_empty())
                    .unwrap_or("/")
            } else {
                &path
            };
            let path_and_query = match request.uri.query() {
                Some(query) => format!("{forwarded_path}?{query}"),
                None => forwarded_path.to_owned(),
            };
            let mut outgoing = http::Request::new(request.body);
            *outgoing.method_mut() = request.method.clone();
            let absolute = context
                .header("host")
                .map(|host| format!("https://{host}{path_and_query}"));
            *outgoing.uri_mut() = absolute
                .and_then(|uri| uri.parse().ok())
                .or_else(|| path_and_query.parse().ok())
                .unwrap_or_else(|| http::Uri::from_static("/"));
            let headers = outgoing.headers_mut();
            for (name, value) in context.headers() {
                // The gateway speaks for the caller: its credentials and any claim to be the
                // gateway stop here.
                let name_text = name.as_str();
                if name == AUTHORIZATION
                    || name == HOST
                    || name_text == GATEWAY_HEADER
                    || name_text == PRINCIPAL_HEADER
                    || name_text == FORWARDED_PREFIX_HEADER
                    || name_text == FORWARDED_HOST_HEADER
                {
                    continue;
                }
                headers.append(name.clone(), value.clone());
            }
            headers.insert("x-request-id", context.request_id_header().clone());
            // Where the backend is mounted, so what it links to (its MCP Server Card's URL)
            // points through the gateway.
            if let (true, Ok(prefix)) = (route.strip, http::HeaderValue::from_str(&route.prefix)) {
                headers.insert(FORWARDED_PREFIX_HEADER, prefix);
            }
            if let Some(host) = context.headers().get(HOST) {
                headers.insert(FORWARDED_HOST_HEADER, host.clone());
            }
            let secret = self.secrets.get(&route.backend);
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
                headers.insert(GATEWAY_HEADER, gateway);
                headers.insert(PRINCIPAL_HEADER, principal);
            }
            match backend.send(outgoing).await {
                Ok(response) => response,
                Err(error) => {
                    dotdo::log::error(&context, "backend failed", &error);
                    error_response(
                        &Error::upstream(format!("the `{}` service did not answer", route.backend)),
                        &context,
                    )
                }
            }
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
    pub backends: BTreeMap<String, BackendHealth>,
}

/// The platform's gateway.
#[dotdo::service(name = "gateway", entry = "worker", middleware = "middleware")]
impl Gateway {
    /// The platform's index: each service behind the gateway, linked to its API page.
    #[http(get = "/", public)]
    async fn index(&self) -> Result<HttpResponse, dotdo::Error> {
        let mut items = String::from(
            r#"<li><a href="/docs">gateway</a>: health of the services (<code>/health</code>)</li>"#,
        );
        // A prefix kept on the way (`strip = false`) has no page of its own to link.
        for route in self.routes.iter().filter(|route| route.strip) {
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
            .filter(|route| self.backends.contains_key(&route.backend))
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
        let mut backends = BTreeMap::new();
        for route in self.routes.iter() {
            let health = match self.backends.get(&route.backend) {
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
            backends.insert(route.backend.clone(), health);
        }
        let status = if backends.values().all(|health| health.up) {
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
