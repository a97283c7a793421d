//! The records of a case an auditor reads (its events, disclosures, access log and emergency
//! accesses) as the API answers them, and as the rows of the audit case page's tables.

use crate::console::i18n::Tr;
use crate::console::pages::home::{AgencyName, when};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Event {
    sequence: i64,
    kind: String,
    occurred_at: DateTime<Utc>,
    track: Option<String>,
    transition: Option<String>,
    from_state: Option<String>,
    to_state: Option<String>,
    timer: Option<String>,
    reason: Option<String>,
    workflow_key: String,
    workflow_version: i64,
    details: Option<Value>,
    actor: Option<Actor>,
    agency: AgencyName,
}

/// The user who recorded an event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub display_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Disclosure {
    kind: String,
    at: DateTime<Utc>,
    status: String,
    reason: Option<String>,
    shared_groups: Vec<String>,
    override_basis: Option<String>,
    override_justification: Option<String>,
    from_agency: Option<AgencyName>,
    to_agency: Option<AgencyName>,
    consent: Option<Consent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consent {
    given_by: String,
    given_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Access {
    kind: String,
    read_at: DateTime<Utc>,
    purpose: Option<String>,
    purpose_category: Option<String>,
    recipient: Option<String>,
    groups: Vec<String>,
    reader: Option<Actor>,
    agency: Option<AgencyName>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BreakGlass {
    opened_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    justification: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
    justified: Option<bool>,
    review_note: Option<String>,
    agency: AgencyName,
}

/// An event of the timeline.
pub struct EventRow {
    pub sequence: i64,
    pub when: String,
    pub when_iso: String,
    pub what: String,
    pub who: String,
    pub workflow: String,
    pub reason: Option<String>,
    pub details: Option<String>,
}

/// One row of a table: its cells in order.
pub struct Row(pub Vec<String>);

pub(super) fn agency(a: &AgencyName) -> String {
    format!("{} ({})", a.name, a.country)
}

fn values(tr: Tr, list: &[String]) -> String {
    list.iter()
        .map(|v| tr.value(v))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn event_row(tr: Tr, e: &Event) -> EventRow {
    let mut what = tr.value(&e.kind);
    if let Some(t) = &e.transition {
        what.push_str(&format!(": {t}"));
        if let (Some(track), Some(from), Some(to)) = (&e.track, &e.from_state, &e.to_state) {
            what.push_str(&format!(" ({track}: {from} → {to})"));
        }
    }
    if let Some(timer) = &e.timer {
        what.push_str(&format!(": {timer}"));
    }
    EventRow {
        sequence: e.sequence,
        when: when(e.occurred_at),
        when_iso: e.occurred_at.to_rfc3339(),
        what,
        who: super::who(tr, e.actor.as_ref(), &e.agency),
        workflow: format!("{} v{}", e.workflow_key, e.workflow_version),
        reason: e.reason.clone(),
        details: e
            .details
            .as_ref()
            .filter(|d| !d.is_null())
            .map(Value::to_string),
    }
}

pub(super) fn disclosure_row(tr: Tr, d: &Disclosure) -> Row {
    let ground = match (&d.consent, &d.override_basis) {
        (Some(c), _) => tr.t1(
            "audit-ground-consent",
            "by",
            &format!("{} · {}", tr.value(&c.given_by), when(c.given_at)),
        ),
        (None, Some(basis)) => format!(
            "{}: {}",
            tr.value(basis),
            d.override_justification.clone().unwrap_or_default()
        ),
        (None, None) => String::new(),
    };
    Row(vec![
        when(d.at),
        tr.value(&d.kind),
        d.from_agency.as_ref().map(agency).unwrap_or_default(),
        d.to_agency.as_ref().map(agency).unwrap_or_default(),
        values(tr, &d.shared_groups),
        ground,
        d.reason.clone().unwrap_or_default(),
        tr.value(&d.status),
    ])
}

pub(super) fn access_row(tr: Tr, a: &Access) -> Row {
    Row(vec![
        when(a.read_at),
        tr.value(&a.kind),
        a.reader
            .as_ref()
            .map_or_else(|| tr.t("by-system"), |r| r.display_name.clone()),
        a.agency.as_ref().map(agency).unwrap_or_default(),
        values(tr, &a.groups),
        [
            a.purpose_category.as_deref().map(|c| tr.value(c)),
            a.purpose.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": "),
        a.recipient.clone().unwrap_or_default(),
    ])
}

pub(super) fn break_glass_row(tr: Tr, b: &BreakGlass) -> Row {
    let review = match (b.reviewed_at, b.justified) {
        (Some(at), Some(justified)) => format!(
            "{} · {}{}",
            when(at),
            tr.t(if justified {
                "audit-justified"
            } else {
                "audit-not-justified"
            }),
            b.review_note
                .as_deref()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default()
        ),
        _ => tr.t("audit-not-reviewed"),
    };
    Row(vec![
        when(b.opened_at),
        when(b.expires_at),
        agency(&b.agency),
        b.justification.clone().unwrap_or_default(),
        review,
    ])
}
