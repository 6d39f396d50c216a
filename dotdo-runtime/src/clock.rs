//! Wall-clock time: the JS clock on Workers (where `SystemTime` panics), the system's natively.

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        worker::js_sys::Date::now() as u64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64)
    }
}

/// Seconds since the Unix epoch.
pub fn now_seconds() -> u64 {
    now_millis() / 1000
}
