//! The web console: the pages case workers, receiving agencies, focal points, auditors and
//! administrators use in a browser, served by the same binary at `/`.
//!
//! Server-rendered HTML (compile-time checked `askama` templates, messages in Fluent files),
//! working without JavaScript; a small vendored script (htmx) adds partial updates and the live
//! worklist over server-sent events. Everything is served from the binary: no CDN.
//!
//! **One enforced path.** Every page reads and writes through the GraphQL schema, run in the
//! process as the signed-in principal ([`GraphqlRunner`], the same gate as `POST /graphql`):
//! every policy, redaction, purpose prompt, access-log entry, limit and idempotency rule
//! applies unchanged. The console holds no access logic of its own and never calls the store
//! for case data; its own state is its sessions (`session`).
//!
//! The files: `session` (cookies, sign-in, CSRF), `i18n` (languages), `graphql` (running
//! queries and reading their answers), `pages/*` (one module per area), `diagram` (a track's
//! workflow as a picture), `assets` (CSS and scripts).

pub(crate) mod assets;
mod diagram;
mod graphql;
pub mod i18n;
mod pages;
mod render;
mod session;

use crate::access::Principal;
use crate::service::App;
use axum::Router;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use std::sync::Arc;
use std::time::Duration;

pub use session::SESSION_COOKIE;

/// Runs GraphQL requests in the process for a principal, through the same checks as an HTTP
/// request (implemented by the server, which owns that path).
pub trait GraphqlRunner: Send + Sync {
    /// Runs a query or mutation.
    fn run<'a>(
        &'a self,
        principal: &'a Principal,
        query: &'a str,
        variables: serde_json::Value,
    ) -> BoxFuture<'a, async_graphql::Response>;

    /// Runs a subscription: its responses as they come.
    fn stream(
        &self,
        principal: &Principal,
        query: &str,
    ) -> BoxStream<'static, async_graphql::Response>;
}

/// The console's settings. Built from `trm serve`'s configuration; `Default` gives its defaults.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Serve the console at `/`.
    pub enabled: bool,
    /// The sign-in page lists the demo users and signs in as any of them (`--demo` only).
    pub demo_sign_in: bool,
    /// Session cookies carry `Secure` (served behind TLS).
    pub secure_cookies: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, whatever happens.
    pub absolute_timeout: Duration,
    /// Days without news after which a child on the move is flagged on the focal point's
    /// board.
    pub no_news_days: u32,
    /// Sign-in at the agency's identity provider (`--oidc-client-id ...`); `None`: not offered.
    pub oidc_sign_in: Option<Arc<crate::service::console_sign_in::SignInClient>>,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            enabled: true,
            demo_sign_in: false,
            secure_cookies: false,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(12 * 3600),
            no_news_days: 14,
            oidc_sign_in: None,
        }
    }
}

/// What every console handler shares.
#[derive(Clone)]
pub struct Console {
    pub(crate) app: App,
    pub(crate) graphql: Arc<dyn GraphqlRunner>,
    pub(crate) options: Arc<ConsoleOptions>,
    /// Turns true when the server begins to shut down: live streams end then, so that a page
    /// left open in a browser does not hold the shutdown (the browser reconnects elsewhere).
    pub(crate) closing: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Console {
    pub fn new(
        app: App,
        graphql: Arc<dyn GraphqlRunner>,
        options: ConsoleOptions,
        closing: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Console {
        Console {
            app,
            graphql,
            options: Arc::new(options),
            closing,
        }
    }

    /// Completes when the server begins to shut down (never, for a router served without a
    /// shutdown signal).
    pub(crate) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let closing = self.closing.clone();
        async move {
            match closing {
                Some(mut closing) => {
                    let _ = closing.wait_for(|c| *c).await;
                }
                None => std::future::pending::<()>().await,
            }
        }
    }
}

/// The console's routes (none when it is disabled).
pub fn routes(console: Console) -> Router {
    if !console.options.enabled {
        return Router::new();
    }
    // Pages and assets travel compressed (a case page and everything it loads stay well under
    // 100 KB on a poor connection); server-sent events are left alone by the default predicate.
    pages::routes()
        .merge(assets::routes())
        .with_state(console)
        .layer(tower_http::compression::CompressionLayer::new())
}
