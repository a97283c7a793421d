//! The person behind a case: personal data by sensitivity group (append-only versions, so that
//! what an agency saw at a moment can be shown again) and movements along the route.

use super::StoreError;
use super::entities::{movement, personal_data};
use crate::domain::{DataVersion, Movement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// Appends a version.
pub async fn insert_version<C: ConnectionTrait>(
    conn: &C,
    v: &DataVersion,
) -> Result<(), StoreError> {
    personal_data::Entity::insert(personal_data::ActiveModel {
        id: Set(v.id),
        case_id: Set(v.case_id),
        data_group: Set(v.group.as_str().into()),
        value: Set(v.value.clone()),
        recorded_at: Set(v.recorded_at),
        recorded_by: Set(v.recorded_by),
        agency_id: Set(v.agency_id),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Every version of a case's personal data, oldest first.
pub async fn versions<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<DataVersion>, StoreError> {
    personal_data::Entity::find()
        .filter(personal_data::Column::CaseId.eq(case_id))
        .order_by_asc(personal_data::Column::RecordedAt)
        .order_by_asc(personal_data::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            Ok(DataVersion {
                id: m.id,
                case_id: m.case_id,
                group: m
                    .data_group
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("personal data {}: {e}", m.id)))?,
                value: m.value,
                recorded_at: m.recorded_at,
                recorded_by: m.recorded_by,
                agency_id: m.agency_id,
            })
        })
        .collect()
}

/// Appends a movement.
pub async fn insert_movement<C: ConnectionTrait>(conn: &C, m: &Movement) -> Result<(), StoreError> {
    movement::Entity::insert(movement::ActiveModel {
        id: Set(m.id),
        case_id: Set(m.case_id),
        country: Set(m.country.clone()),
        place: Set(m.place.clone()),
        moved_on: Set(m.moved_on),
        source: Set(m.source.as_str().into()),
        recorded_by: Set(m.recorded_by),
        recorded_at: Set(m.recorded_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The countries on the routes of `cases` (no places, no dates), by case.
pub async fn route_countries<C: ConnectionTrait>(
    conn: &C,
    cases: &[Uuid],
) -> Result<HashMap<Uuid, BTreeSet<String>>, StoreError> {
    if cases.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = movement::Entity::find()
        .select_only()
        .column(movement::Column::CaseId)
        .column(movement::Column::Country)
        .filter(movement::Column::CaseId.is_in(cases.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<Uuid, BTreeSet<String>> = HashMap::new();
    for (case, country) in rows {
        out.entry(case).or_default().insert(country);
    }
    Ok(out)
}

/// The route: a case's movements in date order.
pub async fn route<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<Movement>, StoreError> {
    movement::Entity::find()
        .filter(movement::Column::CaseId.eq(case_id))
        .order_by_asc(movement::Column::MovedOn)
        .order_by_asc(movement::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Movement {
                id: m.id,
                case_id: m.case_id,
                country: m.country,
                place: m.place,
                moved_on: m.moved_on,
                source: m
                    .source
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("movement {}: {e}", m.id)))?,
                recorded_by: m.recorded_by,
                recorded_at: m.recorded_at,
            })
        })
        .collect()
}
