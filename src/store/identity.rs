//! Identity beyond the directory's own records: revoking bearer tokens, revoked JWT access
//! tokens, and the directory rows of users known from an identity provider (OIDC).

use super::StoreError;
use super::directory::{user_by_id, user_by_username};
use super::entities::{api_token, revoked_jwt, user};
use crate::domain::Role;
use crate::domain::User;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

/// Revokes the live token with this hash. Returns whether a live token was revoked (`false`:
/// no such token, or already revoked).
pub async fn revoke_token_by_hash<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Some(now).into())
        .filter(api_token::Column::TokenHash.eq(token_hash))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Revokes every live token of a user. Returns how many were revoked.
pub async fn revoke_tokens_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Some(now).into())
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// What a JWT revocation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtRevocation {
    /// One token, by its `jti`.
    Token { jti: String },
    /// Every token of a subject issued (`iat`) before a moment.
    Subject {
        subject: String,
        issued_before: DateTime<Utc>,
    },
}

/// Records a JWT revocation, for tokens of `issuer` (`None`: of any issuer).
pub async fn insert_jwt_revocation<C: ConnectionTrait>(
    conn: &C,
    issuer: Option<&str>,
    revocation: &JwtRevocation,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (jti, subject, issued_before) = match revocation {
        JwtRevocation::Token { jti } => (Some(jti.clone()), None, None),
        JwtRevocation::Subject {
            subject,
            issued_before,
        } => (None, Some(subject.clone()), Some(*issued_before)),
    };
    revoked_jwt::Entity::insert(revoked_jwt::ActiveModel {
        id: Set(Uuid::now_v7()),
        issuer: Set(issuer.map(str::to_string)),
        jti: Set(jti),
        subject: Set(subject),
        issued_before: Set(issued_before),
        revoked_at: Set(now),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Whether a JWT of `issuer` and `subject`, with `jti` and issued at `issued_at` (when it says),
/// is revoked: by its `jti`, or by a revocation of its subject after it was issued (a token
/// without `iat` counts as issued before any revocation of its subject). One query.
pub async fn is_jwt_revoked<C: ConnectionTrait>(
    conn: &C,
    issuer: &str,
    subject: &str,
    jti: Option<&str>,
    issued_at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    use revoked_jwt::Column;
    let mut by_subject = Condition::all().add(Column::Subject.eq(subject));
    if let Some(iat) = issued_at {
        by_subject = by_subject.add(Column::IssuedBefore.gt(iat));
    }
    let mut covered = Condition::any().add(by_subject);
    if let Some(jti) = jti {
        covered = covered.add(Column::Jti.eq(jti));
    }
    let row = revoked_jwt::Entity::find()
        .filter(
            Condition::any()
                .add(Column::Issuer.is_null())
                .add(Column::Issuer.eq(issuer)),
        )
        .filter(covered)
        .one(conn)
        .await?;
    Ok(row.is_some())
}

/// A user as an identity provider describes them, to be kept in the directory so that the
/// records they make (cases opened, events) name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedUser {
    /// Stable id derived from (issuer, subject).
    pub id: Uuid,
    /// The wanted username; made unique with a suffix when another user has it.
    pub username: String,
    pub display_name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
}

/// Makes sure the directory has the row of a federated user, as the identity provider
/// describes them now, and returns it. Reads only, unless the row is missing or its name,
/// agency or roles changed.
pub async fn ensure_federated_user<C: ConnectionTrait>(
    conn: &C,
    wanted: &FederatedUser,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let roles = roles_json(&wanted.roles)?;
    if let Some(existing) = user_by_id(conn, wanted.id).await? {
        let same_username =
            existing.username == wanted.username || existing.username == suffixed(wanted);
        if same_username
            && existing.display_name == wanted.display_name
            && existing.agency_id == wanted.agency_id
            && existing.roles == wanted.roles
        {
            return Ok(existing);
        }
        let username = if same_username {
            existing.username
        } else {
            free_username(conn, wanted).await?
        };
        user::Entity::update_many()
            .col_expr(user::Column::Username, username.into())
            .col_expr(
                user::Column::DisplayName,
                wanted.display_name.clone().into(),
            )
            .col_expr(user::Column::AgencyId, wanted.agency_id.into())
            .col_expr(user::Column::Roles, roles.into())
            .filter(user::Column::Id.eq(wanted.id))
            .exec(conn)
            .await?;
    } else {
        let username = free_username(conn, wanted).await?;
        let insert = |username: String| {
            user::Entity::insert(user::ActiveModel {
                id: Set(wanted.id),
                username: Set(username),
                display_name: Set(wanted.display_name.clone()),
                agency_id: Set(wanted.agency_id),
                roles: Set(roles.clone()),
                created_at: Set(now),
            })
            .on_conflict(OnConflict::column(user::Column::Id).do_nothing().to_owned())
            .exec_without_returning(conn)
        };
        // Another request may have taken the username meanwhile: then use the suffixed one.
        if let Err(err) = insert(username).await {
            let err = StoreError::from(err);
            if !err.is_conflict() {
                return Err(err);
            }
            insert(suffixed(wanted)).await?;
        }
    }
    user_by_id(conn, wanted.id)
        .await?
        .ok_or(StoreError::NotFound("federated user"))
}

/// The wanted username when no other user has it, else the suffixed one.
async fn free_username<C: ConnectionTrait>(
    conn: &C,
    wanted: &FederatedUser,
) -> Result<String, StoreError> {
    match user_by_username(conn, &wanted.username).await? {
        Some(other) if other.id != wanted.id => Ok(suffixed(wanted)),
        _ => Ok(wanted.username.clone()),
    }
}

/// The username with a suffix from the user's id (unique as the id is).
fn suffixed(wanted: &FederatedUser) -> String {
    let id = wanted.id.simple().to_string();
    format!("{}~{}", wanted.username, &id[..8])
}

fn roles_json(roles: &[Role]) -> Result<String, StoreError> {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    serde_json::to_string(&names).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The authentication epoch (see [`crate::service::auth_cache`]): moved on by triggers on every
/// change to tokens, users, agencies and JWT revocations.
pub async fn auth_epoch<C: ConnectionTrait>(conn: &C) -> Result<i64, StoreError> {
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT value FROM auth_epoch WHERE id = 1",
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt("auth_epoch has no row".into()))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}
