//! The web console's sessions: created at sign-in, read and touched at every request, deleted
//! at sign-out or when they end.

use super::StoreError;
use super::entities::console_session;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: Uuid,
    pub csrf_token: String,
    pub language: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    row: &SessionRow,
) -> Result<(), StoreError> {
    console_session::Entity::insert(console_session::ActiveModel {
        id_hash: Set(id_hash.to_string()),
        user_id: Set(row.user_id),
        csrf_token: Set(row.csrf_token.clone()),
        language: Set(row.language.clone()),
        created_at: Set(row.created_at),
        last_seen_at: Set(row.last_seen_at),
        expires_at: Set(row.expires_at),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(console_session::Entity::find_by_id(id_hash.to_string())
        .one(conn)
        .await?
        .map(|m| SessionRow {
            user_id: m.user_id,
            csrf_token: m.csrf_token,
            language: m.language,
            created_at: m.created_at,
            last_seen_at: m.last_seen_at,
            expires_at: m.expires_at,
        }))
}

/// Records activity (the idle timeout counts from it).
pub async fn touch<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    console_session::Entity::update_many()
        .col_expr(
            console_session::Column::LastSeenAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(console_session::Column::IdHash.eq(id_hash))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn set_language<C: ConnectionTrait>(
    conn: &C,
    id_hash: &str,
    language: &str,
) -> Result<(), StoreError> {
    console_session::Entity::update_many()
        .col_expr(
            console_session::Column::Language,
            sea_orm::sea_query::Expr::value(language.to_string()),
        )
        .filter(console_session::Column::IdHash.eq(id_hash))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn delete<C: ConnectionTrait>(conn: &C, id_hash: &str) -> Result<(), StoreError> {
    console_session::Entity::delete_by_id(id_hash.to_string())
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every session of a user (signed out everywhere).
pub async fn delete_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<u64, StoreError> {
    let result = console_session::Entity::delete_many()
        .filter(console_session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes the sessions that ended before `now` (absolute end) or were idle since `idle_before`.
pub async fn delete_ended<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    idle_before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = console_session::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(console_session::Column::ExpiresAt.lte(now))
                .add(console_session::Column::LastSeenAt.lt(idle_before)),
        )
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
