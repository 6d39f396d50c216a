//! MCP tools of a generated service, driven in-process (the transport and lifecycle rules are
//! in `mcp_protocol.rs`).

mod fixtures;

use dotdo::testing::TestClient;
use fixtures::items::{Items, widget};
use futures_executor::block_on;
use serde_json::{Value, json};

fn client() -> TestClient<Items> {
    TestClient::new(Items::with_items([widget()]))
}

fn tool<'a>(tools: &'a [Value], name: &str) -> &'a Value {
    tools
        .iter()
        .find(|tool| tool["name"] == name)
        .unwrap_or_else(|| panic!("no tool `{name}` in {tools:?}"))
}

#[test]
fn initialize_negotiates_the_version_and_describes_the_server() {
    block_on(async {
        let request = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}
        }});
        let answer: Value = client().mcp(request).await.json();
        let result = &answer["result"];
        assert_eq!(result["protocolVersion"], "2025-06-18");
        assert_eq!(result["serverInfo"]["name"], "Items");
        assert!(result["capabilities"]["tools"].is_object());
        assert_eq!(
            result["instructions"],
            "Items: a catalogue of things with prices."
        );
    });
}

#[test]
fn tools_list_describes_each_tool_with_a_client_friendly_schema() {
    block_on(async {
        // Clients before 2025-11-25 get the inlined form (mcp_features tests the 2020-12 one).
        let tools = client().mcp_tools_as("2025-06-18").await;
        let names: Vec<&str> = tools
            .iter()
            .map(|tool| tool["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "get_item",
                "create_item",
                "update_item",
                "delete_item",
                "whoami",
                "broken"
            ]
        );

        let get = tool(&tools, "get_item");
        assert_eq!(get["title"], "Get an item");
        assert_eq!(get["description"], "Fetch one item by id.");
        assert_eq!(get["annotations"], json!({"readOnlyHint": true}));
        assert_eq!(
            get["inputSchema"],
            json!({
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
                "additionalProperties": false,
            })
        );
        assert_eq!(get["outputSchema"]["type"], "object");
        assert!(get["outputSchema"].get("$schema").is_none());

        let update = tool(&tools, "update_item");
        assert_eq!(update["inputSchema"]["required"], json!(["id"]));
        assert_eq!(
            update["inputSchema"]["properties"]["name"],
            json!({"type": "string"})
        );

        let create = tool(&tools, "create_item");
        let schema = create["inputSchema"].to_string();
        assert!(
            !schema.contains("$ref") && !schema.contains("$defs") && !schema.contains("$schema"),
            "{schema}"
        );
        assert_eq!(
            create["inputSchema"]["properties"]["item"]["properties"]["price"]["description"],
            "Its price in cents."
        );
        assert!(create["inputSchema"]["properties"].get("ctx").is_none());

        let whoami = tool(&tools, "whoami");
        assert_eq!(
            whoami["inputSchema"],
            json!({"type": "object", "additionalProperties": false})
        );
        assert!(
            whoami.get("outputSchema").is_none(),
            "a string result has no object schema"
        );

        assert_eq!(
            tool(&tools, "delete_item")["description"],
            "Delete an item for good."
        );
    });
}

#[test]
fn tools_call_returns_text_and_structured_content() {
    block_on(async {
        let result = client()
            .mcp_call("get_item", json!({"id": "w1"}))
            .await
            .unwrap();
        assert_eq!(result["isError"], false);
        assert_eq!(result["structuredContent"]["name"], "widget");
        let text: Value =
            serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(text, result["structuredContent"]);
    });
}

#[test]
fn tool_errors_are_is_error_results() {
    block_on(async {
        let result = client()
            .mcp_call("get_item", json!({"id": "zz"}))
            .await
            .unwrap();
        assert_eq!(result["isError"], true);
        assert_eq!(result["content"][0]["text"], "not_found: no item `zz`");
    });
}

#[test]
fn arguments_that_do_not_match_the_schema_are_is_error_results_that_say_what_is_wrong() {
    block_on(async {
        let result = client()
            .mcp_call("create_item", json!({"item": {"name": "a", "price": -1}}))
            .await
            .unwrap();
        assert_eq!(result["isError"], true);
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("item.price"), "{text}");

        let result = client().mcp_call("get_item", json!({})).await.unwrap();
        assert!(
            result["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("missing required argument `id`")
        );

        let result = client()
            .mcp_call("get_item", json!({"id": "w1", "extra": 1}))
            .await
            .unwrap();
        assert!(
            result["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("unknown argument `extra`")
        );
    });
}

#[test]
fn internal_tool_errors_do_not_leak() {
    block_on(async {
        let result = client().mcp_call("broken", json!({})).await.unwrap();
        assert_eq!(result["isError"], true);
        assert!(!result.to_string().contains("hunter2"));
    });
}

#[test]
fn an_unknown_tool_is_a_32602_error() {
    block_on(async {
        let error = client().mcp_call("nope", json!({})).await.unwrap_err();
        assert_eq!(error["code"], -32602);
        assert!(error["message"].as_str().unwrap().contains("nope"));
    });
}

#[test]
fn unknown_methods_are_32601() {
    block_on(async {
        let answer: Value = client()
            .mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list"}))
            .await
            .json();
        assert_eq!(answer["error"]["code"], -32601);
    });
}

#[test]
fn the_manifest_lists_every_interface() {
    let manifest = <Items as dotdo::Service>::description().manifest();
    assert_eq!(manifest["name"], "Items");
    assert_eq!(manifest["mcp"]["tools"].as_array().unwrap().len(), 6);
    assert!(
        manifest["http"]
            .as_array()
            .unwrap()
            .iter()
            .any(|route| route["path"] == "/items/:id" && route["method"] == "GET")
    );
    assert!(
        manifest["rpc"]
            .as_array()
            .unwrap()
            .iter()
            .any(|rpc| rpc["name"] == "items.update")
    );
    assert_eq!(manifest["queue"][0]["type"], "item.created");
}
