//! The HTTP routes front end: a request is matched once, by path then method, to a route of the
//! service; its arguments are bound from path, query and body; the method's result is answered
//! as JSON (or 204 for `()`), every error as problem+json.

use std::future::Future;

use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, SET_COOKIE};
use http::{HeaderMap, Method, StatusCode};
use percent_encoding::percent_decode_str;

use crate::args::{Args, Source};
use crate::describe::{BodyBinding, ExtractFrom, RouteDesc, Service, Verb};
use crate::wire::{
    Body, BodyFormat, ByteStream, Incoming, Response, body_format, empty_response, error_response,
    with_request_id,
};
use crate::{Context, Error, ErrorKind};

/// The values of a matched route's path parameters, borrowed from the path.
type PathValues<'p> = dotdo_routes::PathValues<'static, 'p>;

/// A request matched to one of the service's routes.
struct Matched<'r> {
    route: &'static RouteDesc,
    /// The request's path, which the route's path matches.
    path: &'r str,
    is_head: bool,
}

impl<'r> Matched<'r> {
    /// The values of the route's path parameters, as sent.
    fn path_values(&self) -> PathValues<'r> {
        dotdo_routes::path_values(self.route.parts, self.path)
    }
}

/// Serves a request that is for none of the built-in endpoints: routes it, runs the route's own
/// middleware if it declares any, then the method.
// Not an `async fn`: its arguments would be stored in the future twice, once as arguments and
// once as the body's locals (a routed request's future: 1136 bytes that way, 720 this way).
#[allow(clippy::manual_async_fn)]
pub(crate) fn serve<S: Service>(
    service: &S,
    context: Context,
    request: Incoming,
) -> impl Future<Output = Response> + '_ {
    async move {
        let found = match find::<S>(&context, &request) {
            Ok(found) => found,
            Err(response) => return with_request_id(response, context),
        };
        let Some(layer) = found.route.layer else {
            let path_values = found.path_values();
            let response = answer(
                service,
                &context,
                found.route,
                path_values,
                &request,
                found.is_head,
            )
            .await;
            return with_request_id(response, context);
        };
        // The route's middleware takes the request and context with it; the matched path goes
        // along, owned, so the request is not routed a second time (and its values are read as
        // above: one `answer` compiled, not one per kind of iterator). Boxed: its state is large.
        let (route, is_head) = (found.route, found.is_head);
        let matched_path = found.path.to_owned();
        let matched_path = &matched_path;
        let stack = (S::description().layers[layer])(service);
        let request_id = context.request_id_header().clone();
        let endpoint = move |context: Context, request: Incoming| -> LocalBoxFuture<'_, Response> {
            Box::pin(async move {
                answer(
                    service,
                    &context,
                    route,
                    dotdo_routes::path_values(route.parts, matched_path),
                    &request,
                    is_head,
                )
                .await
            })
        };
        let mut response =
            Box::pin(crate::middleware::run(&stack, context, request, &endpoint)).await;
        response
            .headers_mut()
            .insert(crate::request_id::HEADER, request_id);
        response
    }
}

/// The route for the request's path and method; otherwise the answer: 404 for no path, 405 (or
/// 204 to `OPTIONS`) with `Allow` for a path without that method. The path decides first: of the
/// routes whose paths match it, the one with a literal segment where the others have a
/// parameter ([`dotdo_routes::takes_precedence`]); then the method, among the routes of that
/// path's shape.
// The early answer is returned by value: boxing it would allocate on every 404 and 405.
#[allow(clippy::result_large_err)]
fn find<'r, S: Service>(context: &Context, request: &'r Incoming) -> Result<Matched<'r>, Response> {
    let routes = S::description().routes;
    let path = request.uri.path();
    let mut best: Option<&'static RouteDesc> = None;
    for route in routes {
        if dotdo_routes::path_matches(route.parts, path)
            && best.is_none_or(|best| dotdo_routes::takes_precedence(route.parts, best.parts))
        {
            best = Some(route);
        }
    }
    let Some(best) = best else {
        return Err(no_route(path, context));
    };
    let is_head = request.method == Method::HEAD;
    let wanted = if is_head {
        Some(Verb::Get)
    } else {
        Verb::from_method(request.method.as_str())
    };
    // Routes of one shape (`GET /items/:id`, `PUT /items/:key`) share the path's methods.
    let same_shape = |route: &&RouteDesc| route.parts == best.parts;
    let route = if wanted == Some(best.verb) {
        Some(best)
    } else {
        wanted.and_then(|wanted| {
            routes
                .iter()
                .find(|route| route.verb == wanted && same_shape(route))
        })
    };
    match route {
        Some(route) => Ok(Matched {
            route,
            path,
            is_head,
        }),
        None => {
            let mut response = if request.method == Method::OPTIONS {
                empty_response(StatusCode::NO_CONTENT)
            } else {
                let message = format!("`{path}` does not accept {}", request.method);
                error_response(&Error::new(ErrorKind::MethodNotAllowed, message), context)
            };
            let allow = allow_header(routes.iter().filter(same_shape).map(|route| route.verb));
            response.headers_mut().insert(ALLOW, allow);
            Err(response)
        }
    }
}

/// Checks access, binds the arguments and calls the route's method.
async fn answer<'a, S: Service>(
    service: &'a S,
    context: &'a Context,
    route: &'static RouteDesc,
    path_values: PathValues<'a>,
    request: &'a Incoming,
    is_head: bool,
) -> Response {
    let method = &S::description().methods[route.method];
    let bound = route
        .access
        .check(dotdo_routes::is_private(request.uri.path()), context)
        .and_then(|()| {
            let mut args = Args::new(method.params);
            bind(
                &mut args,
                route,
                path_values,
                request.uri.query(),
                context,
                &request.body,
            )?;
            Ok(args)
        });
    let args = match bound {
        Ok(args) => args,
        Err(error) => return error_response(&error, context),
    };
    let status = route
        .status
        .unwrap_or(if method.returns_unit { 204 } else { 200 });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let outcome = (method.invoke)(service, context, args)
        .await
        .and_then(|reply| reply.into_response().into_parts());
    let mut response = match outcome {
        Ok((own_status, headers, body)) => {
            let status = own_status.unwrap_or(status);
            let mut response = empty_response(status);
            if status == StatusCode::NO_CONTENT {
                // No body, so no body's type either (a `()` result is JSON `null`).
                let mut headers = headers;
                headers.remove(CONTENT_TYPE);
                *response.headers_mut() = headers;
            } else {
                *response.body_mut() = match body {
                    Body::Stream(stream) => Body::Stream(stream_ending(stream, &headers, context)),
                    bytes => bytes,
                };
                *response.headers_mut() = headers;
            }
            add_context_headers(&mut response, context);
            response
        }
        Err(error) => error_response(&error, context),
    };
    if is_head {
        // A stream's length is unknown until it has run, and HEAD does not run it.
        if let Some(length) = response.body().as_bytes().map(<[u8]>::len) {
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        *response.body_mut() = Body::empty();
    }
    response
}

/// A streamed body's failure, once its status is long sent: logged with the request's id, then
/// an event stream ends with an `error` event carrying the problem document (an `EventSource`
/// has no other way to hear of it) and any other body breaks off, so no client takes a cut-short
/// body for a whole one.
fn stream_ending(stream: ByteStream, headers: &HeaderMap, context: &Context) -> ByteStream {
    let request_id = context.request_id().to_owned();
    let event_stream = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    stream
        .scan(false, move |ended, chunk| {
            if *ended {
                return std::future::ready(None);
            }
            let chunk = chunk.or_else(|error| {
                *ended = true;
                crate::log::error_for(&request_id, "the streamed body failed", &error);
                if event_stream {
                    Ok(error_event(&error, &request_id))
                } else {
                    Err(error)
                }
            });
            std::future::ready(Some(chunk))
        })
        .boxed_local()
}

fn error_event(error: &Error, request_id: &str) -> Vec<u8> {
    crate::sse::Event::json(&error.problem(Some(request_id)))
        .and_then(|event| event.event("error").encode())
        .unwrap_or_else(|_| b"event: error\ndata: {}\n\n".to_vec())
}

/// The headers and cookies the method set through its context: a header replaces the
/// response's own of that name, cookies are added.
fn add_context_headers(response: &mut Response, context: &Context) {
    for (name, value) in context.take_response_headers() {
        if name == SET_COOKIE {
            response.headers_mut().append(name, value);
        } else {
            response.headers_mut().insert(name, value);
        }
    }
}

fn bind<'a>(
    args: &mut Args<'a>,
    route: &RouteDesc,
    path_values: PathValues<'a>,
    query: Option<&'a str>,
    context: &'a Context,
    body: &'a [u8],
) -> Result<(), Error> {
    let content_type = || context.header_bytes("content-type");
    if let Some(query) = query {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            args.push_text(name, value, Source::Query);
        }
    }
    if route.body != BodyBinding::None && !body.is_empty() {
        match body_format(content_type())? {
            BodyFormat::Json => {
                let value: serde_json::Value = crate::json::parse(body)
                    .map_err(|error| Error::bad_request(format!("malformed JSON body: {error}")))?;
                match route.body {
                    BodyBinding::Whole(name) => args.push_json(name, value, Source::Body),
                    BodyBinding::Fields => args.push_object(value, "the request body")?,
                    BodyBinding::None => {}
                }
            }
            BodyFormat::Form => {
                let fields = form_urlencoded::parse(body);
                match route.body {
                    BodyBinding::Whole(name) => args.push_form(name, fields.collect()),
                    BodyBinding::Fields => {
                        for (name, value) in fields {
                            args.push_text(name, value, Source::Field);
                        }
                    }
                    BodyBinding::None => {}
                }
            }
            #[cfg(feature = "multipart")]
            BodyFormat::Multipart => {
                let content_type = content_type()
                    .and_then(crate::wire::header_text)
                    .unwrap_or_default();
                let mut fields: Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> =
                    Vec::new();
                for part in crate::multipart::parse(content_type, body)? {
                    match part {
                        crate::multipart::Part::Text(name, value) => {
                            fields.push((name.into(), value.into()))
                        }
                        crate::multipart::Part::File(upload) => args.push_file(upload),
                    }
                }
                match route.body {
                    // A file under the argument's own name is the argument, and the body is
                    // nothing else; otherwise the text fields fill it, as a urlencoded form's do.
                    BodyBinding::Whole(name) if args.has(name) => {
                        if let Some((field, _)) = fields.first() {
                            return Err(Error::invalid_field(
                                field.to_string(),
                                format!(
                                    "unknown form field `{field}`: the body is the file `{name}`"
                                ),
                            ));
                        }
                    }
                    BodyBinding::Whole(name) => args.push_form(name, fields),
                    BodyBinding::Fields => {
                        for (name, value) in fields {
                            args.push_text(name, value, Source::Field);
                        }
                    }
                    BodyBinding::None => {}
                }
            }
        }
    }
    for extract in route.extract {
        match extract.from {
            ExtractFrom::Header(header) => {
                let mut values = context.header_values(header).peekable();
                if values.peek().is_none() {
                    args.note_absent(extract.arg, Source::Header(header));
                }
                for value in values {
                    let text = crate::wire::header_text(value).ok_or_else(|| {
                        Error::bad_request(format!("the `{header}` header is not text"))
                            .with_field(extract.arg)
                    })?;
                    args.push_text(extract.arg, text, Source::Header(header));
                }
            }
            ExtractFrom::Cookie(cookie) => match context.cookie(cookie) {
                Some(value) => args.push_text(extract.arg, value, Source::Cookie(cookie)),
                None => args.note_absent(extract.arg, Source::Cookie(cookie)),
            },
            ExtractFrom::Body => args.push_bytes(extract.arg, body),
        }
    }
    for (&name, raw) in route.names.iter().zip(path_values) {
        let value = percent_decode_str(raw).decode_utf8().map_err(|_| {
            Error::bad_request(format!("path segment `{name}` is not valid UTF-8")).with_field(name)
        })?;
        args.push_text(name, value, Source::Path);
    }
    Ok(())
}

/// The answer to a path that is none of the service's routes.
pub(crate) fn no_route(path: &str, context: &Context) -> Response {
    error_response(&Error::not_found(format!("no route for `{path}`")), context)
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
