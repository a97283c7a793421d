//! Consents: recorded once, immutable except for their withdrawal.

use super::super::StoreError;
use super::{corrupt, names, parse, set_of, to_json};
use crate::domain::ConsentRecord;
use crate::store::entities::consent;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

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
        // Nil (no agency: the note stays with the auditors) only where the migration found no
        // recording user.
        recorded_by_agency: m.recorded_by_agency_id.unwrap_or_default(),
        recorded_at: m.recorded_at,
        withdrawn_at: m.withdrawn_at,
        withdrawn_by: m.withdrawn_by,
        withheld: Vec::new(),
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
        recorded_by_agency_id: Set(Some(c.recorded_by_agency)),
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
