//! GraphiQL at `GET /graphql` (when enabled), with everything it loads served from the binary:
//! TRM runs in networks that reach no CDN. The prebuilt GraphiQL and React files of
//! `vendor/graphiql` (see its README) and the page's own `init.js` and `page.css` are embedded
//! at build time and served under `/graphql/assets/`, each under a name that carries a hash of
//! its content, so that they can be cached for good.
//!
//! The page sends its own Content-Security-Policy: scripts and styles from this origin only, no
//! inline script, no `eval`, requests to this origin only, no framing (a global layer that adds
//! security headers only where a response has none leaves these alone). One exception for
//! styles: GraphiQL's dialogs (settings, short keys) lock the page's scroll bar with a `<style>`
//! element they add (react-remove-scroll); it carries the nonce the page was served with, which
//! `style-src` names, so no other inline style applies. Checked in Chromium: GraphiQL 4 needs
//! nothing else (its editor, CodeMirror 5, and React set styles through the CSSOM, which the
//! policy does not restrict).

use super::state::ServerState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The page's policy for a page served with `nonce`. Nothing inline runs: `init.js` is a file,
/// and neither GraphiQL nor React needs `eval`. Fonts and a few small images of GraphiQL's
/// stylesheet are `data:` URLs.
fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The files the page loads: the name the page's template uses, their type, their content.
const FILES: [(&str, &str, &[u8]); 6] = [
    (
        "react.production.min.js",
        JAVASCRIPT,
        include_bytes!("../../vendor/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        JAVASCRIPT,
        include_bytes!("../../vendor/graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        JAVASCRIPT,
        include_bytes!("../../vendor/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        CSS,
        include_bytes!("../../vendor/graphiql/graphiql.min.css"),
    ),
    ("page.css", CSS, include_bytes!("graphiql/page.css")),
    ("init.js", JAVASCRIPT, include_bytes!("graphiql/init.js")),
];

/// The page, with `{{name}}` standing for the URL of each of [`FILES`] and `{{nonce}}` for the
/// style nonce (given to `init.js`, which hands it to GraphiQL).
const TEMPLATE: &str = include_str!("graphiql/index.html");

/// The page and its assets by their hashed names, made once.
struct Site {
    page: String,
    assets: HashMap<String, (&'static str, &'static [u8])>,
}

static SITE: LazyLock<Site> = LazyLock::new(|| {
    let mut page = TEMPLATE.to_string();
    let mut assets = HashMap::new();
    for (name, content_type, body) in FILES {
        let hashed = hashed_name(name, body);
        // Relative to the page (`…/graphql`), so that it also works behind a path prefix.
        page = page.replace(
            &format!("{{{{{name}}}}}"),
            &format!("graphql/assets/{hashed}"),
        );
        assets.insert(hashed, (content_type, body));
    }
    Site { page, assets }
});

/// `graphiql.min.js` → `graphiql.min.<16 hex digits of its SHA-256>.js`.
fn hashed_name(name: &str, body: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(body));
    let hash = digest.get(..16).unwrap_or(&digest);
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
        None => format!("{name}.{hash}"),
    }
}

/// `GET /graphql`: the page, with a fresh style nonce.
pub(super) async fn page(State(state): State<ServerState>) -> Response {
    if !state.graphiql {
        return disabled();
    }
    let nonce = STANDARD.encode(rand::random::<[u8; 16]>());
    // Base64 always makes a valid header value; were it not to, the strictest policy.
    let policy = HeaderValue::from_str(&content_security_policy(&nonce))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, policy),
            // The page names its assets by content: always ask whether it changed.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        SITE.page.replace("{{nonce}}", &nonce),
    )
        .into_response()
}

/// `GET /graphql/assets/{file}`: a file the page loads, cached for a year (its name changes
/// with its content).
pub(super) async fn asset(State(state): State<ServerState>, Path(file): Path<String>) -> Response {
    if !state.graphiql {
        return disabled();
    }
    let Some((content_type, body)) = SITE.assets.get(&file) else {
        return (StatusCode::NOT_FOUND, "No such file").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        *body,
    )
        .into_response()
}

fn disabled() -> Response {
    (StatusCode::NOT_FOUND, "GraphiQL is disabled").into_response()
}
