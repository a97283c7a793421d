//! Finding a case (by reference, or by status, stage and deadline) and opening a new one.

use super::{Fields, api_error_page, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::render::{Chrome, ok};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const LIST: &str = "query($filter: CaseFilterInput, $lang: String!, $after: String) {
  cases(first: 50, filter: $filter, after: $after) {
    nodes { id reference status country access openedAt updatedAt
      leadAgency { name country }
      workflow { key version label(language: $lang) }
      states(language: $lang) { label stage terminal } }
    pageInfo { hasNextPage endCursor } }
  workflows { key version label(language: $lang) }
}";

const BY_REFERENCE: &str =
    "query($reference: String!) { caseByReference(reference: $reference) { id } }";

const OPEN: &str = "mutation($input: OpenCaseInput!) { openCase(input: $input) { case { id } } }";

/// The filters of the list, as the form sends them (every one optional).
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    stage: Option<String>,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListData {
    cases: Connection,
    workflows: Vec<WorkflowRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    nodes: Vec<CaseNode>,
    page_info: PageInfo,
}

/// Where a page of a connection ends.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseNode {
    id: String,
    reference: String,
    status: String,
    access: String,
    updated_at: chrono::DateTime<chrono::Utc>,
    lead_agency: super::home::AgencyName,
    workflow: WorkflowRow,
    states: Vec<StateRow>,
}

#[derive(Deserialize, Clone)]
struct WorkflowRow {
    key: String,
    version: i64,
    label: String,
}

#[derive(Deserialize)]
struct StateRow {
    label: String,
    terminal: bool,
}

pub struct CaseRow {
    pub href: String,
    pub reference: String,
    pub status: String,
    pub access: String,
    pub lead: String,
    pub workflow: String,
    pub states: String,
    pub updated: String,
}

/// A procedure that a new case can be opened under (its latest version).
pub struct Procedure {
    pub key: String,
    pub label: String,
}

/// One option of a filter's select.
pub struct Choice {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "console/cases.html")]
pub struct CasesPage {
    pub chrome: Chrome,
    pub rows: Vec<CaseRow>,
    pub reference: String,
    pub statuses: Vec<Choice>,
    pub stages: Vec<Choice>,
    pub deadlines: Vec<Choice>,
    pub procedures: Vec<Procedure>,
    pub next: Option<String>,
    pub error: Option<String>,
}

pub fn choices(
    tr: crate::console::i18n::Tr,
    values: &[&'static str],
    current: Option<&str>,
) -> Vec<Choice> {
    values
        .iter()
        .map(|v| Choice {
            value: v,
            label: tr.value(v),
            selected: current == Some(*v),
        })
        .collect()
}

/// `GET /cases`: the cases the user's agency may see, filtered; a reference goes straight to
/// its case.
pub async fn list(
    State(console): State<Console>,
    signed: Signed,
    Query(filter): Query<Filter>,
) -> Response {
    let tr = signed.tr;
    let mut error = None;
    if let Some(reference) = filter.reference.as_deref().map(str::trim)
        && !reference.is_empty()
    {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Found {
            case_by_reference: Option<super::case::IdOnly>,
        }
        match console
            .gql::<Found>(
                &signed,
                BY_REFERENCE,
                json!({"reference": reference.to_ascii_uppercase()}),
            )
            .await
        {
            Ok(Found {
                case_by_reference: Some(found),
            }) => return see_other(&format!("/cases/{}", found.id)),
            Ok(_) => error = Some(tr.t("cases-reference-not-found")),
            Err(e) => return api_error_page(&signed, &e),
        }
    }
    let known = |value: Option<&String>, allowed: &[&str]| {
        value
            .map(String::as_str)
            .filter(|v| allowed.contains(v))
            .map(str::to_string)
    };
    const STATUSES: [&str; 2] = ["ACTIVE", "CLOSED"];
    const STAGES: [&str; 5] = [
        "IDENTIFICATION",
        "FIRST_ASSISTANCE",
        "LONG_TERM_ASSISTANCE",
        "RETURN",
        "PROCEEDINGS",
    ];
    const DEADLINES: [&str; 2] = ["OVERDUE", "DUE_SOON"];
    let status = known(filter.status.as_ref(), &STATUSES);
    let stage = known(filter.stage.as_ref(), &STAGES);
    let deadline = known(filter.deadline.as_ref(), &DEADLINES);
    let mut api_filter = BTreeMap::new();
    for (key, value) in [
        ("status", &status),
        ("stage", &stage),
        ("deadline", &deadline),
        ("workflow", &filter.workflow),
    ] {
        if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
            api_filter.insert(key, Value::String(v.clone()));
        }
    }
    let data: ListData = match console
        .gql(
            &signed,
            LIST,
            json!({"filter": api_filter, "lang": tr.code(), "after": filter.after}),
        )
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(&signed, &e),
    };
    let rows = data
        .cases
        .nodes
        .into_iter()
        .map(|c| CaseRow {
            href: format!("/cases/{}", c.id),
            reference: c.reference,
            status: tr.value(&c.status),
            access: tr.value(&c.access),
            lead: format!("{} ({})", c.lead_agency.name, c.lead_agency.country),
            workflow: format!("{} v{}", c.workflow.label, c.workflow.version),
            states: c
                .states
                .iter()
                .filter(|s| !s.terminal)
                .map(|s| s.label.as_str())
                .collect::<Vec<_>>()
                .join(" · "),
            updated: super::home::when(c.updated_at),
        })
        .collect();
    let mut latest: BTreeMap<String, WorkflowRow> = BTreeMap::new();
    for w in data.workflows {
        if latest.get(&w.key).is_none_or(|l| l.version < w.version) {
            latest.insert(w.key.clone(), w);
        }
    }
    let next = data
        .cases
        .page_info
        .has_next_page
        .then_some(data.cases.page_info.end_cursor)
        .flatten()
        .map(|cursor| {
            let mut query = vec![("after", cursor)];
            for (k, v) in [
                ("status", &status),
                ("stage", &stage),
                ("deadline", &deadline),
            ] {
                if let Some(v) = v {
                    query.push((k, v.clone()));
                }
            }
            format!(
                "/cases?{}",
                serde_urlencoded::to_string(query).unwrap_or_default()
            )
        });
    ok(&CasesPage {
        chrome: Chrome::new(&signed, tr.t("cases-title"), "cases"),
        rows,
        reference: filter.reference.unwrap_or_default(),
        statuses: choices(tr, &STATUSES, status.as_deref()),
        stages: choices(tr, &STAGES, stage.as_deref()),
        deadlines: choices(tr, &DEADLINES, deadline.as_deref()),
        procedures: latest
            .into_values()
            .map(|w| Procedure {
                label: format!("{} (v{})", w.label, w.version),
                key: w.key,
            })
            .collect(),
        next,
        error,
    })
}

/// `POST /cases`: opens a case under the chosen procedure (an idempotency key from the form,
/// so that a second click opens nothing more).
pub async fn open(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Opened {
        open_case: OpenedCase,
    }
    #[derive(Deserialize)]
    struct OpenedCase {
        case: super::case::IdOnly,
    }
    let Some(workflow) = form.get("workflow") else {
        let error = ApiError {
            message: signed.tr.t("open-case-choose"),
            code: "VALIDATION".into(),
            reasons: Vec::new(),
        };
        return api_error_page(&signed, &error);
    };
    let mut input = json!({"workflowId": workflow});
    if let Some(key) = form.get("idempotency") {
        input["idempotencyKey"] = json!(format!("console-open-{key}"));
    }
    if let Some(origin) = form.get("origin") {
        input["originCountry"] = json!(origin.to_ascii_uppercase());
    }
    match console
        .gql::<Opened>(&signed, OPEN, json!({ "input": input }))
        .await
    {
        Ok(opened) => see_other(&format!("/cases/{}", opened.open_case.case.id)),
        Err(e) => {
            let mut response = api_error_page(&signed, &e);
            if e.code == "VALIDATION" {
                *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            }
            response
        }
    }
}
