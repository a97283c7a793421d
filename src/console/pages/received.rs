//! A referral as its receiver sees it: the list of referrals made to the agency, one referral
//! with only the shared groups, and its answer (accept, decline, done or failed).

use super::referrals::IdRow;
use super::{Fields, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::render::{Chrome, ok, page};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

const INCOMING: &str =
    "query { incomingReferrals(first: 100) { nodes { id service status createdAt respondBy
  fromAgency { name country } case { id reference } sharedGroups } } }";

const ONE: &str =
    "query($id: ID!, $lang: String!) { referral(id: $id) { id service status purpose statusReason
  createdAt respondBy sharedGroups
  fromAgency { id name country } toAgency { id name country }
  case { id reference states(language: $lang) { label terminal } } } me { agency { id } } }";

/// An incoming referral in the list.
pub struct IncomingRow {
    pub href: String,
    pub reference: String,
    pub service: String,
    pub from: String,
    pub status: String,
    pub pending: bool,
    pub respond_by: String,
    pub groups: String,
}

#[derive(Template)]
#[template(path = "console/referrals.html")]
pub struct IncomingPage {
    pub chrome: Chrome,
    pub rows: Vec<IncomingRow>,
}

/// `GET /referrals`: the referrals made to the user's agency.
pub async fn incoming(State(console): State<Console>, signed: Signed) -> Response {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        incoming_referrals: Nodes,
    }
    #[derive(Deserialize)]
    struct Nodes {
        nodes: Vec<Row>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        id: String,
        service: String,
        status: String,
        respond_by: DateTime<Utc>,
        from_agency: super::home::AgencyName,
        case: Option<CaseRef>,
        shared_groups: Vec<String>,
    }
    let tr = signed.tr;
    let data: Data = match console.gql(&signed, INCOMING, json!({})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&signed, &e),
    };
    let rows = data
        .incoming_referrals
        .nodes
        .into_iter()
        .map(|r| IncomingRow {
            href: format!("/referrals/{}", r.id),
            reference: r.case.map(|c| c.reference).unwrap_or_default(),
            service: tr.value(&r.service),
            from: format!("{} ({})", r.from_agency.name, r.from_agency.country),
            pending: r.status == "PENDING",
            status: tr.value(&r.status),
            respond_by: super::home::when(r.respond_by),
            groups: r
                .shared_groups
                .iter()
                .map(|g| tr.value(g))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    ok(&IncomingPage {
        chrome: Chrome::new(&signed, tr.t("referrals-title"), "referrals"),
        rows,
    })
}

#[derive(Deserialize)]
struct CaseRef {
    id: String,
    reference: String,
    #[serde(default)]
    states: Vec<StateLabel>,
}

#[derive(Deserialize)]
struct StateLabel {
    label: String,
    terminal: bool,
}

#[derive(Template)]
#[template(path = "console/referral.html")]
pub struct ReferralPage {
    pub chrome: Chrome,
    pub id: String,
    pub service: String,
    pub status: String,
    pub purpose: Option<String>,
    pub status_reason: Option<String>,
    pub from: String,
    pub to: String,
    pub respond_by: String,
    pub shared: Vec<String>,
    pub case_href: Option<String>,
    pub reference: String,
    pub states: String,
    /// The user's agency receives it: it may answer.
    pub receiver: bool,
    pub pending: bool,
    pub accepted: bool,
    pub error: Option<(String, String)>,
}

async fn show_referral(
    console: &Console,
    signed: &Signed,
    id: &str,
    error: Option<&ApiError>,
) -> Response {
    #[derive(Deserialize)]
    struct Data {
        referral: Option<One>,
        me: Me,
    }
    #[derive(Deserialize)]
    struct Me {
        agency: IdRow,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct One {
        id: String,
        service: String,
        status: String,
        purpose: Option<String>,
        status_reason: Option<String>,
        respond_by: DateTime<Utc>,
        shared_groups: Vec<String>,
        from_agency: AgencyRef,
        to_agency: AgencyRef,
        case: Option<CaseRef>,
    }
    #[derive(Deserialize)]
    struct AgencyRef {
        id: String,
        name: String,
        country: String,
    }
    let tr = signed.tr;
    let data: Data = match console
        .gql(signed, ONE, json!({"id": id, "lang": tr.code()}))
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let Some(r) = data.referral else {
        return super::not_found(signed);
    };
    let receiver = r.to_agency.id == data.me.agency.id;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        &ReferralPage {
            chrome: Chrome::new(signed, tr.t("referral-title"), "referrals"),
            id: r.id,
            service: tr.value(&r.service),
            pending: r.status == "PENDING",
            accepted: r.status == "ACCEPTED",
            status: tr.value(&r.status),
            purpose: r.purpose,
            status_reason: r.status_reason,
            from: format!("{} ({})", r.from_agency.name, r.from_agency.country),
            to: format!("{} ({})", r.to_agency.name, r.to_agency.country),
            respond_by: super::home::when(r.respond_by),
            shared: r.shared_groups.iter().map(|g| tr.value(g)).collect(),
            case_href: r.case.as_ref().map(|c| format!("/cases/{}", c.id)),
            reference: r
                .case
                .as_ref()
                .map(|c| c.reference.clone())
                .unwrap_or_default(),
            states: r
                .case
                .as_ref()
                .map(|c| {
                    c.states
                        .iter()
                        .filter(|s| !s.terminal)
                        .map(|s| s.label.as_str())
                        .collect::<Vec<_>>()
                        .join(" · ")
                })
                .unwrap_or_default(),
            receiver,
            error: error.map(|e| (explain(tr, e), e.message.clone())),
        },
        status,
    )
}

/// `GET /referrals/{id}`.
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    show_referral(&console, &signed, &id, None).await
}

/// `POST /referrals/{id}/answer`: `answer` = accept, decline (with a reason), done or failed.
pub async fn answer(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let reason = form.get("reason");
    let (query, input) = match form.get("answer") {
        Some("accept") => (
            "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { id } } }",
            json!({"referralId": id}),
        ),
        Some("decline") => (
            "mutation($input: ReferralReasonInput!) { declineReferral(input: $input) { referral { id } } }",
            json!({"referralId": id, "reason": reason}),
        ),
        Some(done @ ("done" | "failed")) => (
            "mutation($input: CompleteReferralInput!) { completeReferral(input: $input) { referral { id } } }",
            json!({"referralId": id, "successful": done == "done", "reason": reason}),
        ),
        _ => return see_other(&format!("/referrals/{id}")),
    };
    match console
        .gql::<Value>(&signed, query, json!({"input": input}))
        .await
    {
        Ok(_) => see_other(&format!("/referrals/{id}")),
        Err(e) => show_referral(&console, &signed, &id, Some(&e)).await,
    }
}
