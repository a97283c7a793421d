//! One case by id in its caller's scope, with its tracks and timers: read (`find`) or locked for
//! a change (`lock`), each in one round trip, its queries built once per database and kind of
//! scope (the scope's condition itself is `super::scope_condition`, written once).

use super::{scope_condition, to_record};
use crate::access::CaseScope;
use crate::domain::CaseRecord;
use crate::store::StoreError;
use crate::store::batch::{OfOneCase, Part, pg_statement_of_parts, query_parts};
use crate::store::entities::{case, case_timer, case_track};
use crate::store::pipeline::{Answer, Piped, Pipelined};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Value,
};
use uuid::Uuid;

/// A case in scope by id, its row locked for the rest of the transaction `conn` (PostgreSQL
/// `FOR UPDATE`; SQLite write transactions are already exclusive), with its tracks and timers.
pub async fn lock<C: Pipelined>(
    conn: &C,
    scope: CaseScope,
    id: Uuid,
) -> Result<Option<CaseRecord>, StoreError> {
    let backend = conn.get_database_backend();
    if backend == sea_orm::DatabaseBackend::Postgres {
        return one_locked_then_state(conn, case_part(backend, scope, id, true), id).await;
    }
    one_with_state(conn, case_part(backend, scope, id, false), id).await
}

/// A case in scope by id.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    scope: CaseScope,
    id: Uuid,
) -> Result<Option<CaseRecord>, StoreError> {
    let backend = conn.get_database_backend();
    one_with_state(conn, case_part(backend, scope, id, false), id).await
}

/// The agency, user and time a scope's case query is built with once (see [`case_part`]).
const AGENCY_STAND_IN: Uuid = Uuid::from_u128(0x7472_6d5f_6167_656e_6379_5f73_7461_6e64);
const USER_STAND_IN: Uuid = Uuid::from_u128(0x7472_6d5f_7573_6572_5f5f_5f73_7461_6e64);
const NOW_STAND_IN: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

/// The query of case `id` in `scope`, as part 0 of a [`query_parts`], its row locked if `lock`
/// (`FOR UPDATE`, PostgreSQL): built by sea-query once per database, kind of scope and lock, with
/// stand-ins for the scope's values (building it cost about as much as reading the case, in a
/// transition's profile).
pub(super) fn case_part(
    backend: sea_orm::DatabaseBackend,
    scope: CaseScope,
    id: Uuid,
    lock: bool,
) -> Part {
    fn of(backend: sea_orm::DatabaseBackend, id: Uuid, scope: CaseScope, lock: bool) -> Part {
        let select = case::Entity::find_by_id(id).filter(scope_condition(scope));
        let select = if lock {
            select.lock_exclusive()
        } else {
            select
        };
        Part::of(select, 0, backend)
    }
    const LEAD: CaseScope = CaseScope::LeadAgency(AGENCY_STAND_IN);
    const AGENCY: CaseScope = CaseScope::Agency {
        agency: AGENCY_STAND_IN,
        user: USER_STAND_IN,
        now: NOW_STAND_IN,
    };
    // By kind of scope (all, lead agency, agency), then the same locked.
    static BUILT: [OfOneCase; 6] = [
        OfOneCase::new(|backend, id| vec![of(backend, id, CaseScope::All, false)]),
        OfOneCase::new(|backend, id| vec![of(backend, id, LEAD, false)]),
        OfOneCase::new(|backend, id| vec![of(backend, id, AGENCY, false)]),
        OfOneCase::new(|backend, id| vec![of(backend, id, CaseScope::All, true)]),
        OfOneCase::new(|backend, id| vec![of(backend, id, LEAD, true)]),
        OfOneCase::new(|backend, id| vec![of(backend, id, AGENCY, true)]),
    ];
    let agency = |a: Uuid| (Value::from(AGENCY_STAND_IN), Value::from(a));
    let (kind, values) = match scope {
        CaseScope::All => (0, Vec::new()),
        CaseScope::LeadAgency(a) => (1, vec![agency(a)]),
        CaseScope::Agency {
            agency: a,
            user,
            now,
        } => (
            2,
            vec![
                agency(a),
                (Value::from(USER_STAND_IN), Value::from(user)),
                (Value::from(NOW_STAND_IN), Value::from(now)),
            ],
        ),
    };
    BUILT[kind + if lock { 3 } else { 0 }]
        .of_with(backend, id, &values)
        .into_iter()
        .next()
        .unwrap_or_else(|| of(backend, id, scope, lock))
}

/// The queries of a case's tracks and timers, as parts 1 and 2 of a [`query_parts`].
fn state_parts(backend: sea_orm::DatabaseBackend, id: Uuid) -> Vec<Part> {
    static STATE: OfOneCase = OfOneCase::new(|backend, id| {
        vec![
            Part::of(
                case_track::Entity::find().filter(case_track::Column::CaseId.eq(id)),
                1,
                backend,
            ),
            Part::of(
                case_timer::Entity::find().filter(case_timer::Column::CaseId.eq(id)),
                2,
                backend,
            ),
        ]
    });
    STATE.of(backend, id)
}

/// The case the query `case` finds (at most the one of id `id`) with its tracks and timers, read in
/// one round trip (one statement on PostgreSQL: one snapshot).
async fn one_with_state<C: ConnectionTrait>(
    conn: &C,
    case: Part,
    id: Uuid,
) -> Result<Option<CaseRecord>, StoreError> {
    let backend = conn.get_database_backend();
    let mut parts = vec![case];
    parts.extend(state_parts(backend, id));
    record_of(query_parts(conn, parts).await?)
}

/// [`one_with_state`] where `case` locks the case (PostgreSQL): the case first, then its
/// tracks and timers in a statement of their own, sent in the same round trip (a pipeline,
/// [`crate::store::pipeline`]). A statement that waits for a locked row reads that row again at
/// its new version but everything else at its snapshot from before the wait, so read in one
/// statement they could be older than the case; read by the statement after the lock, which
/// takes its snapshot once the lock is held, they are the case's (no change writes them
/// without holding it).
async fn one_locked_then_state<C: Pipelined>(
    conn: &C,
    case: Part,
    id: Uuid,
) -> Result<Option<CaseRecord>, StoreError> {
    let backend = conn.get_database_backend();
    let (state, answer) = pg_statement_of_parts(state_parts(backend, id));
    let mut answers = conn
        .pipeline(vec![Piped::Rows(case.statement), Piped::Rows(state)])
        .await?
        .into_iter()
        .map(Answer::rows);
    let (Some(cases), Some(state)) = (answers.next(), answers.next()) else {
        return Err(StoreError::Corrupt(
            "a case's locking read answered in another shape".into(),
        ));
    };
    let cases = cases?;
    if cases.is_empty() {
        return Ok(None);
    }
    let mut parts = vec![cases];
    parts.extend(answer.read(state?.into_iter().next())?);
    record_of(parts)
}

/// The case of the rows of its three queries, in order (`None`: no case row).
fn record_of(parts: Vec<Vec<sea_orm::QueryResult>>) -> Result<Option<CaseRecord>, StoreError> {
    let mut parts = parts.into_iter();
    let (Some(cases), Some(tracks), Some(timers)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(StoreError::Corrupt(
            "a query of a case answered no parts".into(),
        ));
    };
    let Some(row) = cases.first() else {
        return Ok(None);
    };
    let row = case::Model::from_query_result(row, "")?;
    let tracks = tracks
        .iter()
        .map(|t| case_track::Model::from_query_result(t, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let timers = timers
        .iter()
        .map(|t| case_timer::Model::from_query_result(t, ""))
        .collect::<Result<Vec<_>, _>>()?;
    to_record(row, tracks, timers).map(Some)
}
