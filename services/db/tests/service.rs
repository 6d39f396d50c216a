//! The db service in-process, its SQL running on SQLite (the engine D1 is).

use dotdo::middleware::HashedKeys;
use dotdo::queue::Outcome;
use dotdo::testing::{TestClient, TestResponse};
use dotdo_db::DbService;
use futures_executor::block_on;
use serde_json::{Value, json};

const ADMIN: &str = "sk_test_db_admin_for_tests_0000000000000000";

/// A fresh database with the service's migrations: its SQL runs as it does on D1.
fn sqlite() -> dotdo::sql::Database {
    dotdo::sql::Database::sqlite_in_memory(dotdo_db::MIGRATIONS)
}

/// The service with one admin key, called by a signed-in viewer unless a request carries its
/// own credentials: reads need a principal.
fn db() -> TestClient<DbService> {
    TestClient::new(DbService::new(
        sqlite(),
        HashedKeys::parse(&HashedKeys::entry_for(ADMIN, "root", "admin")).unwrap(),
    ))
    .as_principal("reader", "viewer")
}

async fn put(
    client: &TestClient<DbService>,
    ns: &str,
    id: &str,
    ty: &str,
    data: Value,
) -> TestResponse {
    client
        .put(&format!("/things/{ns}/{id}"))
        .header("authorization", &format!("Bearer {ADMIN}"))
        .json(&json!({"type": ty, "data": data}))
        .await
}

async fn count_rows(client: &TestClient<DbService>) -> u64 {
    let rows: Value = client
        .post("/_sql")
        .header("authorization", &format!("Bearer {ADMIN}"))
        .json(&json!({"query": "SELECT count(*) AS n FROM things"}))
        .await
        .json();
    rows[0]["n"].as_u64().unwrap()
}

#[test]
fn writes_are_versioned_and_every_version_is_readable() {
    block_on(async {
        let client = db();
        let first: Value = put(&client, "acme", "order-1", "Order", json!({"total": 10}))
            .await
            .json();
        assert_eq!(first["version"], 1);
        let second: Value = put(&client, "acme", "order-1", "Order", json!({"total": 12}))
            .await
            .json();
        assert_eq!(second["version"], 2);
        assert_eq!(
            client.get("/things/acme/order-1").await.json::<Value>()["data"]["total"],
            12
        );
        assert_eq!(
            client.get("/things/acme/order-1@1").await.json::<Value>()["data"]["total"],
            10
        );
        assert_eq!(
            client
                .get("/things/acme/order-1@2099-01-01")
                .await
                .json::<Value>()["version"],
            2
        );
        let before = client.get("/things/acme/order-1@2000-01-01").await;
        assert_eq!(before.status(), 404, "it did not exist then");
        assert_eq!(
            client.get("/things/acme/order-1@7").await.status(),
            404,
            "no such version"
        );
        assert_eq!(
            client.get("/things/acme/order-1@someday").await.status(),
            400,
            "not a date"
        );
    });
}

#[test]
fn a_deleted_thing_keeps_its_history_and_goes_on_from_its_last_version() {
    block_on(async {
        let client = db();
        for total in [1, 2] {
            put(&client, "acme", "cart-1", "Cart", json!({"total": total})).await;
        }
        let deleted = client
            .delete("/things/acme/cart-1")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .await;
        assert_eq!(deleted.status(), 204, "{}", deleted.text());
        assert_eq!(client.get("/things/acme/cart-1").await.status(), 404);
        // Written again, then again: versions 3 and 4, never a number used twice (found by
        // schemathesis's stateful phase: archiving a reused version failed as a server error).
        let again = put(&client, "acme", "cart-1", "Cart", json!({"total": 3})).await;
        assert_eq!(again.json::<Value>()["version"], 3, "{}", again.text());
        let next = put(&client, "acme", "cart-1", "Cart", json!({"total": 4})).await;
        assert_eq!(next.status(), 200, "{}", next.text());
        assert_eq!(next.json::<Value>()["version"], 4);
        // The whole history stays readable, the deleted version among it.
        for version in [1, 2, 3] {
            let old = client.get(&format!("/things/acme/cart-1@{version}")).await;
            assert_eq!(
                old.json::<Value>()["data"]["total"],
                version,
                "{}",
                old.text()
            );
        }
    });
}

#[test]
fn expected_versions_guard_concurrent_writes() {
    block_on(async {
        let client = db();
        put(&client, "acme", "doc", "Doc", json!({"v": 1})).await;
        let stale = client
            .put("/things/acme/doc")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"type": "Doc", "data": {"v": 2}, "expected_version": 5}))
            .await;
        assert_eq!(stale.status(), 409);
        let fresh = client
            .put("/things/acme/doc")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"type": "Doc", "data": {"v": 2}, "expected_version": 1}))
            .await;
        assert_eq!(fresh.status(), 200);
    });
}

#[test]
fn globs_select_ids_and_types_have_schemas() {
    block_on(async {
        let client = db();
        for (id, data) in [
            ("user-1", json!({"name": "a", "age": 3})),
            ("user-2", json!({"name": "b"})),
            ("team-1", json!({"name": "t"})),
        ] {
            put(
                &client,
                "acme",
                id,
                if id.starts_with("user") {
                    "User"
                } else {
                    "Team"
                },
                data,
            )
            .await;
        }
        let users: Value = client.get("/things/acme/user-*").await.json();
        assert_eq!(users.as_array().unwrap().len(), 2);
        let all: Value = client.get("/things/acme/**").await.json();
        assert_eq!(all.as_array().unwrap().len(), 3);
        let schema: Value = client.get("/things/acme/User::schema").await.json();
        assert_eq!(schema["properties"]["name"]["type"], "string");
        assert_eq!(schema["properties"]["age"]["type"], "integer");
        assert_eq!(schema["required"], json!(["name"]));
    });
}

#[test]
fn lists_filter_by_type_and_field_paginate_and_sort() {
    block_on(async {
        let client = db();
        for index in 0..5 {
            put(
                &client,
                "shop",
                &format!("p{index}"),
                "Product",
                json!({"color": if index % 2 == 0 { "red" } else { "blue" }}),
            )
            .await;
        }
        put(&client, "shop", "x", "Other", json!({})).await;
        let page: Value = client.get("/things/shop?type=Product&limit=2").await.json();
        assert_eq!(page["things"].as_array().unwrap().len(), 2);
        let next: Value = client
            .get(&format!(
                "/things/shop?type=Product&limit=2&cursor={}",
                page["next_cursor"].as_str().unwrap()
            ))
            .await
            .json();
        assert_eq!(next["things"][0]["id"], "p2");
        let red: Value = client
            .get("/things/shop?field=color&value=red")
            .await
            .json();
        assert_eq!(red["things"].as_array().unwrap().len(), 3);
        let descending: Value = client.get("/things/shop?sort=-id&limit=1").await.json();
        assert_eq!(descending["things"][0]["id"], "x");
        assert_eq!(
            client.get("/count/shop?type=Product").await.json::<u64>(),
            5
        );
    });
}

#[test]
fn full_text_search_finds_things_by_their_words() {
    block_on(async {
        let client = db();
        put(
            &client,
            "kb",
            "a1",
            "Article",
            json!({"title": "Cloudflare Workers in Rust", "tags": ["wasm"]}),
        )
        .await;
        put(
            &client,
            "kb",
            "a2",
            "Article",
            json!({"title": "Cooking with rust-free pans"}),
        )
        .await;
        let found: Value = client.get("/search?query=workers%20wasm").await.json();
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(found[0]["id"], "a1");
        // FTS syntax in the query is only words here, never an error or an injection.
        let odd = client.get("/search?query=%22%20OR%20*%20NEAR(").await;
        assert_eq!(odd.status(), 200, "{}", odd.text());
        // A NUL (found by schemathesis: a 500 on D1) is no word; nothing but one finds nothing.
        let nul = client.get("/search?query=workers%00wasm").await;
        assert_eq!(
            nul.json::<Value>().as_array().unwrap().len(),
            1,
            "{}",
            nul.text()
        );
        let only_nul: Value = client.get("/search?query=%00").await.json();
        assert_eq!(only_nul, json!([]));
        let blank = client.get("/search?query=%20%20").await;
        assert_eq!(blank.status(), 422, "{}", blank.text());
    });
}

#[test]
fn relationships_go_both_ways_by_predicate() {
    block_on(async {
        let client = db();
        let rel = client
            .post("/relationships")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"from": "acme/user-1", "predicate": "memberOf", "to": "acme/team-1"}))
            .await;
        assert_eq!(rel.status(), 200, "{}", rel.text());
        client
            .post("/relationships")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"from": "acme/user-1", "predicate": "owns", "to": "acme/doc-1"}))
            .await;
        let out: Value = client.get("/relationships/acme/user-1").await.json();
        assert_eq!(out.as_array().unwrap().len(), 2);
        let members: Value = client
            .get("/relationships/acme/team-1?direction=in&predicate=memberOf")
            .await
            .json();
        assert_eq!(members[0]["from"], "acme/user-1");
        let removed = client
            .delete("/relationships?from=acme%2Fuser-1&predicate=owns&to=acme%2Fdoc-1")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .await;
        assert_eq!(removed.status(), 204);
        assert_eq!(
            client
                .get("/relationships/acme/user-1")
                .await
                .json::<Value>()
                .as_array()
                .unwrap()
                .len(),
            1
        );
    });
}

#[test]
fn bulk_upserts_from_the_queue_are_idempotent_by_version() {
    block_on(async {
        let client = db();
        let batch = json!({"type": "things.upsert", "data": [
            {"ns": "bulk", "id": "a", "type": "T", "data": {"n": 1}, "version": 1},
            {"ns": "bulk", "id": "b", "type": "T", "data": {"n": 2}, "version": 3},
        ]});
        assert_eq!(
            client.queue("db-bulk", vec![batch.clone()]).await,
            [Outcome::Ack]
        );
        assert_eq!(
            client.queue("db-bulk", vec![batch]).await,
            [Outcome::Ack],
            "redelivered"
        );
        assert_eq!(
            client.get("/things/bulk/b").await.json::<Value>()["version"],
            3
        );
        assert_eq!(client.get("/count/bulk").await.json::<u64>(), 2);
        let history: Value = client
            .post("/_sql")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"query": "SELECT count(*) AS n FROM thing_versions"}))
            .await
            .json();
        assert_eq!(history[0]["n"], 0, "the redelivery wrote nothing");
        let bad = json!({"type": "things.upsert", "data": [{"ns": "bulk", "id": "c", "type": "T", "data": [1]}]});
        assert!(matches!(
            client.queue("db-bulk", vec![bad]).await[0],
            Outcome::DeadLetter { .. }
        ));
    });
}

#[test]
fn bad_input_gets_a_clear_4xx_and_writes_nothing() {
    block_on(async {
        let client = db();
        let cases: Vec<(&str, TestResponse, u16)> = vec![
            // Names in the path are checked as they are bound: a bad one is a bad request.
            (
                "bad namespace",
                put(&client, "ac%20me", "x", "T", json!({})).await,
                400,
            ),
            (
                "id with quote",
                put(&client, "acme", "x'--", "T", json!({})).await,
                400,
            ),
            (
                "data not an object",
                put(&client, "acme", "x", "T", json!([1, 2])).await,
                422,
            ),
            (
                "type injection",
                put(&client, "acme", "x", "T; DROP TABLE things", json!({})).await,
                422,
            ),
        ];
        for (name, response, status) in cases {
            let status_seen = response.status();
            assert!(
                status_seen == status || (status == 400 && status_seen == 404),
                "{name}: {status_seen} {}",
                response.text()
            );
        }
        assert_eq!(client.get("/things/acme?limit=101").await.status(), 422);
        assert_eq!(
            client
                .get("/things/acme?field=a)%20OR%201=1--&value=x")
                .await
                .status(),
            422
        );
        assert_eq!(client.get("/things/acme?sort=random()").await.status(), 422);
        let injection_value: Value = client
            .get("/things/acme?field=name&value=x'%20OR%20'1'='1")
            .await
            .json();
        assert_eq!(
            injection_value["things"],
            json!([]),
            "a value is only ever a value"
        );
        assert_eq!(count_rows(&client).await, 0);
    });
}

#[test]
fn raw_sql_is_private_and_for_admins() {
    block_on(async {
        let client = db();
        let sql = json!({"query": "SELECT 1"});
        assert_eq!(
            client.post("/_sql").json(&sql).await.status(),
            403,
            "a viewer"
        );
        let anonymous = TestClient::new(DbService::new(sqlite(), HashedKeys::default()));
        assert_eq!(anonymous.post("/_sql").json(&sql).await.status(), 401);
        assert_eq!(count_rows(&client).await, 0);
    });
}

#[test]
fn mcp_exposes_the_data_tools() {
    block_on(async {
        let client = db().as_principal("tester", "user");
        let names: Vec<String> = client
            .mcp_tools()
            .await
            .iter()
            .map(|tool| tool["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "get_thing",
                "list_things",
                "upsert_thing",
                "delete_thing",
                "search",
                "relate",
                "unrelate",
                "relationships"
            ]
        );
        let written = client
            .mcp_call(
                "upsert_thing",
                json!({"ns": "m", "id": "one", "type": "Note", "data": {"text": "hi"}}),
            )
            .await
            .unwrap();
        assert_eq!(written["isError"], false, "{written}");
        let read = client
            .mcp_call("get_thing", json!({"ns": "m", "id": "one"}))
            .await
            .unwrap();
        assert_eq!(read["structuredContent"]["data"]["text"], "hi");
        // A bad name is refused as it is bound, telling the model which argument and why.
        let refused = client
            .mcp_call(
                "upsert_thing",
                json!({"ns": "m", "id": "a/b", "type": "Note", "data": {}}),
            )
            .await
            .unwrap();
        assert_eq!(refused["isError"], true, "{refused}");
        let text = refused["content"][0]["text"].as_str().unwrap();
        assert!(
            text.contains("`id`") && text.contains("a name is 1 to 128"),
            "{text}"
        );
        let tools = client.mcp_tools().await;
        let upsert = tools
            .iter()
            .find(|tool| tool["name"] == "upsert_thing")
            .unwrap();
        assert_eq!(
            upsert["inputSchema"]["properties"]["ns"]["pattern"],
            dotdo::Name::PATTERN
        );
    });
}

#[test]
fn writes_need_a_user_and_viewers_are_refused() {
    block_on(async {
        let keys = [
            HashedKeys::entry_for(ADMIN, "root", "admin"),
            HashedKeys::entry_for(
                "sk_test_viewer_0000000000000000000000000000",
                "vic",
                "viewer",
            ),
        ]
        .join("\n");
        let client = TestClient::new(DbService::new(sqlite(), HashedKeys::parse(&keys).unwrap()));
        let body = json!({"type": "T", "data": {}});
        assert_eq!(client.put("/things/a/b").json(&body).await.status(), 401);
        let viewer = client
            .put("/things/a/b")
            .header(
                "authorization",
                "Bearer sk_test_viewer_0000000000000000000000000000",
            )
            .json(&body)
            .await;
        assert_eq!(viewer.status(), 403);
        let count = client.get("/count/a").header(
            "authorization",
            "Bearer sk_test_viewer_0000000000000000000000000000",
        );
        assert_eq!(count.await.json::<u64>(), 0, "a viewer reads");
    });
}

#[test]
fn bulk_imports_are_queued_then_applied() {
    block_on(async {
        let recorder = std::rc::Rc::new(dotdo::testing::QueueRecorder::default());
        let keys = HashedKeys::parse(&HashedKeys::entry_for(ADMIN, "root", "admin")).unwrap();
        let client =
            TestClient::new(DbService::new(sqlite(), keys).with_bulk_queue(recorder.clone()))
                .as_principal("reader", "viewer");
        let things = json!([{"ns": "imp", "id": "a", "type": "T", "data": {"x": 1}, "version": 1}]);
        let accepted = client
            .post("/_bulk")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&things)
            .await;
        assert_eq!(accepted.status(), 202, "{}", accepted.text());
        assert_eq!(
            client.get("/count/imp").await.json::<u64>(),
            0,
            "queued, not yet applied"
        );
        assert_eq!(
            client.queue("dotdo-db-bulk", recorder.bodies()).await,
            [Outcome::Ack]
        );
        assert_eq!(client.get("/count/imp").await.json::<u64>(), 1);
    });
}

#[test]
fn reads_need_a_principal_unless_the_namespace_is_public() {
    block_on(async {
        let keys = HashedKeys::parse(&HashedKeys::entry_for(ADMIN, "root", "admin")).unwrap();
        let client =
            TestClient::new(DbService::new(sqlite(), keys).with_public_namespaces("docs, blog"));
        for ns in ["docs", "acme"] {
            assert_eq!(
                put(&client, ns, "t1", "T", json!({"words": "hello world"}))
                    .await
                    .status(),
                200
            );
        }
        for path in [
            "/things/acme/t1",
            "/things/acme",
            "/things/acme/t*",
            "/count/acme",
            "/relationships/acme/t1",
            "/search?query=hello",
            "/search?query=hello&ns=acme",
        ] {
            let response = client.get(path).await;
            assert_eq!(response.status(), 401, "{path}: {}", response.text());
            assert!(response.text().contains("credentials"), "{path}: says why");
        }
        for path in [
            "/things/docs/t1",
            "/things/docs",
            "/count/docs",
            "/search?query=hello&ns=docs",
        ] {
            assert_eq!(client.get(path).await.status(), 200, "{path} is public");
        }
        let rpc = client
            .rpc::<Value>("get_thing", json!({"ns": "acme", "id": "t1"}))
            .await
            .unwrap_err();
        assert_eq!(rpc.kind(), dotdo::ErrorKind::Unauthorized, "RPC too");
        let anonymous_write = client
            .put("/things/docs/t2")
            .json(&json!({"type": "T", "data": {}}))
            .await;
        assert_eq!(
            anonymous_write.status(),
            401,
            "a public namespace is public to read, not to write"
        );
        let signed_in = client
            .get("/things/acme/t1")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .await;
        assert_eq!(signed_in.status(), 200);
    });
}

#[test]
fn a_bulk_import_is_validated_whole_before_202_naming_the_index_and_field() {
    block_on(async {
        let recorder = std::rc::Rc::new(dotdo::testing::QueueRecorder::default());
        let keys = HashedKeys::parse(&HashedKeys::entry_for(ADMIN, "root", "admin")).unwrap();
        let client =
            TestClient::new(DbService::new(sqlite(), keys).with_bulk_queue(recorder.clone()));
        let good = json!({"ns": "imp", "id": "a", "type": "T", "data": {"x": 1}, "version": 1});
        let cases = [
            (
                json!({"ns": "imp", "id": "b", "type": "T", "data": [1], "version": 1}),
                "[1].data",
            ),
            (
                json!({"ns": "imp", "id": "b'--", "type": "T", "data": {}, "version": 1}),
                "[1].id",
            ),
            (
                json!({"ns": "imp", "id": "b", "type": "T", "data": {}}),
                "[1].version",
            ),
            (
                json!({"ns": "imp", "id": "a", "type": "T", "data": {}, "version": 2}),
                "[1].id",
            ),
        ];
        for (bad, field) in cases {
            let response = client
                .post("/_bulk")
                .header("authorization", &format!("Bearer {ADMIN}"))
                .json(&json!([good, bad]))
                .await;
            assert_eq!(response.status(), 422, "{field}: {}", response.text());
            assert_eq!(
                response.json::<Value>()["field"],
                field,
                "{}",
                response.text()
            );
        }
        assert!(recorder.sent().is_empty(), "nothing was queued");
    });
}

#[test]
fn a_bulk_message_is_applied_all_or_nothing() {
    block_on(async {
        let client = db();
        // As if sent to the queue directly, bypassing the import's validation.
        let message = json!({"type": "things.upsert", "data": [
            {"ns": "all", "id": "a", "type": "T", "data": {"x": 1}, "version": 1},
            {"ns": "all", "id": "b", "type": "T", "data": "not an object", "version": 1},
        ]});
        let outcomes = client.queue("dotdo-db-bulk", vec![message]).await;
        assert!(
            matches!(&outcomes[0], Outcome::DeadLetter { reason } if reason.contains("[1].data")),
            "{outcomes:?}"
        );
        assert_eq!(
            client.get("/count/all").await.json::<u64>(),
            0,
            "the good item was not written either"
        );
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<DbService>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<DbService>(concat!(env!("CARGO_MANIFEST_DIR"), "/db.d.ts"));
}

/// A JavaScript worker calls db over native Workers RPC with its own key, or as a caller a
/// trusted binding vouches for (a principal signed with db's gateway secret, as the gateway and
/// the platform's services send it); the same rules as `/_rpc` decide.
#[test]
fn native_rpc_callers_are_who_their_key_or_a_trusted_signature_says() {
    const SECRET: &str = "gateway-secret-for-native-rpc-tests";
    block_on(async {
        let service = DbService::new(
            sqlite(),
            HashedKeys::parse(&HashedKeys::entry_for(ADMIN, "root", "admin")).unwrap(),
        )
        .with_gateway_secret(SECRET);
        let client = TestClient::new(service);
        let upsert = json!({"ns": "native", "id": "n1", "type": "Note", "data": {"text": "hi"}});
        let with_key = json!({"authorization": format!("Bearer {ADMIN}")});
        let written = client
            .native_rpc("upsert_thing", upsert.clone(), with_key)
            .await
            .unwrap();
        assert_eq!(written["version"], 1);

        let signed_as = |secret: &str, role: &str| {
            let principal = dotdo::Principal {
                id: "ann".into(),
                role: role.into(),
                scopes: Vec::new(),
            };
            let headers = dotdo::middleware::forwarding_headers(secret, &principal).unwrap();
            let headers: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(name, value)| (name.to_string(), json!(value.to_str().unwrap())))
                .collect();
            json!({ "headers": headers })
        };
        let get = json!({"ns": "native", "id": "n1"});
        let read = client
            .native_rpc("get_thing", get.clone(), signed_as(SECRET, "viewer"))
            .await
            .unwrap();
        assert_eq!(read["data"]["text"], "hi");
        // A viewer vouched for is still a viewer: writes need a user.
        let refused = client
            .native_rpc("upsert_thing", upsert, signed_as(SECRET, "viewer"))
            .await
            .unwrap_err();
        assert!(refused.starts_with("forbidden: "), "{refused}");
        // Signed with another secret, or not at all: nobody.
        let forged = client
            .native_rpc(
                "get_thing",
                get.clone(),
                signed_as("another-secret", "admin"),
            )
            .await
            .unwrap_err();
        assert!(forged.starts_with("unauthorized: "), "{forged}");
        let anonymous = client
            .native_rpc("get_thing", get, Value::Null)
            .await
            .unwrap_err();
        assert!(anonymous.starts_with("unauthorized: "), "{anonymous}");
    });
}

/// What two writes of one thing that raced could leave behind (a bulk import's consumer wrote
/// version 5 between a PUT's read and its batch, which then wrote version 2 over it): a thing
/// whose history holds a later version than it has. Each later write goes on after every version
/// it ever had, archiving each one once; it was a server error once the thing got back to 5.
#[test]
fn a_write_after_a_race_goes_on_from_the_latest_version_it_ever_had() {
    block_on(async {
        let client = db();
        assert_eq!(
            put(&client, "acme", "doc", "Doc", json!({"n": 1}))
                .await
                .status(),
            200
        );
        for statement in [
            "INSERT INTO thing_versions (ns, id, version, type, data, updated_at) VALUES ('acme', 'doc', 5, 'Doc', '{\"n\":5}', 5)",
            "UPDATE things SET version = 2 WHERE ns = 'acme' AND id = 'doc'",
        ] {
            let response = client
                .post("/_sql")
                .header("authorization", &format!("Bearer {ADMIN}"))
                .json(&json!({"query": statement}))
                .await;
            assert_eq!(response.status(), 200, "{}", response.text());
        }
        let mut versions = Vec::new();
        for n in 0..4 {
            let response = put(&client, "acme", "doc", "Doc", json!({"n": n})).await;
            assert_eq!(response.status(), 200, "{}", response.text());
            versions.push(response.json::<Value>()["version"].as_u64().unwrap());
        }
        assert_eq!(versions, [6, 7, 8, 9]);
        // The version a write expects is still the one it must find.
        let stale = client
            .put("/things/acme/doc")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"type": "Doc", "data": {}, "expected_version": 8}))
            .await;
        assert_eq!(stale.status(), 409);
        let current = client
            .put("/things/acme/doc")
            .header("authorization", &format!("Bearer {ADMIN}"))
            .json(&json!({"type": "Doc", "data": {}, "expected_version": 9}))
            .await;
        assert_eq!(current.json::<Value>()["version"], 10);
    });
}
