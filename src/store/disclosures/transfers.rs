//! Transfers of lead.

use super::super::StoreError;
use super::{corrupt, names, parse, set_of, to_json};
use super::{ground_columns, ground_of};
use crate::domain::{DataGroup, Ground, TransferRecord, TransferStatus};
use crate::store::entities::transfer;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use uuid::Uuid;

pub(super) fn to_transfer(m: transfer::Model) -> Result<TransferRecord, StoreError> {
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
        withheld: Vec::new(),
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
