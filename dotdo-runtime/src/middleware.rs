//! Middleware: ordered layers around a service's HTTP handling, like Hono's or tower's. A layer
//! sees the request and the call's [`Context`] on the way in, may answer at once (short-circuit)
//! or call [`Next::run`], and may change the response on the way out. The stack wraps every
//! interface that arrives over HTTP: routes, `/_rpc` and `/mcp`.
//!
//! A service declares its stack with `#[dotdo::service(middleware = "method")]`, where
//! `fn method(&self) -> dotdo::Stack` builds it (per request, from the service's configuration).

use futures_util::future::LocalBoxFuture;

use crate::Context;
use crate::wire::{Incoming, Response};

/// One layer of a [`Stack`].
pub trait Middleware {
    fn call<'a>(
        &'a self,
        request: Incoming,
        context: Context,
        next: Next<'a>,
    ) -> LocalBoxFuture<'a, Response>;

    /// The largest request body this layer lets through, if it limits bodies: the Workers glue
    /// reads bodies with the smallest limit of the stack, so a larger body is refused while it
    /// is read rather than after it is all in memory.
    fn body_limit(&self) -> Option<usize> {
        None
    }
}

/// What a stack wraps: the service's handling of the request.
pub type Endpoint<'a> = dyn Fn(Context, Incoming) -> LocalBoxFuture<'a, Response> + 'a;

/// The rest of the stack, then the service.
pub struct Next<'a> {
    rest: &'a [Box<dyn Middleware>],
    endpoint: &'a Endpoint<'a>,
}

impl<'a> Next<'a> {
    /// Passes the request on.
    pub fn run(self, request: Incoming, context: Context) -> LocalBoxFuture<'a, Response> {
        match self.rest.split_first() {
            Some((layer, rest)) => layer.call(
                request,
                context,
                Next {
                    rest,
                    endpoint: self.endpoint,
                },
            ),
            None => (self.endpoint)(context, request),
        }
    }
}

/// The ordered middleware of a service: the first added sees the request first and the response
/// last.
#[derive(Default)]
pub struct Stack {
    layers: Vec<Box<dyn Middleware>>,
}

impl Stack {
    pub fn new() -> Self {
        Stack::default()
    }

    /// Adds a layer inside the ones added before.
    pub fn with(mut self, layer: impl Middleware + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The smallest body limit of its layers.
    pub fn body_limit(&self) -> Option<usize> {
        self.layers
            .iter()
            .filter_map(|layer| layer.body_limit())
            .min()
    }
}

/// Runs `stack` around `endpoint`.
pub async fn run<'a>(
    stack: &'a Stack,
    context: Context,
    request: Incoming,
    endpoint: &'a Endpoint<'a>,
) -> Response {
    Next {
        rest: &stack.layers,
        endpoint,
    }
    .run(request, context)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the order it runs in, and can answer without calling the service.
    struct Probe {
        name: &'static str,
        answer: bool,
        seen: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    }

    impl Middleware for Probe {
        fn call<'a>(
            &'a self,
            request: Incoming,
            context: Context,
            next: Next<'a>,
        ) -> LocalBoxFuture<'a, Response> {
            Box::pin(async move {
                self.seen.borrow_mut().push(format!("{} in", self.name));
                if self.answer {
                    let mut response = Response::new(crate::wire::Body::empty());
                    *response.status_mut() = http::StatusCode::IM_A_TEAPOT;
                    return response;
                }
                let mut response = next.run(request, context).await;
                self.seen.borrow_mut().push(format!("{} out", self.name));
                response
                    .headers_mut()
                    .append("x-layer", http::HeaderValue::from_static(self.name));
                response
            })
        }
    }

    /// Runs `stack` around an endpoint that records its call and answers 404.
    fn run_around_endpoint(
        stack: &Stack,
        seen: &std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    ) -> Response {
        let endpoint = |_context: Context, _request: Incoming| -> LocalBoxFuture<'_, Response> {
            Box::pin(async move {
                seen.borrow_mut().push("endpoint".to_owned());
                let mut response = Response::new(crate::wire::Body::empty());
                *response.status_mut() = http::StatusCode::NOT_FOUND;
                response
            })
        };
        let context = Context::new(crate::Interface::Http);
        futures_executor::block_on(run(stack, context, request(), &endpoint))
    }

    fn request() -> Incoming {
        Incoming {
            method: http::Method::GET,
            uri: http::Uri::from_static("/x"),
            body: Vec::new(),
        }
    }

    #[test]
    fn layers_run_in_order_around_the_service() {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let stack = Stack::new()
            .with(Probe {
                name: "outer",
                answer: false,
                seen: seen.clone(),
            })
            .with(Probe {
                name: "inner",
                answer: false,
                seen: seen.clone(),
            });
        let response = run_around_endpoint(&stack, &seen);
        assert_eq!(response.status(), 404, "the endpoint answered");
        assert_eq!(
            *seen.borrow(),
            ["outer in", "inner in", "endpoint", "inner out", "outer out"]
        );
        let layers: Vec<_> = response.headers().get_all("x-layer").iter().collect();
        assert_eq!(layers, ["inner", "outer"]);
    }

    #[test]
    fn a_layer_can_answer_without_calling_the_rest() {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let stack = Stack::new()
            .with(Probe {
                name: "guard",
                answer: true,
                seen: seen.clone(),
            })
            .with(Probe {
                name: "never",
                answer: false,
                seen: seen.clone(),
            });
        let response = run_around_endpoint(&stack, &seen);
        assert_eq!(response.status(), 418);
        assert_eq!(*seen.borrow(), ["guard in"]);
    }
}
