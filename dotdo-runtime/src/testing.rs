//! An in-process client that drives a service's four interfaces with no wasm and no server.
//!
//! ```text
//! let client = TestClient::new(Items::default());
//! let response = client.get("/items/1").await;
//! assert_eq!(response.status(), 200);
//! let item: Item = client.rpc("get_item", json!({"id": "1"})).await?;
//! let tools = client.mcp_tools().await;
//! let outcomes = client.queue("items", vec![json!({"type": "item.created", "data": {}})]).await;
//! ```

use std::future::IntoFuture;

use futures_util::future::LocalBoxFuture;
use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{RpcClient, Transport};
use crate::describe::Service;
use crate::documents::{bless_requested, check_or_bless};
use crate::queue::{Outcome, QueueMessage};
use crate::wire::Body;
use crate::{Context, Error, Interface};

/// Drives one service in-process.
pub struct TestClient<S> {
    /// Shared with each call, as on Workers: a streamed MCP answer keeps it.
    service: std::rc::Rc<S>,
    /// Put into the context of every call, as middleware or the platform would.
    extensions: http::Extensions,
}

impl<S: Service> TestClient<S> {
    pub fn new(service: S) -> Self {
        TestClient {
            service: std::rc::Rc::new(service),
            extensions: http::Extensions::new(),
        }
    }

    pub fn service(&self) -> &S {
        &self.service
    }

    /// Calls as this principal, as if authentication middleware had verified it (`/_` paths and
    /// role-restricted methods need one).
    pub fn as_principal(self, id: &str, role: &str) -> Self {
        self.with_extension(crate::Principal {
            id: id.to_owned(),
            role: role.to_owned(),
            scopes: Vec::new(),
        })
    }

    /// Attaches `value` to the context of every HTTP call (configuration such as
    /// [`crate::mcp::AllowedOrigins`], a principal, …).
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// An HTTP request to build and send (`.await` it).
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_, S> {
        TestRequest {
            client: self,
            builder: http::Request::builder().method(method).uri(path),
            body: Vec::new(),
        }
    }
    pub fn get(&self, path: &str) -> TestRequest<'_, S> {
        self.request(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> TestRequest<'_, S> {
        self.request(Method::POST, path)
    }
    pub fn put(&self, path: &str) -> TestRequest<'_, S> {
        self.request(Method::PUT, path)
    }
    pub fn patch(&self, path: &str) -> TestRequest<'_, S> {
        self.request(Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> TestRequest<'_, S> {
        self.request(Method::DELETE, path)
    }

    /// Calls a JSON-RPC method through `POST /_rpc`, decoding the result or the typed error.
    pub async fn rpc<R: DeserializeOwned>(&self, method: &str, params: Value) -> Result<R, Error> {
        let transport = self.transport();
        RpcClient::new(&transport).call(method, &params).await
    }

    /// Calls an `#[rpc]` method as a JavaScript worker does over native Workers RPC:
    /// `env.ITEMS.get_item(params, options)`, by its Rust name, with `params` and `options` as
    /// the JavaScript values (`Value::Null` for an argument not passed). The result is the value
    /// the caller gets; an error is the message of the `Error` it catches.
    pub async fn native_rpc(
        &self,
        name: &str,
        params: Value,
        options: Value,
    ) -> Result<Value, String> {
        let description = S::description();
        let Some(rpc) = description
            .rpc
            .iter()
            .find(|rpc| description.methods[rpc.method].name == name)
        else {
            return Err(format!("TypeError: no native RPC method `{name}`"));
        };
        let text = |value: &Value| (!value.is_null()).then(|| value.to_string());
        let outcome = async {
            let call = crate::native_rpc::request(
                rpc.name,
                text(&params).as_deref(),
                text(&options).as_deref(),
            )?;
            let mut context = Context::from_header_pairs(Interface::Http, call.headers);
            context.extensions_mut().extend(self.extensions.clone());
            let result =
                crate::native_rpc::call(self.service.clone(), context, rpc.name, call.body).await?;
            // As JavaScript's `JSON.parse` reads it.
            serde_json::from_str(&result)
                .map_err(|error| Error::internal(format!("the result is not JSON: {error}")))
        };
        outcome
            .await
            .map_err(|error| crate::native_rpc::error_message(&error))
    }

    /// Posts any JSON (a request, a batch, garbage) to `/_rpc`.
    pub async fn rpc_raw(&self, payload: &[u8]) -> TestResponse {
        self.post(crate::wire::RPC_PATH)
            .header("content-type", "application/json")
            .body(payload.to_vec())
            .await
    }

    /// Posts one MCP message to `/mcp` as a current client would, accepting JSON only: the
    /// answer is one JSON message (a client that also accepts `text/event-stream` gets a call's
    /// notifications streamed before it).
    pub async fn mcp(&self, message: Value) -> TestResponse {
        self.mcp_as(crate::mcp::SUPPORTED_VERSIONS[0], message)
            .await
    }

    /// [`mcp`](Self::mcp) as a client of protocol revision `version` (2025-03-26 … 2025-11-25).
    pub async fn mcp_as(&self, version: &str, message: Value) -> TestResponse {
        self.post(crate::wire::MCP_PATH)
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .header("mcp-protocol-version", version)
            .json(&message)
            .await
    }

    /// Every tool, following `nextCursor` through all pages, as the newest revision lists them.
    pub async fn mcp_tools(&self) -> Vec<Value> {
        self.mcp_tools_as(crate::mcp::SUPPORTED_VERSIONS[0]).await
    }

    /// Every tool as a client of `version` sees them (its schemas are inlined before 2025-11-25).
    pub async fn mcp_tools_as(&self, version: &str) -> Vec<Value> {
        let mut tools = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(cursor) => json!({"cursor": cursor}),
                None => json!({}),
            };
            let request =
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params});
            let page: Value = self.mcp_as(version, request).await.json();
            let result = &page["result"];
            tools.extend(result["tools"].as_array().cloned().unwrap_or_default());
            match result.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = Some(next.to_owned()),
                None => return tools,
            }
        }
    }

    /// Calls an MCP tool: the `result` (which may be an `isError` result), or the JSON-RPC
    /// `error` object when the call itself was refused (unknown tool).
    pub async fn mcp_call(&self, name: &str, arguments: Value) -> Result<Value, Value> {
        let request = json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": arguments},
        });
        let mut answer: Value = self.mcp(request).await.json();
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(answer["error"].take()),
        }
    }

    /// Delivers a batch of message bodies (first deliveries) from `queue`.
    pub async fn queue(&self, queue: &str, bodies: Vec<Value>) -> Vec<Outcome> {
        let messages: Vec<QueueMessage> = bodies.into_iter().map(QueueMessage::new).collect();
        self.queue_messages(queue, &messages).await
    }

    /// Delivers a batch of messages from `queue`, with their ids and attempt counts.
    pub async fn queue_messages(&self, queue: &str, messages: &[QueueMessage]) -> Vec<Outcome> {
        crate::queue::dispatch_batch(&*self.service, queue, messages).await
    }

    /// Runs the `#[cron]` method declared for `cron`, as a scheduled event would.
    pub async fn cron(&self, cron: &str) -> Result<(), Error> {
        crate::cron::run(&*self.service, &Context::new(Interface::Cron), cron).await
    }

    /// Delivers an inbound email, as Email Routing would: `Err` is what would reject it (or,
    /// transient, have the sender retry).
    pub async fn email(&self, email: crate::email::InboundEmail) -> Result<(), Error> {
        crate::email::run(&*self.service, &Context::new(Interface::Email), email).await
    }

    /// A transport for typed clients (`ItemsClient::new(client.transport())`) that calls this
    /// service in-process.
    pub fn transport(&self) -> InProcess<'_, S> {
        InProcess {
            service: &self.service,
            extensions: self.extensions.clone(),
        }
    }
}

/// A [`Transport`] that hands payloads straight to a service's JSON-RPC endpoint, with the
/// client's context extensions (its principal).
pub struct InProcess<'a, S> {
    service: &'a S,
    extensions: http::Extensions,
}

impl<'a, S> InProcess<'a, S> {
    /// A transport to `service` calling as `principal`, as a service binding carrying a
    /// forwarded principal would (another service's jobs or calls, in its tests).
    pub fn as_principal(service: &'a S, principal: crate::Principal) -> Self {
        let mut extensions = http::Extensions::new();
        extensions.insert(principal);
        InProcess {
            service,
            extensions,
        }
    }
}

impl<S: Service> Transport for InProcess<'_, S> {
    fn send<'a>(&'a self, payload: Vec<u8>) -> LocalBoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            let mut context = Context::new(Interface::Rpc);
            context.extensions_mut().extend(self.extensions.clone());
            Ok(crate::rpc::handle_body(self.service, &context, &payload)
                .await
                .unwrap_or_default())
        })
    }
}

/// A [`Producer`](crate::queue::Producer) that keeps what typed producers send, so tests can
/// check the envelopes and deliver them with [`TestClient::queue`].
#[derive(Default)]
pub struct QueueRecorder {
    sent: std::cell::RefCell<Vec<crate::queue::Envelope>>,
}

impl QueueRecorder {
    /// The envelopes sent so far.
    pub fn sent(&self) -> Vec<crate::queue::Envelope> {
        self.sent.borrow().clone()
    }

    /// Forgets what was sent so far (after delivering it).
    pub fn clear(&self) {
        self.sent.borrow_mut().clear();
    }

    /// The sent envelopes as message bodies, ready for [`TestClient::queue`].
    pub fn bodies(&self) -> Vec<Value> {
        self.sent
            .borrow()
            .iter()
            .map(|envelope| serde_json::to_value(envelope).expect("envelopes serialize"))
            .collect()
    }
}

impl crate::queue::Producer for QueueRecorder {
    fn send_envelope<'a>(
        &'a self,
        envelope: crate::queue::Envelope,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        self.sent.borrow_mut().push(envelope);
        Box::pin(async { Ok(()) })
    }
}

/// An HTTP request being built; `.await` sends it.
pub struct TestRequest<'a, S> {
    client: &'a TestClient<S>,
    builder: http::request::Builder,
    body: Vec<u8>,
}

impl<'a, S: Service> TestRequest<'a, S> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        self.builder = self.builder.header(name, value);
        self
    }

    /// Sends `value` as a JSON body with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a serializable body");
        self.header("content-type", "application/json").body(body)
    }

    /// Sends these bytes as the body, as they are.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub async fn send(self) -> TestResponse {
        let request = self.builder.body(self.body).expect("a valid request");
        let (parts, body) = request.into_parts();
        let mut context = Context::from_headers(Interface::Http, parts.headers);
        context
            .extensions_mut()
            .extend(self.client.extensions.clone());
        let incoming = crate::wire::Incoming {
            method: parts.method,
            uri: parts.uri,
            body,
        };
        context.share_service(self.client.service.clone());
        let stack = self.client.service.middleware();
        let response =
            crate::dispatch::serve_through(&*self.client.service, &stack, context, incoming).await;
        let (parts, body) = response.into_parts();
        let (chunks, aborted) = read_chunks(body).await;
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: chunks.concat(),
            chunks,
            aborted,
        }
    }
}

impl<'a, S: Service> IntoFuture for TestRequest<'a, S> {
    type Output = TestResponse;
    type IntoFuture = LocalBoxFuture<'a, TestResponse>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The chunks of a body as the client would receive them, and the error that broke a stream off.
async fn read_chunks(body: Body) -> (Vec<Vec<u8>>, Option<Error>) {
    use futures_util::StreamExt;
    match body {
        Body::Bytes(bytes) if bytes.is_empty() => (Vec::new(), None),
        Body::Bytes(bytes) => (vec![bytes], None),
        Body::Stream(mut stream) => {
            let mut chunks = Vec::new();
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(chunk) => chunks.push(chunk),
                    Err(error) => return (chunks, Some(error)),
                }
            }
            (chunks, None)
        }
    }
}

/// A response from the service under test. A streamed body is read to its end (or its error)
/// before the response is returned; [`chunks`](Self::chunks) shows how it was sent.
#[derive(Debug)]
pub struct TestResponse {
    status: http::StatusCode,
    headers: http::HeaderMap,
    body: Vec<u8>,
    chunks: Vec<Vec<u8>>,
    aborted: Option<Error>,
}

impl TestResponse {
    pub fn status(&self) -> u16 {
        self.status.as_u16()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
    pub fn headers(&self) -> &http::HeaderMap {
        &self.headers
    }
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }
    /// The body's chunks as sent: one for a body in memory, one per item of a stream.
    pub fn chunks(&self) -> &[Vec<u8>] {
        &self.chunks
    }
    /// The error that broke a streamed body off, which a client sees as a failed transfer.
    pub fn aborted(&self) -> Option<&Error> {
        self.aborted.as_ref()
    }
    /// The server-sent events of a `text/event-stream` body, as an `EventSource` reads them.
    pub fn events(&self) -> Vec<crate::sse::Event> {
        crate::sse::parse(&self.text())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body decoded as JSON; panics with the body when it is not.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "response is not the expected JSON ({error}): {}",
                self.text()
            )
        })
    }
}

const START: &str = "<!-- interfaces:start -->";
const END: &str = "<!-- interfaces:end -->";

/// Fails when the TypeScript declarations of the service's native RPC methods at `path`
/// (`ServiceDescription::typescript`) differ from what the code generates; `DOTDO_BLESS=1`
/// writes them instead.
pub fn check_typescript<S: Service>(path: &str) {
    let generated = S::description().typescript();
    let current = std::fs::read_to_string(path).unwrap_or_default();
    check_or_bless(path, &current, &generated, bless_requested(), || {
        format!("declares other RPC methods or types than the code has.\nexpected:\n{generated}")
    });
}

/// Checks that the README at `path` lists exactly the service's interfaces between
/// `<!-- interfaces:start -->` and `<!-- interfaces:end -->`; with `DOTDO_BLESS=1` in the
/// environment it rewrites that section instead. Call it from a test of each service.
pub fn check_readme<S: Service>(path: &str) {
    let readme = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"));
    let (Some(start), Some(end)) = (readme.find(START), readme.find(END)) else {
        panic!("{path} has no `{START}` … `{END}` section for the interfaces");
    };
    let generated = S::description().interfaces_markdown();
    let current = &readme[start + START.len()..end];
    let updated = format!("{}{START}\n{generated}{}", &readme[..start], &readme[end..]);
    check_or_bless(path, &readme, &updated, bless_requested(), || {
        format!(
            "lists other interfaces than the code has.\nexpected:\n{generated}\nfound:\n{current}"
        )
    });
}
