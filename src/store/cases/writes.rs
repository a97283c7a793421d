//! Writing cases: a new case with its tracks, the case row at the end of a change (conditional
//! on the version the change locked), the track and timer rows a change makes, and access rows.

use super::super::StoreError;
use super::super::batch::Writes;
use super::super::entities::{case, case_access, case_timer, case_track};
use crate::domain::{CaseRecord, CaseStatus};
use crate::workflow::definition::TimerKind;
use crate::workflow::engine::TimerState;
use crate::workflow::{CaseState, Changes, Workflow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryTrait,
    sea_query::Expr,
};
use serde_json::Value as Json;
use uuid::Uuid;

fn facts_json(state: &CaseState) -> Result<Json, StoreError> {
    serde_json::to_value(&state.facts).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn stage_of(workflow: &Workflow, state: &str) -> Result<&'static str, StoreError> {
    workflow
        .state(state)
        .map(|s| s.stage.as_str())
        .ok_or_else(|| {
            StoreError::Corrupt(format!("state {state} not in workflow {}", workflow.id))
        })
}

/// Inserts a new case with its initial tracks (added to `writes`).
pub fn insert(writes: &mut Writes, workflow: &Workflow, c: &CaseRecord) -> Result<(), StoreError> {
    let backend = writes.backend();
    writes.one(
        case::Entity::insert(case::ActiveModel {
            id: Set(c.id),
            reference: Set(c.reference.clone()),
            workflow_id: Set(c.workflow_id.clone()),
            workflow_version: Set(i32::try_from(c.workflow_version)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?),
            country: Set(c.country.clone()),
            lead_agency_id: Set(c.lead_agency_id),
            status: Set(c.status.as_str().to_string()),
            facts: Set(facts_json(&c.state)?),
            version: Set(c.version),
            opened_by: Set(c.opened_by),
            opened_at: Set(c.opened_at),
            updated_at: Set(c.updated_at),
            follows_case_id: Set(c.follows_case_id),
            origin_country: Set(c.origin_country.clone()),
            opened_by_agency_id: Set(Some(c.opened_by_agency_id)),
            last_hash: Set(c.last_hash.clone()),
        })
        .build(backend),
    );
    for (track, state) in &c.state.tracks {
        insert_track(writes, workflow, c.id, track, state, c.opened_at)?;
    }
    Ok(())
}

fn insert_track(
    writes: &mut Writes,
    workflow: &Workflow,
    case_id: Uuid,
    track: &str,
    state: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = writes.backend();
    writes.one(
        case_track::Entity::insert(case_track::ActiveModel {
            case_id: Set(case_id),
            track: Set(track.to_string()),
            state: Set(state.to_string()),
            stage: Set(stage_of(workflow, state)?.to_string()),
            entered_at: Set(now),
        })
        .build(backend),
    );
    Ok(())
}

/// The case row as a change locked it: the version its update is conditional on, and the
/// columns the update writes only when the change changed them. They are indexed (lead, status,
/// workflow), and SQLite rewrites an index's entry for every column an `UPDATE` sets, changed
/// or not: a transition that keeps them would otherwise write a page of each such index to the
/// WAL at every commit.
#[derive(Debug, Clone)]
pub struct LockedRow {
    version: i64,
    status: CaseStatus,
    lead_agency_id: Uuid,
    workflow_id: String,
    workflow_version: u32,
    origin_country: Option<String>,
}

impl LockedRow {
    /// The row as `case` was read under the lock.
    pub fn of(case: &CaseRecord) -> LockedRow {
        LockedRow {
            version: case.version,
            status: case.status,
            lead_agency_id: case.lead_agency_id,
            workflow_id: case.workflow_id.clone(),
            workflow_version: case.workflow_version,
            origin_country: case.origin_country.clone(),
        }
    }
}

/// Writes the case row as `after` says, where it is still at the version `locked` read (added
/// to `writes`: a row that is not there makes them fail, see [`Writes::one`]). Version, last
/// hash, facts and time are always written; status, lead, origin and workflow only where they
/// differ from `locked` (see [`LockedRow`]).
pub fn update(
    writes: &mut Writes,
    after: &CaseRecord,
    locked: &LockedRow,
) -> Result<(), StoreError> {
    let mut statement = case::Entity::update_many()
        .col_expr(case::Column::Version, Expr::value(after.version))
        .col_expr(
            case::Column::LastHash,
            Expr::value(after.last_hash.as_str()),
        )
        .col_expr(case::Column::Facts, Expr::value(facts_json(&after.state)?))
        .col_expr(case::Column::UpdatedAt, Expr::value(after.updated_at));
    if after.status != locked.status {
        statement = statement.col_expr(case::Column::Status, Expr::value(after.status.as_str()));
    }
    if after.lead_agency_id != locked.lead_agency_id {
        statement = statement.col_expr(
            case::Column::LeadAgencyId,
            Expr::value(after.lead_agency_id),
        );
    }
    if after.origin_country != locked.origin_country {
        statement = statement.col_expr(
            case::Column::OriginCountry,
            Expr::value(after.origin_country.clone()),
        );
    }
    if after.workflow_id != locked.workflow_id {
        statement = statement.col_expr(
            case::Column::WorkflowId,
            Expr::value(after.workflow_id.as_str()),
        );
    }
    if after.workflow_version != locked.workflow_version {
        let workflow_version = i32::try_from(after.workflow_version)
            .map_err(|e| StoreError::corrupt(format_args!("case {}", after.id), e))?;
        statement =
            statement.col_expr(case::Column::WorkflowVersion, Expr::value(workflow_version));
    }
    let statement = statement
        .filter(case::Column::Id.eq(after.id))
        .filter(case::Column::Version.eq(locked.version))
        .build(writes.backend());
    writes.one(statement);
    Ok(())
}

/// The stage of each of the case's tracks whose state keeps its name from workflow `from` to
/// workflow `to` but sits in another stage there (added to `writes`): a case pinned to another
/// workflow or version is listed by its new stages. A state `to` does not know is left to the
/// change that maps it.
pub fn restage(
    writes: &mut Writes,
    (from, to): (&Workflow, &Workflow),
    case_id: Uuid,
    state: &CaseState,
) {
    let backend = writes.backend();
    for (track, name) in &state.tracks {
        let (Some(was), Some(now)) = (from.state(name), to.state(name)) else {
            continue;
        };
        if was.stage != now.stage && now.track == *track {
            writes.one(
                case_track::Entity::update_many()
                    .col_expr(case_track::Column::Stage, Expr::value(now.stage.as_str()))
                    .filter(case_track::Column::CaseId.eq(case_id))
                    .filter(case_track::Column::Track.eq(track.as_str()))
                    .build(backend),
            );
        }
    }
}

/// The track and timer rows a change makes to a case whose state was `before` (added to
/// `writes`). A track whose state keeps its name under another workflow gets its new stage from
/// [`restage`] when the case is pinned there.
pub fn write_changes(
    writes: &mut Writes,
    workflow: &Workflow,
    case_id: Uuid,
    before: &CaseState,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let backend = writes.backend();
    for change in &changes.tracks {
        if let Some(was) = before.tracks.get(&change.track) {
            // A step that stays in its state (one that may repeat) enters it again: only the
            // time changes, and the indexed state and stage are left alone (see [`LockedRow`]).
            let mut update = case_track::Entity::update_many()
                .col_expr(case_track::Column::EnteredAt, Expr::value(now));
            if *was != change.to {
                update = update
                    .col_expr(case_track::Column::State, Expr::value(change.to.as_str()))
                    .col_expr(
                        case_track::Column::Stage,
                        Expr::value(stage_of(workflow, &change.to)?),
                    );
            }
            writes.one(
                update
                    .filter(case_track::Column::CaseId.eq(case_id))
                    .filter(case_track::Column::Track.eq(change.track.as_str()))
                    .build(backend),
            );
        } else {
            insert_track(writes, workflow, case_id, &change.track, &change.to, now)?;
        }
    }
    if !changes.tracks_removed.is_empty() {
        writes.any(
            case_track::Entity::delete_many()
                .filter(case_track::Column::CaseId.eq(case_id))
                .filter(
                    case_track::Column::Track
                        .is_in(changes.tracks_removed.iter().map(String::as_str)),
                )
                .build(backend),
        );
    }
    for (timer, at) in &changes.timers_stopped {
        set_timer(
            writes,
            case_id,
            timer,
            case_timer::Column::StoppedAt,
            Expr::value(*at),
        );
    }
    for (timer, at) in &changes.timers_paused {
        set_timer(
            writes,
            case_id,
            timer,
            case_timer::Column::PausedAt,
            Expr::value(*at),
        );
    }
    for (timer, due) in &changes.timers_resumed {
        let warn = warn_at(workflow, timer, *due);
        writes.any(
            case_timer::Entity::update_many()
                .col_expr(
                    case_timer::Column::PausedAt,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .col_expr(case_timer::Column::DueAt, Expr::value(*due))
                .col_expr(case_timer::Column::WarnAt, Expr::value(warn))
                .filter(case_timer::Column::CaseId.eq(case_id))
                .filter(case_timer::Column::Timer.eq(timer.as_str()))
                .build(backend),
        );
    }
    for (timer, t) in &changes.timers_started {
        upsert_timer(
            writes,
            workflow,
            case_id,
            timer,
            t,
            before.timers.contains_key(timer),
        );
    }
    Ok(())
}

/// When a deadline becomes "due soon"; `None` for floors.
fn warn_at(workflow: &Workflow, timer: &str, due: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let def = workflow.timers.get(timer)?;
    (def.kind == TimerKind::Deadline)
        .then(|| due - chrono::Duration::days(i64::from(def.warn_days)))
}

/// Inserts a started timer, or restarts one that ran before (clearing its stop, pause and firing).
fn upsert_timer(
    writes: &mut Writes,
    workflow: &Workflow,
    case_id: Uuid,
    timer: &str,
    t: &TimerState,
    exists: bool,
) {
    let backend = writes.backend();
    let kind = workflow.timers.get(timer).map(|d| match d.kind {
        TimerKind::Floor => "FLOOR".to_string(),
        TimerKind::Deadline => "DEADLINE".to_string(),
    });
    let warn = warn_at(workflow, timer, t.due_at);
    if exists {
        let none = Option::<DateTime<Utc>>::None;
        writes.one(
            case_timer::Entity::update_many()
                .col_expr(case_timer::Column::StartedAt, Expr::value(t.started_at))
                .col_expr(case_timer::Column::DueAt, Expr::value(t.due_at))
                .col_expr(case_timer::Column::WarnAt, Expr::value(warn))
                .col_expr(case_timer::Column::Kind, Expr::value(kind))
                .col_expr(case_timer::Column::StoppedAt, Expr::value(none))
                .col_expr(case_timer::Column::PausedAt, Expr::value(none))
                .col_expr(case_timer::Column::FiredAt, Expr::value(none))
                .filter(case_timer::Column::CaseId.eq(case_id))
                .filter(case_timer::Column::Timer.eq(timer))
                .build(backend),
        );
    } else {
        writes.one(
            case_timer::Entity::insert(case_timer::ActiveModel {
                case_id: Set(case_id),
                timer: Set(timer.to_string()),
                started_at: Set(t.started_at),
                due_at: Set(t.due_at),
                stopped_at: Set(None),
                paused_at: Set(None),
                fired_at: Set(None),
                kind: Set(kind),
                warn_at: Set(warn),
            })
            .build(backend),
        );
    }
}

fn set_timer(
    writes: &mut Writes,
    case_id: Uuid,
    timer: &str,
    column: case_timer::Column,
    value: Expr,
) {
    let backend = writes.backend();
    writes.any(
        case_timer::Entity::update_many()
            .col_expr(column, value)
            .filter(case_timer::Column::CaseId.eq(case_id))
            .filter(case_timer::Column::Timer.eq(timer))
            .build(backend),
    );
}

/// Lets `agency` see the case from now on (idempotent).
pub async fn grant_access<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    agency: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let live = case_access::ActiveModel {
        case_id: Set(case_id),
        agency_id: Set(agency),
        since: Set(now),
        reason: Set(reason.to_string()),
        ended_at: Set(None),
        ended_by: Set(None),
    };
    match case_access::Entity::find_by_id((case_id, agency))
        .one(conn)
        .await?
    {
        None => {
            case_access::Entity::insert(live).exec(conn).await?;
        }
        // Access that a protection ended is given again only by a new act that passed the
        // same protections (the service checks them before granting).
        Some(row) if row.ended_at.is_some() => {
            case_access::Entity::update(live).exec(conn).await?;
        }
        Some(_) => {}
    }
    Ok(())
}

/// Ends `agency`'s access to the case (`rule`: the protection that ended it); `false` when it
/// had no live access row.
pub async fn end_access<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    agency: Uuid,
    rule: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = case_access::Entity::update_many()
        .col_expr(case_access::Column::EndedAt, Expr::value(now))
        .col_expr(case_access::Column::EndedBy, Expr::value(rule))
        .filter(case_access::Column::CaseId.eq(case_id))
        .filter(case_access::Column::AgencyId.eq(agency))
        .filter(case_access::Column::EndedAt.is_null())
        .exec(conn)
        .await?;
    Ok(done.rows_affected > 0)
}
