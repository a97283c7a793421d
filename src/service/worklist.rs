//! What an agency must act on: its worklist, most urgent first.

use super::timers::{DeadlineStatus, deadlines};
use super::transitions::available_transitions_memo;
use super::{App, ServiceError};
use crate::access::{CaseScope, Principal, VisibleCase};
use crate::domain::CaseFilter;
use crate::domain::CaseRecord;
use crate::domain::CaseStatus;
use crate::domain::DeadlineFilter;
use crate::domain::ReferralRecord;
use crate::domain::ReferralStatus;
use crate::domain::TransferRecord;
use crate::store::cases::{self as case_store};
use crate::store::disclosures;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Why a case is on an agency's worklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum WorkReason {
    /// A deadline has passed.
    Overdue,
    /// A deadline is in its warning window.
    DueSoon,
    /// A referral to the agency awaits its answer.
    ReferralToAnswer,
    /// A transfer of lead awaits the agency's decision (an offer to it, or a request for a case
    /// it leads).
    TransferToDecide,
    /// Someone opened one of the agency's cases by break-glass: its supervisors review it.
    BreakGlassReview,
    /// The agency can move the case forward.
    ActionAvailable,
}

/// One entry of a worklist.
#[derive(Debug, Clone)]
pub struct WorkItem<C = VisibleCase> {
    /// The case, as the caller may see it.
    pub case: C,
    pub reason: WorkReason,
    /// The most urgent open deadline, if any.
    pub deadline: Option<super::timers::Deadline>,
    /// The referral to answer (for `ReferralToAnswer`).
    pub referral: Option<ReferralRecord>,
    /// The transfer to decide (for `TransferToDecide`).
    pub transfer: Option<TransferRecord>,
    /// The break-glass access to review (for `BreakGlassReview`).
    pub break_glass: Option<crate::domain::BreakGlass>,
}

impl<C> WorkItem<C> {
    /// When the agency's answer or step is due, if there is a date.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        match (&self.referral, &self.transfer, &self.break_glass) {
            (Some(r), _, _) => Some(r.response_due_at),
            (_, Some(t), _) => Some(t.response_due_at),
            (_, _, Some(b)) => Some(b.review_due_at),
            _ => self.deadline.as_ref().map(|d| d.due_at),
        }
    }
}

/// Most active cases a worklist considers (an agency's open caseload).
pub const WORKLIST_SCAN: u64 = 5000;

/// What the caller's agency must act on, most urgent first: overdue deadlines and overdue
/// answers, then deadlines due soon, then referrals and transfers awaiting an answer (earliest
/// due first), then cases the caller can move forward (least recently touched first).
///
/// Returns at least `wanted` items when there are that many (more when the urgent ones alone are
/// more): the urgent part comes from indexed queries (open deadlines by due date, answers
/// awaited), and the "can move forward" part, which needs each case's transitions judged, is
/// read a page at a time in its order until `wanted` is reached, so the cost follows the page
/// asked for, not the agency's caseload.
async fn worklist(
    app: &App,
    p: &Principal,
    wanted: usize,
) -> Result<Vec<WorkItem<CaseRecord>>, ServiceError> {
    let scope = CaseScope::LeadAgency(p.agency_id);
    let now = app.now();
    let mut items = Vec::new();
    let mut urgent: HashSet<Uuid> = HashSet::new();
    for which in [DeadlineFilter::Overdue, DeadlineFilter::DueSoon] {
        let filter = CaseFilter {
            status: Some(CaseStatus::Active),
            deadline: Some((which, now)),
            ..CaseFilter::default()
        };
        for case in case_store::list(app.store.conn(), scope, &filter, None, WORKLIST_SCAN).await? {
            if !urgent.insert(case.id) {
                continue;
            }
            // The most urgent open deadline decides.
            let deadline = open_deadline(app, &case, now);
            let reason = match deadline.as_ref().map(|d| d.status) {
                Some(DeadlineStatus::Overdue) => WorkReason::Overdue,
                _ => WorkReason::DueSoon,
            };
            items.push(WorkItem {
                case,
                reason,
                deadline,
                referral: None,
                transfer: None,
                break_glass: None,
            });
        }
    }
    let conn = app.store.conn();
    let visible = p.case_scope(now);
    for r in disclosures::referrals_to(
        conn,
        p.agency_id,
        &[ReferralStatus::Pending],
        None,
        WORKLIST_SCAN,
    )
    .await?
    {
        if let Some(case) = case_store::find(conn, visible, r.case_id).await? {
            items.push(WorkItem {
                case,
                reason: WorkReason::ReferralToAnswer,
                deadline: None,
                referral: Some(r),
                transfer: None,
                break_glass: None,
            });
        }
    }
    for t in disclosures::transfers_awaiting(conn, p.agency_id, None, WORKLIST_SCAN).await? {
        if let Some(case) = case_store::find(conn, visible, t.case_id).await? {
            items.push(WorkItem {
                case,
                reason: WorkReason::TransferToDecide,
                deadline: None,
                referral: None,
                transfer: Some(t),
                break_glass: None,
            });
        }
    }
    let reviews = app.decide(
        p,
        crate::access::policy::Action::ReviewBreakGlass,
        crate::access::policy::Facts {
            is_lead: true,
            has_access: true,
            is_involved: false,
            ..crate::access::policy::Facts::default()
        },
    );
    if reviews.allowed {
        for b in crate::store::break_glass::unreviewed_for_lead(conn, p.agency_id).await? {
            if let Some(case) = case_store::find(conn, visible, b.case_id).await? {
                items.push(WorkItem {
                    case,
                    reason: WorkReason::BreakGlassReview,
                    deadline: None,
                    referral: None,
                    transfer: None,
                    break_glass: Some(b),
                });
            }
        }
    }
    items.sort_by_key(|i| {
        let due = i
            .due_at()
            .filter(|_| i.reason != WorkReason::ActionAvailable);
        let rank = match i.reason {
            WorkReason::Overdue => 0,
            WorkReason::ReferralToAnswer
            | WorkReason::TransferToDecide
            | WorkReason::BreakGlassReview
                if due.is_some_and(|d| d <= now) =>
            {
                0
            }
            WorkReason::DueSoon => 1,
            WorkReason::ReferralToAnswer
            | WorkReason::TransferToDecide
            | WorkReason::BreakGlassReview => 2,
            WorkReason::ActionAvailable => 3,
        };
        (rank, due, i.case.updated_at)
    });

    // Then the cases the caller can move forward, a page at a time until enough.
    let mut after = None;
    let mut decisions = HashMap::new();
    'pages: while items.len() < wanted {
        let page_size = u64::try_from(wanted - items.len())
            .unwrap_or(u64::MAX)
            .clamp(20, 200);
        let page = case_store::active_led_by(conn, p.agency_id, after, page_size).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.updated_at, last.id));
        for case in page {
            if items.len() >= wanted {
                break 'pages;
            }
            if urgent.contains(&case.id) {
                continue;
            }
            let workflow = app.workflow_of(&case)?;
            if !available_transitions_memo(app, p, &workflow, &case, false, &mut decisions)
                .iter()
                .any(|a| a.allowed)
            {
                continue;
            }
            items.push(WorkItem {
                deadline: open_deadline(app, &case, now),
                case,
                reason: WorkReason::ActionAvailable,
                referral: None,
                transfer: None,
                break_glass: None,
            });
        }
    }
    Ok(items)
}

/// A page of the caller's worklist: the items at positions `offset..offset + limit`, each with
/// its case as the caller may see it, and whether more follow.
pub async fn page(
    app: &App,
    p: &Principal,
    offset: usize,
    limit: usize,
) -> Result<(Vec<WorkItem>, bool), ServiceError> {
    let items = worklist(app, p, offset.saturating_add(limit).saturating_add(1)).await?;
    let more = items.len() > offset.saturating_add(limit);
    let items: Vec<WorkItem<CaseRecord>> = items.into_iter().skip(offset).take(limit).collect();
    let cases = items.iter().map(|i| i.case.clone()).collect();
    let visible: HashMap<Uuid, VisibleCase> = super::visibility::visible_page(app, p, cases)
        .await?
        .into_iter()
        .map(|c| (c.record().id, c))
        .collect();
    let page = items
        .into_iter()
        .filter_map(|i| {
            let case = visible.get(&i.case.id).cloned()?;
            // Their free texts as the caller's view of the case allows.
            let view = case.view();
            Some(WorkItem {
                reason: i.reason,
                deadline: i.deadline,
                referral: i.referral.map(|r| view.texts(r)),
                transfer: i.transfer.map(|t| view.texts(t)),
                break_glass: i.break_glass.map(|b| view.texts(b)),
                case,
            })
        })
        .collect();
    Ok((page, more))
}

/// The most urgent deadline of a case still open (met, missed or paused ones are not work).
fn open_deadline(
    app: &App,
    case: &CaseRecord,
    now: DateTime<Utc>,
) -> Option<super::timers::Deadline> {
    deadlines(app, case, now).into_iter().find(|d| {
        matches!(
            d.status,
            DeadlineStatus::Overdue | DeadlineStatus::DueSoon | DeadlineStatus::Pending
        )
    })
}
