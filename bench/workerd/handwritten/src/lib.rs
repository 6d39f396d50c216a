//! The benchmark's hand-written side: the dotdo benchmark service's routes written directly on
//! workers-rs, as a careful developer would without a framework. Same answers (the driver
//! checks), same API-key check for writes and JSON-RPC, the same queue consumer.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use worker::{
    Context, Env, MessageBatch, MessageExt, Request, Response, Result, RouteContext, Router, event,
};

#[derive(Serialize, Deserialize)]
struct Item {
    id: String,
    name: String,
    price: u32,
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct NewItem {
    name: String,
    price: u32,
    tags: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ItemCreated {
    id: String,
    seq: u32,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    message_type: String,
    data: ItemCreated,
}

static CONSUMED: AtomicU64 = AtomicU64::new(0);

fn item(n: u32) -> Item {
    Item {
        id: n.to_string(),
        name: format!("item {n}"),
        price: n * 10,
        tags: vec![
            "bench".into(),
            if n.is_multiple_of(2) { "even" } else { "odd" }.into(),
        ],
    }
}

fn find(id: &str) -> Option<Item> {
    id.parse::<u32>()
        .ok()
        .filter(|n| (1..=1000).contains(n))
        .map(item)
}

fn error(status: u16, message: &str) -> Result<Response> {
    Ok(Response::from_json(&json!({ "error": message }))?.with_status(status))
}

/// Whether the request carries a bearer key whose SHA-256 is in `API_KEYS` (`<hex>=<who>`).
fn authorized(request: &Request, env: &Env) -> Result<bool> {
    let Some(header) = request.headers().get("authorization")? else {
        return Ok(false);
    };
    let Some(key) = header.strip_prefix("Bearer ") else {
        return Ok(false);
    };
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    let keys = env.secret("API_KEYS")?.to_string();
    Ok(keys
        .split([',', '\n'])
        .any(|entry| entry.split('=').next() == Some(digest.as_str())))
}

fn create(new: NewItem) -> std::result::Result<Item, &'static str> {
    if new.name.is_empty() {
        return Err("name must not be empty");
    }
    Ok(Item {
        id: "1001".into(),
        name: new.name,
        price: new.price,
        tags: new.tags,
    })
}

async fn rpc(mut request: Request, env: Env) -> Result<Response> {
    if !authorized(&request, &env)? {
        return error(401, "unauthorized");
    }
    let Ok(call) = request.json::<Value>().await else {
        return Response::from_json(
            &json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse error"}}),
        );
    };
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let params = call.get("params").cloned().unwrap_or(Value::Null);
    let outcome = match call.get("method").and_then(Value::as_str) {
        Some("get_item") => match params.get("id").and_then(Value::as_str) {
            Some(item_id) => find(item_id)
                .map(|item| json!(item))
                .ok_or((-32004, "not found")),
            None => Err((-32602, "id is required")),
        },
        Some("create_item") => match serde_json::from_value::<NewItem>(
            params.get("item").cloned().unwrap_or(Value::Null),
        ) {
            Ok(new) => create(new)
                .map(|item| json!(item))
                .map_err(|message| (-32602, message)),
            Err(_) => Err((-32602, "item is invalid")),
        },
        _ => Err((-32601, "method not found")),
    };
    Response::from_json(&match outcome {
        Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
        Err((code, message)) => {
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
        }
    })
}

/// MCP `tools/call` of `get_item`, the one request the benchmark sends to `/mcp`.
async fn mcp(mut request: Request) -> Result<Response> {
    let Ok(call) = request.json::<Value>().await else {
        return error(400, "not JSON");
    };
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let params = &call["params"];
    if call["method"] != "tools/call" || params["name"] != "get_item" {
        return Response::from_json(
            &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "unknown method or tool"}}),
        );
    }
    let result = match params["arguments"]["id"].as_str().and_then(find) {
        Some(item) => json!({
            "content": [{"type": "text", "text": serde_json::to_string(&item)?}],
            "structuredContent": item,
            "isError": false,
        }),
        None => json!({"content": [{"type": "text", "text": "not found"}], "isError": true}),
    };
    Response::from_json(&json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

async fn enqueue(mut request: Request, env: Env) -> Result<Response> {
    if !authorized(&request, &env)? {
        return error(401, "unauthorized");
    }
    let Ok(count) = request.json::<u32>().await else {
        return error(400, "the body is not a count");
    };
    let queue = env.queue("BENCH_QUEUE")?;
    let messages: Vec<Envelope> = (0..count)
        .map(|seq| Envelope {
            message_type: "item.created".into(),
            data: ItemCreated {
                id: (seq % 1000 + 1).to_string(),
                seq,
            },
        })
        .collect();
    for chunk in messages.chunks(100) {
        queue.send_batch(chunk).await?;
    }
    Response::from_json(&count)
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get("/items/:id", |_, ctx: RouteContext<()>| {
            match ctx.param("id").and_then(|id| find(id)) {
                Some(item) => Response::from_json(&item),
                None => error(404, "not found"),
            }
        })
        .get("/items", |_, _| {
            Response::from_json(&(1..=100).map(item).collect::<Vec<_>>())
        })
        .post_async("/items", |mut request, ctx| async move {
            if !authorized(&request, &ctx.env)? {
                return error(401, "unauthorized");
            }
            match request.json::<NewItem>().await {
                Ok(new) => match create(new) {
                    Ok(item) => Ok(Response::from_json(&item)?.with_status(201)),
                    Err(message) => error(422, message),
                },
                Err(_) => error(400, "the body is not a new item"),
            }
        })
        .post_async("/_rpc", |request, ctx| rpc(request, ctx.env))
        .post_async("/mcp", |request, _| mcp(request))
        .post_async("/bench/enqueue", |request, ctx| enqueue(request, ctx.env))
        .get("/bench/consumed", |_, _| {
            Response::from_json(&CONSUMED.load(Ordering::Relaxed))
        })
        .run(request, env)
        .await
}

#[event(queue)]
async fn queue(batch: MessageBatch<Envelope>, _env: Env, _ctx: Context) -> Result<()> {
    for message in batch.messages()? {
        let envelope = message.body();
        if envelope.message_type == "item.created" && !envelope.data.id.is_empty() {
            CONSUMED.fetch_add(1, Ordering::Relaxed);
            message.ack();
        } else {
            message.retry();
        }
    }
    Ok(())
}
