//! The focal point's board of the children on the move its country is concerned with, so that
//! every identified child is accounted for across the network \[WAN\]: where each stands (in
//! care, awaiting reception, in transit, not received, missing, received), and which have had
//! no news for too long.
//!
//! **Which children.** The cases of a child (the workflow says who is a child, see
//! [`crate::workflow::PersonStatus`]; a child procedure written before it said so counts all
//! its cases) that the country is concerned with: the countries the missing-child protocol
//! alerts ([`super::alerts::alerted_countries`]: the case's country, the child's country of
//! origin and every country on the recorded route) and the country of the agency leading the
//! case now (after a transfer of lead). Active cases, and closed ones whose child is still
//! missing. A deceased child is no longer on the move.
//!
//! **What the board shows.** For a case the caller's agency may see (its own, or shared with
//! it by a referral, a transfer, an alert or an escalation), the case itself, as it may see it,
//! and when the last news was recorded. For the others, only what accounting for the child
//! needs and nothing that describes the child: the case's reference (to ask its lead about
//! it), the lead agency (whom to ask), where the child stands, and whether there has been no
//! news for too long. Not the time of the last news, the route, the states or any personal
//! data: a date would let a reader match the case with what it knows of a crossing or an
//! arrival, and so identify the child. The authorities of an asylum-seeking child's country of
//! origin are told nothing at all, not even that the case exists (as for alerts).
//!
//! Only the focal point agency of the caller's country keeps the board (`account_for_children`,
//! users with the FOCAL_POINT role of that agency).

use super::alerts::alerted_countries;
use super::{App, ServiceError, visibility};
use crate::access::policy::{Action, Facts};
use crate::access::protections::may_be_origin_authority;
use crate::access::{Principal, VisibleCase};
use crate::domain::event::NEWS;
use crate::domain::{CaseRecord, CaseStatus};
use crate::store::cases::{Concerned, concerning_country};
use crate::store::{directory, events, person};
use crate::workflow::definition::Alert;
use crate::workflow::{ChildStanding, PersonStatus, Workflow};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// The child procedure: its versions written before workflows said who is a child are read as
/// concerning children only.
pub const CHILD_PROCEDURE: &str = "trm-child";

/// The most cases a board holds (newest first); beyond, the service logs that it is full.
pub const MAX_BOARD: u64 = 2_000;

/// A child on the board.
#[derive(Debug, Clone)]
pub struct ChildOnTheMove {
    pub reference: String,
    pub lead_agency_id: Uuid,
    pub standing: ChildStanding,
    /// No news for at least the days asked for.
    pub no_news: bool,
    /// The case and its last news, when the caller may see the case.
    pub seen: Option<SeenChild>,
}

/// What the caller may see of a case on its board.
#[derive(Debug, Clone)]
pub struct SeenChild {
    pub case: VisibleCase,
    pub last_news_at: DateTime<Utc>,
}

/// Whether `workflow` may hold cases of children.
fn of_children(workflow: &Workflow) -> bool {
    workflow.protections.child.is_some()
        || (workflow.protections.predates_table && workflow.id == CHILD_PROCEDURE)
}

/// Whether the person, under `workflow`, is a child who is alive.
fn a_living_child(status: &PersonStatus, workflow: &Workflow) -> bool {
    let child = status.child || (status.age_undeclared && workflow.id == CHILD_PROCEDURE);
    child && !status.deceased
}

/// The board of `p`'s country: the children on the move it is concerned with, most urgent
/// first (missing, not received, in transit, awaiting reception, received, in care; within
/// each, those without news for `no_news_days` days first, then the longest without news).
pub async fn board(
    app: &App,
    p: &Principal,
    no_news_days: u32,
) -> Result<Vec<ChildOnTheMove>, ServiceError> {
    app.authorize(
        p,
        Action::AccountForChildren,
        Facts::default(),
        "only focal points account for the children on the move",
    )?;
    let conn = app.store.conn();
    let focal = directory::focal_point(conn, &p.country)
        .await?
        .filter(|a| a.id == p.agency_id)
        .ok_or_else(|| {
            ServiceError::Forbidden(format!(
                "only the focal point agency of {} keeps its board of children on the move",
                p.country
            ))
        })?;
    let child_workflows: Vec<_> = app.workflows.all().filter(|w| of_children(w)).collect();
    let mut workflow_ids: Vec<String> = child_workflows.iter().map(|w| w.id.clone()).collect();
    workflow_ids.sort();
    workflow_ids.dedup();
    let kept: BTreeSet<String> = child_workflows
        .iter()
        .flat_map(|w| w.still_missing_states())
        .collect();
    let kept: Vec<String> = kept.into_iter().collect();
    let candidates = concerning_country(
        conn,
        &Concerned {
            country: &p.country,
            workflows: &workflow_ids,
            kept_when_closed: &kept,
            limit: MAX_BOARD,
        },
    )
    .await?;
    if candidates.len() as u64 >= MAX_BOARD {
        tracing::warn!(country = %p.country, "the board of children on the move is full");
    }
    let ids: Vec<Uuid> = candidates.iter().map(|c| c.id).collect();
    let routes = person::route_countries(conn, &ids).await?;
    let lead_countries: HashMap<Uuid, String> = directory::agencies_by_ids(
        conn,
        &candidates
            .iter()
            .map(|c| c.lead_agency_id)
            .collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .map(|(id, a)| (id, a.country))
    .collect();
    let mut on_board: Vec<(CaseRecord, ChildStanding)> = Vec::new();
    for case in candidates {
        let workflow = app.workflow_of(&case)?;
        let status = workflow.person_status(&case.state, &case.country);
        if !a_living_child(&status, &workflow) {
            continue;
        }
        let route = routes.get(&case.id).cloned().unwrap_or_default();
        let mut concerned = alerted_countries(&case, true, Alert::NotReceived, route);
        concerned.extend(lead_countries.get(&case.lead_agency_id).cloned());
        if !concerned.contains(&p.country) {
            continue;
        }
        if status.asylum_seeker && may_be_origin_authority(&case, &focal) {
            continue;
        }
        let closed = case.status == CaseStatus::Closed;
        if let Some(standing) = workflow.child_standing(&case.state, closed) {
            on_board.push((case, standing));
        }
    }
    let ids: Vec<Uuid> = on_board.iter().map(|(c, _)| c.id).collect();
    let last_news = events::last_by_a_person(conn, &ids, NEWS).await?;
    let seen: HashMap<Uuid, VisibleCase> =
        visibility::visible_page(app, p, on_board.iter().map(|(c, _)| c.clone()).collect())
            .await?
            .into_iter()
            .map(|v| (v.record().id, v))
            .collect();
    let since = app.now() - Duration::days(i64::from(no_news_days));
    let mut board: Vec<ChildOnTheMove> = on_board
        .into_iter()
        .map(|(case, standing)| {
            let last = last_news.get(&case.id).copied().unwrap_or(case.opened_at);
            ChildOnTheMove {
                reference: case.reference.clone(),
                lead_agency_id: case.lead_agency_id,
                standing,
                no_news: last <= since,
                seen: seen.get(&case.id).map(|v| SeenChild {
                    case: v.clone(),
                    last_news_at: last,
                }),
            }
        })
        .collect();
    // Of a case the caller does not see, not even the order tells when its news came.
    let key = |c: &ChildOnTheMove| {
        let last = c.seen.as_ref().map(|s| s.last_news_at);
        (c.standing, !c.no_news, last, c.reference.clone())
    };
    board.sort_by_key(key);
    Ok(board)
}
