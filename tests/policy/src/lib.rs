//! The repository's configuration policy lives in this crate's tests (`tests/wrangler.rs`).
