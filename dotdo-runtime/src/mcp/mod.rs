//! MCP over Streamable HTTP at `POST /mcp`, stateless, for both eras of the protocol:
//!
//! - **legacy** (2025-03-26, 2025-06-18, 2025-11-25): `initialize` negotiates the version;
//!   notifications and client responses get 202; batches only where 2025-03-26 allows them;
//! - **modern** (2026-07-28): every request carries its version in `params._meta` and mirrors
//!   it in headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`), which are checked against
//!   the body; `server/discover` replaces the handshake; results say `resultType` and lists
//!   carry `ttlMs` and `cacheScope`; a tool may ask for input with a multi round-trip request.
//!
//! Both serve tools (`tools.rs`), resources and templates (`resources.rs`), prompts
//! (`prompts.rs`), completions (`complete.rs`), logging and progress (`notify.rs`: streamed as
//! server-sent events before the result when the client accepts them) and elicitation and
//! sampling (`input.rs`). Tool failures and invalid arguments come back as `isError` results
//! whose text tells the model what to fix.

use std::rc::Rc;

use base64::Engine as _;
use http::StatusCode;
use serde_json::{Value, json};

use crate::args::json_type;
use crate::describe::Service;
use crate::jsonrpc::{
    self, ErrorObject, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};
use crate::wire::{
    Incoming, MCP_PATH, Response, accepts_only, empty_response, error_response,
    require_json_content_type,
};
use crate::{Context, Error, ErrorKind};

mod card;
mod complete;
mod content;
mod guard;
mod input;
mod modern;
mod notify;
mod prompts;
mod resources;
mod tools;
mod transport;

pub use crate::describe::Completion;
pub use card::{
    FORWARDED_HOST_HEADER, FORWARDED_PREFIX_HEADER, SERVER_CARD_PATH, WELL_KNOWN_SERVER_CARD_PATH,
};
pub(crate) use card::{SERVER_CARD_MEDIA_TYPE, forwarded_host, forwarded_prefix};
pub use content::{Content, PromptMessage, PromptOutput, ResourceContents, Role, ToolResult};
pub use guard::{AllowedHosts, AllowedOrigins};
pub use input::{Elicited, SampledMessage, SamplingRequest, StateSecret};
pub use notify::LogLevel;
pub use tools::tool_json;
use transport::{Format, answer, negotiate};

/// Legacy protocol revisions served, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26"];
/// Modern (per-request metadata) revisions served.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];
/// The revision assumed when a legacy request carries no `MCP-Protocol-Version` header.
pub const DEFAULT_VERSION: &str = "2025-03-26";
/// Entries per page of `tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`.
pub const PAGE_SIZE: usize = 50;
/// How long a modern client may cache lists and `server/discover`: they change only with a
/// deploy.
pub const LIST_TTL_MS: u64 = 5 * 60 * 1000;

/// The headers mirrored from the body do not match it, or are missing (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// The requested protocol version is not served (2026-07-28).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// `resources/read` of a URI the server has no resource for.
pub const RESOURCE_NOT_FOUND: i64 = -32002;

const PROTOCOL_VERSION_HEADER: &str = "mcp-protocol-version";
const METHOD_HEADER: &str = "mcp-method";
const NAME_HEADER: &str = "mcp-name";
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";

/// The first revision whose clients get tool input schemas as JSON Schema 2020-12 states them.
const EXACT_SCHEMA_VERSION: &str = "2025-11-25";

/// Which revision a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Era {
    Legacy(&'static str),
    Modern(&'static str),
}

impl Era {
    fn version(self) -> &'static str {
        match self {
            Era::Legacy(version) | Era::Modern(version) => version,
        }
    }
    /// Whether its clients take tool schemas as JSON Schema 2020-12 states them (versions are
    /// dates, so they compare as text).
    fn exact_schemas(self) -> bool {
        self.version() >= EXACT_SCHEMA_VERSION
    }
}

fn error_message(id: Value, code: i64, message: String) -> Value {
    jsonrpc::Response::<Value>::failure(id, ErrorObject::new(code, message)).to_value()
}

fn params_error(message: impl Into<String>) -> ErrorObject {
    ErrorObject::new(INVALID_PARAMS, message)
}

/// A method's result, or the JSON-RPC error to answer instead.
type RequestResult = Result<Value, ErrorObject>;

/// Serves `POST /mcp`. The context is the call's own: a call that streams its notifications
/// keeps it until its last event.
pub(crate) async fn handle_http<S: Service>(
    service: &S,
    mut context: Context,
    request: Incoming,
) -> Response {
    if request.method != http::Method::POST {
        return accepts_only("POST", &request.method, MCP_PATH, &context);
    }
    if let Some(refusal) = guard::refusal(&context) {
        return error_response(&Error::forbidden(refusal), &context);
    }
    let Some(format) = negotiate(&context) else {
        let error = Error::new(
            ErrorKind::NotAcceptable,
            "the MCP endpoint answers application/json or text/event-stream",
        );
        return error_response(&error, &context);
    };
    if let Err(error) = require_json_content_type(context.header_bytes("content-type")) {
        return error_response(&error, &context);
    }
    let streams = transport::accepts_event_stream(&context);
    let message: Value = match crate::json::parse(&request.body) {
        Ok(message) => message,
        Err(error) => {
            let body = error_message(Value::Null, PARSE_ERROR, format!("parse error: {error}"));
            return answer(StatusCode::BAD_REQUEST, &body, format);
        }
    };
    if let Some(requested) = modern_version(&message) {
        return match modern::validate(&context, requested, &message) {
            Err((status, body)) => answer(status, &body, format),
            Ok(None) => empty_response(StatusCode::ACCEPTED), // a notification
            Ok(Some(era)) => {
                let call = Call::of(message, era);
                respond(service, context, call, format, streams).await
            }
        };
    }

    let version = match context.header_or_empty(PROTOCOL_VERSION_HEADER) {
        None => DEFAULT_VERSION,
        Some(version) => match SUPPORTED_VERSIONS.iter().find(|known| **known == version) {
            Some(known) => known,
            None if MODERN_VERSIONS.contains(&version) => {
                let text = format!(
                    "a {version} request carries `{META_PROTOCOL_VERSION}` in `params._meta`"
                );
                return answer(
                    StatusCode::BAD_REQUEST,
                    &error_message(Value::Null, HEADER_MISMATCH, text),
                    format,
                );
            }
            None => {
                let text = format!(
                    "unsupported MCP-Protocol-Version `{version}`; supported: {}",
                    all_versions().join(", ")
                );
                return answer(
                    StatusCode::BAD_REQUEST,
                    &error_message(Value::Null, INVALID_REQUEST, text),
                    format,
                );
            }
        },
    };
    let era = Era::Legacy(version);
    match message {
        Value::Array(batch) => {
            if let Some((code, text)) = crate::jsonrpc::batch_too_large(batch.len()) {
                return answer(
                    StatusCode::BAD_REQUEST,
                    &error_message(Value::Null, code, text),
                    format,
                );
            }
            if version != DEFAULT_VERSION {
                let text = format!(
                    "JSON-RPC batches are not part of MCP {version} (only 2025-03-26 had them)"
                );
                return answer(
                    StatusCode::BAD_REQUEST,
                    &error_message(Value::Null, INVALID_REQUEST, text),
                    format,
                );
            }
            let mut replies = Vec::new();
            for message in batch {
                match legacy_call(message, era) {
                    Ok(Some(call)) => {
                        replies.push(reply(service, &mut context, call, None).await);
                    }
                    Ok(None) => {}
                    Err(refusal) => replies.push(refusal),
                }
            }
            if replies.is_empty() {
                empty_response(StatusCode::ACCEPTED)
            } else {
                answer(StatusCode::OK, &Value::Array(replies), format)
            }
        }
        message => match legacy_call(message, era) {
            Ok(Some(call)) => respond(service, context, call, format, streams).await,
            Ok(None) => empty_response(StatusCode::ACCEPTED),
            Err(refusal) => answer(StatusCode::OK, &refusal, format),
        },
    }
}

/// One request to answer.
pub(crate) struct Call {
    id: Value,
    method: String,
    params: Value,
    era: Era,
}

impl Call {
    fn of(mut message: Value, era: Era) -> Call {
        Call {
            id: message["id"].take(),
            method: message["method"].as_str().unwrap_or_default().to_owned(),
            params: message
                .get_mut("params")
                .map(Value::take)
                .unwrap_or(Value::Null),
            era,
        }
    }

    /// Whether the method runs the service's code, which may log and report progress.
    /// Whether the call runs a method that can send notifications (one taking the `&Context`,
    /// or any call a delegate may take): only such a call is worth a stream.
    fn may_notify<S: Service>(&self, service: &S) -> bool {
        let description = S::description();
        let takes_context = |method: usize| description.methods[method].takes_context;
        let named = self.params.get("name").and_then(Value::as_str);
        match self.method.as_str() {
            "tools/call" | "prompts/get" | "resources/read" if service.mcp_delegate().is_some() => {
                true
            }
            "tools/call" => {
                description.has_tools()
                    && description
                        .tools
                        .iter()
                        .any(|tool| Some(tool.name) == named && takes_context(tool.method))
            }
            "prompts/get" => {
                description.has_prompts()
                    && description
                        .prompts
                        .iter()
                        .any(|prompt| Some(prompt.name) == named && takes_context(prompt.method))
            }
            // Which resource a URI names takes matching its templates: any that may notify.
            "resources/read" => {
                description.has_resources()
                    && description
                        .resources
                        .iter()
                        .any(|resource| takes_context(resource.method))
            }
            _ => false,
        }
    }
}

/// A legacy message as a call; `None` for notifications and client responses, `Err` for an
/// invalid one (its error reply).
fn legacy_call(message: Value, era: Era) -> Result<Option<Call>, Value> {
    let Value::Object(object) = &message else {
        let text = format!(
            "invalid request: expected an object, got {}",
            json_type(&message)
        );
        return Err(error_message(Value::Null, INVALID_REQUEST, text));
    };
    let Some(id) = object.get("id") else {
        return Ok(None); // a notification
    };
    match object.get("method") {
        None => Ok(None), // a response to a request we never make
        Some(Value::String(_)) => Ok(Some(Call::of(message, era))),
        Some(_) => Err(error_message(
            id.clone(),
            INVALID_REQUEST,
            "`method` must be a string".into(),
        )),
    }
}

/// Answers one call: as server-sent events (its notifications, then its result) when it runs
/// a method that can notify and the client accepts them, else as one JSON (or SSE) message.
async fn respond<S: Service>(
    service: &S,
    mut context: Context,
    call: Call,
    format: Format,
    streams: bool,
) -> Response {
    if !(streams && calls_may_interact(service) && call.may_notify(service)) {
        let modern = matches!(call.era, Era::Modern(_));
        let reply = reply(service, &mut context, call, None).await;
        // 2026-07-28 answers a method the server does not have with 404, for HTTP intermediaries.
        let status = if modern && reply["error"]["code"] == METHOD_NOT_FOUND {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        return answer(status, &reply, format);
    }
    match context.service_handle::<S>() {
        // A real stream: the call runs while the client reads its notifications.
        Some(service) => notify::stream(context, call, move |context, call, sink| async move {
            let mut context = context;
            reply(&*service, &mut context, call, Some(sink)).await
        }),
        // No owned handle to the service (a host serving it by reference): the same events,
        // sent together once the call is done.
        None => {
            notify::buffered(context, call, |context, call, sink| async move {
                let mut context = context;
                reply(service, &mut context, call, Some(sink)).await
            })
            .await
        }
    }
}

/// Whether a call may send notifications or ask its caller for input: one of the service's own
/// MCP methods takes the `&Context`, or a delegate may answer it. Known at compile time for the
/// service's own methods, so a worker none of whose calls can carries no event streams and no
/// code to seal or verify a `requestState`.
fn calls_may_interact<S: Service>(service: &S) -> bool {
    S::MCP_FEATURES.context || service.mcp_delegate().is_some()
}

/// The JSON-RPC response to one call.
async fn reply<S: Service>(
    service: &S,
    context: &mut Context,
    call: Call,
    sink: Option<notify::Sink>,
) -> Value {
    let Call {
        id,
        method,
        params,
        era,
    } = call;
    let description = S::description();
    let interactive = calls_may_interact(service);
    let state = if interactive {
        input::prepare(context, era, &method, &params)
    } else {
        input::prepare_without_state(era, &params)
    };
    let state = match state {
        Ok(state) => state,
        Err(error) => return jsonrpc::Response::<Value>::failure(id, error).to_value(),
    };
    notify::attach(context, era, &params, description.name, sink, state);
    let (result, caching) = dispatch(service, context, era, &method, &params).await;
    let result = if interactive {
        input::finish(context, &method, &params, result)
    } else {
        result
    };
    match result {
        Ok(mut result) => {
            if let Era::Modern(_) = era {
                if result.get("resultType").is_none() {
                    result["resultType"] = "complete".into();
                }
                if let Some((ttl_ms, scope)) = caching {
                    result["ttlMs"] = ttl_ms.into();
                    result["cacheScope"] = scope.into();
                }
                result["_meta"] = json!({META_SERVER_INFO: server_info(description)});
            }
            jsonrpc::Response::success(id, result).to_value()
        }
        Err(error) => jsonrpc::Response::<Value>::failure(id, error).to_value(),
    }
}

/// How long, and for whom, a 2026-07-28 client may cache a result (`ttlMs`, `cacheScope`).
type Caching = Option<(u64, &'static str)>;

/// Runs one method, with how its result may be cached.
async fn dispatch<S: Service>(
    service: &S,
    context: &Context,
    era: Era,
    method: &str,
    params: &Value,
) -> (RequestResult, Caching) {
    let description = S::description();
    if let Some(delegate) = service.mcp_delegate() {
        if let Some(result) = delegate.handle(context, method, params).await {
            let caching = method
                .ends_with("/list")
                .then_some((LIST_TTL_MS, "private"));
            return (result, caching);
        }
    }
    match method {
        "tools/call" if description.has_tools() => {
            (tools::call_tool(service, context, params).await, None)
        }
        _ => other_method(service, context, era, method, params).await,
    }
}

/// Every method but `tools/call`, the one most calls are. Boxed, and kept out of line: V8
/// compiles a wasm function whole when it first runs, so a new isolate whose first request is a
/// tool call compiles none of these.
///
/// The methods that run the service's code are each awaited in a future of their own, made
/// only behind their feature's compile-time flag: in one shared `async` body, an `.await` in a
/// dead arm would still keep that arm's resumption, and so the feature's code, in a worker
/// whose service does not offer it (an MCP hub that only delegates).
#[inline(never)]
fn other_method<'a, S: Service>(
    service: &'a S,
    context: &'a Context,
    era: Era,
    method: &'a str,
    params: &'a Value,
) -> futures_util::future::LocalBoxFuture<'a, (RequestResult, Caching)> {
    let description = S::description();
    match method {
        "resources/read" if description.has_resources() => Box::pin(async move {
            // A resource may change at any time and depend on who reads it.
            let result = resources::read(service, context, params).await;
            (result, Some((0, "private")))
        }),
        "prompts/get" if description.has_prompts() => {
            Box::pin(async move { (prompts::get(service, context, params).await, None) })
        }
        "completion/complete" if description.has_completions() => {
            Box::pin(async move { (complete::complete(service, context, params).await, None) })
        }
        _ => Box::pin(futures_util::future::ready(answered_at_once(
            service, era, method, params,
        ))),
    }
}

/// The methods of [`other_method`] answered without running the service's code.
fn answered_at_once<S: Service>(
    service: &S,
    era: Era,
    method: &str,
    params: &Value,
) -> (RequestResult, Caching) {
    let description = S::description();
    // Lists change only with a deploy, and are the same for every caller.
    let list = |result| (result, Some((LIST_TTL_MS, "public")));
    let run = |result| (result, None);
    match method {
        "initialize" if matches!(era, Era::Legacy(_)) => {
            run(Ok(initialize(service, description, params)))
        }
        "server/discover" if matches!(era, Era::Modern(_)) => {
            list(Ok(discover(service, description)))
        }
        // 2026-07-28 has no `ping`: every request is its own proof of life.
        "ping" if matches!(era, Era::Legacy(_)) => run(Ok(json!({}))),
        "logging/setLevel" => run(notify::set_level(params)),
        "tools/list" if description.has_tools() => list(tools::list_tools(
            description.listed_tools(era.exact_schemas()),
            params,
        )),
        "resources/list" if description.has_resources() => {
            list(resources::list(description, params))
        }
        "resources/templates/list" if description.has_resources() => {
            list(resources::list_templates(description, params))
        }
        "resources/subscribe" | "resources/unsubscribe" if description.has_resources() => {
            run(Err(ErrorObject::new(
                METHOD_NOT_FOUND,
                "resource subscriptions need a session this stateless server does not keep (`subscribe: false`): read the resource again to see changes",
            )))
        }
        "prompts/list" if description.has_prompts() => list(prompts::list(description, params)),
        "tools/list"
        | "tools/call"
        | "resources/list"
        | "resources/templates/list"
        | "resources/read"
        | "resources/subscribe"
        | "resources/unsubscribe"
        | "prompts/list"
        | "prompts/get"
        | "completion/complete" => run(Err(ErrorObject::new(
            METHOD_NOT_FOUND,
            format!("method not found: `{method}` (this server offers no such feature)"),
        ))),
        other => run(Err(ErrorObject::new(
            METHOD_NOT_FOUND,
            format!("method not found: `{other}`"),
        ))),
    }
}

/// What the server offers, exactly: a capability per feature it has, and its delegate's.
fn capabilities<S: Service>(service: &S, description: &crate::ServiceDescription<S>) -> Value {
    let mut capabilities = json!({"logging": {}});
    if let Some(Value::Object(delegated)) = service
        .mcp_delegate()
        .map(|delegate| delegate.capabilities())
    {
        for (name, capability) in delegated {
            capabilities[name] = capability;
        }
    }
    if description.has_tools() {
        capabilities["tools"] = json!({"listChanged": false});
    }
    if description.has_resources() {
        capabilities["resources"] = json!({"subscribe": false, "listChanged": false});
    }
    if description.has_prompts() {
        capabilities["prompts"] = json!({"listChanged": false});
    }
    if description.has_completions() {
        capabilities["completions"] = json!({});
    }
    capabilities
}

fn initialize<S: Service>(
    service: &S,
    description: &crate::ServiceDescription<S>,
    params: &Value,
) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    let version = requested
        .filter(|requested| SUPPORTED_VERSIONS.contains(requested))
        .unwrap_or(SUPPORTED_VERSIONS[0]);
    let mut result = json!({
        "protocolVersion": version,
        "capabilities": capabilities(service, description),
        "serverInfo": server_info(description),
    });
    if !description.docs.is_empty() {
        result["instructions"] = description.docs.into();
    }
    result
}

fn discover<S: Service>(service: &S, description: &crate::ServiceDescription<S>) -> Value {
    let mut result = json!({
        "supportedVersions": all_versions(),
        "capabilities": capabilities(service, description),
    });
    if !description.docs.is_empty() {
        result["instructions"] = description.docs.into();
    }
    result
}

/// Every version served, modern first.
fn all_versions() -> Vec<&'static str> {
    MODERN_VERSIONS
        .iter()
        .chain(SUPPORTED_VERSIONS)
        .copied()
        .collect()
}

/// The protocol version a modern request declares in `params._meta`, if it is one.
fn modern_version(message: &Value) -> Option<String> {
    let version = message
        .get("params")?
        .get("_meta")?
        .get(META_PROTOCOL_VERSION)?;
    Some(
        version
            .as_str()
            .map_or_else(|| crate::json::to_text(version), str::to_owned),
    )
}

fn server_info<S>(description: &crate::ServiceDescription<S>) -> Value {
    json!({"name": description.name, "title": description.title, "version": description.version})
}

/// A page of `entries` from the request's `cursor`, under `key`.
fn page(entries: &[Value], params: &Value, key: &str) -> RequestResult {
    let start = match params.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(Value::String(cursor)) => cursor
            .parse::<usize>()
            .ok()
            .filter(|start| *start < entries.len())
            .ok_or_else(|| params_error(format!("invalid cursor `{cursor}`")))?,
        Some(_) => return Err(params_error("`cursor` must be a string")),
    };
    let end = (start + PAGE_SIZE).min(entries.len());
    let mut result = json!({ key: &entries[start..end] });
    if end < entries.len() {
        result["nextCursor"] = end.to_string().into();
    }
    Ok(result)
}

/// A string parameter the method needs.
fn string_param<'a>(params: &'a Value, name: &str, what: &str) -> Result<&'a str, ErrorObject> {
    params
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| params_error(format!("`{name}` must be {what}")))
}

/// A failure of the service's own code as a JSON-RPC error (resources and prompts; tools answer
/// `isError` results instead).
fn method_error(error: &Error, context: &Context) -> ErrorObject {
    if error.kind() == ErrorKind::Internal {
        crate::log::error(context, "internal error in an MCP method", error);
    }
    let message = match error.field() {
        Some(field) => format!("{} (field `{field}`)", error.public_message()),
        None => error.public_message().to_owned(),
    };
    ErrorObject::new(error.jsonrpc_code(), message)
        .with_data(serde_json::to_value(error.wire_data()).unwrap_or_default())
}

impl<S> crate::ServiceDescription<S> {
    /// What the MCP endpoint lists: tools (client-friendly schemas), resources, resource
    /// templates and prompts.
    pub fn mcp_manifest(&self) -> Value {
        json!({
            "tools": self.mcp_tools(false),
            "resources": self.mcp_resources(),
            "resourceTemplates": self.mcp_templates(),
            "prompts": self.mcp_prompts(),
        })
    }
}

impl Context {
    /// The service this call runs on, when the host shares ownership of it (on Workers and in
    /// the test client): what lets an MCP call go on streaming after the handler has answered.
    pub(crate) fn service_handle<S: 'static>(&self) -> Option<Rc<S>> {
        self.shared_service()?.downcast::<S>().ok()
    }
}

/// Decodes the Base64 sentinel form `=?base64?…?=` of a header value; other values as sent.
fn decode_header_value(value: &str) -> Option<String> {
    match value
        .strip_prefix("=?base64?")
        .and_then(|rest| rest.strip_suffix("?="))
    {
        None => Some(value.to_owned()),
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::decode_header_value;

    #[test]
    fn sentinel_values_are_base64_decoded() {
        assert_eq!(decode_header_value("get_item").as_deref(), Some("get_item"));
        assert_eq!(
            decode_header_value("=?base64?SGVsbG8sIOS4lueVjA==?=").as_deref(),
            Some("Hello, 世界")
        );
        assert_eq!(decode_header_value("=?base64?not*base64?="), None);
    }
}
