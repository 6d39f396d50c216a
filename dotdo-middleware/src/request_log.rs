//! One JSON log line per request: request id, method, path, status, duration, principal.

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use dotdo_runtime::http::{Incoming, Response};
use dotdo_runtime::{Context, Middleware, Next, Principal};

/// Logs every request once it is answered. Put it first, so it sees every answer, including
/// those of the layers after it.
pub struct RequestLog;

impl Middleware for RequestLog {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        Box::pin(async move {
            let started = dotdo_runtime::clock::now_millis();
            let request_id = context.request_id().to_owned();
            let method = request.method.to_string();
            let path = request.uri.path().to_owned();
            let response = next.run(request, context).await;
            let status = response.status().as_u16();
            // Authentication below records who called on the response, since the context
            // moved on with the request.
            let principal = response
                .extensions()
                .get::<Principal>()
                .map(|principal| principal.id.clone());
            let fields = json!({
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": status,
                "duration_ms": dotdo_runtime::clock::now_millis().saturating_sub(started),
                "principal": principal,
            });
            let level = if status >= 500 { "error" } else { "info" };
            dotdo_runtime::log::emit(
                level,
                "request",
                fields.as_object().cloned().unwrap_or_default(),
            );
            response
        })
    }
}
