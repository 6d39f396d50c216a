//! The top of the request path: a request arriving over HTTP goes through the service's
//! middleware, then to the front end its path names: `/_rpc` (JSON-RPC), `/mcp`, or the routes.

use futures_util::future::LocalBoxFuture;

use crate::describe::{Access, Service};
use crate::mcp::{SERVER_CARD_PATH, WELL_KNOWN_SERVER_CARD_PATH};
use crate::middleware::Stack;
use crate::wire::{
    Body, DOCS_PATH, Incoming, MCP_PATH, OPENAPI_PATH, RPC_PATH, Request, Response, accepts_only,
    error_response, with_request_id,
};
use crate::{Context, Interface};

/// Serves one HTTP request through the service's middleware, building the call's [`Context`]
/// from its headers.
pub async fn serve<S: Service>(service: &S, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let context = Context::from_headers(Interface::Http, parts.headers);
    let stack = service.middleware();
    let incoming = Incoming {
        method: parts.method,
        uri: parts.uri,
        body,
    };
    serve_through(service, &stack, context, incoming).await
}

/// Serves one request through `stack`, then the service.
pub async fn serve_through<S: Service>(
    service: &S,
    stack: &Stack,
    context: Context,
    request: Incoming,
) -> Response {
    // Without layers the service is called directly: no boxed endpoint on the hot path.
    if stack.is_empty() {
        return handle(service, context, request).await;
    }
    let endpoint = |context: Context, request: Incoming| -> LocalBoxFuture<'_, Response> {
        Box::pin(handle(service, context, request))
    };
    crate::middleware::run(stack, context, request, &endpoint).await
}

/// Serves one HTTP request with a context prepared by the caller (middleware, the platform),
/// which holds the request's headers. This is the innermost step: no service middleware runs
/// here (a route's own middleware does, around that route).
pub async fn handle<S: Service>(service: &S, mut context: Context, request: Incoming) -> Response {
    let response = match request.uri.path() {
        RPC_PATH if !S::description().rpc.is_empty() => {
            context.set_interface(Interface::Rpc);
            // `/_` paths are private: the endpoint needs a principal before any method runs.
            // Boxed (here and for MCP): their large states would otherwise size every request's.
            match Access::Public.check(true, &context) {
                Ok(()) => Box::pin(crate::rpc::handle_http(service, &context, request)).await,
                Err(error) => error_response(&error, &context),
            }
        }
        MCP_PATH if S::description().has_mcp() || service.mcp_delegate().is_some() => {
            context.set_interface(Interface::Mcp);
            // The call owns its context: a streamed answer keeps it until its last event.
            let request_id = context.request_id_header().clone();
            let mut response = Box::pin(crate::mcp::handle_http(service, context, request)).await;
            response
                .headers_mut()
                .insert(crate::request_id::HEADER, request_id);
            return response;
        }
        SERVER_CARD_PATH | WELL_KNOWN_SERVER_CARD_PATH
            if S::description().has_mcp() || service.mcp_delegate().is_some() =>
        {
            server_card::<S>(&context, &request)
        }
        OPENAPI_PATH if !S::description().routes.is_empty() => openapi::<S>(&context, &request),
        DOCS_PATH if !S::description().routes.is_empty() => docs_page::<S>(&context, &request),
        _ => return crate::routes::serve(service, context, request).await,
    };
    with_request_id(response, context)
}

/// The MCP Server Card, for the host the request reached.
fn server_card<S: Service>(context: &Context, request: &Incoming) -> Response {
    let host = crate::mcp::forwarded_host(context.header(crate::mcp::FORWARDED_HOST_HEADER))
        .or_else(|| context.header("host"))
        .unwrap_or("localhost");
    let prefix = crate::mcp::forwarded_prefix(context.header(crate::mcp::FORWARDED_PREFIX_HEADER));
    document(
        context,
        request,
        request.uri.path(),
        crate::mcp::SERVER_CARD_MEDIA_TYPE,
        || {
            S::description()
                .server_card(host, prefix)
                .to_string()
                .into_bytes()
        },
    )
}

/// The API page: the OpenAPI document in Swagger UI, whose files the worker's static assets
/// serve under `/docs/` (see `ServiceDescription::docs_page`).
fn docs_page<S: Service>(context: &Context, request: &Incoming) -> Response {
    document(
        context,
        request,
        DOCS_PATH,
        "text/html; charset=utf-8",
        || S::description().docs_page().into_bytes(),
    )
}

/// The OpenAPI document, with the `/_` routes for an admin only.
fn openapi<S: Service>(context: &Context, request: &Incoming) -> Response {
    let admin = context
        .principal()
        .is_some_and(|principal| principal.role == "admin");
    document(context, request, OPENAPI_PATH, "application/json", || {
        S::description().openapi_json(admin).to_vec()
    })
}

/// A document dotdo serves itself at `path`: to GET, or its headers alone to HEAD.
fn document(
    context: &Context,
    request: &Incoming,
    path: &str,
    content_type: &'static str,
    body: impl FnOnce() -> Vec<u8>,
) -> Response {
    if request.method != http::Method::GET && request.method != http::Method::HEAD {
        return accepts_only("GET, HEAD", &request.method, path, context);
    }
    let mut response = Response::new(Body::empty());
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    if request.method == http::Method::GET {
        *response.body_mut() = body().into();
    }
    response
}
