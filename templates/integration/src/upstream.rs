//! A typed client for the external API: timeouts, retries with backoff on 429 and 5xx, and the
//! API's errors mapped to `dotdo::Error` so every interface answers them correctly.

use std::rc::Rc;

use dotdo::Error;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One request to the external API.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub method: &'static str,
    pub url: String,
    pub api_key: String,
    pub body: Option<String>,
    pub timeout_ms: u32,
}

/// Its answer.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: u16,
    /// `Retry-After` in seconds, when the API sent one.
    pub retry_after: Option<u32>,
    pub body: String,
}

/// How requests leave the worker: `fetch` on Workers, any HTTP client in tests.
pub trait HttpClient {
    /// Sends `request`; `Err` only when no answer came (network failure, timeout).
    fn send(&self, request: UpstreamRequest) -> LocalBoxFuture<'_, Result<UpstreamResponse, Error>>;
    fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()>;
}

pub const MAX_ATTEMPTS: u32 = 3;
const BASE_BACKOFF_MS: u64 = 200;
const MAX_BACKOFF_MS: u64 = 5_000;

pub struct Upstream {
    base_url: String,
    api_key: String,
    timeout_ms: u32,
    http: Rc<dyn HttpClient>,
}

impl Upstream {
    pub fn new(base_url: &str, api_key: &str, timeout_ms: u32, http: Rc<dyn HttpClient>) -> Self {
        Upstream { base_url: base_url.trim_end_matches('/').to_owned(), api_key: api_key.to_owned(), timeout_ms, http }
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> dotdo::Result<T> {
        self.call("GET", path, None::<&()>).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> dotdo::Result<T> {
        self.call("POST", path, Some(body)).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(&self, method: &'static str, path: &str, body: Option<&B>) -> dotdo::Result<T> {
        let body = body.map(serde_json::to_string).transpose()?;
        let request = UpstreamRequest {
            method,
            url: format!("{}{path}", self.base_url),
            api_key: self.api_key.clone(),
            body,
            timeout_ms: self.timeout_ms,
        };
        let mut attempt = 1;
        loop {
            let outcome = self.http.send(request.clone()).await;
            let retryable = match &outcome {
                Err(_) => true,
                Ok(response) => response.status == 429 || response.status >= 500,
            };
            if !retryable || attempt == MAX_ATTEMPTS {
                return decode(method, path, outcome?);
            }
            let wait = match &outcome {
                Ok(UpstreamResponse { retry_after: Some(seconds), .. }) => u64::from(*seconds) * 1000,
                _ => BASE_BACKOFF_MS << (attempt - 1),
            };
            self.http.sleep(wait.min(MAX_BACKOFF_MS)).await;
            attempt += 1;
        }
    }
}

/// The API's answer as a value or as the error it stands for.
fn decode<T: DeserializeOwned>(method: &str, path: &str, response: UpstreamResponse) -> dotdo::Result<T> {
    let what = format!("{method} {path}");
    match response.status {
        200..=299 => serde_json::from_str(&response.body)
            .map_err(|error| Error::upstream(format!("{what}: the API answered unexpected JSON: {error}"))),
        404 => Err(Error::not_found(format!("{what}: not found upstream"))),
        400 | 422 => Err(Error::bad_request(format!("{what}: the API refused the request: {}", short(&response.body)))),
        409 => Err(Error::conflict(format!("{what}: conflict upstream"))),
        // Our own credentials are wrong: an operator problem, not the caller's.
        401 | 403 => Err(Error::internal(format!("{what}: the API refused our credentials ({})", response.status))),
        429 => Err(Error::rate_limited(response.retry_after.unwrap_or(60))),
        status => Err(Error::upstream(format!("{what}: the API failed with {status}"))),
    }
}

fn short(text: &str) -> String {
    text.chars().take(200).collect()
}

/// `fetch` on Workers, with a timeout.
pub struct FetchClient;

impl HttpClient for FetchClient {
    fn send(&self, request: UpstreamRequest) -> LocalBoxFuture<'_, Result<UpstreamResponse, Error>> {
        Box::pin(async move {
            use futures_util::future::{Either, select};
            let fetch_error = |error: worker::Error| Error::upstream(format!("{} {}: {error}", request.method, request.url));
            let headers = worker::Headers::new();
            headers.set("authorization", &format!("Bearer {}", request.api_key)).map_err(fetch_error)?;
            headers.set("content-type", "application/json").map_err(fetch_error)?;
            let mut init = worker::RequestInit::new();
            init.with_method(worker::Method::from(request.method.to_owned()))
                .with_headers(headers)
                .with_body(request.body.as_deref().map(worker::wasm_bindgen::JsValue::from_str));
            let outgoing = worker::Request::new_with_init(&request.url, &init).map_err(fetch_error)?;
            let controller = worker::AbortController::default();
            let signal = controller.signal();
            let outgoing = worker::Fetch::Request(outgoing);
            let fetch = Box::pin(outgoing.send_with_signal(&signal));
            let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(u64::from(request.timeout_ms))));
            match select(fetch, timeout).await {
                Either::Left((response, _)) => {
                    let mut response = response.map_err(fetch_error)?;
                    let retry_after = response.headers().get("retry-after").ok().flatten().and_then(|value| value.parse().ok());
                    let body = response.text().await.map_err(fetch_error)?;
                    Ok(UpstreamResponse { status: response.status_code(), retry_after, body })
                }
                Either::Right(((), _)) => {
                    controller.abort();
                    Err(Error::upstream(format!("{} {}: no answer in {} ms", request.method, request.url, request.timeout_ms)))
                }
            }
        })
    }

    fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()> {
        Box::pin(worker::Delay::from(std::time::Duration::from_millis(millis)))
    }
}
