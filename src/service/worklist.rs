//! What an agency must act on: its worklist, most urgent first.

use super::cases::{available_transitions, workflow_of};
use super::timers::{DeadlineStatus, deadlines};
use super::{App, ServiceError};
use crate::access::{CaseScope, Principal};
use crate::domain::CaseStatus;
use crate::store::cases::{self as case_store, CaseFilter, CaseRecord};

/// Why a case is on an agency's worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum WorkReason {
    /// A deadline has passed.
    Overdue,
    /// A deadline is in its warning window.
    DueSoon,
    /// The agency can move the case forward.
    ActionAvailable,
}

/// One entry of a worklist.
#[derive(Debug, Clone)]
pub struct WorkItem {
    pub case: CaseRecord,
    pub reason: WorkReason,
    /// The most urgent open deadline, if any.
    pub deadline: Option<super::timers::Deadline>,
}

/// Most active cases a worklist considers (an agency's open caseload).
pub const WORKLIST_SCAN: u64 = 5000;

/// What the caller's agency must act on, most urgent first: overdue deadlines, then deadlines
/// due soon (earliest first), then cases the caller can move forward (least recently touched first).
pub async fn worklist(app: &App, p: &Principal) -> Result<Vec<WorkItem>, ServiceError> {
    let filter = CaseFilter {
        status: Some(CaseStatus::Active),
        ..CaseFilter::default()
    };
    let scope = CaseScope::LeadAgency(p.agency_id);
    let cases = case_store::list(app.store.conn(), scope, &filter, None, WORKLIST_SCAN).await?;
    let now = app.now();
    let mut items = Vec::new();
    for case in cases {
        // The most urgent deadline still open (met, missed or paused ones are not work to do).
        let deadline = deadlines(app, &case, now).into_iter().find(|d| {
            matches!(
                d.status,
                DeadlineStatus::Overdue | DeadlineStatus::DueSoon | DeadlineStatus::Pending
            )
        });
        let reason = match deadline.as_ref().map(|d| d.status) {
            Some(DeadlineStatus::Overdue) => WorkReason::Overdue,
            Some(DeadlineStatus::DueSoon) => WorkReason::DueSoon,
            _ => {
                let workflow = workflow_of(app, &case)?;
                if !available_transitions(app, p, &workflow, &case)
                    .iter()
                    .any(|a| a.allowed)
                {
                    continue;
                }
                WorkReason::ActionAvailable
            }
        };
        items.push(WorkItem {
            case,
            reason,
            deadline,
        });
    }
    items.sort_by_key(|i| {
        let due = i
            .deadline
            .as_ref()
            .filter(|_| i.reason != WorkReason::ActionAvailable)
            .map(|d| d.due_at);
        (i.reason as u8, due, i.case.updated_at)
    });
    Ok(items)
}
