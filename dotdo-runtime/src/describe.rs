//! The static description that `#[dotdo::service]` generates for a service: its methods and,
//! for each interface, what is exposed and under which name. The runtime serves everything from
//! it, and it is printable without a deploy (`ServiceDescription::manifest`, in `manifest.rs`).

use std::sync::OnceLock;

use futures_util::future::LocalBoxFuture;
use schemars::{Schema, SchemaGenerator};
use serde_json::Value;

use crate::args::Args;
use crate::response::{HttpResponse, IntoResponse};
use crate::{Context, Error};

/// Implemented by `#[dotdo::service]` for the service's type.
pub trait Service: Sized + 'static {
    /// Whether the service has HTTP routes, JSON-RPC methods, and MCP (tools, resources,
    /// prompts or a delegate): known at compile time, so a worker without one carries none of
    /// that front end's code (the description, read at run time, could not tell the optimizer).
    const HAS_ROUTES: bool = true;
    const HAS_RPC: bool = true;
    const HAS_MCP: bool = true;
    /// Which MCP features the service's own methods offer, likewise: the code that serves
    /// tools, resources, prompts or completions is left out of a worker whose service has none
    /// (an MCP hub that only delegates carries none of it).
    const MCP_FEATURES: McpFeatures = McpFeatures::ALL;
    /// The service's documents as rendered before the build (`documents = "dir"` on
    /// `#[dotdo::service]`, in its wasm build): served as they are, so the worker carries none
    /// of the code that renders them from the types' schemas.
    const DOCUMENTS: Option<Documents> = None;

    fn description() -> &'static ServiceDescription<Self>;

    /// The middleware around this service's HTTP interfaces (`middleware = "…"` on
    /// `#[dotdo::service]`); none by default.
    fn middleware(&self) -> crate::middleware::Stack {
        crate::middleware::Stack::new()
    }

    /// What answers the MCP methods this service's description does not (`mcp = "…"` on
    /// `#[dotdo::service]`): a catalog known only at run time, such as an aggregating hub's.
    fn mcp_delegate(&self) -> Option<&dyn McpDelegate> {
        None
    }
}

/// The MCP features a service's own methods offer (`Service::MCP_FEATURES`), known when the
/// macro expands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpFeatures {
    pub tools: bool,
    pub resources: bool,
    pub prompts: bool,
    /// Argument completions (`#[mcp_prompt]` / `#[mcp_resource]` with `complete(…)`).
    pub completions: bool,
    /// Whether any of its tools, resources or prompts takes the `&Context`, through which a
    /// call logs, reports progress and asks its caller for input: without one, no call streams
    /// events or issues a `requestState`.
    pub context: bool,
}

impl McpFeatures {
    /// Every feature: what a service implemented by hand is taken to offer.
    pub const ALL: McpFeatures = McpFeatures {
        tools: true,
        resources: true,
        prompts: true,
        completions: true,
        context: true,
    };
}

/// The documents a service serves that its description renders from its types' schemas: the
/// OpenAPI document and the MCP `tools/list` entries. With `documents = "dir"`, the macro embeds
/// them from files under `dir` in the wasm build, where the schema code is then left out;
/// `dotdo::documents::check` writes and checks those files natively (a test the macro adds).
#[derive(Debug, Clone, Copy)]
pub struct Documents {
    /// `openapi.json`: the OpenAPI document without the routes under `/_`.
    pub openapi: &'static str,
    /// `openapi.private.json`: with them, as an admin reads it.
    pub openapi_private: &'static str,
    /// `mcp-tools.json`: the `tools/list` entries with client-friendly schemas.
    pub mcp_tools: &'static str,
    /// `mcp-tools.exact.json`: with the schemas as JSON Schema 2020-12 states the types.
    pub mcp_tools_exact: &'static str,
}

/// A JSON-RPC method's result, or the error object to answer instead.
pub type McpResult = Result<Value, crate::jsonrpc::ErrorObject>;

/// Serves MCP methods from a catalog known only at run time. The protocol (versions, headers,
/// streams, paging of the description's own lists) stays the framework's; a delegate answers
/// the methods it takes.
pub trait McpDelegate {
    /// Its capabilities, merged into the server's (`{"tools": {"listChanged": false}}`).
    fn capabilities(&self) -> Value;
    /// Answers `method` with `params` for the caller of `context`; `None` for a method it does
    /// not take (the framework answers it, or says it is not found).
    fn handle<'a>(
        &'a self,
        context: &'a Context,
        method: &'a str,
        params: &'a Value,
    ) -> LocalBoxFuture<'a, Option<McpResult>>;
}

/// Who may call a route, RPC method or tool. Paths under `/_` (and so `/_rpc`) need at least
/// an authenticated caller whatever is declared: the platform's URI standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any authenticated principal.
    Authenticated,
    /// A principal with this role (or `admin`, which holds every role).
    Role(&'static str),
}

impl Access {
    /// Checks the call's principal: 401 without one where one is needed, 403 with the wrong role.
    pub fn check(self, private_path: bool, context: &crate::Context) -> Result<(), Error> {
        let needs_principal = private_path || self != Access::Public;
        let Some(principal) = context.principal() else {
            return if needs_principal {
                Err(Error::unauthorized("authentication required"))
            } else {
                Ok(())
            };
        };
        match self {
            Access::Role(role) if principal.role != role && principal.role != "admin" => {
                Err(Error::forbidden(format!("this requires the `{role}` role")))
            }
            _ => Ok(()),
        }
    }
}

/// A method's successful result, as its [`IntoResponse`] made it: for a JSON value, the value
/// serialized once, which every interface can answer.
#[derive(Debug)]
pub struct Reply {
    response: HttpResponse,
}

impl Reply {
    /// The result's JSON text; `None` for a response that is not a JSON value.
    pub fn json(&self) -> Option<&str> {
        self.response.json_text()
    }

    /// The result's JSON text, to embed in an envelope without re-encoding it.
    pub fn into_json_text(self) -> Result<crate::json::JsonText, Error> {
        let json = self.response.json_text().ok_or_else(|| {
            Error::internal(
                "this method's result is not JSON: it cannot be answered over RPC or MCP",
            )
        })?;
        Ok(crate::json::JsonText::written(json.to_owned()))
    }

    pub fn into_response(self) -> HttpResponse {
        self.response
    }

    /// Whether the result is an MCP tool result in the protocol's own form.
    pub(crate) fn is_tool_result(&self) -> bool {
        self.response.is_tool_result()
    }

    /// The body in memory and its content type, when it is not a stream.
    pub(crate) fn content(&self) -> Option<(&str, &[u8])> {
        let content_type = self
            .response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/octet-stream");
        Some((content_type, self.response.body().as_bytes()?))
    }
}

/// What a method may return: `Result<T, E>` with `T: Serialize` (or any [`IntoResponse`]) and
/// `E: Into<dotdo::Error>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a result a dotdo method can return",
    label = "a service method returns `Result<T, dotdo::Error>`",
    note = "`T` must be `serde::Serialize` (and `serde::Deserialize` on `#[rpc]` methods, for the typed client) or a `dotdo::HttpResponse`; the error any type with `Into<dotdo::Error>`"
)]
pub trait MethodOutput {
    /// The success type, as the typed client returns it.
    type Ok;
    fn into_reply(self) -> Result<Reply, Error>;
}

// Not recommended: a failing bound is then reported as `MethodOutput`, in the words above,
// rather than as a bare `Serialize` bound the user never wrote.
#[diagnostic::do_not_recommend]
impl<T: IntoResponse, E: Into<Error>> MethodOutput for Result<T, E> {
    type Ok = T;
    fn into_reply(self) -> Result<Reply, Error> {
        let response = self.map_err(Into::into)?.into_response()?;
        Ok(Reply { response })
    }
}

/// Calls one method with its arguments: generated per method.
pub type Invoke<S> =
    for<'a> fn(&'a S, &'a Context, Args<'a>) -> LocalBoxFuture<'a, Result<Reply, Error>>;

/// Builds a JSON schema with the service's schema settings.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub struct MethodDesc<S> {
    /// The Rust name of the method.
    pub name: &'static str,
    /// Its doc comment.
    pub docs: &'static str,
    /// Its arguments by name, in order, without the context.
    pub params: &'static [&'static str],
    /// Whether it returns `()`: an HTTP route then answers 204 No Content.
    pub returns_unit: bool,
    /// Whether it takes the `&Context`: only then can it log, report progress or ask for input.
    pub takes_context: bool,
    pub invoke: Invoke<S>,
    /// Its arguments as an object schema (methods with routes or a tool).
    pub input_schema: Option<SchemaFn>,
    /// Its result's schema, when it has one (methods with routes or a tool).
    pub result_schema: Option<ResultSchemaFn>,
}

/// Builds the schema of a method's result; `None` for a result without one (an `HttpResponse`).
pub type ResultSchemaFn = fn(&mut SchemaGenerator) -> Option<Schema>;

pub use dotdo_routes::Verb;
/// A segment of a route's path, as the macro resolved it.
pub type RoutePart = dotdo_routes::Part<'static>;

/// How a route reads its non-path arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyBinding {
    /// From the query string only.
    None,
    /// The whole JSON body is this argument; the rest come from the query string.
    Whole(&'static str),
    /// The JSON body is an object whose fields are the arguments.
    Fields,
}

pub struct RouteDesc {
    pub verb: Verb,
    /// As declared: `/items/:id`, `/files/*path`.
    pub path: &'static str,
    /// Its path as requests are matched against it: `[Literal("items"), Param]`. Routes whose
    /// paths differ only in parameter names have equal parts: one shape.
    pub parts: &'static [RoutePart],
    /// Its parameter names in path order: `["id"]`.
    pub names: &'static [&'static str],
    pub method: usize,
    pub body: BodyBinding,
    pub access: Access,
    /// This route's own middleware: an index into [`ServiceDescription::layers`].
    pub layer: Option<usize>,
    /// The success status (200 unless declared; 204 for methods that return `()`).
    pub status: Option<u16>,
    /// Arguments bound from headers, cookies or the raw body.
    pub extract: &'static [Extract],
}

/// An argument bound from a part of the request other than path, query and JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extract {
    pub arg: &'static str,
    pub from: ExtractFrom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractFrom {
    /// `#[header]`: a request header by its lower-case name (every value when repeated).
    Header(&'static str),
    /// `#[cookie]`: a request cookie by its name.
    Cookie(&'static str),
    /// `#[body]`: the request body exactly as sent.
    Body,
}

pub struct RpcDesc {
    pub name: &'static str,
    pub method: usize,
    pub access: Access,
}

/// MCP tool annotations (hints to clients; `None` means not stated).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolAnnotations {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

pub struct ToolDesc {
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: &'static str,
    pub method: usize,
    pub access: Access,
    pub annotations: ToolAnnotations,
    pub input_schema: SchemaFn,
    pub output_schema: SchemaFn,
}

/// An MCP resource (`#[mcp_resource]`): one fixed URI, or an RFC 6570 template whose variables
/// are the method's arguments.
pub struct ResourceDesc {
    /// `docs://readme`, or a template: `items://{id}`.
    pub uri: &'static str,
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: &'static str,
    pub mime_type: Option<&'static str>,
    pub method: usize,
    pub access: Access,
    /// Completes the template's variables: an index into [`DescriptionParts::completers`].
    pub complete: Option<usize>,
}

impl ResourceDesc {
    pub fn is_template(&self) -> bool {
        self.uri.contains('{')
    }
}

/// An MCP prompt (`#[mcp_prompt]`): its arguments are the method's.
pub struct PromptDesc {
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: &'static str,
    pub arguments: &'static [PromptArgDesc],
    pub method: usize,
    pub access: Access,
    /// Completes its arguments: an index into [`DescriptionParts::completers`].
    pub complete: Option<usize>,
}

pub struct PromptArgDesc {
    pub name: &'static str,
    /// The argument's doc comment.
    pub description: &'static str,
    /// Whether it must be given (its type cannot be absent).
    pub required: fn() -> bool,
}

/// What a completion method (`complete = "method"`) is asked: the argument (a prompt's argument
/// or a resource template's variable) whose `value` the user has typed so far, and the values of
/// the other arguments already chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub argument: String,
    pub value: String,
    pub context: std::collections::BTreeMap<String, String>,
}

/// Calls a completion method (`complete = "method"`): generated per method named.
pub type Complete<S> =
    for<'a> fn(&'a S, &'a Context, Completion) -> LocalBoxFuture<'a, Result<Vec<String>, Error>>;

pub struct QueueDesc {
    /// The message `type` this method consumes.
    pub message_type: &'static str,
    /// Only messages from this queue, when set.
    pub queue: Option<&'static str>,
    pub method: usize,
}

/// Builds a route's own middleware from the service (`#[http(…, middleware = "method")]`).
pub type Layer<S> = fn(&S) -> crate::middleware::Stack;

pub struct CronDesc {
    /// The cron expression, exactly as in wrangler.toml's `[triggers] crons`.
    pub schedule: &'static str,
    pub method: usize,
}

/// Everything `#[dotdo::service]` knows about a service: its parts (reached as fields through
/// `Deref`: `description.routes`) and what the runtime builds from them once.
pub struct ServiceDescription<S: 'static> {
    parts: DescriptionParts<S>,
    /// The MCP `tools/list` entries, built once by the MCP front end: with client-friendly
    /// schemas, and with JSON Schema 2020-12 as the types define it.
    pub(crate) tool_list: [OnceLock<Vec<Value>>; 2],
    /// Which tools answer with structured content, found from their output schemas alone.
    pub(crate) structured_tools: OnceLock<Vec<bool>>,
    /// The MCP `resources/list`, `resources/templates/list` and `prompts/list` entries.
    pub(crate) resource_list: OnceLock<Vec<Value>>,
    pub(crate) template_list: OnceLock<Vec<Value>>,
    pub(crate) prompt_list: OnceLock<Vec<Value>>,
    /// The OpenAPI document as served, rendered once by `openapi`: for everyone, for an admin.
    pub(crate) openapi_json: [OnceLock<Vec<u8>>; 2],
}

/// What a service is made of, by name: what `#[dotdo::service]` emits.
pub struct DescriptionParts<S: 'static> {
    pub name: &'static str,
    /// A human-readable name (MCP `serverInfo.title`).
    pub title: &'static str,
    pub version: &'static str,
    pub docs: &'static str,
    pub methods: &'static [MethodDesc<S>],
    pub routes: &'static [RouteDesc],
    pub rpc: &'static [RpcDesc],
    pub tools: &'static [ToolDesc],
    pub resources: &'static [ResourceDesc],
    pub prompts: &'static [PromptDesc],
    pub completers: &'static [Complete<S>],
    pub queues: &'static [QueueDesc],
    pub crons: &'static [CronDesc],
    /// The `#[email]` method, which inbound email runs.
    pub email: Option<usize>,
    pub layers: &'static [Layer<S>],
}

impl<S> std::ops::Deref for ServiceDescription<S> {
    type Target = DescriptionParts<S>;

    fn deref(&self) -> &DescriptionParts<S> {
        &self.parts
    }
}

impl<S> ServiceDescription<S> {
    pub const fn new(parts: DescriptionParts<S>) -> Self {
        ServiceDescription {
            parts,
            tool_list: [OnceLock::new(), OnceLock::new()],
            structured_tools: OnceLock::new(),
            resource_list: OnceLock::new(),
            template_list: OnceLock::new(),
            prompt_list: OnceLock::new(),
            openapi_json: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// Whether the service has an MCP endpoint: any tool, resource or prompt.
    pub fn has_mcp(&self) -> bool {
        !(self.tools.is_empty() && self.resources.is_empty() && self.prompts.is_empty())
    }
}

/// Whether the service's own methods offer each MCP feature: the compile-time flag first, so
/// the optimizer drops the code of a feature the service lacks, then the description.
impl<S: Service> ServiceDescription<S> {
    pub(crate) fn has_tools(&self) -> bool {
        S::MCP_FEATURES.tools && !self.tools.is_empty()
    }

    pub(crate) fn has_resources(&self) -> bool {
        S::MCP_FEATURES.resources && !self.resources.is_empty()
    }

    pub(crate) fn has_prompts(&self) -> bool {
        S::MCP_FEATURES.prompts && !self.prompts.is_empty()
    }

    pub(crate) fn has_completions(&self) -> bool {
        S::MCP_FEATURES.completions && !self.completers.is_empty()
    }
}

/// A doc comment's first sentence (up to a `.` before white space), on one line, and the rest:
/// the summary the manifest, READMEs and OpenAPI show, and OpenAPI's description.
pub(crate) fn doc_summary(docs: &str) -> (String, &str) {
    let docs = docs.trim();
    let end = docs
        .char_indices()
        .find(|&(at, c)| c == '.' && docs[at + 1..].starts_with(char::is_whitespace))
        .map_or(docs.len(), |(at, _)| at + 1);
    let summary = docs[..end].split_whitespace().collect::<Vec<_>>().join(" ");
    (summary, docs[end..].trim())
}
