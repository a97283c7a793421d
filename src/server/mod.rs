//! HTTP: `/graphql` (POST; GET serves GraphiQL when enabled), `/graphql/ws` (subscriptions over
//! WebSocket, `graphql-transport-ws`), `/healthz`, `/readyz`, `/metrics`.
//! Every GraphQL request is authenticated before anything executes; a WebSocket session is
//! authenticated by its `connection_init` message before any subscription runs.
//!
//! Hardening, in the order a request meets it: body size (413 `PAYLOAD_TOO_LARGE`), request time
//! (408 `TIMEOUT`), authentication (401), the per-principal rate limit (429 `RATE_LIMITED`), one
//! JSON object per request (no batches: 400 `VALIDATION`), the query limits of
//! [`limits`] and the schema's depth, complexity and directive limits (`VALIDATION`), and
//! after execution [`echo`], which keeps values of the request out of error messages. A
//! panic answers 500 `INTERNAL` without details.

mod echo;
pub mod limits;
mod metrics;
mod ratelimit;
#[cfg(test)]
mod tests;

pub use metrics::{Metrics, OUTCOMES};
pub use ratelimit::RateLimiter;

use crate::access::Principal;
use crate::api::{self, SessionCredentials, TrmSchema};
use crate::service::{App, ServiceError, auth};
use async_graphql::Data;
use async_graphql::http::{
    GraphiQLSource, WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage,
};
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use echo::RequestEcho;
use futures::{SinkExt, StreamExt};
pub use limits::ApiLimits;
use limits::OperationKind;
use serde_json::json;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
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
}

#[derive(Clone)]
struct ServerState {
    app: App,
    schema: TrmSchema,
    graphiql: bool,
    /// Largest WebSocket message accepted (the request body limit).
    max_ws_message: usize,
    limits: ApiLimits,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    /// Turns true (or its sender goes away) when the server shuts down: WebSocket sessions
    /// then close. `None`: sessions end only when their clients leave.
    closing: Option<watch::Receiver<bool>>,
}

/// The WebSocket subprotocol of `/graphql/ws` (the only one served).
pub const WS_PROTOCOL: &str = "graphql-transport-ws";

/// How long a WebSocket client has to send `connection_init` before it is closed (4408).
pub const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The router, separate from `main` so that tests can serve it on a free port.
pub fn router(app: App, options: &HttpOptions) -> Router {
    router_with(app, options, None)
}

fn router_with(app: App, options: &HttpOptions, closing: Option<watch::Receiver<bool>>) -> Router {
    let schema = limits::apply(api::schema(Some(app.clone())), &options.limits);
    let state = ServerState {
        app,
        schema,
        graphiql: options.graphiql,
        max_ws_message: options.max_body_bytes,
        limits: options.limits.clone(),
        limiter: Arc::new(RateLimiter::per_minute(options.rate_limit_per_minute)),
        metrics: options.metrics.clone(),
        closing,
    };
    let mut router = Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if options.metrics_route {
        router = router.route("/metrics", get(metrics_text));
    }
    with_layers(router.with_state(state), options)
}

/// The layers around every route: body and time limits, panics, metrics, request logging.
fn with_layers(router: Router, options: &HttpOptions) -> Router {
    router
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(options.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            options.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            options.metrics.clone(),
            observe,
        ))
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
}

/// A router serving only `/metrics`, for an address of its own (`trm serve --metrics-bind`).
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(metrics_only))
        .with_state(metrics)
}

/// Installs a panic hook that logs where a panic happened but not its message when the message
/// was formatted at run time (it could hold request data); fixed messages are logged.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&'static str>()
            .copied()
            .unwrap_or("(message withheld: it was formatted at run time)");
        tracing::error!(%location, message, "panic");
    }));
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
    served
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

/// Keeps the process alive when a file reaches the process's size limit (`RLIMIT_FSIZE`): the
/// kernel's default for `SIGXFSZ` is to kill it, which would drop every in-flight request.
/// Handled, the write fails with `EFBIG` instead, and the request gets a clear storage error.
pub fn survive_file_size_limit() {
    #[cfg(target_os = "linux")]
    {
        use tokio::signal::unix::{SignalKind, signal};
        const SIGXFSZ: i32 = 25;
        if let Ok(mut s) = signal(SignalKind::from_raw(SIGXFSZ)) {
            tokio::spawn(async move {
                while s.recv().await.is_some() {
                    tracing::error!("a database file reached the process's file size limit");
                }
            });
        }
    }
}

/// `POST /graphql`: authenticate, rate-limit, read one request, check its limits, run it, and
/// keep the request's values out of its errors.
async fn graphql(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match auth::authenticate(&state.app, authorization).await {
        Ok(p) => p,
        Err(err) => {
            return with_outcome(
                error_response(&err),
                OperationKind::Unknown,
                api::error::code(&err),
            );
        }
    };
    if let Err(wait) = state.limiter.check(principal.user_id) {
        state.metrics.rate_limited(metrics::Transport::Http);
        return rate_limited_response(state.limiter.limit(), wait);
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large_response();
        }
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION",
                "The request body could not be read",
            );
        }
    };
    let mut request = match parse_request(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    let kind = match limits::check_request(&mut request, &state.limits) {
        Ok(kind) => kind,
        Err(refusal) => {
            return graphql_response(
                async_graphql::Response::from_errors(vec![refusal]),
                OperationKind::Unknown,
            );
        }
    };
    let echo = RequestEcho::of(&mut request);
    let mut response = state.schema.execute(request.data(principal)).await;
    echo.scrub(&mut response);
    graphql_response(with_error_codes(response), kind)
}

/// One GraphQL request from a JSON body. A JSON array (a batch) is refused, and so is anything
/// else that is not one request object, with a message that never quotes the body.
fn parse_request(body: &[u8]) -> Result<async_graphql::Request, Box<Response>> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            "Batched requests (a JSON array) are not accepted: send one operation per request",
        )));
    }
    serde_json::from_slice::<async_graphql::Request>(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Eof => "incomplete JSON",
            serde_json::error::Category::Data => "a value of the wrong type",
            serde_json::error::Category::Io => "an unreadable body",
        };
        Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            &format!(
                "The request body is not a GraphQL request ({what} at line {}, column {}): send \
                 a JSON object with `query` (a string) and, optionally, `variables` (an object) \
                 and `operationName` (a string)",
                e.line(),
                e.column()
            ),
        ))
    })
}

/// What became of a `/graphql` request, for the metrics (set by whoever answered it).
#[derive(Debug, Clone, Copy)]
struct Outcome {
    kind: OperationKind,
    code: &'static str,
}

fn with_outcome(mut response: Response, kind: OperationKind, code: &str) -> Response {
    response.extensions_mut().insert(Outcome {
        kind,
        code: metrics::outcome_label(code),
    });
    response
}

/// A GraphQL response over HTTP, its outcome the first error's code (or `OK`).
fn graphql_response(response: async_graphql::Response, kind: OperationKind) -> Response {
    let code = metrics::outcome_label(first_code(&response));
    with_outcome(GraphQLResponse::from(response).into_response(), kind, code)
}

fn first_code(response: &async_graphql::Response) -> &str {
    match response.errors.first() {
        None => "OK",
        Some(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(async_graphql::Value::String(code)) => code.as_str(),
            _ => "OTHER",
        },
    }
}

/// `{"errors": [{"message": ..., "extensions": {"code": ...}}]}` with `status`.
fn json_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    with_outcome(
        (status, Json(body)).into_response(),
        OperationKind::Unknown,
        code,
    )
}

fn too_large_response() -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "The request body is larger than this service accepts",
    )
}

/// 429 with `Retry-After`.
fn rate_limited_response(per_minute: u32, wait: Duration) -> Response {
    let retry_after = ratelimit::retry_after_secs(wait);
    let body = json!({ "errors": [{
        "message": format!(
            "Too many requests: at most {per_minute} a minute for each user; try again in {retry_after} s"
        ),
        "extensions": { "code": "RATE_LIMITED", "retryAfterSeconds": retry_after },
    }] });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    with_outcome(response, OperationKind::Unknown, "RATE_LIMITED")
}

/// Around everything else on `POST /graphql`: counts the request and its latency, and gives the
/// answers of the layers before the handler (body limit, timeout, panic) a JSON error body.
async fn observe(
    State(metrics): State<Arc<Metrics>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || request.uri().path() != "/graphql" {
        return next.run(request).await;
    }
    let started = Instant::now();
    let mut response = next.run(request).await;
    let outcome = match response.extensions().get::<Outcome>() {
        Some(outcome) => *outcome,
        None => {
            response = match response.status() {
                StatusCode::PAYLOAD_TOO_LARGE => too_large_response(),
                StatusCode::REQUEST_TIMEOUT => json_error(
                    StatusCode::REQUEST_TIMEOUT,
                    "TIMEOUT",
                    "The request took longer than this service allows",
                ),
                status if status.is_server_error() => {
                    json_error(status, "INTERNAL", "internal error")
                }
                _ => with_outcome(response, OperationKind::Unknown, "OTHER"),
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
    };
    metrics.request(outcome.kind, outcome.code);
    metrics.latency(outcome.kind, started.elapsed());
    response
}

/// The answer to a request whose handler panicked: 500 `INTERNAL`, no details. The panic is
/// logged by the panic hook ([`install_panic_hook`]), without request data.
fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked; answered 500 INTERNAL");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
}

/// `GET /metrics` on the main router.
async fn metrics_text(State(state): State<ServerState>) -> Response {
    prometheus_text(&state.metrics)
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

/// Errors raised by the GraphQL layer itself (parse, validation, limits) get a code too.
fn with_error_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "VALIDATION");
        }
    }
    response
}

/// The schema as the WebSocket transport runs it: the same schema and limits as `/graphql`
/// (query limits, rate limit per principal, values kept out of errors), and every error with an
/// `extensions.code`, as over HTTP.
#[derive(Clone)]
struct WsExecutor {
    schema: TrmSchema,
    limits: ApiLimits,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
}

impl WsExecutor {
    fn new(state: &ServerState) -> WsExecutor {
        WsExecutor {
            schema: state.schema.clone(),
            limits: state.limits.clone(),
            limiter: state.limiter.clone(),
            metrics: state.metrics.clone(),
        }
    }

    /// The checks made before a request runs: rate limit (when the session's principal is
    /// known), then the query limits. Counts the request.
    fn admit(
        &self,
        request: &mut async_graphql::Request,
        session_data: Option<&Data>,
    ) -> Result<(), Box<async_graphql::Response>> {
        let principal = session_data
            .and_then(|d| d.get(&std::any::TypeId::of::<Principal>()))
            .and_then(|p| p.downcast_ref::<Principal>());
        if let Some(principal) = principal
            && let Err(wait) = self.limiter.check(principal.user_id)
        {
            self.metrics.rate_limited(metrics::Transport::WebSocket);
            self.metrics.request(OperationKind::Unknown, "RATE_LIMITED");
            let retry_after = ratelimit::retry_after_secs(wait);
            let mut error = async_graphql::ServerError::new(
                format!(
                    "Too many requests: at most {} a minute for each user; try again in {retry_after} s",
                    self.limiter.limit()
                ),
                None,
            );
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", "RATE_LIMITED");
            ext.set("retryAfterSeconds", retry_after);
            error.extensions = Some(ext);
            return Err(Box::new(async_graphql::Response::from_errors(vec![error])));
        }
        match limits::check_request(request, &self.limits) {
            Ok(kind) => {
                self.metrics.request(kind, "OK");
                Ok(())
            }
            Err(refusal) => {
                self.metrics.request(OperationKind::Unknown, "VALIDATION");
                Err(Box::new(async_graphql::Response::from_errors(vec![
                    refusal,
                ])))
            }
        }
    }
}

impl async_graphql::Executor for WsExecutor {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send {
        let this = self.clone();
        async move {
            let mut request = request;
            if let Err(refused) = this.admit(&mut request, None) {
                return *refused;
            }
            let echo = RequestEcho::of(&mut request);
            let mut response = this.schema.execute(request).await;
            echo.scrub(&mut response);
            with_error_codes(response)
        }
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> futures::stream::BoxStream<'static, async_graphql::Response> {
        let mut request = request;
        if let Err(refused) = self.admit(&mut request, session_data.as_deref()) {
            return futures::stream::once(async move { *refused }).boxed();
        }
        let echo = RequestEcho::of(&mut request);
        async_graphql::Executor::execute_stream(&self.schema, request, session_data)
            .map(move |mut response| {
                echo.scrub(&mut response);
                with_error_codes(response)
            })
            .boxed()
    }
}

/// `GET /graphql/ws`: upgrades to a WebSocket speaking `graphql-transport-ws`.
async fn graphql_ws(
    State(state): State<ServerState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case(WS_PROTOCOL))
        });
    if !offered {
        return (
            StatusCode::BAD_REQUEST,
            "use the graphql-transport-ws WebSocket subprotocol",
        )
            .into_response();
    }
    let header_authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    upgrade
        .protocols([WS_PROTOCOL])
        .max_message_size(state.max_ws_message)
        .on_upgrade(move |socket| serve_ws(state, socket, header_authorization))
}

/// One WebSocket session: authenticates `connection_init` (the payload's `authorization`, else
/// the upgrade request's `Authorization` header) through the same code path as HTTP, then runs
/// subscriptions with the same schema and limits as `/graphql`. Close codes follow
/// `graphql-transport-ws`: 4401 for a missing or bad token (or a subscription before
/// `connection_ack`), 4408 when `connection_init` does not come in time, 1001 at shutdown.
async fn serve_ws(state: ServerState, socket: WebSocket, header_authorization: Option<String>) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| futures::future::ready(m.is_ok()))
        .filter_map(|m| {
            futures::future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    // Why `connection_init` was refused, to close with the right code.
    let refused: Arc<OnceLock<(u16, &'static str)>> = Arc::default();
    let app = state.app.clone();
    let refusal = refused.clone();
    let on_init = move |payload: serde_json::Value| async move {
        let authorization = init_authorization(&payload).or(header_authorization);
        match auth::authenticate(&app, authorization.as_deref()).await {
            Ok(principal) => {
                let mut data = Data::default();
                data.insert(principal);
                if let Some(authorization) = authorization {
                    data.insert(SessionCredentials(authorization));
                }
                Ok(data)
            }
            Err(err) => {
                let close = match &err {
                    ServiceError::Unauthenticated => (4401, "Unauthorized"),
                    ServiceError::Unavailable(cause) => {
                        tracing::warn!(error = %cause, "database unavailable during WebSocket authentication");
                        (1011, "Service unavailable")
                    }
                    other => {
                        tracing::error!(error = ?other, "WebSocket authentication failed unexpectedly");
                        (1011, "Internal error")
                    }
                };
                let _ = refusal.set(close);
                Err(async_graphql::Error::new(close.1))
            }
        }
    };
    let messages = GraphQLWebSocket::new(
        WsExecutor::new(&state),
        input,
        WebSocketProtocols::GraphQLWS,
    )
    .on_connection_init(on_init);
    futures::pin_mut!(messages);
    let mut closing = state.closing.clone();
    let init_deadline = tokio::time::sleep(CONNECTION_INIT_TIMEOUT);
    tokio::pin!(init_deadline);
    let mut acked = false;
    loop {
        let out = tokio::select! {
            message = messages.next() => match message {
                Some(message) => message,
                None => break,
            },
            () = &mut init_deadline, if !acked => {
                WsMessage::Close(4408, "Connection initialisation timeout".into())
            }
            () = shutting_down(&mut closing) => WsMessage::Close(1001, "Server shutting down".into()),
        };
        let message = match out {
            WsMessage::Text(text) => {
                if !acked && is_connection_ack(&text) {
                    acked = true;
                }
                Message::Text(text.into())
            }
            WsMessage::Close(code, reason) => {
                let (code, reason) = match (code, refused.get()) {
                    (1002, Some((code, reason))) => (*code, (*reason).to_string()),
                    // A subscription before `connection_ack`.
                    (1011, _) if !acked => (4401, "Unauthorized".to_string()),
                    _ => (code, reason),
                };
                let _ = sink
                    .send(Message::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    })))
                    .await;
                break;
            }
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
}

/// The `authorization` (or `Authorization`) value of a `connection_init` payload.
fn init_authorization(payload: &serde_json::Value) -> Option<String> {
    ["authorization", "Authorization"]
        .iter()
        .find_map(|k| payload.get(k).and_then(|v| v.as_str()))
        .map(str::to_owned)
}

fn is_connection_ack(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("connection_ack"))
}

/// Completes when the server starts shutting down; never when there is no shutdown signal.
async fn shutting_down(closing: &mut Option<watch::Receiver<bool>>) {
    match closing {
        Some(closing) => {
            // An error means the sender is gone, which also means shutting down.
            let _ = closing.wait_for(|c| *c).await;
        }
        None => std::future::pending().await,
    }
}

fn error_response(err: &ServiceError) -> Response {
    let (status, code) = match err {
        ServiceError::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        ServiceError::Unavailable(cause) | ServiceError::StorageRefused(_, cause) => {
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
