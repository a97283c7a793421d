//! HTTP: `/graphql` (POST; GET serves GraphiQL when enabled, its files under
//! `/graphql/assets/`), `/graphql/ws` (subscriptions over WebSocket, `graphql-transport-ws`),
//! `/healthz`, `/readyz`, `/metrics`.
//! Every GraphQL request is authenticated before anything executes; a WebSocket session is
//! authenticated by its `connection_init` message before any subscription runs.
//!
//! Hardening, in the order a request meets it: body size (413 `PAYLOAD_TOO_LARGE`), request time
//! (408 `TIMEOUT`), authentication (401), the per-principal rate limit (429 `RATE_LIMITED`), one
//! JSON object per request (no batches: 400 `VALIDATION`), the query limits of [`limits`]
//! (depth among them) and the schema's complexity and directive limits (`VALIDATION`), and after
//! execution `echo`, which keeps values of the request out of error messages. A panic answers
//! 500 `INTERNAL` without details.
//!
//! The files: `router` (settings, routes, layers, serving), `http` and `ws` (the two
//! transports), `admission` (the one path every GraphQL request takes through both), `limits`,
//! `echo`, `ratelimit` and `metrics` (what admission applies), `observe` (the layer that times,
//! counts and traces every request, see [`crate::telemetry`]), `process` (signals, panics, file
//! size limits), `graphiql` (the page and the files it loads).

mod admission;
mod echo;
mod graphiql;
mod http;
mod in_process;
pub mod limits;
mod metrics;
mod observe;
mod parsed;
mod process;
mod ratelimit;
mod router;
mod state;
#[cfg(test)]
mod tests;
mod ws;

pub use in_process::InProcess;
pub use limits::ApiLimits;
pub use metrics::{Metrics, OUTCOMES};
pub use process::{install_panic_hook, shutdown_signal, survive_file_size_limit};
pub use ratelimit::RateLimiter;
pub use router::{HttpOptions, metrics_router, router, serve};
pub use ws::{CONNECTION_INIT_TIMEOUT, WS_PROTOCOL};
