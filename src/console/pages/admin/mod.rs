//! The directory, for administrators: agencies by country (add one; change its name, kind or
//! represented country), the users of each agency (list; add one with roles) and each
//! country's national focal point.
//!
//! Every read and change goes through the directory's queries and mutations (`countries`,
//! `Agency.users`, `createAgency`, `updateAgency`, `createUser`, `setFocalPoint`): the API
//! decides, so a user who is not an administrator gets its refusal, and a refused form comes
//! back with the API's reason next to it and what was typed kept.

mod agency;

use super::referrals::Option_;
use super::{Fields, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use crate::domain::AgencyKind;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/agencies", post(create_agency))
        .route("/admin/focal-points", post(set_focal_point))
        .route(
            "/admin/agencies/{id}",
            get(agency::show).post(agency::update),
        )
        .route("/admin/agencies/{id}/users", post(agency::create_user))
}

// The users are asked for on the overview too (their number): the API refuses them to anyone
// but an administrator, so the page itself is refused as the API refuses it.
const OVERVIEW: &str = "query { countries { code name focalPoint { id }
  agencies { id name kind representedCountry users { username } } } }";

const CREATE_AGENCY: &str =
    "mutation($input: CreateAgencyInput!) { createAgency(input: $input) { agency { id } } }";
const SET_FOCAL_POINT: &str =
    "mutation($input: SetFocalPointInput!) { setFocalPoint(input: $input) { country { code } } }";
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountryRow {
    code: String,
    name: String,
    focal_point: Option<super::case::IdOnly>,
    agencies: Vec<AgencyRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AgencyRow {
    id: String,
    name: String,
    kind: String,
    #[serde(default)]
    country: String,
    represented_country: Option<String>,
    users: Vec<UserRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    roles: Vec<String>,
}

/// The label of an agency kind (`AgencyKind` of the API).
pub(super) fn kind_label(tr: Tr, kind: &str) -> String {
    tr.agency_kind(kind)
}

/// The label of a role (`Role` of the API).
pub(super) fn role_label(tr: Tr, role: &str) -> String {
    tr.role(role)
}

pub(super) fn kind_options(tr: Tr, chosen: Option<&str>) -> Vec<Option_> {
    AgencyKind::ALL
        .iter()
        .map(|k| Option_ {
            value: k.as_str().to_string(),
            label: kind_label(tr, k.as_str()),
            selected: chosen == Some(k.as_str()),
        })
        .collect()
}

/// A refused form: the API's reason in the user's words, and its own message.
pub(super) fn refusal(tr: Tr, error: &ApiError) -> (String, String) {
    (explain(tr, error), error.message.clone())
}

/// What a redirect after a change says (`?done=`), from a fixed list: never data.
pub(super) fn done_message(tr: Tr, done: Option<&str>) -> Option<String> {
    let id = match done? {
        "agency-created" => "admin-done-agency-created",
        "agency-updated" => "admin-done-agency-updated",
        "focal-point-set" => "admin-done-focal-point",
        "user-created" => "admin-done-user-created",
        _ => return None,
    };
    Some(tr.t(id))
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// An error of the API that no form can help with: the page says so instead of the form.
pub(super) fn beyond_the_form(error: &ApiError) -> bool {
    matches!(
        error.code.as_str(),
        "SERVICE_UNAVAILABLE" | "INTERNAL" | "RATE_LIMITED" | "FORBIDDEN" | "UNAUTHENTICATED"
    )
}

/// An agency as the overview lists it.
pub struct AgencyLine {
    pub href: String,
    pub name: String,
    pub kind: String,
    pub represented: String,
    pub users: usize,
}

/// A country with its agencies and the form choosing its focal point.
pub struct CountryView {
    pub code: String,
    pub name: String,
    /// The caption of its table of agencies.
    pub caption: String,
    /// The label of its focal point's choice.
    pub focal_label: String,
    pub focal_point: Option<String>,
    pub agencies: Vec<AgencyLine>,
    pub choices: Vec<Option_>,
    pub error: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/admin.html")]
pub struct DirectoryPage {
    pub chrome: Chrome,
    pub done: Option<String>,
    pub countries: Vec<CountryView>,
    pub kinds: Vec<Option_>,
    pub name: String,
    pub country: String,
    pub represented: String,
    pub error: Option<(String, String)>,
}

/// Which form of the overview was refused.
enum Refused<'a> {
    NewAgency(&'a ApiError),
    FocalPoint(&'a str, &'a ApiError),
}

async fn overview_page(
    console: &Console,
    signed: &Signed,
    form: Option<&Fields>,
    refused: Option<Refused<'_>>,
    done: Option<&str>,
) -> Response {
    #[derive(Deserialize)]
    struct Data {
        countries: Vec<CountryRow>,
    }
    let tr = signed.tr;
    let data: Data = match console.gql(signed, OVERVIEW, json!({})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let empty = Fields::default();
    let form = form.unwrap_or(&empty);
    let countries = data
        .countries
        .into_iter()
        .map(|c| {
            let focal = c.focal_point.map(|f| f.id);
            let error = match &refused {
                Some(Refused::FocalPoint(code, e)) if *code == c.code => Some(refusal(tr, e)),
                _ => None,
            };
            let chosen = match error {
                Some(_) => form.get("agency").map(str::to_string),
                None => focal.clone(),
            };
            CountryView {
                caption: tr.t1("admin-agencies-of", "country", &c.name),
                focal_label: tr.t1("admin-focal-point-of", "country", &c.name),
                focal_point: c
                    .agencies
                    .iter()
                    .find(|a| Some(&a.id) == focal.as_ref())
                    .map(|a| a.name.clone()),
                choices: c
                    .agencies
                    .iter()
                    .map(|a| Option_ {
                        value: a.id.clone(),
                        label: a.name.clone(),
                        selected: Some(&a.id) == chosen.as_ref(),
                    })
                    .collect(),
                agencies: c
                    .agencies
                    .into_iter()
                    .map(|a| AgencyLine {
                        href: format!("/admin/agencies/{}", a.id),
                        kind: kind_label(tr, &a.kind),
                        represented: a.represented_country.unwrap_or_default(),
                        users: a.users.len(),
                        name: a.name,
                    })
                    .collect(),
                code: c.code,
                name: c.name,
                error,
            }
        })
        .collect();
    let error = match &refused {
        Some(Refused::NewAgency(e)) => Some(refusal(tr, e)),
        _ => None,
    };
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        &DirectoryPage {
            chrome: Chrome::new(signed, tr.t("admin-title"), "admin"),
            done: done_message(tr, done),
            countries,
            kinds: kind_options(tr, form.get("kind")),
            name: form.get("name").unwrap_or_default().to_string(),
            country: form.get("country").unwrap_or_default().to_string(),
            represented: form.get("represented").unwrap_or_default().to_string(),
            error,
        },
        status,
    )
}

/// `GET /admin`: the countries, their focal points and agencies, and the form adding one.
pub async fn overview(
    State(console): State<Console>,
    signed: Signed,
    Query(done): Query<Done>,
) -> Response {
    overview_page(&console, &signed, None, None, done.done.as_deref()).await
}

/// `POST /admin/agencies`: adds an agency, then shows it (to add its users).
pub async fn create_agency(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let input = json!({
        "name": form.get("name").unwrap_or_default(),
        "kind": form.get("kind").unwrap_or_default(),
        "country": form.get("country").unwrap_or_default().to_ascii_uppercase(),
        "representedCountry": form.get("represented").map(str::to_ascii_uppercase),
    });
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Created {
        create_agency: Payload,
    }
    match console
        .gql::<Created>(&signed, CREATE_AGENCY, json!({"input": input}))
        .await
    {
        Ok(created) => see_other(&format!(
            "/admin/agencies/{}?done=agency-created",
            created.create_agency.agency.id
        )),
        Err(e) if beyond_the_form(&e) => api_error_page(&signed, &e),
        Err(e) => {
            overview_page(
                &console,
                &signed,
                Some(&form),
                Some(Refused::NewAgency(&e)),
                None,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct Payload {
    agency: super::case::IdOnly,
}

/// `POST /admin/focal-points`: makes an agency its country's national focal point.
pub async fn set_focal_point(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let country = form.get("country").unwrap_or_default().to_string();
    let input = json!({"country": country, "agencyId": form.get("agency").unwrap_or_default()});
    match console
        .gql::<Value>(&signed, SET_FOCAL_POINT, json!({"input": input}))
        .await
    {
        Ok(_) => see_other(&format!("/admin?done=focal-point-set#country-{country}")),
        Err(e) if beyond_the_form(&e) => api_error_page(&signed, &e),
        Err(e) => {
            overview_page(
                &console,
                &signed,
                Some(&form),
                Some(Refused::FocalPoint(&country, &e)),
                None,
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::i18n::Lang;
    use crate::domain::Role;

    #[test]
    fn every_agency_kind_and_role_has_a_label_in_every_language() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang);
            for kind in AgencyKind::ALL {
                let label = kind_label(tr, kind.as_str());
                assert!(!label.starts_with("agency-kind-"), "{lang:?} {kind:?}");
            }
            for role in Role::ALL {
                let label = role_label(tr, role.as_str());
                assert!(!label.starts_with("role-"), "{lang:?} {role:?}");
            }
        }
    }
}
