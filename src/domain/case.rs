//! A case: one person's path through a referral workflow, led by one agency at a time.

use crate::vocabulary::{CaseStatus, Stage};
use crate::workflow::CaseState;
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
