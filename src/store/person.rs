//! The person behind a case: personal data by sensitivity group (append-only versions, so that
//! what an agency saw at a moment can be shown again) and movements along the route.

use super::entities::{movement, personal_data};
use crate::domain::{DataGroup, MovementSource};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::Value as Json;
use uuid::Uuid;

/// One recorded version of one group of a case's personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataVersion {
    pub id: Uuid,
    pub case_id: Uuid,
    pub group: DataGroup,
    /// A JSON object.
    pub value: Json,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    /// The agency of the user who recorded it.
    pub agency_id: Uuid,
}

/// Appends a version.
pub async fn insert_version<C: ConnectionTrait>(conn: &C, v: &DataVersion) -> Result<(), DbErr> {
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
) -> Result<Vec<DataVersion>, DbErr> {
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
                    .map_err(|e| DbErr::Custom(format!("personal data {}: {e}", m.id)))?,
                value: m.value,
                recorded_at: m.recorded_at,
                recorded_by: m.recorded_by,
                agency_id: m.agency_id,
            })
        })
        .collect()
}

/// A movement of the person: in a country (at a place) on a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Movement {
    pub id: Uuid,
    pub case_id: Uuid,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Town, border post, camp ... (whereabouts: shown only with the CONTACT group).
    pub place: Option<String>,
    pub moved_on: NaiveDate,
    pub source: MovementSource,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// Appends a movement.
pub async fn insert_movement<C: ConnectionTrait>(conn: &C, m: &Movement) -> Result<(), DbErr> {
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

/// The route: a case's movements in date order.
pub async fn route<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<Vec<Movement>, DbErr> {
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
                    .map_err(|e| DbErr::Custom(format!("movement {}: {e}", m.id)))?,
                recorded_by: m.recorded_by,
                recorded_at: m.recorded_at,
            })
        })
        .collect()
}
