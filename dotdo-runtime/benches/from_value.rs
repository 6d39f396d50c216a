//! Decoding a parsed JSON value into a type, as arguments, rows and queue messages are decoded:
//! `dotdo::json::from_value` (which names the path of an error) against `serde_path_to_error`
//! over serde_json's deserializer (what it replaced) and serde_json's `from_value` (no path).
//!
//! Run: `cargo bench -p dotdo-runtime --bench from_value`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[allow(dead_code)]
struct ItemCreated {
    id: String,
    name: String,
    price: u32,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Order {
    id: u32,
    items: Vec<ItemCreated>,
    note: Option<String>,
}

fn order() -> Value {
    let item = json!({"id": "i-42", "name": "widget", "price": 250});
    json!({"id": 7, "items": [item, item, item], "note": "leave at the door"})
}

fn bench(c: &mut Criterion) {
    let order = order();
    let mut group = c.benchmark_group("from_value/order");
    group.bench_function("dotdo", |b| {
        b.iter(|| dotdo_runtime::json::from_value::<Order>(black_box(order.clone())).unwrap())
    });
    group.bench_function("serde_path_to_error", |b| {
        b.iter(|| serde_path_to_error::deserialize::<_, Order>(black_box(order.clone())).unwrap())
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| serde_json::from_value::<Order>(black_box(order.clone())).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
