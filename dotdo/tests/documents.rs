//! `documents = "dir"`: the OpenAPI document and the `tools/list` entries rendered natively into
//! files that the wasm build embeds. The macro adds a unit test checking them (it runs here too:
//! `dotdo_documents_of_Catalog_are_current`, against `tests/documents/catalog/`); these tests
//! check what that test writes and refuses. The wasm side (the files served, the compile errors
//! for missing or stale files) is tested on workerd and by `tests/e2e/templates.test.mjs`.

use std::path::PathBuf;

use dotdo::Service;
use dotdo::documents::{
    INTERFACE_HASH_FILE, MCP_TOOLS_EXACT_FILE, MCP_TOOLS_FILE, OPENAPI_FILE, OPENAPI_PRIVATE_FILE,
    check_or_write, render,
};
use dotdo::prelude::*;
use serde_json::Value;

pub struct Catalog;

/// A catalogue whose documents are rendered before the build.
#[dotdo::service(documents = "tests/documents/catalog")]
impl Catalog {
    /// Fetch one item.
    #[http(get = "/items/:id")]
    #[mcp_tool(read_only)]
    pub async fn get_item(&self, id: String) -> Result<String, dotdo::Error> {
        Ok(id)
    }

    /// Remove every item (admins only, under `/_`).
    #[http(post = "/_/purge", role = "admin")]
    pub async fn purge(&self) -> Result<(), dotdo::Error> {
        Ok(())
    }

    /// Count the items, with structured content.
    #[mcp_tool(read_only)]
    pub async fn count(&self) -> Result<Count, dotdo::Error> {
        Ok(Count { items: 0 })
    }
}

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Count {
    items: u32,
}

pub struct RpcOnly;

/// Neither routes nor tools: no document but the interface hash.
#[dotdo::service(documents = "tests/documents/rpc-only")]
impl RpcOnly {
    /// Says hello.
    #[rpc]
    pub async fn hello(&self) -> Result<String, dotdo::Error> {
        Ok("hello".into())
    }
}

/// A fresh directory of this test's own under the target directory.
fn scratch(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("documents-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir.to_string_lossy().into_owned()
}

fn read(dir: &str, name: &str) -> Option<String> {
    std::fs::read_to_string(format!("{dir}/{name}")).ok()
}

fn panic_message(run: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(run).expect_err("the check should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| {
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
        })
        .unwrap_or_default()
}

#[test]
fn writing_renders_each_document_from_the_description_and_the_hash() {
    let dir = scratch("write");
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    let description = Catalog::description();
    let json = |name| serde_json::from_str::<Value>(&read(&dir, name).unwrap()).unwrap();
    assert_eq!(json(OPENAPI_FILE), description.openapi(false));
    assert_eq!(json(OPENAPI_PRIVATE_FILE), description.openapi(true));
    assert_eq!(
        json(MCP_TOOLS_FILE),
        Value::from(description.mcp_tools(false))
    );
    assert_eq!(
        json(MCP_TOOLS_EXACT_FILE),
        Value::from(description.mcp_tools(true))
    );
    assert_eq!(
        read(&dir, INTERFACE_HASH_FILE).unwrap(),
        "0123456789abcdef\n"
    );
    // Only an admin's document lists the route under `/_`.
    assert!(json(OPENAPI_FILE)["paths"].get("/_/purge").is_none());
    assert!(
        json(OPENAPI_PRIVATE_FILE)["paths"]
            .get("/_/purge")
            .is_some()
    );
    // Pretty, one line per field and a final newline, for reviewable diffs.
    let text = read(&dir, OPENAPI_FILE).unwrap();
    assert!(
        text.starts_with("{\n  \"") && text.ends_with("}\n"),
        "{text}"
    );
    // What was written passes the check.
    check_or_write::<Catalog>(&dir, "0123456789abcdef", false);
}

#[test]
fn a_missing_document_fails_the_check_saying_how_to_write_it() {
    let dir = scratch("missing");
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    std::fs::remove_file(format!("{dir}/{MCP_TOOLS_FILE}")).unwrap();
    let message = panic_message(|| check_or_write::<Catalog>(&dir, "0123456789abcdef", false));
    assert!(
        message.contains(&format!("{MCP_TOOLS_FILE} is missing")),
        "{message}"
    );
    assert!(message.contains("DOTDO_BLESS=1"), "{message}");
}

#[test]
fn a_stale_document_fails_the_check_showing_what_the_code_renders() {
    let dir = scratch("stale");
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    let path = format!("{dir}/{OPENAPI_FILE}");
    let edited = read(&dir, OPENAPI_FILE)
        .unwrap()
        .replace("Fetch one item.", "Fetch an item.");
    std::fs::write(&path, edited).unwrap();
    let message = panic_message(|| check_or_write::<Catalog>(&dir, "0123456789abcdef", false));
    assert!(
        message.contains("differs from what the service's code renders"),
        "{message}"
    );
    assert!(message.contains("Fetch one item."), "{message}");
    // Writing puts it right.
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    check_or_write::<Catalog>(&dir, "0123456789abcdef", false);
}

#[test]
fn documents_written_for_another_interface_fail_the_check() {
    let dir = scratch("hash");
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    let message = panic_message(|| check_or_write::<Catalog>(&dir, "fedcba9876543210", false));
    assert!(message.contains(INTERFACE_HASH_FILE), "{message}");
    assert!(message.contains("fedcba9876543210"), "{message}");
}

#[test]
fn a_document_the_service_no_longer_serves_is_refused_and_removed_by_writing() {
    let dir = scratch("leftover");
    check_or_write::<Catalog>(&dir, "0123456789abcdef", true);
    // The same directory for a service without routes or tools.
    let message = panic_message(|| check_or_write::<RpcOnly>(&dir, "0123456789abcdef", false));
    assert!(message.contains("is no longer served"), "{message}");
    check_or_write::<RpcOnly>(&dir, "0123456789abcdef", true);
    for name in [
        OPENAPI_FILE,
        OPENAPI_PRIVATE_FILE,
        MCP_TOOLS_FILE,
        MCP_TOOLS_EXACT_FILE,
    ] {
        assert_eq!(read(&dir, name), None, "{name}");
    }
    assert_eq!(
        read(&dir, INTERFACE_HASH_FILE).unwrap(),
        "0123456789abcdef\n"
    );
}

#[test]
fn a_service_without_routes_or_tools_renders_no_document() {
    assert!(render::<RpcOnly>().iter().all(|(_, text)| text.is_none()));
}
