//! CORS: preflights answered, allowed origins as a list or `*`, credentials only with explicit
//! origins, `Vary: Origin` whenever the answer depends on it.

use futures_util::future::LocalBoxFuture;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, HeaderMap,
    HeaderValue, VARY,
};
use http::{Method, StatusCode};

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next};

enum Origins {
    Any,
    List(Vec<String>),
}

pub struct Cors {
    origins: Origins,
    methods: String,
    headers: String,
    expose: String,
    credentials: bool,
    max_age: u32,
}

impl Cors {
    /// Any origin (`Access-Control-Allow-Origin: *`), never with credentials.
    pub fn any() -> Self {
        Self::with_origins(Origins::Any)
    }

    /// Only these origins (`https://app.example.com`), echoed back when they match.
    pub fn origins<I: IntoIterator<Item = S>, S: Into<String>>(origins: I) -> Self {
        Self::with_origins(Origins::List(origins.into_iter().map(Into::into).collect()))
    }

    fn with_origins(origins: Origins) -> Self {
        Cors {
            origins,
            methods: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS".into(),
            headers: "authorization, content-type, x-request-id, mcp-protocol-version, mcp-method, mcp-name".into(),
            expose: "x-request-id, retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset".into(),
            credentials: false,
            max_age: 600,
        }
    }

    /// Lets browsers send cookies and `Authorization`. Only honoured for explicit origins:
    /// with `Cors::any()` the browser would refuse the answer anyway.
    pub fn allow_credentials(mut self) -> Self {
        self.credentials = matches!(self.origins, Origins::List(_));
        self
    }

    /// The request headers a browser may send (comma-separated).
    pub fn allow_headers(mut self, headers: &str) -> Self {
        self.headers = headers.to_owned();
        self
    }

    /// How long a browser may cache a preflight, in seconds.
    pub fn max_age(mut self, seconds: u32) -> Self {
        self.max_age = seconds;
        self
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    fn allowed(&self, origin: &str) -> Option<HeaderValue> {
        match &self.origins {
            Origins::Any => Some(HeaderValue::from_static("*")),
            Origins::List(list) => list
                .iter()
                .any(|allowed| allowed == origin)
                .then(|| HeaderValue::from_str(origin).ok())
                .flatten(),
        }
    }

    fn decorate(&self, headers: &mut HeaderMap, allow_origin: HeaderValue) {
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin);
        if self.credentials {
            headers.insert(
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if matches!(self.origins, Origins::List(_)) {
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}

impl Middleware for Cors {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        let origin = context.header("origin").map(str::to_owned);
        let is_preflight = request.method == Method::OPTIONS
            && context
                .header_bytes("access-control-request-method")
                .is_some();
        Box::pin(async move {
            let Some(origin) = origin else {
                return next.run(request, context).await; // not a cross-origin browser request
            };
            let allowed = self.allowed(&origin);
            if is_preflight {
                let Some(allow_origin) = allowed else {
                    let error = Error::forbidden(format!("origin `{origin}` is not allowed"));
                    return error_response(&error, &context);
                };
                let mut response = Response::new(Default::default());
                *response.status_mut() = StatusCode::NO_CONTENT;
                let headers = response.headers_mut();
                self.decorate(headers, allow_origin);
                headers.insert(ACCESS_CONTROL_ALLOW_METHODS, header_value(&self.methods));
                let requested = context.header("access-control-request-headers");
                // Asked-for headers are answered from the allowed list only.
                let headers_allowed = match requested {
                    Some(requested) => requested
                        .split(',')
                        .map(|name| name.trim().to_ascii_lowercase())
                        .filter(|name| {
                            self.headers
                                .split(',')
                                .any(|allowed| allowed.trim() == name)
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => self.headers.clone(),
                };
                headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, header_value(&headers_allowed));
                headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(self.max_age));
                headers.append(
                    VARY,
                    HeaderValue::from_static(
                        "Access-Control-Request-Method, Access-Control-Request-Headers",
                    ),
                );
                return response;
            }
            let mut response = next.run(request, context).await;
            if let Some(allow_origin) = allowed {
                self.decorate(response.headers_mut(), allow_origin);
                response
                    .headers_mut()
                    .insert(ACCESS_CONTROL_EXPOSE_HEADERS, header_value(&self.expose));
            } else if matches!(self.origins, Origins::List(_)) {
                response
                    .headers_mut()
                    .append(VARY, HeaderValue::from_static("Origin"));
            }
            response
        })
    }
}
