//! The webhooks service in-process: its SQL on SQLite, its queues recorded and delivered by the
//! test client as Queues would deliver them, its subscriber a recorder answering programmed
//! statuses.

use std::cell::RefCell;
use std::rc::Rc;

use dotdo::config::Environment;
use dotdo::middleware::{HashedKeys, WebhookSignature};
use dotdo::queue::Outcome;
use dotdo::testing::{QueueRecorder, TestClient, TestResponse};
use dotdo::{Error, LocalBoxFuture};
use dotdo_webhooks::{Provider, Sender, Webhooks};
use futures_executor::block_on;
use serde_json::{Value, json};

const STRIPE: &str = "whsec_test_stripe";
const GITHUB: &str = "gh-test-secret";
const WORKOS: &str = "workos-test-secret";
const RESEND: &str = "whsec_dGVzdC1yZXNlbmQ=";

/// A subscriber: records what it was sent, answers the statuses it is given (then 200).
#[derive(Default)]
struct Subscriber {
    received: RefCell<Vec<(String, http::HeaderMap, Vec<u8>)>>,
    answers: RefCell<Vec<dotdo::Result<u16>>>,
}

impl Sender for Subscriber {
    fn post<'a>(
        &'a self,
        url: &'a str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> LocalBoxFuture<'a, dotdo::Result<u16>> {
        Box::pin(async move {
            let headers = headers
                .into_iter()
                .map(|(name, value)| {
                    (
                        name.parse::<http::HeaderName>().unwrap(),
                        value.parse().unwrap(),
                    )
                })
                .collect();
            self.received
                .borrow_mut()
                .push((url.to_owned(), headers, body));
            let mut answers = self.answers.borrow_mut();
            if answers.is_empty() {
                Ok(200)
            } else {
                answers.remove(0)
            }
        })
    }
}

struct Broken;

impl dotdo::queue::Producer for Broken {
    fn send_envelope<'a>(
        &'a self,
        _: dotdo::queue::Envelope,
    ) -> LocalBoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Err(Error::unavailable("the queue is unreachable")) })
    }
}

struct Setup {
    client: TestClient<Webhooks>,
    events: Rc<QueueRecorder>,
    deliveries: Rc<QueueRecorder>,
    subscriber: Rc<Subscriber>,
}

fn setup_with(events: Rc<dyn dotdo::queue::Producer>, recorder: Rc<QueueRecorder>) -> Setup {
    let deliveries = Rc::new(QueueRecorder::default());
    let subscriber = Rc::new(Subscriber::default());
    let service = Webhooks::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_webhooks::MIGRATIONS),
        events,
        deliveries.clone(),
        subscriber.clone(),
        vec![
            (Provider::Stripe, STRIPE.into()),
            (Provider::Github, GITHUB.into()),
            (Provider::Workos, WORKOS.into()),
            (Provider::Resend, RESEND.into()),
        ],
        HashedKeys::default(),
    );
    Setup {
        client: TestClient::new(service).as_principal("ops", "admin"),
        events: recorder,
        deliveries,
        subscriber,
    }
}

fn setup() -> Setup {
    let events = Rc::new(QueueRecorder::default());
    setup_with(events.clone(), events)
}

fn now() -> u64 {
    dotdo::clock::now_seconds()
}

impl Setup {
    async fn send(
        &self,
        provider: &str,
        signer: WebhookSignature,
        id: &str,
        body: &Value,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let bytes = body.to_string().into_bytes();
        let mut request = self
            .client
            .post(&format!("/in/{provider}"))
            .header("content-type", "application/json");
        for (name, value) in signer.sign_headers(id, now(), &bytes) {
            request = request.header(&name, &value);
        }
        for (name, value) in extra {
            request = request.header(name, value);
        }
        request.body(bytes).await
    }

    async fn stripe(&self, id: &str) -> TestResponse {
        let event = json!({"id": id, "type": "invoice.paid", "data": {"object": {"amount": 1200}}});
        self.send("stripe", WebhookSignature::stripe(STRIPE), id, &event, &[])
            .await
    }

    async fn subscribe(&self, events: &[&str]) -> Value {
        let response = self
            .client
            .post("/subscriptions")
            .json(&json!({"url": "https://hooks.example.com/in", "events": events}))
            .await;
        assert_eq!(response.status(), 201, "{}", response.text());
        response.json()
    }

    /// Fans out every recorded inbound event, forgetting them.
    async fn fan_out(&self) -> Vec<Outcome> {
        let bodies = self.events.bodies();
        self.events.clear();
        self.client.queue("dotdo-webhooks-events", bodies).await
    }

    async fn deliver(&self) -> Vec<Outcome> {
        let bodies = self.deliveries.bodies();
        self.deliveries.clear();
        self.client.queue("dotdo-webhooks-deliveries", bodies).await
    }
}

#[test]
fn a_signed_event_is_taken_once_and_published() {
    block_on(async {
        let setup = setup();
        let first = setup.stripe("evt_1").await;
        assert_eq!(first.status(), 200, "{}", first.text());
        assert_eq!(
            first.json::<Value>(),
            json!({"provider": "stripe", "id": "evt_1", "type": "invoice.paid", "duplicate": false})
        );
        let sent = setup.events.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].message_type, "webhook.received");
        assert_eq!(sent[0].data["payload"]["data"]["object"]["amount"], 1200);
        // The provider's retry of the same event: 200, not published again.
        let replay = setup.stripe("evt_1").await;
        assert_eq!(replay.status(), 200);
        assert_eq!(replay.json::<Value>()["duplicate"], true);
        assert_eq!(setup.events.sent().len(), 1);
    });
}

#[test]
fn each_providers_scheme_is_verified() {
    block_on(async {
        let setup = setup();
        let push = json!({"ref": "refs/heads/main", "action": "opened"});
        let github = setup
            .send(
                "github",
                WebhookSignature::github(GITHUB),
                "d-1",
                &push,
                &[
                    ("x-github-event", "pull_request"),
                    ("x-github-delivery", "d-1"),
                ],
            )
            .await;
        assert_eq!(github.status(), 200, "{}", github.text());
        assert_eq!(github.json::<Value>()["type"], "pull_request.opened");
        let user = json!({"id": "wh_01", "event": "user.created", "data": {}});
        let workos = setup
            .send(
                "workos",
                WebhookSignature::workos(WORKOS),
                "wh_01",
                &user,
                &[],
            )
            .await;
        assert_eq!(workos.status(), 200, "{}", workos.text());
        let bounce = json!({"type": "email.bounced", "data": {"to": ["a@example.com"]}});
        let resend = setup
            .send(
                "resend",
                WebhookSignature::standard_webhooks(RESEND).unwrap(),
                "msg_1",
                &bounce,
                &[],
            )
            .await;
        assert_eq!(resend.status(), 200, "{}", resend.text());
        assert_eq!(resend.json::<Value>()["id"], "msg_1");
        assert_eq!(setup.events.sent().len(), 3);
    });
}

#[test]
fn forged_unsigned_stale_and_malformed_webhooks_are_refused() {
    block_on(async {
        let setup = setup();
        let event = json!({"id": "evt_9", "type": "invoice.paid"});
        // Signed with another secret.
        let forged = setup
            .send(
                "stripe",
                WebhookSignature::stripe("whsec_guess"),
                "evt_9",
                &event,
                &[],
            )
            .await;
        assert_eq!(forged.status(), 401);
        assert!(
            forged.text().contains("does not match"),
            "{}",
            forged.text()
        );
        let unsigned = setup.client.post("/in/stripe").json(&event).await;
        assert_eq!(unsigned.status(), 401);
        let stale =
            WebhookSignature::stripe(STRIPE).sign(now() - 301, event.to_string().as_bytes());
        let late = setup
            .client
            .post("/in/stripe")
            .header("stripe-signature", &stale)
            .body(event.to_string())
            .await;
        assert_eq!(late.status(), 401);
        assert!(late.text().contains("tolerance"));
        // Signed, but no event id where Stripe puts it.
        let anonymous = json!({"type": "invoice.paid"});
        let no_id = setup
            .send(
                "stripe",
                WebhookSignature::stripe(STRIPE),
                "x",
                &anonymous,
                &[],
            )
            .await;
        assert_eq!(no_id.status(), 400);
        let unknown = setup.client.post("/in/paypal").body("{}").await;
        assert_eq!(unknown.status(), 400);
        assert!(unknown.text().contains("paypal"), "{}", unknown.text());
        assert_eq!(setup.events.sent().len(), 0, "nothing was published");
    });
}

#[test]
fn an_event_that_cannot_be_published_is_forgotten_so_the_retry_is_taken() {
    block_on(async {
        let recorder = Rc::new(QueueRecorder::default());
        let setup = setup_with(Rc::new(Broken), recorder);
        let refused = setup.stripe("evt_2").await;
        assert_eq!(refused.status(), 503);
        // The provider retries: not a duplicate (and refused again, the queue still down).
        let again = setup.stripe("evt_2").await;
        assert_eq!(again.status(), 503, "{}", again.text());
    });
}

#[test]
fn deliveries_are_signed_retried_dead_lettered_and_replayed() {
    block_on(async {
        let setup = setup();
        let subscription = setup.subscribe(&["stripe.*"]).await;
        let secret = subscription["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        setup.subscribe(&["github.push"]).await; // wants none of these
        setup.stripe("evt_3").await;
        assert_eq!(setup.fan_out().await, [Outcome::Ack]);
        assert_eq!(setup.deliveries.sent().len(), 1);

        // 500, then 404: retried, then dead.
        setup
            .subscriber
            .answers
            .borrow_mut()
            .extend([Ok(500), Ok(404)]);
        let bodies = setup.deliveries.bodies();
        let outcomes = setup
            .client
            .queue("dotdo-webhooks-deliveries", bodies.clone())
            .await;
        assert!(matches!(outcomes[0], Outcome::Retry { .. }), "{outcomes:?}");
        let log: Value = setup.client.get("/deliveries?status=failed").await.json();
        assert_eq!(log[0]["last_status"], 500);
        let outcomes = setup
            .client
            .queue("dotdo-webhooks-deliveries", bodies)
            .await;
        assert!(
            matches!(outcomes[0], Outcome::DeadLetter { .. }),
            "{outcomes:?}"
        );
        let dead: Value = setup.client.get("/deliveries?status=dead").await.json();
        let id = dead[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(
            (
                dead[0]["attempts"].as_u64(),
                dead[0]["last_status"].as_u64()
            ),
            (Some(2), Some(404))
        );

        // What the subscriber got is signed with its secret, Standard Webhooks style.
        let (url, headers, body) = setup.subscriber.received.borrow()[0].clone();
        assert_eq!(url, "https://hooks.example.com/in");
        assert_eq!(headers["webhook-id"], id.as_str());
        WebhookSignature::standard_webhooks(&secret)
            .unwrap()
            .verify_request(
                &dotdo::Context::from_headers(dotdo::Interface::Http, headers),
                &body,
            )
            .unwrap();
        let delivered: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(delivered["type"], "stripe.invoice.paid");

        // Replayed once the subscriber is fixed; a late attempt of the dead generation is stale.
        setup.deliveries.clear();
        let replayed: Value = setup
            .client
            .post(&format!("/deliveries/{id}/replay"))
            .await
            .json();
        assert_eq!(
            (replayed["status"].as_str(), replayed["generation"].as_u64()),
            (Some("pending"), Some(1))
        );
        let stale = json!({"type": "delivery.send", "data": {"id": id, "generation": 0}});
        assert_eq!(
            setup
                .client
                .queue("dotdo-webhooks-deliveries", vec![stale])
                .await,
            [Outcome::Ack]
        );
        assert_eq!(setup.deliver().await, [Outcome::Ack]);
        let done: Value = setup.client.get(&format!("/deliveries/{id}")).await.json();
        assert_eq!(done["status"], "delivered");
        assert_eq!(setup.subscriber.received.borrow().len(), 3);
        assert_eq!(
            setup
                .client
                .post(&format!("/deliveries/{id}/replay"))
                .await
                .status(),
            409
        );
    });
}

#[test]
fn retries_used_up_leave_a_delivery_dead() {
    block_on(async {
        let setup = setup();
        setup.subscribe(&["*"]).await;
        setup.stripe("evt_4").await;
        setup.fan_out().await;
        let send = setup.deliveries.bodies();
        assert_eq!(
            setup.client.queue("dotdo-webhooks-dlq", send).await,
            [Outcome::Ack]
        );
        let dead: Value = setup.client.get("/deliveries?status=dead").await.json();
        assert_eq!(dead[0]["last_error"], "its retries are used up");
        // A redelivered inbound event makes no second delivery.
        setup.stripe("evt_4").await;
        let body = json!({"type": "webhook.received", "data": {"provider": "stripe", "id": "evt_4", "type": "invoice.paid", "payload": {}}});
        setup
            .client
            .queue("dotdo-webhooks-events", vec![body])
            .await;
        let all: Value = setup.client.get("/deliveries").await.json();
        assert_eq!(all.as_array().unwrap().len(), 1);
    });
}

#[test]
fn subscriptions_are_for_admins_with_urls_that_can_be_trusted() {
    block_on(async {
        let setup = setup();
        let plain = setup
            .client
            .post("/subscriptions")
            .json(&json!({"url": "http://hooks.example.com", "events": ["*"]}))
            .await;
        assert_eq!(plain.status(), 201, "local development allows http://");
        let refused = production_client()
            .post("/subscriptions")
            .json(&json!({"url": "http://hooks.example.com", "events": ["*"]}))
            .await;
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.json::<Value>()["field"], "url");
        let no_events = setup
            .client
            .post("/subscriptions")
            .json(&json!({"url": "https://a.example", "events": []}))
            .await;
        assert_eq!(no_events.json::<Value>()["field"], "events");
        let listed: Value = setup.client.get("/subscriptions").await.json();
        assert!(listed[0].get("secret").is_none(), "{listed}");
        let user = TestClient::new(Webhooks::new(
            dotdo::sql::Database::sqlite_in_memory(dotdo_webhooks::MIGRATIONS),
            setup.events.clone(),
            setup.deliveries.clone(),
            setup.subscriber.clone(),
            vec![],
            HashedKeys::default(),
        ))
        .as_principal("sam", "user");
        assert_eq!(user.get("/deliveries").await.status(), 403);
        assert_eq!(
            user.post("/subscriptions")
                .json(&json!({"url": "https://a.example", "events": ["*"]}))
                .await
                .status(),
            403
        );
        // A provider without a secret is not taken.
        assert_eq!(user.post("/in/stripe").body("{}").await.status(), 404);
    });
}

fn production_client() -> TestClient<Webhooks> {
    TestClient::new(Webhooks::new(
        dotdo::sql::Database::sqlite_in_memory(dotdo_webhooks::MIGRATIONS),
        Rc::new(QueueRecorder::default()),
        Rc::new(QueueRecorder::default()),
        Rc::new(Subscriber::default()),
        vec![],
        HashedKeys::default(),
    ))
    .as_principal("ops", "admin")
    .with_extension(Environment::Production)
}

#[test]
fn mcp_lists_deliveries_and_subscriptions() {
    block_on(async {
        let setup = setup();
        let tools: Vec<String> = setup
            .client
            .mcp_tools()
            .await
            .iter()
            .map(|tool| tool["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            tools,
            ["list_subscriptions", "list_deliveries", "replay_delivery"]
        );
        let missing = setup
            .client
            .mcp_call("replay_delivery", json!({"id": "nope"}))
            .await
            .unwrap();
        assert_eq!(missing["isError"], true);
    });
}

#[test]
fn the_readme_lists_every_interface() {
    dotdo::testing::check_readme::<Webhooks>(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
}

/// What a TypeScript worker calling this service over native Workers RPC is typed by.
#[test]
fn the_typescript_declarations_are_current() {
    dotdo::testing::check_typescript::<Webhooks>(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/webhooks.d.ts"
    ));
}
