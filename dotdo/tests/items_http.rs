//! The HTTP interface of a generated service, driven in-process.

mod fixtures;

use dotdo::testing::TestClient;
use fixtures::items::{Item, Items, widget};
use futures_executor::block_on;
use serde_json::{Value, json};

fn client() -> TestClient<Items> {
    TestClient::new(Items::with_items([widget()]))
}

#[test]
fn path_segments_bind_to_arguments_by_name() {
    block_on(async {
        let response = client().get("/items/w1").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.json::<Item>(), widget());
    });
}

#[test]
fn typed_path_segments_are_parsed() {
    block_on(async {
        let response = client().get("/numbers/21/double").await;
        assert_eq!(response.json::<u64>(), 42);
    });
}

#[test]
fn wildcard_segments_take_the_rest_of_the_path_decoded() {
    block_on(async {
        let response = client().get("/files/docs/read%20me.md").await;
        assert_eq!(response.json::<String>(), "docs/read me.md");
    });
}

#[test]
fn query_parameters_bind_optional_arguments() {
    block_on(async {
        let client = client();
        for name in ["a", "b", "c"] {
            client
                .post("/items")
                .json(&json!({"name": name, "price": 1}))
                .await;
        }
        let page: Value = client.get("/items?limit=2").await.json();
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let rest: Value = client
            .get(&format!("/items?limit=2&cursor={cursor}"))
            .await
            .json();
        assert_eq!(rest["items"].as_array().unwrap().len(), 2);
        assert_eq!(rest["next_cursor"], Value::Null);
    });
}

#[test]
fn a_single_body_argument_is_the_whole_json_body_and_status_is_declared() {
    block_on(async {
        let response = client()
            .post("/items")
            .json(&json!({"name": "gadget", "price": 5}))
            .await;
        assert_eq!(response.status(), 201);
        let item: Item = response.json();
        assert_eq!(item.name, "gadget");
        assert_eq!(item.price, 5);
    });
}

#[test]
fn several_body_arguments_are_the_fields_of_the_json_body() {
    block_on(async {
        let response = client()
            .patch("/items/w1")
            .json(&json!({"price": 999}))
            .await;
        assert_eq!(response.status(), 200, "{}", response.text());
        let item: Item = response.json();
        assert_eq!((item.name.as_str(), item.price), ("widget", 999));
    });
}

#[test]
fn methods_returning_unit_answer_204_without_a_body() {
    block_on(async {
        let client = client();
        let response = client.delete("/items/w1").await;
        assert_eq!(response.status(), 204);
        assert!(response.bytes().is_empty());
        assert_eq!(client.service().count(), 0);
    });
}

#[test]
fn the_context_carries_the_incoming_request_id() {
    block_on(async {
        let response = client()
            .get("/whoami")
            .header("x-request-id", "req-42")
            .await;
        assert_eq!(response.json::<String>(), "req-42");
        assert_eq!(response.header("x-request-id"), Some("req-42"));
    });
}

#[test]
fn an_invalid_incoming_request_id_is_replaced() {
    block_on(async {
        let response = client()
            .get("/whoami")
            .header("x-request-id", "bad id with spaces")
            .await;
        let id = response.json::<String>();
        assert_ne!(id, "bad id with spaces");
        assert_eq!(response.header("x-request-id"), Some(id.as_str()));
    });
}

#[test]
fn head_answers_like_get_without_a_body() {
    block_on(async {
        let get = client().get("/items/w1").await;
        let head = client().request(http::Method::HEAD, "/items/w1").await;
        assert_eq!(head.status(), 200);
        assert!(head.bytes().is_empty());
        assert_eq!(
            head.header("content-length"),
            Some(get.bytes().len().to_string().as_str())
        );
    });
}

#[test]
fn options_lists_the_allowed_methods() {
    block_on(async {
        let response = client().request(http::Method::OPTIONS, "/items/w1").await;
        assert_eq!(response.status(), 204);
        assert_eq!(
            response.header("allow"),
            Some("GET, HEAD, PATCH, DELETE, OPTIONS")
        );
    });
}

mod bad_input {
    use super::*;

    fn problem(response: &dotdo::testing::TestResponse) -> Value {
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json")
        );
        response.json()
    }

    #[test]
    fn malformed_json_body_is_400() {
        block_on(async {
            let response = client()
                .post("/items")
                .header("content-type", "application/json")
                .body("{\"name\": ")
                .await;
            assert_eq!(response.status(), 400);
            let body = problem(&response);
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("malformed JSON body"),
                "{body}"
            );
            assert_eq!(body["status"], 400);
        });
    }

    #[test]
    fn wrong_json_type_for_a_field_is_422_naming_the_field() {
        block_on(async {
            let response = client()
                .post("/items")
                .json(&json!({"name": "x", "price": "cheap"}))
                .await;
            assert_eq!(response.status(), 422);
            let body = problem(&response);
            assert_eq!(body["field"], "price");
            assert!(
                body["detail"].as_str().unwrap().contains("`price`"),
                "{body}"
            );
        });
    }

    #[test]
    fn missing_required_argument_is_422_naming_it() {
        block_on(async {
            let response = client().post("/items").json(&json!({"price": 1})).await;
            assert_eq!(response.status(), 422);
            assert_eq!(problem(&response)["field"], "name");
        });
    }

    #[test]
    fn missing_body_is_422_naming_the_argument() {
        block_on(async {
            let response = client().post("/items").await;
            assert_eq!(response.status(), 422);
            let body = problem(&response);
            assert_eq!(body["field"], "item");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("missing required argument `item`"),
                "{body}"
            );
        });
    }

    /// serde_json would take a struct from an array of its fields; the schema says object.
    #[test]
    fn an_array_for_an_object_argument_is_422() {
        block_on(async {
            let response = client().post("/items").json(&json!(["x", 1])).await;
            assert_eq!(response.status(), 422);
            let body = problem(&response);
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("invalid type: sequence, expected struct NewItem"),
                "{body}"
            );
        });
    }

    #[test]
    fn unparsable_path_segment_is_400_naming_the_segment() {
        block_on(async {
            let response = client().get("/numbers/twenty/double").await;
            assert_eq!(response.status(), 400);
            let body = problem(&response);
            assert_eq!(body["field"], "n");
            assert!(body["detail"].as_str().unwrap().contains("`n`"), "{body}");
        });
    }

    #[test]
    fn invalid_query_parameter_is_422_naming_it() {
        block_on(async {
            let response = client().get("/items?limit=many").await;
            assert_eq!(response.status(), 422);
            assert_eq!(problem(&response)["field"], "limit");
        });
    }

    #[test]
    fn unknown_path_is_404() {
        block_on(async {
            let response = client().get("/nothing/here").await;
            assert_eq!(response.status(), 404);
            assert!(
                problem(&response)["detail"]
                    .as_str()
                    .unwrap()
                    .contains("/nothing/here")
            );
        });
    }

    #[test]
    fn known_path_with_another_method_is_405_with_allow() {
        block_on(async {
            let response = client().put("/items/w1").await;
            assert_eq!(response.status(), 405);
            assert_eq!(
                response.header("allow"),
                Some("GET, HEAD, PATCH, DELETE, OPTIONS")
            );
            problem(&response);
        });
    }

    #[test]
    fn a_body_that_is_not_json_is_415() {
        block_on(async {
            let response = client()
                .post("/items")
                .header("content-type", "text/plain")
                .body("hello")
                .await;
            assert_eq!(response.status(), 415);
            problem(&response);
        });
    }

    #[test]
    fn a_body_of_fields_that_is_not_an_object_is_400() {
        block_on(async {
            let response = client().patch("/items/w1").json(&json!([1, 2])).await;
            assert_eq!(response.status(), 400);
            assert!(
                problem(&response)["detail"]
                    .as_str()
                    .unwrap()
                    .contains("must be a JSON object")
            );
        });
    }

    #[test]
    fn unknown_body_fields_are_422_listing_the_expected_ones() {
        block_on(async {
            let response = client().patch("/items/w1").json(&json!({"prize": 3})).await;
            assert_eq!(response.status(), 422);
            let body = problem(&response);
            assert_eq!(body["field"], "prize");
            assert!(
                body["detail"].as_str().unwrap().contains("`price`"),
                "{body}"
            );
        });
    }

    #[test]
    fn application_errors_keep_their_status_and_message() {
        block_on(async {
            let response = client().get("/items/nope").await;
            assert_eq!(response.status(), 404);
            let body = problem(&response);
            assert_eq!(body["kind"], "not_found");
            assert_eq!(body["detail"], "no item `nope`");
        });
    }

    #[test]
    fn internal_errors_are_500_without_their_detail() {
        block_on(async {
            let response = client().get("/broken").await;
            assert_eq!(response.status(), 500);
            assert!(!response.text().contains("hunter2"), "{}", response.text());
            assert_eq!(problem(&response)["detail"], "internal server error");
        });
    }
}
