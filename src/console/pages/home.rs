//! The case worker's day: the worklist (overdue first, then due soon, then answers owed and
//! steps that can be taken) and the inbox, kept live over server-sent events.

use super::{Fields, api_error_page, see_other};
use crate::console::Console;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, ok};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Deserialize;
use serde_json::json;
use std::convert::Infallible;

const WORK: &str = "query($lang: String!) {
  worklist(first: 50) { nodes { reason dueAt deadlineTimer
    case { id reference states(language: $lang) { label terminal } deadlines(language: $lang) { timer label } }
    referral { id service fromAgency { name country } }
    transfer { id } } }
  inbox(first: 10, unreadOnly: true) { nodes { id kind createdAt case { id reference } fromAgency { name country } } }
}";

const INBOX: &str = "query($unread: Boolean!) {
  inbox(first: 100, unreadOnly: $unread) { nodes { id kind createdAt readAt case { id reference } fromAgency { name country } } }
}";

const MARK_READ: &str = "mutation($id: ID!) { markNotificationRead(input: {notificationId: $id}) { notification { id } } }";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkData {
    worklist: Nodes<WorkItem>,
    inbox: Nodes<Notice>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkItem {
    reason: String,
    due_at: Option<DateTime<Utc>>,
    deadline_timer: Option<String>,
    case: WorkCase,
    referral: Option<WorkReferral>,
    transfer: Option<TransferId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkCase {
    id: String,
    reference: String,
    states: Vec<StateLabel>,
    deadlines: Vec<TimerLabel>,
}

/// A track's current state, as lists show it.
#[derive(Deserialize)]
pub struct StateLabel {
    pub label: String,
    pub terminal: bool,
}

/// Where a case stands: the labels of its tracks not yet ended.
pub fn current_states(states: &[StateLabel]) -> String {
    states
        .iter()
        .filter(|s| !s.terminal)
        .map(|s| s.label.as_str())
        .collect::<Vec<_>>()
        .join(" · ")
}

#[derive(Deserialize)]
struct TimerLabel {
    timer: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkReferral {
    id: String,
    service: String,
    from_agency: AgencyName,
}

#[derive(Deserialize)]
pub struct AgencyName {
    pub name: String,
    pub country: String,
}

#[derive(Deserialize)]
struct TransferId {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notice {
    id: String,
    kind: String,
    created_at: DateTime<Utc>,
    #[serde(default)]
    read_at: Option<DateTime<Utc>>,
    case: Option<CaseRef>,
    from_agency: Option<AgencyName>,
}

#[derive(Deserialize)]
struct CaseRef {
    id: String,
    reference: String,
}

/// A worklist row as the page shows it.
pub struct WorkRow {
    pub urgency: &'static str,
    pub reason: String,
    pub reference: String,
    pub href: String,
    pub what: String,
    pub due: Option<String>,
    pub due_iso: Option<String>,
}

/// An inbox entry as the page shows it.
pub struct NoticeRow {
    pub id: String,
    pub kind: String,
    pub when: String,
    pub when_iso: String,
    pub reference: Option<String>,
    pub href: Option<String>,
    pub from: Option<String>,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "console/work.html")]
pub struct WorkPage {
    pub chrome: Chrome,
    pub rows: Vec<WorkRow>,
    pub notices: Vec<NoticeRow>,
}

#[derive(Template)]
#[template(path = "console/inbox.html")]
pub struct InboxPage {
    pub chrome: Chrome,
    pub notices: Vec<NoticeRow>,
    pub unread_only: bool,
}

/// "in 3 days", "2 days overdue", "today": a deadline relative to `now`.
pub fn relative(tr: Tr, due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let hours = (due - now).num_hours();
    if hours < 0 {
        let days = (-hours + 23) / 24;
        tr.tn("due-overdue", "days", days)
    } else if hours < 24 {
        tr.tn("due-hours", "hours", hours)
    } else {
        tr.tn("due-in", "days", hours / 24)
    }
}

/// A date and time as the pages show it (UTC; the browser's script shows it in local time).
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn notice_rows(tr: Tr, notices: Vec<Notice>) -> Vec<NoticeRow> {
    notices
        .into_iter()
        .map(|n| NoticeRow {
            kind: tr.value(&n.kind),
            when: when(n.created_at),
            when_iso: n.created_at.to_rfc3339(),
            reference: n.case.as_ref().map(|c| c.reference.clone()),
            href: n.case.as_ref().map(|c| format!("/cases/{}", c.id)),
            from: n.from_agency.map(|a| format!("{} ({})", a.name, a.country)),
            unread: n.read_at.is_none(),
            id: n.id,
        })
        .collect()
}

/// `GET /`: the worklist and the unread inbox.
pub async fn work(State(console): State<Console>, signed: Signed) -> Response {
    let tr = signed.tr;
    let data: WorkData = match console.gql(&signed, WORK, json!({"lang": tr.code()})).await {
        Ok(d) => d,
        Err(e) => return api_error_page(&signed, &e),
    };
    let now = console.app.now();
    let rows = data
        .worklist
        .nodes
        .into_iter()
        .map(|item| {
            let urgency = match item.reason.as_str() {
                "OVERDUE" => "overdue",
                "DUE_SOON" => "due-soon",
                _ => "normal",
            };
            let deadline = item.deadline_timer.as_ref().and_then(|t| {
                item.case
                    .deadlines
                    .iter()
                    .find(|d| &d.timer == t)
                    .map(|d| d.label.clone())
            });
            let (what, href) = match (&item.referral, &item.transfer) {
                (Some(r), _) => (
                    format!(
                        "{} · {} ({})",
                        tr.value(&r.service),
                        r.from_agency.name,
                        r.from_agency.country
                    ),
                    format!("/referrals/{}", r.id),
                ),
                (None, Some(t)) => (tr.t("work-transfer"), format!("/transfers/{}", t.id)),
                (None, None) => (
                    deadline.unwrap_or_else(|| current_states(&item.case.states)),
                    format!("/cases/{}", item.case.id),
                ),
            };
            WorkRow {
                urgency,
                reason: tr.value(&item.reason),
                reference: item.case.reference,
                href,
                what,
                due: item.due_at.map(|d| relative(tr, d, now)),
                due_iso: item.due_at.map(|d| d.to_rfc3339()),
            }
        })
        .collect();
    ok(&WorkPage {
        chrome: Chrome::new(&signed, tr.t("work-title"), "work"),
        rows,
        notices: notice_rows(tr, data.inbox.nodes),
    })
}

#[derive(Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    all: Option<String>,
}

/// `GET /inbox`: the agency's notifications (unread, or all with `?all=1`).
pub async fn inbox(
    State(console): State<Console>,
    signed: Signed,
    axum::extract::Query(q): axum::extract::Query<InboxQuery>,
) -> Response {
    #[derive(Deserialize)]
    struct Data {
        inbox: Nodes<Notice>,
    }
    let unread_only = q.all.is_none();
    let data: Data = match console
        .gql(&signed, INBOX, json!({"unread": unread_only}))
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(&signed, &e),
    };
    let tr = signed.tr;
    ok(&InboxPage {
        chrome: Chrome::new(&signed, tr.t("inbox-title"), "inbox"),
        notices: notice_rows(tr, data.inbox.nodes),
        unread_only,
    })
}

/// `POST /inbox/read`: marks a notification read.
pub async fn mark_read(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let Some(id) = form.get("notification") else {
        return see_other("/inbox");
    };
    let answer: Result<serde_json::Value, _> =
        console.gql(&signed, MARK_READ, json!({"id": id})).await;
    match answer {
        Ok(_) => see_other("/inbox"),
        Err(e) => api_error_page(&signed, &e),
    }
}

/// `GET /events`: server-sent events telling the page that the agency's inbox changed (the
/// `inbox` subscription, run as the user; an event carries only its name, repeated as its data
/// because a browser drops an event without data; the page reloads its part). The stream ends
/// when the server begins to shut down (a graceful shutdown waits for every response to end).
pub async fn events(State(console): State<Console>, signed: Signed) -> impl IntoResponse {
    let closed = console.closed();
    let stream = console
        .graphql
        .stream(&signed.principal, "subscription { inbox { id } }")
        .map(|response| {
            let name = if response.errors.is_empty() {
                "changed"
            } else {
                // Lagged or refused: the page reloads its part, the browser reconnects.
                "resync"
            };
            Ok::<_, Infallible>(Event::default().event(name).data(name))
        })
        .take_until(closed);
    Sse::new(stream).keep_alive(KeepAlive::default())
}
