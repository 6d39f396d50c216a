//! The service against a small HTTP server started on loopback (no external API is reachable
//! from CI): the typed upstream client's retries, timeouts and error mapping, and the four
//! interfaces.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread;

use dotdo::{Error, LocalBoxFuture};
use dotdo::middleware::HashedKeys;
use dotdo::testing::{QueueRecorder, TestClient};
use dotdo::upstream::{HttpClient, Retry, Upstream, UpstreamRequest, UpstreamResponse};
use futures_executor::block_on;
use serde_json::{Value, json};
use {{crate_name}}::*;

const KEY: &str = "sk_test_for_tests_00000000000000000000000000";

/// A scripted API on 127.0.0.1: answers each request with the next `(status, body)`, and keeps
/// what it was asked.
struct FakeApi {
    base: String,
    seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

fn fake_api(script: Vec<(u16, &'static str)>) -> FakeApi {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    thread::spawn(move || {
        for (status, body) in script {
            let Ok(mut request) = server.recv() else { return };
            let mut text = String::new();
            std::io::Read::read_to_string(request.as_reader(), &mut text).unwrap();
            let auth = request.headers().iter().find(|h| h.field.equiv("authorization")).map(|h| h.value.to_string()).unwrap_or_default();
            log.lock().unwrap().push((format!("{} {}", request.method(), request.url()), auth, text));
            let response = tiny_http::Response::from_string(body).with_status_code(status).with_header(
                tiny_http::Header::from_bytes("retry-after", "1").unwrap(),
            );
            request.respond(response).unwrap();
        }
    });
    FakeApi { base, seen }
}

/// A blocking HTTP client for tests; sleeps are recorded, not slept.
struct TestHttp {
    slept: Rc<std::cell::RefCell<Vec<u64>>>,
}

impl HttpClient for TestHttp {
    fn send(&self, request: UpstreamRequest) -> LocalBoxFuture<'_, Result<UpstreamResponse, Error>> {
        let agent = ureq::AgentBuilder::new().timeout(std::time::Duration::from_millis(u64::from(request.timeout_ms))).build();
        let call = request.headers.iter().fold(agent.request(request.method.as_str(), &request.url), |call, (name, value)| call.set(name, value));
        let result = match &request.body {
            Some(body) => call.send_bytes(body),
            None => call.call(),
        };
        let outcome = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => {
                let status = response.status();
                let retry_after = response.header("retry-after").and_then(|value| value.parse().ok());
                Ok(UpstreamResponse { status, retry_after, body: response.into_string().unwrap_or_default().into_bytes() })
            }
            Err(error) => Err(Error::upstream(error.to_string())),
        };
        Box::pin(async move { outcome })
    }

    fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()> {
        self.slept.borrow_mut().push(millis);
        Box::pin(async {})
    }
}

fn service(api: &FakeApi, webhooks: Option<Rc<QueueRecorder>>) -> (TestClient<{{crate_name | pascal_case}}>, Rc<std::cell::RefCell<Vec<u64>>>) {
    let slept = Rc::new(std::cell::RefCell::new(Vec::new()));
    let upstream = Upstream::new(&api.base).bearer("upstream-secret").timeout_ms(2_000).client(Rc::new(TestHttp { slept: slept.clone() }));
    let keys = HashedKeys::parse(&HashedKeys::entry_for(KEY, "tester", "admin")).unwrap();
    let webhooks = webhooks.map(|recorder| recorder as Rc<dyn dotdo::queue::Producer>);
    (TestClient::new({{crate_name | pascal_case}}::new(upstream, webhooks, keys, WEBHOOK_SECRET)), slept)
}

const WEBHOOK_SECRET: &str = "whsec_for_tests";

/// A webhook as the external API sends it: the raw body and its signature header.
fn signed_webhook(body: &str) -> (String, String) {
    let signature = dotdo::middleware::WebhookSignature::hmac_sha256(WEBHOOK_SECRET).sign(dotdo::clock::now_seconds(), body.as_bytes());
    (body.to_owned(), signature)
}

#[test]
fn unsigned_forged_and_tampered_webhooks_are_refused_before_anything_runs() {
    let api = fake_api(vec![]);
    let recorder = Rc::new(QueueRecorder::default());
    let (client, _) = service(&api, Some(recorder.clone()));
    let (body, signature) = signed_webhook(r#"{"record_id":"r1","action":"closed"}"#);
    let post = |body: &str, signature: Option<&str>| {
        let mut request = client.post("/webhooks").header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("x-signature", signature);
        }
        block_on(request.body(body.to_owned()).send())
    };
    assert_eq!(post(&body, None).status(), 401, "unsigned");
    let forged = dotdo::middleware::WebhookSignature::hmac_sha256("guessed").sign(dotdo::clock::now_seconds(), body.as_bytes());
    assert_eq!(post(&body, Some(&forged)).status(), 401, "signed with another secret");
    let tampered = body.replace("closed", "deleted");
    assert_eq!(post(&tampered, Some(&signature)).status(), 401, "the body changed after signing");
    assert!(recorder.sent().is_empty(), "nothing was queued");
    assert!(api.seen.lock().unwrap().is_empty(), "nothing reached the API");
}

#[test]
fn creating_records_needs_a_signed_in_user() {
    let api = fake_api(vec![]);
    let (client, _) = service(&api, None);
    let response = block_on(client.post("/records").json(&json!({"title": "Anonymous"})).send());
    assert_eq!(response.status(), 401);
    assert!(api.seen.lock().unwrap().is_empty());
}

#[test]
fn records_are_fetched_with_the_api_key() {
    let api = fake_api(vec![(200, r#"{"id":"r1","title":"First","status":"open"}"#)]);
    let (client, _) = service(&api, None);
    let record: Value = block_on(client.get("/records/r1").send()).json();
    assert_eq!(record, json!({"id": "r1", "title": "First", "status": "open"}));
    let seen = api.seen.lock().unwrap();
    assert_eq!(seen[0].0, "GET /v1/records/r1");
    assert_eq!(seen[0].1, "Bearer upstream-secret");
}

#[test]
fn a_429_then_a_5xx_are_retried_with_backoff_and_the_third_answer_wins() {
    let api = fake_api(vec![(429, "slow down"), (503, "busy"), (200, r#"{"id":"r2","title":"Second"}"#)]);
    let (client, slept) = service(&api, None);
    let response = block_on(client.get("/records/r2").send());
    assert_eq!(response.status(), 200, "{}", response.text());
    assert_eq!(api.seen.lock().unwrap().len(), Retry::default().attempts as usize);
    // Retry-After (1 s) is honoured for both answers that carried it.
    assert_eq!(*slept.borrow(), [1000, 1000]);
}

#[test]
fn upstream_errors_map_to_dotdo_errors() {
    let cases: Vec<(u16, u16)> = vec![(404, 404), (400, 400), (409, 409), (401, 500)];
    for (upstream, expected) in cases {
        let api = fake_api(vec![(upstream, "{}")]);
        let (client, _) = service(&api, None);
        let response = block_on(client.get("/records/x").send());
        assert_eq!(response.status(), expected, "upstream {upstream}: {}", response.text());
        assert!(!response.text().contains("upstream-secret"));
    }
    let api = fake_api(vec![(500, "{}"), (500, "{}"), (500, "{}")]);
    let (client, _) = service(&api, None);
    assert_eq!(block_on(client.get("/records/x").send()).status(), 502, "5xx after every retry is an upstream failure");
}

#[test]
fn a_create_that_failed_upstream_is_not_repeated() {
    // After a 5xx the API may have made the record: a second POST could make it twice.
    let api = fake_api(vec![(503, "busy")]);
    let (client, slept) = service(&api, None);
    let response = block_on(client.post("/records").header("authorization", &format!("Bearer {KEY}")).json(&json!({"title": "Once"})).send());
    assert_eq!(response.status(), 502);
    assert_eq!(api.seen.lock().unwrap().len(), 1);
    assert!(slept.borrow().is_empty());
}

#[test]
fn a_dead_api_is_an_upstream_error_not_a_hang() {
    let api = FakeApi { base: "http://127.0.0.1:9".into(), seen: Default::default() };
    let (client, slept) = service(&api, None);
    let response = block_on(client.get("/records/x").send());
    assert_eq!(response.status(), 502);
    assert_eq!(slept.borrow().len(), (Retry::default().attempts - 1) as usize, "retried with backoff before giving up");
}

#[test]
fn create_goes_through_rpc_with_a_key() {
    let api = fake_api(vec![(201, r#"{"id":"r9","title":"Made"}"#)]);
    let (client, _) = service(&api, None);
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "create_record", "params": {"record": {"title": "Made"}}});
    assert_eq!(block_on(client.post("/_rpc").json(&call).send()).status(), 401);
    let answer: Value = block_on(client.post("/_rpc").header("authorization", &format!("Bearer {KEY}")).json(&call).send()).json();
    assert_eq!(answer["result"]["id"], "r9");
    assert_eq!(api.seen.lock().unwrap()[0].2, r#"{"title":"Made"}"#);
}
{%- if with_mcp %}

#[test]
fn mcp_exposes_the_integration() {
    let api = fake_api(vec![(200, r#"{"id":"m1","title":"Via MCP"}"#)]);
    let (client, _) = service(&api, None);
    let names: Vec<String> = block_on(client.mcp_tools()).iter().map(|tool| tool["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["get_record", "create_record"]);
    let result = block_on(client.mcp_call("get_record", json!({"id": "m1"}))).unwrap();
    assert_eq!(result["structuredContent"]["title"], "Via MCP");
}
{%- endif %}
{%- if with_queue %}

#[test]
fn webhooks_are_queued_then_processed_and_upstream_failures_retry() {
    let api = fake_api(vec![(503, "busy"), (503, "busy"), (503, "busy"), (200, r#"{"ok":true}"#)]);
    let recorder = Rc::new(QueueRecorder::default());
    let (client, _) = service(&api, Some(recorder.clone()));
    let (body, signature) = signed_webhook(r#"{"record_id":"r1","action":"closed"}"#);
    let accepted = block_on(client.post("/webhooks").header("content-type", "application/json").header("x-signature", &signature).body(body).send());
    assert_eq!(accepted.status(), 202);
    let bodies = recorder.bodies();
    assert_eq!(bodies[0]["type"], "webhook.received");
    // The API fails three times: the message is retried, not dropped.
    let first = block_on(client.queue("{{project-name}}-webhooks", bodies.clone()));
    assert!(matches!(first[0], dotdo::queue::Outcome::Retry { .. }), "{first:?}");
    let second = block_on(client.queue("{{project-name}}-webhooks", bodies));
    assert_eq!(second, [dotdo::queue::Outcome::Ack]);
    assert_eq!(api.seen.lock().unwrap().last().unwrap().0, "POST /v1/records/r1/ack");
}
{%- endif %}
