//! The append-only event log. Nothing here updates or deletes an event.
//!
//! Each event's hash commits to the previous event's hash and to the event's content, so that
//! an edited, deleted or reordered event breaks the chain of its case. Free-text reasons enter
//! the hash only as their own SHA-256, so that erasing a reason later leaves the chain checkable.

use super::StoreError;
use super::batch::Writes;
use super::entities::{case, case_event};
use crate::domain::audit_log::AuditRow;
use crate::domain::{Event, EventKind};
use crate::workflow::Changes;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

pub(crate) fn to_event(mut m: case_event::Model) -> Result<Event, StoreError> {
    let changes = serde_json::from_value(std::mem::take(&mut m.changes))
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", m.id)))?;
    to_event_with(m, changes)
}

/// [`to_event`] with the changes already parsed (the model's `changes` is not read): a reader
/// of JSON text parses it straight into [`Changes`], without a JSON value in between.
pub(crate) fn to_event_with(m: case_event::Model, changes: Changes) -> Result<Event, StoreError> {
    Ok(Event {
        id: m.id,
        case_id: m.case_id,
        seq: m.seq,
        kind: m
            .kind
            .parse()
            .map_err(|e| StoreError::corrupt(format_args!("event {}", m.id), e))?,
        transition: m.transition,
        track: m.track,
        from_state: m.from_state,
        to_state: m.to_state,
        reason: m.reason,
        reason_shared_as: match m.reason_shared_as {
            None => Default::default(),
            Some(groups) => serde_json::from_value(groups)
                .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", m.id)))?,
        },
        reason_to: m.reason_to,
        changes,
        workflow_id: m.workflow_id,
        workflow_version: u32::try_from(m.workflow_version)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        actor_user_id: m.actor_user_id,
        actor_agency_id: m.actor_agency_id,
        occurred_at: m.occurred_at,
        prev_hash: m.prev_hash,
        hash: m.hash,
        details: m.details,
        withheld: Vec::new(),
    })
}

/// Appends an event, and its chain hash as the next leaf of the audit log (added to `writes`,
/// the change's: both or neither).
pub fn append(writes: &mut Writes, e: &Event) -> Result<(), StoreError> {
    let statement = case_event::Entity::insert(case_event::ActiveModel {
        id: Set(e.id),
        case_id: Set(e.case_id),
        seq: Set(e.seq),
        kind: Set(e.kind.as_str().to_string()),
        transition: Set(e.transition.clone()),
        track: Set(e.track.clone()),
        from_state: Set(e.from_state.clone()),
        to_state: Set(e.to_state.clone()),
        reason: Set(e.reason.clone()),
        reason_shared_as: Set((!e.reason_shared_as.is_empty())
            .then(|| serde_json::to_value(&e.reason_shared_as))
            .transpose()
            .map_err(|err| StoreError::Corrupt(err.to_string()))?),
        reason_to: Set(e.reason_to),
        changes: Set(
            serde_json::to_value(&e.changes).map_err(|err| StoreError::Corrupt(err.to_string()))?
        ),
        workflow_id: Set(e.workflow_id.clone()),
        workflow_version: Set(i32::try_from(e.workflow_version)
            .map_err(|err| StoreError::Corrupt(err.to_string()))?),
        actor_user_id: Set(e.actor_user_id),
        actor_agency_id: Set(e.actor_agency_id),
        occurred_at: Set(e.occurred_at),
        prev_hash: Set(e.prev_hash.clone()),
        hash: Set(e.hash.clone()),
        details: Set(e.details.clone()),
    })
    .build(writes.backend());
    writes.one(statement);
    super::audit::append_leaf(writes, e.id, &e.hash, e.occurred_at)
}

/// Up to `limit` events of a case with `seq > after`, oldest first.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<Event>, StoreError> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Seq.gt(after))
        .order_by_asc(case_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// Every event of the cases `case_ids`, ordered by case and `seq` (see [`AuditRow`]): the
/// verifier reads the events of one page of cases at a time.
pub async fn of_cases_for_audit<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
) -> Result<Vec<AuditRow>, StoreError> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.is_in(case_ids.iter().copied()))
        .order_by_asc(case_event::Column::CaseId)
        .order_by_asc(case_event::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let (id, case_id, seq) = (m.id, m.case_id, m.seq);
            (id, case_id, seq, to_event(m).map_err(|e| e.to_string()))
        })
        .collect())
}

/// What auditors search events by; every given filter must hold.
#[derive(Debug, Clone, Default)]
pub struct EventSearch {
    pub case_id: Option<Uuid>,
    /// The agency that acted.
    pub agency_id: Option<Uuid>,
    /// The user who acted.
    pub actor_user_id: Option<Uuid>,
    pub kind: Option<EventKind>,
    /// The workflow transition fired.
    pub transition: Option<String>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub until: Option<DateTime<Utc>>,
    pub workflow_id: Option<String>,
    /// Decided under this version of the workflow.
    pub workflow_version: Option<u32>,
    /// Of the case with this reference.
    pub case_reference: Option<String>,
    /// Of cases opened in this country (ISO 3166-1 alpha-2).
    pub case_country: Option<String>,
}

/// For each of `cases` that has one, when the last event of one of `kinds` recorded by a person
/// (not the service: the nil user) occurred.
pub async fn last_by_a_person<C: ConnectionTrait>(
    conn: &C,
    cases: &[Uuid],
    kinds: &[EventKind],
) -> Result<HashMap<Uuid, DateTime<Utc>>, StoreError> {
    use case_event::Column as C;
    if cases.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, DateTime<Utc>)> = case_event::Entity::find()
        .select_only()
        .column(C::CaseId)
        .column_as(C::OccurredAt.max(), "last")
        .filter(C::CaseId.is_in(cases.iter().copied()))
        .filter(C::ActorUserId.ne(Uuid::nil()))
        .filter(C::Kind.is_in(kinds.iter().map(|k| k.as_str())))
        .group_by(C::CaseId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Up to `limit` events matching `search`, in time order (ties by id), after the keyset
/// position `after` (an event's time and id).
pub async fn search<C: ConnectionTrait>(
    conn: &C,
    search: &EventSearch,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Event>, StoreError> {
    use case_event::Column as C;
    use sea_orm::Condition;
    let mut q = case_event::Entity::find();
    if let Some(v) = search.case_id {
        q = q.filter(C::CaseId.eq(v));
    }
    if let Some(v) = search.agency_id {
        q = q.filter(C::ActorAgencyId.eq(v));
    }
    if let Some(v) = search.actor_user_id {
        q = q.filter(C::ActorUserId.eq(v));
    }
    if let Some(v) = search.kind {
        q = q.filter(C::Kind.eq(v.as_str()));
    }
    if let Some(v) = &search.transition {
        q = q.filter(C::Transition.eq(v.as_str()));
    }
    if let Some(v) = search.from {
        q = q.filter(C::OccurredAt.gte(v));
    }
    if let Some(v) = search.until {
        q = q.filter(C::OccurredAt.lt(v));
    }
    if let Some(v) = &search.workflow_id {
        q = q.filter(C::WorkflowId.eq(v.as_str()));
    }
    if let Some(v) = search.workflow_version {
        let v = i32::try_from(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        q = q.filter(C::WorkflowVersion.eq(v));
    }
    if search.case_reference.is_some() || search.case_country.is_some() {
        let mut cases = Query::select();
        cases.column(case::Column::Id).from(case::Entity);
        if let Some(v) = &search.case_reference {
            cases.and_where(Expr::col(case::Column::Reference).eq(v.as_str()));
        }
        if let Some(v) = &search.case_country {
            cases.and_where(Expr::col(case::Column::Country).eq(v.as_str()));
        }
        q = q.filter(C::CaseId.in_subquery(cases.to_owned()));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            Condition::any()
                .add(C::OccurredAt.gt(at))
                .add(Condition::all().add(C::OccurredAt.eq(at)).add(C::Id.gt(id))),
        );
    }
    q.order_by_asc(C::OccurredAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// A case's events up to `at`, oldest first: the longest run from `seq` 1 of events that
/// occurred at or before `at` (what a reader could have seen committed by then).
pub async fn up_to<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, StoreError> {
    let mut events = all_of_case(conn, case_id).await?;
    let seen = events.iter().take_while(|e| e.occurred_at <= at).count();
    events.truncate(seen);
    Ok(events)
}

/// Every event of a case, oldest first.
pub async fn all_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<Event>, StoreError> {
    of_case_where(conn, case_id, None).await
}

/// The events of a case of one kind, oldest first.
pub async fn of_kind<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    kind: EventKind,
) -> Result<Vec<Event>, StoreError> {
    of_case_where(conn, case_id, Some(kind)).await
}

async fn of_case_where<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    kind: Option<EventKind>,
) -> Result<Vec<Event>, StoreError> {
    let mut query = case_event::Entity::find().filter(case_event::Column::CaseId.eq(case_id));
    if let Some(kind) = kind {
        query = query.filter(case_event::Column::Kind.eq(kind.as_str()));
    }
    query
        .order_by_asc(case_event::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// One event by id.
pub async fn by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Event>, StoreError> {
    case_event::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_event)
        .transpose()
}

/// How many events are stored, all cases together.
pub async fn count_all<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(case_event::Entity::find().count(conn).await?)
}

/// The first event (by case and `seq`) whose case does not exist, as (id, case id, seq).
pub async fn first_orphan<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
    first_event_where(conn, ORPHAN).await
}

/// The first event (by case and `seq`) that has no leaf in the audit log, neither at a position
/// nor waiting for one, as (id, case id, seq).
pub async fn first_not_in_log<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
    first_event_where(conn, NOT_IN_LOG).await
}

/// An event `e` whose case does not exist.
pub(crate) const ORPHAN: &str = "NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)";

/// An event `e` with no leaf in the log, neither at a position nor waiting for one.
pub(crate) const NOT_IN_LOG: &str = "NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.event_id = e.id) \
     AND NOT EXISTS (SELECT 1 FROM audit_log_pending p WHERE p.event_id = e.id)";

/// The first event (by case and `seq`) that meets `condition`, as (id, case id, seq).
pub(crate) fn first_event_sql(condition: &str) -> String {
    format!(
        "SELECT e.id, e.case_id, e.seq FROM case_events e WHERE {condition} \
         ORDER BY e.case_id, e.seq LIMIT 1"
    )
}

async fn first_event_where<C: ConnectionTrait>(
    conn: &C,
    condition: &str,
) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
    let sql = first_event_sql(condition);
    let stmt = sea_orm::Statement::from_string(conn.get_database_backend(), sql);
    let Some(row) = conn.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("", "id")?,
        row.try_get("", "case_id")?,
        row.try_get("", "seq")?,
    )))
}

/// How many events a case has.
pub async fn count<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .count(conn)
        .await
        .map_err(Into::into)
}
