//! The MCP server features beyond tools, each with its bad inputs: resources and templates,
//! prompts, completions, rich tool results, logging and progress (streamed as events),
//! elicitation and sampling (multi round-trip requests), 2020-12 schemas, capabilities and the
//! Server Card.

mod fixtures;

use base64::Engine as _;
use dotdo::mcp::{RESOURCE_NOT_FOUND, StateSecret};
use dotdo::testing::{TestClient, TestResponse};
use fixtures::items::Items;
use fixtures::library::{COVER, Library};
use futures_executor::block_on;
use serde_json::{Value, json};

const LEGACY: &str = "2025-11-25";

#[test]
fn a_service_with_every_feature_declares_them_all() {
    use dotdo::Service as _;
    assert_eq!(Library::MCP_FEATURES, dotdo::McpFeatures::ALL);
}
const MODERN: &str = "2026-07-28";

fn client() -> TestClient<Library> {
    TestClient::new(Library::new()).with_extension(StateSecret("dev-only-test-secret".into()))
}

/// A legacy request of `version`; `stream` asks for events (the SDKs' `Accept`) or JSON only.
async fn legacy_with(
    client: &TestClient<Library>,
    version: &str,
    method: &str,
    params: Value,
    stream: bool,
) -> TestResponse {
    let accept = if stream {
        "application/json, text/event-stream"
    } else {
        "application/json"
    };
    client
        .post("/mcp")
        .header("accept", accept)
        .header("mcp-protocol-version", version)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
        .await
}

/// The JSON-RPC answer of a legacy request answered as JSON.
async fn legacy(client: &TestClient<Library>, method: &str, params: Value) -> Value {
    legacy_with(client, LEGACY, method, params, false)
        .await
        .json()
}

fn modern_meta(capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
    })
}

/// A 2026-07-28 request with its mirrored headers, answered as JSON.
async fn modern(client: &TestClient<Library>, method: &str, mut params: Value) -> Value {
    if params.get("_meta").is_none() {
        params["_meta"] = modern_meta(json!({"elicitation": {}, "sampling": {}}));
    }
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut request = client
        .post("/mcp")
        .header("accept", "application/json")
        .header("mcp-protocol-version", MODERN)
        .header("mcp-method", method);
    if let Some(name) = &name {
        request = request.header("mcp-name", name);
    }
    request
        .json(&json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": params}))
        .await
        .json()
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_default()
}

mod capabilities {
    use super::*;

    #[test]
    fn initialize_and_discover_list_exactly_what_the_service_offers() {
        block_on(async {
            let library = legacy(&client(), "initialize", json!({"protocolVersion": LEGACY})).await;
            assert_eq!(
                library["result"]["capabilities"],
                json!({
                    "logging": {},
                    "tools": {"listChanged": false},
                    "resources": {"subscribe": false, "listChanged": false},
                    "prompts": {"listChanged": false},
                    "completions": {},
                })
            );
            let discovered = modern(&client(), "server/discover", json!({})).await;
            assert_eq!(
                discovered["result"]["capabilities"],
                library["result"]["capabilities"]
            );

            let items = TestClient::new(Items::default());
            let answer: Value = items
                .mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": LEGACY}}))
                .await
                .json();
            assert_eq!(
                answer["result"]["capabilities"],
                json!({"logging": {}, "tools": {"listChanged": false}})
            );
            // What a service does not offer is not there.
            let answer: Value = items
                .mcp(json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list"}))
                .await
                .json();
            assert_eq!(answer["error"]["code"], -32601, "{answer}");
        });
    }

    #[test]
    fn log_levels_are_acknowledged_and_checked() {
        block_on(async {
            let answer = legacy(&client(), "logging/setLevel", json!({"level": "warning"})).await;
            assert_eq!(answer["result"], json!({}));
            let answer = legacy(&client(), "logging/setLevel", json!({"level": "loud"})).await;
            assert_eq!(answer["error"]["code"], -32602);
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("debug, info")
            );
        });
    }
}

mod resources {
    use super::*;

    #[test]
    fn fixed_resources_and_templates_are_listed_apart() {
        block_on(async {
            let list = legacy(&client(), "resources/list", json!({})).await;
            assert_eq!(
                list["result"]["resources"],
                json!([{"uri": "docs://rules", "name": "rules", "title": "Rules", "description": "The library's rules."}])
            );
            let templates = legacy(&client(), "resources/templates/list", json!({})).await;
            let templates = templates["result"]["resourceTemplates"]
                .as_array()
                .unwrap()
                .clone();
            assert_eq!(templates.len(), 2);
            assert_eq!(
                templates[0],
                json!({"uriTemplate": "books://{id}", "name": "book", "description": "One book, by id."})
            );
            assert_eq!(templates[1]["mimeType"], "image/png");
            let bad_cursor = legacy(&client(), "resources/list", json!({"cursor": "9"})).await;
            assert_eq!(bad_cursor["error"]["code"], -32602);
        });
    }

    #[test]
    fn reading_answers_text_json_or_a_base64_blob() {
        block_on(async {
            let rules = legacy(&client(), "resources/read", json!({"uri": "docs://rules"})).await;
            assert_eq!(
                rules["result"]["contents"],
                json!([{"uri": "docs://rules", "mimeType": "text/markdown", "text": "# Rules\nReturn books on time."}])
            );
            let book = legacy(&client(), "resources/read", json!({"uri": "books://dune"})).await;
            let contents = &book["result"]["contents"][0];
            assert_eq!(contents["mimeType"], "application/json");
            assert_eq!(
                serde_json::from_str::<Value>(contents["text"].as_str().unwrap()).unwrap(),
                json!({"id": "dune", "title": "Dune"})
            );
            let cover = legacy(
                &client(),
                "resources/read",
                json!({"uri": "covers://emma.png"}),
            )
            .await;
            let contents = &cover["result"]["contents"][0];
            assert_eq!(contents["mimeType"], "image/png");
            assert!(contents.get("text").is_none());
            let blob = base64::engine::general_purpose::STANDARD
                .decode(contents["blob"].as_str().unwrap())
                .unwrap();
            assert_eq!(blob, COVER);
        });
    }

    #[test]
    fn an_unknown_uri_is_resource_not_found_and_a_failing_method_its_error() {
        block_on(async {
            for uri in [
                "docs://other",
                "covers://emma.jpg",
                "books://a/b",
                "nothing",
            ] {
                let answer = legacy(&client(), "resources/read", json!({"uri": uri})).await;
                assert_eq!(
                    answer["error"]["code"], RESOURCE_NOT_FOUND,
                    "{uri}: {answer}"
                );
                assert_eq!(answer["error"]["data"]["uri"], uri);
            }
            // The template matches; the method finds no such book.
            let answer = legacy(&client(), "resources/read", json!({"uri": "books://nope"})).await;
            assert_eq!(answer["error"]["code"], -32004, "{answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("no book `nope`")
            );
            let answer = legacy(&client(), "resources/read", json!({})).await;
            assert_eq!(answer["error"]["code"], -32602);
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("`uri`")
            );
        });
    }

    #[test]
    fn a_2026_read_is_never_cached_and_lists_are_for_a_while() {
        block_on(async {
            let read = modern(&client(), "resources/read", json!({"uri": "docs://rules"})).await;
            assert_eq!(read["result"]["ttlMs"], 0);
            assert_eq!(read["result"]["cacheScope"], "private");
            let list = modern(&client(), "resources/templates/list", json!({})).await;
            assert!(list["result"]["ttlMs"].as_u64().unwrap() > 0);
            assert_eq!(list["result"]["cacheScope"], "public");
        });
    }

    #[test]
    fn subscriptions_are_refused_with_the_reason() {
        block_on(async {
            let answer = legacy(
                &client(),
                "resources/subscribe",
                json!({"uri": "docs://rules"}),
            )
            .await;
            assert_eq!(answer["error"]["code"], -32601);
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("stateless")
            );
        });
    }
}

mod prompts {
    use super::*;

    #[test]
    fn prompts_list_their_arguments_with_docs_and_whether_required() {
        block_on(async {
            let list = legacy(&client(), "prompts/list", json!({})).await;
            assert_eq!(
                list["result"]["prompts"][0],
                json!({
                    "name": "summarize",
                    "title": "Summary",
                    "description": "Summarize a book.",
                    "arguments": [
                        {"name": "id", "description": "The book to summarize.", "required": true},
                        {"name": "words", "description": "At most this many words.", "required": false},
                    ],
                })
            );
            assert_eq!(
                list["result"]["prompts"][1]["arguments"],
                json!([{"name": "name", "required": true}])
            );
        });
    }

    #[test]
    fn getting_a_prompt_answers_its_messages() {
        block_on(async {
            let answer = legacy(
                &client(),
                "prompts/get",
                json!({"name": "summarize", "arguments": {"id": "dune", "words": "50"}}),
            )
            .await;
            let messages = &answer["result"]["messages"];
            assert_eq!(
                messages[0],
                json!({"role": "user", "content": {"type": "text", "text": "Summarize Dune in 50 words."}})
            );
            assert_eq!(messages[1]["content"]["type"], "resource");
            assert_eq!(messages[1]["content"]["resource"]["uri"], "books://dune");
            assert_eq!(answer["result"]["description"], "Summarize a book.");
            // A text result is one user message.
            let answer = legacy(
                &client(),
                "prompts/get",
                json!({"name": "greet", "arguments": {"name": "Ada"}}),
            )
            .await;
            assert_eq!(
                answer["result"]["messages"],
                json!([{"role": "user", "content": {"type": "text", "text": "Say hello to Ada."}}])
            );
        });
    }

    #[test]
    fn bad_prompt_arguments_are_invalid_params_naming_what_is_wrong() {
        block_on(async {
            let cases = [
                (
                    json!({"name": "summarize", "arguments": {}}),
                    "needs its argument `id`",
                ),
                (
                    json!({"name": "summarize", "arguments": {"id": "dune", "pages": "3"}}),
                    "no argument `pages`",
                ),
                (
                    json!({"name": "summarize", "arguments": {"id": 7}}),
                    "`id` must be a string",
                ),
                (
                    json!({"name": "summarize", "arguments": {"id": "dune", "words": "many"}}),
                    "words",
                ),
                (
                    json!({"name": "summarize", "arguments": ["dune"]}),
                    "object of strings",
                ),
                (json!({"name": "poem"}), "unknown prompt `poem`"),
                (json!({}), "`name`"),
            ];
            for (params, expected) in cases {
                let answer = legacy(&client(), "prompts/get", params.clone()).await;
                assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains(expected), "{params}: {message}");
            }
            // The method's own failure keeps its kind.
            let answer = legacy(
                &client(),
                "prompts/get",
                json!({"name": "summarize", "arguments": {"id": "nope"}}),
            )
            .await;
            assert_eq!(answer["error"]["code"], -32004);
        });
    }
}

mod completions {
    use super::*;

    #[test]
    fn prompt_arguments_and_template_variables_are_completed() {
        block_on(async {
            let answer = legacy(
                &client(),
                "completion/complete",
                json!({
                    "ref": {"type": "ref/prompt", "name": "summarize"},
                    "argument": {"name": "id", "value": "d"},
                }),
            )
            .await;
            assert_eq!(
                answer["result"]["completion"],
                json!({"values": ["dune", "dracula"], "total": 2, "hasMore": false})
            );
            let answer = legacy(
                &client(),
                "completion/complete",
                json!({
                    "ref": {"type": "ref/resource", "uri": "books://{id}"},
                    "argument": {"name": "id", "value": "e"},
                    "context": {"arguments": {}},
                }),
            )
            .await;
            assert_eq!(answer["result"]["completion"]["values"], json!(["emma"]));
            // Without a completer: no values, not an error.
            let answer = legacy(
                &client(),
                "completion/complete",
                json!({
                    "ref": {"type": "ref/prompt", "name": "greet"},
                    "argument": {"name": "name", "value": "A"},
                }),
            )
            .await;
            assert_eq!(answer["result"]["completion"]["values"], json!([]));
        });
    }

    #[test]
    fn bad_completion_requests_name_what_is_wrong() {
        block_on(async {
            let cases = [
                (
                    json!({"ref": {"type": "ref/prompt", "name": "summarize"}, "argument": {"name": "pages", "value": ""}}),
                    "no argument `pages`",
                ),
                (
                    json!({"ref": {"type": "ref/resource", "uri": "books://{isbn}"}, "argument": {"name": "id", "value": ""}}),
                    "unknown resource template",
                ),
                (
                    json!({"ref": {"type": "ref/resource", "uri": "covers://{id}.png"}, "argument": {"name": "size", "value": ""}}),
                    "no argument `size`",
                ),
                (
                    json!({"ref": {"type": "ref/tool", "name": "x"}, "argument": {"name": "id", "value": ""}}),
                    "`ref.type`",
                ),
                (
                    json!({"ref": {"type": "ref/prompt", "name": "poem"}, "argument": {"name": "id", "value": ""}}),
                    "unknown prompt",
                ),
                (
                    json!({"ref": {"type": "ref/prompt", "name": "summarize"}, "argument": {"name": "id"}}),
                    "argument.value",
                ),
                (json!({"argument": {"name": "id", "value": ""}}), "`ref`"),
            ];
            for (params, expected) in cases {
                let answer = legacy(&client(), "completion/complete", params.clone()).await;
                assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains(expected), "{params}: {message}");
            }
        });
    }
}

mod rich_results {
    use super::*;

    #[test]
    fn a_tool_returns_mixed_content_blocks() {
        block_on(async {
            let answer = legacy(&client(), "tools/call", json!({"name": "show_shelf"})).await;
            let result = &answer["result"];
            let types: Vec<&str> = result["content"]
                .as_array()
                .unwrap()
                .iter()
                .map(|block| block["type"].as_str().unwrap())
                .collect();
            assert_eq!(
                types,
                ["text", "image", "audio", "resource", "resource_link"]
            );
            assert_eq!(result["content"][1]["mimeType"], "image/png");
            assert_eq!(
                result["content"][3]["resource"]["blob"],
                base64::engine::general_purpose::STANDARD.encode(COVER)
            );
            assert_eq!(result["isError"], false);
            assert!(result.get("structuredContent").is_none());
        });
    }

    #[test]
    fn structured_content_comes_with_its_output_schema() {
        block_on(async {
            let answer = legacy(
                &client(),
                "tools/call",
                json!({"name": "count_books", "arguments": {"filter": {"contains": "D"}}}),
            )
            .await;
            assert_eq!(answer["result"]["structuredContent"], json!({"count": 2}));
            assert_eq!(text_of(&answer["result"]), "2 books");
            let tools = legacy(&client(), "tools/list", json!({})).await;
            let count = tools["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|tool| tool["name"] == "count_books")
                .unwrap()
                .clone();
            assert_eq!(
                count["outputSchema"]["properties"]["count"]["type"],
                "integer"
            );
            let shelf = tools["result"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|tool| tool["name"] == "show_shelf")
                .unwrap()
                .clone();
            assert!(shelf.get("outputSchema").is_none(), "{shelf}");
        });
    }
}

mod schemas {
    use super::*;

    fn input_schema(answer: &Value, tool: &str) -> Value {
        answer["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["name"] == tool)
            .unwrap()["inputSchema"]
            .clone()
    }

    #[test]
    fn clients_on_2025_11_25_and_later_get_json_schema_2020_12_as_the_types_state_it() {
        block_on(async {
            for version in [LEGACY] {
                let answer: Value = legacy_with(&client(), version, "tools/list", json!({}), false)
                    .await
                    .json();
                let schema = input_schema(&answer, "count_books");
                assert_eq!(
                    schema["$schema"],
                    "https://json-schema.org/draft/2020-12/schema"
                );
                assert_eq!(
                    schema["$defs"]["Filter"]["properties"]["contains"]["type"],
                    "string"
                );
                assert_eq!(schema["additionalProperties"], false);
                assert!(schema.to_string().contains("#/$defs/Filter"), "{schema}");
            }
            let answer = modern(&client(), "tools/list", json!({})).await;
            assert!(input_schema(&answer, "count_books").get("$defs").is_some());
        });
    }

    #[test]
    fn older_clients_get_the_inlined_form() {
        block_on(async {
            for version in ["2025-06-18", "2025-03-26"] {
                let answer: Value = legacy_with(&client(), version, "tools/list", json!({}), false)
                    .await
                    .json();
                let schema = input_schema(&answer, "count_books");
                let text = schema.to_string();
                assert!(
                    !text.contains("$defs") && !text.contains("$schema") && !text.contains("$ref"),
                    "{text}"
                );
                assert_eq!(
                    schema["properties"]["filter"]["properties"]["contains"]["type"],
                    "string"
                );
            }
        });
    }
}

mod notifications {
    use super::*;

    fn reindex(steps: u32, token: Option<&str>) -> Value {
        let mut params = json!({"name": "reindex", "arguments": {"steps": steps}});
        if let Some(token) = token {
            params["_meta"] = json!({"progressToken": token});
        }
        params
    }

    #[test]
    fn logs_and_progress_are_streamed_before_the_result() {
        block_on(async {
            let response = legacy_with(
                &client(),
                LEGACY,
                "tools/call",
                reindex(2, Some("p1")),
                true,
            )
            .await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.header("content-type"), Some("text/event-stream"));
            let messages: Vec<Value> = response
                .events()
                .iter()
                .map(|event| serde_json::from_str(event.data_text().unwrap()).unwrap())
                .collect();
            let methods: Vec<&str> = messages
                .iter()
                .map(|message| message["method"].as_str().unwrap_or("result"))
                .collect();
            assert_eq!(
                methods,
                [
                    "notifications/message",
                    "notifications/progress",
                    "notifications/message",
                    "notifications/message",
                    "notifications/progress",
                    "notifications/message",
                    "result",
                ]
            );
            assert_eq!(
                messages[1]["params"],
                json!({"progressToken": "p1", "progress": 1.0, "total": 2.0, "message": "indexing"})
            );
            assert_eq!(
                messages[2]["params"],
                json!({"level": "info", "logger": "Library", "data": {"step": 1}})
            );
            assert_eq!(messages[6]["id"], 1);
            assert_eq!(text_of(&messages[6]["result"]), "\"indexed in 2 steps\"");
        });
    }

    #[test]
    fn without_a_progress_token_there_is_no_progress_and_json_clients_get_the_result_alone() {
        block_on(async {
            let response =
                legacy_with(&client(), LEGACY, "tools/call", reindex(2, None), true).await;
            let events = response.events();
            assert!(events.iter().all(|event| {
                !event
                    .data_text()
                    .unwrap()
                    .contains("notifications/progress")
            }));
            assert_eq!(events.len(), 5);

            let response = legacy_with(
                &client(),
                LEGACY,
                "tools/call",
                reindex(2, Some("p")),
                false,
            )
            .await;
            assert_eq!(response.header("content-type"), Some("application/json"));
            let answer: Value = response.json();
            assert_eq!(text_of(&answer["result"]), "\"indexed in 2 steps\"");
        });
    }

    #[test]
    fn a_call_that_cannot_notify_is_answered_as_json_even_to_a_streaming_client() {
        block_on(async {
            // `count_books` and `greet` take no `&Context`: nothing could precede the result.
            for (method, params) in [
                (
                    "tools/call",
                    json!({"name": "count_books", "arguments": {}}),
                ),
                (
                    "prompts/get",
                    json!({"name": "greet", "arguments": {"name": "Ada"}}),
                ),
            ] {
                let response = legacy_with(&client(), LEGACY, method, params, true).await;
                assert_eq!(response.status(), 200);
                assert_eq!(
                    response.header("content-type"),
                    Some("application/json"),
                    "{method}"
                );
                let answer: Value = response.json();
                assert_eq!(answer["id"], 1);
                assert!(answer["result"].is_object(), "{method}: {answer}");
            }
            // An unknown tool cannot notify either: its error comes as JSON.
            let response = legacy_with(
                &client(),
                LEGACY,
                "tools/call",
                json!({"name": "nope", "arguments": {}}),
                true,
            )
            .await;
            assert_eq!(response.header("content-type"), Some("application/json"));
        });
    }

    #[test]
    fn a_modern_request_sets_its_own_log_level() {
        block_on(async {
            let mut params = reindex(1, None);
            params["_meta"] = modern_meta(json!({}));
            params["_meta"]["io.modelcontextprotocol/logLevel"] = "info".into();
            let response = client()
                .post("/mcp")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", MODERN)
                .header("mcp-method", "tools/call")
                .header("mcp-name", "reindex")
                .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params}))
                .await;
            let data: Vec<String> = response
                .events()
                .into_iter()
                .map(|event| event.data_text().unwrap().to_owned())
                .collect();
            assert_eq!(data.len(), 2, "{data:?}");
            assert!(data[0].contains("\"level\":\"info\""), "{data:?}");
            assert!(data[1].contains("\"resultType\":\"complete\""), "{data:?}");
        });
    }
}

mod input {
    use super::*;

    fn remove(id: &str) -> Value {
        json!({"name": "remove_book", "arguments": {"id": id}})
    }

    /// The first round: what the tool asks, and the state to send back.
    async fn first_round(client: &TestClient<Library>) -> (Value, String) {
        let answer = modern(client, "tools/call", remove("dune")).await;
        let result = answer["result"].clone();
        assert_eq!(result["resultType"], "input_required", "{answer}");
        let state = result["requestState"].as_str().unwrap().to_owned();
        (result, state)
    }

    fn retry(state: &str, responses: Value) -> Value {
        let mut params = remove("dune");
        params["inputResponses"] = responses;
        params["requestState"] = state.into();
        params
    }

    #[test]
    fn an_elicitation_round_trip_completes_the_call() {
        block_on(async {
            let client = client();
            let (result, state) = first_round(&client).await;
            let request = &result["inputRequests"]["confirm"];
            assert_eq!(request["method"], "elicitation/create");
            assert_eq!(request["params"]["message"], "Remove Dune?");
            assert_eq!(request["params"]["mode"], "form");
            assert_eq!(
                request["params"]["requestedSchema"],
                json!({"type": "object", "properties": {"sure": {"type": "boolean", "description": "Remove it for good?"}}, "required": ["sure"]})
            );
            let accepted = json!({"confirm": {"action": "accept", "content": {"sure": true}}});
            let answer = modern(&client, "tools/call", retry(&state, accepted)).await;
            assert_eq!(answer["result"]["resultType"], "complete", "{answer}");
            assert_eq!(text_of(&answer["result"]), "\"removed dune\"");
            let declined = json!({"confirm": {"action": "decline"}});
            let answer = modern(&client, "tools/call", retry(&state, declined)).await;
            assert_eq!(text_of(&answer["result"]), "\"kept dune\"");
        });
    }

    #[test]
    fn a_tampered_or_misused_state_is_refused_before_the_tool_runs() {
        block_on(async {
            let client = client();
            let (_, state) = first_round(&client).await;
            let ran = client.service().removals_run.get();
            let accepted = json!({"confirm": {"action": "accept", "content": {"sure": true}}});
            let (payload, tag) = state.split_once('.').unwrap();
            let mut forged = payload.as_bytes().to_vec();
            forged[5] = if forged[5] == b'A' { b'B' } else { b'A' };
            let forged = format!("{}.{tag}", String::from_utf8(forged).unwrap());
            let cases = [
                (
                    retry(&forged, accepted.clone()),
                    "was not issued by this server",
                ),
                (
                    retry("garbage", accepted.clone()),
                    "was not issued by this server",
                ),
                (
                    {
                        let mut params = retry(&state, accepted.clone());
                        params["arguments"]["id"] = "emma".into();
                        params
                    },
                    "issued for another request",
                ),
                (retry(&state, json!({})), "no answer for `confirm`"),
                (
                    retry(
                        &state,
                        json!({"confirm": {"action": "accept", "content": {"sure": true}}, "extra": {}}),
                    ),
                    "`extra`, which was not asked for",
                ),
                (
                    {
                        let mut params = remove("dune");
                        params["inputResponses"] = accepted.clone();
                        params
                    },
                    "send the state",
                ),
            ];
            for (params, expected) in cases {
                let answer = modern(&client, "tools/call", params.clone()).await;
                assert_eq!(answer["error"]["code"], -32602, "{params}: {answer}");
                let message = answer["error"]["message"].as_str().unwrap();
                assert!(message.contains(expected), "{params}: {message}");
            }
            assert_eq!(
                client.service().removals_run.get(),
                ran,
                "a refused state ran the tool"
            );

            // Another caller cannot use a state issued to this one.
            let alice = TestClient::new(Library::new())
                .with_extension(StateSecret("dev-only-test-secret".into()))
                .as_principal("alice", "user");
            let answer = modern(&alice, "tools/call", retry(&state, accepted)).await;
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("another caller"),
                "{answer}"
            );
        });
    }

    #[test]
    fn without_the_client_capability_or_on_a_legacy_revision_the_tool_says_why() {
        block_on(async {
            let mut params = remove("dune");
            params["_meta"] = modern_meta(json!({}));
            let answer = modern(&client(), "tools/call", params).await;
            assert_eq!(answer["result"]["isError"], true);
            assert!(
                text_of(&answer["result"]).contains("does not support"),
                "{answer}"
            );

            let answer = legacy(&client(), "tools/call", remove("dune")).await;
            assert_eq!(answer["result"]["isError"], true);
            assert!(
                text_of(&answer["result"]).contains("2026-07-28"),
                "{answer}"
            );
        });
    }

    #[test]
    fn a_sampling_round_trip_gives_the_tool_the_models_answer() {
        block_on(async {
            let client = client();
            let params = json!({"name": "suggest_title", "arguments": {"topic": "sand"}});
            let answer = modern(&client, "tools/call", params.clone()).await;
            let request = &answer["result"]["inputRequests"]["title"];
            assert_eq!(request["method"], "sampling/createMessage");
            assert_eq!(request["params"]["maxTokens"], 50);
            assert_eq!(
                request["params"]["messages"][0]["content"]["text"],
                "A book title about sand?"
            );
            let mut retry = params;
            retry["requestState"] = answer["result"]["requestState"].clone();
            retry["inputResponses"] = json!({"title": {"role": "assistant", "content": {"type": "text", "text": "Dunes"}, "model": "m"}});
            let answer = modern(&client, "tools/call", retry.clone()).await;
            assert_eq!(text_of(&answer["result"]), "\"Dunes\"");
            // An answer that is not a sampling result says so, at its key.
            retry["inputResponses"] = json!({"title": {"nope": true}});
            let answer = modern(&client, "tools/call", retry).await;
            assert_eq!(answer["result"]["isError"], true);
            assert!(text_of(&answer["result"]).contains("title"), "{answer}");
        });
    }
}

#[test]
fn the_readme_table_lists_resources_and_prompts() {
    use dotdo::Service;
    let table = Library::description().interfaces_markdown();
    assert!(
        table.contains("| MCP resource | `books://{id}` | public | One book, by id. |"),
        "{table}"
    );
    assert!(
        table.contains("| MCP prompt | `summarize` | public | Summarize a book. |"),
        "{table}"
    );
}

mod server_card {
    use super::*;

    #[test]
    fn the_card_names_the_server_its_endpoint_and_versions() {
        block_on(async {
            for path in ["/mcp/server-card", "/.well-known/mcp/server-card.json"] {
                let response = client().get(path).header("host", "books.example.com").await;
                assert_eq!(response.status(), 200, "{path}");
                assert_eq!(
                    response.header("content-type"),
                    Some("application/mcp-server-card+json")
                );
                let card: Value = response.json();
                assert_eq!(
                    card["$schema"],
                    "https://static.modelcontextprotocol.io/schemas/v1/server-card.schema.json"
                );
                assert_eq!(card["name"], "com.example.books/Library");
                assert_eq!(card["description"], "A small library, for MCP clients.");
                assert_eq!(card["remotes"][0]["type"], "streamable-http");
                assert_eq!(card["remotes"][0]["url"], "https://books.example.com/mcp");
                assert_eq!(card["remotes"][0]["supportedProtocolVersions"][0], MODERN);
                // Every feature is open: no credentials asked for.
                assert!(card["remotes"][0].get("headers").is_none());
            }
            let local = client()
                .get("/mcp/server-card")
                .header("host", "localhost:8787")
                .await;
            assert_eq!(
                local.json::<Value>()["remotes"][0]["url"],
                "http://localhost:8787/mcp"
            );
            let refused = client().post("/mcp/server-card").await;
            assert_eq!(refused.status(), 405);
            assert_eq!(refused.header("allow"), Some("GET, HEAD"));
        });
    }

    struct Vault;

    /// Secrets.
    #[dotdo::service]
    impl Vault {
        /// Open the vault.
        #[dotdo::mcp_tool(auth)]
        async fn open(&self) -> Result<String, dotdo::Error> {
            Ok("open".into())
        }
    }

    #[test]
    fn a_service_needing_credentials_says_so() {
        block_on(async {
            let vault = TestClient::new(Vault);
            let card: Value = vault
                .get("/mcp/server-card")
                .header("host", "vault.example.com")
                .await
                .json();
            let header = &card["remotes"][0]["headers"][0];
            assert_eq!(header["name"], "Authorization");
            assert_eq!(header["isRequired"], true);
            assert_eq!(header["isSecret"], true);
            assert_eq!(card["name"], "com.example.vault/Vault");
        });
    }
}
