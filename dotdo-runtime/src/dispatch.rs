//! The top of the request path: a request arriving over HTTP goes through the service's
//! middleware, then to the front end its path names: `/_rpc` (JSON-RPC), `/mcp`, or the routes.

use std::borrow::Borrow;
use std::future::Future;

use futures_util::FutureExt;
use futures_util::future::{Either, LocalBoxFuture, Ready, ready};

use crate::describe::{Access, Service};
use crate::mcp::{SERVER_CARD_PATH, WELL_KNOWN_SERVER_CARD_PATH};
use crate::middleware::Stack;
use crate::wire::{
    Body, DOCS_PATH, Incoming, MCP_PATH, OPENAPI_PATH, RPC_PATH, Request, Response, accepts_only,
    error_response, with_request_id,
};
use crate::{Context, Interface};

// The entry points are plain functions that do their synchronous part and hand back one
// future, rather than `async fn`s awaiting each other: each nested `async fn` frame would keep
// its own copy of the request and context, which made a routed request's future ~3 KB to build
// and move.

/// Serves one HTTP request through the service's middleware, building the call's [`Context`]
/// from its headers.
pub fn serve<S: Service>(service: &S, request: Request) -> impl Future<Output = Response> + '_ {
    let (parts, body) = request.into_parts();
    let context = Context::from_headers(Interface::Http, parts.headers);
    let incoming = Incoming {
        method: parts.method,
        uri: parts.uri,
        body,
    };
    serve_through(service, service.middleware(), context, incoming)
}

/// Serves one request through `stack` (borrowed, or owned by the call), then the service.
pub fn serve_through<'a, S: Service>(
    service: &'a S,
    stack: impl Borrow<Stack> + 'a,
    context: Context,
    request: Incoming,
) -> impl Future<Output = Response> + 'a {
    // Without layers the service is called directly: no boxed endpoint on the hot path.
    if stack.borrow().is_empty() {
        return Either::Left(handle(service, context, request));
    }
    let call = async move { through_middleware(service, stack.borrow(), context, request).await };
    Either::Right(call.boxed_local())
}

async fn through_middleware<S: Service>(
    service: &S,
    stack: &Stack,
    context: Context,
    request: Incoming,
) -> Response {
    let endpoint = |context: Context, request: Incoming| -> LocalBoxFuture<'_, Response> {
        Box::pin(handle(service, context, request))
    };
    crate::middleware::run(stack, context, request, &endpoint).await
}

/// The front end a request's path names.
enum FrontEnd {
    Rpc,
    Mcp,
    ServerCard,
    OpenApi,
    Docs,
    Routes,
    /// Any other path of a service without routes.
    NoRoute,
}

fn front_end<S: Service>(service: &S, path: &str) -> FrontEnd {
    let description = S::description();
    let has_mcp = || S::HAS_MCP && (description.has_mcp() || service.mcp_delegate().is_some());
    match path {
        RPC_PATH if S::HAS_RPC && !description.rpc.is_empty() => FrontEnd::Rpc,
        MCP_PATH if has_mcp() => FrontEnd::Mcp,
        SERVER_CARD_PATH | WELL_KNOWN_SERVER_CARD_PATH if has_mcp() => FrontEnd::ServerCard,
        OPENAPI_PATH if S::HAS_ROUTES && !description.routes.is_empty() => FrontEnd::OpenApi,
        DOCS_PATH if S::HAS_ROUTES && !description.routes.is_empty() => FrontEnd::Docs,
        _ if S::HAS_ROUTES => FrontEnd::Routes,
        _ => FrontEnd::NoRoute,
    }
}

/// Serves one HTTP request with a context prepared by the caller (middleware, the platform),
/// which holds the request's headers. This is the innermost step: no service middleware runs
/// here (a route's own middleware does, around that route).
pub fn handle<S: Service>(
    service: &S,
    mut context: Context,
    request: Incoming,
) -> impl Future<Output = Response> + '_ {
    // Routes are the hot path and go unboxed; JSON-RPC and MCP are boxed, as their large
    // states would otherwise size every request's future; documents are answered at once.
    type Answer<'a, R> = Either<R, Either<Ready<Response>, LocalBoxFuture<'a, Response>>>;
    let answered = |response: Response, context: Context| -> Answer<'_, _> {
        Either::Right(Either::Left(ready(with_request_id(response, context))))
    };
    match front_end(service, request.uri.path()) {
        FrontEnd::Routes => Either::Left(crate::routes::serve(service, context, request)),
        FrontEnd::Rpc => {
            context.set_interface(Interface::Rpc);
            // `/_` paths are private: the endpoint needs a principal before any method runs.
            if let Err(error) = Access::Public.check(true, &context) {
                let response = error_response(&error, &context);
                return answered(response, context);
            }
            let call = async move {
                let response = crate::rpc::handle_http(service, &context, request).await;
                with_request_id(response, context)
            };
            Either::Right(Either::Right(call.boxed_local()))
        }
        FrontEnd::Mcp => {
            context.set_interface(Interface::Mcp);
            // The call owns its context: a streamed answer keeps it until its last event.
            let request_id = context.request_id_header().clone();
            let call = async move {
                let mut response = crate::mcp::handle_http(service, context, request).await;
                response
                    .headers_mut()
                    .insert(crate::request_id::HEADER, request_id);
                response
            };
            Either::Right(Either::Right(call.boxed_local()))
        }
        FrontEnd::ServerCard => answered(server_card::<S>(&context, &request), context),
        FrontEnd::OpenApi => answered(openapi::<S>(&context, &request), context),
        FrontEnd::Docs => answered(docs_page::<S>(&context, &request), context),
        FrontEnd::NoRoute => {
            let response = crate::routes::no_route(request.uri.path(), &context);
            answered(response, context)
        }
    }
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
        || crate::json::to_text(&S::description().server_card(host, prefix)).into_bytes(),
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
