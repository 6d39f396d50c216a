//! The email service in-process: its SQL on SQLite, its sends delivered by the test client as
//! Queues would deliver them, the provider a Resend-compatible stand-in on loopback reached over
//! real HTTP by the service's typed upstream client.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::thread;

use dotdo::email::InboundEmail;
use dotdo::middleware::HashedKeys;
use dotdo::queue::Outcome;
use dotdo::testing::{QueueRecorder, TestClient};
use dotdo::upstream::{HttpClient, Retry, Upstream, UpstreamRequest, UpstreamResponse};
use dotdo::{Error, LocalBoxFuture};
use dotdo_email::{Mail, ResendApi};
use futures_executor::block_on;
use serde_json::{Value, json};

/// One request the stand-in got: method and path, `Authorization`, `Idempotency-Key`, body.
type Seen = (String, String, String, Value);

/// A Resend-compatible API on 127.0.0.1: answers each request with the next `(status, body)`,
/// keeping what it was sent.
struct Provider {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn provider(script: Vec<(u16, &'static str)>) -> Provider {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let base = format!("http://{}", server.server_addr().to_ip().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    thread::spawn(move || {
        for (status, body) in script {
            let Ok(mut request) = server.recv() else {
                return;
            };
            let mut text = String::new();
            std::io::Read::read_to_string(request.as_reader(), &mut text).unwrap();
            let header = |name: &'static str| {
                request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv(name))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default()
            };
            let entry = (
                format!("{} {}", request.method(), request.url()),
                header("authorization"),
                header("idempotency-key"),
                serde_json::from_str(&text).unwrap_or(Value::Null),
            );
            log.lock().unwrap().push(entry);
            request
                .respond(tiny_http::Response::from_string(body).with_status_code(status))
                .unwrap();
        }
    });
    Provider { base, seen }
}

/// A blocking HTTP client for tests; waits between attempts are skipped.
struct Blocking;

impl HttpClient for Blocking {
    fn send(
        &self,
        request: UpstreamRequest,
    ) -> LocalBoxFuture<'_, Result<UpstreamResponse, Error>> {
        let agent = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_millis(u64::from(
                request.timeout_ms,
            )))
            .build();
        let call = request.headers.iter().fold(
            agent.request(request.method.as_str(), &request.url),
            |call, (name, value)| call.set(name, value),
        );
        let result = match &request.body {
            Some(body) => call.send_bytes(body),
            None => call.call(),
        };
        let outcome = match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(UpstreamResponse {
                status: response.status(),
                retry_after: None,
                body: response.into_string().unwrap_or_default().into_bytes(),
            }),
            Err(error) => Err(Error::upstream(error.to_string())),
        };
        Box::pin(async move { outcome })
    }

    fn sleep(&self, _: u64) -> LocalBoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

struct Setup {
    client: TestClient<Mail>,
    sends: Rc<QueueRecorder>,
    provider: Provider,
}

fn setup(script: Vec<(u16, &'static str)>) -> Setup {
    let provider = provider(script);
    let api = Upstream::new(&provider.base)
        .bearer("re_test_key")
        .timeout_ms(2_000)
        // One attempt per delivery: the queue retries, with its backoff.
        .retry(Retry {
            attempts: 1,
            ..Retry::default()
        })
        .client(Rc::new(Blocking));
    let sends = Rc::new(QueueRecorder::default());
    let mail = Mail::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_email::MIGRATIONS),
        sends.clone(),
        Rc::new(ResendApi(api)),
        "noreply@example.com",
        HashedKeys::default(),
    );
    Setup {
        // An admin holds every role: `service` to send, `admin` to read the log.
        client: TestClient::new(mail).as_principal("ops", "admin"),
        sends,
        provider,
    }
}

/// The service as one role sees it, with no provider reachable.
fn as_role(role: &str) -> TestClient<Mail> {
    TestClient::new(Mail::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_email::MIGRATIONS),
        Rc::new(QueueRecorder::default()),
        Rc::new(ResendApi(Upstream::new("http://127.0.0.1:9"))),
        "noreply@example.com",
        HashedKeys::default(),
    ))
    .as_principal("someone", role)
}

impl Setup {
    async fn send(&self, email: Value) -> Value {
        let response = self.client.post("/send").json(&email).await;
        assert_eq!(response.status(), 202, "{}", response.text());
        response.json()
    }

    async fn deliver(&self) -> Vec<Outcome> {
        let bodies = self.sends.bodies();
        self.sends.clear();
        self.client.queue("dotdo-email-sends", bodies).await
    }

    async fn log(&self, id: &str) -> Value {
        self.client.get(&format!("/sends/{id}")).await.json()
    }
}

const OK: &str = r#"{"id": "re_123"}"#;

#[test]
fn a_templated_email_is_rendered_queued_and_sent_through_the_provider() {
    block_on(async {
        let setup = setup(vec![(200, OK)]);
        let template = json!({"subject": "Invoice {{number}}", "text": "Hello {{name}}, you owe {{amount}}.", "html": "<p>Hello {{name}}</p>"});
        let stored = setup.client.put("/templates/invoice").json(&template).await;
        assert_eq!(stored.status(), 200, "{}", stored.text());
        let queued = setup
            .send(json!({"to": "Ada@Example.com", "template": "invoice", "variables": {"number": 42, "name": "<Ada>", "amount": "$12"}}))
            .await;
        assert_eq!(queued["status"], "queued");
        assert_eq!(queued["to"], "ada@example.com");
        assert_eq!(queued["subject"], "Invoice 42");
        assert_eq!(setup.deliver().await, [Outcome::Ack]);
        let seen = setup.provider.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        let (request, auth, idempotency, body) = &seen[0];
        assert_eq!(request, "POST /emails");
        assert_eq!(auth, "Bearer re_test_key");
        assert_eq!(
            idempotency,
            queued["id"].as_str().unwrap(),
            "a retry never sends twice"
        );
        assert_eq!(body["from"], "noreply@example.com");
        assert_eq!(body["to"], json!(["ada@example.com"]));
        assert_eq!(body["text"], "Hello <Ada>, you owe $12.");
        assert_eq!(body["html"], "<p>Hello &lt;Ada&gt;</p>");
        let logged = setup.log(queued["id"].as_str().unwrap()).await;
        assert_eq!(
            (logged["status"].as_str(), logged["provider_id"].as_str()),
            (Some("sent"), Some("re_123"))
        );
        // A redelivery of a sent email sends nothing.
        let again = json!({"type": "email.send", "data": {"id": queued["id"], "generation": 0}});
        assert_eq!(
            setup.client.queue("dotdo-email-sends", vec![again]).await,
            [Outcome::Ack]
        );
        assert_eq!(setup.provider.seen.lock().unwrap().len(), 1);
    });
}

#[test]
fn provider_failures_are_retried_then_refusals_are_dead_and_replayable() {
    block_on(async {
        let setup = setup(vec![
            (503, "{}"),
            (422, r#"{"message": "invalid from"}"#),
            (200, OK),
        ]);
        let queued = setup
            .send(json!({"to": "bob@example.com", "subject": "Hi", "text": "Hello"}))
            .await;
        let id = queued["id"].as_str().unwrap().to_owned();
        let bodies = setup.sends.bodies();
        let outcomes = setup
            .client
            .queue("dotdo-email-sends", bodies.clone())
            .await;
        assert!(matches!(outcomes[0], Outcome::Retry { .. }), "{outcomes:?}");
        let outcomes = setup.client.queue("dotdo-email-sends", bodies).await;
        assert!(
            matches!(outcomes[0], Outcome::DeadLetter { .. }),
            "{outcomes:?}"
        );
        let dead = setup.log(&id).await;
        assert_eq!(dead["status"], "dead");
        assert_eq!(dead["attempts"], 2);
        assert!(
            dead["last_error"]
                .as_str()
                .unwrap()
                .contains("invalid from"),
            "{dead}"
        );
        // Replayed (the cause fixed at the provider): sent, from its first try.
        setup.sends.clear();
        let replayed: Value = setup
            .client
            .post(&format!("/sends/{id}/replay"))
            .await
            .json();
        assert_eq!(
            (replayed["status"].as_str(), replayed["generation"].as_u64()),
            (Some("queued"), Some(1))
        );
        assert_eq!(setup.deliver().await, [Outcome::Ack]);
        assert_eq!(setup.log(&id).await["status"], "sent");
        assert_eq!(
            setup
                .client
                .post(&format!("/sends/{id}/replay"))
                .await
                .status(),
            409
        );
        // Queues gave up on a send: dead, with why.
        let other = setup
            .send(json!({"to": "cy@example.com", "subject": "Hi", "text": "x"}))
            .await;
        let late = setup.sends.bodies();
        assert_eq!(
            setup.client.queue("dotdo-email-dlq", late).await,
            [Outcome::Ack]
        );
        assert_eq!(
            setup.log(other["id"].as_str().unwrap()).await["last_error"],
            "its retries are used up"
        );
    });
}

#[test]
fn sending_is_for_services_and_the_log_for_admins() {
    block_on(async {
        let email = json!({"to": "a@example.com", "subject": "Hi", "text": "x"});
        assert_eq!(
            as_role("user").post("/send").json(&email).await.status(),
            403
        );
        let service = as_role("service");
        assert_eq!(service.post("/send").json(&email).await.status(), 202);
        assert_eq!(service.get("/sends").await.status(), 403);
        let anonymous = TestClient::new(Mail::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_email::MIGRATIONS),
            Rc::new(QueueRecorder::default()),
            Rc::new(ResendApi(Upstream::new("http://127.0.0.1:9"))),
            "noreply@example.com",
            HashedKeys::default(),
        ));
        assert_eq!(anonymous.post("/send").json(&email).await.status(), 401);
    });
}

#[test]
fn a_suppressed_address_gets_nothing() {
    block_on(async {
        let setup = setup(vec![]);
        let suppressed = setup
            .client
            .post("/suppressions")
            .json(&json!({"address": "gone@example.com", "reason": "hard_bounce"}))
            .await;
        assert_eq!(suppressed.status(), 201);
        let refused = setup
            .client
            .post("/send")
            .json(&json!({"to": "Gone@example.com", "subject": "Hi", "text": "x"}))
            .await;
        assert_eq!(refused.status(), 422);
        let problem: Value = refused.json();
        assert_eq!(problem["field"], "to");
        assert!(problem["detail"].as_str().unwrap().contains("hard_bounce"));
        assert_eq!(setup.sends.sent().len(), 0);
    });
}

#[test]
fn bad_emails_get_clear_errors_and_nothing_is_queued() {
    block_on(async {
        let setup = setup(vec![]);
        let cases = [
            (
                json!({"to": "not an address", "subject": "x", "text": "y"}),
                "to",
            ),
            (
                json!({"to": "a@example.com\r\nBcc: everyone@example.com", "subject": "x", "text": "y"}),
                "to",
            ),
            (json!({"to": "a@example.com", "subject": "x"}), "template"),
            (
                json!({"to": "a@example.com", "subject": "line\r\nBcc: x@example.com", "text": "y"}),
                "subject",
            ),
            (json!({"to": "a@example.com", "template": "nope"}), ""),
            (
                json!({"to": "a@example.com", "from": "@example.com", "subject": "x", "text": "y"}),
                "from",
            ),
        ];
        for (email, field) in cases {
            let response = setup.client.post("/send").json(&email).await;
            assert!(
                matches!(response.status(), 404 | 422),
                "{email}: {}",
                response.status()
            );
            if !field.is_empty() {
                assert_eq!(response.json::<Value>()["field"], field, "{email}");
            }
        }
        setup
            .client
            .put("/templates/welcome")
            .json(&json!({"subject": "Hi {{name}}", "text": "Welcome"}))
            .await;
        let missing = setup
            .client
            .post("/send")
            .json(&json!({"to": "a@example.com", "template": "welcome"}))
            .await;
        assert_eq!(missing.status(), 422);
        assert_eq!(missing.json::<Value>()["field"], "variables.name");
        let empty = setup
            .client
            .put("/templates/empty")
            .json(&json!({"subject": "x"}))
            .await;
        assert_eq!(empty.status(), 422);
        assert_eq!(setup.sends.sent().len(), 0);
    });
}

#[test]
fn inbound_email_is_kept_once_per_message_id() {
    block_on(async {
        let setup = setup(vec![]);
        let raw = b"Message-ID: <m1@example.com>\r\nFrom: ada@example.com\r\nTo: support@example.com\r\nSubject: Help\r\n\r\nIt broke.\r\n";
        let email = InboundEmail::new("ada@example.com", "support@example.com", raw);
        setup.client.email(email.clone()).await.unwrap();
        setup.client.email(email).await.unwrap();
        let received: Value = setup.client.get("/inbound").await.json();
        assert_eq!(received.as_array().unwrap().len(), 1, "{received}");
        assert_eq!(received[0]["subject"], "Help");
        assert_eq!(received[0]["id"], "m1@example.com");
        // Refused: an envelope sender that is no address.
        let bad = InboundEmail::new("nobody", "support@example.com", raw);
        let refused = setup.client.email(bad).await.unwrap_err();
        assert_eq!(refused.field(), Some("from"));
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Mail>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<Mail>(concat!(env!("CARGO_MANIFEST_DIR"), "/email.d.ts"));
}
