//! Signed webhooks, verified over the raw body exactly as it arrived — before anything parses
//! it — and, where the scheme has one, within a tolerance of its timestamp, so a captured
//! request cannot be replayed later. The providers' schemes:
//!
//! - **dotdo / Stripe**: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several `v1`
//!   while a secret is rotated), in `X-Signature` or `Stripe-Signature`;
//! - **GitHub**: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (no timestamp:
//!   GitHub sends none, so replays are stopped by the delivery id, `X-GitHub-Delivery`);
//! - **WorkOS**: `WorkOS-Signature: t=<unix milliseconds>, v1=<hex HMAC of "<t>.<body>">`;
//! - **Standard Webhooks** (Svix, Resend): `webhook-id`/`svix-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC of "<id>.<t>.<body>">` (space-separated while rotated),
//!   the secret `whsec_<base64>`.
//!
//! Put it on a webhook route: `#[http(post = "/webhooks", middleware = "signed")]`, or call
//! [`WebhookSignature::verify_request`] where the provider is known only per request.

use base64::Engine as _;
use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next};

/// How a provider signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    /// `t=<seconds>,v1=<hex>` over `"<t>.<body>"`.
    Timestamped,
    /// `t=<milliseconds>, v1=<hex>` over `"<t>.<body>"`.
    TimestampedMillis,
    /// `sha256=<hex>` over the body.
    GitHub,
    /// `v1,<base64>` over `"<id>.<t>.<body>"`, id and t in headers of their own.
    StandardWebhooks,
}

/// How far a signature's timestamp may be from now.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 5 * 60;

/// Verifies the HMAC-SHA256 signature of each request's raw body.
pub struct WebhookSignature {
    secret: Vec<u8>,
    header: String,
    tolerance_seconds: u64,
    clock: fn() -> u64,
    scheme: Scheme,
}

impl WebhookSignature {
    /// Signatures made with `secret`, in `X-Signature` (`t=…,v1=…`, Stripe's scheme).
    pub fn hmac_sha256(secret: impl AsRef<[u8]>) -> Self {
        WebhookSignature {
            secret: secret.as_ref().to_vec(),
            header: "x-signature".to_owned(),
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
            clock: dotdo_runtime::clock::now_seconds,
            scheme: Scheme::Timestamped,
        }
    }

    /// Stripe's: `Stripe-Signature: t=…,v1=…` with the endpoint's signing secret.
    pub fn stripe(secret: impl AsRef<[u8]>) -> Self {
        Self::hmac_sha256(secret).header("stripe-signature")
    }

    /// GitHub's: `X-Hub-Signature-256: sha256=…` with the webhook's secret (no timestamp).
    pub fn github(secret: impl AsRef<[u8]>) -> Self {
        WebhookSignature {
            scheme: Scheme::GitHub,
            ..Self::hmac_sha256(secret).header("x-hub-signature-256")
        }
    }

    /// WorkOS's: `WorkOS-Signature: t=<milliseconds>, v1=…` with the webhook's secret.
    pub fn workos(secret: impl AsRef<[u8]>) -> Self {
        WebhookSignature {
            scheme: Scheme::TimestampedMillis,
            ..Self::hmac_sha256(secret).header("workos-signature")
        }
    }

    /// Standard Webhooks (Svix, Resend): `webhook-signature: v1,…` (or `svix-signature`) with a
    /// `whsec_<base64>` secret; an invalid secret is an error here, not at the first request.
    pub fn standard_webhooks(secret: &str) -> Result<Self, Error> {
        let key = base64::engine::general_purpose::STANDARD
            .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
            .map_err(|_| Error::internal("a Standard Webhooks secret is `whsec_<base64>`"))?;
        Ok(WebhookSignature {
            scheme: Scheme::StandardWebhooks,
            ..Self::hmac_sha256(key).header("webhook-signature")
        })
    }

    /// Reads the signature from another header.
    pub fn header(mut self, name: &str) -> Self {
        self.header = name.to_ascii_lowercase();
        self
    }

    pub fn tolerance_seconds(mut self, seconds: u64) -> Self {
        self.tolerance_seconds = seconds;
        self
    }

    /// Replaces the clock (seconds since the epoch), for tests.
    pub fn with_clock(mut self, clock: fn() -> u64) -> Self {
        self.clock = clock;
        self
    }

    fn mac(&self, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The header value a sender puts on `body` at `timestamp` (`t=…,v1=…`).
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let tag = hex::encode(self.mac(timestamp, body).finalize().into_bytes());
        format!("t={timestamp},v1={tag}")
    }

    fn standard_mac(&self, id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac
    }

    /// The headers a sender puts on `body` under its scheme: for tests, and for sending signed
    /// deliveries (Standard Webhooks' `webhook-id`, `webhook-timestamp`, `webhook-signature`).
    pub fn sign_headers(&self, id: &str, timestamp: u64, body: &[u8]) -> Vec<(String, String)> {
        let hex_mac = |message: &[u8]| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
                .expect("HMAC takes keys of any length");
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        };
        match self.scheme {
            Scheme::Timestamped => vec![(self.header.clone(), self.sign(timestamp, body))],
            Scheme::TimestampedMillis => {
                let millis = timestamp * 1000;
                let message = [format!("{millis}.").as_bytes(), body].concat();
                vec![(
                    self.header.clone(),
                    format!("t={millis}, v1={}", hex_mac(&message)),
                )]
            }
            Scheme::GitHub => vec![(self.header.clone(), format!("sha256={}", hex_mac(body)))],
            Scheme::StandardWebhooks => {
                let tag = base64::engine::general_purpose::STANDARD.encode(
                    self.standard_mac(id, timestamp, body)
                        .finalize()
                        .into_bytes(),
                );
                vec![
                    ("webhook-id".into(), id.to_owned()),
                    ("webhook-timestamp".into(), timestamp.to_string()),
                    (self.header.clone(), format!("v1,{tag}")),
                ]
            }
        }
    }

    /// Checks a request's signature headers over `body`, under this signer's scheme. The headers
    /// are read by name from the context: a header map looked up by `&str` parses the name at run
    /// time, which links `http`'s table of standard headers (12 KB of wasm) into the worker.
    pub fn verify_request(&self, context: &Context, body: &[u8]) -> Result<(), Error> {
        let header = |name: &str| context.header(name);
        match self.scheme {
            Scheme::Timestamped => self.verify(header(&self.header), body),
            Scheme::TimestampedMillis => self.verify_millis(header(&self.header), body),
            Scheme::GitHub => {
                let signature = header(&self.header).ok_or_else(|| {
                    Error::unauthorized(format!("missing `{}` signature header", self.header))
                })?;
                let tag = signature
                    .strip_prefix("sha256=")
                    .and_then(|tag| hex::decode(tag).ok())
                    .ok_or_else(|| {
                        Error::unauthorized("malformed signature: expected `sha256=<hex>`")
                    })?;
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
                    .expect("HMAC takes keys of any length");
                mac.update(body);
                mac.verify_slice(&tag)
                    .map_err(|_| Error::unauthorized("the signature does not match the body"))
            }
            Scheme::StandardWebhooks => {
                let either = |name: &str| {
                    header(&format!("webhook-{name}")).or_else(|| header(&format!("svix-{name}")))
                };
                let (Some(id), Some(timestamp), Some(signatures)) =
                    (either("id"), either("timestamp"), either("signature"))
                else {
                    return Err(Error::unauthorized(
                        "missing `webhook-id`, `webhook-timestamp` or `webhook-signature` (or their `svix-` forms)",
                    ));
                };
                let timestamp: u64 = timestamp.parse().map_err(|_| {
                    Error::unauthorized("malformed `webhook-timestamp`: unix seconds")
                })?;
                self.check_tolerance(timestamp)?;
                let valid = signatures
                    .split_whitespace()
                    .filter_map(|entry| entry.strip_prefix("v1,"))
                    .filter_map(|tag| base64::engine::general_purpose::STANDARD.decode(tag).ok())
                    .any(|tag| {
                        self.standard_mac(id, timestamp, body)
                            .verify_slice(&tag)
                            .is_ok()
                    });
                if valid {
                    Ok(())
                } else {
                    Err(Error::unauthorized("the signature does not match the body"))
                }
            }
        }
    }

    fn check_tolerance(&self, timestamp: u64) -> Result<(), Error> {
        if (self.clock)().abs_diff(timestamp) > self.tolerance_seconds {
            return Err(Error::unauthorized(
                "the signature's timestamp is outside the tolerance",
            ));
        }
        Ok(())
    }

    /// WorkOS's form: milliseconds, and a space after the comma.
    fn verify_millis(&self, signature: Option<&str>, body: &[u8]) -> Result<(), Error> {
        let signature = signature.ok_or_else(|| {
            Error::unauthorized(format!("missing `{}` signature header", self.header))
        })?;
        let mut millis = None;
        let mut tags = Vec::new();
        for part in signature.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("t", value)) => millis = value.parse::<u64>().ok(),
                Some(("v1", value)) => tags.push(value),
                _ => {}
            }
        }
        let millis = millis.filter(|_| !tags.is_empty()).ok_or_else(|| {
            Error::unauthorized("malformed signature: expected `t=<unix milliseconds>, v1=<hex>`")
        })?;
        self.check_tolerance(millis / 1000)?;
        let message = [format!("{millis}.").as_bytes(), body].concat();
        let valid = tags
            .iter()
            .filter_map(|tag| hex::decode(tag).ok())
            .any(|tag| {
                let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret)
                    .expect("HMAC takes keys of any length");
                mac.update(&message);
                mac.verify_slice(&tag).is_ok()
            });
        if valid {
            Ok(())
        } else {
            Err(Error::unauthorized("the signature does not match the body"))
        }
    }

    /// Checks `signature` (the header's value, if sent) over `body`.
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), Error> {
        let signature = signature.ok_or_else(|| {
            Error::unauthorized(format!("missing `{}` signature header", self.header))
        })?;
        let mut timestamp = None;
        let mut tags = Vec::new();
        for part in signature.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<u64>().ok(),
                Some(("v1", value)) => tags.push(value),
                _ => {}
            }
        }
        let malformed =
            || Error::unauthorized("malformed signature: expected `t=<unix seconds>,v1=<hex>`");
        let timestamp = timestamp.ok_or_else(malformed)?;
        if tags.is_empty() {
            return Err(malformed());
        }
        self.check_tolerance(timestamp)?;
        let valid = tags
            .iter()
            .filter_map(|tag| hex::decode(tag).ok())
            .any(|tag| self.mac(timestamp, body).verify_slice(&tag).is_ok());
        if valid {
            Ok(())
        } else {
            Err(Error::unauthorized("the signature does not match the body"))
        }
    }
}

impl Middleware for WebhookSignature {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        match self.verify_request(&context, &request.body) {
            Ok(()) => next.run(request, context),
            Err(error) => {
                let response = error_response(&error, &context);
                Box::pin(async move { response })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn signer() -> WebhookSignature {
        WebhookSignature::hmac_sha256("whsec_test").with_clock(|| NOW)
    }

    /// A context for a request carrying `headers`.
    fn context_with(headers: Vec<(String, String)>) -> Context {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::try_from(name).unwrap(),
                value.parse().unwrap(),
            );
        }
        Context::from_headers(dotdo_runtime::Interface::Http, map)
    }

    #[test]
    fn each_providers_scheme_verifies_its_own_signature_and_refuses_a_forgery() {
        let body = br#"{"id":"evt_1","type":"invoice.paid"}"#;
        let signers = [
            WebhookSignature::stripe("whsec_stripe"),
            WebhookSignature::github("gh-secret"),
            WebhookSignature::workos("workos-secret"),
            WebhookSignature::standard_webhooks("whsec_c2VjcmV0LWtleQ==").unwrap(),
        ];
        for signer in signers {
            let signer = signer.with_clock(|| NOW);
            let headers = context_with(signer.sign_headers("msg_1", NOW - 5, body));
            assert!(
                signer.verify_request(&headers, body).is_ok(),
                "{:?}",
                signer.scheme
            );
            let forged = br#"{"id":"evt_1","type":"invoice.void"}"#;
            let refused = signer.verify_request(&headers, forged).unwrap_err();
            assert_eq!(refused.kind(), dotdo_runtime::ErrorKind::Unauthorized);
            assert!(
                signer
                    .verify_request(&context_with(Vec::new()), body)
                    .is_err()
            );
        }
        // Timestamps outside the tolerance are refused where the scheme has them.
        let stale = WebhookSignature::standard_webhooks("whsec_c2VjcmV0LWtleQ==")
            .unwrap()
            .with_clock(|| NOW);
        let headers = context_with(stale.sign_headers("msg_2", NOW - 301, body));
        assert!(
            stale
                .verify_request(&headers, body)
                .unwrap_err()
                .to_string()
                .contains("tolerance")
        );
        assert!(WebhookSignature::standard_webhooks("whsec_not base64").is_err());
    }

    #[test]
    fn a_signature_over_the_raw_body_verifies_and_nothing_else_does() {
        let body = br#"{"record_id":"r1","action":"closed"}"#;
        let header = signer().sign(NOW - 10, body);
        assert!(signer().verify(Some(&header), body).is_ok());
        let reformatted = br#"{"record_id": "r1", "action": "closed"}"#;
        assert!(
            signer().verify(Some(&header), reformatted).is_err(),
            "the same JSON, other bytes"
        );
        let other_secret = WebhookSignature::hmac_sha256("another")
            .with_clock(|| NOW)
            .sign(NOW, body);
        assert!(signer().verify(Some(&other_secret), body).is_err());
        let rotating = format!("{},v1={}", signer().sign(NOW, body), "00".repeat(32));
        assert!(
            signer().verify(Some(&rotating), body).is_ok(),
            "any v1 entry may match"
        );
    }

    #[test]
    fn missing_malformed_and_stale_signatures_are_refused_saying_why() {
        let body = b"{}";
        let why = |header: Option<&str>| {
            signer()
                .verify(header, body)
                .unwrap_err()
                .message()
                .to_owned()
        };
        assert!(why(None).contains("missing"));
        assert!(why(Some("sha256=abc")).contains("malformed"));
        assert!(why(Some("t=notatime,v1=00")).contains("malformed"));
        assert!(
            why(Some(&signer().sign(NOW - 301, body))).contains("tolerance"),
            "replayed after 5 minutes"
        );
        assert!(why(Some(&signer().sign(NOW + 301, body))).contains("tolerance"));
        assert!(why(Some(&format!("t={NOW},v1=zz"))).contains("does not match"));
    }
}
