//! The JSON-RPC interface and the generated typed client, driven in-process.

mod fixtures;

use dotdo::ErrorKind;
use dotdo::testing::TestClient;
use fixtures::items::{Item, Items, ItemsClient, NewItem, widget};
use futures_executor::block_on;
use serde_json::{Value, json};

fn client() -> TestClient<Items> {
    TestClient::new(Items::with_items([widget()])).as_principal("tester", "user")
}

async fn raw(client: &TestClient<Items>, payload: Value) -> Value {
    let response = client.rpc_raw(payload.to_string().as_bytes()).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    response.json()
}

#[test]
fn params_bind_by_name() {
    block_on(async {
        let item: Item = client().rpc("get_item", json!({"id": "w1"})).await.unwrap();
        assert_eq!(item, widget());
    });
}

#[test]
fn params_bind_by_position() {
    block_on(async {
        let answer = raw(
            &client(),
            json!({"jsonrpc": "2.0", "id": 7, "method": "get_item", "params": ["w1"]}),
        )
        .await;
        assert_eq!(answer["id"], 7);
        assert_eq!(answer["result"]["name"], "widget");
    });
}

#[test]
fn trailing_optional_positional_params_may_be_left_out() {
    block_on(async {
        let answer = raw(
            &client(),
            json!({"jsonrpc": "2.0", "id": 1, "method": "list_items", "params": [1]}),
        )
        .await;
        assert_eq!(answer["result"]["items"].as_array().unwrap().len(), 1);
    });
}

#[test]
fn declared_rpc_names_replace_the_method_name() {
    block_on(async {
        let item: Item = client()
            .rpc("items.update", json!({"id": "w1", "price": 1}))
            .await
            .unwrap();
        assert_eq!(item.price, 1);
        let error = client()
            .rpc::<Item>("update_item", json!({"id": "w1"}))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn batches_answer_every_request_and_skip_notifications() {
    block_on(async {
        let answer = raw(
            &client(),
            json!([
                {"jsonrpc": "2.0", "id": 1, "method": "double", "params": {"n": 2}},
                {"jsonrpc": "2.0", "method": "double", "params": {"n": 3}},
                {"jsonrpc": "2.0", "id": 2, "method": "double", "params": {"n": 4}},
            ]),
        )
        .await;
        assert_eq!(
            answer,
            json!([
                {"jsonrpc": "2.0", "id": 1, "result": 4},
                {"jsonrpc": "2.0", "id": 2, "result": 8},
            ])
        );
    });
}

#[test]
fn a_batch_of_the_maximum_runs_and_one_more_is_refused_whole() {
    block_on(async {
        let call = |id: usize| json!({"jsonrpc": "2.0", "id": id, "method": "double", "params": {"n": id}});
        let full: Vec<Value> = (0..dotdo::rpc::MAX_BATCH_CALLS).map(call).collect();
        let answer = raw(&client(), Value::Array(full)).await;
        assert_eq!(answer.as_array().unwrap().len(), 20);

        let over: Vec<Value> = (0..=dotdo::rpc::MAX_BATCH_CALLS).map(call).collect();
        let response = client()
            .rpc_raw(Value::Array(over).to_string().as_bytes())
            .await;
        assert_eq!(response.status(), 400);
        let answer: Value = response.json();
        assert_eq!(answer["error"]["code"], -32600);
        assert_eq!(answer["id"], Value::Null);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 20 calls, this one 21"),
            "{answer}"
        );
    });
}

#[test]
fn a_payload_of_only_notifications_gets_204() {
    block_on(async {
        let payload = json!({"jsonrpc": "2.0", "method": "double", "params": {"n": 3}});
        let response = client().rpc_raw(payload.to_string().as_bytes()).await;
        assert_eq!(response.status(), 204);
        assert!(response.bytes().is_empty());
    });
}

#[test]
fn rpc_accepts_only_post() {
    block_on(async {
        let response = client().get("/_rpc").await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.header("allow"), Some("POST"));
    });
}

#[test]
fn the_typed_client_calls_every_rpc_method() {
    block_on(async {
        let test = client();
        let items = ItemsClient::new(test.transport());
        assert_eq!(items.get_item("w1".into()).await.unwrap(), widget());
        let created = items
            .create_item(NewItem {
                name: "gizmo".into(),
                price: 3,
                tags: vec![],
            })
            .await
            .unwrap();
        assert_eq!(created.name, "gizmo");
        let updated = items
            .update_item(created.id.clone(), None, Some(4))
            .await
            .unwrap();
        assert_eq!(updated.price, 4);
        let page = items.list_items(Some(10), None).await.unwrap();
        assert_eq!(page.items.len(), 2);
        items.delete_item(created.id).await.unwrap();
        assert_eq!(items.double(21).await.unwrap(), 42);
    });
}

#[test]
fn the_typed_client_gets_errors_back_typed() {
    block_on(async {
        let test = client();
        let items = ItemsClient::new(test.transport());
        let error = items.get_item("missing".into()).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert_eq!(error.message(), "no item `missing`");

        let error = items
            .create_item(NewItem {
                name: " ".into(),
                price: 1,
                tags: vec![],
            })
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidField);
        assert_eq!(error.field(), Some("name"));

        let error = items.broken().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert_eq!(error.message(), "internal server error");
    });
}

mod bad_input {
    use super::*;

    fn error_of(answer: &Value) -> (i64, String) {
        (
            answer["error"]["code"].as_i64().unwrap(),
            answer["error"]["message"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn unknown_method_is_32601() {
        block_on(async {
            let answer = raw(
                &client(),
                json!({"jsonrpc": "2.0", "id": 1, "method": "nope"}),
            )
            .await;
            assert_eq!(error_of(&answer).0, -32601);
            assert_eq!(answer["id"], 1);
        });
    }

    #[test]
    fn bad_params_are_32602_naming_the_field() {
        block_on(async {
            let answer = raw(
                &client(),
                json!({"jsonrpc": "2.0", "id": 1, "method": "double", "params": {"n": "two"}}),
            )
            .await;
            let (code, message) = error_of(&answer);
            assert_eq!(code, -32602);
            assert!(message.contains("`n`"), "{message}");
            assert_eq!(answer["error"]["data"]["field"], "n");
        });
    }

    #[test]
    fn missing_params_are_32602() {
        block_on(async {
            let answer = raw(
                &client(),
                json!({"jsonrpc": "2.0", "id": 1, "method": "get_item"}),
            )
            .await;
            let (code, message) = error_of(&answer);
            assert_eq!(code, -32602);
            assert!(
                message.contains("missing required argument `id`"),
                "{message}"
            );
        });
    }

    #[test]
    fn unknown_named_params_are_32602() {
        block_on(async {
            let answer = raw(
                &client(),
                json!({"jsonrpc": "2.0", "id": 1, "method": "get_item", "params": {"idd": "w1"}}),
            )
            .await;
            assert_eq!(error_of(&answer).0, -32602);
        });
    }

    #[test]
    fn a_payload_that_is_not_json_is_32700() {
        block_on(async {
            let response = client().rpc_raw(b"{not json").await;
            let answer: Value = response.json();
            assert_eq!(error_of(&answer).0, -32700);
            assert_eq!(answer["id"], Value::Null);
        });
    }

    #[test]
    fn json_that_is_not_a_request_is_32600() {
        block_on(async {
            for payload in [
                json!(42),
                json!({"id": 1, "method": "double"}),
                json!({"jsonrpc": "2.0", "id": 1}),
                json!([]),
            ] {
                let answer = raw(&client(), payload.clone()).await;
                assert_eq!(error_of(&answer).0, -32600, "{payload}");
            }
        });
    }

    #[test]
    fn application_errors_carry_their_kind_in_data() {
        block_on(async {
            let answer = raw(
                &client(),
                json!({"jsonrpc": "2.0", "id": 1, "method": "get_item", "params": ["x"]}),
            )
            .await;
            assert_eq!(error_of(&answer).0, -32004);
            assert_eq!(answer["error"]["data"]["kind"], "not_found");
            assert_eq!(answer["error"]["data"]["status"], 404);
        });
    }
}

/// Native Workers RPC (`env.ITEMS.get_item({ id })` from a JavaScript worker) is served as the
/// same JSON-RPC call, so it answers the same and refuses the same.
mod native {
    use super::*;

    #[test]
    fn a_call_answers_the_methods_result_as_a_javascript_value() {
        block_on(async {
            let item = client()
                .native_rpc("get_item", json!({"id": "w1"}), Value::Null)
                .await
                .unwrap();
            assert_eq!(item, serde_json::to_value(widget()).unwrap());
            // No arguments passed: an empty object.
            assert_eq!(
                client()
                    .native_rpc("broken", Value::Null, Value::Null)
                    .await
                    .unwrap_err(),
                "internal: internal server error"
            );
        });
    }

    #[test]
    fn methods_are_named_as_in_rust_even_when_json_rpc_renames_them() {
        block_on(async {
            let item = client()
                .native_rpc("update_item", json!({"id": "w1", "price": 1}), Value::Null)
                .await
                .unwrap();
            assert_eq!(item["price"], 1);
            let unknown = client()
                .native_rpc("items.update", json!({"id": "w1", "price": 1}), Value::Null)
                .await
                .unwrap_err();
            assert!(unknown.contains("no native RPC method"), "{unknown}");
        });
    }

    #[test]
    fn errors_carry_kind_field_and_message() {
        block_on(async {
            let missing = client()
                .native_rpc("get_item", json!({"id": "nope"}), Value::Null)
                .await
                .unwrap_err();
            assert!(missing.starts_with("not_found: "), "{missing}");
            let invalid = client()
                .native_rpc("double", json!({"n": "two"}), Value::Null)
                .await
                .unwrap_err();
            assert!(
                invalid.starts_with("invalid_field (field `n`): "),
                "{invalid}"
            );
            let unknown_argument = client()
                .native_rpc("double", json!({"n": 2, "m": 3}), Value::Null)
                .await
                .unwrap_err();
            assert!(
                unknown_argument.contains("(field `m`)"),
                "{unknown_argument}"
            );
            let positional = client()
                .native_rpc("double", json!([2]), Value::Null)
                .await
                .unwrap_err();
            assert!(positional.starts_with("bad_request: "), "{positional}");
            let bad_options = client()
                .native_rpc("double", json!({"n": 2}), json!({"headers": {"x": 1}}))
                .await
                .unwrap_err();
            assert!(
                bad_options.starts_with("bad_request: the options are"),
                "{bad_options}"
            );
        });
    }

    #[test]
    fn a_caller_without_a_principal_is_refused_as_on_rpc() {
        block_on(async {
            let anonymous = TestClient::new(Items::with_items([widget()]));
            let refused = anonymous
                .native_rpc("get_item", json!({"id": "w1"}), Value::Null)
                .await
                .unwrap_err();
            assert!(refused.starts_with("unauthorized: "), "{refused}");
            let ok: u64 = serde_json::from_value(
                client()
                    .native_rpc("double", json!({"n": 21}), Value::Null)
                    .await
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(ok, 42);
        });
    }
}
