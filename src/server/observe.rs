//! The layer around every request: it runs the request under the server's
//! [`Instrumentation`] (its logs, its statement timings, its spans), opens the request's span,
//! `trm.request`, and for `POST /graphql` counts the request with its outcome and latency and
//! gives the answers of the layers before the handler (body limit, timeout, panic) a JSON
//! error body.
//!
//! The span's attributes: the HTTP method (a standard one, else `_OTHER`), the route as the
//! router declares it (`/cases/{id}`, never the path asked for), the status code and, for
//! GraphQL, the operation kind and the outcome code. Nothing from the request's body, headers or
//! query string. Health checks and `/metrics` get no span.

use super::http::{Outcome, json_error, too_large_response, with_outcome};
use super::limits::OperationKind;
use super::metrics::Metrics;
use crate::telemetry::Instrumentation;
use axum::extract::{MatchedPath, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;
use tracing::field::Empty;

/// The layer's state: the server's metrics and instrumentation.
#[derive(Clone)]
pub(super) struct Observer {
    pub(super) metrics: Arc<Metrics>,
    pub(super) instrumentation: Instrumentation,
}

/// The layer (see the module's documentation).
pub(super) async fn observe(
    State(observer): State<Observer>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let instrumentation = observer.instrumentation.clone();
    instrumentation
        .run(observed(observer.metrics, request, next))
        .await
}

async fn observed(metrics: Arc<Metrics>, request: axum::extract::Request, next: Next) -> Response {
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let graphql = request.method() == Method::POST && path == "/graphql";
    let span = tracing::info_span!(
        "trm.request",
        otel.kind = "server",
        http.request.method = standard_method(request.method()),
        http.route = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
        http.response.status_code = Empty,
        trm.operation = Empty,
        trm.outcome = Empty,
        otel.status_code = Empty,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    if graphql {
        let outcome = answered(&mut response);
        metrics.request(outcome.kind, outcome.code);
        metrics.latency(outcome.kind, outcome.code, started.elapsed());
        span.record("trm.operation", outcome.kind.as_str());
        span.record("trm.outcome", outcome.code);
    }
    span.record(
        "http.response.status_code",
        i64::from(response.status().as_u16()),
    );
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    response
}

/// What became of a `/graphql` request, giving the answers of the layers before the handler a
/// JSON body and an outcome.
fn answered(response: &mut Response) -> Outcome {
    if let Some(outcome) = response.extensions().get::<Outcome>() {
        return *outcome;
    }
    let before = std::mem::take(response);
    *response = match before.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large_response(),
        StatusCode::REQUEST_TIMEOUT => json_error(
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            "The request took longer than this service allows",
        ),
        status if status.is_server_error() => json_error(status, "INTERNAL", "internal error"),
        _ => with_outcome(before, OperationKind::Unknown, "OTHER"),
    };
    response
        .extensions()
        .get::<Outcome>()
        .copied()
        .unwrap_or(Outcome {
            kind: OperationKind::Unknown,
            code: "OTHER",
        })
}

/// The method for the span: a standard one by name, any other `_OTHER` (a client may send any
/// token as a method).
fn standard_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "_OTHER",
    }
}
