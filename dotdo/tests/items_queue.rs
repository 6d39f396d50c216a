//! The queue interface: per-message outcomes of a batch, driven in-process.

mod fixtures;

use dotdo::queue::{Outcome, QueueMessage};
use dotdo::testing::TestClient;
use fixtures::items::{ItemCreated, Items};
use futures_executor::block_on;
use serde_json::json;

fn created(id: &str, name: &str) -> serde_json::Value {
    json!({"type": "item.created", "data": {"id": id, "name": name}, "id": format!("m-{id}")})
}

#[test]
fn each_message_is_dispatched_by_type_and_acked() {
    block_on(async {
        let client = TestClient::new(Items::default());
        let outcomes = client
            .queue("items", vec![created("1", "a"), created("2", "b")])
            .await;
        assert_eq!(outcomes, [Outcome::Ack, Outcome::Ack]);
        let events = client.service().events.lock().unwrap().clone();
        assert_eq!(
            events,
            [
                ItemCreated {
                    id: "1".into(),
                    name: "a".into()
                },
                ItemCreated {
                    id: "2".into(),
                    name: "b".into()
                },
            ]
        );
    });
}

#[test]
fn a_consumer_bound_to_a_queue_wins_on_that_queue() {
    block_on(async {
        let client = TestClient::new(Items::default());
        assert_eq!(
            client.queue("audit", vec![created("1", "a")]).await,
            [Outcome::Ack]
        );
        assert_eq!(client.service().events.lock().unwrap()[0].id, "audit:1");
    });
}

#[test]
fn a_transient_failure_is_retried_with_backoff_and_then_succeeds() {
    block_on(async {
        let client = TestClient::new(Items::default());
        let mut message = QueueMessage::new(created("9", "flaky"));
        let first = client
            .queue_messages("items", std::slice::from_ref(&message))
            .await;
        assert_eq!(first, [Outcome::Retry { delay_seconds: 2 }]);
        message.attempts = 2;
        let second = client
            .queue_messages("items", std::slice::from_ref(&message))
            .await;
        assert_eq!(second, [Outcome::Ack]);
        assert_eq!(
            client.service().events.lock().unwrap().len(),
            1,
            "processed exactly once"
        );
    });
}

#[test]
fn outcomes_are_per_message_within_a_batch() {
    block_on(async {
        let client = TestClient::new(Items::default());
        let outcomes = client
            .queue(
                "items",
                vec![created("1", "a"), created("2", "poison"), created("3", "c")],
            )
            .await;
        assert_eq!(outcomes[0], Outcome::Ack);
        assert!(
            matches!(&outcomes[1], Outcome::DeadLetter { reason } if reason.contains("never be applied"))
        );
        assert_eq!(outcomes[2], Outcome::Ack);
    });
}

mod bad_input {
    use super::*;

    fn dead_letter_reason(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::DeadLetter { reason } => reason,
            other => panic!("expected a dead letter, got {other:?}"),
        }
    }

    #[test]
    fn an_unknown_type_is_dead_lettered_not_acked() {
        block_on(async {
            let client = TestClient::new(Items::default());
            let outcomes = client
                .queue("items", vec![json!({"type": "item.exploded", "data": {}})])
                .await;
            assert!(dead_letter_reason(&outcomes[0]).contains("item.exploded"));
        });
    }

    #[test]
    fn undecodable_data_is_dead_lettered_naming_the_field() {
        block_on(async {
            let client = TestClient::new(Items::default());
            let outcomes = client
                .queue(
                    "items",
                    vec![json!({"type": "item.created", "data": {"id": 5}})],
                )
                .await;
            let reason = dead_letter_reason(&outcomes[0]);
            assert!(reason.contains("id"), "{reason}");
            assert!(client.service().events.lock().unwrap().is_empty());
        });
    }

    #[test]
    fn a_body_that_is_not_an_envelope_is_dead_lettered() {
        block_on(async {
            let client = TestClient::new(Items::default());
            let outcomes = client
                .queue("items", vec![json!("just a string"), json!({"data": 1})])
                .await;
            for outcome in &outcomes {
                assert!(dead_letter_reason(outcome).contains("envelope"));
            }
        });
    }
}

/// What the Workers glue does with each outcome: dead letters go to the dead-letter producer and
/// are acked, never retried into the handler again; nothing is dropped when publishing fails.
mod settlement {
    use super::*;
    use dotdo::queue::{
        DEAD_LETTER_TYPE, DeadLetter, MAX_QUEUE_DELAY_SECONDS, Producer, Settlement, settle,
    };
    use dotdo::testing::QueueRecorder;

    struct Unreachable;
    impl Producer for Unreachable {
        fn send_envelope<'a>(
            &'a self,
            _: dotdo::queue::Envelope,
        ) -> dotdo::LocalBoxFuture<'a, dotdo::Result<()>> {
            Box::pin(async { Err(dotdo::Error::upstream("queue send: unavailable")) })
        }
    }

    #[test]
    fn a_poison_message_is_published_with_its_reason_and_acked() {
        block_on(async {
            let client = TestClient::new(Items::default());
            let mut message = QueueMessage::new(created("7", "poison"));
            message.attempts = 1;
            let outcome = client
                .queue_messages("items", std::slice::from_ref(&message))
                .await
                .remove(0);
            let dead_letters = QueueRecorder::default();
            assert_eq!(
                settle(outcome, "items", &message, Some(&dead_letters)).await,
                Settlement::Ack
            );
            let sent = dead_letters.sent();
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].message_type, DEAD_LETTER_TYPE);
            let letter: DeadLetter = serde_json::from_value(sent[0].data.clone()).unwrap();
            assert_eq!(
                letter.envelope, message.body,
                "the original envelope, as it arrived"
            );
            assert!(
                letter.reason.contains("never be applied"),
                "{}",
                letter.reason
            );
            assert_eq!(
                (
                    letter.attempts,
                    letter.queue.as_str(),
                    letter.message_id.as_str()
                ),
                (1, "items", message.id.as_str())
            );
            assert!(letter.failed_at > 0);
        });
    }

    #[test]
    fn a_dead_letter_that_cannot_be_published_is_retried_not_lost() {
        block_on(async {
            let message = QueueMessage::new(json!("not an envelope"));
            let outcome = Outcome::DeadLetter {
                reason: "not a dotdo queue envelope".into(),
            };
            assert!(matches!(
                settle(outcome, "items", &message, Some(&Unreachable)).await,
                Settlement::Retry { .. }
            ));
        });
    }

    #[test]
    fn without_a_dead_letter_binding_the_message_is_retried_for_the_queue_to_move() {
        block_on(async {
            let message = QueueMessage::new(json!("not an envelope"));
            let outcome = Outcome::DeadLetter { reason: "x".into() };
            assert_eq!(
                settle(outcome, "items", &message, None).await,
                Settlement::Retry { delay_seconds: 0 }
            );
        });
    }

    #[test]
    fn retry_delays_are_capped_at_what_queues_accepts() {
        block_on(async {
            let message = QueueMessage::new(json!({}));
            let day = Outcome::Retry {
                delay_seconds: 86_400,
            };
            assert_eq!(
                settle(day, "items", &message, None).await,
                Settlement::Retry {
                    delay_seconds: MAX_QUEUE_DELAY_SECONDS
                }
            );
            assert_eq!(
                settle(Outcome::Ack, "items", &message, None).await,
                Settlement::Ack
            );
        });
    }

    #[test]
    fn a_handler_rate_limited_for_a_day_is_retried_within_twelve_hours() {
        block_on(async {
            let client = TestClient::new(Items::default());
            let outcomes = client.queue("items", vec![created("8", "throttled")]).await;
            assert_eq!(
                outcomes,
                [Outcome::Retry {
                    delay_seconds: 43_200
                }]
            );
        });
    }
}

/// Queue handlers get the context their entry built (on Workers: with the worker's bindings),
/// like fetch and cron handlers.
mod context {
    use super::*;
    use dotdo::prelude::*;

    #[derive(Clone)]
    struct Tenant(&'static str);

    struct Probe;

    #[dotdo::service]
    impl Probe {
        /// Succeeds only when the context carries a tenant.
        #[queue(type = "probe")]
        async fn probe(&self, ctx: &Context, n: u32) -> Result<(), dotdo::Error> {
            let tenant = ctx
                .get::<Tenant>()
                .ok_or_else(|| Error::bad_request("no tenant in the context"))?;
            assert_eq!((tenant.0, n), ("acme", 7));
            Ok(())
        }

        /// Fails, naming the request id its context carries.
        #[queue(type = "whoami")]
        async fn whoami(&self, ctx: &Context, _data: Option<u32>) -> Result<(), dotdo::Error> {
            Err(Error::bad_request(format!(
                "request id {}",
                ctx.request_id()
            )))
        }
    }

    #[test]
    fn a_message_is_handled_under_its_own_id_or_a_fresh_one_when_its_id_is_unfit() {
        block_on(async {
            let reason_for = |id: &str| {
                let message = QueueMessage {
                    id: id.to_owned(),
                    body: json!({"type": "whoami", "data": null}),
                    attempts: 1,
                };
                async move {
                    match dotdo::queue::dispatch(&Probe, "jobs", &message).await {
                        Outcome::DeadLetter { reason } => reason,
                        other => panic!("{other:?}"),
                    }
                }
            };
            assert!(reason_for("msg-42").await.ends_with("request id msg-42"));
            let unfit = reason_for("not an id").await;
            let generated = unfit.rsplit(' ').next().unwrap();
            assert_eq!(generated.len(), 32, "{unfit}");
            assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()), "{unfit}");
        });
    }

    #[test]
    fn the_handler_gets_the_context_it_was_dispatched_in() {
        block_on(async {
            let message = QueueMessage::new(json!({"type": "probe", "data": 7}));
            let mut context = dotdo::Context::new(dotdo::Interface::Queue);
            context.extensions_mut().insert(Tenant("acme"));
            assert_eq!(
                dotdo::queue::dispatch_in(&Probe, &context, "jobs", &message).await,
                Outcome::Ack
            );
            let fresh = dotdo::queue::dispatch(&Probe, "jobs", &message).await;
            assert!(
                matches!(fresh, Outcome::DeadLetter { reason } if reason.contains("no tenant"))
            );
        });
    }
}
