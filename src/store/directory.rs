//! Agencies, users and bearer tokens.

use super::entities::{agency, api_token, user};
use crate::access::Principal;
use crate::domain::{AgencyKind, Role};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use std::collections::HashMap;
use uuid::Uuid;

/// An agency as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
    pub kind: AgencyKind,
    pub country: String,
}

/// A user as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
}

fn to_agency(m: agency::Model) -> Result<Agency, DbErr> {
    let kind = m
        .kind
        .parse()
        .map_err(|e| DbErr::Custom(format!("agency {}: {e}", m.id)))?;
    Ok(Agency {
        id: m.id,
        name: m.name,
        kind,
        country: m.country,
    })
}

fn to_user(m: user::Model) -> Result<User, DbErr> {
    let names: Vec<String> = serde_json::from_str(&m.roles)
        .map_err(|e| DbErr::Custom(format!("user {}: roles: {e}", m.id)))?;
    let roles = names
        .iter()
        .map(|r| r.parse::<Role>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DbErr::Custom(format!("user {}: {e}", m.id)))?;
    Ok(User {
        id: m.id,
        username: m.username,
        display_name: m.display_name,
        agency_id: m.agency_id,
        roles,
    })
}

/// Inserts an agency.
pub async fn insert_agency<C: ConnectionTrait>(
    conn: &C,
    a: &Agency,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    agency::Entity::insert(agency::ActiveModel {
        id: Set(a.id),
        name: Set(a.name.clone()),
        kind: Set(a.kind.as_str().to_string()),
        country: Set(a.country.clone()),
        created_at: Set(now),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Inserts a user.
pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    u: &User,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    user::Entity::insert(user::ActiveModel {
        id: Set(u.id),
        username: Set(u.username.clone()),
        display_name: Set(u.display_name.clone()),
        agency_id: Set(u.agency_id),
        roles: Set(serde_json::to_string(&roles).map_err(|e| DbErr::Custom(e.to_string()))?),
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
) -> Result<(), DbErr> {
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
) -> Result<Option<User>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(conn)
        .await?
        .map(to_user)
        .transpose()
}

/// The agency with this id.
pub async fn agency_by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Agency>, DbErr> {
    agency::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_agency)
        .transpose()
}

/// The user with this id.
pub async fn user_by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<User>, DbErr> {
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
) -> Result<HashMap<Uuid, Agency>, DbErr> {
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
) -> Result<HashMap<Uuid, User>, DbErr> {
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|m| to_user(m).map(|u| (u.id, u)))
        .collect()
}

/// Every agency, by country then name.
pub async fn all_agencies<C: ConnectionTrait>(conn: &C) -> Result<Vec<Agency>, DbErr> {
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
) -> Result<Option<Principal>, DbErr> {
    let Some(token) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = user_by_id(conn, token.user_id).await? else {
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
