//! Running a service on Cloudflare Workers (workers-rs).
//!
//! A service is built from the worker's bindings by [`FromEnv`] on an isolate's first event
//! and shared by the events after it (a failed build is tried again on the next one); the
//! entrypoint that `#[dotdo::service]` emits on wasm32 calls the [`glue`] functions, which
//! convert between the runtime's HTTP types and workers-rs, apply queue outcomes with the real
//! message API, and pick the `#[cron]` method for a scheduled event.
//!
//! Everything here compiles natively too, so services build and test with plain `cargo test`;
//! calling a binding natively panics, so in-process tests never construct one.

use ::worker::wasm_bindgen::{JsCast, JsValue};
use futures_util::future::LocalBoxFuture;

pub use ::worker as sdk;
pub use ::worker::{D1Database, Env, Fetcher, KvStore, Queue};

use crate::Error;
use crate::client::Transport;
use crate::queue::{EncodedEnvelope, Envelope, Producer};

/// Builds a service from the worker's bindings (D1, KV, queues, service bindings, secrets,
/// vars): once per isolate, on its first event; the events after it share the service, as an
/// axum router shares its state. Keep what belongs to one request in its `Context`, not in the
/// service.
///
/// ```no_run
/// use dotdo_runtime::worker::{D1Database, Env, FromEnv, binding_error};
///
/// struct Items {
///     db: D1Database,
/// }
///
/// impl FromEnv for Items {
///     fn from_env(env: &Env) -> dotdo_runtime::Result<Self> {
///         Ok(Items { db: env.d1("DB").map_err(binding_error)? })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be built from the worker's bindings",
    note = "implement `dotdo::worker::FromEnv for {Self}`: it builds the service from the `Env`, once per isolate"
)]
pub trait FromEnv: Sized {
    fn from_env(env: &Env) -> Result<Self, Error>;
}

/// A missing or mistyped binding is a deployment problem: a 500 whose detail is logged.
pub fn binding_error(error: ::worker::Error) -> Error {
    Error::internal(format!("binding: {error}"))
}

fn fetch_error(error: ::worker::Error) -> Error {
    Error::upstream(format!("fetch: {error}"))
}

/// A typed-client transport over a service binding (`[[services]]` in wrangler.toml): calls go
/// worker to worker inside Cloudflare, never over the internet.
pub struct ServiceBinding {
    fetcher: Fetcher,
    bearer: Option<String>,
    headers: http::HeaderMap,
    path: &'static str,
}

impl ServiceBinding {
    pub fn new(fetcher: Fetcher) -> Self {
        ServiceBinding {
            fetcher,
            bearer: None,
            headers: http::HeaderMap::new(),
            path: crate::wire::RPC_PATH,
        }
    }

    /// Posts the JSON-RPC messages to `path` instead of `/_rpc`: `/mcp` speaks JSON-RPC too
    /// (send its `MCP-Protocol-Version` with [`with_headers`](Self::with_headers)).
    pub fn at(mut self, path: &'static str) -> Self {
        self.path = path;
        self
    }

    /// Sends these headers with every call too: a forwarded principal and its signature
    /// (`dotdo::middleware::sign_forwarded`), the request id they were signed for.
    pub fn with_headers(mut self, headers: http::HeaderMap) -> Self {
        self.headers.extend(headers);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every call: `/_rpc` is private, so the called
    /// service needs to know who calls (an API key or a token from the auth service).
    pub fn with_bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The binding named `name` in `env`.
    pub fn from_env(env: &Env, name: &str) -> Result<Self, Error> {
        env.service(name).map(Self::new).map_err(binding_error)
    }
}

/// A typed client's JSON-RPC request: `payload` posted to `url` with `extra` headers, its own
/// content type, and `Authorization: Bearer` when it has a token (both win over `extra`).
fn rpc_request(
    url: &str,
    payload: &[u8],
    bearer: Option<&str>,
    extra: &http::HeaderMap,
) -> Result<::worker::Request, Error> {
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let headers = extra
        .iter()
        .filter(|(name, _)| {
            *name != http::header::CONTENT_TYPE
                && !(authorization.is_some() && *name == http::header::AUTHORIZATION)
        })
        .map(convert::header_pair)
        .chain([("content-type", "application/json")])
        .chain(
            authorization
                .as_deref()
                .map(|value| ("authorization", value)),
        );
    convert::js_request("POST", url, headers, Some(payload)).map_err(fetch_error)
}

impl Transport for ServiceBinding {
    fn send<'a>(&'a self, payload: Vec<u8>) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            // The host is ignored by service bindings; the path picks the endpoint.
            let url = format!("https://service{}", self.path);
            let request = rpc_request(&url, &payload, self.bearer.as_deref(), &self.headers)?;
            let mut response = self
                .fetcher
                .fetch_request(request)
                .await
                .map_err(fetch_error)?;
            response.bytes().await.map_err(fetch_error)
        })
    }
}

/// A typed-client transport over HTTP to a base URL (`https://items.example.com`).
pub struct HttpTransport {
    rpc_url: String,
    bearer: Option<String>,
}

impl HttpTransport {
    pub fn new(base_url: &str) -> Self {
        HttpTransport {
            rpc_url: format!(
                "{}{}",
                base_url.trim_end_matches('/'),
                crate::wire::RPC_PATH
            ),
            bearer: None,
        }
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn with_bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }
}

impl Transport for HttpTransport {
    fn send<'a>(&'a self, payload: Vec<u8>) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let no_headers = http::HeaderMap::new();
            let request =
                rpc_request(&self.rpc_url, &payload, self.bearer.as_deref(), &no_headers)?;
            let mut response = ::worker::Fetch::Request(request)
                .send()
                .await
                .map_err(fetch_error)?;
            response.bytes().await.map_err(fetch_error)
        })
    }
}

/// Sends `envelopes` in one `sendBatch`, the whole argument built as one JSON text that crosses
/// into JavaScript in one `JSON.parse`: workers-rs's `send_raw_batch` sets each message's fields
/// one call at a time (five crossings a message). As JSON, a consumer sees exactly this text.
async fn send_batch(queue: &Queue, envelopes: &[EncodedEnvelope]) -> Result<(), Error> {
    const BEFORE_BODY: &str = r#"{"contentType":"json","body":"#;
    let length: usize = envelopes
        .iter()
        .map(|envelope| envelope.as_str().len() + BEFORE_BODY.len() + 2)
        .sum();
    let mut json = String::with_capacity(length + 2);
    json.push('[');
    for (index, envelope) in envelopes.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        // Each envelope is JSON that serde_json wrote: it goes in as it is.
        json.push_str(BEFORE_BODY);
        json.push_str(envelope.as_str());
        json.push('}');
    }
    json.push(']');
    let messages = ::worker::js_sys::JSON::parse(&json)
        .map_err(|_| Error::internal("the envelopes are not valid JSON"))?;
    let queue: &::worker::worker_sys::Queue = queue.as_ref().unchecked_ref();
    let sent = queue
        .send_batch(messages.unchecked_into(), JsValue::UNDEFINED)
        .map_err(send_error)?;
    ::worker::wasm_bindgen_futures::JsFuture::from(sent)
        .await
        .map_err(send_error)?;
    Ok(())
}

fn send_error(error: JsValue) -> Error {
    Error::upstream(format!("queue send: {}", ::worker::Error::from(error)))
}

impl Producer for Queue {
    fn send_envelope<'a>(&'a self, envelope: Envelope) -> LocalBoxFuture<'a, Result<(), Error>> {
        // A batch of one: the same path, and the same limits, as many.
        self.send_envelopes(vec![envelope])
    }

    fn send_envelopes<'a>(
        &'a self,
        envelopes: Vec<Envelope>,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let encoded = envelopes
                .iter()
                .map(EncodedEnvelope::from_envelope)
                .collect::<Result<Vec<_>, _>>()?;
            send_batch(self, &encoded).await
        })
    }

    fn send_encoded<'a>(
        &'a self,
        envelopes: Vec<EncodedEnvelope>,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { send_batch(self, &envelopes).await })
    }
}

/// Conversions between workers-rs and the `http` types the runtime speaks, for services that
/// forward requests (a gateway) or call other workers by hand. They call into the Workers
/// runtime, so they run on Workers only.
pub mod convert {
    use crate::Error;
    use crate::wire::{Body, Request, Response};

    fn failed(error: ::worker::Error) -> Error {
        Error::upstream(format!("request: {error}"))
    }

    /// Copies workers-rs headers into a `HeaderMap`, leaving out what `http` cannot represent.
    pub fn header_map(headers: &::worker::Headers) -> http::HeaderMap {
        js_header_map(&headers.0)
    }

    /// The headers read in one crossing rather than a few calls into JavaScript per header;
    /// names `http` cannot hold are left out.
    pub(crate) fn js_header_map(
        headers: &::worker::worker_sys::web_sys::Headers,
    ) -> http::HeaderMap {
        crate::context::header_map(&js_header_text(headers))
    }

    /// The headers as text pairs, names lower-case, in one crossing: their names and values
    /// joined by line feeds, which the Fetch standard keeps out of both, and split again here.
    /// Cheaper to read than JSON, and no typed JSON decoding to compile.
    pub(crate) fn js_header_text(
        headers: &::worker::worker_sys::web_sys::Headers,
    ) -> Vec<[String; 2]> {
        let pairs = ::worker::js_sys::Array::from(headers);
        let text = String::from(::worker::js_sys::Array::flat(&pairs, 1).join("\n"));
        split_header_text(&text)
    }

    /// Header names and values joined by line feeds, as pairs.
    pub(crate) fn split_header_text(text: &str) -> Vec<[String; 2]> {
        let mut parts = text.split('\n');
        let mut pairs = Vec::new();
        while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
            pairs.push([name.to_owned(), value.to_owned()]);
        }
        pairs
    }

    /// Copies a `HeaderMap` into workers-rs headers, in one crossing (`JSON.parse`) rather than
    /// a call into JavaScript per header.
    pub fn worker_headers(map: &http::HeaderMap) -> Result<::worker::Headers, ::worker::Error> {
        use ::worker::worker_sys::web_sys;
        let headers = match js_header_pairs(map.iter().map(header_pair))? {
            Some(pairs) => web_sys::Headers::new_with_str_sequence_sequence(&pairs)?,
            None => web_sys::Headers::new()?,
        };
        Ok(::worker::Headers(headers))
    }

    pub(crate) fn header_pair<'h>(
        (name, value): (&'h http::HeaderName, &'h http::HeaderValue),
    ) -> (&'h str, &'h str) {
        (name.as_str(), value.to_str().unwrap_or_default())
    }

    /// Header pairs as the JavaScript `[[name, value], …]` a `Headers` or an init takes, made by
    /// one `JSON.parse`; `None` for none.
    pub(crate) fn js_header_pairs<'h>(
        pairs: impl IntoIterator<Item = (&'h str, &'h str)>,
    ) -> Result<Option<::worker::wasm_bindgen::JsValue>, ::worker::Error> {
        let pairs: Vec<[&str; 2]> = pairs
            .into_iter()
            .map(|(name, value)| [name, value])
            .collect();
        if pairs.is_empty() {
            return Ok(None);
        }
        let json = serde_json::to_string(&pairs)?;
        Ok(Some(::worker::js_sys::JSON::parse(&json)?))
    }

    /// A request to send with `fetch`, over a service binding or to a Durable Object stub,
    /// built on the runtime's own init: its headers cross in one `JSON.parse` rather than a
    /// call per header, any method is sent as it is (`QUERY`…, which workers-rs's `Method`
    /// would turn into a GET), and workers-rs's init conversion (its `cf` properties, 11 KB of
    /// wasm) is not linked into the worker.
    pub fn js_request<'h>(
        method: &str,
        url: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h str)>,
        body: Option<&[u8]>,
    ) -> Result<::worker::Request, ::worker::Error> {
        use ::worker::worker_sys::web_sys;
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        if let Some(pairs) = js_header_pairs(headers)? {
            init.set_headers_str_sequence_sequence(&pairs);
        }
        if let Some(body) = body {
            init.set_body(&::worker::js_sys::Uint8Array::from(body).into());
        }
        Ok(web_sys::Request::new_with_str_and_init(url, &init)?.into())
    }

    /// A workers-rs request for `request`; a URI without a host gets `default_host` (service
    /// bindings take `Host` from the URL and ignore the rest).
    pub fn worker_request(
        request: Request,
        default_host: &str,
    ) -> Result<::worker::Request, Error> {
        let (parts, body) = request.into_parts();
        let url = match parts.uri.authority() {
            Some(_) => parts.uri.to_string(),
            None => format!(
                "https://{default_host}{}",
                parts.uri.path_and_query().map_or("/", |pq| pq.as_str())
            ),
        };
        let body = (!body.is_empty()).then_some(body.as_slice());
        js_request(
            parts.method.as_str(),
            &url,
            parts.headers.iter().map(header_pair),
            body,
        )
        .map_err(failed)
    }

    /// The `http` response for a workers-rs one. A streamed body (a `fetch`'s, say) stays a
    /// stream, so a proxy passes server-sent events on as they come instead of holding them.
    pub async fn http_response(mut response: ::worker::Response) -> Result<Response, Error> {
        use futures_util::TryStreamExt;
        let body = match response.body() {
            ::worker::ResponseBody::Stream(_) => {
                Body::stream(response.stream().map_err(failed)?.map_err(failed))
            }
            _ => Body::Bytes(response.bytes().await.map_err(failed)?),
        };
        let mut converted = Response::new(body);
        *converted.status_mut() = http::StatusCode::from_u16(response.status_code())
            .unwrap_or(http::StatusCode::BAD_GATEWAY);
        *converted.headers_mut() = header_map(response.headers());
        Ok(converted)
    }

    /// The workers-rs response for an `http` one.
    pub fn worker_response(response: Response) -> Result<::worker::Response, ::worker::Error> {
        let (parts, body) = response.into_parts();
        let converted = match body {
            // A null-body status (204, 304) must not carry a body, not even an empty one.
            Body::Bytes(bytes) if bytes.is_empty() => ::worker::Response::empty()?,
            Body::Bytes(bytes) => ::worker::Response::from_bytes(bytes)?,
            Body::Stream(stream) => {
                ::worker::Response::from_stream(futures_util::TryStreamExt::map_err(
                    crate::wire::StableWaker::new(stream),
                    |error| ::worker::Error::RustError(error.to_string()),
                ))?
            }
        };
        Ok(converted
            .with_status(parts.status.as_u16())
            .with_headers(worker_headers(&parts.headers)?))
    }
}

thread_local! {
    /// The service, built on the isolate's first event that needed it.
    static BUILT: std::cell::RefCell<Option<std::rc::Rc<dyn std::any::Any>>> =
        const { std::cell::RefCell::new(None) };
}

/// The service `build` makes, built on the isolate's first event and shared by the events after
/// it, as an axum router shares its state: an isolate's bindings, vars and secrets do not change
/// under it (a deploy starts new isolates), and building it for each request cost a parse of its
/// configuration each time (the gateway's routes). A failed build is not kept: the next event
/// builds again.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn built_once<S: 'static>(
    build: impl FnOnce() -> Result<S, Error>,
) -> Result<std::rc::Rc<S>, Error> {
    let built = BUILT.with(|built| built.borrow().clone());
    if let Some(service) = built.and_then(|service| service.downcast::<S>().ok()) {
        return Ok(service);
    }
    let service = std::rc::Rc::new(build()?);
    BUILT.with(|built| *built.borrow_mut() = Some(service.clone()));
    Ok(service)
}

/// What the generated wasm entrypoint calls. Not a public API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod glue {
    use ::worker::js_sys::{self, Promise};
    use ::worker::wasm_bindgen::{JsCast, JsValue};
    use std::cell::{Cell, RefCell};

    use ::worker::wasm_bindgen_futures::spawn_local;
    use ::worker::worker_sys;
    use ::worker::worker_sys::web_sys;
    use futures_util::future::LocalBoxFuture;

    use super::{Env, FromEnv};
    use crate::describe::Service;
    use crate::queue::{QueueMessage, Settlement};
    use crate::wire::{Incoming, Response};
    use crate::{Context, Error, Interface};

    /// How an in-flight event is settled if the instance dies under it.
    enum Pending {
        /// A fetch: answered with a bare 500.
        Fetch(js_sys::Function),
        /// A queue batch or scheduled run: rejected, so the runtime retries or records it.
        Event(js_sys::Function),
    }

    thread_local! {
        static PENDING: RefCell<Vec<(u64, Pending)>> = const { RefCell::new(Vec::new()) };
        static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    }

    /// Panics abort the wasm instance (with `panic = "abort"`, the only choice on stable): the
    /// futures in flight never finish, and workers-rs resets the instance for the next event.
    /// The panic hook runs before the abort, so it logs the panic (for the operator only) and
    /// settles every event still in flight: a fetch gets a 500 problem response naming no
    /// internals, queue and cron events are rejected so the runtime retries them.
    fn install_panic_hook() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                crate::log::emit(
                    "error",
                    "panic",
                    serde_json::json!({"detail": info.to_string()})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                );
                let pending = PENDING.with(|pending| {
                    pending
                        .try_borrow_mut()
                        .map(|mut all| std::mem::take(&mut *all))
                });
                for (_, settle) in pending.unwrap_or_default() {
                    let _ = match settle {
                        Pending::Fetch(resolve) => {
                            let context = Context::new(Interface::Http);
                            let response =
                                crate::wire::error_response(&Error::internal("panic"), &context);
                            match to_worker_response(response) {
                                Ok(response) => resolve.call1(&JsValue::UNDEFINED, &response),
                                Err(_) => Ok(JsValue::UNDEFINED),
                            }
                        }
                        Pending::Event(reject) => {
                            reject.call1(&JsValue::UNDEFINED, &JsValue::from_str("panic"))
                        }
                    };
                }
            }));
        });
    }

    /// Runs `event` to completion as a promise that a panic still settles.
    fn settled<F>(is_fetch: bool, event: F) -> Promise
    where
        F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
    {
        settle(is_fetch, Box::pin(event))
    }

    /// [`settled`], compiled once: each event's future is boxed, so the promise, the panic
    /// bookkeeping and the spawned task are not compiled again around every kind of event.
    fn settle(is_fetch: bool, event: LocalBoxFuture<'static, Result<JsValue, JsValue>>) -> Promise {
        install_panic_hook();
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        });
        let mut event = Some(event);
        Promise::new(&mut |resolve, reject| {
            let event = event.take().expect("a promise executor runs once");
            let on_panic = if is_fetch {
                Pending::Fetch(resolve.clone())
            } else {
                Pending::Event(reject.clone())
            };
            PENDING.with(|pending| pending.borrow_mut().push((id, on_panic)));
            let task = async move {
                let outcome = event.await;
                PENDING.with(|pending| {
                    pending
                        .borrow_mut()
                        .retain(|(pending_id, _)| *pending_id != id)
                });
                let _ = match outcome {
                    Ok(value) => resolve.call1(&JsValue::UNDEFINED, &value),
                    Err(error) => reject.call1(&JsValue::UNDEFINED, &error),
                };
            };
            spawn_local(task);
        })
    }

    /// The service of this isolate ([`super::built_once`]).
    fn shared_service<S: Service + FromEnv>(env: &Env) -> Result<std::rc::Rc<S>, Error> {
        super::built_once(|| S::from_env(env))
    }

    pub fn fetch<S: Service + FromEnv>(
        request: web_sys::Request,
        env: Env,
        _ctx: worker_sys::Context,
    ) -> Promise {
        settled(true, async move {
            let response = serve::<S>(request, env).await;
            to_worker_response(response)
                .map(JsValue::from)
                .map_err(|error| JsValue::from_str(&error.to_string()))
        })
    }

    /// Serves the request as it came from the runtime. Only what the framework uses is read
    /// from it — method, URL, headers, body — and never `request.cf`, which workerd builds
    /// anew on each read (a workers-rs `Request` reads it up front: 7 % of a small request's
    /// CPU, measured by the workerd benchmark's profile).
    async fn serve<S: Service + FromEnv>(request: web_sys::Request, env: Env) -> Response {
        let headers = super::convert::js_header_text(&request.headers());
        let mut context = Context::from_header_pairs(Interface::Http, headers);
        context.set_env(env.clone());
        // The path and query straight from the serialized URL: parsing it again with the `url`
        // crate would link its Unicode tables into every worker.
        let uri = path_and_query(&request.url());
        // The method as sent, extension methods (`QUERY`…) included.
        let method =
            http::Method::from_bytes(request.method().as_bytes()).unwrap_or(http::Method::GET);
        let service = match shared_service::<S>(&env) {
            Ok(service) => service,
            Err(error) => return crate::wire::error_response(&error, &context),
        };
        // Shared with the call, so an MCP answer streamed after the handler returned keeps it.
        context.share_service(service.clone());
        let stack = service.middleware();
        let body = if matches!(method, http::Method::GET | http::Method::HEAD) {
            Vec::new()
        } else {
            match read_body(&request, &context, stack.body_limit()).await {
                Ok(body) => body,
                Err(error) => return crate::wire::error_response(&error, &context),
            }
        };
        let uri = uri.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        crate::dispatch::serve_through(&*service, &stack, context, Incoming { method, uri, body })
            .await
    }

    /// A native Workers RPC call of the `#[rpc]` method `method`, as a JavaScript worker makes
    /// it over a service binding: `await env.ITEMS.get_item({ id: "42" }, { authorization })`.
    /// It is served as the same call to `/_rpc` would be, through the service's middleware,
    /// so the same credentials and access rules apply. The result arrives as a JavaScript
    /// value; an error as an `Error` whose message carries the kind, field and message
    /// ([`crate::native_rpc::error_message`]): Workers RPC keeps only an error's message.
    pub fn rpc<S: Service + FromEnv>(
        method: &'static str,
        params: JsValue,
        options: JsValue,
    ) -> Promise {
        settled(false, async move {
            match native_rpc::<S>(method, &params, &options).await {
                Ok(result) => Ok(result),
                Err(error) => {
                    let message = crate::native_rpc::error_message(&error);
                    Err(js_sys::Error::new(&message).into())
                }
            }
        })
    }

    async fn native_rpc<S: Service + FromEnv>(
        method: &'static str,
        params: &JsValue,
        options: &JsValue,
    ) -> Result<JsValue, Error> {
        let params = json_text(params, "arguments")?;
        let options = json_text(options, "options")?;
        let call = crate::native_rpc::request(method, params.as_deref(), options.as_deref())?;
        let env = worker_env::get();
        let mut context = Context::from_header_pairs(Interface::Http, call.headers);
        context.set_env(env.clone());
        let service = shared_service::<S>(&env)?;
        // The result's JSON as the method answered it, parsed once, by JavaScript.
        let result = crate::native_rpc::call(service, context, method, call.body).await?;
        js_sys::JSON::parse(&result)
            .map_err(|_| Error::internal("the result is not JSON JavaScript reads"))
    }

    /// The JSON of a value a caller passed, `None` for `undefined`; one crossing.
    fn json_text(value: &JsValue, what: &str) -> Result<Option<String>, Error> {
        if value.is_undefined() {
            return Ok(None);
        }
        js_sys::JSON::stringify(value)
            .ok()
            .and_then(|text| text.as_string())
            .map(Some)
            .ok_or_else(|| Error::bad_request(format!("the {what} cannot be sent as JSON")))
    }

    /// The `env` of the worker, as `cloudflare:workers` exports it: worker-build hands an RPC
    /// method only its arguments, not the entrypoint's `this.env`.
    mod worker_env {
        use ::worker::wasm_bindgen::{self, prelude::wasm_bindgen};

        #[wasm_bindgen(module = "cloudflare:workers")]
        extern "C" {
            #[wasm_bindgen(thread_local_v2, js_name = env)]
            static ENV: ::worker::Env;
        }

        pub fn get() -> ::worker::Env {
            ENV.with(Clone::clone)
        }
    }

    /// The body, refused (413) by its declared length before reading or as soon as the bytes
    /// read pass `limit`; a read that fails is an error, never an empty body.
    async fn read_body(
        request: &web_sys::Request,
        context: &Context,
        limit: Option<usize>,
    ) -> Result<Vec<u8>, Error> {
        if let Some(limit) = limit {
            crate::body::check_content_length(context.header_bytes("content-length"), limit)?;
        }
        let Some(stream) = request.body() else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut body = crate::body::LimitedBody::new(limit);
        loop {
            let chunk = ::worker::wasm_bindgen_futures::JsFuture::from(reader.read())
                .await
                .map_err(|error| crate::body::read_error(format!("{error:?}")))?;
            let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
                .map_or(true, |done| done.is_truthy());
            if done {
                return Ok(body.into_bytes());
            }
            let value = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
                .map_err(|error| crate::body::read_error(format!("{error:?}")))?;
            if let Err(error) = body.push(&js_sys::Uint8Array::new(&value).to_vec()) {
                // Over the limit: the rest is not read.
                let _ = reader.cancel();
                return Err(error);
            }
        }
    }

    /// `https://host/a/b?x=1#f` → `/a/b?x=1`. A WHATWG-serialized URL always has a `/` after
    /// the host, and percent-encodes `?` and `#` inside the path.
    fn path_and_query(url: &str) -> String {
        let after_scheme = crate::wire::find_text(url, "://").map_or(0, |index| index + 3);
        let path = url[after_scheme..]
            .find('/')
            .map_or("/", |index| &url[after_scheme + index..]);
        path.split('#').next().unwrap_or("/").to_owned()
    }

    /// The Workers response, built in a handful of calls: the headers go over as one JSON
    /// array of pairs, the body as one copy. Streams take workers-rs's path.
    fn to_worker_response(response: Response) -> Result<web_sys::Response, ::worker::Error> {
        let (parts, body) = response.into_parts();
        let bytes = match body {
            crate::wire::Body::Bytes(bytes) => bytes,
            stream => {
                let response = Response::from_parts(parts, stream);
                return super::convert::worker_response(response).map(Into::into);
            }
        };
        let init = web_sys::ResponseInit::new();
        init.set_status(parts.status.as_u16());
        let headers = parts.headers.iter().map(super::convert::header_pair);
        if let Some(pairs) = super::convert::js_header_pairs(headers)? {
            init.set_headers_str_sequence_sequence(&pairs);
        }
        // A null-body status (204, 304) must not carry a body, not even an empty one.
        let body = (!bytes.is_empty()).then(|| js_sys::Uint8Array::from(bytes.as_slice()));
        Ok(web_sys::Response::new_with_opt_buffer_source_and_init(
            body.as_ref().map(AsRef::as_ref),
            &init,
        )?)
    }

    pub fn queue<S: Service + FromEnv>(
        batch: worker_sys::MessageBatch,
        env: Env,
        _ctx: worker_sys::Context,
    ) -> Promise {
        settled(false, async move {
            let queue: String = batch.queue().map(String::from).unwrap_or_default();
            let messages = batch.messages().unwrap_or_else(|_| js_sys::Array::new());
            let raw: Vec<worker_sys::Message> =
                messages.iter().map(JsCast::unchecked_into).collect();
            let service = match shared_service::<S>(&env) {
                Ok(service) => service,
                Err(error) => {
                    // Nothing is lost: the whole batch comes back once the bindings are fixed.
                    let context = Context::new(Interface::Queue);
                    crate::log::error(
                        &context,
                        "cannot build the service for a queue batch",
                        &error,
                    );
                    return Err(JsValue::from_str(
                        "the service could not be built; the batch is retried",
                    ));
                }
            };
            let dead_letters = env.queue(crate::queue::DEAD_LETTER_BINDING).ok();
            let dead_letters = dead_letters
                .as_ref()
                .map(|queue| queue as &dyn crate::queue::Producer);
            let mut unsettled = Vec::new();
            for (message, decoded) in raw.iter().zip(read_messages(&queue, &messages, &raw)) {
                let mut context = Context::for_message(&decoded.id);
                context.set_env(env.clone());
                let outcome =
                    crate::queue::dispatch_in(&*service, &context, &queue, &decoded).await;
                let applied =
                    match crate::queue::settle(outcome, &queue, &decoded, dead_letters).await {
                        Settlement::Ack => message.ack(),
                        Settlement::Retry { delay_seconds } => {
                            message.retry(retry_options(delay_seconds))
                        }
                    };
                if applied.is_err() {
                    unsettled.push(decoded.id);
                }
            }
            if unsettled.is_empty() {
                return Ok(JsValue::UNDEFINED);
            }
            // A message whose ack or retry did not take must come back: rejecting the batch
            // redelivers every message not explicitly settled.
            let context = Context::new(Interface::Queue);
            let error = Error::internal(format!("could not settle queue messages {unsettled:?}"));
            crate::log::error(&context, "queue batch rejected for redelivery", &error);
            Err(JsValue::from_str(
                "some messages could not be settled; the batch is retried",
            ))
        })
    }

    pub fn email<S: Service + FromEnv>(
        message: ::worker::ForwardableEmailMessage,
        env: Env,
        _ctx: worker_sys::Context,
    ) -> Promise {
        settled(false, async move {
            let context = Context::with_env(Interface::Email, env.clone());
            let service = match shared_service::<S>(&env) {
                Ok(service) => service,
                Err(error) => {
                    crate::log::error(&context, "cannot build the service for an email", &error);
                    // A failed event: the sending server tries again later.
                    return Err(JsValue::from_str("the service could not be built"));
                }
            };
            let raw = message
                .raw_bytes()
                .await
                .map_err(|error| JsValue::from_str(&error.to_string()))?;
            let email = crate::email::InboundEmail::new(&message.from(), &message.to(), &raw);
            match crate::email::run(&*service, &context, email).await {
                Ok(()) => Ok(JsValue::UNDEFINED),
                // Worth retrying: fail the event, the sender keeps the message and retries.
                Err(error) if error.queue_decision() == crate::QueueDecision::Retry => {
                    crate::log::error(&context, "inbound email failed; the sender retries", &error);
                    Err(JsValue::from_str(error.public_message()))
                }
                Err(error) => {
                    message.set_reject(error.public_message());
                    Ok(JsValue::UNDEFINED)
                }
            }
        })
    }

    /// The messages of a batch as dotdo reads them, in one crossing for the whole batch: their
    /// ids, attempts and bodies as one JSON text (three crossings and a `JSON.stringify` a message
    /// otherwise). If that fails, as for a body JSON cannot carry, each message is read on its
    /// own, so none is lost.
    fn read_messages(
        queue: &str,
        messages: &js_sys::Array,
        raw: &[worker_sys::Message],
    ) -> Vec<QueueMessage> {
        let together = batch_json::messages_json(messages)
            .and_then(|json| QueueMessage::batch_from_json(&json))
            .filter(|delivered| delivered.len() == raw.len());
        match together {
            Some(delivered) => delivered,
            None => {
                let mut fields = serde_json::Map::new();
                fields.insert("queue".into(), queue.into());
                fields.insert("messages".into(), raw.len().into());
                crate::log::emit(
                    "warn",
                    "queue batch read message by message: a body is not JSON",
                    fields,
                );
                raw.iter()
                    .map(|message| QueueMessage {
                        id: message.id().map(String::from).unwrap_or_default(),
                        body: body_json(message),
                        attempts: attempts(message),
                    })
                    .collect()
            }
        }
    }

    mod batch_json {
        use ::worker::js_sys;
        use ::worker::wasm_bindgen::{self, prelude::wasm_bindgen};

        #[wasm_bindgen(inline_js = "
export function messages_json(messages) {
  try {
    return JSON.stringify(messages.map((message) => ({
      id: message.id,
      attempts: message.attempts,
      body: message.body,
    })));
  } catch {
    return undefined;
  }
}")]
        extern "C" {
            /// `[{ id, attempts, body }]` of the messages as JSON; `None` if a body cannot be
            /// JSON (a `BigInt`, a cycle).
            pub fn messages_json(messages: &js_sys::Array) -> Option<String>;
        }
    }

    fn attempts(message: &worker_sys::Message) -> u32 {
        js_sys::Reflect::get(message, &JsValue::from_str("attempts"))
            .ok()
            .and_then(|attempts| attempts.as_f64())
            .map_or(1, |attempts| attempts.max(1.0) as u32)
    }

    /// The body as JSON; a body that is not JSON becomes a string, which no envelope matches,
    /// so it is dead-lettered with a reason rather than dropped.
    fn body_json(message: &worker_sys::Message) -> serde_json::Value {
        let Ok(body) = message.body() else {
            return serde_json::Value::Null;
        };
        js_sys::JSON::stringify(&body)
            .ok()
            .and_then(|text| crate::json::parse(String::from(text)).ok())
            .unwrap_or_else(|| serde_json::Value::String(format!("{body:?}")))
    }

    fn retry_options(delay_seconds: u32) -> JsValue {
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(
            &options,
            &JsValue::from_str("delaySeconds"),
            &JsValue::from(delay_seconds),
        );
        options.into()
    }

    pub fn scheduled<S: Service + FromEnv>(
        event: worker_sys::ScheduledEvent,
        env: Env,
        _ctx: worker_sys::ScheduleContext,
    ) -> Promise {
        settled(false, async move {
            let cron = ::worker::ScheduledEvent::from(event).cron();
            let context = Context::with_env(Interface::Cron, env.clone());
            let result = match shared_service::<S>(&env) {
                Ok(service) => crate::cron::run(&*service, &context, &cron).await,
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => Ok(JsValue::UNDEFINED),
                Err(error) => {
                    crate::log::error(&context, "scheduled run failed", &error);
                    // A rejected promise marks the run as failed in the dashboard.
                    Err(JsValue::from_str(error.public_message()))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Built(u32);

    #[test]
    fn the_service_is_built_once_a_failed_build_is_not_kept_and_another_type_is_built_anew() {
        // Each test runs on a thread of its own, so this one's isolate starts empty.
        let failed = built_once::<Built>(|| Err(Error::internal("missing secret")));
        assert_eq!(failed.unwrap_err().kind(), crate::ErrorKind::Internal);
        let first = built_once(|| Ok(Built(1))).unwrap();
        let again = built_once::<Built>(|| panic!("built twice")).unwrap();
        assert!(std::rc::Rc::ptr_eq(&first, &again));
        assert_eq!(*again, Built(1));
        // A worker serves one service; a different type is built rather than mistaken for it.
        let other = built_once(|| Ok("another service")).unwrap();
        assert_eq!(*other, "another service");
    }

    #[test]
    fn header_text_splits_into_its_pairs_an_empty_value_included() {
        let pairs = convert::split_header_text("accept\n*/*\nx-empty\n\nx-tag\na, b");
        let expected = [["accept", "*/*"], ["x-empty", ""], ["x-tag", "a, b"]];
        assert_eq!(pairs, expected.map(|pair| pair.map(String::from)));
        assert!(convert::split_header_text("").is_empty(), "no headers");
    }
}
