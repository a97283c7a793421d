//! Console sign-ins at the identity provider that are under way: written when one begins, taken
//! (read and deleted, once) when the browser comes back, and expired ones deleted.

use super::StoreError;
use super::entities::console_sign_in;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

/// A sign-in under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRow {
    pub browser_hash: String,
    pub pkce_verifier: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert<C: ConnectionTrait>(
    conn: &C,
    state_hash: &str,
    row: &SignInRow,
) -> Result<(), StoreError> {
    console_sign_in::Entity::insert(console_sign_in::ActiveModel {
        state_hash: Set(state_hash.to_string()),
        browser_hash: Set(row.browser_hash.clone()),
        pkce_verifier: Set(row.pkce_verifier.clone()),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The sign-in of `state_hash`, deleted as it is read: `None` when there is none, or when
/// another request took it first (a state is used once, whichever instance sees it).
pub async fn take<C: ConnectionTrait>(
    conn: &C,
    state_hash: &str,
) -> Result<Option<SignInRow>, StoreError> {
    let Some(m) = console_sign_in::Entity::find_by_id(state_hash.to_string())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let deleted = console_sign_in::Entity::delete_by_id(state_hash.to_string())
        .exec(conn)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(SignInRow {
        browser_hash: m.browser_hash,
        pkce_verifier: m.pkce_verifier,
        created_at: m.created_at,
        expires_at: m.expires_at,
    }))
}

/// Deletes the sign-ins that expired before `now`.
pub async fn delete_expired<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = console_sign_in::Entity::delete_many()
        .filter(console_sign_in::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
