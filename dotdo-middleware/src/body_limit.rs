//! Refuses bodies over a size with 413, before anything parses them. On Workers the limit is
//! applied while the body is read (see [`Middleware::body_limit`]): a declared `Content-Length`
//! over it is refused unread, a chunked body is cut off at the limit. This layer checks again for
//! hosts that hand it a body already read (the in-process test client).

use futures_util::future::LocalBoxFuture;

use dotdo_runtime::body::{check_content_length, too_large};
use dotdo_runtime::http::{Incoming, Response, error_response};
use dotdo_runtime::{Context, Middleware, Next};

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
        let refused = check_content_length(context.header_bytes("content-length"), self.max)
            .err()
            .or_else(|| {
                (request.body.len() > self.max).then(|| too_large(request.body.len(), self.max))
            });
        if let Some(error) = refused {
            let response = error_response(&error, &context);
            return Box::pin(async move { response });
        }
        next.run(request, context)
    }

    fn body_limit(&self) -> Option<usize> {
        Some(self.max)
    }
}
