//! A case: one person's path through a referral workflow, led by one agency at a time.

use super::event::{ChainPosition, Event, EventDraft, EventKind, GENESIS_HASH};
use crate::vocabulary::{CaseStatus, Stage};
use crate::workflow::engine::{self, Changes, TrackChange};
use crate::workflow::{CaseState, Workflow};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use uuid::Uuid;

/// A case with its current state.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: Uuid,
    /// Human reference, e.g. `IT-2026-000123`.
    pub reference: String,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub country: String,
    pub lead_agency_id: Uuid,
    pub status: CaseStatus,
    /// The number of events so far; the optimistic-concurrency token.
    pub version: i64,
    pub opened_by: Uuid,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state: CaseState,
    /// When each track entered its current state.
    pub entered_at: BTreeMap<String, DateTime<Utc>>,
    /// The earlier case this one continues, if any.
    pub follows_case_id: Option<Uuid>,
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    pub origin_country: Option<String>,
    /// The agency that opened the case (its first lead).
    pub opened_by_agency_id: Uuid,
    /// The hash of the case's latest event: the previous hash of the next one.
    pub last_hash: String,
}

/// Filters for case lists. All given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// Some track is in a state of this SOP stage.
    pub stage: Option<Stage>,
    /// Some track is in this state.
    pub state: Option<String>,
    pub workflow_id: Option<String>,
    /// Some open deadline is overdue / due soon at the given moment.
    pub deadline: Option<(DeadlineFilter, DateTime<Utc>)>,
}

/// Which open deadlines to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DeadlineFilter {
    /// Past its due date.
    Overdue,
    /// In its warning window, not yet due.
    DueSoon,
}

/// Who opens a case, where and when (see [`opening`]).
pub struct Opening {
    pub reference: String,
    pub country: String,
    /// (user, agency): the agency becomes the lead.
    pub by: (Uuid, Uuid),
    pub at: DateTime<Utc>,
    pub follows_case_id: Option<Uuid>,
    pub origin_country: Option<String>,
}

/// A new case at its workflow's initial state and its opening event (hashed, `seq` 1): what
/// `openCase` writes, and what bulk seeders must write so that the audit trail verifies.
pub fn opening(workflow: &Workflow, o: Opening) -> (CaseRecord, Event) {
    let state = engine::initial_state(workflow);
    let (user, agency) = o.by;
    let mut record = CaseRecord {
        id: Uuid::now_v7(),
        reference: o.reference,
        workflow_id: workflow.id.clone(),
        workflow_version: workflow.version,
        country: o.country,
        lead_agency_id: agency,
        status: engine::status(workflow, &state),
        version: 1,
        opened_by: user,
        opened_at: o.at,
        updated_at: o.at,
        entered_at: state.tracks.keys().map(|t| (t.clone(), o.at)).collect(),
        state,
        follows_case_id: o.follows_case_id,
        origin_country: o.origin_country,
        opened_by_agency_id: agency,
        last_hash: GENESIS_HASH.to_string(),
    };
    let mut draft = EventDraft::new(EventKind::CaseOpened, o.by);
    draft.changes = Changes {
        tracks: record
            .state
            .tracks
            .iter()
            .map(|(track, to)| TrackChange {
                track: track.clone(),
                from: None,
                to: to.clone(),
            })
            .collect(),
        follows_case: o.follows_case_id,
        ..Changes::default()
    };
    // The log alone must rebuild the case (auditors' "as of" view): the origin country too.
    draft.details = record
        .origin_country
        .as_ref()
        .map(|country| serde_json::json!({ "originCountry": country }));
    let event = draft.seal(ChainPosition {
        case_id: record.id,
        seq: 1,
        workflow_id: &record.workflow_id,
        workflow_version: record.workflow_version,
        occurred_at: o.at,
        prev_hash: GENESIS_HASH,
    });
    record.last_hash = event.hash.clone();
    (record, event)
}
