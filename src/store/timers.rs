//! Timer queries for the scheduler and for deadlines.

use super::StoreError;
use super::entities::case_timer;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Up to `limit` timers due by `now` that have not been recorded as elapsed, oldest first.
pub async fn due<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    case_timer::Entity::find()
        .select_only()
        .column(case_timer::Column::CaseId)
        .column(case_timer::Column::Timer)
        .filter(case_timer::Column::DueAt.lte(now))
        .filter(case_timer::Column::FiredAt.is_null())
        .filter(case_timer::Column::StoppedAt.is_null())
        .filter(case_timer::Column::PausedAt.is_null())
        .order_by_asc(case_timer::Column::DueAt)
        .limit(limit)
        .into_tuple()
        .all(conn)
        .await
        .map_err(Into::into)
}

/// Marks a due timer as elapsed; `false` if another instance did it first (or it changed).
/// This conditional update is what makes firing exactly-once across instances.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    timer: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = case_timer::Entity::update_many()
        .col_expr(case_timer::Column::FiredAt, Expr::value(now))
        .filter(case_timer::Column::CaseId.eq(case_id))
        .filter(case_timer::Column::Timer.eq(timer))
        .filter(case_timer::Column::DueAt.lte(now))
        .filter(case_timer::Column::FiredAt.is_null())
        .filter(case_timer::Column::StoppedAt.is_null())
        .filter(case_timer::Column::PausedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}
