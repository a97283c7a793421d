//! Turning a page into a response, and what every page's frame shows ([`Chrome`]).

use super::i18n::{Lang, Tr};
use super::session::Signed;
use crate::domain::Role;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The frame around every page: title, the user and their agency, the menu, the language
/// switch and the sign-out button.
pub struct Chrome {
    pub tr: Tr,
    pub title: String,
    /// The form token of the session (empty before sign-in).
    pub csrf: String,
    pub user: Option<UserBar>,
    /// Which menu entry is the current page's.
    pub active: &'static str,
}

/// The signed-in user as the frame shows them, and which menu entries they get.
pub struct UserBar {
    pub display_name: String,
    pub agency_name: String,
    pub country: String,
    pub auditor: bool,
    pub focal_point: bool,
    pub admin: bool,
}

impl Chrome {
    pub fn new(signed: &Signed, title: String, active: &'static str) -> Chrome {
        let p = &signed.principal;
        Chrome {
            tr: signed.tr,
            title,
            csrf: signed.csrf.clone(),
            user: Some(UserBar {
                display_name: p.display_name.clone(),
                agency_name: p.agency_name.clone(),
                country: p.country.clone(),
                auditor: p.has(Role::Auditor),
                focal_point: p.has(Role::FocalPoint),
                admin: p.has(Role::Administrator),
            }),
            active,
        }
    }

    /// The frame of a page shown before sign-in.
    pub fn anonymous(tr: Tr, title: String) -> Chrome {
        Chrome {
            tr,
            title,
            csrf: String::new(),
            user: None,
            active: "",
        }
    }

    /// The languages to offer, with whether each is the current one.
    pub fn languages(&self) -> Vec<(&'static str, &'static str, bool)> {
        Lang::ALL
            .iter()
            .map(|l| (l.code(), l.name(), *l == self.tr.lang))
            .collect()
    }

    /// A new idempotency key for a form: submitting the same form twice sends the same key, so
    /// the second submission changes nothing.
    pub fn fresh_key(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    pub fn is(&self, entry: &str) -> bool {
        self.active == entry
    }
}

/// A rendered page: `200` (or `status`) with headers that keep it out of every cache (pages
/// hold personal data).
pub fn page(template: &impl Template, status: StatusCode) -> Response {
    match template.render() {
        Ok(body) => {
            let mut response = (status, Html(body)).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a console page could not be rendered");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn ok(template: &impl Template) -> Response {
    page(template, StatusCode::OK)
}
