//! Break-glass accesses: who opened which case outside their access, why, until when, and how
//! the lead agency judged it.

use super::StoreError;
use super::entities::{break_glass, case};
use crate::domain::BreakGlass;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

fn from_model(m: break_glass::Model) -> BreakGlass {
    BreakGlass {
        id: m.id,
        case_id: m.case_id,
        user_id: m.user_id,
        agency_id: m.agency_id,
        lead_agency_id: m.lead_agency_id.unwrap_or_default(),
        justification: m.justification,
        opened_at: m.opened_at,
        expires_at: m.expires_at,
        review_due_at: m.review_due_at,
        reviewed_at: m.reviewed_at,
        reviewed_by: m.reviewed_by,
        reviewed_by_agency: m.reviewed_by_agency_id,
        justified: m.justified,
        review_note: m.review_note,
        withheld: Vec::new(),
    }
}

/// Inserts a break-glass access.
pub async fn insert<C: ConnectionTrait>(conn: &C, b: &BreakGlass) -> Result<(), StoreError> {
    break_glass::Entity::insert(break_glass::ActiveModel {
        id: Set(b.id),
        case_id: Set(b.case_id),
        user_id: Set(b.user_id),
        agency_id: Set(b.agency_id),
        lead_agency_id: Set(Some(b.lead_agency_id)),
        justification: Set(b.justification.clone()),
        opened_at: Set(b.opened_at),
        expires_at: Set(b.expires_at),
        review_due_at: Set(b.review_due_at),
        reviewed_at: Set(None),
        reviewed_by: Set(None),
        reviewed_by_agency_id: Set(None),
        justified: Set(None),
        review_note: Set(None),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The latest expiry of `user`'s break-glass accesses to `case_id` still open at `now`.
pub async fn active_until<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(active_until_many(conn, &[case_id], user_id, now)
        .await?
        .remove(&case_id))
}

/// [`active_until`] for each of the cases `case_ids` that has an active break-glass access of
/// `user_id` (one query).
pub async fn active_until_many<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<Uuid, DateTime<Utc>>, StoreError> {
    let mut out = std::collections::HashMap::new();
    if case_ids.is_empty() {
        return Ok(out);
    }
    for m in break_glass::Entity::find()
        .filter(break_glass::Column::CaseId.is_in(case_ids.iter().copied()))
        .filter(break_glass::Column::UserId.eq(user_id))
        .filter(break_glass::Column::ExpiresAt.gt(now))
        .all(conn)
        .await?
    {
        let until = out.entry(m.case_id).or_insert(m.expires_at);
        if m.expires_at > *until {
            *until = m.expires_at;
        }
    }
    Ok(out)
}

/// A case's break-glass accesses, oldest first.
pub async fn of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<BreakGlass>, StoreError> {
    Ok(break_glass::Entity::find()
        .filter(break_glass::Column::CaseId.eq(case_id))
        .order_by_asc(break_glass::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

/// One by id.
pub async fn by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<BreakGlass>, StoreError> {
    Ok(break_glass::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(from_model))
}

/// Unreviewed accesses to cases led by `agency` (for its worklist).
pub async fn unreviewed_for_lead<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
) -> Result<Vec<BreakGlass>, StoreError> {
    let mut led = Query::select();
    led.column(case::Column::Id)
        .from(case::Entity)
        .and_where(Expr::col(case::Column::LeadAgencyId).eq(agency));
    Ok(break_glass::Entity::find()
        .filter(break_glass::Column::CaseId.in_subquery(led.to_owned()))
        .filter(break_glass::Column::ReviewedAt.is_null())
        .order_by_asc(break_glass::Column::ReviewDueAt)
        .all(conn)
        .await?
        .into_iter()
        .map(from_model)
        .collect())
}

/// Records the review by `by` (user, agency); `false` if it was already reviewed.
pub async fn review<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: (Uuid, Uuid),
    justified: bool,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = break_glass::Entity::update_many()
        .col_expr(break_glass::Column::ReviewedAt, Expr::value(now))
        .col_expr(break_glass::Column::ReviewedBy, Expr::value(by.0))
        .col_expr(break_glass::Column::ReviewedByAgencyId, Expr::value(by.1))
        .col_expr(break_glass::Column::Justified, Expr::value(justified))
        .col_expr(
            break_glass::Column::ReviewNote,
            Expr::value(note.map(str::to_string)),
        )
        .filter(break_glass::Column::Id.eq(id))
        .filter(break_glass::Column::ReviewedAt.is_null())
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Ends a break-glass access now (a protection of the case ended it); `false` if it had
/// already expired.
pub async fn end<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = break_glass::Entity::update_many()
        .col_expr(break_glass::Column::ExpiresAt, Expr::value(now))
        .filter(break_glass::Column::Id.eq(id))
        .filter(break_glass::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}
