//! Elicitation and sampling through multi round-trip requests (2026-07-28): a call that needs
//! its user's input (`ctx.elicit`) or a model's answer (`ctx.sample`) ends with an
//! `input_required` result naming what it needs and a sealed `requestState`; the client asks,
//! then sends the same request again with `inputResponses` and the state; the call runs again
//! from the start, and this time finds the answers.
//!
//! The state carries the answers of earlier rounds and what this round asked for, bound to the
//! request (method, name, arguments) and the caller, and sealed with HMAC-SHA256 under the
//! `MCP_STATE_SECRET` secret: a state changed, replayed on another request or by another caller,
//! or older than an hour is refused before the service's code runs. It is signed, not
//! encrypted: the client sees the answers it gave.
//!
//! Legacy clients (2025-03-26 … 2025-11-25) would need a server-to-client request over a stream
//! the server holds open for the answer; a stateless server cannot take that answer in another
//! request, so there `ctx.elicit` and `ctx.sample` fail with an error saying to use 2026-07-28.

use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Map;
use sha2::{Digest, Sha256};

use super::content::{PromptMessage, Role};
use super::*;

/// The secret that seals `requestState`. On Workers it is the `MCP_STATE_SECRET` secret; a
/// context may carry it as an extension instead (in-process tests).
#[derive(Debug, Clone)]
pub struct StateSecret(pub String);

const SECRET_NAME: &str = "MCP_STATE_SECRET";
/// How long a sealed state may be sent back.
const STATE_TTL_SECONDS: u64 = 60 * 60;

/// The input a call has, and what it asked for this round.
#[derive(Default)]
pub(crate) struct InputState {
    /// The revision, when it can carry input requests (2026-07-28).
    modern: Option<&'static str>,
    legacy_version: &'static str,
    client_capabilities: Value,
    responses: Map<String, Value>,
    /// Requests raised this round, by key.
    pending: Mutex<Vec<(String, Value)>>,
}

/// What a user answered to `ctx.elicit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elicited<T> {
    Accepted(T),
    Declined,
    Cancelled,
}

/// What `ctx.sample` asks the client's model.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SamplingRequest {
    pub messages: Vec<PromptMessage>,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
}

impl SamplingRequest {
    /// One user message, answered in at most `max_tokens`.
    pub fn new(prompt: impl Into<String>, max_tokens: u32) -> Self {
        SamplingRequest {
            messages: vec![PromptMessage::user(prompt.into())],
            max_tokens,
            system_prompt: None,
        }
    }
}

/// The model's answer to `ctx.sample`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SampledMessage {
    pub role: Role,
    /// A content block: `{"type": "text", "text": …}` for a text answer.
    pub content: Value,
    pub model: String,
    #[serde(default)]
    pub stop_reason: Option<String>,
}

impl SampledMessage {
    /// The answer's text, when it is text.
    pub fn text(&self) -> Option<&str> {
        (self.content["type"] == "text")
            .then(|| self.content["text"].as_str())
            .flatten()
    }
}

/// The sealed part of `requestState`.
#[derive(Serialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct Sealed {
    /// The method and what it acts on (tool or prompt name, resource URI).
    target: String,
    /// SHA-256 of the request's arguments.
    arguments: String,
    principal: Option<String>,
    /// The answers of earlier rounds.
    responses: Map<String, Value>,
    /// What the last round asked for.
    requested: Vec<String>,
    issued_at: u64,
}

impl Sealed {
    /// The state as [`seal`] wrote it. Read by hand from its JSON: a derived `Deserialize`
    /// compiled the byte parser's struct decoding for this one type (3 KB of wasm in every
    /// worker with MCP tools).
    fn from_json(payload: &[u8]) -> Option<Self> {
        let Value::Object(mut state) = crate::json::parse(payload).ok()? else {
            return None;
        };
        let mut take = |name: &str| state.get_mut(name).map(Value::take);
        let text = |value: Value| match value {
            Value::String(text) => Some(text),
            _ => None,
        };
        Some(Sealed {
            target: text(take("target")?)?,
            arguments: text(take("arguments")?)?,
            principal: match take("principal") {
                None | Some(Value::Null) => None,
                Some(principal) => Some(text(principal)?),
            },
            responses: match take("responses")? {
                Value::Object(responses) => responses,
                _ => return None,
            },
            requested: match take("requested")? {
                Value::Array(names) => names.into_iter().map(text).collect::<Option<_>>()?,
                _ => return None,
            },
            issued_at: take("issued_at")?.as_u64()?,
        })
    }
}

fn target(method: &str, params: &Value) -> String {
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    format!("{method} {name}")
}

fn arguments_digest(params: &Value) -> String {
    let arguments = crate::json::to_text(params.get("arguments").unwrap_or(&Value::Null));
    URL_SAFE_NO_PAD.encode(Sha256::digest(arguments.as_bytes()))
}

fn secret(context: &Context) -> Result<String, Error> {
    if let Some(StateSecret(secret)) = context.get::<StateSecret>() {
        return Ok(secret.clone());
    }
    match context.env() {
        Some(env) => crate::config::Config::new(env).secret(SECRET_NAME),
        None => Err(Error::internal(format!(
            "multi round-trip requests need the `{SECRET_NAME}` secret (in-process: a `dotdo::mcp::StateSecret` extension)"
        ))),
    }
}

fn mac(secret: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(payload);
    mac
}

fn seal(secret: &str, sealed: &Sealed) -> String {
    let payload = serde_json::to_vec(sealed).expect("the state is JSON");
    let tag = mac(secret, &payload).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

fn unseal(secret: &str, state: &str) -> Option<Sealed> {
    let (payload, tag) = state.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(secret, &payload).verify_slice(&tag).ok()?;
    Sealed::from_json(&payload)
}

fn state_error(message: impl Into<String>) -> ErrorObject {
    params_error(format!("invalid `requestState`: {}", message.into()))
}

/// What a request brings before any state is verified: everything a call needs, or a state to
/// verify (with the `inputResponses` that answer it).
enum Presented<'a> {
    Ready(InputState),
    Sealed {
        input: InputState,
        state: &'a str,
        responses: Option<&'a Map<String, Value>>,
    },
}

fn presented(era: Era, params: &Value) -> Result<Presented<'_>, ErrorObject> {
    let version = match era {
        Era::Legacy(version) => {
            return Ok(Presented::Ready(InputState {
                legacy_version: version,
                ..InputState::default()
            }));
        }
        Era::Modern(version) => version,
    };
    let input = InputState {
        modern: Some(version),
        client_capabilities: params["_meta"][META_CLIENT_CAPABILITIES].clone(),
        ..InputState::default()
    };
    let responses = match params.get("inputResponses") {
        None | Some(Value::Null) => None,
        Some(Value::Object(responses)) => Some(responses),
        Some(_) => return Err(params_error("`inputResponses` must be an object")),
    };
    match params.get("requestState") {
        None | Some(Value::Null) => match responses {
            Some(_) => Err(params_error(
                "`inputResponses` answer a `requestState`: send the state the server returned with them",
            )),
            None => Ok(Presented::Ready(input)),
        },
        Some(Value::String(state)) => Ok(Presented::Sealed {
            input,
            state,
            responses,
        }),
        Some(_) => Err(state_error("it must be the string the server returned")),
    }
}

const NOT_ISSUED_HERE: &str = "it was not issued by this server, or was changed";

/// The input of a request to a server none of whose calls can ask for input (no method takes
/// the `&Context`): the same checks as [`prepare`], and any state refused as not issued here,
/// as it cannot have been. Such a worker carries no code to verify or seal a state.
pub(super) fn prepare_without_state(era: Era, params: &Value) -> Result<InputState, ErrorObject> {
    match presented(era, params)? {
        Presented::Ready(input) => Ok(input),
        Presented::Sealed { .. } => Err(state_error(NOT_ISSUED_HERE)),
    }
}

/// The input a request brings: for a retried 2026-07-28 request, its verified state's answers
/// and the new `inputResponses`. A state that fails any check is refused here, before the
/// service's code runs.
pub(super) fn prepare(
    context: &Context,
    era: Era,
    method: &str,
    params: &Value,
) -> Result<InputState, ErrorObject> {
    let (mut input, state, responses) = match presented(era, params)? {
        Presented::Ready(input) => return Ok(input),
        Presented::Sealed {
            input,
            state,
            responses,
        } => (input, state, responses),
    };
    let secret = secret(context).map_err(|error| method_error(&error, context))?;
    let sealed = unseal(&secret, state).ok_or_else(|| state_error(NOT_ISSUED_HERE))?;
    if sealed.target != target(method, params) || sealed.arguments != arguments_digest(params) {
        return Err(state_error(
            "it was issued for another request: retry the same method with the same arguments",
        ));
    }
    if sealed.principal != context.principal().map(|principal| principal.id.clone()) {
        return Err(state_error("it was issued to another caller"));
    }
    if crate::clock::now_seconds().saturating_sub(sealed.issued_at) > STATE_TTL_SECONDS {
        return Err(state_error(
            "it has expired: send the request again without it",
        ));
    }
    let responses = responses.cloned().unwrap_or_default();
    if let Some(unasked) = responses.keys().find(|key| !sealed.requested.contains(key)) {
        return Err(params_error(format!(
            "`inputResponses` answers `{unasked}`, which was not asked for (asked: {})",
            sealed.requested.join(", ")
        )));
    }
    if let Some(missing) = sealed
        .requested
        .iter()
        .find(|key| !responses.contains_key(*key))
    {
        return Err(params_error(format!(
            "`inputResponses` has no answer for `{missing}`"
        )));
    }
    input.responses = sealed.responses;
    input.responses.extend(responses);
    Ok(input)
}

/// The result to answer: an `input_required` one when the call asked for input it does not
/// have yet (its own error was only the way out), else the call's own.
pub(super) fn finish(
    context: &Context,
    method: &str,
    params: &Value,
    result: RequestResult,
) -> RequestResult {
    let Some(input) = context.mcp_call().map(|call| &call.input) else {
        return result;
    };
    let pending = std::mem::take(&mut *input.pending.lock().unwrap_or_else(|e| e.into_inner()));
    if pending.is_empty() {
        return result;
    }
    let secret = secret(context).map_err(|error| method_error(&error, context))?;
    let sealed = Sealed {
        target: target(method, params),
        arguments: arguments_digest(params),
        principal: context.principal().map(|principal| principal.id.clone()),
        responses: input.responses.clone(),
        requested: pending.iter().map(|(key, _)| key.clone()).collect(),
        issued_at: crate::clock::now_seconds(),
    };
    let requests = crate::json::object(pending);
    Ok(json!({
        "resultType": "input_required",
        "inputRequests": requests,
        "requestState": seal(&secret, &sealed),
    }))
}

impl InputState {
    /// The answer to `key`, or the request is recorded and the call must end (`Err`).
    fn answer(&self, key: &str, capability: &str, request: Value) -> Result<&Value, Error> {
        let Some(_) = self.modern else {
            let version = if self.legacy_version.is_empty() {
                "this call"
            } else {
                self.legacy_version
            };
            return Err(Error::bad_request(format!(
                "this tool asks for input (`{key}`), which MCP {version} cannot carry to a stateless server: connect with protocol version {}",
                MODERN_VERSIONS[0]
            )));
        };
        if let Some(answer) = self.responses.get(key) {
            return Ok(answer);
        }
        if self.client_capabilities.get(capability).is_none() {
            return Err(Error::bad_request(format!(
                "this tool asks for input (`{key}`) through {capability}, which the client does not support"
            )));
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((key.to_owned(), request));
        Err(Error::bad_request(format!("input required: `{key}`")))
    }
}

/// The schema of a form to elicit: an object of primitive fields, as elicitation allows.
fn form_schema<T: JsonSchema>() -> Result<Value, Error> {
    let mut generator = crate::schema::generator();
    let schema = crate::schema::client_friendly(generator.root_schema_for::<T>()).to_value();
    let properties = schema
        .get("properties")
        .cloned()
        .unwrap_or_else(|| json!({}));
    // An enum is `enum`, or (its variants documented) `oneOf` of `const`s, which elicitation
    // takes as titled choices.
    let constants = |options: Option<&Value>| {
        options
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().all(|option| option.get("const").is_some()))
    };
    let primitive = |field: &Value| {
        field.get("enum").is_some()
            || constants(field.get("oneOf"))
            || matches!(
                field.get("type").and_then(Value::as_str),
                Some("string" | "number" | "integer" | "boolean")
            )
    };
    if let Some((name, _)) = properties
        .as_object()
        .into_iter()
        .flatten()
        .find(|(_, field)| !primitive(field))
    {
        return Err(Error::internal(format!(
            "an elicitation form takes strings, numbers, booleans and enums; field `{name}` is none of them"
        )));
    }
    let mut form = json!({"type": "object", "properties": properties});
    if let Some(required) = schema.get("required") {
        form["required"] = required.clone();
    }
    Ok(form)
}

impl Context {
    fn input(&self) -> Result<&InputState, Error> {
        self.mcp_call().map(|call| &call.input).ok_or_else(|| {
            Error::bad_request(
                "this call asks its user for input, which only an MCP client can give",
            )
        })
    }

    /// Asks the user to fill in a form of `T`'s fields (strings, numbers, booleans, enums, with
    /// their descriptions and defaults), under `key`, which names the question across rounds.
    /// The first time, the call ends here (`?` passes the error on) and the client is asked; when
    /// it sends the request again with the answer, this returns it.
    pub fn elicit<T: DeserializeOwned + JsonSchema>(
        &self,
        key: &str,
        message: &str,
    ) -> Result<Elicited<T>, Error> {
        let request = json!({
            "method": "elicitation/create",
            "params": {"mode": "form", "message": message, "requestedSchema": form_schema::<T>()?},
        });
        let answer = self.input()?.answer(key, "elicitation", request)?;
        match answer.get("action").and_then(Value::as_str) {
            Some("accept") => {
                let content = answer.get("content").cloned().unwrap_or(json!({}));
                crate::json::from_value(content)
                    .map(Elicited::Accepted)
                    .map_err(|error| {
                        Error::invalid_field(
                            key,
                            format!("the answer does not fit the form: {error}"),
                        )
                    })
            }
            Some("decline") => Ok(Elicited::Declined),
            Some("cancel") => Ok(Elicited::Cancelled),
            _ => Err(Error::invalid_field(
                key,
                "an elicitation answer has `action` accept, decline or cancel",
            )),
        }
    }

    /// Asks the client's model (`sampling/createMessage`), under `key`; rounds as for
    /// [`elicit`](Self::elicit).
    pub fn sample(&self, key: &str, request: &SamplingRequest) -> Result<SampledMessage, Error> {
        let request = json!({"method": "sampling/createMessage", "params": request});
        let answer = self.input()?.answer(key, "sampling", request)?;
        SampledMessage::deserialize(answer)
            .map_err(|error| Error::invalid_field(key, format!("not a sampling result: {error}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed() -> Sealed {
        Sealed {
            target: "tools/call t".into(),
            arguments: arguments_digest(&json!({"arguments": {"a": 1}})),
            principal: None,
            responses: Map::new(),
            requested: vec!["k".into()],
            issued_at: 1,
        }
    }

    #[test]
    fn a_sealed_state_opens_only_unchanged_and_under_its_secret() {
        let state = seal("secret", &sealed());
        assert!(unseal("secret", &state).is_some());
        assert!(unseal("other", &state).is_none());
        let (payload, tag) = state.split_once('.').unwrap();
        let mut forged = URL_SAFE_NO_PAD.decode(payload).unwrap();
        forged[2] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert!(unseal("secret", &forged).is_none());
        assert!(unseal("secret", "not a state").is_none());
    }

    #[test]
    fn a_sealed_state_reads_back_as_written_and_other_shapes_do_not() {
        let mut full = sealed();
        full.principal = Some("user:1".into());
        full.responses
            .insert("k".into(), json!({"action": "accept"}));
        for state in [sealed(), full] {
            let payload = serde_json::to_vec(&state).unwrap();
            assert_eq!(Sealed::from_json(&payload), Some(state));
        }
        let good = serde_json::to_value(sealed()).unwrap();
        for (field, bad) in [
            ("target", json!(1)),
            ("principal", json!(2)),
            ("responses", json!([])),
            ("requested", json!(["k", 3])),
            ("issued_at", json!(-1)),
        ] {
            let mut state = good.clone();
            state[field] = bad;
            let payload = serde_json::to_vec(&state).unwrap();
            assert_eq!(Sealed::from_json(&payload), None, "{field}");
        }
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("issued_at");
        assert_eq!(
            Sealed::from_json(&serde_json::to_vec(&missing).unwrap()),
            None
        );
        assert_eq!(Sealed::from_json(b"[1]"), None);
    }

    #[allow(dead_code)]
    #[derive(Deserialize, JsonSchema)]
    struct Nested {
        inner: Vec<String>,
    }

    #[test]
    fn forms_take_primitive_fields_only() {
        #[allow(dead_code)]
        #[derive(Deserialize, JsonSchema)]
        struct Confirm {
            /// Really?
            sure: bool,
            reason: Option<String>,
        }
        let form = form_schema::<Confirm>().unwrap();
        assert_eq!(form["properties"]["sure"]["type"], "boolean");
        assert_eq!(form["required"], json!(["sure"]));
        assert!(form_schema::<Nested>().is_err());

        #[allow(dead_code)]
        #[derive(Deserialize, JsonSchema)]
        enum Size {
            Small,
            Large,
        }
        #[allow(dead_code)]
        #[derive(Deserialize, JsonSchema)]
        enum Plan {
            /// For one person.
            Solo,
            /// For a team.
            Team,
        }
        #[allow(dead_code)]
        #[derive(Deserialize, JsonSchema)]
        struct Order {
            size: Size,
            plan: Plan,
            #[serde(default = "three")]
            copies: u32,
        }
        fn three() -> u32 {
            3
        }
        let form = form_schema::<Order>().unwrap();
        assert_eq!(
            form["properties"]["size"]["enum"],
            json!(["Small", "Large"])
        );
        assert_eq!(form["properties"]["plan"]["oneOf"][1]["const"], "Team");
        assert_eq!(form["properties"]["copies"]["default"], 3);
        assert_eq!(form["required"], json!(["size", "plan"]));
    }
}
