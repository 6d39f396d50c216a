//! Documents rendered before the build (`documents = "dir"` on `#[dotdo::service]`): the
//! OpenAPI document and the MCP `tools/list` entries, written as files beside the service by a
//! native test and embedded in its wasm build, which then carries none of the schema code that
//! renders them. The test the macro adds fails when a file differs from what the code renders
//! (`DOTDO_BLESS=1` rewrites them), as a checked-in `rpc.d.ts` does.

use crate::describe::Documents;

/// The files under a service's documents directory, in the order [`check`] writes them.
pub use dotdo_routes::documents::{
    INTERFACE_HASH_FILE, MCP_TOOLS_EXACT_FILE, MCP_TOOLS_FILE, OPENAPI_FILE, OPENAPI_PRIVATE_FILE,
};

impl Documents {
    /// The OpenAPI document's text; with `private`, the one listing the routes under `/_`.
    pub fn openapi(&self, private: bool) -> &'static str {
        if private {
            self.openapi_private
        } else {
            self.openapi
        }
    }

    /// The `tools/list` entries: with client-friendly schemas, or (`exact`) as JSON Schema
    /// 2020-12 states the types. Read once per isolate by the MCP front end.
    pub(crate) fn mcp_tools(&self, exact: bool) -> Vec<serde_json::Value> {
        let text = if exact {
            self.mcp_tools_exact
        } else {
            self.mcp_tools
        };
        match crate::json::parse(text) {
            Ok(serde_json::Value::Array(tools)) => tools,
            // The macro embeds what `check` wrote, which is always an array.
            _ => Vec::new(),
        }
    }
}

/// What a service's documents directory holds, rendered from its description: each file's name
/// and text, or `None` for a file the service has no use for (no routes, no tools).
#[cfg(not(target_arch = "wasm32"))]
pub fn render<S: crate::Service>() -> [(&'static str, Option<String>); 4] {
    let description = S::description();
    let pretty = |value: &serde_json::Value| {
        let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
        text.push('\n');
        text
    };
    let routes = S::HAS_ROUTES && !description.routes.is_empty();
    let tools = description.has_tools();
    let tool_list = |exact: bool| {
        pretty(&serde_json::Value::Array(
            description.mcp_tools(exact).to_vec(),
        ))
    };
    [
        (
            OPENAPI_FILE,
            routes.then(|| pretty(&description.openapi(false))),
        ),
        (
            OPENAPI_PRIVATE_FILE,
            routes.then(|| pretty(&description.openapi(true))),
        ),
        (MCP_TOOLS_FILE, tools.then(|| tool_list(false))),
        (MCP_TOOLS_EXACT_FILE, tools.then(|| tool_list(true))),
    ]
}

/// Fails when the files under `dir` differ from what the service's code renders (or were written
/// for another `interface_hash`), or when one the service no longer needs is left; with
/// `DOTDO_BLESS=1` in the environment writes (and removes) them instead.
/// `#[dotdo::service(documents = "dir")]` adds a unit test that calls it.
#[cfg(not(target_arch = "wasm32"))]
pub fn check<S: crate::Service>(dir: &str, interface_hash: &str) {
    check_or_write::<S>(dir, interface_hash, bless_requested());
}

/// Whether `DOTDO_BLESS` is set: checked files are written rather than compared.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn bless_requested() -> bool {
    std::env::var_os("DOTDO_BLESS").is_some()
}

/// Passes when the file at `path` holds `wanted`; with `bless` writes `wanted` there instead;
/// else fails saying what differs (here and for `dotdo::testing`'s checked files).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn check_or_bless(
    path: &str,
    current: &str,
    wanted: &str,
    bless: bool,
    differs: impl FnOnce() -> String,
) {
    if current == wanted {
        return;
    }
    if bless {
        std::fs::write(path, wanted).unwrap_or_else(|error| panic!("{path}: {error}"));
        return;
    }
    panic!(
        "{path} {}\nRerun with DOTDO_BLESS=1 to update it.",
        differs()
    );
}

/// [`check`], told whether to write the files rather than read from the environment.
#[cfg(not(target_arch = "wasm32"))]
pub fn check_or_write<S: crate::Service>(dir: &str, interface_hash: &str, bless: bool) {
    if bless {
        std::fs::create_dir_all(dir).unwrap_or_else(|error| panic!("{dir}: {error}"));
    }
    let hash = (INTERFACE_HASH_FILE, Some(format!("{interface_hash}\n")));
    for (name, wanted) in render::<S>().into_iter().chain([hash]) {
        let path = format!("{dir}/{name}");
        let current = std::fs::read_to_string(&path).ok();
        match wanted {
            Some(wanted) => check_or_bless(
                &path,
                current.as_deref().unwrap_or(""),
                &wanted,
                bless,
                || match current {
                    None => "is missing (the wasm build embeds it)".to_owned(),
                    Some(_) => format!(
                        "differs from what the service's code renders.\nexpected:\n{wanted}"
                    ),
                },
            ),
            None if current.is_some() && bless => {
                std::fs::remove_file(&path).unwrap_or_else(|error| panic!("{path}: {error}"));
            }
            None if current.is_some() => panic!(
                "{path} is no longer served by this service (it has no routes or no tools): delete it, or rerun with DOTDO_BLESS=1"
            ),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DOCUMENTS: Documents = Documents {
        openapi: r#"{"openapi": "3.1.0"}"#,
        openapi_private: r#"{"openapi": "3.1.0", "paths": {"/_/a": {}}}"#,
        mcp_tools: r#"[{"name": "a"}, {"name": "b"}]"#,
        mcp_tools_exact: r#"[{"name": "a", "outputSchema": {"type": "object"}}, {"name": "b"}]"#,
    };

    #[test]
    fn the_private_document_is_the_admins() {
        assert_eq!(DOCUMENTS.openapi(false), DOCUMENTS.openapi);
        assert_eq!(DOCUMENTS.openapi(true), DOCUMENTS.openapi_private);
    }

    #[test]
    fn tool_lists_are_read_in_either_form() {
        assert_eq!(
            DOCUMENTS.mcp_tools(false),
            [json!({"name": "a"}), json!({"name": "b"})]
        );
        assert_eq!(
            DOCUMENTS.mcp_tools(true),
            [
                json!({"name": "a", "outputSchema": {"type": "object"}}),
                json!({"name": "b"})
            ]
        );
    }

    #[test]
    fn a_list_that_is_not_an_array_lists_nothing() {
        let documents = Documents {
            mcp_tools: "{}",
            mcp_tools_exact: "not json",
            ..DOCUMENTS
        };
        assert!(documents.mcp_tools(false).is_empty());
        assert!(documents.mcp_tools(true).is_empty());
    }
}
