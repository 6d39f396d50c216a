//! The service's four interfaces, in-process: no wasm, no server.

use std::rc::Rc;

use dotdo::middleware::HashedKeys;
use dotdo::testing::{QueueRecorder, TestClient};
use futures_executor::block_on;
use serde_json::{Value, json};
use {{crate_name}}::*;

const ADMIN_KEY: &str = "sk_test_admin_for_tests_000000000000000000";

fn client() -> (TestClient<{{crate_name | pascal_case}}>, Rc<QueueRecorder>) {
    let events = Rc::new(QueueRecorder::default());
    let keys = HashedKeys::parse(&HashedKeys::entry_for(ADMIN_KEY, "tester", "admin")).unwrap();
    let db = dotdo::sql::Database::sqlite_in_memory(MIGRATIONS);
    let service = {{crate_name | pascal_case}}::new(db, Some(events.clone()), keys);
    (TestClient::new(service), events)
}

fn bearer() -> String {
    format!("Bearer {ADMIN_KEY}")
}

async fn create(client: &TestClient<{{crate_name | pascal_case}}>, id: &str) -> Value {
    let response = client.post("/items").header("authorization", &bearer()).json(&json!({"id": id, "name": format!("item {id}"), "price": 100})).await;
    assert_eq!(response.status(), 201, "{}", response.text());
    response.json()
}

#[test]
fn http_creates_reads_pages_and_deletes() {
    block_on(async {
        let (client, _) = client();
        for id in ["a", "b", "c"] {
            create(&client, id).await;
        }
        assert_eq!(client.get("/items/b").await.json::<Value>()["name"], "item b");
        let page: Value = client.get("/items?limit=2").await.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let rest: Value = client.get(&format!("/items?limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await.json();
        assert_eq!(rest["items"][0]["id"], "c");
        assert_eq!(rest["next_cursor"], Value::Null);
        assert_eq!(client.delete("/items/b").header("authorization", &bearer()).await.status(), 204);
        assert_eq!(client.get("/items/b").await.status(), 404);
    });
}

#[test]
fn bad_input_gets_clear_errors() {
    block_on(async {
        let (client, _) = client();
        let bad_id = client.post("/items").header("authorization", &bearer()).json(&json!({"id": "no spaces", "name": "x", "price": 1})).await;
        assert_eq!(bad_id.status(), 422);
        assert_eq!(bad_id.json::<Value>()["field"], "id");
        assert_eq!(client.get("/items?limit=1000").await.status(), 422);
        create(&client, "dup").await;
        let duplicate = client.post("/items").header("authorization", &bearer()).json(&json!({"id": "dup", "name": "x", "price": 1})).await;
        assert_eq!(duplicate.status(), 409);
    });
}

#[test]
fn writes_need_a_signed_in_user_on_every_interface_and_reads_are_public() {
    block_on(async {
        let (client, _) = client();
        create(&client, "w1").await;
        let anonymous_create = client.post("/items").json(&json!({"id": "w2", "name": "x", "price": 1})).await;
        assert_eq!(anonymous_create.status(), 401);
        assert_eq!(client.delete("/items/w1").await.status(), 401);
        assert_eq!(client.get("/items/w1").await.status(), 200, "reads stay public");
        {%- if with_mcp %}
        let tool = client.mcp_call("delete_item", json!({"id": "w1"})).await.unwrap();
        assert_eq!(tool["isError"], true, "an anonymous model cannot delete: {tool}");
        assert_eq!(client.get("/items/w1").await.status(), 200);
        {%- endif %}
    });
}

#[test]
fn rpc_calls_need_a_key_and_work_with_one() {
    block_on(async {
        let (client, _) = client();
        create(&client, "r1").await;
        let anonymous = client.post("/_rpc").json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_item", "params": ["r1"]})).await;
        assert_eq!(anonymous.status(), 401);
        let answer: Value = client
            .post("/_rpc")
            .header("authorization", &format!("Bearer {ADMIN_KEY}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "get_item", "params": ["r1"]}))
            .await
            .json();
        assert_eq!(answer["result"]["id"], "r1");
    });
}
{%- if with_mcp %}

#[test]
fn mcp_lists_and_calls_tools() {
    block_on(async {
        let (client, _) = client();
        let client = client.as_principal("assistant", "user");
        let names: Vec<String> = client.mcp_tools().await.iter().map(|tool| tool["name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, ["get_item", "list_items", "create_item", "delete_item"]);
        let created = client.mcp_call("create_item", json!({"item": {"id": "m1", "name": "via mcp", "price": 5}})).await.unwrap();
        assert_eq!(created["isError"], false);
        let bad = client.mcp_call("create_item", json!({"item": {"id": "m2", "name": "x", "price": "free"}})).await.unwrap();
        assert_eq!(bad["isError"], true);
    });
}
{%- endif %}
{%- if with_queue %}

#[test]
fn item_changes_are_published_and_consumed_once() {
    block_on(async {
        let (client, events) = client();
        create(&client, "q1").await;
        let sent = events.bodies();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["type"], "item.event");
        let twice = [sent.clone(), sent].concat();
        let outcomes = client.queue("{{project-name}}-events", twice).await;
        assert!(outcomes.iter().all(|outcome| *outcome == dotdo::queue::Outcome::Ack));
        let recorded: Value = client.get("/_events").header("authorization", &format!("Bearer {ADMIN_KEY}")).await.json();
        assert_eq!(recorded.as_array().unwrap().len(), 1, "a redelivered event is recorded once");
        let undecodable = client.queue("{{project-name}}-events", vec![json!({"type": "item.event", "data": {"id": 1}})]).await;
        assert!(matches!(undecodable[0], dotdo::queue::Outcome::DeadLetter { .. }));
    });
}
{%- endif %}
