//! Cron dispatch and the typed queue producer, in-process.

mod fixtures;

use dotdo::ErrorKind;
use dotdo::queue::Outcome;
use dotdo::testing::{QueueRecorder, TestClient};
use fixtures::items::{ItemCreated, Items, ItemsQueue};
use futures_executor::block_on;

#[test]
fn the_fired_cron_picks_its_method() {
    block_on(async {
        let client = TestClient::new(Items::default());
        client.cron("0 3 * * MON-FRI").await.unwrap();
        client.cron("*/5 * * * *").await.unwrap();
        assert_eq!(
            *client.service().sweeps.lock().unwrap(),
            ["nightly", "sweep"]
        );
    });
}

#[test]
fn an_undeclared_cron_is_an_error_listing_the_declared_ones() {
    block_on(async {
        let client = TestClient::new(Items::default());
        let error = client.cron("0 0 * * *").await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(
            error.message().contains("*/5 * * * *"),
            "{}",
            error.message()
        );
        assert!(client.service().sweeps.lock().unwrap().is_empty());
    });
}

#[test]
fn the_typed_producer_sends_envelopes_the_consumer_accepts() {
    block_on(async {
        let recorder = QueueRecorder::default();
        let event = ItemCreated {
            id: "7".into(),
            name: "lamp".into(),
        };
        ItemsQueue::item_created(&recorder, &event).await.unwrap();

        let sent = recorder.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].message_type, "item.created");
        assert_eq!(sent[0].data, serde_json::json!({"id": "7", "name": "lamp"}));
        assert!(sent[0].id.is_some() && sent[0].timestamp.is_some());

        let client = TestClient::new(Items::default());
        assert_eq!(
            client.queue("items", recorder.bodies()).await,
            [Outcome::Ack]
        );
        assert_eq!(*client.service().events.lock().unwrap(), [event]);
    });
}

#[test]
fn the_typed_batch_producer_sends_every_item_in_order() {
    block_on(async {
        let recorder = QueueRecorder::default();
        let events: Vec<ItemCreated> = (0..150)
            .map(|n| ItemCreated {
                id: n.to_string(),
                name: format!("item {n}"),
            })
            .collect();
        ItemsQueue::item_created_batch(&recorder, &events)
            .await
            .unwrap();

        let sent = recorder.sent();
        assert_eq!(sent.len(), 150);
        assert!(
            sent.iter()
                .all(|envelope| envelope.message_type == "item.created")
        );
        assert_eq!(sent[149].data["id"], "149");

        let client = TestClient::new(Items::default());
        let outcomes = client.queue("items", recorder.bodies()).await;
        assert!(outcomes.iter().all(|outcome| *outcome == Outcome::Ack));
        assert_eq!(*client.service().events.lock().unwrap(), events);
    });
}

#[test]
fn the_manifest_lists_cron_schedules() {
    let manifest = <Items as dotdo::Service>::description().manifest();
    assert_eq!(manifest["cron"][0]["schedule"], "*/5 * * * *");
    assert_eq!(manifest["cron"][1]["handler"], "nightly");
}
