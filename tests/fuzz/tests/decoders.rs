//! Fuzz targets for every decoder that takes untrusted bytes, as property tests: each feeds
//! arbitrary and near-valid input and checks that nothing panics, every answer is well formed,
//! and nothing internal leaks. The number of cases per target is `DOTDO_FUZZ_CASES` (default
//! 2,000: the test command's budget); `scripts/fuzz.sh` runs the long campaign recorded in
//! docs/security.md.

#[path = "../../../dotdo/tests/fixtures/items.rs"]
#[allow(dead_code)]
mod items;

use dotdo::Service;
use dotdo::middleware::{HashedKeys, Jwt, TrustGateway, WebhookSignature, sign_forwarded};
use dotdo::queue::{Outcome, QueueMessage};
use futures_executor::block_on;
use items::{Items, widget};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    let cases = std::env::var("DOTDO_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2_000);
    // No shrinking and no persistence files: a failure prints its input, which is enough.
    ProptestConfig {
        cases,
        max_shrink_iters: 0,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, nested a few levels.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("w1"),
            Just("2.0"),
            Just("item.created"),
            Just("tools/call"),
            Just("get_item")
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("jsonrpc".to_owned()),
                    Just("id".to_owned()),
                    Just("method".to_owned()),
                    Just("params".to_owned()),
                    Just("name".to_owned()),
                    Just("arguments".to_owned()),
                    Just("type".to_owned()),
                    Just("data".to_owned()),
                    Just("price".to_owned()),
                    Just("_meta".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6,
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Bytes that are sometimes JSON, sometimes almost, sometimes noise.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|value| value.to_string().into_bytes()),
        json().prop_map(|value| {
            let mut text = value.to_string().into_bytes();
            text.truncate(text.len() / 2);
            text
        }),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("items".to_owned()),
        Just("numbers".to_owned()),
        Just("double".to_owned()),
        Just("files".to_owned()),
        Just("_rpc".to_owned()),
        Just("mcp".to_owned()),
        Just("w1".to_owned()),
        Just("%2F".to_owned()),
        Just("%ZZ".to_owned()),
        Just("..".to_owned()),
        "[0-9]{1,25}",
        "[a-zA-Z0-9%._~:@!$&'()*+,;=-]{0,10}",
    ];
    (
        prop::collection::vec(segment, 0..5),
        "([a-z]{1,6}=[a-zA-Z0-9%&=+]{0,10}){0,3}",
    )
        .prop_map(|(segments, query)| {
            let path = format!("/{}", segments.join("/"));
            if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            }
        })
}

fn method() -> impl Strategy<Value = http::Method> {
    prop_oneof![
        Just(http::Method::GET),
        Just(http::Method::POST),
        Just(http::Method::PUT),
        Just(http::Method::PATCH),
        Just(http::Method::DELETE),
        Just(http::Method::HEAD),
        Just(http::Method::OPTIONS),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/json, text/event-stream".to_owned()),
        Just("2025-11-25".to_owned()),
        Just("2026-07-28".to_owned()),
        Just("http://evil.example".to_owned()),
        Just("Bearer sk_test_x".to_owned()),
        "[ -~]{0,24}",
    ]
}

/// A response as every decoder must give one: an error is problem+json with its own status
/// (or a JSON-RPC/MCP answer), and no internal detail leaks.
fn check_response(response: &dotdo::http::Response) -> Result<(), TestCaseError> {
    let status = response.status().as_u16();
    let Some(bytes) = response.body().as_bytes() else {
        return Err(TestCaseError::fail("no decoder answers with a stream"));
    };
    if bytes.is_empty() {
        // HEAD, 204 and 202 answers carry no body.
        return Ok(());
    }
    let body = String::from_utf8_lossy(bytes);
    prop_assert!(
        !body.contains("hunter2"),
        "an internal detail leaked: {body}"
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if status >= 400 && content_type == "application/problem+json" {
        let problem: Value = serde_json::from_slice(bytes)
            .map_err(|error| TestCaseError::fail(format!("problem body: {error}")))?;
        prop_assert_eq!(problem["status"].as_u64(), Some(u64::from(status)));
    }
    if content_type == "application/json" {
        prop_assert!(
            serde_json::from_slice::<Value>(bytes).is_ok(),
            "a JSON answer that is not JSON: {}",
            body
        );
    }
    Ok(())
}

fn request(
    method: http::Method,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Option<http::Request<Vec<u8>>> {
    let mut builder = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, value.as_str());
    }
    builder.body(body).ok()
}

/// A type with every shape arguments have: nested structs, sequences, options, a map, enums of
/// each kind, a newtype and a type with its own check.
#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Order {
    id: u32,
    name: String,
    #[serde(default)]
    items: Vec<Line>,
    price: Option<f64>,
    #[serde(default)]
    data: std::collections::BTreeMap<String, Value>,
    #[serde(default, rename = "type")]
    kind: Option<Kind>,
    #[serde(default)]
    params: Option<(bool, Even)>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
struct Line {
    name: String,
    price: i64,
    #[serde(default)]
    data: Option<Box<Line>>,
}

#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Plain,
    Gift { name: String },
    Split(u8, u8),
    Id(String),
}

#[derive(Debug, PartialEq, serde::Deserialize)]
#[serde(try_from = "i64")]
struct Even(i64);

impl TryFrom<i64> for Even {
    type Error = String;
    fn try_from(number: i64) -> Result<Self, String> {
        if number % 2 == 0 {
            Ok(Even(number))
        } else {
            Err(format!("{number} is odd"))
        }
    }
}

/// Values shaped like an `Order` at every level, each member sometimes any JSON at all.
fn order_like() -> impl Strategy<Value = Value> {
    let line = (".{0,4}", any::<i64>(), json()).prop_map(
        |(name, price, data)| serde_json::json!({"name": name, "price": price, "data": data}),
    );
    let kind = prop_oneof![
        Just(serde_json::json!("plain")),
        ".{0,4}".prop_map(|name| serde_json::json!({"gift": {"name": name}})),
        (any::<u8>(), any::<u16>()).prop_map(|(a, b)| serde_json::json!({"split": [a, b]})),
        ".{0,4}".prop_map(|id| serde_json::json!({"id": id})),
        json(),
    ];
    let member = |valid: BoxedStrategy<Value>| prop_oneof![3 => valid, 1 => json()];
    (
        member(any::<u32>().prop_map(Value::from).boxed()),
        member(".{0,6}".prop_map(Value::from).boxed()),
        member(prop::collection::vec(prop_oneof![3 => line, 1 => json()], 0..4).prop_map(Value::Array).boxed()),
        member(kind.boxed()),
        member((any::<bool>(), -4i64..4).prop_map(|(flag, n)| serde_json::json!([flag, n])).boxed()),
        json(),
        prop::option::of("[a-z_]{1,8}"),
    )
        .prop_map(|(id, name, items, kind, params, data, extra)| {
            let mut order = serde_json::json!({
                "id": id, "name": name, "items": items, "type": kind, "params": params, "data": data,
            });
            if let Some(extra) = extra {
                order[extra] = Value::Bool(true);
            }
            order
        })
}

/// What `dotdo::json::from_value` refuses on purpose where serde_json takes it: a struct from an
/// array of its fields.
fn refused_struct_from_array(error: &dotdo::json::ValueError) -> bool {
    error
        .inner()
        .to_string()
        .starts_with("invalid type: sequence, expected struct")
}

proptest! {
    #![proptest_config(config())]

    /// Routing and argument binding from path, query and body, on every verb.
    #[test]
    fn http_routes_answer_every_request(method in method(), path in path(), content_type in header_value(), body in body()) {
        let service = Items::with_items([widget()]);
        if let Some(request) = request(method, &path, &[("content-type", content_type)], body) {
            let response = block_on(dotdo::http::serve(&service, request));
            check_response(&response)?;
            // Only the route that fails on purpose is a 500.
            prop_assert!(response.status() != 500 || path.starts_with("/broken"), "{path}: 500");
        }
    }

    /// JSON-RPC envelopes and batches: an answer that is JSON, or none for notifications.
    #[test]
    fn json_rpc_answers_every_payload(body in body()) {
        let service = Items::with_items([widget()]);
        let request = request(http::Method::POST, "/_rpc", &[("content-type", "application/json".to_owned()), ("authorization", "Bearer none".to_owned())], body.clone());
        let mut context = dotdo::Context::new(dotdo::Interface::Rpc);
        context.set_principal(dotdo::Principal { id: "fuzz".into(), role: "admin".into(), scopes: vec![] });
        if let Some(answer) = block_on(dotdo::rpc::handle_body(&service, &context, &body)) {
            prop_assert!(serde_json::from_slice::<Value>(&answer).is_ok());
        }
        let response = block_on(dotdo::http::serve(&service, request.expect("a valid request")));
        check_response(&response)?;
    }

    /// MCP envelopes of both eras, with arbitrary protocol headers.
    #[test]
    fn mcp_answers_every_message(body in body(), version in header_value(), accept in header_value(), name in header_value()) {
        let service = Items::with_items([widget()]);
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("accept", accept),
            ("mcp-protocol-version", version),
            ("mcp-method", "tools/call".to_owned()),
            ("mcp-name", name),
        ];
        if let Some(request) = request(http::Method::POST, "/mcp", &headers, body) {
            let response = block_on(dotdo::http::serve(&service, request));
            check_response(&response)?;
            prop_assert!(response.status() != 500);
        }
    }

    /// Queue envelopes: every message gets an outcome; one that cannot decode is a dead letter.
    #[test]
    fn queue_messages_always_get_an_outcome(body in json(), attempts in 1u32..50) {
        let service = Items::default();
        let message = QueueMessage { id: "m".into(), body, attempts };
        let outcome = block_on(dotdo::queue::dispatch(&service, "items", &message));
        if let Outcome::Retry { delay_seconds } = outcome {
            prop_assert!(delay_seconds <= dotdo::queue::MAX_QUEUE_DELAY_SECONDS);
        }
    }

    /// dotdo's `Value` decoder against `serde_path_to_error` over serde_json's: the same value,
    /// or the same path and message, but where it refuses a struct from an array on purpose.
    #[test]
    fn json_values_decode_as_serde_path_to_error_decodes_them(value in prop_oneof![order_like(), json()]) {
        let ours = dotdo::json::from_value::<Order>(value.clone());
        let theirs = serde_path_to_error::deserialize::<_, Order>(value.clone());
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
            (Err(ours), Ok(_)) => prop_assert!(refused_struct_from_array(&ours), "{value}: {ours}"),
            (Ok(_), Err(theirs)) => prop_assert!(false, "{value}: accepted what serde_json refuses: {theirs}"),
            (Err(ours), Err(theirs)) => {
                if !refused_struct_from_array(&ours) {
                    prop_assert_eq!(ours.path(), theirs.path().to_string(), "{}", value);
                    prop_assert_eq!(ours.inner().to_string(), theirs.inner().to_string(), "{}", value);
                }
            }
        }
    }

    /// JWTs: arbitrary text never verifies, a valid token altered at any byte never does.
    #[test]
    fn jwts_verify_only_as_signed(text in "[ -~]{0,200}", flip in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let jwt = Jwt::hs256("fuzz-secret", "fuzz").with_clock(|| 1_800_000_000);
        prop_assert!(jwt.verify(&text).is_err());
        let token = jwt.sign(&serde_json::json!({"sub": "u", "aud": "fuzz", "exp": 1_800_003_600}));
        prop_assert!(jwt.verify(&token).is_ok());
        let mut altered = token.clone().into_bytes();
        let at = flip.index(altered.len());
        if altered[at] != byte {
            altered[at] = byte;
            if let Ok(altered) = String::from_utf8(altered) {
                prop_assert!(jwt.verify(&altered).is_err(), "an altered token verified: {altered}");
            }
        }
    }

    /// API-key lists, forwarded principals and webhook signatures: parsed without panics, and
    /// never accepted unless made with the secret.
    #[test]
    fn credentials_parse_without_panics_and_never_verify_unsigned(text in "[ -~\n]{0,200}", header in "[ -~]{0,120}", body in body()) {
        let _ = HashedKeys::parse(&text);
        let mut headers = http::HeaderMap::new();
        if let (Ok(gateway), Ok(principal)) = (http::HeaderValue::from_str(&header), http::HeaderValue::from_str(&text.replace('\n', " "))) {
            headers.insert(dotdo::middleware::GATEWAY_HEADER, gateway);
            headers.insert(dotdo::middleware::PRINCIPAL_HEADER, principal);
        }
        let context = dotdo::Context::from_headers(dotdo::Interface::Http, headers);
        prop_assert!(TrustGateway::new("fuzz-secret").verify(&context).is_none());
        let signature = WebhookSignature::hmac_sha256("fuzz-secret");
        prop_assert!(signature.verify(Some(&header), &body).is_err());
        let now = dotdo::clock::now_seconds();
        prop_assert!(signature.verify(Some(&signature.sign(now, &body)), &body).is_ok());
        let principal = dotdo::Principal { id: "u".into(), role: "user".into(), scopes: vec![] };
        prop_assert!(sign_forwarded("fuzz-secret", &principal, "req", now).is_some());
    }
}

#[test]
fn the_fixture_has_the_routes_the_targets_aim_at() {
    let routes: Vec<&str> = Items::description()
        .routes
        .iter()
        .map(|route| route.path)
        .collect();
    for wanted in [
        "/items/:id",
        "/items",
        "/numbers/:n/double",
        "/files/*path",
        "/broken",
    ] {
        assert!(routes.contains(&wanted), "{wanted} in {routes:?}");
    }
}
