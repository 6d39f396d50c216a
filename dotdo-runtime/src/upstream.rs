//! A typed client for the HTTP APIs a service calls (`Upstream`): a timeout on every attempt,
//! retries with exponential backoff (honouring `Retry-After`) where a retry cannot do a thing
//! twice, and the API's answers mapped to `dotdo::Error`, so every interface of the service
//! answers an upstream failure correctly and no credential reaches the caller.
//!
//! ```text
//! let api = Upstream::new("https://api.example.com").bearer(&api_key).timeout_ms(5_000);
//! let record: Record = api.get("/v1/records/r1").await?;
//! let made: Record = api.post("/v1/records", &new_record).await?;            // retried on 429 only
//! let sent: Email = api.post_idempotent("/emails", &email, &message_id).await?; // retried like a GET
//! ```
//!
//! On Workers requests go out with `fetch` ([`FetchClient`], the default); tests give
//! [`Upstream::client`] any [`HttpClient`], such as a blocking client against a local server.

use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use http::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// One attempt of a request.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub timeout_ms: u32,
}

/// The API's answer.
#[derive(Debug, Clone)]
pub struct UpstreamResponse {
    pub status: u16,
    /// `Retry-After` in seconds, when the API sent one.
    pub retry_after: Option<u32>,
    pub body: Vec<u8>,
}

/// How requests leave the worker: `fetch` on Workers, any HTTP client in tests.
pub trait HttpClient {
    /// Sends one attempt; `Err` only when no answer came (network failure, timeout).
    fn send(&self, request: UpstreamRequest)
    -> LocalBoxFuture<'_, crate::Result<UpstreamResponse>>;
    /// Waits between attempts.
    fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()>;
}

/// How often and how patiently a request is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the second attempt; it doubles after each.
    pub base_backoff_ms: u64,
    /// The longest wait, `Retry-After` included.
    pub max_backoff_ms: u64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 3,
            base_backoff_ms: 200,
            max_backoff_ms: 5_000,
        }
    }
}

/// An HTTP API the service calls.
#[derive(Clone)]
pub struct Upstream {
    base_url: String,
    headers: Vec<(String, String)>,
    timeout_ms: u32,
    retry: Retry,
    client: Rc<dyn HttpClient>,
}

impl Upstream {
    pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

    /// The API at `base_url` (paths are appended to it), called with `fetch`.
    pub fn new(base_url: &str) -> Self {
        Upstream {
            base_url: base_url.trim_end_matches('/').to_owned(),
            headers: vec![("accept".into(), "application/json".into())],
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            retry: Retry::default(),
            client: Rc::new(FetchClient),
        }
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", &format!("Bearer {token}"))
    }

    /// Sends this header with every request.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The most each attempt may take before it counts as no answer.
    pub fn timeout_ms(mut self, millis: u32) -> Self {
        self.timeout_ms = millis;
        self
    }

    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// Sends requests with `client` instead of `fetch`.
    pub fn client(mut self, client: Rc<dyn HttpClient>) -> Self {
        self.client = client;
        self
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> crate::Result<T> {
        self.call(Method::GET, path, None::<&()>, None).await
    }

    pub async fn delete<T: DeserializeOwned>(&self, path: &str) -> crate::Result<T> {
        self.call(Method::DELETE, path, None::<&()>, None).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> crate::Result<T> {
        self.call(Method::PUT, path, Some(body), None).await
    }

    /// A POST, retried only when the API refused it unprocessed (429): after a 5xx or no
    /// answer the API may have acted on it, and a retry could act twice.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> crate::Result<T> {
        self.call(Method::POST, path, Some(body), None).await
    }

    /// A POST with an `Idempotency-Key`: the API acts on a key once, so it is retried like a
    /// GET (after 429, 5xx and no answer).
    pub async fn post_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: &str,
    ) -> crate::Result<T> {
        self.call(Method::POST, path, Some(body), Some(idempotency_key))
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> crate::Result<T> {
        let what = format!("{method} {path}");
        let mut headers = self.headers.clone();
        let body = match body {
            Some(body) => {
                headers.push(("content-type".into(), "application/json".into()));
                Some(serde_json::to_vec(body).map_err(|error| {
                    Error::internal(format!("{what}: the request body does not encode: {error}"))
                })?)
            }
            None => None,
        };
        if let Some(key) = idempotency_key {
            headers.push(("idempotency-key".into(), key.to_owned()));
        }
        let safe_to_repeat = idempotency_key.is_some()
            || matches!(
                method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE
            );
        let request = UpstreamRequest {
            method,
            url: format!("{}{path}", self.base_url),
            headers,
            body,
            timeout_ms: self.timeout_ms,
        };
        let mut attempt = 1;
        loop {
            let outcome = self.client.send(request.clone()).await;
            let retryable = match &outcome {
                Ok(response) if response.status == 429 => true,
                Ok(response) => safe_to_repeat && response.status >= 500,
                Err(_) => safe_to_repeat,
            };
            if !retryable || attempt >= self.retry.attempts {
                return decode(&what, outcome?);
            }
            let wait = match &outcome {
                Ok(UpstreamResponse {
                    retry_after: Some(seconds),
                    ..
                }) => u64::from(*seconds) * 1000,
                _ => self.retry.base_backoff_ms << (attempt - 1).min(16),
            };
            self.client.sleep(wait.min(self.retry.max_backoff_ms)).await;
            attempt += 1;
        }
    }
}

/// The API's answer as a value, or as the error it stands for on the service's interfaces.
fn decode<T: DeserializeOwned>(what: &str, response: UpstreamResponse) -> crate::Result<T> {
    match response.status {
        200..=299 => {
            // An empty success (204) decodes as `null`: `()` or an `Option`.
            let body: &[u8] = if response.body.is_empty() {
                b"null"
            } else {
                &response.body
            };
            crate::json::from_text(body).map_err(|error| {
                Error::upstream(format!("{what}: the API answered unexpected JSON: {error}"))
            })
        }
        404 => Err(Error::not_found(format!("{what}: not found upstream"))),
        400 | 422 => Err(Error::bad_request(format!(
            "{what}: the API refused the request: {}",
            excerpt(&response.body)
        ))),
        409 => Err(Error::conflict(format!("{what}: conflict upstream"))),
        // Our own credentials are wrong: an operator's problem, not the caller's.
        401 | 403 => Err(Error::internal(format!(
            "{what}: the API refused our credentials ({})",
            response.status
        ))),
        429 => Err(Error::rate_limited(response.retry_after.unwrap_or(60))),
        status => Err(Error::upstream(format!(
            "{what}: the API failed with {status}"
        ))),
    }
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(200).collect()
}

/// `fetch` on Workers, with the request's timeout (the request is aborted when it passes).
pub struct FetchClient;

impl HttpClient for FetchClient {
    fn send(
        &self,
        request: UpstreamRequest,
    ) -> LocalBoxFuture<'_, crate::Result<UpstreamResponse>> {
        Box::pin(async move {
            use futures_util::future::{Either, select};
            let fetch_error = |error: worker::Error| {
                Error::upstream(format!("{} {}: {error}", request.method, request.url))
            };
            let headers = request
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()));
            let outgoing = crate::worker::convert::js_request(
                request.method.as_str(),
                &request.url,
                headers,
                request.body.as_deref(),
            )
            .map_err(fetch_error)?;
            let controller = worker::AbortController::default();
            let signal = controller.signal();
            let outgoing = worker::Fetch::Request(outgoing);
            let fetch = Box::pin(outgoing.send_with_signal(&signal));
            let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
                u64::from(request.timeout_ms),
            )));
            match select(fetch, timeout).await {
                Either::Left((response, _)) => {
                    let mut response = response.map_err(fetch_error)?;
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .ok()
                        .flatten()
                        .and_then(|value| value.trim().parse().ok());
                    let body = response.bytes().await.map_err(fetch_error)?;
                    Ok(UpstreamResponse {
                        status: response.status_code(),
                        retry_after,
                        body,
                    })
                }
                Either::Right(((), _)) => {
                    controller.abort();
                    Err(Error::upstream(format!(
                        "{} {}: no answer in {} ms",
                        request.method, request.url, request.timeout_ms
                    )))
                }
            }
        })
    }

    fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()> {
        Box::pin(worker::Delay::from(std::time::Duration::from_millis(
            millis,
        )))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::{Value, json};

    use super::*;
    use crate::ErrorKind;

    /// A scripted answer: status, `Retry-After`, body; `None` for no answer.
    type Answer = Option<(u16, Option<u32>, &'static str)>;

    /// Answers from a script, recording every attempt and every wait.
    #[derive(Default)]
    struct Scripted {
        answers: RefCell<Vec<Answer>>,
        sent: RefCell<Vec<UpstreamRequest>>,
        slept: RefCell<Vec<u64>>,
    }

    impl HttpClient for Scripted {
        fn send(
            &self,
            request: UpstreamRequest,
        ) -> LocalBoxFuture<'_, crate::Result<UpstreamResponse>> {
            self.sent.borrow_mut().push(request);
            let answer = self.answers.borrow_mut().remove(0);
            Box::pin(async move {
                let (status, retry_after, body) =
                    answer.ok_or_else(|| Error::upstream("no answer in 10 ms"))?;
                Ok(UpstreamResponse {
                    status,
                    retry_after,
                    body: body.as_bytes().to_vec(),
                })
            })
        }

        fn sleep(&self, millis: u64) -> LocalBoxFuture<'_, ()> {
            self.slept.borrow_mut().push(millis);
            Box::pin(async {})
        }
    }

    fn api(answers: Vec<Answer>) -> (Upstream, Rc<Scripted>) {
        let client = Rc::new(Scripted {
            answers: RefCell::new(answers),
            ..Scripted::default()
        });
        let upstream = Upstream::new("https://api.example.com/")
            .bearer("secret-token")
            .client(client.clone());
        (upstream, client)
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        futures_executor::block_on(future)
    }

    #[test]
    fn requests_carry_the_credentials_headers_and_json_body() {
        let (upstream, client) = api(vec![Some((201, None, r#"{"id":"r1"}"#))]);
        let made: Value = run(upstream.post("/v1/records", &json!({"title": "x"}))).unwrap();
        assert_eq!(made, json!({"id": "r1"}));
        let sent = &client.sent.borrow()[0];
        assert_eq!(
            (sent.method.as_str(), sent.url.as_str()),
            ("POST", "https://api.example.com/v1/records")
        );
        let header = |name: &str| {
            sent.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("authorization"), Some("Bearer secret-token"));
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(sent.body.as_deref(), Some(br#"{"title":"x"}"#.as_slice()));
        assert_eq!(sent.timeout_ms, Upstream::DEFAULT_TIMEOUT_MS);
    }

    #[test]
    fn reads_are_retried_with_backoff_honouring_retry_after() {
        let (upstream, client) = api(vec![
            Some((429, Some(2), "slow down")),
            None,
            Some((200, None, "[1]")),
        ]);
        let answer: Vec<u32> = run(upstream.get("/v1/things")).unwrap();
        assert_eq!(answer, [1]);
        assert_eq!(client.sent.borrow().len(), 3);
        assert_eq!(
            *client.slept.borrow(),
            [2000, 400],
            "Retry-After, then doubled backoff"
        );
    }

    #[test]
    fn a_post_is_repeated_only_when_the_api_refused_it_unprocessed() {
        let (upstream, client) = api(vec![Some((503, None, "busy"))]);
        let error = run(upstream.post::<_, Value>("/v1/records", &json!({}))).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Upstream);
        assert_eq!(
            client.sent.borrow().len(),
            1,
            "a 5xx POST may have acted: not repeated"
        );

        let (upstream, client) = api(vec![None]);
        run(upstream.post::<_, Value>("/v1/records", &json!({}))).unwrap_err();
        assert_eq!(client.sent.borrow().len(), 1, "nor one that got no answer");

        let (upstream, client) = api(vec![Some((429, None, "")), Some((201, None, "{}"))]);
        run(upstream.post::<_, Value>("/v1/records", &json!({}))).unwrap();
        assert_eq!(
            client.sent.borrow().len(),
            2,
            "a 429 was not processed: repeated"
        );
    }

    #[test]
    fn an_idempotent_post_is_retried_and_carries_its_key() {
        let (upstream, client) = api(vec![None, Some((502, None, "")), Some((200, None, "{}"))]);
        run(upstream.post_idempotent::<_, Value>("/emails", &json!({}), "msg-1")).unwrap();
        let sent = client.sent.borrow();
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|request| {
            request
                .headers
                .contains(&("idempotency-key".into(), "msg-1".into()))
        }));
    }

    #[test]
    fn answers_map_to_errors_on_every_interface_without_leaking_credentials() {
        let cases = [
            (404, ErrorKind::NotFound),
            (400, ErrorKind::BadRequest),
            (422, ErrorKind::BadRequest),
            (409, ErrorKind::Conflict),
            (401, ErrorKind::Internal),
            (403, ErrorKind::Internal),
        ];
        for (status, kind) in cases {
            let (upstream, _) = api(vec![Some((status, None, "{}"))]);
            let error = run(upstream.get::<Value>("/x")).unwrap_err();
            assert_eq!(error.kind(), kind, "{status}");
            assert!(!error.to_string().contains("secret-token"));
        }
        let (upstream, client) = api(vec![Some((500, None, "")); 3]);
        let error = run(upstream.get::<Value>("/x")).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Upstream, "5xx after every attempt");
        assert_eq!(client.slept.borrow().len(), 2);
        let (upstream, _) = api(vec![Some((429, Some(7), "")); 3]);
        let error = run(upstream.get::<Value>("/x")).unwrap_err();
        assert_eq!(
            error.retry_after(),
            Some(7),
            "still limited: the caller is told when to retry"
        );
        let (upstream, _) = api(vec![Some((200, None, "not json"))]);
        assert_eq!(
            run(upstream.get::<Value>("/x")).unwrap_err().kind(),
            ErrorKind::Upstream
        );
        let (upstream, _) = api(vec![Some((204, None, ""))]);
        run(upstream.delete::<()>("/x")).unwrap();
    }
}
