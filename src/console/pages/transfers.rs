//! A transfer of lead: the offer as the receiver sees it (only the shared groups), accepted or
//! rejected by the receiver, revoked by the offering agency while it waits, and the feedback the
//! two agencies send each other afterwards.

use super::{Fields, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

const ONE: &str = "query($id: ID!) { transfer(id: $id) { id status statusReason createdAt respondBy
  sharedGroups requestedByReceiver
  fromAgency { id name country } toAgency { id name country }
  case { id reference }
  feedback { sentAt message fromAgency { name country } } }
  me { agency { id } } }";

#[derive(Deserialize)]
struct Data {
    transfer: Option<One>,
    me: Me,
}

#[derive(Deserialize)]
struct Me {
    agency: AgencyId,
}

#[derive(Deserialize)]
struct AgencyId {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct One {
    id: String,
    status: String,
    status_reason: Option<String>,
    respond_by: DateTime<Utc>,
    shared_groups: Vec<String>,
    from_agency: AgencyRef,
    to_agency: AgencyRef,
    case: Option<CaseRef>,
    feedback: Vec<FeedbackRow>,
}

#[derive(Deserialize)]
struct AgencyRef {
    id: String,
    name: String,
    country: String,
}

#[derive(Deserialize)]
struct CaseRef {
    id: String,
    reference: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedbackRow {
    sent_at: DateTime<Utc>,
    message: Option<String>,
    from_agency: super::home::AgencyName,
}

pub struct Note {
    pub when: String,
    pub from: String,
    pub message: Option<String>,
}

#[derive(Template)]
#[template(path = "console/transfer.html")]
pub struct TransferPage {
    pub chrome: Chrome,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub from: String,
    pub to: String,
    pub respond_by: String,
    pub shared: Vec<String>,
    pub reference: String,
    pub case_href: Option<String>,
    pub feedback: Vec<Note>,
    /// The user's agency receives it and it waits for an answer.
    pub may_answer: bool,
    /// The user's agency offered it and it still waits.
    pub may_revoke: bool,
    /// Accepted: the two agencies may send each other feedback.
    pub may_send_feedback: bool,
    pub error: Option<(String, String)>,
}

async fn render(
    console: &Console,
    signed: &Signed,
    id: &str,
    error: Option<&ApiError>,
) -> Response {
    let tr = signed.tr;
    let data: Data = match console.gql(signed, ONE, json!({"id": id})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let Some(t) = data.transfer else {
        return super::not_found(signed);
    };
    let mine = data.me.agency.id;
    let waiting = t.status == "OFFERED";
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        &TransferPage {
            chrome: Chrome::new(signed, tr.t("transfer-page-title"), "cases"),
            id: t.id,
            may_answer: waiting && t.to_agency.id == mine,
            may_revoke: waiting && t.from_agency.id == mine,
            may_send_feedback: t.status == "ACCEPTED",
            status: tr.value(&t.status),
            status_reason: t.status_reason,
            from: format!("{} ({})", t.from_agency.name, t.from_agency.country),
            to: format!("{} ({})", t.to_agency.name, t.to_agency.country),
            respond_by: super::home::when(t.respond_by),
            shared: t.shared_groups.iter().map(|g| tr.value(g)).collect(),
            reference: t
                .case
                .as_ref()
                .map(|c| c.reference.clone())
                .unwrap_or_default(),
            case_href: t.case.as_ref().map(|c| format!("/cases/{}", c.id)),
            feedback: t
                .feedback
                .into_iter()
                .map(|f| Note {
                    when: super::home::when(f.sent_at),
                    from: format!("{} ({})", f.from_agency.name, f.from_agency.country),
                    message: f.message,
                })
                .collect(),
            error: error.map(|e| (explain(tr, e), e.message.clone())),
        },
        status,
    )
}

/// `GET /transfers/{id}`.
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    render(&console, &signed, &id, None).await
}

/// `POST /transfers/{id}/answer`: `answer` = accept, reject, revoke or feedback.
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
            "mutation($input: AcceptTransferInput!) { acceptTransfer(input: $input) { transfer { id } } }",
            json!({"transferId": id}),
        ),
        Some("reject") => (
            "mutation($input: TransferReasonInput!) { rejectTransfer(input: $input) { transfer { id } } }",
            json!({"transferId": id, "reason": reason}),
        ),
        Some("revoke") => (
            "mutation($input: TransferReasonInput!) { revokeTransfer(input: $input) { transfer { id } } }",
            json!({"transferId": id, "reason": reason}),
        ),
        Some("feedback") => (
            "mutation($input: SendFeedbackInput!) { sendFeedback(input: $input) { feedback { id } } }",
            json!({"transferId": id, "message": form.get("message").unwrap_or_default()}),
        ),
        _ => return see_other(&format!("/transfers/{id}")),
    };
    match console
        .gql::<Value>(&signed, query, json!({"input": input}))
        .await
    {
        Ok(_) => see_other(&format!("/transfers/{id}")),
        Err(e) => render(&console, &signed, &id, Some(&e)).await,
    }
}
