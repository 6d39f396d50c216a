//! Signed webhooks: the sender puts `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
//! "<t>.<raw body>">` on the request (Stripe's scheme; several `v1` entries while a secret is
//! rotated), and this layer checks it over the body exactly as it arrived — before anything
//! parses it — within a tolerance of the timestamp, so a captured request cannot be replayed
//! later. Put it on the webhook route: `#[http(post = "/webhooks", middleware = "signed")]`.

use futures_util::future::LocalBoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, Middleware, Next};

/// How far a signature's timestamp may be from now.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 5 * 60;

/// Verifies the HMAC-SHA256 signature of each request's raw body.
pub struct WebhookSignature {
    secret: Vec<u8>,
    header: String,
    tolerance_seconds: u64,
    clock: fn() -> u64,
}

impl WebhookSignature {
    /// Signatures made with `secret`, in `X-Signature`.
    pub fn hmac_sha256(secret: impl AsRef<[u8]>) -> Self {
        WebhookSignature {
            secret: secret.as_ref().to_vec(),
            header: "x-signature".to_owned(),
            tolerance_seconds: DEFAULT_TOLERANCE_SECONDS,
            clock: dotdo_runtime::clock::now_seconds,
        }
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

    /// The header value a sender puts on `body` at `timestamp`.
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let tag = hex::encode(self.mac(timestamp, body).finalize().into_bytes());
        format!("t={timestamp},v1={tag}")
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
        if (self.clock)().abs_diff(timestamp) > self.tolerance_seconds {
            return Err(Error::unauthorized(
                "the signature's timestamp is outside the tolerance",
            ));
        }
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
        match self.verify(context.header(&self.header), &request.body) {
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
