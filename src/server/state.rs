//! What every handler of the router shares.

use super::admission::Gate;
use crate::service::App;
use tokio::sync::watch;

/// The router's state: the app, the gate every GraphQL request passes, and what the transports
/// need besides.
#[derive(Clone)]
pub(super) struct ServerState {
    pub(super) app: App,
    pub(super) gate: Gate,
    /// Serve GraphiQL at `GET /graphql`.
    pub(super) graphiql: bool,
    /// Largest WebSocket message accepted (the request body limit).
    pub(super) max_ws_message: usize,
    /// Turns true (or its sender goes away) when the server shuts down: WebSocket sessions
    /// then close. `None`: sessions end only when their clients leave.
    pub(super) closing: Option<watch::Receiver<bool>>,
}
