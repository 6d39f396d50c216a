//! A service with only some of the interfaces: the others are not served (404, as any unknown
//! path), and are known absent at compile time, so the worker carries none of their code.

use dotdo::prelude::*;
use dotdo::testing::TestClient;
use dotdo::{McpFeatures, Service};
use futures_executor::block_on;
use serde_json::{Value, json};

pub struct RpcOnly;

/// Answers over JSON-RPC only.
#[dotdo::service]
impl RpcOnly {
    /// Says hello.
    #[rpc]
    pub async fn hello(&self, name: String) -> Result<String, dotdo::Error> {
        Ok(format!("hello, {name}"))
    }
}

pub struct ToolOnly;

/// Answers over MCP only.
#[dotdo::service]
impl ToolOnly {
    /// Says hello.
    #[mcp_tool(read_only)]
    pub async fn hello(&self, name: String) -> Result<String, dotdo::Error> {
        Ok(format!("hello, {name}"))
    }
}

pub struct RouteOnly;

/// Answers over HTTP only.
#[dotdo::service]
impl RouteOnly {
    /// Says hello.
    #[http(get = "/hello/:name")]
    pub async fn hello(&self, name: String) -> Result<String, dotdo::Error> {
        Ok(format!("hello, {name}"))
    }
}

/// The problem a path none of the interfaces serves gets.
async fn assert_not_served<S: Service>(client: &TestClient<S>, method: http::Method, path: &str) {
    let response = client
        .request(method.clone(), path)
        .header("content-type", "application/json")
        .body(b"{}".to_vec())
        .await;
    assert_eq!(response.status(), 404, "{method} {path}");
    let problem: Value = response.json();
    assert_eq!(
        problem["detail"],
        format!("no route for `{path}`"),
        "{problem}"
    );
    assert!(response.header("x-request-id").is_some(), "{method} {path}");
}

/// Routes, RPC, MCP: as the macro declared them.
fn interfaces<S: Service>() -> [bool; 3] {
    [S::HAS_ROUTES, S::HAS_RPC, S::HAS_MCP]
}

#[test]
fn the_macro_tells_which_interfaces_a_service_has() {
    assert_eq!(interfaces::<RpcOnly>(), [false, true, false]);
    assert_eq!(interfaces::<ToolOnly>(), [false, false, true]);
    assert_eq!(interfaces::<RouteOnly>(), [true, false, false]);
}

#[test]
fn an_rpc_only_service_answers_rpc_and_nothing_else() {
    block_on(async {
        let client = TestClient::new(RpcOnly).as_principal("u1", "user");
        let greeting: String = client.rpc("hello", json!({"name": "ada"})).await.unwrap();
        assert_eq!(greeting, "hello, ada");
        assert_not_served(&client, http::Method::GET, "/hello/ada").await;
        assert_not_served(&client, http::Method::GET, "/openapi.json").await;
        assert_not_served(&client, http::Method::GET, "/docs").await;
        assert_not_served(&client, http::Method::POST, "/mcp").await;
    });
}

#[test]
fn a_tool_only_service_answers_mcp_and_nothing_else() {
    block_on(async {
        let client = TestClient::new(ToolOnly).as_principal("u1", "user");
        let result = client
            .mcp_call("hello", json!({"name": "ada"}))
            .await
            .unwrap();
        assert_eq!(result["content"][0]["text"], "\"hello, ada\"", "{result}");
        assert_not_served(&client, http::Method::POST, "/_rpc").await;
        assert_not_served(&client, http::Method::GET, "/openapi.json").await;
        assert_not_served(&client, http::Method::GET, "/").await;
    });
}

#[test]
fn the_macro_tells_which_mcp_features_a_service_offers() {
    let tools_only = McpFeatures {
        tools: true,
        resources: false,
        prompts: false,
        completions: false,
        // `hello` takes no `&Context`: no call can notify or ask for input.
        context: false,
    };
    assert_eq!(ToolOnly::MCP_FEATURES, tools_only);
    let none = McpFeatures {
        tools: false,
        ..tools_only
    };
    assert_eq!(RouteOnly::MCP_FEATURES, none);
    assert_eq!(RpcOnly::MCP_FEATURES, none);
}

#[test]
fn a_tool_only_service_refuses_the_mcp_features_it_does_not_offer() {
    block_on(async {
        let client = TestClient::new(ToolOnly).as_principal("u1", "user");
        let initialized = client
            .mcp(
                json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                    "protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"}
                }}),
            )
            .await
            .json::<Value>();
        let capabilities = &initialized["result"]["capabilities"];
        assert!(capabilities["tools"].is_object(), "{initialized}");
        for feature in ["resources", "prompts", "completions"] {
            assert!(
                capabilities.get(feature).is_none(),
                "{feature}: {initialized}"
            );
        }
        let calls = [
            ("resources/list", json!({})),
            ("resources/templates/list", json!({})),
            ("resources/read", json!({"uri": "docs://rules"})),
            ("prompts/list", json!({})),
            ("prompts/get", json!({"name": "summary"})),
            (
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "summary"},
                       "argument": {"name": "id", "value": "1"}}),
            ),
        ];
        for (method, params) in calls {
            let answer = client
                .mcp(json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params}))
                .await
                .json::<Value>();
            assert_eq!(answer["error"]["code"], -32601, "{method}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("offers no such feature"),
                "{method}: {answer}"
            );
        }
        assert_eq!(client.mcp_tools().await.len(), 1);
    });
}

/// A 2026-07-28 `tools/call` of `hello` to a tool-only service, with `extra` params.
async fn modern_hello(client: &TestClient<ToolOnly>, extra: Value) -> Value {
    let mut params = json!({
        "name": "hello",
        "arguments": {"name": "ada"},
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        },
    });
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        params[key] = value;
    }
    client
        .post("/mcp")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "hello")
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}))
        .await
        .json()
}

#[test]
fn a_service_whose_calls_cannot_ask_for_input_refuses_any_request_state() {
    block_on(async {
        let client = TestClient::new(ToolOnly).as_principal("u1", "user");
        let answered = modern_hello(&client, json!({})).await;
        assert_eq!(answered["result"]["resultType"], "complete", "{answered}");
        let cases = [
            (
                json!({"requestState": "abc.def", "inputResponses": {}}),
                "invalid `requestState`: it was not issued by this server, or was changed",
            ),
            (
                json!({"requestState": 7}),
                "invalid `requestState`: it must be the string the server returned",
            ),
            (
                json!({"inputResponses": {"confirm": {"action": "accept"}}}),
                "`inputResponses` answer a `requestState`",
            ),
            (
                json!({"inputResponses": "yes"}),
                "`inputResponses` must be an object",
            ),
        ];
        for (extra, expected) in cases {
            let answer = modern_hello(&client, extra.clone()).await;
            assert_eq!(answer["error"]["code"], -32602, "{extra}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(expected), "{extra}: {answer}");
        }
    });
}

#[test]
fn a_route_only_service_answers_its_routes_and_nothing_else() {
    block_on(async {
        let client = TestClient::new(RouteOnly).as_principal("u1", "user");
        let response = client.get("/hello/ada").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<String>(), "hello, ada");
        assert_eq!(client.get("/openapi.json").await.status(), 200);
        assert_not_served(&client, http::Method::POST, "/_rpc").await;
        assert_not_served(&client, http::Method::POST, "/mcp").await;
        assert_not_served(
            &client,
            http::Method::GET,
            "/.well-known/mcp/server-card.json",
        )
        .await;
    });
}
