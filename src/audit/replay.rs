//! Rebuilding a case from its events alone: the auditors' "as of" view, and the verifier's
//! check that the stored case is what its events say. Pure: no I/O.

use crate::domain::CaseRecord;
use crate::domain::Event;
use crate::domain::EventKind;
use crate::workflow::{Registry, engine};
use serde_json::Value;
use uuid::Uuid;

/// The case as it stood at a moment, rebuilt from its events alone.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub record: CaseRecord,
    /// The last event it reflects.
    pub last_event: Event,
}

/// Rebuilds a case from its first events (`events`, in `seq` order) and what never changes
/// about it (`case`: id, reference, country, opening): the tracks, facts and timers by
/// replaying each event's changes; the workflow and its version, lead agency and origin
/// country from the events that set them. `None` when there are no events (the case did not
/// exist yet).
pub fn replay(workflows: &Registry, case: &CaseRecord, events: &[Event]) -> Option<Snapshot> {
    let first = events.first()?;
    let last = events.last()?;
    let opened_under = workflows.get(&first.workflow_id, Some(first.workflow_version))?;
    let mut state = engine::initial_state(&opened_under);
    let mut record = case.clone();
    record.lead_agency_id = case.opened_by_agency_id;
    record.origin_country = None;
    record.entered_at.clear();
    // The workflow the case is under after each event: the event's own, or the one a step
    // continued it under.
    let mut under = (first.workflow_id.as_str(), first.workflow_version);
    for e in events {
        engine::apply(&mut state, &e.changes);
        under = match &e.changes.continues_under {
            Some(w) => (w.id.as_str(), w.version),
            None => (e.workflow_id.as_str(), e.workflow_version),
        };
        for change in &e.changes.tracks {
            record
                .entered_at
                .insert(change.track.clone(), e.occurred_at);
        }
        let detail = |key: &str| {
            e.details
                .as_ref()
                .and_then(|d| d.get(key))
                .and_then(Value::as_str)
        };
        match e.kind {
            EventKind::CaseOpened => {
                record.origin_country = detail("originCountry").map(str::to_string);
            }
            EventKind::OriginCountrySet => {
                record.origin_country = detail("country").map(str::to_string);
            }
            EventKind::TransferAccepted => {
                if let Some(to) = detail("toAgency").and_then(|a| Uuid::parse_str(a).ok()) {
                    record.lead_agency_id = to;
                }
            }
            _ => {}
        }
    }
    let workflow = workflows.get(under.0, Some(under.1))?;
    record.workflow_id = workflow.id.clone();
    record.workflow_version = workflow.version;
    record.status = engine::status(&workflow, &state);
    record.state = state;
    record.version = last.seq;
    record.updated_at = last.occurred_at;
    Some(Snapshot {
        record,
        last_event: last.clone(),
    })
}
