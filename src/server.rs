//! HTTP: `/graphql` (POST; GET serves GraphiQL when enabled), `/healthz`, `/readyz`.
//! Every GraphQL request is authenticated before anything executes.

use crate::api::{self, ApiLimits, TrmSchema};
use crate::service::{App, ServiceError, auth};
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Serve GraphiQL at `GET /graphql`.
    pub graphiql: bool,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub limits: ApiLimits,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            graphiql: true,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            limits: ApiLimits::default(),
        }
    }
}

#[derive(Clone)]
struct ServerState {
    app: App,
    schema: TrmSchema,
    graphiql: bool,
}

/// The router, separate from `main` so that tests can serve it on a free port.
pub fn router(app: App, options: &HttpOptions) -> Router {
    let schema = api::build_schema(Some(app.clone()), &options.limits);
    let state = ServerState {
        app,
        schema,
        graphiql: options.graphiql,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(options.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        // Logs method, path and status only: no bodies, no headers, so no personal data.
        .layer(TraceLayer::new_for_http())
}

/// Serves until `shutdown` completes, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: App,
    options: &HttpOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, options))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on Ctrl-C or SIGTERM. The handlers are registered when this is called (not when
/// first polled), so a signal that arrives right after start-up is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(interrupt) => {},
                () = wait(terminate) => {},
            }
            tracing::info!("shutdown requested; finishing in-flight requests");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}

async fn graphql(
    State(state): State<ServerState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match auth::authenticate(&state.app, authorization).await {
        Ok(p) => p,
        Err(err) => return error_response(&err),
    };
    let mut response = state
        .schema
        .execute(request.into_inner().data(principal))
        .await;
    // Errors raised by the GraphQL layer itself (parse, validation, limits) get a code too.
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "VALIDATION");
        }
    }
    GraphQLResponse::from(response).into_response()
}

fn error_response(err: &ServiceError) -> Response {
    let (status, code) = match err {
        ServiceError::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        ServiceError::Unavailable(cause) => {
            tracing::warn!(error = %cause, "database unavailable during authentication");
            (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
        }
        other => {
            tracing::error!(error = ?other, "authentication failed unexpectedly");
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")
        }
    };
    let body =
        json!({ "errors": [{ "message": err.to_string(), "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

async fn graphiql(State(state): State<ServerState>) -> Response {
    if state.graphiql {
        Html(GraphiQLSource::build().endpoint("/graphql").finish()).into_response()
    } else {
        (StatusCode::NOT_FOUND, "GraphiQL is disabled").into_response()
    }
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
