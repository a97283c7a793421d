//! The access log: who read which groups of a case's personal data, or exported its case
//! file, when, for what purpose and to whom. Append-only; nothing here updates or deletes a row.

use super::StoreError;
use super::entities::access_log;
use crate::domain::PersonalDataRead as Read;
use crate::domain::{AccessKind, DataGroup, ExportPurpose};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Records a read or an export.
pub async fn insert<C: ConnectionTrait>(conn: &C, r: &Read) -> Result<(), StoreError> {
    access_log::Entity::insert(access_log::ActiveModel {
        id: Set(r.id),
        case_id: Set(r.case_id),
        user_id: Set(r.user_id),
        agency_id: Set(r.agency_id),
        read_at: Set(r.read_at),
        purpose: Set(r.purpose.clone()),
        data_groups: Set(serde_json::Value::Array(
            r.groups
                .iter()
                .map(|g| serde_json::Value::String(g.as_str().into()))
                .collect(),
        )),
        kind: Set(r.kind.as_str().to_string()),
        purpose_category: Set(r.purpose_category.map(|c| c.as_str().to_string())),
        recipient: Set(r.recipient.clone()),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Whether the access log holds entry `id`, an export of case `case_id`.
pub async fn has_export<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    case_id: Uuid,
) -> Result<bool, StoreError> {
    Ok(access_log::Entity::find_by_id(id)
        .filter(access_log::Column::CaseId.eq(case_id))
        .filter(access_log::Column::Kind.eq(AccessKind::CaseFileExport.as_str()))
        .one(conn)
        .await?
        .is_some())
}

/// The reads and exports of a case, newest first.
pub async fn of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    limit: u64,
) -> Result<Vec<Read>, StoreError> {
    access_log::Entity::find()
        .filter(access_log::Column::CaseId.eq(case_id))
        .order_by_desc(access_log::Column::ReadAt)
        .order_by_desc(access_log::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let corrupt = |e: &dyn std::fmt::Display| {
                StoreError::Corrupt(format!("access log {}: {e}", m.id))
            };
            let names: Vec<String> =
                serde_json::from_value(m.data_groups.clone()).map_err(|e| corrupt(&e))?;
            Ok(Read {
                id: m.id,
                case_id: m.case_id,
                kind: m.kind.parse::<AccessKind>().map_err(|e| corrupt(&e))?,
                user_id: m.user_id,
                agency_id: m.agency_id,
                read_at: m.read_at,
                purpose: m.purpose.clone(),
                purpose_category: m
                    .purpose_category
                    .as_deref()
                    .map(str::parse::<ExportPurpose>)
                    .transpose()
                    .map_err(|e| corrupt(&e))?,
                recipient: m.recipient.clone(),
                groups: names
                    .iter()
                    .map(|n| n.parse::<DataGroup>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| corrupt(&e))?,
            })
        })
        .collect()
}
