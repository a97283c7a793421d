//! The audit log's storage: the leaves of the global Merkle log (one per case event, written in
//! the event's own transaction: at its position on SQLite, into `audit_log_pending` on
//! PostgreSQL until [`sequence_pending`] gives it one) and signed checkpoints. Nothing here
//! updates or deletes a row of the log; a pending leaf is deleted only as it is moved into it.

use super::StoreError;
use super::batch::Writes;
use super::entities::{audit_log, case, checkpoint};
use super::pipeline::{Answer, Piped, Pipelined};
use crate::domain::audit_log::{Leaf, LeafWithEvent, PendingLeaf, StoredCheckpoint};
use chrono::{DateTime, Utc};

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

/// Appends the leaf of event `event_id` (its chain hash `leaf_hash`, hex). Call inside the
/// event's write transaction, so that the event and its leaf commit together or not at all.
///
/// SQLite: at the next position, `max + 1`, read under the write lock (SQLite's write
/// transactions are exclusive). PostgreSQL: into `audit_log_pending`, without a lock; the leaf
/// gets its position from [`sequence_pending`] after the commit. Taking the position here would
/// mean holding the log's lock until the commit, and every change of every instance would wait
/// for the previous one's fsync: PostgreSQL could not commit changes together.
pub fn append_leaf(
    writes: &mut Writes,
    event_id: Uuid,
    leaf_hash: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    use audit_log::Column;
    use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
    if writes.backend() == DatabaseBackend::Postgres {
        writes.one(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO audit_log_pending (event_id, leaf_hash, appended_at) VALUES ($1, $2, $3)",
            [event_id.into(), leaf_hash.into(), at.into()],
        ));
        return Ok(());
    }
    // `max + 1` read and written in one statement (one round trip instead of two).
    let next = Query::select()
        .expr(Func::coalesce([
            Expr::col(Column::Position).max().add(1i64),
            Expr::val(0i64),
        ]))
        .expr(Expr::val(event_id))
        .expr(Expr::val(leaf_hash))
        .expr(Expr::val(at))
        .from(audit_log::Entity)
        .to_owned();
    let insert = Query::insert()
        .into_table(audit_log::Entity)
        .columns([
            Column::Position,
            Column::EventId,
            Column::LeafHash,
            Column::AppendedAt,
        ])
        .select_from(next)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .to_owned();
    let backend = writes.backend();
    writes.one(backend.build(&insert));
    Ok(())
}

/// Gives the leaves waiting in `audit_log_pending` their positions, in the order they arrived,
/// after the log's last; returns how many. Call inside a write transaction: it holds the log's
/// lock until that transaction ends, so positions stay gap-free and no two callers (instances)
/// hand out the same one. One statement takes exactly the rows it moves (a leaf committed
/// meanwhile waits for the next call). Nothing to do on SQLite (see [`append_leaf`]).
pub async fn sequence_pending<C: Pipelined>(conn: &C) -> Result<u64, StoreError> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(0);
    }
    placed(&conn.pipeline(sequencing()).await?)
}

/// [`sequence_pending`]'s statements on PostgreSQL, to send in one round trip with others
/// after them ([`crate::store::pipeline`]): the log's lock, then the move, which runs once the
/// lock is held. [`placed`] reads how many leaves the move placed from the pipeline's answers.
pub fn sequencing() -> Vec<Piped> {
    vec![
        Piped::Count(super::exclusive_lock(super::LOCK_AUDIT_LOG)),
        Piped::Count(Statement::from_string(
            DatabaseBackend::Postgres,
            "WITH moved AS (DELETE FROM audit_log_pending \
                            RETURNING arrival, event_id, leaf_hash, appended_at), \
                  last AS (SELECT COALESCE(MAX(position), -1) AS p FROM audit_log) \
             INSERT INTO audit_log (position, event_id, leaf_hash, appended_at) \
             SELECT last.p + ROW_NUMBER() OVER (ORDER BY moved.arrival), \
                    moved.event_id, moved.leaf_hash, moved.appended_at \
             FROM moved, last",
        )),
    ]
}

/// How many leaves the statements of [`sequencing`] placed, from the answers of the pipeline
/// they began.
pub fn placed(answers: &[Answer]) -> Result<u64, StoreError> {
    match answers.get(1) {
        Some(Answer::Count(moved)) => Ok(*moved),
        _ => Err(StoreError::Corrupt(
            "the placing of log leaves answered in another shape".into(),
        )),
    }
}

/// The leaves waiting for a position, each with its event and its placed leaf, if any.
pub(crate) const PENDING: &str = "SELECT p.event_id, p.leaf_hash, e.case_id AS e_case_id, \
         e.seq AS e_seq, e.hash AS e_hash, l.position AS also_at \
     FROM audit_log_pending p LEFT JOIN case_events e ON e.id = p.event_id \
          LEFT JOIN audit_log l ON l.event_id = p.event_id \
     ORDER BY p.arrival";

/// The leaves still waiting for a position, in the order they arrived, with their events
/// (always none on SQLite).
pub async fn pending<C: ConnectionTrait>(conn: &C) -> Result<Vec<PendingLeaf>, StoreError> {
    let stmt = Statement::from_string(conn.get_database_backend(), PENDING);
    let mut out = Vec::new();
    for row in conn.query_all_raw(stmt).await? {
        let case_id: Option<Uuid> = row.try_get("", "e_case_id")?;
        let event = match case_id {
            Some(case_id) => Some((
                case_id,
                row.try_get("", "e_seq")?,
                row.try_get("", "e_hash")?,
            )),
            None => None,
        };
        out.push(PendingLeaf {
            event_id: row.try_get("", "event_id")?,
            leaf_hash: row.try_get("", "leaf_hash")?,
            event,
            also_at: row.try_get("", "also_at")?,
        });
    }
    Ok(out)
}

/// The log's size as its positions say: the highest position + 1 (0 when empty).
pub async fn size<C: ConnectionTrait>(conn: &C) -> Result<i64, StoreError> {
    let max: Option<Option<i64>> = audit_log::Entity::find()
        .select_only()
        .column_as(audit_log::Column::Position.max(), "m")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(max.flatten().map_or(0, |m| m + 1))
}

/// The leaves with `from <= position < to`, in order.
pub async fn leaves<C: ConnectionTrait>(
    conn: &C,
    from: i64,
    to: i64,
) -> Result<Vec<Leaf>, StoreError> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::Position.gte(from))
        .filter(audit_log::Column::Position.lt(to))
        .order_by_asc(audit_log::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Leaf {
            position: m.position,
            event_id: m.event_id,
            leaf_hash: m.leaf_hash,
            appended_at: m.appended_at,
        })
        .collect())
}

/// The leaves from position `from` on, at most `limit`, each with its event: SQL whose two
/// values are given as text (numbers, or the caller's parameters).
pub(crate) fn leaves_with_events_sql(from: &str, limit: &str) -> String {
    format!(
        "SELECT l.position, l.event_id, l.leaf_hash, l.appended_at, \
                e.case_id AS e_case_id, e.seq AS e_seq, e.hash AS e_hash \
         FROM audit_log l LEFT JOIN case_events e ON e.id = l.event_id \
         WHERE l.position >= {from} ORDER BY l.position LIMIT {limit}"
    )
}

/// Up to `limit` leaves from position `from` on, in order, each with its event (one query).
pub async fn leaves_with_events<C: ConnectionTrait>(
    conn: &C,
    from: i64,
    limit: u64,
) -> Result<Vec<LeafWithEvent>, StoreError> {
    let sql = leaves_with_events_sql(&from.to_string(), &limit.to_string());
    let stmt = sea_orm::Statement::from_string(conn.get_database_backend(), sql);
    let mut out = Vec::new();
    for row in conn.query_all_raw(stmt).await? {
        let leaf = Leaf {
            position: row.try_get("", "position")?,
            event_id: row.try_get("", "event_id")?,
            leaf_hash: row.try_get("", "leaf_hash")?,
            appended_at: row.try_get("", "appended_at")?,
        };
        let case_id: Option<Uuid> = row.try_get("", "e_case_id")?;
        let event = match case_id {
            Some(case_id) => Some((
                case_id,
                row.try_get("", "e_seq")?,
                row.try_get("", "e_hash")?,
            )),
            None => None,
        };
        out.push((leaf, event));
    }
    Ok(out)
}

/// The position of the first leaf whose event already has a leaf at a lower position.
pub(crate) const FIRST_REPEATED_LEAF: &str = "SELECT a.position FROM audit_log a WHERE EXISTS \
     (SELECT 1 FROM audit_log b WHERE b.event_id = a.event_id AND b.position < a.position) \
     ORDER BY a.position LIMIT 1";

/// The position of the first leaf whose event already has a leaf at a lower position.
pub async fn first_repeated_leaf<C: ConnectionTrait>(conn: &C) -> Result<Option<i64>, StoreError> {
    let stmt = sea_orm::Statement::from_string(conn.get_database_backend(), FIRST_REPEATED_LEAF);
    match conn.query_one_raw(stmt).await? {
        Some(row) => Ok(Some(row.try_get("", "position")?)),
        None => Ok(None),
    }
}

/// The leaf of an event.
pub async fn leaf_of_event<C: ConnectionTrait>(
    conn: &C,
    event_id: Uuid,
) -> Result<Option<Leaf>, StoreError> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::EventId.eq(event_id))
        .one(conn)
        .await?
        .map(|m| Leaf {
            position: m.position,
            event_id: m.event_id,
            leaf_hash: m.leaf_hash,
            appended_at: m.appended_at,
        }))
}

pub(crate) fn to_checkpoint(m: checkpoint::Model) -> StoredCheckpoint {
    StoredCheckpoint {
        tree_size: m.tree_size,
        root_hash: m.root_hash,
        created_at: m.created_at,
        key_id: m.key_id,
        public_key: m.public_key,
        signature: m.signature,
    }
}

/// Stores a checkpoint (one per tree size; a second one for the same size is ignored).
pub async fn insert_checkpoint<C: ConnectionTrait>(
    conn: &C,
    c: &StoredCheckpoint,
) -> Result<(), StoreError> {
    if checkpoint_at(conn, c.tree_size).await?.is_some() {
        return Ok(());
    }
    checkpoint::Entity::insert(checkpoint::ActiveModel {
        tree_size: Set(c.tree_size),
        root_hash: Set(c.root_hash.clone()),
        created_at: Set(c.created_at),
        key_id: Set(c.key_id.clone()),
        public_key: Set(c.public_key.clone()),
        signature: Set(c.signature.clone()),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The checkpoint of a tree size.
pub async fn checkpoint_at<C: ConnectionTrait>(
    conn: &C,
    tree_size: i64,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    Ok(checkpoint::Entity::find_by_id(tree_size)
        .one(conn)
        .await?
        .map(to_checkpoint))
}

/// The checkpoint with the largest tree size.
pub async fn latest_checkpoint<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<StoredCheckpoint>, StoreError> {
    Ok(checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::TreeSize)
        .one(conn)
        .await?
        .map(to_checkpoint))
}

/// Every checkpoint, smallest tree first.
pub async fn checkpoints<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<StoredCheckpoint>, StoreError> {
    Ok(checkpoint::Entity::find()
        .order_by_asc(checkpoint::Column::TreeSize)
        .all(conn)
        .await?
        .into_iter()
        .map(to_checkpoint)
        .collect())
}

/// A case's reference, if the case exists (for naming it in the verifier's findings).
pub async fn case_reference<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<String>, StoreError> {
    case::Entity::find_by_id(id)
        .select_only()
        .column(case::Column::Reference)
        .into_tuple()
        .one(conn)
        .await
        .map_err(Into::into)
}
