//! Cases: the current-state rows (case, its tracks, its timers) and who has been given access
//! to them. Every read takes the caller's `CaseScope`, so no path can return a case the caller
//! may not see. The writes are in `writes`.
//!
//! Over the house's 400 lines on purpose: every read of cases carries the scope condition
//! written once here, and splitting the reads would copy it.

mod concerned;
mod one;
mod writes;

pub use concerned::{Concerned, concerning_country};
pub use one::{find, lock};
pub use writes::{LockedRow, end_access, grant_access, insert, restage, update, write_changes};

use super::StoreError;
use super::entities::{break_glass, case, case_access, case_timer, case_track};
use crate::access::CaseScope;
use crate::domain::CaseStatus;
use crate::domain::{CaseFilter, CaseRecord, DeadlineFilter};
use crate::workflow::CaseState;
use crate::workflow::engine::TimerState;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

fn scope_condition(scope: CaseScope) -> Condition {
    match scope {
        CaseScope::All => Condition::all(),
        CaseScope::LeadAgency(agency) => {
            Condition::all().add(case::Column::LeadAgencyId.eq(agency))
        }
        CaseScope::Agency { agency, user, now } => Condition::any()
            .add(case::Column::LeadAgencyId.eq(agency))
            .add(shared_condition(agency, user, now)),
    }
}

/// Cases shared with `agency` (a referral, a transfer, an alert) or opened by `user` by
/// break-glass until `now`.
fn shared_condition(agency: Uuid, user: Uuid, now: DateTime<Utc>) -> Condition {
    let mut shared = Query::select();
    shared
        .column(case_access::Column::CaseId)
        .from(case_access::Entity)
        .and_where(Expr::col(case_access::Column::AgencyId).eq(agency))
        .and_where(Expr::col(case_access::Column::EndedAt).is_null());
    let mut glass = Query::select();
    glass
        .column(break_glass::Column::CaseId)
        .from(break_glass::Entity)
        .and_where(Expr::col(break_glass::Column::UserId).eq(user))
        .and_where(Expr::col(break_glass::Column::ExpiresAt).gt(now));
    // One IN over a UNION, not an OR of two INs: both planners then start from the (few)
    // shared ids instead of scanning every case and probing two lists.
    shared.union(sea_orm::sea_query::UnionType::Distinct, glass.to_owned());
    Condition::all().add(case::Column::Id.in_subquery(shared.to_owned()))
}

/// The cases in scope among `ids` (one query for the rows, two for their state).
pub async fn find_many<C: ConnectionTrait>(
    conn: &C,
    scope: CaseScope,
    ids: &[Uuid],
) -> Result<Vec<CaseRecord>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = case::Entity::find()
        .filter(case::Column::Id.is_in(ids.iter().copied()))
        .filter(scope_condition(scope))
        .all(conn)
        .await?;
    with_state(conn, rows).await
}

/// A case in scope by its human reference.
pub async fn find_by_reference<C: ConnectionTrait>(
    conn: &C,
    scope: CaseScope,
    reference: &str,
) -> Result<Option<CaseRecord>, StoreError> {
    let row = case::Entity::find()
        .filter(case::Column::Reference.eq(reference))
        .filter(scope_condition(scope))
        .one(conn)
        .await?;
    Ok(with_state(conn, row.into_iter().collect()).await?.pop())
}

/// Up to `limit` cases in scope matching `filter`, newest first, after the cursor `after`.
///
/// For an agency, its own cases and the cases shared with it are read by two queries, each
/// walking an index in id order and stopping at `limit` (one query with `lead = A OR id IN
/// (shared)` makes the planners scan every case of the status instead), then merged.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: CaseScope,
    filter: &CaseFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CaseRecord>, StoreError> {
    let newest = |condition: Condition| {
        filtered(filter, after)
            .filter(condition)
            .order_by_desc(case::Column::Id)
            .limit(limit)
            .all(conn)
    };
    let rows = match scope {
        CaseScope::Agency { agency, user, now } => {
            let mut rows = newest(scope_condition(CaseScope::LeadAgency(agency))).await?;
            let shared = newest(
                Condition::all()
                    .add(shared_condition(agency, user, now))
                    .add(case::Column::LeadAgencyId.ne(agency)),
            )
            .await?;
            rows.extend(shared);
            rows.sort_by_key(|r| std::cmp::Reverse(r.id));
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            rows
        }
        other => newest(scope_condition(other)).await?,
    };
    with_state(conn, rows).await
}

/// The cases matching `filter` after the cursor, in any scope. Track filters are correlated
/// `EXISTS` probes (by case id), so that a page walks the cases in order and stops early;
/// deadline filters start from the timers due (few, and indexed by date).
fn filtered(filter: &CaseFilter, after: Option<Uuid>) -> sea_orm::Select<case::Entity> {
    let mut query = case::Entity::find();
    if let Some(status) = filter.status {
        query = query.filter(case::Column::Status.eq(status.as_str()));
    }
    if let Some(workflow) = &filter.workflow_id {
        query = query.filter(case::Column::WorkflowId.eq(workflow.as_str()));
    }
    if filter.stage.is_some() || filter.state.is_some() {
        let mut tracks = Query::select();
        tracks
            .expr(Expr::val(1))
            .from(case_track::Entity)
            .and_where(
                Expr::col((case_track::Entity, case_track::Column::CaseId))
                    .equals((case::Entity, case::Column::Id)),
            );
        if let Some(stage) = filter.stage {
            tracks.and_where(
                Expr::col((case_track::Entity, case_track::Column::Stage)).eq(stage.as_str()),
            );
        }
        if let Some(state) = &filter.state {
            tracks.and_where(
                Expr::col((case_track::Entity, case_track::Column::State)).eq(state.as_str()),
            );
        }
        query = query.filter(Expr::exists(tracks.to_owned()));
    }
    if let Some((which, now)) = filter.deadline {
        let mut timers = Query::select();
        timers
            .column(case_timer::Column::CaseId)
            .from(case_timer::Entity)
            .and_where(Expr::col(case_timer::Column::Kind).eq("DEADLINE"))
            .and_where(Expr::col(case_timer::Column::StoppedAt).is_null())
            .and_where(Expr::col(case_timer::Column::PausedAt).is_null());
        match which {
            DeadlineFilter::Overdue => {
                timers.and_where(Expr::col(case_timer::Column::DueAt).lte(now));
            }
            DeadlineFilter::DueSoon => {
                timers
                    .and_where(Expr::col(case_timer::Column::WarnAt).lte(now))
                    .and_where(Expr::col(case_timer::Column::DueAt).gt(now));
            }
        }
        query = query.filter(case::Column::Id.in_subquery(timers.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(case::Column::Id.lt(after));
    }
    query
}

/// Up to `limit` active cases led by `agency`, least recently updated first, after the keyset
/// position `after` (an `updated_at` and id): the worklist's "can be moved forward" part.
pub async fn active_led_by<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<CaseRecord>, StoreError> {
    let mut query = case::Entity::find()
        .filter(case::Column::LeadAgencyId.eq(agency))
        .filter(case::Column::Status.eq(CaseStatus::Active.as_str()));
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any().add(case::Column::UpdatedAt.gt(at)).add(
                Condition::all()
                    .add(case::Column::UpdatedAt.eq(at))
                    .add(case::Column::Id.gt(id)),
            ),
        );
    }
    let rows = query
        .order_by_asc(case::Column::UpdatedAt)
        .order_by_asc(case::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    with_state(conn, rows).await
}

/// Up to `limit` cases of any agency, by id, after `after` and up to `upto` (for the audit
/// verifier and the invariant checker).
pub async fn page_by_id<C: ConnectionTrait>(
    conn: &C,
    after: Option<Uuid>,
    upto: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CaseRecord>, StoreError> {
    let mut query = case::Entity::find();
    if let Some(after) = after {
        query = query.filter(case::Column::Id.gt(after));
    }
    if let Some(upto) = upto {
        query = query.filter(case::Column::Id.lte(upto));
    }
    let rows = query
        .order_by_asc(case::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    with_state(conn, rows).await
}

/// Loads tracks and timers for a page of cases (two queries, whatever the page size).
async fn with_state<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<case::Model>,
) -> Result<Vec<CaseRecord>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut tracks: HashMap<Uuid, Vec<case_track::Model>> = HashMap::new();
    for t in case_track::Entity::find()
        .filter(case_track::Column::CaseId.is_in(ids.clone()))
        .all(conn)
        .await?
    {
        tracks.entry(t.case_id).or_default().push(t);
    }
    let mut timers: HashMap<Uuid, Vec<case_timer::Model>> = HashMap::new();
    for t in case_timer::Entity::find()
        .filter(case_timer::Column::CaseId.is_in(ids))
        .all(conn)
        .await?
    {
        timers.entry(t.case_id).or_default().push(t);
    }
    rows.into_iter()
        .map(|row| {
            let case_tracks = tracks.remove(&row.id).unwrap_or_default();
            let case_timers = timers.remove(&row.id).unwrap_or_default();
            to_record(row, case_tracks, case_timers)
        })
        .collect()
}

pub(crate) fn to_record(
    mut row: case::Model,
    tracks: Vec<case_track::Model>,
    timers: Vec<case_timer::Model>,
) -> Result<CaseRecord, StoreError> {
    let corrupt = |what: String| StoreError::Corrupt(format!("case {}: {what}", row.id));
    let facts: BTreeMap<String, Json> = serde_json::from_value(std::mem::take(&mut row.facts))
        .map_err(|e| corrupt(format!("facts: {e}")))?;
    let status: CaseStatus = row.status.parse().map_err(|e| corrupt(format!("{e}")))?;
    let state = CaseState {
        tracks: tracks
            .iter()
            .map(|t| (t.track.clone(), t.state.clone()))
            .collect(),
        facts,
        timers: timers
            .into_iter()
            .map(|t| {
                (
                    t.timer,
                    TimerState {
                        started_at: t.started_at,
                        due_at: t.due_at,
                        stopped_at: t.stopped_at,
                        paused_at: t.paused_at,
                    },
                )
            })
            .collect(),
    };
    Ok(CaseRecord {
        id: row.id,
        reference: row.reference,
        workflow_id: row.workflow_id,
        workflow_version: u32::try_from(row.workflow_version)
            .map_err(|e| corrupt(e.to_string()))?,
        country: row.country,
        lead_agency_id: row.lead_agency_id,
        status,
        version: row.version,
        opened_by: row.opened_by,
        opened_at: row.opened_at,
        updated_at: row.updated_at,
        entered_at: tracks
            .into_iter()
            .map(|t| (t.track, t.entered_at))
            .collect(),
        follows_case_id: row.follows_case_id,
        origin_country: row.origin_country,
        opened_by_agency_id: row.opened_by_agency_id.unwrap_or(row.lead_agency_id),
        last_hash: row.last_hash,
        state,
    })
}

/// Cases in scope that continue `case_id`, oldest first.
pub async fn followers<C: ConnectionTrait>(
    conn: &C,
    scope: CaseScope,
    case_id: Uuid,
) -> Result<Vec<CaseRecord>, StoreError> {
    let rows = case::Entity::find()
        .filter(case::Column::FollowsCaseId.eq(case_id))
        .filter(scope_condition(scope))
        .order_by_asc(case::Column::Id)
        .all(conn)
        .await?;
    with_state(conn, rows).await
}

/// Every (workflow id, version) that some case is pinned to.
pub async fn pinned_workflows<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<(String, u32)>, StoreError> {
    let rows: Vec<(String, i32)> = case::Entity::find()
        .select_only()
        .column(case::Column::WorkflowId)
        .column(case::Column::WorkflowVersion)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, v)| (id, u32::try_from(v).unwrap_or_default()))
        .collect())
}

/// A case's access rows: who was given access, why, and whether a protection ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRow {
    pub agency: Uuid,
    pub reason: String,
    pub ended_at: Option<DateTime<Utc>>,
}

/// Every access row of the case (live and ended).
pub async fn access_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<AccessRow>, StoreError> {
    Ok(case_access::Entity::find()
        .filter(case_access::Column::CaseId.eq(case_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| AccessRow {
            agency: m.agency_id,
            reason: m.reason,
            ended_at: m.ended_at,
        })
        .collect())
}

/// The agencies with live access to the case (its access rows no protection ended).
pub async fn access_rows<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(access_of_case(conn, case_id)
        .await?
        .into_iter()
        .filter(|r| r.ended_at.is_none())
        .map(|r| r.agency)
        .collect())
}

/// Which of the cases `case_ids` `agency` has a live access row for (one query).
pub async fn with_access<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
    agency: Uuid,
) -> Result<std::collections::HashSet<Uuid>, StoreError> {
    if case_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(case_access::Entity::find()
        .filter(case_access::Column::CaseId.is_in(case_ids.iter().copied()))
        .filter(case_access::Column::AgencyId.eq(agency))
        .filter(case_access::Column::EndedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.case_id)
        .collect())
}

/// Whether `agency` has live access to the case.
pub async fn has_access<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    agency: Uuid,
) -> Result<bool, StoreError> {
    Ok(case_access::Entity::find_by_id((case_id, agency))
        .one(conn)
        .await?
        .is_some_and(|m| m.ended_at.is_none()))
}

#[cfg(test)]
mod tests;
