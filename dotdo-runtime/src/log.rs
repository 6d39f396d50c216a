//! One JSON line per event, so logs are machine-readable wherever they end up.

use serde_json::{Map, Value, json};

use crate::{Context, Error};

/// Writes one structured log line.
pub fn emit(level: &str, message: &str, fields: Map<String, Value>) {
    let mut line = Map::new();
    line.insert("level".into(), level.into());
    line.insert("message".into(), message.into());
    line.extend(fields);
    write_line(level, &crate::json::to_text(&Value::Object(line)));
}

/// Logs an error with all its detail, including what callers are never shown.
pub fn error(context: &Context, message: &str, error: &Error) {
    error_for(context.request_id(), message, error);
}

/// [`error`] for a request whose context is gone (a streamed body still running).
pub fn error_for(request_id: &str, message: &str, error: &Error) {
    let fields = json!({
        "request_id": request_id,
        "kind": error.kind(),
        "detail": error.message(),
        "field": error.field(),
    });
    emit(
        "error",
        message,
        fields.as_object().cloned().unwrap_or_default(),
    );
}

/// On Workers the console is the log (`wrangler tail`, Workers Logs); natively, stderr.
fn write_line(level: &str, line: &str) {
    #[cfg(target_arch = "wasm32")]
    match level {
        "error" => worker::console_error!("{line}"),
        "warn" => worker::console_warn!("{line}"),
        _ => worker::console_log!("{line}"),
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = level;
        eprintln!("{line}");
    }
}
