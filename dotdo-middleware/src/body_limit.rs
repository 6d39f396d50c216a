//! Refuses bodies over a size with 413, before anything parses them.

use futures_util::future::LocalBoxFuture;
use http::header::CONTENT_LENGTH;

use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Error, ErrorKind, Middleware, Next};

/// The largest body accepted, in bytes.
pub struct BodyLimit {
    max: usize,
}

impl BodyLimit {
    pub fn bytes(max: usize) -> Self {
        BodyLimit { max }
    }
}

impl Middleware for BodyLimit {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response> {
        // The declared length is checked first, so an honest client learns without sending.
        let declared = context
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let size = declared.unwrap_or(0).max(request.body.len());
        if size > self.max {
            let error = Error::new(
                ErrorKind::PayloadTooLarge,
                format!("the body is {size} bytes; the limit is {} bytes", self.max),
            );
            let response = error_response(&error, &context);
            return Box::pin(async move { response });
        }
        next.run(request, context)
    }
}
