//! Recording the person's consent (who gave it, for which purposes, which data groups, to which
//! agencies or countries; for a child, the child's assent) and withdrawing it.

use super::{Fields, GROUPS, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

const GIVERS: [&str; 3] = ["PERSON", "GUARDIAN", "LEGAL_REPRESENTATIVE"];
const PURPOSES: [&str; 5] = ["SHARING", "SERVICES", "RETURN", "PROCEEDINGS", "STATISTICS"];

const FORM_DATA: &str = "query($id: ID!) { case(id: $id) { id reference access
  consents { id givenBy givenAt inForce withdrawnAt dataGroups purposes countries agencies { name country } } }
  agencies { id name kind country } }";

#[derive(Deserialize)]
struct Data {
    case: Option<CaseData>,
    agencies: Vec<AgencyRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseData {
    id: String,
    reference: String,
    access: String,
    consents: Vec<ConsentData>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsentData {
    id: String,
    given_by: String,
    given_at: chrono::DateTime<chrono::Utc>,
    in_force: bool,
    data_groups: Vec<String>,
    purposes: Vec<String>,
    countries: Vec<String>,
    agencies: Vec<super::home::AgencyName>,
}

#[derive(Deserialize)]
struct AgencyRow {
    id: String,
    name: String,
    country: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

pub struct ConsentRow {
    pub id: String,
    pub summary: String,
    pub scope: String,
    pub in_force: bool,
}

#[derive(Template)]
#[template(path = "console/consent.html")]
pub struct ConsentPage {
    pub chrome: Chrome,
    pub case_id: String,
    pub reference: String,
    pub consents: Vec<ConsentRow>,
    pub givers: Vec<Choice>,
    pub purposes: Vec<Choice>,
    pub groups: Vec<Choice>,
    pub agencies: Vec<Choice>,
    pub countries: String,
    pub error: Option<(String, String)>,
}

async fn render(
    console: &Console,
    signed: &Signed,
    id: &str,
    form: Option<&Fields>,
    error: Option<&ApiError>,
) -> Response {
    let tr = signed.tr;
    let data: Data = match console.gql(signed, FORM_DATA, json!({"id": id})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let Some(case) = data.case else {
        return super::not_found(signed);
    };
    if case.access != "LEAD" {
        return super::not_found(signed);
    }
    let empty = Fields::default();
    let form = form.unwrap_or(&empty);
    let chosen = |name: &str, value: &str| form.all(name).iter().any(|v| v == value);
    let choices = |name: &str, values: &[&str]| {
        values
            .iter()
            .map(|v| Choice {
                value: v.to_string(),
                label: tr.value(v),
                checked: chosen(name, v),
            })
            .collect::<Vec<_>>()
    };
    let mut agencies = data.agencies;
    agencies.sort_by(|a, b| (&a.country, &a.name).cmp(&(&b.country, &b.name)));
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| tr.value(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    page(
        &ConsentPage {
            chrome: Chrome::new(
                signed,
                tr.t1("consent-title", "reference", &case.reference),
                "cases",
            ),
            consents: case
                .consents
                .iter()
                .map(|c| ConsentRow {
                    id: c.id.clone(),
                    summary: format!(
                        "{} · {} · {}",
                        super::home::when(c.given_at),
                        tr.value(&c.given_by),
                        list(&c.purposes)
                    ),
                    scope: format!(
                        "{} → {}",
                        list(&c.data_groups),
                        c.agencies
                            .iter()
                            .map(|a| format!("{} ({})", a.name, a.country))
                            .chain(c.countries.iter().cloned())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    in_force: c.in_force,
                })
                .collect(),
            case_id: case.id,
            reference: case.reference,
            givers: GIVERS
                .iter()
                .map(|g| Choice {
                    value: g.to_string(),
                    label: tr.value(g),
                    checked: form.get("givenBy").map_or(*g == "PERSON", |v| v == *g),
                })
                .collect(),
            purposes: choices("purposes", &PURPOSES),
            groups: choices("groups", &GROUPS),
            agencies: agencies
                .into_iter()
                .map(|a| Choice {
                    checked: chosen("agencies", &a.id),
                    label: format!("{} – {}", a.country, a.name),
                    value: a.id,
                })
                .collect(),
            countries: form.get("countries").unwrap_or_default().to_string(),
            error: error.map(|e| (explain(tr, e), e.message.clone())),
        },
        status,
    )
}

/// `GET /cases/{id}/consent`: the consents of the case and the form to record one.
pub async fn new(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    render(&console, &signed, &id, None, None).await
}

/// `POST /cases/{id}/consent`: records a consent.
pub async fn record(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let countries: Vec<String> = form
        .get("countries")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let mut input = json!({
        "caseId": id,
        "givenBy": form.get("givenBy").unwrap_or("PERSON"),
        "purposes": form.all("purposes"),
        "dataGroups": form.all("groups"),
        "agencyIds": form.all("agencies"),
        "countries": countries,
    });
    match form.get("assent") {
        Some("yes") => input["childAssent"] = json!(true),
        Some("no") => input["childAssent"] = json!(false),
        _ => {}
    }
    if let Some(reason) = form.get("assentMissingReason") {
        input["assentMissingReason"] = json!(reason);
    }
    match console
        .gql::<Value>(
            &signed,
            "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }",
            json!({"input": input}),
        )
        .await
    {
        Ok(_) => see_other(&format!("/cases/{id}/consent")),
        Err(e) => render(&console, &signed, &id, Some(&form), Some(&e)).await,
    }
}

/// `POST /cases/{id}/consent/withdraw`: the person withdrew a consent.
pub async fn withdraw(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let input =
        json!({"consentId": form.get("consent").unwrap_or_default(), "reason": form.get("reason")});
    match console
        .gql::<Value>(
            &signed,
            "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { id } } }",
            json!({"input": input}),
        )
        .await
    {
        Ok(_) => see_other(&format!("/cases/{id}/consent")),
        Err(e) => render(&console, &signed, &id, None, Some(&e)).await,
    }
}
