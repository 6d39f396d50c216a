//! `GET /items/:id` through the generated router against a hand-written equivalent
//! (matchit + serde_json) doing the same work: match the route, decode the path segment, call
//! the same method, serialize the result to a JSON response.
//!
//! Run: `cargo bench -p dotdo --bench router`

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dotdo::prelude::*;
use futures_executor::block_on;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

#[derive(Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct Item {
    id: String,
    name: String,
    price: u32,
    tags: Vec<String>,
}

pub struct Catalog {
    items: HashMap<String, Item>,
}

/// A catalogue.
#[dotdo::service]
impl Catalog {
    /// Fetch one item by id.
    #[rpc]
    #[http(get = "/items/:id")]
    #[mcp_tool(read_only)]
    pub async fn get_item(&self, id: String) -> Result<Item, dotdo::Error> {
        self.items
            .get(&id)
            .cloned()
            .ok_or_else(|| Error::not_found("no such item"))
    }

    /// List items.
    #[http(get = "/items")]
    pub async fn list_items(&self, limit: Option<u32>) -> Result<Vec<Item>, dotdo::Error> {
        Ok(self
            .items
            .values()
            .take(limit.unwrap_or(10) as usize)
            .cloned()
            .collect())
    }

    /// Create an item.
    #[http(post = "/items")]
    pub async fn create_item(&self, item: Item) -> Result<Item, dotdo::Error> {
        Ok(item)
    }
}

/// What one would write by hand with matchit and serde_json, giving the same response: the
/// JSON body, its content type, and the caller's request id echoed back.
struct HandWritten {
    router: matchit::Router<u8>,
}

impl HandWritten {
    fn new() -> Self {
        let mut router = matchit::Router::new();
        router.insert("/items/{id}", 0).unwrap();
        router.insert("/items", 1).unwrap();
        HandWritten { router }
    }

    async fn handle(
        &self,
        catalog: &Catalog,
        request: http::Request<Vec<u8>>,
    ) -> http::Response<Vec<u8>> {
        let request_id = request.headers().get("x-request-id").cloned();
        let found = self.router.at(request.uri().path()).unwrap();
        let id = percent_decode(found.params.get("id").unwrap());
        let (status, body) = match catalog.get_item(id).await {
            Ok(item) => (200, serde_json::to_vec(&item).unwrap()),
            Err(error) => (
                error.http_status(),
                serde_json::to_vec(&error.problem(None)).unwrap(),
            ),
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(request_id) = request_id {
            response.headers_mut().insert("x-request-id", request_id);
        }
        response
    }
}

fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn catalog() -> Catalog {
    let item = Item {
        id: "w1".into(),
        name: "widget".into(),
        price: 250,
        tags: vec!["blue".into(), "small".into()],
    };
    Catalog {
        items: HashMap::from([(item.id.clone(), item)]),
    }
}

fn request() -> http::Request<Vec<u8>> {
    http::Request::get("/items/w1")
        .header("x-request-id", "bench-1")
        .body(Vec::new())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let hand_written = HandWritten::new();
    // Both give the same answer (status, headers, body) before anything is timed.
    let generated = block_on(dotdo::http::serve(&catalog, request()));
    let manual = block_on(hand_written.handle(&catalog, request()));
    assert_eq!(generated.status(), manual.status());
    assert_eq!(generated.headers(), manual.headers());
    assert_eq!(generated.body().as_bytes(), Some(manual.body().as_slice()));

    let mut group = c.benchmark_group("get_item");
    group.bench_function("generated", |b| {
        b.iter(|| {
            block_on(dotdo::http::serve(
                black_box(&catalog),
                black_box(request()),
            ))
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| block_on(hand_written.handle(black_box(&catalog), black_box(request()))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
