//! The directory: countries and their focal points, agencies, users and bearer tokens.

use super::StoreError;
use super::entities::{agency, api_token, country, user};
use crate::access::Principal;
use crate::domain::{Agency, Country, User};
use crate::domain::{AgencyKind, Role, country_name};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

fn to_agency(m: agency::Model) -> Result<Agency, StoreError> {
    let kind = m
        .kind
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("agency {}: {e}", m.id)))?;
    Ok(Agency {
        id: m.id,
        name: m.name,
        kind,
        country: m.country,
        represented_country: m.represented_country,
    })
}

fn to_country(m: country::Model) -> Country {
    Country {
        code: m.code,
        name: m.name,
        focal_point_agency_id: m.focal_point_agency_id,
    }
}

fn to_user(m: user::Model) -> Result<User, StoreError> {
    let names: Vec<String> = serde_json::from_str(&m.roles)
        .map_err(|e| StoreError::Corrupt(format!("user {}: roles: {e}", m.id)))?;
    let roles = names
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", m.id)))?;
    Ok(User {
        id: m.id,
        username: m.username,
        display_name: m.display_name,
        agency_id: m.agency_id,
        roles,
    })
}

/// Inserts an agency, and the row of its country if there is none yet (named after ISO 3166-1).
/// The caller has checked the codes.
pub async fn insert_agency<C: ConnectionTrait>(
    conn: &C,
    a: &Agency,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    ensure_country(conn, &a.country, now).await?;
    agency::Entity::insert(agency::ActiveModel {
        id: Set(a.id),
        name: Set(a.name.clone()),
        kind: Set(a.kind.as_str().to_string()),
        country: Set(a.country.clone()),
        created_at: Set(now),
        represented_country: Set(a.represented_country.clone()),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Changes an agency's name, kind and represented country (its country never changes). Returns
/// whether the agency exists.
pub async fn update_agency<C: ConnectionTrait>(conn: &C, a: &Agency) -> Result<bool, StoreError> {
    let result = agency::Entity::update_many()
        .col_expr(agency::Column::Name, a.name.clone().into())
        .col_expr(agency::Column::Kind, a.kind.as_str().into())
        .col_expr(
            agency::Column::RepresentedCountry,
            a.represented_country.clone().into(),
        )
        .filter(agency::Column::Id.eq(a.id))
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Agencies, by country then name; only those in `country` and of `kind` when given.
pub async fn agencies<C: ConnectionTrait>(
    conn: &C,
    country: Option<&str>,
    kind: Option<AgencyKind>,
) -> Result<Vec<Agency>, StoreError> {
    let mut query = agency::Entity::find();
    if let Some(country) = country {
        query = query.filter(agency::Column::Country.eq(country));
    }
    if let Some(kind) = kind {
        query = query.filter(agency::Column::Kind.eq(kind.as_str()));
    }
    query
        .order_by_asc(agency::Column::Country)
        .order_by_asc(agency::Column::Name)
        .order_by_asc(agency::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_agency)
        .collect()
}

/// The agencies of each of `countries`, by name (a country without agencies is absent): one
/// statement for a page listing many countries.
pub async fn agencies_in_countries<C: ConnectionTrait>(
    conn: &C,
    countries: &[String],
) -> Result<HashMap<String, Vec<Agency>>, StoreError> {
    let mut by_country: HashMap<String, Vec<Agency>> = HashMap::new();
    if countries.is_empty() {
        return Ok(by_country);
    }
    let rows = agency::Entity::find()
        .filter(agency::Column::Country.is_in(countries.iter().map(String::as_str)))
        .order_by_asc(agency::Column::Name)
        .order_by_asc(agency::Column::Id)
        .all(conn)
        .await?;
    for row in rows {
        let agency = to_agency(row)?;
        by_country
            .entry(agency.country.clone())
            .or_default()
            .push(agency);
    }
    Ok(by_country)
}

/// Adds the row of `code` (named after ISO 3166-1, or after the code itself when it is not
/// an assigned code) unless it exists. One statement; never fails on an existing row.
pub async fn ensure_country<C: ConnectionTrait>(
    conn: &C,
    code: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let name = country_name(code).unwrap_or(code);
    country::Entity::insert(country::ActiveModel {
        code: Set(code.to_string()),
        name: Set(name.to_string()),
        focal_point_agency_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(country::Column::Code)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Every country of the directory, by code.
pub async fn countries<C: ConnectionTrait>(conn: &C) -> Result<Vec<Country>, StoreError> {
    Ok(country::Entity::find()
        .order_by_asc(country::Column::Code)
        .all(conn)
        .await?
        .into_iter()
        .map(to_country)
        .collect())
}

/// The country with this ISO 3166-1 alpha-2 code, if the directory has it.
pub async fn country_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<Country>, StoreError> {
    Ok(country::Entity::find_by_id(code.to_string())
        .one(conn)
        .await?
        .map(to_country))
}

/// Makes `agency_id` the focal point of `country`. Returns whether the country exists. The
/// caller has checked that the agency is in that country.
pub async fn set_focal_point<C: ConnectionTrait>(
    conn: &C,
    country: &str,
    agency_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = country::Entity::update_many()
        .col_expr(country::Column::FocalPointAgencyId, Some(agency_id).into())
        .col_expr(country::Column::UpdatedAt, now.into())
        .filter(country::Column::Code.eq(country))
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The focal point agency of `country` (ISO 3166-1 alpha-2), if the country has one. One query.
pub async fn focal_point<C: ConnectionTrait>(
    conn: &C,
    country: &str,
) -> Result<Option<Agency>, StoreError> {
    agency::Entity::find()
        .filter(
            agency::Column::Id.in_subquery(
                Query::select()
                    .column(country::Column::FocalPointAgencyId)
                    .from(country::Entity)
                    .and_where(country::Column::Code.eq(country))
                    .to_owned(),
            ),
        )
        .one(conn)
        .await?
        .map(to_agency)
        .transpose()
}

/// The users of an agency, by username.
pub async fn users_of_agency<C: ConnectionTrait>(
    conn: &C,
    agency_id: Uuid,
) -> Result<Vec<User>, StoreError> {
    Ok(users_of_agencies(conn, &[agency_id])
        .await?
        .remove(&agency_id)
        .unwrap_or_default())
}

/// The users of each of `agency_ids`, by username (an agency without users is absent): one
/// statement for a page listing many agencies.
pub async fn users_of_agencies<C: ConnectionTrait>(
    conn: &C,
    agency_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<User>>, StoreError> {
    let mut by_agency: HashMap<Uuid, Vec<User>> = HashMap::new();
    if agency_ids.is_empty() {
        return Ok(by_agency);
    }
    let rows = user::Entity::find()
        .filter(user::Column::AgencyId.is_in(agency_ids.iter().copied()))
        .order_by_asc(user::Column::Username)
        .all(conn)
        .await?;
    for row in rows {
        let user = to_user(row)?;
        by_agency.entry(user.agency_id).or_default().push(user);
    }
    Ok(by_agency)
}

/// Inserts a user.
pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    u: &User,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    user::Entity::insert(user::ActiveModel {
        id: Set(u.id),
        username: Set(u.username.clone()),
        display_name: Set(u.display_name.clone()),
        agency_id: Set(u.agency_id),
        roles: Set(serde_json::to_string(&roles).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        created_at: Set(now),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Stores the hash of a new token for `user_id`.
pub async fn insert_token<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    api_token::Entity::insert(api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        token_hash: Set(token_hash.to_string()),
        created_at: Set(now),
        revoked_at: Set(None),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The user with this username.
pub async fn user_by_username<C: ConnectionTrait>(
    conn: &C,
    username: &str,
) -> Result<Option<User>, StoreError> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(conn)
        .await?
        .map(to_user)
        .transpose()
}

/// The agency with this id.
pub async fn agency_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<Agency>, StoreError> {
    agency::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_agency)
        .transpose()
}

/// The user with this id.
pub async fn user_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<User>, StoreError> {
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_user)
        .transpose()
}

/// Agencies by id, for a page of results (one query, not one per row).
pub async fn agencies_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Agency>, StoreError> {
    let rows = agency::Entity::find()
        .filter(agency::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|m| to_agency(m).map(|a| (a.id, a)))
        .collect()
}

/// Users by id, for a page of results.
pub async fn users_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, User>, StoreError> {
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|m| to_user(m).map(|u| (u.id, u)))
        .collect()
}

/// Every agency, by country then name.
pub async fn all_agencies<C: ConnectionTrait>(conn: &C) -> Result<Vec<Agency>, StoreError> {
    agency::Entity::find()
        .order_by_asc(agency::Column::Country)
        .order_by_asc(agency::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(to_agency)
        .collect()
}

/// The principal behind a token hash, if the token exists and is not revoked.
pub async fn principal_by_token_hash<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<Principal>, StoreError> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    principal_of_user(conn, token.user_id).await
}

/// The principal of user `user_id` (a console session's), if the user and its agency exist.
pub async fn principal_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Option<Principal>, StoreError> {
    let Some(user) = user_by_id(conn, user_id).await? else {
        return Ok(None);
    };
    let Some(agency) = agency_by_id(conn, user.agency_id).await? else {
        return Ok(None);
    };
    Ok(Some(Principal {
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        agency_id: agency.id,
        agency_name: agency.name,
        agency_kind: agency.kind,
        country: agency.country,
        roles: user.roles,
    }))
}
