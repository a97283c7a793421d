//! An agency of the directory, for administrators: its users (list; add one with roles) and the
//! form changing its name, kind or represented country. Through `Agency.users`, `createUser`
//! and `updateAgency`: the API decides, and a refused form comes back with its reason.

use super::super::referrals::Option_;
use super::super::{Fields, api_error_page, see_other};
use super::{
    AgencyRow, Done, beyond_the_form, done_message, kind_label, kind_options, refusal, role_label,
};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use crate::domain::Role;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

const AGENCY: &str = "query($id: ID!) { node(id: $id) { ... on Agency {
  id name kind country representedCountry users { username displayName roles } } } }";

const UPDATE_AGENCY: &str =
    "mutation($input: UpdateAgencyInput!) { updateAgency(input: $input) { agency { id } } }";
const CREATE_USER: &str =
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }";

/// A user as the agency page lists them.
pub struct UserLine {
    pub username: String,
    pub display_name: String,
    pub roles: String,
}

#[derive(Template)]
#[template(path = "console/admin_agency.html")]
pub struct AgencyPage {
    pub chrome: Chrome,
    pub done: Option<String>,
    pub id: String,
    pub country: String,
    pub kind: String,
    /// The country it represents (embassies and consulates).
    pub represents: String,
    pub users: Vec<UserLine>,
    /// The form changing the agency.
    pub name: String,
    pub kinds: Vec<Option_>,
    pub represented: String,
    pub edit_error: Option<(String, String)>,
    /// The form adding a user.
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Option_>,
    pub user_error: Option<(String, String)>,
}

/// Which form of the agency page was refused.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AgencyForm {
    Edit,
    NewUser,
}

async fn agency_page(
    console: &Console,
    signed: &Signed,
    id: &str,
    refused: Option<(AgencyForm, &Fields, &ApiError)>,
    done: Option<&str>,
) -> Response {
    #[derive(Deserialize)]
    struct Data {
        node: Option<Value>,
    }
    let tr = signed.tr;
    let data: Data = match console.gql(signed, AGENCY, json!({"id": id})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    // Another kind of object answers `{}` to the fragment: not an agency.
    let Some(a) = data
        .node
        .and_then(|n| serde_json::from_value::<AgencyRow>(n).ok())
    else {
        return super::super::not_found(signed);
    };
    let empty = Fields::default();
    let (edit, new_user) = match &refused {
        Some((AgencyForm::Edit, form, _)) => (Some(*form), None),
        Some((AgencyForm::NewUser, form, _)) => (None, Some(*form)),
        None => (None, None),
    };
    let error = |which: AgencyForm| match &refused {
        Some((form, _, e)) if *form == which => Some(refusal(tr, e)),
        _ => None,
    };
    let user_form = new_user.unwrap_or(&empty);
    let chosen_kind = edit.map_or(Some(a.kind.as_str()), |f| f.get("kind"));
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        &AgencyPage {
            chrome: Chrome::new(signed, a.name.clone(), "admin"),
            done: done_message(tr, done),
            id: a.id.clone(),
            country: a.country.clone(),
            kind: kind_label(tr, &a.kind),
            represents: a.represented_country.clone().unwrap_or_default(),
            users: a
                .users
                .iter()
                .map(|u| UserLine {
                    username: u.username.clone(),
                    display_name: u.display_name.clone(),
                    roles: u
                        .roles
                        .iter()
                        .map(|r| role_label(tr, r))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
                .collect(),
            name: edit.map_or(a.name.clone(), |f| {
                f.get("name").unwrap_or_default().to_string()
            }),
            kinds: kind_options(tr, chosen_kind),
            represented: edit.map_or(a.represented_country.clone().unwrap_or_default(), |f| {
                f.get("represented").unwrap_or_default().to_string()
            }),
            edit_error: error(AgencyForm::Edit),
            username: user_form.get("username").unwrap_or_default().to_string(),
            display_name: user_form
                .get("display_name")
                .unwrap_or_default()
                .to_string(),
            roles: Role::ALL
                .iter()
                .map(|r| Option_ {
                    value: r.as_str().to_string(),
                    label: role_label(tr, r.as_str()),
                    selected: user_form.all("roles").iter().any(|v| v == r.as_str()),
                })
                .collect(),
            user_error: error(AgencyForm::NewUser),
        },
        status,
    )
}

/// `GET /admin/agencies/{id}`: the agency, its users, and the forms changing them.
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    agency_page(&console, &signed, &id, None, done.done.as_deref()).await
}

/// `POST /admin/agencies/{id}`: changes its name, kind and represented country (an empty
/// represented country clears it).
pub async fn update(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    change(&console, &signed, &headers, &id, AgencyForm::Edit, &form).await
}

/// `POST /admin/agencies/{id}/users`: adds a user with the chosen roles.
pub async fn create_user(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    change(&console, &signed, &headers, &id, AgencyForm::NewUser, &form).await
}

/// Sends one of the agency page's forms to its mutation.
async fn change(
    console: &Console,
    signed: &Signed,
    headers: &HeaderMap,
    id: &str,
    which: AgencyForm,
    form: &Fields,
) -> Response {
    if let Err(refused) = form.check(signed, headers) {
        return refused.into_response();
    }
    let (mutation, input) = match which {
        AgencyForm::Edit => (
            UPDATE_AGENCY,
            json!({
                "agencyId": id,
                "name": form.get("name").unwrap_or_default(),
                "kind": form.get("kind").unwrap_or_default(),
                "representedCountry": form.get("represented").map(str::to_ascii_uppercase),
            }),
        ),
        AgencyForm::NewUser => (
            CREATE_USER,
            json!({
                "agencyId": id,
                "username": form.get("username").unwrap_or_default(),
                "displayName": form.get("display_name").unwrap_or_default(),
                "roles": form.all("roles"),
            }),
        ),
    };
    let answer = console
        .gql::<Value>(signed, mutation, json!({"input": input}))
        .await;
    after_agency_change(console, signed, id, answer, which, form).await
}

/// Back to the agency page after a change: with its notice when done, else with the refused
/// form and its reason.
async fn after_agency_change(
    console: &Console,
    signed: &Signed,
    id: &str,
    answer: Result<Value, ApiError>,
    which: AgencyForm,
    form: &Fields,
) -> Response {
    let done = match which {
        AgencyForm::Edit => "agency-updated",
        AgencyForm::NewUser => "user-created",
    };
    match answer {
        Ok(_) => see_other(&format!("/admin/agencies/{id}?done={done}")),
        Err(e) if beyond_the_form(&e) => api_error_page(signed, &e),
        Err(e) => agency_page(console, signed, id, Some((which, form, &e)), None).await,
    }
}
