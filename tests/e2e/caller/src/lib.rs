//! A second worker that uses the fixture only through what `#[dotdo::service]` generated: the
//! typed client `FixtureClient` over a service binding, and the typed producer `FixtureQueue`.

use dotdo::worker::ServiceBinding;
use dotdo_e2e_fixture::{FixtureClient, FixtureQueue, ItemCreated, NewItem};
use serde_json::json;
use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    let url = request.url()?;
    let n: u32 = url
        .query_pairs()
        .find(|(key, _)| key == "n")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    match url.path() {
        "/rpc-check" => Response::from_json(&rpc_check(&env).await?),
        "/produce" => Response::from_json(&produce(&env, n).await?),
        "/produce-chaos" => Response::from_json(&produce_chaos(&env, &url).await?),
        "/produce-unreadable" => Response::from_json(&produce_unreadable(&env).await?),
        other => Response::error(format!("no action `{other}`"), 404),
    }
}

fn failed(error: dotdo::Error) -> worker::Error {
    worker::Error::RustError(error.to_string())
}

/// Calls every RPC method of the fixture and reports what came back, errors included.
async fn rpc_check(env: &Env) -> Result<serde_json::Value> {
    let key = env.secret("FIXTURE_API_KEY")?.to_string();
    let fixture = FixtureClient::new(
        ServiceBinding::from_env(env, "FIXTURE")
            .map_err(failed)?
            .with_bearer(key),
    );
    let created = fixture
        .create_item(NewItem {
            id: "rpc-1".into(),
            name: "made over rpc".into(),
            price: 7,
        })
        .await
        .map_err(failed)?;
    let fetched = fixture.get_item("rpc-1".into()).await.map_err(failed)?;
    let listed = fixture.list_items(Some(100)).await.map_err(failed)?;
    let missing = fixture
        .get_item("no-such-item".into())
        .await
        .expect_err("a missing item is an error");
    let invalid = fixture
        .create_item(NewItem {
            id: "rpc-2".into(),
            name: " ".into(),
            price: 1,
        })
        .await
        .expect_err("an empty name is invalid");
    fixture.delete_item("rpc-1".into()).await.map_err(failed)?;
    Ok(json!({
        "created": created,
        "fetched": fetched,
        "listed_ids": listed.iter().map(|item| item.id.clone()).collect::<Vec<_>>(),
        "missing": {"kind": missing.kind(), "message": missing.message()},
        "invalid": {"kind": invalid.kind(), "field": invalid.field()},
    }))
}

/// Sends `n` good messages, one that fails once and one that always fails.
async fn produce(env: &Env, n: u32) -> Result<serde_json::Value> {
    let queue = env.queue("EVENTS")?;
    let mut ids = Vec::new();
    for index in 0..n {
        let event = ItemCreated {
            id: format!("ok-{index:03}"),
            name: "ok".into(),
        };
        FixtureQueue::item_created(&queue, &event)
            .await
            .map_err(failed)?;
        ids.push(event.id);
    }
    for name in ["flaky", "poison"] {
        let event = ItemCreated {
            id: name.into(),
            name: name.into(),
        };
        FixtureQueue::item_created(&queue, &event)
            .await
            .map_err(failed)?;
        ids.push(event.id);
    }
    Ok(json!({"sent": ids}))
}

/// Sends `n` fault-injection messages from index `from`: every hundredth is poison.
async fn produce_chaos(env: &Env, url: &worker::Url) -> Result<serde_json::Value> {
    let number = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let (from, n) = (number("from"), number("n"));
    let queue = env.queue("CHAOS")?;
    let mut ids = Vec::new();
    for index in from..from + n {
        let name = if index % 100 == 99 { "poison" } else { "good" };
        let event = ItemCreated {
            id: format!("chaos-{name}-{index:04}"),
            name: name.into(),
        };
        FixtureQueue::item_chaos(&queue, &event)
            .await
            .map_err(failed)?;
        ids.push(event.id);
    }
    Ok(json!({"sent": ids}))
}

/// Sends two good messages with the typed batch producer, then one batch holding a good
/// envelope and a body JSON cannot carry (a `BigInt`, sent as V8-serialized): the consumer
/// cannot read that batch in one piece and must still consume the good message and dead-letter
/// the other.
async fn produce_unreadable(env: &Env) -> Result<serde_json::Value> {
    use worker::js_sys::{BigInt, JSON, Object, Reflect};
    use worker::{QueueContentType, RawMessageBuilder};

    let queue = env.queue("EVENTS")?;
    let batch: Vec<ItemCreated> = ["unreadable-batch-1", "unreadable-batch-2"]
        .into_iter()
        .map(|id| ItemCreated {
            id: id.into(),
            name: "ok".into(),
        })
        .collect();
    FixtureQueue::item_created_batch(&queue, &batch)
        .await
        .map_err(failed)?;
    let good = JSON::parse(
        r#"{"type": "item.created", "data": {"id": "unreadable-good", "name": "ok"}}"#,
    )?;
    let unreadable = Object::new();
    Reflect::set(&unreadable, &"type".into(), &"item.created".into())?;
    Reflect::set(&unreadable, &"amount".into(), &BigInt::from(10u64).into())?;
    queue
        .send_raw_batch(vec![
            RawMessageBuilder::new(good).build_with_content_type(QueueContentType::Json),
            RawMessageBuilder::new(unreadable.into()).build_with_content_type(QueueContentType::V8),
        ])
        .await?;
    Ok(json!({"sent": ["unreadable-batch-1", "unreadable-batch-2", "unreadable-good"]}))
}
