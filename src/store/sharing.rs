//! Consents, service referrals and transfers of lead: the records that decide what travels
//! between agencies. Status changes are conditional updates (`WHERE status IN (...)`), so two
//! agencies answering at once cannot both win.

use super::StoreError;
use super::entities::{consent, referral, transfer};
use crate::domain::{ConsentRecord, Ground, ReferralRecord, TransferRecord};
use crate::domain::{DataGroup, ReferralStatus, TransferStatus};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use std::str::FromStr;
use uuid::Uuid;

fn corrupt(what: &str, id: Uuid, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {id}: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Json, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn set_of<T: FromStr + Ord>(what: &str, id: Uuid, v: Json) -> Result<BTreeSet<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    let names: Vec<String> = serde_json::from_value(v).map_err(|e| corrupt(what, id, e))?;
    names
        .iter()
        .map(|n| n.parse::<T>().map_err(|e| corrupt(what, id, e)))
        .collect()
}

fn names<T: std::fmt::Display>(set: &BTreeSet<T>) -> Json {
    Json::Array(set.iter().map(|v| Json::String(v.to_string())).collect())
}

fn parse<T: FromStr>(what: &str, id: Uuid, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse::<T>().map_err(|e| corrupt(what, id, e))
}

fn to_consent(m: consent::Model) -> Result<ConsentRecord, StoreError> {
    let id = m.id;
    let agency_ids: Vec<Uuid> =
        serde_json::from_value(m.agency_ids).map_err(|e| corrupt("consent", id, e))?;
    let countries: Vec<String> =
        serde_json::from_value(m.countries).map_err(|e| corrupt("consent", id, e))?;
    Ok(ConsentRecord {
        id,
        case_id: m.case_id,
        given_by: parse("consent", id, &m.given_by)?,
        child_assent: m.child_assent,
        assent_missing_reason: m.assent_missing_reason,
        purposes: set_of("consent", id, m.purposes)?,
        agency_ids: agency_ids.into_iter().collect(),
        countries: countries.into_iter().collect(),
        groups: set_of("consent", id, m.data_groups)?,
        given_at: m.given_at,
        recorded_by: m.recorded_by,
        recorded_at: m.recorded_at,
        withdrawn_at: m.withdrawn_at,
        withdrawn_by: m.withdrawn_by,
    })
}

/// Inserts a consent.
pub async fn insert_consent<C: ConnectionTrait>(
    conn: &C,
    c: &ConsentRecord,
) -> Result<(), StoreError> {
    consent::Entity::insert(consent::ActiveModel {
        id: Set(c.id),
        case_id: Set(c.case_id),
        given_by: Set(c.given_by.as_str().to_string()),
        child_assent: Set(c.child_assent),
        assent_missing_reason: Set(c.assent_missing_reason.clone()),
        purposes: Set(names(&c.purposes)),
        agency_ids: Set(to_json(&c.agency_ids)?),
        countries: Set(to_json(&c.countries)?),
        data_groups: Set(names(&c.groups)),
        given_at: Set(c.given_at),
        recorded_by: Set(c.recorded_by),
        recorded_at: Set(c.recorded_at),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// A case's consents, oldest first.
pub async fn consents_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<ConsentRecord>, StoreError> {
    consent::Entity::find()
        .filter(consent::Column::CaseId.eq(case_id))
        .order_by_asc(consent::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_consent)
        .collect()
}

/// One consent by id.
pub async fn consent_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<ConsentRecord>, StoreError> {
    consent::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_consent)
        .transpose()
}

/// Withdraws a consent if it is not withdrawn yet; `false` if it already was.
pub async fn withdraw_consent<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = consent::Entity::update_many()
        .col_expr(consent::Column::WithdrawnAt, Expr::value(now))
        .col_expr(consent::Column::WithdrawnBy, Expr::value(by))
        .filter(consent::Column::Id.eq(id))
        .filter(consent::Column::WithdrawnAt.is_null())
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

fn ground_columns(g: &Ground) -> (Option<Uuid>, Option<String>, Option<String>) {
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

fn ground_of(
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

fn to_referral(m: referral::Model) -> Result<ReferralRecord, StoreError> {
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

fn to_transfer(m: transfer::Model) -> Result<TransferRecord, StoreError> {
    let id = m.id;
    let data: Map<String, Json> =
        serde_json::from_value(m.data).map_err(|e| corrupt("transfer", id, e))?;
    let roles: Vec<String> =
        serde_json::from_value(m.offerer_roles).map_err(|e| corrupt("transfer", id, e))?;
    let ground = if m.consent_id.is_none() && m.override_basis.is_none() {
        None
    } else {
        Some(ground_of(
            "transfer",
            id,
            m.consent_id,
            m.override_basis,
            m.override_justification,
        )?)
    };
    Ok(TransferRecord {
        id,
        case_id: m.case_id,
        from_agency_id: m.from_agency_id,
        to_agency_id: m.to_agency_id,
        requested_by_receiver: m.requested_by_receiver,
        transition: m.transition,
        data,
        groups: set_of("transfer", id, m.data_groups)?,
        ground,
        status: parse("transfer", id, &m.status)?,
        status_reason: m.status_reason,
        response_due_at: m.response_due_at,
        escalated_at: m.escalated_at,
        created_by: m.created_by,
        offerer_roles: roles
            .iter()
            .map(|r| parse("transfer", id, r))
            .collect::<Result<_, _>>()?,
        created_at: m.created_at,
        updated_at: m.updated_at,
        decided_by: m.decided_by,
        decided_at: m.decided_at,
    })
}

/// Inserts a transfer.
pub async fn insert_transfer<C: ConnectionTrait>(
    conn: &C,
    t: &TransferRecord,
) -> Result<(), StoreError> {
    let (consent_id, basis, justification) = match &t.ground {
        Some(g) => ground_columns(g),
        None => (None, None, None),
    };
    transfer::Entity::insert(transfer::ActiveModel {
        id: Set(t.id),
        case_id: Set(t.case_id),
        from_agency_id: Set(t.from_agency_id),
        to_agency_id: Set(t.to_agency_id),
        requested_by_receiver: Set(t.requested_by_receiver),
        transition: Set(t.transition.clone()),
        data: Set(Json::Object(t.data.clone())),
        data_groups: Set(names(&t.groups)),
        consent_id: Set(consent_id),
        override_basis: Set(basis),
        override_justification: Set(justification),
        status: Set(t.status.as_str().into()),
        status_reason: Set(t.status_reason.clone()),
        response_due_at: Set(t.response_due_at),
        escalated_at: Set(t.escalated_at),
        created_by: Set(t.created_by),
        offerer_roles: Set(to_json(
            &t.offerer_roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>(),
        )?),
        created_at: Set(t.created_at),
        updated_at: Set(t.updated_at),
        decided_by: Set(t.decided_by),
        decided_at: Set(t.decided_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// One transfer by id.
pub async fn transfer_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<TransferRecord>, StoreError> {
    transfer::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_transfer)
        .transpose()
}

/// A case's transfers, oldest first.
pub async fn transfers_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<TransferRecord>, StoreError> {
    transfers_of_cases(conn, &[case_id]).await
}

/// The transfers of the cases `case_ids` (one query; for a page of cases), by case then id.
pub async fn transfers_of_cases<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
) -> Result<Vec<TransferRecord>, StoreError> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    transfer::Entity::find()
        .filter(transfer::Column::CaseId.is_in(case_ids.iter().copied()))
        .order_by_asc(transfer::Column::CaseId)
        .order_by_asc(transfer::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_transfer)
        .collect()
}

/// Transfers awaiting `agency`'s decision: offers to it, and requests for cases it leads.
pub async fn transfers_awaiting<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<TransferRecord>, StoreError> {
    let mut q = transfer::Entity::find().filter(
        Condition::any()
            .add(
                Condition::all()
                    .add(transfer::Column::ToAgencyId.eq(agency))
                    .add(transfer::Column::Status.eq(TransferStatus::Offered.as_str())),
            )
            .add(
                Condition::all()
                    .add(transfer::Column::FromAgencyId.eq(agency))
                    .add(transfer::Column::Status.eq(TransferStatus::Requested.as_str())),
            ),
    );
    if let Some(after) = after {
        q = q.filter(transfer::Column::Id.lt(after));
    }
    q.order_by_desc(transfer::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_transfer)
        .collect()
}

/// A transfer's new status and who decided (for status changes).
pub struct TransferDecision<'a> {
    pub to: TransferStatus,
    pub reason: Option<&'a str>,
    pub by: Uuid,
    pub now: DateTime<Utc>,
    /// The ground recorded when a request is approved or a suspended transfer resumed.
    pub ground: Option<&'a Ground>,
    pub groups: Option<&'a BTreeSet<DataGroup>>,
}

/// Changes a transfer's status if it is still in one of `from`; `false` otherwise.
pub async fn set_transfer_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    from: &[TransferStatus],
    d: TransferDecision<'_>,
) -> Result<bool, StoreError> {
    let mut update = transfer::Entity::update_many()
        .col_expr(transfer::Column::Status, Expr::value(d.to.as_str()))
        .col_expr(
            transfer::Column::StatusReason,
            Expr::value(d.reason.map(str::to_string)),
        )
        .col_expr(transfer::Column::UpdatedAt, Expr::value(d.now));
    if matches!(d.to, TransferStatus::Accepted | TransferStatus::Rejected) {
        update = update
            .col_expr(transfer::Column::DecidedBy, Expr::value(d.by))
            .col_expr(transfer::Column::DecidedAt, Expr::value(d.now));
    }
    if let Some(g) = d.ground {
        let (consent_id, basis, justification) = ground_columns(g);
        update = update
            .col_expr(transfer::Column::ConsentId, Expr::value(consent_id))
            .col_expr(transfer::Column::OverrideBasis, Expr::value(basis))
            .col_expr(
                transfer::Column::OverrideJustification,
                Expr::value(justification),
            );
    }
    if let Some(groups) = d.groups {
        update = update.col_expr(transfer::Column::DataGroups, Expr::value(names(groups)));
    }
    let r = update
        .filter(transfer::Column::Id.eq(id))
        .filter(transfer::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
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
