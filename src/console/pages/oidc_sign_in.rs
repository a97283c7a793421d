//! Signing in at the agency's identity provider (OpenID Connect authorization code flow with
//! PKCE, see [`crate::service::console_sign_in`]).
//!
//! `GET /sign-in/oidc` begins a sign-in and sends the browser to the provider; the provider
//! sends it back to `GET /sign-in/oidc/callback?code=...&state=...`, which finishes it, starts a
//! console session and goes on to `/`. Beginning is a link, not a form: the console's
//! Content-Security-Policy (`form-action 'self'`) would stop a form's redirect to the provider.
//!
//! Nothing about tokens reaches a URL, a page or browser storage: the provider's tokens stay in
//! this process for the length of the callback; the browser gets only the session cookie.

use super::sign_in::{anonymous_lang, start_session};
use super::{MessagePage, see_other};
use crate::console::Console;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, ok, page};
use crate::console::session::{Signed, cookie_value};
use crate::service::console_sign_in::{self, Callback, SIGN_IN_LIFETIME, SignInError};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/sign-in/oidc", get(begin))
        .route("/sign-in/oidc/callback", get(callback))
}

/// The cookie that binds a sign-in under way to the browser that began it. `SameSite=Lax`, not
/// `Strict` like the session's: the provider sends the browser back with a top-level
/// navigation from its own site, and a `Strict` cookie is not sent on such a navigation (the
/// callback would never see it). It is sent only to the paths below `/sign-in/oidc` and lives
/// as long as the sign-in may take.
const OIDC_COOKIE: &str = "trm_oidc";
const OIDC_COOKIE_PATH: &str = "/sign-in/oidc";

fn oidc_cookie(console: &Console, value: &str, max_age: u64) -> axum::http::HeaderValue {
    console.cookie_for(OIDC_COOKIE, value, OIDC_COOKIE_PATH, "Lax", max_age)
}

fn unavailable(tr: Tr) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        tr.t("code-service-unavailable"),
    )
        .into_response()
}

/// `GET /sign-in/oidc`: to the identity provider, with a new sign-in.
pub async fn begin(
    State(console): State<Console>,
    signed: Option<Signed>,
    headers: HeaderMap,
) -> Response {
    let tr = Tr::new(anonymous_lang(&headers));
    let Some(client) = console.options.oidc_sign_in.clone() else {
        return (StatusCode::NOT_FOUND, tr.t("not-found")).into_response();
    };
    if signed.is_some() {
        return see_other("/");
    }
    match console_sign_in::begin(&console.app, &client).await {
        Ok(begun) => {
            let mut response = see_other(&begun.authorization_url);
            response.headers_mut().append(
                header::SET_COOKIE,
                oidc_cookie(&console, &begun.browser_secret, SIGN_IN_LIFETIME.as_secs()),
            );
            response
        }
        Err(e) => {
            tracing::warn!(error = %e, "a console sign-in could not be begun");
            unavailable(tr)
        }
    }
}

/// What the provider sends the browser back with.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The page after a sign-in: it goes on to `/` by itself. Not a redirect: the navigation from
/// the provider is cross-site, and a redirect would carry that on to `/`, where the new
/// `SameSite=Strict` session cookie would then not be sent; the page's own navigation is
/// same-site. (A `meta` refresh, so no script is needed under the CSP.)
#[derive(Template)]
#[template(path = "console/signed_in.html")]
pub struct SignedInPage {
    pub tr: Tr,
    pub title: String,
}

/// `GET /sign-in/oidc/callback`: finishes the sign-in, starts a session.
pub async fn callback(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let tr = Tr::new(anonymous_lang(&headers));
    let Some(client) = console.options.oidc_sign_in.clone() else {
        return (StatusCode::NOT_FOUND, tr.t("not-found")).into_response();
    };
    let state = query.state.as_deref().unwrap_or_default();
    let answer = match query.error.as_deref() {
        Some(error) => Callback::Error { error, state },
        None => Callback::Code {
            code: query.code.as_deref().unwrap_or_default(),
            state,
        },
    };
    let browser = cookie_value(&headers, OIDC_COOKIE);
    let principal = match console_sign_in::finish(&console.app, &client, answer, browser).await {
        Ok(principal) => principal,
        Err(SignInError::Refused(reason)) => {
            tracing::info!(reason, "a console sign-in was refused");
            let title = tr.t("oidc-refused-title");
            let mut response = page(
                &MessagePage {
                    chrome: Chrome::anonymous(tr, title.clone()),
                    heading: title,
                    message: tr.t("oidc-refused"),
                    detail: None,
                },
                StatusCode::FORBIDDEN,
            );
            response
                .headers_mut()
                .append(header::SET_COOKIE, oidc_cookie(&console, "", 0));
            return response;
        }
        Err(SignInError::Service(e)) => {
            tracing::warn!(error = %e, "a console sign-in could not be finished");
            return unavailable(tr);
        }
    };
    let mut response = ok(&SignedInPage {
        tr,
        title: tr.t("oidc-signed-in"),
    });
    if let Err(unavailable) =
        start_session(&console, principal.user_id, &headers, &mut response).await
    {
        return unavailable;
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, oidc_cookie(&console, "", 0));
    response
}
