//! The focal point's page: the escalations and alerts that reached its agency (overdue answers,
//! lapsed deadlines, children missing, found or not received) with the cases they opened to it,
//! its worklist, and the board of the children on the move its country is concerned with, so
//! that every identified child is accounted for across the network. Who is on the board and
//! what is shown of each case is the API's decision (`childrenOnTheMove`); this page only lays
//! it out, flagging news overdue after `--no-news-days` days.

use super::audit::hidden;
use super::home::{
    AgencyName, Notice, NoticeRow, StateLabel, current_states, notice_rows, relative, when,
};
use crate::console::Console;
use crate::console::render::{Chrome, ok};
use crate::console::session::Signed;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<Console> {
    Router::new().route("/focal-point", get(show))
}

const FOCAL: &str = "query($days: Int!, $lang: String!, $kinds: [NotificationKind!]) {
  childrenOnTheMove(noNewsDays: $days) { reference standing noNews lastNewsAt
    leadAgency { name country } case { id states(language: $lang) { label terminal } } }
  inbox(first: 50, kinds: $kinds) { nodes { id kind createdAt readAt case { id reference }
    fromAgency { name country } } }
  worklist(first: 50) { nodes { reason dueAt case { id reference } } }
}";

/// The inbox entries a focal point acts on: escalations and the missing-child protocol.
const ESCALATIONS_AND_ALERTS: [&str; 5] = [
    "RESPONSE_OVERDUE",
    "DEADLINE_LAPSED",
    "PERSON_MISSING",
    "PERSON_NOT_RECEIVED",
    "PERSON_FOUND",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    children_on_the_move: Vec<Child>,
    inbox: Nodes<Notice>,
    worklist: Nodes<Work>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Child {
    reference: String,
    standing: String,
    no_news: bool,
    last_news_at: Option<DateTime<Utc>>,
    lead_agency: AgencyName,
    case: Option<ChildCase>,
}

#[derive(Deserialize)]
struct ChildCase {
    id: String,
    states: Vec<StateLabel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Work {
    reason: String,
    due_at: Option<DateTime<Utc>>,
    case: CaseRef,
}

#[derive(Deserialize)]
struct CaseRef {
    id: String,
    reference: String,
}

/// A child on the board.
pub struct ChildRow {
    pub reference: String,
    /// The case page, where the agency may see the case.
    pub href: Option<String>,
    pub lead: String,
    pub standing: String,
    pub class: &'static str,
    pub no_news: bool,
    pub last_news: Option<(String, String)>,
    pub states: String,
}

/// A case on the worklist.
pub struct WorkRow {
    pub href: String,
    pub reference: String,
    pub reason: String,
    pub due: Option<String>,
}

#[derive(Template)]
#[template(path = "console/focal.html")]
pub struct FocalPage {
    pub chrome: Chrome,
    /// How the board flags news overdue.
    pub board_help: String,
    pub no_news: String,
    pub children: Vec<ChildRow>,
    pub notices: Vec<NoticeRow>,
    pub work: Vec<WorkRow>,
}

/// `GET /focal-point`.
pub async fn show(State(console): State<Console>, signed: Signed) -> Response {
    let tr = signed.tr;
    let days = console.options.no_news_days;
    let variables = json!({"days": days, "lang": tr.code(), "kinds": ESCALATIONS_AND_ALERTS});
    let data: Data = match console.gql(&signed, FOCAL, variables).await {
        Ok(d) => d,
        Err(e) => return hidden(&signed, &e),
    };
    let now = console.app.now();
    let children = data
        .children_on_the_move
        .into_iter()
        .map(|c| ChildRow {
            href: c.case.as_ref().map(|k| format!("/cases/{}", k.id)),
            states: c
                .case
                .as_ref()
                .map(|k| current_states(&k.states))
                .unwrap_or_default(),
            class: match c.standing.as_str() {
                "MISSING" | "NOT_RECEIVED" => "overdue",
                "IN_TRANSIT" | "AWAITING_RECEPTION" => "due-soon",
                _ => "",
            },
            standing: tr.value(&c.standing),
            lead: format!("{} ({})", c.lead_agency.name, c.lead_agency.country),
            no_news: c.no_news,
            last_news: c.last_news_at.map(|at| (when(at), at.to_rfc3339())),
            reference: c.reference,
        })
        .collect();
    let work = data
        .worklist
        .nodes
        .into_iter()
        .map(|w| WorkRow {
            href: format!("/cases/{}", w.case.id),
            reference: w.case.reference,
            reason: tr.value(&w.reason),
            due: w.due_at.map(|d| relative(tr, d, now)),
        })
        .collect();
    ok(&FocalPage {
        chrome: Chrome::new(&signed, tr.t("focal-title"), "focal"),
        board_help: tr.tn("focal-board-help", "days", i64::from(days)),
        no_news: tr.tn("focal-no-news", "days", i64::from(days)),
        children,
        notices: notice_rows(tr, data.inbox.nodes),
        work,
    })
}
