//! The decoders' fuzz targets live in this crate's tests (`tests/decoders.rs`).
