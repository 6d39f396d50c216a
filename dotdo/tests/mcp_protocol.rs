//! The MCP transport and lifecycle rules, one test per rule, for the legacy revisions
//! (2025-03-26, 2025-06-18, 2025-11-25) and the modern stateless one (2026-07-28).

mod fixtures;

use dotdo::config::Environment;
use dotdo::mcp::{AllowedHosts, AllowedOrigins, HEADER_MISMATCH, UNSUPPORTED_PROTOCOL_VERSION};
use dotdo::testing::{TestClient, TestResponse};
use fixtures::items::{Items, widget};
use futures_executor::block_on;
use serde_json::{Value, json};

fn client() -> TestClient<Items> {
    TestClient::new(Items::with_items([widget()]))
}

/// A legacy request with the given protocol version header (none when `None`).
async fn legacy(client: &TestClient<Items>, version: Option<&str>, body: Value) -> TestResponse {
    let mut request = client
        .post("/mcp")
        .header("accept", "application/json, text/event-stream");
    if let Some(version) = version {
        request = request.header("mcp-protocol-version", version);
    }
    request.json(&body).await
}

fn meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    })
}

/// A modern request: `_meta` in the body and the mirrored headers, each overridable.
async fn modern(
    client: &TestClient<Items>,
    method: &str,
    mut params: Value,
    headers: &[(&str, &str)],
) -> TestResponse {
    params["_meta"] = meta("2026-07-28");
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let name = params.get("name").and_then(Value::as_str);
    let defaults = [
        ("mcp-protocol-version", Some("2026-07-28")),
        ("mcp-method", Some(method)),
        ("mcp-name", name),
    ];
    // JSON only: a call's answer is then one JSON message (mcp_features tests the streams).
    let mut request = client.post("/mcp").header("accept", "application/json");
    for (header, value) in defaults {
        let overridden = headers
            .iter()
            .find(|(name, _)| *name == header)
            .map(|(_, value)| *value);
        if let Some(value) = overridden.or(value) {
            request = request.header(header, value);
        }
    }
    request.json(&body).await
}

mod legacy_era {
    use super::*;

    #[test]
    fn initialize_echoes_a_supported_requested_version() {
        block_on(async {
            for version in dotdo::mcp::SUPPORTED_VERSIONS {
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": version}});
                let answer: Value = legacy(&client(), None, body).await.json();
                assert_eq!(answer["result"]["protocolVersion"], *version);
            }
        });
    }

    #[test]
    fn initialize_answers_the_latest_legacy_version_for_an_unknown_or_modern_one() {
        block_on(async {
            for requested in ["1999-01-01", "2026-07-28"] {
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": requested}});
                let answer: Value = legacy(&client(), None, body).await.json();
                assert_eq!(answer["result"]["protocolVersion"], "2025-11-25");
            }
        });
    }

    #[test]
    fn server_info_has_name_title_and_version_and_instructions_come_from_the_docs() {
        block_on(async {
            let body = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}});
            let answer: Value = legacy(&client(), None, body).await.json();
            let result = &answer["result"];
            assert_eq!(result["serverInfo"]["name"], "Items");
            assert_eq!(result["serverInfo"]["title"], "Items");
            assert!(result["serverInfo"]["version"].is_string());
            assert_eq!(
                result["instructions"],
                "Items: a catalogue of things with prices."
            );
            assert_eq!(
                result["capabilities"]["tools"],
                json!({"listChanged": false})
            );
        });
    }

    #[test]
    fn a_missing_protocol_version_header_means_2025_03_26_which_allows_batches() {
        block_on(async {
            let batch = json!([
                {"jsonrpc": "2.0", "id": 1, "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "ping"},
            ]);
            let response = legacy(&client(), None, batch).await;
            assert_eq!(response.status(), 200);
            let answers: Value = response.json();
            assert_eq!(
                answers,
                json!([{"jsonrpc": "2.0", "id": 1, "result": {}}, {"jsonrpc": "2.0", "id": 2, "result": {}}])
            );
        });
    }

    #[test]
    fn a_batch_over_the_limit_is_refused_whole_with_400() {
        block_on(async {
            let pings: Vec<Value> = (0..21)
                .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "ping"}))
                .collect();
            let response = legacy(&client(), None, Value::Array(pings)).await;
            assert_eq!(response.status(), 400);
            let answer: Value = response.json();
            assert_eq!(answer["error"]["code"], -32600);
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("at most 20"),
                "{answer}"
            );
            let pings: Vec<Value> = (0..20)
                .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "ping"}))
                .collect();
            let response = legacy(&client(), None, Value::Array(pings)).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.json::<Value>().as_array().unwrap().len(), 20);
        });
    }

    #[test]
    fn batches_are_refused_from_2025_06_18_on() {
        block_on(async {
            let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]);
            let response = legacy(&client(), Some("2025-06-18"), batch).await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], -32600);
        });
    }

    #[test]
    fn an_unsupported_protocol_version_header_is_400() {
        block_on(async {
            let response = legacy(
                &client(),
                Some("2024-01-01"),
                json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
            )
            .await;
            assert_eq!(response.status(), 400);
            assert!(
                response.text().contains("2025-11-25"),
                "names the supported versions: {}",
                response.text()
            );
        });
    }

    #[test]
    fn a_modern_version_header_without_meta_is_a_header_mismatch() {
        block_on(async {
            let response = legacy(
                &client(),
                Some("2026-07-28"),
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            )
            .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], HEADER_MISMATCH);
        });
    }

    #[test]
    fn notifications_and_client_responses_get_202_without_a_body() {
        block_on(async {
            for message in [
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                json!({"jsonrpc": "2.0", "id": 9, "result": {}}),
            ] {
                let response = legacy(&client(), Some("2025-11-25"), message).await;
                assert_eq!(response.status(), 202);
                assert!(response.bytes().is_empty());
            }
        });
    }

    #[test]
    fn ping_gets_an_empty_result() {
        block_on(async {
            let answer: Value = legacy(
                &client(),
                Some("2025-06-18"),
                json!({"jsonrpc": "2.0", "id": "p", "method": "ping"}),
            )
            .await
            .json();
            assert_eq!(answer["result"], json!({}));
        });
    }

    #[test]
    fn mcp_session_id_is_ignored() {
        block_on(async {
            let response = client()
                .post("/mcp")
                .header("mcp-session-id", "stale-session")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                .await;
            assert_eq!(response.status(), 200);
            assert!(response.header("mcp-session-id").is_none());
        });
    }
}

mod transport {
    use super::*;

    #[test]
    fn json_is_answered_whenever_json_is_acceptable() {
        block_on(async {
            for accept in [
                "application/json, text/event-stream",
                "application/json",
                "*/*",
            ] {
                let response = client()
                    .post("/mcp")
                    .header("accept", accept)
                    .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                    .await;
                assert_eq!(
                    response.header("content-type"),
                    Some("application/json"),
                    "{accept}"
                );
            }
        });
    }

    #[test]
    fn an_event_stream_is_answered_when_only_sse_is_acceptable() {
        block_on(async {
            let response = client()
                .post("/mcp")
                .header("accept", "text/event-stream")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                .await;
            assert_eq!(response.header("content-type"), Some("text/event-stream"));
            assert_eq!(
                response.text(),
                "event: message\ndata: {\"id\":1,\"jsonrpc\":\"2.0\",\"result\":{}}\n\n"
            );
        });
    }

    #[test]
    fn neither_json_nor_sse_acceptable_is_406() {
        block_on(async {
            let response = client()
                .post("/mcp")
                .header("accept", "text/html")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                .await;
            assert_eq!(response.status(), 406);
        });
    }

    #[test]
    fn get_and_delete_are_405_with_allow_post() {
        block_on(async {
            for method in [http::Method::GET, http::Method::DELETE] {
                let response = client().request(method, "/mcp").await;
                assert_eq!(response.status(), 405);
                assert_eq!(response.header("allow"), Some("POST"));
            }
        });
    }

    #[test]
    fn a_foreign_origin_is_403() {
        block_on(async {
            let response = client()
                .post("/mcp")
                .header("origin", "https://evil.example")
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
                .await;
            assert_eq!(response.status(), 403);
        });
    }

    #[test]
    fn localhost_is_allowed_in_local_development_and_a_rebinding_page_never() {
        block_on(async {
            let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
            let local = client()
                .post("/mcp")
                .header("origin", "http://localhost:6274")
                .header("host", "127.0.0.1:8787")
                .json(&ping)
                .await;
            assert_eq!(local.status(), 200);
            // DNS rebinding: the attacker's name now points here; Origin equals Host.
            for client in [client(), client().with_extension(Environment::Production)] {
                let rebound = client
                    .post("/mcp")
                    .header("origin", "http://evil.example:8787")
                    .header("host", "evil.example:8787")
                    .json(&ping)
                    .await;
                assert_eq!(rebound.status(), 403, "{}", rebound.text());
                assert!(
                    rebound.text().contains("MCP_ALLOWED_"),
                    "says what to configure"
                );
            }
        });
    }

    #[test]
    fn deployed_services_pin_their_hostnames_and_refuse_localhost_origins() {
        block_on(async {
            let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
            let production = client()
                .with_extension(Environment::Production)
                .with_extension(AllowedHosts(vec!["items.example.com".into()]));
            let ok = production
                .post("/mcp")
                .header("host", "items.example.com")
                .json(&ping)
                .await;
            assert_eq!(ok.status(), 200);
            let other = production
                .post("/mcp")
                .header("host", "items.evil.example")
                .json(&ping)
                .await;
            assert_eq!(other.status(), 403);
            let localhost = production
                .post("/mcp")
                .header("host", "items.example.com")
                .header("origin", "http://localhost:6274")
                .json(&ping)
                .await;
            assert_eq!(
                localhost.status(),
                403,
                "localhost origins are for local development"
            );
        });
    }

    #[test]
    fn configured_origins_are_allowed() {
        block_on(async {
            let client =
                client().with_extension(AllowedOrigins(vec!["https://app.example.com".into()]));
            let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
            let allowed = client
                .post("/mcp")
                .header("origin", "https://app.example.com")
                .json(&ping)
                .await;
            assert_eq!(allowed.status(), 200);
            let other = client
                .post("/mcp")
                .header("origin", "https://other.example.com")
                .json(&ping)
                .await;
            assert_eq!(other.status(), 403);
        });
    }

    #[test]
    fn a_body_that_is_not_json_is_a_parse_error() {
        block_on(async {
            let response = client()
                .post("/mcp")
                .header("content-type", "application/json")
                .body("{nope")
                .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], -32700);
        });
    }
}

mod tools {
    use super::*;

    #[test]
    fn tools_list_is_paginated_with_an_opaque_cursor_in_a_stable_order() {
        block_on(async {
            let first = client().mcp_tools().await;
            let second = client().mcp_tools().await;
            assert_eq!(first, second);
            let answer: Value = client().mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": "nope"}})).await.json();
            assert_eq!(answer["error"]["code"], -32602);
        });
    }

    #[test]
    fn a_tool_without_arguments_has_a_closed_empty_object_schema() {
        block_on(async {
            let tools = client().mcp_tools_as("2025-06-18").await;
            let whoami = tools.iter().find(|tool| tool["name"] == "whoami").unwrap();
            assert_eq!(
                whoami["inputSchema"],
                json!({"type": "object", "additionalProperties": false})
            );
        });
    }

    #[test]
    fn schemas_carry_no_rust_width_formats() {
        block_on(async {
            let tools = client().mcp_tools().await;
            let text = serde_json::to_string(&tools).unwrap();
            assert!(
                !text.contains("uint32") && !text.contains("int64"),
                "{text}"
            );
        });
    }
}

mod modern_era {
    use super::*;

    #[test]
    fn server_discover_lists_versions_capabilities_and_cache_hints() {
        block_on(async {
            let response = modern(&client(), "server/discover", json!({}), &[]).await;
            assert_eq!(response.status(), 200);
            let result = &response.json::<Value>()["result"];
            assert_eq!(
                result["supportedVersions"],
                json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
            );
            assert_eq!(
                result["capabilities"],
                json!({"logging": {}, "tools": {"listChanged": false}})
            );
            assert_eq!(result["resultType"], "complete");
            assert_eq!(result["cacheScope"], "public");
            assert!(result["ttlMs"].as_u64().unwrap() > 0);
            assert_eq!(
                result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
                "Items"
            );
            assert_eq!(
                result["instructions"],
                "Items: a catalogue of things with prices."
            );
        });
    }

    #[test]
    fn tools_list_is_complete_and_cacheable() {
        block_on(async {
            let result = modern(&client(), "tools/list", json!({}), &[])
                .await
                .json::<Value>()["result"]
                .clone();
            assert_eq!(result["resultType"], "complete");
            assert_eq!(result["cacheScope"], "public");
            assert!(result["ttlMs"].is_u64());
            assert_eq!(result["tools"].as_array().unwrap().len(), 6);
        });
    }

    #[test]
    fn tools_call_is_complete_and_not_cacheable() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/call",
                json!({"name": "get_item", "arguments": {"id": "w1"}}),
                &[],
            )
            .await;
            let result = &response.json::<Value>()["result"];
            assert_eq!(result["resultType"], "complete");
            assert_eq!(result["structuredContent"]["name"], "widget");
            assert!(result.get("ttlMs").is_none());
        });
    }

    #[test]
    fn a_base64_encoded_mcp_name_is_decoded_before_comparing() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/call",
                json!({"name": "get_item", "arguments": {"id": "w1"}}),
                &[("mcp-name", "=?base64?Z2V0X2l0ZW0=?=")],
            )
            .await;
            assert_eq!(response.status(), 200, "{}", response.text());
        });
    }

    #[test]
    fn a_mismatched_mcp_method_header_is_400_header_mismatch() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/list",
                json!({}),
                &[("mcp-method", "tools/call")],
            )
            .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], HEADER_MISMATCH);
        });
    }

    #[test]
    fn a_mismatched_mcp_name_header_is_400_header_mismatch() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/call",
                json!({"name": "get_item", "arguments": {"id": "w1"}}),
                &[("mcp-name", "delete_item")],
            )
            .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], HEADER_MISMATCH);
        });
    }

    #[test]
    fn a_protocol_version_header_that_differs_from_meta_is_400_header_mismatch() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/list",
                json!({}),
                &[("mcp-protocol-version", "2025-11-25")],
            )
            .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], HEADER_MISMATCH);
        });
    }

    #[test]
    fn an_unsupported_modern_version_is_400_listing_the_supported_ones() {
        block_on(async {
            let mut params = json!({});
            params["_meta"] = meta("2099-01-01");
            let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": params});
            let response = client()
                .post("/mcp")
                .header("mcp-protocol-version", "2099-01-01")
                .header("mcp-method", "tools/list")
                .json(&body)
                .await;
            assert_eq!(response.status(), 400);
            let error = &response.json::<Value>()["error"];
            assert_eq!(error["code"], UNSUPPORTED_PROTOCOL_VERSION);
            assert_eq!(error["data"]["requested"], "2099-01-01");
            assert!(
                error["data"]["supported"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("2026-07-28"))
            );
        });
    }

    #[test]
    fn an_unknown_method_is_404_method_not_found() {
        block_on(async {
            for method in ["resources/list", "initialize", "ping"] {
                let response = modern(&client(), method, json!({}), &[]).await;
                assert_eq!(response.status(), 404, "{method}");
                assert_eq!(response.json::<Value>()["error"]["code"], -32601);
            }
        });
    }

    #[test]
    fn missing_client_capabilities_are_400() {
        block_on(async {
            let body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}});
            let response = client()
                .post("/mcp")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/list")
                .json(&body)
                .await;
            assert_eq!(response.status(), 400);
            assert_eq!(response.json::<Value>()["error"]["code"], -32602);
        });
    }

    #[test]
    fn tool_errors_are_complete_is_error_results() {
        block_on(async {
            let response = modern(
                &client(),
                "tools/call",
                json!({"name": "get_item", "arguments": {}}),
                &[],
            )
            .await;
            let result = &response.json::<Value>()["result"];
            assert_eq!(result["isError"], true);
            assert_eq!(result["resultType"], "complete");
        });
    }
}
