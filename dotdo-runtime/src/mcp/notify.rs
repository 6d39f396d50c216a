//! Logging (`notifications/message`) and progress (`notifications/progress`) from a running call,
//! sent as server-sent events on the POST's response before the result when the client accepts
//! `text/event-stream`; dropped otherwise (the result then comes alone, as JSON).
//!
//! On Workers the events form a real stream: workerd sends each one as the call makes it. The
//! log level is per request, since the server keeps no session: 2026-07-28 clients send it in
//! `params._meta` (`io.modelcontextprotocol/logLevel`); `logging/setLevel` is acknowledged but
//! cannot outlive its own request.

use std::future::Future;
use std::sync::Arc;

use futures_channel::mpsc;
use futures_util::{FutureExt, StreamExt};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde::{Deserialize, Serialize};

use super::input::InputState;
use super::transport::event;
use super::*;
use crate::wire::Body;

/// Where a call's notifications go: the events of its response.
pub(crate) type Sink = mpsc::UnboundedSender<Vec<u8>>;

/// The severity of a log message (RFC 5424's levels, as MCP names them), least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

impl LogLevel {
    const ALL: [(&'static str, LogLevel); 8] = [
        ("debug", LogLevel::Debug),
        ("info", LogLevel::Info),
        ("notice", LogLevel::Notice),
        ("warning", LogLevel::Warning),
        ("error", LogLevel::Error),
        ("critical", LogLevel::Critical),
        ("alert", LogLevel::Alert),
        ("emergency", LogLevel::Emergency),
    ];

    /// The level a request names (`"warning"`), as its `Deserialize` reads it; read by hand
    /// from the request's JSON rather than through serde's `&Value` deserializer, which would
    /// be compiled for this alone (worker size).
    fn named(value: &Value) -> Option<LogLevel> {
        let name = value.as_str()?;
        Self::ALL
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, level)| *level)
    }
}

/// What an MCP call carries for the service's code: where its notifications go, and the input
/// (elicitation, sampling) its client has given.
pub(crate) struct CallState {
    sink: Option<Sink>,
    progress_token: Option<Value>,
    min_level: Option<LogLevel>,
    logger: &'static str,
    pub(super) input: InputState,
}

/// Shared, as the context's extensions require.
#[derive(Clone)]
pub(crate) struct CallHandle(pub(super) Arc<CallState>);

/// Puts the call's state into its context, for `ctx.log`, `ctx.progress`, `ctx.elicit`.
pub(super) fn attach(
    context: &mut Context,
    era: Era,
    params: &Value,
    logger: &'static str,
    sink: Option<Sink>,
    input: InputState,
) {
    let meta = params.get("_meta");
    let min_level = match era {
        Era::Modern(_) => meta
            .and_then(|meta| meta.get(META_LOG_LEVEL))
            .and_then(LogLevel::named),
        Era::Legacy(_) => None,
    };
    let state = CallState {
        sink,
        progress_token: meta
            .and_then(|meta| meta.get("progressToken"))
            .filter(|token| token.is_string() || token.is_number())
            .cloned(),
        min_level,
        logger,
        input,
    };
    context.extensions_mut().insert(CallHandle(Arc::new(state)));
}

impl Context {
    pub(crate) fn mcp_call(&self) -> Option<&CallState> {
        self.get::<CallHandle>().map(|handle| &*handle.0)
    }

    fn notify(&self, method: &str, params: Value) {
        let Some(sink) = self.mcp_call().and_then(|call| call.sink.as_ref()) else {
            return;
        };
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        // A closed channel means the client went away: nothing left to tell.
        let _ = sink.unbounded_send(event(&message));
    }

    /// Logs to the MCP client (`notifications/message`) when this call is an MCP request whose
    /// client reads a stream and wants this level; otherwise nothing happens.
    pub fn log(&self, level: LogLevel, data: impl Serialize) {
        let Some(call) = self.mcp_call() else { return };
        if call.min_level.is_some_and(|min| level < min) {
            return;
        }
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        self.notify(
            "notifications/message",
            json!({"level": level, "logger": call.logger, "data": data}),
        );
    }

    /// Reports progress to the MCP client (`notifications/progress`), when the request asked for
    /// it with a `progressToken` and reads a stream. `progress` must grow from one report to the
    /// next; `total`, when known, is what it grows to.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = self.mcp_call().and_then(|call| call.progress_token.clone()) else {
            return;
        };
        let mut params = json!({"progressToken": token, "progress": progress});
        if let Some(total) = total {
            params["total"] = total.into();
        }
        if let Some(message) = message {
            params["message"] = message.into();
        }
        self.notify("notifications/progress", params);
    }
}

/// `logging/setLevel`: a known level is acknowledged.
pub(super) fn set_level(params: &Value) -> RequestResult {
    match params.get("level").and_then(LogLevel::named) {
        Some(_) => Ok(json!({})),
        _ => Err(params_error(
            "`level` must be one of debug, info, notice, warning, error, critical, alert, emergency",
        )),
    }
}

fn event_stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Answers a call as a live event stream: `run` goes on after this returns, its notifications
/// and then its reply sent as it makes them.
pub(super) fn stream<F, Fut>(context: Context, call: Call, run: F) -> Response
where
    F: FnOnce(Context, Call, Sink) -> Fut,
    Fut: Future<Output = Value> + 'static,
{
    let (sink, events) = mpsc::unbounded();
    let last = sink.clone();
    let running = run(context, call, sink);
    let finished = async move {
        let reply = running.await;
        let _ = last.unbounded_send(event(&reply));
        last.close_channel();
    };
    // The call yields no event itself: it is polled beside the channel until both are done.
    let driver = finished
        .into_stream()
        .filter_map(|()| std::future::ready(None));
    let body = futures_util::stream::select(driver, events).map(Ok::<_, Error>);
    event_stream_response(Body::stream(body))
}

/// The same events as [`stream`], sent together once the call is done.
pub(super) async fn buffered<F, Fut>(context: Context, call: Call, run: F) -> Response
where
    F: FnOnce(Context, Call, Sink) -> Fut,
    Fut: Future<Output = Value>,
{
    let (sink, mut events) = mpsc::unbounded();
    let last = sink.clone();
    let reply = run(context, call, sink).await;
    let _ = last.unbounded_send(event(&reply));
    last.close_channel();
    let mut body = Vec::new();
    while let Some(event) = events.next().await {
        body.extend(event);
    }
    event_stream_response(body.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_is_named_as_its_deserialize_reads_it() {
        let names = [
            "debug",
            "info",
            "notice",
            "warning",
            "error",
            "critical",
            "alert",
            "emergency",
            "Debug",
            "WARNING",
            "warn",
            "",
        ];
        for value in
            names
                .map(Value::from)
                .into_iter()
                .chain([json!(3), json!(null), json!(["info"])])
        {
            assert_eq!(
                LogLevel::named(&value),
                LogLevel::deserialize(&value).ok(),
                "{value}"
            );
        }
    }
}
