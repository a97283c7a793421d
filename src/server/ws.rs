//! `GET /graphql/ws`: subscriptions (and any other operation) over WebSocket, subprotocol
//! `graphql-transport-ws`. The session is authenticated by its `connection_init`; each
//! `subscribe` then passes the same gate as a `POST /graphql` ([`super::admission`]).

use super::admission::{Admitted, Gate, Refusal};
use super::metrics::Transport;
use super::state::ServerState;
use crate::access::Principal;
use crate::api::SessionCredentials;
use crate::service::{ServiceError, auth};
use async_graphql::Data;
use async_graphql::http::{WebSocket as GraphQLWebSocket, WebSocketProtocols, WsMessage};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// The WebSocket subprotocol of `/graphql/ws` (the only one served).
pub const WS_PROTOCOL: &str = "graphql-transport-ws";

/// How long a WebSocket client has to send `connection_init` before it is closed (4408).
pub const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The schema as the WebSocket transport runs it: every request through the [`Gate`], the
/// principal being the session's.
#[derive(Clone)]
struct WsExecutor {
    gate: Gate,
}

impl WsExecutor {
    /// `request` through the gate, for the session's principal (if it has one).
    fn admit(
        &self,
        request: async_graphql::Request,
        session_data: Option<&Data>,
    ) -> Result<Admitted, Refusal> {
        let principal = session_data
            .and_then(|d| d.get(&std::any::TypeId::of::<Principal>()))
            .and_then(|p| p.downcast_ref::<Principal>())
            .cloned();
        self.gate
            .admit(Transport::WebSocket, principal)?
            .check(request)
    }
}

impl async_graphql::Executor for WsExecutor {
    fn execute(
        &self,
        request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send {
        let this = self.clone();
        async move {
            match this.admit(request, None) {
                Ok(admitted) => admitted.execute().await,
                Err(refusal) => refusal.into_response(),
            }
        }
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        match self.admit(request, session_data.as_deref()) {
            Ok(admitted) => admitted.execute_stream(session_data),
            Err(refusal) => futures::stream::once(async move { refusal.into_response() }).boxed(),
        }
    }
}

/// `GET /graphql/ws`: upgrades to a WebSocket speaking `graphql-transport-ws`.
pub(super) async fn graphql_ws(
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
                let mut data = crate::api::session_data(&app, principal);
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
    let executor = WsExecutor {
        gate: state.gate.clone(),
    };
    let messages = GraphQLWebSocket::new(executor, input, WebSocketProtocols::GraphQLWS)
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
