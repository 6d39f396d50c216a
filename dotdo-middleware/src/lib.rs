//! Shared middleware for dotdo services.
//!
//! The middleware model (CORS, request ids, structured logs, authentication with the `/_`
//! private-path rule, rate limits, body limits) is tracked as its own piece of work; until it
//! lands this crate re-exports the request-level types the middleware will build on.

pub use dotdo_runtime::{Context, Error, Principal};
