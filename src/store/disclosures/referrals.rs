//! Service referrals.

use super::super::StoreError;
use super::{ground_columns, ground_of};
use super::{names, parse, set_of};
use crate::domain::{ReferralRecord, ReferralStatus};
use crate::store::entities::referral;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

pub(super) fn to_referral(m: referral::Model) -> Result<ReferralRecord, StoreError> {
    let id = m.id;
    Ok(ReferralRecord {
        id,
        case_id: m.case_id,
        from_agency_id: m.from_agency_id,
        to_agency_id: m.to_agency_id,
        service: parse("referral", id, &m.service)?,
        purpose: m.purpose,
        groups: set_of("referral", id, m.data_groups)?,
        ground: ground_of(
            "referral",
            id,
            m.consent_id,
            m.override_basis,
            m.override_justification,
        )?,
        status: parse("referral", id, &m.status)?,
        status_reason: m.status_reason,
        outcome_successful: m.outcome_successful,
        response_due_at: m.response_due_at,
        escalated_at: m.escalated_at,
        lead_agency_id: m.lead_agency_id,
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        withheld: Vec::new(),
    })
}

/// Inserts a referral.
pub async fn insert_referral<C: ConnectionTrait>(
    conn: &C,
    r: &ReferralRecord,
) -> Result<(), StoreError> {
    let (consent_id, basis, justification) = ground_columns(&r.ground);
    referral::Entity::insert(referral::ActiveModel {
        id: Set(r.id),
        case_id: Set(r.case_id),
        from_agency_id: Set(r.from_agency_id),
        to_agency_id: Set(r.to_agency_id),
        service: Set(r.service.as_str().into()),
        purpose: Set(r.purpose.clone()),
        data_groups: Set(names(&r.groups)),
        consent_id: Set(consent_id),
        override_basis: Set(basis),
        override_justification: Set(justification),
        status: Set(r.status.as_str().into()),
        status_reason: Set(r.status_reason.clone()),
        outcome_successful: Set(r.outcome_successful),
        response_due_at: Set(r.response_due_at),
        escalated_at: Set(r.escalated_at),
        lead_agency_id: Set(r.lead_agency_id),
        created_by: Set(r.created_by),
        created_at: Set(r.created_at),
        updated_at: Set(r.updated_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// One referral by id.
pub async fn referral_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<ReferralRecord>, StoreError> {
    referral::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_referral)
        .transpose()
}

/// A case's referrals, oldest first.
pub async fn referrals_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<ReferralRecord>, StoreError> {
    referrals_of_cases(conn, &[case_id]).await
}

/// The referrals of the cases `case_ids` (one query; for a page of cases), by case then id.
pub async fn referrals_of_cases<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
) -> Result<Vec<ReferralRecord>, StoreError> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    referral::Entity::find()
        .filter(referral::Column::CaseId.is_in(case_ids.iter().copied()))
        .order_by_asc(referral::Column::CaseId)
        .order_by_asc(referral::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_referral)
        .collect()
}

/// Referrals addressed to `agency` (optionally only in `statuses`), newest first.
pub async fn referrals_to<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    statuses: &[ReferralStatus],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ReferralRecord>, StoreError> {
    let mut q = referral::Entity::find().filter(referral::Column::ToAgencyId.eq(agency));
    if !statuses.is_empty() {
        q = q.filter(referral::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(after) = after {
        q = q.filter(referral::Column::Id.lt(after));
    }
    q.order_by_desc(referral::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_referral)
        .collect()
}

/// Changes a referral's status if it is still in one of `from`; `false` otherwise.
pub async fn set_referral_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &[ReferralStatus],
    to: ReferralStatus,
    reason: Option<&str>,
    outcome_successful: Option<bool>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut update = referral::Entity::update_many()
        .col_expr(referral::Column::Status, Expr::value(to.as_str()))
        .col_expr(
            referral::Column::StatusReason,
            Expr::value(reason.map(str::to_string)),
        )
        .col_expr(referral::Column::UpdatedAt, Expr::value(now));
    if outcome_successful.is_some() {
        update = update.col_expr(
            referral::Column::OutcomeSuccessful,
            Expr::value(outcome_successful),
        );
    }
    let r = update
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Moves a referral's response deadline (when it is resumed).
pub async fn set_referral_due<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    due: DateTime<Utc>,
) -> Result<(), StoreError> {
    referral::Entity::update_many()
        .col_expr(referral::Column::ResponseDueAt, Expr::value(due))
        .col_expr(
            referral::Column::EscalatedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(referral::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
