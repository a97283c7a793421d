//! A case's complete record for an auditor: every event with its actor and agency (a page at a
//! time), every disclosure, the access log, the break-glass accesses, the case as it stood at a
//! chosen moment, and the forms that take its case file away. All of it exactly as the API
//! answers the auditor.

use super::hidden;
use super::records::{
    Access, BreakGlass, Disclosure, Event, EventRow, Row, access_row, agency, break_glass_row,
    disclosure_row, event_row,
};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::pages::home::{AgencyName, StateLabel, current_states, when};
use crate::console::pages::not_found;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::json;

const CASE: &str =
    "query($id: ID!, $lang: String!, $after: String, $at: DateTime!, $withAt: Boolean!) {
  case(id: $id) {
    id reference status country originCountry openedAt version
    leadAgency { name country }
    workflow { key version label(language: $lang) }
    states(language: $lang) { label terminal }
    history(first: 50, after: $after) {
      nodes { sequence kind occurredAt track transition fromState toState timer reason
        workflowKey workflowVersion details actor { displayName } agency { name country } }
      pageInfo { hasNextPage endCursor } }
    disclosures { kind at status reason sharedGroups overrideBasis overrideJustification
      fromAgency { name country } toAgency { name country } consent { givenBy givenAt } }
    accessLog(first: 100) { kind readAt purpose purposeCategory recipient groups
      reader { displayName } agency { name country } }
    breakGlassAccesses { openedAt expiresAt justification reviewedAt justified reviewNote
      agency { name country } }
    asOf(at: $at) @include(if: $withAt) { version status
      leadAgency { name country } states(language: $lang) { label terminal }
      lastEvent { sequence kind occurredAt } }
  }
}";

/// Why a case file is exported (`ExportPurpose`).
pub const PURPOSES: [&str; 5] = [
    "AUDIT",
    "OVERSIGHT",
    "LEGAL_PROCEEDINGS",
    "DATA_SUBJECT_REQUEST",
    "OTHER",
];

#[derive(Deserialize)]
struct Data {
    case: Option<CaseView>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseView {
    id: String,
    reference: String,
    status: String,
    country: String,
    origin_country: Option<String>,
    opened_at: DateTime<Utc>,
    version: i64,
    lead_agency: AgencyName,
    workflow: Workflow,
    states: Vec<StateLabel>,
    history: History,
    disclosures: Vec<Disclosure>,
    access_log: Vec<Access>,
    break_glass_accesses: Vec<BreakGlass>,
    #[serde(default)]
    as_of: Option<Snapshot>,
}

#[derive(Deserialize)]
struct Workflow {
    key: String,
    version: i64,
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct History {
    nodes: Vec<Event>,
    page_info: super::PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    version: i64,
    status: String,
    lead_agency: Option<AgencyName>,
    states: Vec<StateLabel>,
    last_event: Option<LastEvent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LastEvent {
    sequence: i64,
    kind: String,
    occurred_at: DateTime<Utc>,
}

/// The case as it stood at the moment asked for.
pub struct AsOfView {
    pub at: String,
    /// `None`: the case did not exist yet.
    pub lines: Option<Vec<(String, String)>>,
}

/// A message at the top of the page (an export refused).
pub struct Flash {
    pub message: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "console/audit_case.html")]
pub struct AuditCasePage {
    pub chrome: Chrome,
    pub id: String,
    pub summary: Vec<(String, String)>,
    pub events: Vec<EventRow>,
    pub first_page: Option<String>,
    pub next: Option<String>,
    pub disclosures: Vec<Row>,
    pub access_log: Vec<Row>,
    pub break_glass: Vec<Row>,
    pub at: String,
    pub as_of: Option<AsOfView>,
    pub purposes: Vec<super::Choice>,
    pub flash: Option<Flash>,
    pub purpose: String,
    pub recipient: String,
}

#[derive(Deserialize, Default)]
pub struct CaseQuery {
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    at: Option<String>,
}

/// What the export form had, to show it again with the refusal.
#[derive(Default)]
pub struct Refused {
    pub error: Option<ApiError>,
    pub category: Option<String>,
    pub purpose: String,
    pub recipient: String,
}

/// A `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`), read as UTC.
fn moment(value: &str) -> Option<DateTime<Utc>> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(value.trim(), f).ok())
        .map(|t| t.and_utc())
}

/// `GET /audit/cases/{id}`: the page (`after`: the timeline's page; `at`: the moment to show
/// the case as it stood).
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    render(&console, &signed, &id, &q, Refused::default()).await
}

pub(super) async fn render(
    console: &Console,
    signed: &Signed,
    id: &str,
    q: &CaseQuery,
    refused: Refused,
) -> Response {
    let tr = signed.tr;
    let at_text = q.at.as_deref().map(str::trim).unwrap_or_default();
    let at = moment(at_text);
    let variables = json!({
        "id": id,
        "lang": tr.code(),
        "after": q.after.as_deref().filter(|a| !a.is_empty()),
        "at": at.unwrap_or_else(|| console.app.now()),
        "withAt": at.is_some(),
    });
    let data: Data = match console.gql(signed, CASE, variables).await {
        Ok(d) => d,
        Err(e) => return hidden(signed, &e),
    };
    let Some(case) = data.case else {
        return not_found(signed);
    };
    let summary = vec![
        (tr.t("col-status"), tr.value(&case.status)),
        (
            tr.t("audit-workflow"),
            format!(
                "{} · {} v{}",
                case.workflow.label, case.workflow.key, case.workflow.version
            ),
        ),
        (tr.t("case-lead"), agency(&case.lead_agency)),
        (
            tr.t("case-opened"),
            format!("{} ({})", when(case.opened_at), case.country),
        ),
        (
            tr.t("audit-origin"),
            case.origin_country.clone().unwrap_or_default(),
        ),
        (tr.t("case-version"), case.version.to_string()),
        (tr.t("col-where"), current_states(&case.states)),
    ];
    let page_link = |after: Option<&str>| {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(after) = after {
            query.push(("after", after));
        }
        if !at_text.is_empty() {
            query.push(("at", at_text));
        }
        let query = serde_urlencoded::to_string(query).unwrap_or_default();
        let sep = if query.is_empty() { "" } else { "?" };
        format!("/audit/cases/{}{sep}{query}#timeline", case.id)
    };
    let info = &case.history.page_info;
    let next = info
        .has_next_page
        .then(|| info.end_cursor.as_deref().map(|c| page_link(Some(c))))
        .flatten();
    let as_of = at.map(|at| AsOfView {
        at: when(at),
        lines: case.as_of.as_ref().map(|s| {
            let mut lines = vec![
                (tr.t("case-version"), s.version.to_string()),
                (tr.t("col-status"), tr.value(&s.status)),
                (
                    tr.t("case-lead"),
                    s.lead_agency.as_ref().map(agency).unwrap_or_default(),
                ),
                (tr.t("col-where"), current_states(&s.states)),
            ];
            if let Some(e) = &s.last_event {
                lines.push((
                    tr.t("audit-last-event"),
                    format!(
                        "#{} {} · {}",
                        e.sequence,
                        tr.value(&e.kind),
                        when(e.occurred_at)
                    ),
                ));
            }
            lines
        }),
    });
    let status = if refused.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(
        &AuditCasePage {
            chrome: Chrome::new(
                signed,
                tr.t1("audit-case-title", "reference", &case.reference),
                "audit",
            ),
            id: case.id.clone(),
            summary,
            events: case
                .history
                .nodes
                .iter()
                .map(|e| event_row(tr, e))
                .collect(),
            first_page: q.after.is_some().then(|| page_link(None)),
            next,
            disclosures: case
                .disclosures
                .iter()
                .map(|d| disclosure_row(tr, d))
                .collect(),
            access_log: case.access_log.iter().map(|a| access_row(tr, a)).collect(),
            break_glass: case
                .break_glass_accesses
                .iter()
                .map(|b| break_glass_row(tr, b))
                .collect(),
            at: at.map_or_else(
                || at_text.to_string(),
                |a| a.format("%Y-%m-%dT%H:%M:%S").to_string(),
            ),
            as_of,
            purposes: super::choices(tr, &PURPOSES, refused.category.as_deref()),
            flash: refused.error.map(|e| Flash {
                message: crate::console::pages::explain(tr, &e),
                detail: e.message,
            }),
            purpose: refused.purpose,
            recipient: refused.recipient,
        },
        status,
    )
}
