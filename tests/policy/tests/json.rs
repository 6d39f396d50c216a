//! Worker code reads JSON text with `dotdo::json::from_text`, never `serde_json::from_str`: a
//! worker that used both serde_json's text and byte parsers would carry a copy of each, and of
//! every type's `Deserialize` code for each (docs/performance.md, seventh pass). Nor does it use
//! serde_json's `RawValue`: the `raw_value` feature it needs makes every `Value` deserializer
//! carry the text parser (JSON passed on as it is goes as `dotdo::json::JsonText`). And it
//! decodes parsed values with `dotdo::json::from_value`, never serde_json's `from_value` or
//! `serde_path_to_error`: each would compile a second copy of every type's decoding. Nor does it
//! call serde_json's byte parser itself: `dotdo::json::parse` does, into values, and typed
//! parsing would compile serde_json's typed decoding, whose errors bring Rust's float formatting
//! (docs/performance.md, thirteenth pass).

use std::path::{Path, PathBuf};

/// What reads JSON text through serde_json's text parser, or links it into every worker.
const TEXT_PARSERS: [&str; 3] = ["serde_json::from_str", "Deserializer::from_str", "RawValue"];

/// What decodes a parsed `Value` other than `dotdo::json::from_value`.
const VALUE_DECODERS: [&str; 2] = ["serde_json::from_value", "serde_path_to_error"];

/// serde_json's byte parser called directly, which can decode into a type: only
/// `dotdo::json::parse` calls it, for `Value`s.
const BYTE_PARSERS: [&str; 2] = ["serde_json::from_slice", "Deserializer::from_slice"];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Rust sources that are compiled into workers: the runtime, the middleware, the platform's
/// services, the templates, the benchmark's service and the e2e workers.
fn worker_sources() -> Vec<PathBuf> {
    let root = repository();
    let mut dirs: Vec<PathBuf> = ["dotdo/src", "dotdo-runtime/src", "dotdo-middleware/src"]
        .iter()
        .map(|dir| root.join(dir))
        .collect();
    for parent in ["services", "templates", "tests/e2e"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                dirs.push(src);
            }
        }
    }
    dirs.push(root.join("bench/workerd/dotdo/src"));
    dotdo_policy::rust_files(dirs)
}

/// The lines of `source`'s own code (not its tests) that use one of `names`.
fn uses(source: &str, names: &[&str]) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| names.iter().any(|name| line.contains(name)))
        .map(|line| line.trim().to_owned())
        .collect()
}

fn text_parser_uses(source: &str) -> Vec<String> {
    uses(source, &TEXT_PARSERS)
}

/// The lines of worker code, outside tests and the test client, that use one of `names`.
fn worker_code_using(names: &[&str]) -> Vec<String> {
    let sources = worker_sources();
    assert!(
        sources
            .iter()
            .any(|path| path.ends_with("dotdo-runtime/src/json.rs")),
        "the runtime's sources were not found"
    );
    let mut found = Vec::new();
    for path in sources {
        // The in-process test client is for tests only (feature `testing`).
        if path.ends_with("dotdo-runtime/src/testing.rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for line in uses(&source, names) {
            found.push(format!("{}: {line}", path.display()));
        }
    }
    found
}

#[test]
fn the_check_finds_a_text_parser_in_code_and_not_in_tests_or_comments() {
    let source = "fn read(text: &str) -> Value {\n    serde_json::from_str(text).unwrap()\n}\n\
                  // serde_json::from_str would link the text parser.\n\
                  #[cfg(test)]\nmod tests { fn t() { serde_json::from_str::<u8>(\"1\"); } }\n";
    assert_eq!(
        text_parser_uses(source),
        ["serde_json::from_str(text).unwrap()"]
    );
    assert!(text_parser_uses("let value = dotdo::json::from_text(&text)?;").is_empty());
}

#[test]
fn worker_code_reads_json_text_through_the_byte_parser() {
    let found = worker_code_using(&TEXT_PARSERS);
    assert!(
        found.is_empty(),
        "read JSON text with dotdo::json::from_text (dotdo_runtime::json::from_text inside the \
         framework), not serde_json's text parser, and pass JSON on as dotdo::json::JsonText, \
         not RawValue:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_another_value_decoder() {
    assert_eq!(
        uses(
            "let row: Row = serde_json::from_value(value)?;",
            &VALUE_DECODERS
        ),
        ["let row: Row = serde_json::from_value(value)?;"]
    );
    assert!(
        uses(
            "let row: Row = dotdo::json::from_value(value)?;",
            &VALUE_DECODERS
        )
        .is_empty()
    );
}

#[test]
fn worker_code_decodes_values_with_dotdos_from_value() {
    let found = worker_code_using(&VALUE_DECODERS);
    assert!(
        found.is_empty(),
        "decode a serde_json::Value with dotdo::json::from_value (crate::json::from_value inside \
         the framework), which names the path of an error and compiles each type's decoding \
         once:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_manifest_turns_on_serde_jsons_raw_value_feature() {
    let root = repository();
    let mut manifests = vec![root.join("Cargo.toml")];
    for parent in ["services", "templates", "tests/e2e", "bench/workerd"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap() {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            if manifest.is_file() {
                manifests.push(manifest);
            }
        }
    }
    for crate_dir in ["dotdo", "dotdo-runtime", "dotdo-middleware"] {
        manifests.push(root.join(crate_dir).join("Cargo.toml"));
    }
    let turned_on: Vec<_> = manifests
        .iter()
        .filter(|manifest| {
            std::fs::read_to_string(manifest)
                .unwrap()
                .contains("raw_value")
        })
        .map(|manifest| manifest.display().to_string())
        .collect();
    assert!(
        manifests.len() > 10 && turned_on.is_empty(),
        "serde_json's `raw_value` feature links its text parser into every worker: {turned_on:?}"
    );
}

#[test]
fn worker_code_parses_json_into_values_and_decodes_them_with_from_value() {
    // The module that parses (into values, and to check that text is JSON) is the exception.
    let found: Vec<String> = worker_code_using(&BYTE_PARSERS)
        .into_iter()
        .filter(|line| !line.contains("dotdo-runtime/src/json.rs: "))
        .collect();
    assert!(
        found.is_empty(),
        "parse JSON with dotdo::json::parse or decode it with dotdo::json::from_text: serde_json's \
         typed parsing compiles each type's decoding again, and its errors bring Rust's float \
         formatting (10 KiB of every worker, docs/performance.md, thirteenth pass):\n{}",
        found.join("\n")
    );
}
