//! The HTTP interface: routing by method and path, argument binding from path, query and body,
//! JSON responses, and one problem+json shape for every error. `/_rpc` and `/mcp` are served
//! here too, so a service is one `handle` call away from any HTTP host.

use http::header::{
    ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::percent_decode_str;

use futures_util::future::LocalBoxFuture;

use crate::args::{Args, Source};
use crate::describe::{BodyBinding, Reply, RouteDesc, Service, Verb};
use crate::{Context, Error, Interface, log};

/// A request as the runtime sees it: any body already read into memory.
pub type Request = http::Request<Vec<u8>>;
/// A response as the runtime produces it.
pub type Response = http::Response<Vec<u8>>;

pub use dotdo_routes::{MCP_PATH, RPC_PATH};

/// The routes of one service, matched by path, then by method. Routes whose paths differ only
/// in parameter names (`GET /things/:ns/*selector`, `PUT /things/:ns/*id`) share one pattern;
/// each route keeps its own names for binding.
pub struct Router {
    paths: matchit::Router<Vec<(Verb, usize)>>,
}

impl Router {
    /// The router of `routes`, whose patterns the macro resolved (and checked) at compile time.
    pub fn new(routes: &[RouteDesc]) -> Result<Self, String> {
        let mut grouped: Vec<(&'static str, Vec<(Verb, usize)>)> = Vec::new();
        for (index, route) in routes.iter().enumerate() {
            let pattern = route.pattern;
            match grouped
                .iter_mut()
                .find(|(existing, _)| *existing == pattern)
            {
                Some((_, verbs)) => verbs.push((route.verb, index)),
                None => grouped.push((pattern, vec![(route.verb, index)])),
            }
        }
        let mut paths = matchit::Router::new();
        for (pattern, verbs) in grouped {
            paths
                .insert(pattern, verbs)
                .map_err(|error| format!("route `{pattern}` cannot be added: {error}"))?;
        }
        Ok(Router { paths })
    }
}

/// What routing needs of a request once its headers have moved into the [`Context`].
pub struct Incoming {
    pub method: Method,
    pub uri: http::Uri,
    pub body: Vec<u8>,
}

/// Serves one HTTP request through the service's middleware, building the call's [`Context`]
/// from its headers.
pub async fn serve<S: Service>(service: &S, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let context = Context::from_headers(Interface::Http, parts.headers);
    let stack = service.middleware();
    crate::middleware::serve(
        service,
        &stack,
        context,
        Incoming {
            method: parts.method,
            uri: parts.uri,
            body,
        },
    )
    .await
}

/// Serves one HTTP request with a context prepared by the caller (middleware, the platform),
/// which holds the request's headers. This is the innermost step: no middleware runs here.
pub async fn handle<S: Service>(service: &S, mut context: Context, request: Incoming) -> Response {
    let mut response = match request.uri.path() {
        RPC_PATH if !S::description().rpc.is_empty() => {
            context.set_interface(Interface::Rpc);
            // `/_` paths are private: the endpoint needs a principal before any method runs.
            // Boxed (here and for MCP): their large states would otherwise size every request's.
            match crate::describe::Access::Public.check(true, &context) {
                Ok(()) => Box::pin(crate::rpc::handle_http(service, &context, request)).await,
                Err(error) => error_response(&error, &context),
            }
        }
        MCP_PATH if !S::description().tools.is_empty() => {
            context.set_interface(Interface::Mcp);
            Box::pin(crate::mcp::handle_http(service, &context, request)).await
        }
        _ => match route_layer(service, &request) {
            None => route(service, &context, &request).await,
            // Boxed, so the common path's state stays small.
            Some(stack) => {
                return Box::pin(route_with_layers(service, stack, context, request)).await;
            }
        },
    };
    response
        .headers_mut()
        .insert(crate::request_id::HEADER, context.into_request_id_header());
    response
}

/// A route with middleware of its own: the layers run around it and take the context with them.
async fn route_with_layers<S: Service>(
    service: &S,
    stack: crate::middleware::Stack,
    context: Context,
    request: Incoming,
) -> Response {
    let request_id = context.request_id_header().clone();
    let endpoint = |context: Context, request: Incoming| -> LocalBoxFuture<'_, Response> {
        Box::pin(async move { route(service, &context, &request).await })
    };
    let mut response = crate::middleware::run(&stack, context, request, &endpoint).await;
    response
        .headers_mut()
        .insert(crate::request_id::HEADER, request_id);
    response
}

/// The middleware of the route this request is for, if it declares any.
fn route_layer<S: Service>(service: &S, request: &Incoming) -> Option<crate::middleware::Stack> {
    let description = S::description();
    if description.layers.is_empty() {
        return None;
    }
    let router = description
        .router
        .get_or_init(|| Router::new(description.routes))
        .as_ref()
        .ok()?;
    let found = router.paths.at(request.uri.path()).ok()?;
    let wanted = if request.method == Method::HEAD {
        Verb::Get
    } else {
        Verb::from_method(request.method.as_str())?
    };
    let &(_, index) = found.value.iter().find(|(verb, _)| *verb == wanted)?;
    description.routes[index]
        .layer
        .map(|layer| (description.layers[layer])(service))
}

/// A request matched to a route: the method's call, ready to be awaited.
struct RouteCall<'a> {
    call: LocalBoxFuture<'a, Result<Reply, Error>>,
    status: StatusCode,
    is_head: bool,
}

async fn route<S: Service>(service: &S, context: &Context, request: &Incoming) -> Response {
    // Matching and binding are synchronous, so the awaited state holds only the call.
    let RouteCall {
        call,
        status,
        is_head,
    } = match prepare_route(service, context, request) {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    let mut response = match call.await {
        Ok(_) if status == StatusCode::NO_CONTENT => empty_response(status),
        Ok(reply) => json_response(status, reply.into_bytes()),
        Err(error) => error_response(&error, context),
    };
    if is_head {
        let length = response.body().len();
        response.body_mut().clear();
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

// The early answer is returned by value: boxing it would allocate on every 404 and 405.
#[allow(clippy::result_large_err)]
fn prepare_route<'a, S: Service>(
    service: &'a S,
    context: &'a Context,
    request: &'a Incoming,
) -> Result<RouteCall<'a>, Response> {
    let description = S::description();
    let router = match description
        .router
        .get_or_init(|| Router::new(description.routes))
    {
        Ok(router) => router,
        Err(detail) => return Err(error_response(&Error::internal(detail.clone()), context)),
    };
    let path = request.uri.path();
    let Ok(found) = router.paths.at(path) else {
        return Err(error_response(
            &Error::not_found(format!("no route for `{path}`")),
            context,
        ));
    };
    let verbs = found.value;
    let allow = || allow_header(verbs.iter().map(|(verb, _)| *verb));

    let is_head = request.method == Method::HEAD;
    let wanted = if is_head {
        Some(Verb::Get)
    } else {
        Verb::from_method(request.method.as_str())
    };
    let Some(&(_, route_index)) =
        wanted.and_then(|wanted| verbs.iter().find(|(verb, _)| *verb == wanted))
    else {
        let mut response = if request.method == Method::OPTIONS {
            empty_response(StatusCode::NO_CONTENT)
        } else {
            let message = format!("`{path}` does not accept {}", request.method);
            error_response(
                &Error::new(crate::ErrorKind::MethodNotAllowed, message),
                context,
            )
        };
        response.headers_mut().insert(ALLOW, allow());
        return Err(response);
    };
    let route = &description.routes[route_index];
    let method = &description.methods[route.method];
    if let Err(error) = route.access.check(dotdo_routes::is_private(path), context) {
        return Err(error_response(&error, context));
    }

    let mut args = Args::new(method.params);
    if let Err(error) = bind(
        &mut args,
        route,
        route.names,
        &found.params,
        request.uri.query(),
        context.headers(),
        &request.body,
    ) {
        return Err(error_response(&error, context));
    }
    let status = route
        .status
        .unwrap_or(if method.returns_unit { 204 } else { 200 });
    Ok(RouteCall {
        call: (method.invoke)(service, context, args),
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        is_head,
    })
}

fn bind<'a>(
    args: &mut Args<'a>,
    route: &RouteDesc,
    names: &[&'static str],
    path_params: &matchit::Params<'a, 'a>,
    query: Option<&'a str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), Error> {
    if let Some(query) = query {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            args.push_text(name, value, Source::Query);
        }
    }
    if route.body != BodyBinding::None && !body.is_empty() {
        require_json_content_type(headers)?;
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|error| Error::bad_request(format!("malformed JSON body: {error}")))?;
        match route.body {
            BodyBinding::Whole(name) => args.push_json(name, value, Source::Body),
            BodyBinding::Fields => args.push_object(value, "the request body")?,
            BodyBinding::None => {}
        }
    }
    for (position, (_, raw)) in path_params.iter().enumerate() {
        let name = names[position];
        let value = percent_decode_str(raw).decode_utf8().map_err(|_| {
            Error::bad_request(format!("path segment `{name}` is not valid UTF-8")).with_field(name)
        })?;
        args.push_text(name, value, Source::Path);
    }
    Ok(())
}

/// A body must be JSON: `application/json` or any `+json` type. A missing content type is
/// taken as JSON, since many clients omit it.
pub fn require_json_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(Error::new(
            crate::ErrorKind::UnsupportedMediaType,
            format!("expected a JSON body (Content-Type: application/json), got `{essence}`"),
        ))
    }
}

fn allow_header(verbs: impl Iterator<Item = Verb>) -> HeaderValue {
    let mut allowed: Vec<&str> = Vec::new();
    for verb in verbs {
        allowed.push(verb.as_str());
        if verb == Verb::Get {
            allowed.push("HEAD");
        }
    }
    allowed.push("OPTIONS");
    HeaderValue::from_str(&allowed.join(", ")).expect("method names are valid header text")
}

pub(crate) fn empty_response(status: StatusCode) -> Response {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The problem+json response for an error. Internal errors are logged with their detail; the
/// caller gets none of it.
pub fn error_response(error: &Error, context: &Context) -> Response {
    if error.kind() == crate::ErrorKind::Internal {
        log::error(context, "internal error", error);
    }
    let body = serde_json::to_vec(&error.problem(Some(context.request_id())))
        .expect("a problem document always serializes");
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(seconds) = error.retry_after() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if error.kind() == crate::ErrorKind::Unauthorized {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// An answer for a method other than POST on a POST-only endpoint.
pub(crate) fn post_only(method: &Method, path: &str, context: &Context) -> Response {
    let mut response = if method == Method::OPTIONS {
        empty_response(StatusCode::NO_CONTENT)
    } else {
        error_response(
            &Error::new(
                crate::ErrorKind::MethodNotAllowed,
                format!("`{path}` accepts only POST"),
            ),
            context,
        )
    };
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("POST"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_of_one_shape_share_a_pattern_and_keep_their_names() {
        let route = |verb, path, names| RouteDesc {
            verb,
            path,
            pattern: "/t/{p0}/{*p1}",
            names,
            method: 0,
            body: BodyBinding::None,
            access: crate::describe::Access::Public,
            layer: None,
            status: None,
        };
        let routes = [
            route(Verb::Get, "/t/:ns/*selector", &["ns", "selector"][..]),
            route(Verb::Put, "/t/:ns/*id", &["ns", "id"][..]),
        ];
        let router = Router::new(&routes).unwrap();
        let found = router.paths.at("/t/a/b").unwrap();
        assert_eq!(found.value, &[(Verb::Get, 0), (Verb::Put, 1)]);
    }

    #[test]
    fn json_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/merge-patch+json"),
        );
        assert!(require_json_content_type(&headers).is_ok());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let error = require_json_content_type(&headers).unwrap_err();
        assert_eq!(error.http_status(), 415);
    }
}
