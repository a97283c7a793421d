//! Signing in and out, and choosing the language.
//!
//! Demo (`serve --demo`): the sign-in page lists the demo users; choosing one signs in as them.
//! The form is protected by a token matched against a cookie set with the page (there is no
//! session yet), besides `SameSite=Strict` and the `Origin` check. With an identity provider
//! configured, the page offers signing in there ([`super::oidc_sign_in`]).

use super::{Fields, forbidden_form, see_other};
use crate::console::Console;
use crate::console::i18n::{Lang, Tr};
use crate::console::render::{Chrome, ok};
use crate::console::session::{
    SESSION_COOKIE, SIGN_IN_COOKIE, Signed, browser_lang, cookie_value, same_origin, same_secret,
};
use crate::service::auth::generate_token;
use crate::service::{console_sessions, demo};
use crate::store::directory;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The cookie that keeps the language chosen before sign-in.
pub(super) const LANG_COOKIE: &str = "trm_lang";

/// A demo user as the sign-in page lists them.
pub struct DemoUser {
    pub username: &'static str,
    pub display_name: &'static str,
    pub agency_name: &'static str,
    pub country: &'static str,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignInPage {
    pub chrome: Chrome,
    pub token: String,
    pub demo: bool,
    pub users: Vec<DemoUser>,
    /// "Sign in with <provider>", when the identity provider is configured.
    pub oidc: Option<String>,
}

/// The language of a request before sign-in: the one chosen on the page, else the browser's.
pub(super) fn anonymous_lang(headers: &HeaderMap) -> Lang {
    cookie_value(headers, LANG_COOKIE)
        .and_then(Lang::from_code)
        .unwrap_or_else(|| browser_lang(headers))
}

/// `GET /sign-in`.
pub async fn page(
    State(console): State<Console>,
    signed: Option<Signed>,
    headers: HeaderMap,
) -> Response {
    if signed.is_some() {
        return see_other("/");
    }
    let tr = Tr::new(anonymous_lang(&headers));
    let token = generate_token();
    let users = if console.options.demo_sign_in {
        demo::users()
            .into_iter()
            .map(|u| DemoUser {
                username: u.username,
                display_name: u.display_name,
                agency_name: u.agency_name,
                country: u.country,
                roles: u
                    .roles
                    .iter()
                    .map(|r| tr.role(r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut response = ok(&SignInPage {
        chrome: Chrome::anonymous(tr, tr.t("sign-in-title")),
        token: token.clone(),
        demo: console.options.demo_sign_in,
        users,
        oidc: console
            .options
            .oidc_sign_in
            .as_ref()
            .map(|c| tr.t1("sign-in-with", "provider", c.display_name())),
    });
    response.headers_mut().append(
        header::SET_COOKIE,
        console.cookie(SIGN_IN_COOKIE, &token, 3600),
    );
    response
}

/// `POST /sign-in/demo`: signs in as the chosen demo user.
pub async fn demo(
    State(console): State<Console>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let tr = Tr::new(anonymous_lang(&headers));
    let token_ok = matches!(
        (form.get("token"), cookie_value(&headers, SIGN_IN_COOKIE)),
        (Some(a), Some(b)) if same_secret(a, b)
    );
    if !console.options.demo_sign_in {
        return (StatusCode::NOT_FOUND, tr.t("not-found")).into_response();
    }
    if !token_ok || !same_origin(&headers) {
        return forbidden_form(tr);
    }
    let Some(username) = form
        .get("username")
        .filter(|u| demo::users().iter().any(|d| d.username == *u))
    else {
        return see_other("/sign-in");
    };
    let user = match directory::user_by_username(console.app.store.conn(), username).await {
        Ok(Some(user)) => user,
        Ok(None) => return see_other("/sign-in"),
        Err(e) => {
            tracing::warn!(error = %e, "demo sign-in could not read the directory");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                tr.t("code-service-unavailable"),
            )
                .into_response();
        }
    };
    let mut response = see_other("/");
    if let Err(unavailable) = start_session(&console, user.id, &headers, &mut response).await {
        return unavailable;
    }
    response
        .headers_mut()
        .append(header::SET_COOKIE, console.cookie(SIGN_IN_COOKIE, "", 0));
    response
}

/// Starts a session for `user_id` (in the language chosen before sign-in, if any) and sets its
/// cookie on `response`; the answer to send instead when the database is unavailable.
pub(super) async fn start_session(
    console: &Console,
    user_id: uuid::Uuid,
    headers: &HeaderMap,
    response: &mut Response,
) -> Result<(), Response> {
    let language = cookie_value(headers, LANG_COOKIE).and_then(Lang::from_code);
    match console_sessions::start(
        &console.app,
        user_id,
        language.map(Lang::code),
        console.lifetimes(),
    )
    .await
    {
        Ok(secret) => {
            let max_age = console.options.absolute_timeout.as_secs();
            response.headers_mut().append(
                header::SET_COOKIE,
                console.cookie(SESSION_COOKIE, &secret, max_age),
            );
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "a console session could not be started");
            let tr = Tr::new(anonymous_lang(headers));
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                tr.t("code-service-unavailable"),
            )
                .into_response())
        }
    }
}

/// `POST /sign-out`: ends the session and deletes its cookie.
pub async fn sign_out(
    State(console): State<Console>,
    signed: Option<Signed>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Some(signed) = &signed {
        if let Err(refused) = form.check(signed, &headers) {
            return refused.into_response();
        }
        if let Err(e) = console_sessions::end(&console.app, &signed.id_hash).await {
            tracing::warn!(error = %e, "a console session could not be ended");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                signed.tr.t("code-service-unavailable"),
            )
                .into_response();
        }
    }
    let mut response = see_other("/sign-in");
    response
        .headers_mut()
        .append(header::SET_COOKIE, console.cookie(SESSION_COOKIE, "", 0));
    response
        .headers_mut()
        .insert("Clear-Site-Data", HeaderValue::from_static("\"cache\""));
    response
}

/// `POST /language`: the session's language (or, before sign-in, a cookie's).
pub async fn language(
    State(console): State<Console>,
    signed: Option<Signed>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    let Some(lang) = form.get("lang").and_then(Lang::from_code) else {
        return see_other("/");
    };
    let back = back_to(&headers);
    match signed {
        Some(signed) => {
            if let Err(refused) = form.check(&signed, &headers) {
                return refused.into_response();
            }
            if let Err(e) =
                console_sessions::set_language(&console.app, &signed.id_hash, lang.code()).await
            {
                tracing::warn!(error = %e, "the console language could not be saved");
            }
            see_other(&back)
        }
        None => {
            let mut response = see_other("/sign-in");
            response.headers_mut().append(
                header::SET_COOKIE,
                console.cookie(LANG_COOKIE, lang.code(), 365 * 24 * 3600),
            );
            response
        }
    }
}

/// Where to go back to after a form of the frame: the page it was sent from, when that is a page
/// of this service (its path only).
fn back_to(headers: &HeaderMap) -> String {
    headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            let rest = r
                .strip_prefix("http://")
                .or_else(|| r.strip_prefix("https://"))?;
            let path = &rest[rest.find('/')?..];
            Some(path.to_string())
        })
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".to_string())
}
