//! The router: its settings, its routes and the layers around them, and serving it until
//! shutdown.

use super::admission::Gate;
use super::graphiql;
use super::http::{graphql, panic_response};
use super::in_process::InProcess;
use super::limits::{self, ApiLimits};
use super::metrics::Metrics;
use super::observe::{Observer, observe};
use super::ratelimit::RateLimiter;
use super::state::ServerState;
use super::ws::graphql_ws;
use crate::api;
use crate::console::{self, Console, ConsoleOptions};
use crate::service::App;
use crate::telemetry::{Instrumentation, Tracing};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// HTTP settings. Built from `trm serve`'s configuration ([`crate::config::ServeConfig`]);
/// `Default` gives its defaults, without the rate limit.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Serve GraphiQL at `GET /graphql`.
    pub graphiql: bool,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub limits: ApiLimits,
    /// GraphQL requests per minute per principal, per instance (0: no limit). `Default` has no
    /// limit; `trm serve` has one.
    pub rate_limit_per_minute: u32,
    /// Serve `/metrics` on this router (off when it is served on an address of its own, see
    /// [`metrics_router`], or not at all).
    pub metrics_route: bool,
    /// The counters behind `/metrics` (shared with [`metrics_router`]).
    pub metrics: Arc<Metrics>,
    /// Where the spans of requests go (`Tracing::off()`: nowhere); [`serve`] flushes it when it
    /// stops.
    pub tracing: Tracing,
    /// The web console at `/`.
    pub console: ConsoleOptions,
}

/// The router, separate from `main` so that tests can serve it on a free port.
pub fn router(app: App, options: &HttpOptions) -> Router {
    router_with(app, options, None)
}

fn router_with(app: App, options: &HttpOptions, closing: Option<watch::Receiver<bool>>) -> Router {
    let schema = limits::apply(api::schema(Some(app.clone())), &options.limits);
    options.metrics.watch_store(&app.store);
    let gate = Gate::new(
        app.clone(),
        schema,
        options.limits.clone(),
        Arc::new(RateLimiter::per_minute(options.rate_limit_per_minute)),
        options.metrics.clone(),
    );
    let console = Console::new(
        app.clone(),
        Arc::new(InProcess { gate: gate.clone() }),
        options.console.clone(),
        closing.clone(),
    );
    let state = ServerState {
        app,
        gate,
        graphiql: options.graphiql,
        max_ws_message: options.max_body_bytes,
        closing,
    };
    let mut router = Router::new()
        .route("/graphql", get(graphiql::page).post(graphql))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if options.metrics_route {
        router = router.route("/metrics", get(metrics_text));
    }
    let router = router.with_state(state).merge(console::routes(console));
    with_layers(router, options)
}

/// The layers around every route: body and time limits, panics, request logging, and outermost
/// the server's instrumentation, metrics and request span ([`observe`]).
pub(super) fn with_layers(router: Router, options: &HttpOptions) -> Router {
    let observer = Observer {
        metrics: options.metrics.clone(),
        instrumentation: Instrumentation::new(options.metrics.clone(), &options.tracing),
    };
    router
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(options.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // A Content-Security-Policy that allows nothing but this service's own scripts, styles
        // and images (no inline script or style, no other host), no framing, no sniffing, no
        // referrer outside the service.
        .layer(unless_set(
            "content-security-policy",
            CONTENT_SECURITY_POLICY,
        ))
        .layer(unless_set("x-content-type-options", "nosniff"))
        .layer(unless_set("x-frame-options", "DENY"))
        .layer(unless_set("referrer-policy", "same-origin"))
        .layer(unless_set("cross-origin-opener-policy", "same-origin"))
        // Logs method, path and status only: no bodies, no headers, no query string, so no
        // personal data.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            }),
        )
        .layer(middleware::from_fn_with_state(observer, observe))
}

/// A header every response carries unless its handler set it (GraphiQL's page sets a policy of
/// its own).
fn unless_set(name: &'static str, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::HeaderName::from_static(name),
        HeaderValue::from_static(value),
    )
}

/// The Content-Security-Policy of every page but GraphiQL's.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// A router serving only `/metrics`, for an address of its own (`trm serve --metrics-bind`).
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_only))
        .with_state(metrics)
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
///
/// First starts this instance's signal listener (PostgreSQL `LISTEN`, see
/// [`crate::service::bus`]), so that subscriptions hear every commit from the moment the server
/// accepts connections; stops it at the end. At shutdown, WebSocket sessions are closed with
/// 1001 (going away) so that clients reconnect to another instance.
pub async fn serve(
    listener: TcpListener,
    app: App,
    options: &HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let signals = app
        .bus
        .listen(&app.store)
        .await
        .map_err(std::io::Error::other)?;
    let (closing_tx, closing) = watch::channel(false);
    let served = axum::serve(listener, router_with(app, options, Some(closing)))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = closing_tx.send(true);
        })
        .await;
    if let Some(signals) = signals {
        signals.stop().await;
    }
    options.tracing.shutdown().await;
    served
}

/// `GET /metrics` on the main router.
async fn metrics_text(State(state): State<ServerState>) -> Response {
    prometheus_text(state.gate.metrics())
}

/// `GET /metrics` on a router of its own.
async fn metrics_only(State(metrics): State<Arc<Metrics>>) -> Response {
    prometheus_text(&metrics)
}

fn prometheus_text(metrics: &Metrics) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render(),
    )
        .into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<ServerState>) -> Response {
    if state.app.store.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    }
}
