//! What travels between agencies: consents, service referrals and transfers of lead, the
//! records that decide who may see what. Status changes are conditional updates (`WHERE status
//! IN (...)`), so two agencies answering at once cannot both win.

mod consents;
mod referrals;
mod transfers;

pub use consents::*;
pub use referrals::*;
pub use transfers::*;

use super::StoreError;
use super::batch::{OfOneCase, Part, query_parts};
use super::entities::{case_access, referral, transfer};
use crate::domain::{Ground, ReferralRecord, ReferralStatus, TransferRecord, TransferStatus};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QueryResult, QuerySelect,
};
use serde_json::Value as Json;
use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use uuid::Uuid;

pub(super) fn corrupt(what: &str, id: Uuid, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {e}"))
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> Result<Json, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn set_of<T: FromStr + Ord>(
    what: &str,
    id: Uuid,
    v: Json,
) -> Result<BTreeSet<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    let names: Vec<String> = serde_json::from_value(v).map_err(|e| corrupt(what, id, e))?;
    names
        .iter()
        .map(|n| n.parse::<T>().map_err(|e| corrupt(what, id, e)))
        .collect()
}

pub(super) fn names<T: std::fmt::Display>(set: &BTreeSet<T>) -> Json {
    Json::Array(set.iter().map(|v| Json::String(v.to_string())).collect())
}

pub(super) fn parse<T: FromStr>(what: &str, id: Uuid, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| corrupt(what, id, e))
}

pub(super) fn ground_columns(g: &Ground) -> (Option<Uuid>, Option<String>, Option<String>) {
    match g {
        Ground::Consent(id) => (Some(*id), None, None),
        Ground::Override {
            basis,
            justification,
        } => (
            None,
            Some(basis.as_str().into()),
            Some(justification.clone()),
        ),
    }
}

pub(super) fn ground_of(
    what: &str,
    id: Uuid,
    consent: Option<Uuid>,
    basis: Option<String>,
    justification: Option<String>,
) -> Result<Ground, StoreError> {
    match (consent, basis) {
        (Some(c), _) => Ok(Ground::Consent(c)),
        (None, Some(b)) => Ok(Ground::Override {
            basis: parse(what, id, &b)?,
            justification: justification.unwrap_or_default(),
        }),
        (None, None) => Err(corrupt(what, id, "neither consent nor override")),
    }
}

/// Referrals and transfers still open whose answer is overdue and not yet escalated.
pub async fn overdue<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<(Vec<ReferralRecord>, Vec<TransferRecord>), StoreError> {
    let referrals = referral::Entity::find()
        .filter(referral::Column::Status.eq(ReferralStatus::Pending.as_str()))
        .filter(referral::Column::ResponseDueAt.lte(now))
        .filter(referral::Column::EscalatedAt.is_null())
        .order_by_asc(referral::Column::ResponseDueAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_referral)
        .collect::<Result<_, _>>()?;
    let transfers = transfer::Entity::find()
        .filter(transfer::Column::Status.is_in([
            TransferStatus::Offered.as_str(),
            TransferStatus::Requested.as_str(),
        ]))
        .filter(transfer::Column::ResponseDueAt.lte(now))
        .filter(transfer::Column::EscalatedAt.is_null())
        .order_by_asc(transfer::Column::ResponseDueAt)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_transfer)
        .collect::<Result<_, _>>()?;
    Ok((referrals, transfers))
}

/// Marks an overdue referral escalated; `false` if someone else did, or it was answered.
pub async fn mark_referral_escalated<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = referral::Entity::update_many()
        .col_expr(referral::Column::EscalatedAt, Expr::value(now))
        .filter(referral::Column::Id.eq(id))
        .filter(referral::Column::EscalatedAt.is_null())
        .filter(referral::Column::Status.eq(ReferralStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Marks an overdue transfer escalated; `false` if someone else did, or it was answered.
pub async fn mark_transfer_escalated<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = transfer::Entity::update_many()
        .col_expr(transfer::Column::EscalatedAt, Expr::value(now))
        .filter(transfer::Column::Id.eq(id))
        .filter(transfer::Column::EscalatedAt.is_null())
        .filter(transfer::Column::Status.is_in([
            TransferStatus::Offered.as_str(),
            TransferStatus::Requested.as_str(),
        ]))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The sharing history of some cases, as the access model reads it.
#[derive(Debug, Clone, Default)]
pub struct Sharing {
    /// Their referrals, by case then id.
    pub referrals: Vec<ReferralRecord>,
    /// Their transfers of lead, by case then id.
    pub transfers: Vec<TransferRecord>,
    /// By case, the agencies whose access a protection ended.
    pub ended: HashMap<Uuid, BTreeSet<Uuid>>,
}

/// The sharing history of the cases `case_ids`: three queries in one round trip.
pub async fn sharing_of_cases<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
) -> Result<Sharing, StoreError> {
    if case_ids.is_empty() {
        return Ok(Sharing::default());
    }
    let statements = sharing_queries(conn.get_database_backend(), case_ids);
    sharing_of_rows(query_parts(conn, statements).await?)
}

/// The three queries of [`sharing_of_cases`], as [`query_parts`] takes them.
pub fn sharing_queries(backend: DatabaseBackend, case_ids: &[Uuid]) -> Vec<Part> {
    static ONE: OfOneCase = OfOneCase::new(|backend, id| build_sharing_queries(backend, &[id]));
    match case_ids {
        [id] => ONE.of(backend, *id),
        ids => build_sharing_queries(backend, ids),
    }
}

fn build_sharing_queries(backend: DatabaseBackend, case_ids: &[Uuid]) -> Vec<Part> {
    let ids = || case_ids.iter().copied();
    vec![
        Part::of(
            referral::Entity::find()
                .filter(referral::Column::CaseId.is_in(ids()))
                .order_by_asc(referral::Column::CaseId)
                .order_by_asc(referral::Column::Id),
            0,
            backend,
        ),
        Part::of(
            transfer::Entity::find()
                .filter(transfer::Column::CaseId.is_in(ids()))
                .order_by_asc(transfer::Column::CaseId)
                .order_by_asc(transfer::Column::Id),
            1,
            backend,
        ),
        Part::of(
            case_access::Entity::find()
                .filter(case_access::Column::CaseId.is_in(ids()))
                .filter(case_access::Column::EndedAt.is_not_null()),
            2,
            backend,
        ),
    ]
}

/// The sharing history in the rows of [`sharing_queries`].
pub fn sharing_of_rows(parts: Vec<Vec<QueryResult>>) -> Result<Sharing, StoreError> {
    let mut parts = parts.into_iter();
    let (Some(referrals), Some(transfers), Some(ended)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(StoreError::Corrupt(
            "a query of sharing answered no parts".into(),
        ));
    };
    let mut sharing = Sharing::default();
    for row in &referrals {
        sharing
            .referrals
            .push(to_referral(referral::Model::from_query_result(row, "")?)?);
    }
    for row in &transfers {
        sharing
            .transfers
            .push(to_transfer(transfer::Model::from_query_result(row, "")?)?);
    }
    for row in &ended {
        let m = case_access::Model::from_query_result(row, "")?;
        sharing
            .ended
            .entry(m.case_id)
            .or_default()
            .insert(m.agency_id);
    }
    Ok(sharing)
}
