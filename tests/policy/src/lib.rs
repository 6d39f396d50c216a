//! The repository's policy lives in this crate's tests (`tests/wrangler.rs` for the worker
//! configurations, `tests/layers.rs` and `tests/json.rs` for the code); what they share is here.

use std::path::PathBuf;

/// The Rust files under `dirs`, at any depth.
pub fn rust_files(dirs: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut pending: Vec<PathBuf> = dirs.into_iter().collect();
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                files.push(path);
            }
        }
    }
    files
}
