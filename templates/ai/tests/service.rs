//! The service's interfaces in-process, on the deterministic local model (Workers AI needs a
//! Cloudflare account, so tests never call it).

use std::rc::Rc;

use dotdo::middleware::HashedKeys;
use dotdo::testing::TestClient;
use futures_executor::block_on;
use serde_json::{Value, json};
use {{crate_name}}::*;

const KEY: &str = "sk_test_for_tests_00000000000000000000000000";

fn client() -> TestClient<{{crate_name | pascal_case}}> {
    let keys = HashedKeys::parse(&HashedKeys::entry_for(KEY, "tester", "admin")).unwrap();
    TestClient::new({{crate_name | pascal_case}}::with_model(Rc::new(LocalModel), keys))
}

#[test]
fn http_generates_and_embeds_deterministically() {
    block_on(async {
        let client = client();
        let generated: Value = client.post("/generate").json(&json!({"prompt": "hello there world", "max_tokens": 2})).await.json();
        assert_eq!(generated, json!({"text": "local: hello there", "model": "local"}));
        let first: Value = client.post("/embed").json(&"the same text").await.json();
        let second: Value = client.post("/embed").json(&"the same text").await.json();
        assert_eq!(first, second);
        assert_eq!(first["values"].as_array().unwrap().len(), 16);
    });
}

#[test]
fn bad_input_gets_clear_errors() {
    block_on(async {
        let client = client();
        let empty = client.post("/generate").json(&json!({"prompt": " "})).await;
        assert_eq!(empty.status(), 422);
        assert_eq!(empty.json::<Value>()["field"], "prompt");
        let budget = client.post("/generate").json(&json!({"prompt": "hi", "max_tokens": 0})).await;
        assert_eq!(budget.json::<Value>()["field"], "max_tokens");
    });
}

#[test]
fn rpc_needs_a_key() {
    block_on(async {
        let client = client();
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "embed", "params": {"text": "x"}});
        assert_eq!(client.post("/_rpc").json(&call).await.status(), 401);
        let answer: Value = client.post("/_rpc").header("authorization", &format!("Bearer {KEY}")).json(&call).await.json();
        assert_eq!(answer["result"]["model"], "local");
    });
}
{%- if with_mcp %}

#[test]
fn mcp_tools_generate_and_embed() {
    block_on(async {
        let client = client();
        let names: Vec<String> = client.mcp_tools().await.iter().map(|tool| tool["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["generate", "embed"]);
        let result = client.mcp_call("generate", json!({"prompt": "one two"})).await.unwrap();
        assert_eq!(result["structuredContent"]["text"], "local: one two");
    });
}

#[test]
fn mcp_prompts_and_resources() {
    block_on(async {
        let client = client();
        let prompt: Value = client
            .mcp(json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": "summarize", "arguments": {"text": "a long story", "words": "10"}}}))
            .await
            .json();
        let messages = &prompt["result"]["messages"];
        assert_eq!(messages[0]["content"]["text"], "Summarize the following text in at most 10 words.");
        assert_eq!(messages[1]["content"]["text"], "a long story");
        let missing: Value = client
            .mcp(json!({"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": "summarize", "arguments": {}}}))
            .await
            .json();
        assert_eq!(missing["error"]["code"], -32602);
        let templates: Value = client.mcp(json!({"jsonrpc": "2.0", "id": 3, "method": "resources/templates/list"})).await.json();
        assert_eq!(templates["result"]["resourceTemplates"][0]["uriTemplate"], "embeddings://{id}");
        let unknown: Value = client
            .mcp(json!({"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": "embeddings://nope"}}))
            .await
            .json();
        assert_eq!(unknown["error"]["code"], -32004, "{unknown}");
    });
}
{%- endif %}
{%- if with_queue %}

#[test]
fn batch_jobs_store_vectors_and_bad_jobs_are_dead_lettered() {
    block_on(async {
        let client = client();
        let job = json!({"type": "embed.batch", "data": {"items": [{"id": "a", "text": "alpha"}, {"id": "b", "text": "beta"}]}});
        let outcomes = client.queue("{{project-name}}-jobs", vec![job]).await;
        assert_eq!(outcomes, [dotdo::queue::Outcome::Ack]);
        let stored: Vec<f32> = client.get("/embeddings/a").await.json();
        assert_eq!(stored.len(), 16);
        let bad = json!({"type": "embed.batch", "data": {"items": [{"id": "c", "text": ""}]}});
        assert!(matches!(client.queue("{{project-name}}-jobs", vec![bad]).await[0], dotdo::queue::Outcome::DeadLetter { .. }));
    });
}
{%- endif %}

#[test]
fn generation_is_rate_limited_per_caller() {
    block_on(async {
        let client = client();
        let generate = || client.post("/generate").header("cf-connecting-ip", "203.0.113.9").json(&json!({"prompt": "hi"}));
        for _ in 0..GENERATE_LIMIT_PER_MINUTE {
            assert_eq!(generate().await.status(), 200);
        }
        let limited = generate().await;
        assert_eq!(limited.status(), 429);
        assert!(limited.header("retry-after").is_some());
        let other = client.post("/generate").header("cf-connecting-ip", "198.51.100.9").json(&json!({"prompt": "hi"})).await;
        assert_eq!(other.status(), 200, "another caller has its own budget");
    });
}
