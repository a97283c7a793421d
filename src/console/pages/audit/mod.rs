//! The auditor's pages: the audit log's latest checkpoint and, on request, its verification,
//! with a search of events across cases (this file); a case's complete record, as it stands and
//! as it stood at a chosen moment ([`case`], its tables' rows in [`records`]); its case file
//! taken away as JSON or as a printable page ([`export`]).
//!
//! Everything is read through the API as the auditor, and shown as the API answers it. To a
//! user the API refuses, the pages answer as pages that do not exist ([`hidden`]): there is
//! nothing there for them.

mod case;
mod export;
mod records;

use super::cases::{Choice, PageInfo, choices};
use super::{api_error_page, not_found};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, ok};
use crate::console::session::Signed;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<Console> {
    Router::new()
        .route("/audit", get(home))
        .route("/audit/cases/{id}", get(case::show))
        .route("/audit/cases/{id}/export", post(export::download))
}

/// The answer to an error of the API on an audit or focal point page: a refusal is a page that
/// does not exist (404), anything else is explained.
pub(super) fn hidden(signed: &Signed, error: &ApiError) -> Response {
    if error.code == "FORBIDDEN" {
        not_found(signed)
    } else {
        api_error_page(signed, error)
    }
}

const HOME: &str = "query($f: AuditEventFilter, $after: String, $verify: Boolean!) {
  auditVerification @include(if: $verify) { ok firstProblem checkedEvents treeSize root }
  auditCheckpoint { treeSize rootHash createdAt keyId }
  auditEvents(filter: $f, first: 50, after: $after) {
    nodes { sequence kind transition occurredAt
      actor { displayName } agency { name country } case { id reference } }
    pageInfo { hasNextPage endCursor } }
  agencies { id name country }
}";

/// The kinds of events (`EventKind`), in the order of the search form.
const KINDS: [&str; 21] = [
    "CASE_OPENED",
    "TRANSITION",
    "TIMER_ELAPSED",
    "DEADLINE_ESCALATED",
    "PERSONAL_DATA_RECORDED",
    "ORIGIN_COUNTRY_SET",
    "MOVEMENT_RECORDED",
    "CONSENT_RECORDED",
    "CONSENT_WITHDRAWN",
    "REFERRAL",
    "TRANSFER",
    "TRANSFER_ACCEPTED",
    "FEEDBACK_SENT",
    "ROUTE_ALERTED",
    "BREAK_GLASS",
    "BREAK_GLASS_REVIEWED",
    "ACCESS_ENDED",
    "CASE_FILE_EXPORTED",
    "SAME_PERSON_SEARCHED",
    "SAME_PERSON_LINKED",
    "WORKFLOW_MIGRATED",
];

/// The search, as the form sends it: none of it is personal data (a case reference, an event
/// kind, an agency id, a country code, dates).
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    verify: Option<String>,
    #[serde(default)]
    after: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The start of day `date` (`YYYY-MM-DD`, UTC), `days` later.
fn day(date: &str, days: u64) -> Option<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(
        date.checked_add_days(chrono::Days::new(days))?
            .and_hms_opt(0, 0, 0)?
            .and_utc(),
    )
}

impl Search {
    /// The API's filter; the dates that could not be read, if any.
    fn filter(&self) -> (Map<String, Value>, bool) {
        let mut f = Map::new();
        if let Some(r) = given(&self.reference) {
            f.insert("caseReference".into(), json!(r.to_ascii_uppercase()));
        }
        if let Some(k) = given(&self.kind).filter(|k| KINDS.contains(k)) {
            f.insert("kind".into(), json!(k));
        }
        if let Some(a) = given(&self.agency) {
            f.insert("agencyId".into(), json!(a));
        }
        if let Some(c) = given(&self.country) {
            f.insert("caseCountry".into(), json!(c.to_ascii_uppercase()));
        }
        let mut unreadable = false;
        for (field, key, days) in [(&self.from, "from", 0), (&self.until, "until", 1)] {
            if let Some(date) = given(field) {
                match day(date, days) {
                    Some(at) => {
                        f.insert(key.into(), json!(at));
                    }
                    None => unreadable = true,
                }
            }
        }
        (f, unreadable)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HomeData {
    audit_verification: Option<Verification>,
    audit_checkpoint: Option<CheckpointView>,
    audit_events: EventPage,
    agencies: Vec<AgencyRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Verification {
    ok: bool,
    first_problem: Option<String>,
    checked_events: i64,
    tree_size: i64,
    root: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckpointView {
    tree_size: i64,
    root_hash: String,
    created_at: DateTime<Utc>,
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventPage {
    nodes: Vec<FoundEvent>,
    page_info: PageInfo,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoundEvent {
    sequence: i64,
    kind: String,
    transition: Option<String>,
    occurred_at: DateTime<Utc>,
    actor: Option<records::Actor>,
    agency: super::home::AgencyName,
    case: Option<CaseRef>,
}

#[derive(Deserialize)]
struct CaseRef {
    id: String,
    reference: String,
}

#[derive(Deserialize)]
struct AgencyRow {
    id: String,
    name: String,
    country: String,
}

/// The log's state as the page shows it.
pub struct LogRow {
    pub ok: Option<bool>,
    pub lines: Vec<(String, String)>,
    pub problem: Option<String>,
}

/// A found event.
pub struct FoundRow {
    pub when: String,
    pub when_iso: String,
    pub href: Option<String>,
    pub reference: String,
    pub sequence: i64,
    pub what: String,
    pub who: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub struct AuditPage {
    pub chrome: Chrome,
    pub checkpoint: Option<LogRow>,
    pub verification: Option<LogRow>,
    pub reference: String,
    pub kinds: Vec<Choice>,
    pub agencies: Vec<(String, String, bool)>,
    pub countries: Vec<(String, bool)>,
    pub from: String,
    pub until: String,
    pub rows: Vec<FoundRow>,
    pub next: Option<String>,
    pub verify_href: String,
    pub error: Option<String>,
}

/// Who recorded an event: the user and the agency, or the service on the agency's behalf.
pub(super) fn who(
    tr: Tr,
    actor: Option<&records::Actor>,
    agency: &super::home::AgencyName,
) -> String {
    let by = actor.map_or_else(|| tr.t("by-system"), |a| a.display_name.clone());
    format!("{by} · {} ({})", agency.name, agency.country)
}

/// `GET /audit`: the latest checkpoint, the log's verification when asked (`verify=1`: it
/// recomputes the whole log), and events found by the filters.
pub async fn home(
    State(console): State<Console>,
    signed: Signed,
    Query(search): Query<Search>,
) -> Response {
    let tr = signed.tr;
    let (filter, unreadable) = search.filter();
    let verify = given(&search.verify).is_some();
    let data: HomeData = match console
        .gql(
            &signed,
            HOME,
            json!({"f": filter, "after": given(&search.after), "verify": verify}),
        )
        .await
    {
        Ok(d) => d,
        Err(e) => return hidden(&signed, &e),
    };
    let checkpoint = data.audit_checkpoint.map(|c| LogRow {
        ok: None,
        lines: vec![
            (tr.t("audit-tree-size"), c.tree_size.to_string()),
            (tr.t("audit-root"), c.root_hash),
            (tr.t("audit-signed-at"), super::home::when(c.created_at)),
            (tr.t("audit-key"), c.key_id),
        ],
        problem: None,
    });
    let verification = data.audit_verification.map(|v| LogRow {
        ok: Some(v.ok),
        lines: vec![
            (tr.t("audit-checked-events"), v.checked_events.to_string()),
            (tr.t("audit-tree-size"), v.tree_size.to_string()),
            (tr.t("audit-root"), v.root),
        ],
        problem: v.first_problem,
    });
    let rows = data
        .audit_events
        .nodes
        .iter()
        .map(|e| FoundRow {
            when: super::home::when(e.occurred_at),
            when_iso: e.occurred_at.to_rfc3339(),
            href: e.case.as_ref().map(|c| format!("/audit/cases/{}", c.id)),
            reference: e
                .case
                .as_ref()
                .map(|c| c.reference.clone())
                .unwrap_or_default(),
            sequence: e.sequence,
            what: match &e.transition {
                Some(t) => format!("{}: {t}", tr.value(&e.kind)),
                None => tr.value(&e.kind),
            },
            who: who(tr, e.actor.as_ref(), &e.agency),
        })
        .collect();
    let link = |extra: (&str, String)| {
        let mut query: Vec<(&str, String)> = [
            ("reference", &search.reference),
            ("kind", &search.kind),
            ("agency", &search.agency),
            ("country", &search.country),
            ("from", &search.from),
            ("until", &search.until),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k, v.to_string())))
        .collect();
        query.push(extra);
        format!(
            "/audit?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    };
    let page_info = &data.audit_events.page_info;
    let next = page_info
        .has_next_page
        .then(|| page_info.end_cursor.clone())
        .flatten()
        .map(|cursor| link(("after", cursor)));
    let mut countries: Vec<String> = data.agencies.iter().map(|a| a.country.clone()).collect();
    countries.sort();
    countries.dedup();
    let country = given(&search.country).map(str::to_ascii_uppercase);
    let agency = given(&search.agency);
    let mut agencies = data.agencies;
    agencies.sort_by(|a, b| (&a.country, &a.name).cmp(&(&b.country, &b.name)));
    ok(&AuditPage {
        chrome: Chrome::new(&signed, tr.t("audit-title"), "audit"),
        checkpoint,
        verification,
        reference: given(&search.reference).unwrap_or_default().to_string(),
        kinds: choices(tr, &KINDS, given(&search.kind)),
        agencies: agencies
            .into_iter()
            .map(|a| {
                let selected = agency == Some(a.id.as_str());
                (a.id, format!("{} – {}", a.country, a.name), selected)
            })
            .collect(),
        countries: countries
            .into_iter()
            .map(|c| {
                let selected = country.as_deref() == Some(c.as_str());
                (c, selected)
            })
            .collect(),
        from: given(&search.from).unwrap_or_default().to_string(),
        until: given(&search.until).unwrap_or_default().to_string(),
        rows,
        next,
        verify_href: link(("verify", "1".into())),
        error: unreadable.then(|| tr.t("audit-bad-date")),
    })
}
