//! Who is signed in: the session cookie, the extractor every page takes ([`Signed`]), the form
//! token that every form carries (CSRF), and the cookie that protects the sign-in form itself.
//!
//! Cookies are `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` when the console is served
//! behind TLS. No token is ever put in a URL, a page or browser storage: the cookie holds a
//! random secret whose hash names the session on the server.

use super::Console;
use super::i18n::{Lang, Tr};
use crate::access::Principal;
use crate::service::console_sessions::{self, Lifetimes};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// The session cookie.
pub const SESSION_COOKIE: &str = "trm_session";
/// The cookie that the sign-in form's token must match (before there is a session).
pub const SIGN_IN_COOKIE: &str = "trm_sign_in";

/// The signed-in user of a request, with the session's form token and language.
#[derive(Debug, Clone)]
pub struct Signed {
    pub principal: Principal,
    pub id_hash: String,
    pub csrf: String,
    pub tr: Tr,
}

impl Console {
    pub(super) fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: self.options.idle_timeout,
            absolute: self.options.absolute_timeout,
        }
    }

    /// `Set-Cookie` for `name` = `value` for `max_age` seconds (0: delete it).
    pub(super) fn cookie(&self, name: &str, value: &str, max_age: u64) -> HeaderValue {
        self.cookie_for(name, value, "/", "Strict", max_age)
    }

    /// `Set-Cookie` for a cookie sent only to `path`, with the given `SameSite`.
    pub(super) fn cookie_for(
        &self,
        name: &str,
        value: &str,
        path: &str,
        same_site: &str,
        max_age: u64,
    ) -> HeaderValue {
        let secure = if self.options.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let text = format!(
            "{name}={value}; Path={path}; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
        );
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The value of cookie `name` in the request's headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a request without a session: the browser's.
pub fn browser_lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Why a page could not find its user: not signed in (to the sign-in page), or the database is
/// unavailable.
pub enum NotSigned {
    SignIn,
    Unavailable,
}

impl IntoResponse for NotSigned {
    fn into_response(self) -> Response {
        match self {
            NotSigned::SignIn => Redirect::to("/sign-in").into_response(),
            NotSigned::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The service cannot reach its database; try again in a moment.",
            )
                .into_response(),
        }
    }
}

async fn signed(parts: &Parts, console: &Console) -> Result<Option<Signed>, NotSigned> {
    let Some(secret) = cookie_value(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let resumed = console_sessions::resume(&console.app, secret, console.lifetimes())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "console session could not be read");
            NotSigned::Unavailable
        })?;
    Ok(resumed.map(|r| {
        let lang = r
            .language
            .as_deref()
            .and_then(Lang::from_code)
            .unwrap_or_else(|| browser_lang(&parts.headers));
        Signed {
            principal: r.principal,
            id_hash: r.id_hash,
            csrf: r.csrf_token,
            tr: Tr::new(lang),
        }
    }))
}

impl FromRequestParts<Console> for Signed {
    type Rejection = NotSigned;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, NotSigned> {
        signed(parts, console).await?.ok_or(NotSigned::SignIn)
    }
}

impl OptionalFromRequestParts<Console> for Signed {
    type Rejection = NotSigned;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Option<Self>, NotSigned> {
        signed(parts, console).await
    }
}

pub use crate::service::auth::same_secret;

/// Whether a form's `Origin` (when the browser sends one) is this service: a form posted from
/// another site is refused even before its token is checked.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o == h)
}
