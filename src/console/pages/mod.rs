//! The console's pages, one module per area, and what their handlers share: reading forms
//! (with the session's form token checked) and answering errors.

mod admin;
mod audit;
mod case;
mod cases;
mod consents;
mod focal;
mod home;
mod oidc_sign_in;
mod received;
mod referrals;
mod sign_in;
mod transfers;

use super::Console;
use super::graphql::ApiError;
use super::i18n::Tr;
use super::render::{Chrome, page};
use super::session::{Signed, same_origin, same_secret};
use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The personal-data groups of the API, in the order the pages list them.
pub(super) const GROUPS: [&str; 7] = [
    "IDENTITY",
    "CONTACT",
    "FAMILY",
    "HEALTH",
    "EXPLOITATION_NARRATIVE",
    "PERPETRATOR",
    "LEGAL_STATUS",
];

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/", get(home::work))
        .route("/inbox", get(home::inbox))
        .route("/inbox/read", post(home::mark_read))
        .route("/events", get(home::events))
        .route("/sign-in", get(sign_in::page))
        .route("/sign-in/demo", post(sign_in::demo))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/language", post(sign_in::language))
        .route("/cases", get(cases::list).post(cases::open))
        .route("/cases/{id}", get(case::show))
        .route("/cases/{id}/fire", post(case::fire))
        .route("/cases/{id}/personal-data", post(case::reveal))
        .route(
            "/cases/{id}/refer",
            get(referrals::new).post(referrals::send),
        )
        .route(
            "/cases/{id}/transfer/{step}",
            get(referrals::new_transfer).post(referrals::send_transfer),
        )
        .route("/transfers/{id}", get(transfers::show))
        .route("/transfers/{id}/answer", post(transfers::answer))
        .route(
            "/cases/{id}/consent",
            get(consents::new).post(consents::record),
        )
        .route("/cases/{id}/consent/withdraw", post(consents::withdraw))
        .route("/referrals", get(received::incoming))
        .route("/referrals/{id}", get(received::show))
        .route("/referrals/{id}/answer", post(received::answer))
        .merge(admin::routes())
        .merge(oidc_sign_in::routes())
        .merge(audit::routes().merge(focal::routes()))
}

/// A submitted form: its fields in order (a name may repeat, e.g. checkboxes).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; `None` when absent or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// Refuses a form that does not carry the session's token or comes from another site.
    pub fn check(&self, signed: &Signed, headers: &HeaderMap) -> Result<(), FormRefused> {
        let token_ok = self
            .get("csrf")
            .is_some_and(|token| same_secret(token, &signed.csrf));
        if token_ok && same_origin(headers) {
            Ok(())
        } else {
            Err(FormRefused(signed.tr))
        }
    }
}

/// A form refused for its token or origin (answered with [`forbidden_form`]).
pub struct FormRefused(Tr);

impl IntoResponse for FormRefused {
    fn into_response(self) -> Response {
        forbidden_form(self.0)
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
    pub detail: Option<String>,
}

/// A form refused for its token: the page says to reload it (nothing was changed).
pub fn forbidden_form(tr: Tr) -> Response {
    let chrome = Chrome::anonymous(tr, tr.t("form-expired-title"));
    page(
        &MessagePage {
            heading: tr.t("form-expired-title"),
            message: tr.t("form-expired"),
            detail: None,
            chrome,
        },
        StatusCode::FORBIDDEN,
    )
}

/// A page that could not be shown because of what the API answered.
pub fn api_error_page(signed: &Signed, error: &ApiError) -> Response {
    let tr = signed.tr;
    let status = match error.code.as_str() {
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "FORBIDDEN" => StatusCode::FORBIDDEN,
        "SERVICE_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
        "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
        "VALIDATION" => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let heading = tr.t("error-title");
    page(
        &MessagePage {
            chrome: Chrome::new(signed, heading.clone(), ""),
            heading,
            message: explain(tr, error),
            detail: Some(error.message.clone()),
        },
        status,
    )
}

/// What an error code means for the user, in their language.
pub fn explain(tr: Tr, error: &ApiError) -> String {
    let id = format!("code-{}", error.code.to_ascii_lowercase().replace('_', "-"));
    let text = tr.t(&id);
    if text == id { tr.t("code-other") } else { text }
}

/// A case or referral the caller may not see answers as one that does not exist (as the API
/// does).
pub fn not_found(signed: &Signed) -> Response {
    api_error_page(
        signed,
        &ApiError {
            message: signed.tr.t("not-found"),
            code: "NOT_FOUND".into(),
            reasons: Vec::new(),
        },
    )
}

/// `303 See Other` to `to` (after a form was handled).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}
