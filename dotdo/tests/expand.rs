//! Expansion snapshots of `#[dotdo::service]` (`tests/expand/*.expanded.rs`). A change to the
//! generated code shows up here as a diff to review; `MACROTEST=overwrite` accepts it.

#[test]
fn expansion_snapshots() {
    macrotest::expand("tests/expand/*.rs");
}
