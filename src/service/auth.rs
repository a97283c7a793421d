//! Bearer tokens: TRM tokens (random, shown once, stored only as SHA-256 hashes) and, when
//! configured, JWT access tokens of an identity provider; their revocation.

use super::oidc::{Rejection, VerifiedToken};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::store::identity::{self, FederatedUser, JwtRevocation};
use crate::store::{console_sessions, directory};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix that makes TRM tokens recognisable (e.g. to secret scanners).
pub const TOKEN_PREFIX: &str = "trm_";

/// The hash under which a token is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random token (256 bits).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The principal behind an `Authorization` header value (`Bearer <token>`): a TRM token
/// (`trm_...`, issued by `trm token issue`) or, when OIDC is configured, a JWT access token of
/// the trusted identity provider (see [`super::oidc`]). The one entry point for HTTP, WebSocket
/// `connection_init` and the re-checks of running subscriptions.
///
/// A TRM token's principal is remembered for a moment ([`super::auth_cache`]): a revocation
/// takes effect on every instance within the cache's recheck interval (1 s by default), at once
/// on the instance that made it. A JWT is verified, and checked against the database, on every
/// call. Any refusal is [`ServiceError::Unauthenticated`], whatever the
/// reason; the reason is logged at debug level with a short hash of the token, never the token
/// or its claims. Database failures stay what they are (unavailable, internal).
pub async fn authenticate(
    app: &App,
    authorization: Option<&str>,
) -> Result<Principal, ServiceError> {
    let Some(token) = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        tracing::debug!(reason = "no bearer token", "authentication refused");
        return Err(ServiceError::Unauthenticated);
    };
    if token.starts_with(TOKEN_PREFIX) {
        if token.len() >= 200 {
            return Err(refused(token, &"malformed TRM token"));
        }
        let hash = token_hash(token);
        return app
            .auth_cache()
            .principal(app, &hash, || {
                directory::principal_by_token_hash(app.store.conn(), &hash)
            })
            .await?
            .ok_or_else(|| refused(token, &"unknown or revoked TRM token"));
    }
    authenticate_jwt(app, token).await
}

/// The principal of a JWT access token of the trusted identity provider: verified by
/// [`super::oidc::Oidc::verify`], then checked against the database (not revoked, its agency in
/// the directory). The one way a JWT becomes a principal: a bearer token of the API and the
/// access token the console's sign-in receives from the provider both take it. Refusals are
/// [`ServiceError::Unauthenticated`], their reason logged as [`authenticate`] does.
pub async fn authenticate_jwt(app: &App, token: &str) -> Result<Principal, ServiceError> {
    let Some(oidc) = app.oidc() else {
        return Err(refused(token, &"not a TRM token (OIDC is not configured)"));
    };
    let verified = oidc.verify(token).await.map_err(|r| refused(token, &r))?;
    // Verified (signature, expiry) on every request; the database's part is remembered.
    let key = format!("jwt:{}", token_hash(token));
    app.auth_cache()
        .principal(app, &key, || async {
            Ok::<_, ServiceError>(match jwt_principal(app, &verified).await? {
                Ok(principal) => Some(principal),
                Err(rejection) => {
                    refused(token, &rejection);
                    None
                }
            })
        })
        .await?
        .ok_or(ServiceError::Unauthenticated)
}

/// A refused token: its reason logged at debug level with the token's fingerprint only.
fn refused(token: &str, reason: &dyn std::fmt::Display) -> ServiceError {
    tracing::debug!(token = %fingerprint(token), %reason, "authentication refused");
    ServiceError::Unauthenticated
}

/// The principal of a verified JWT, after the checks that need the database: not revoked, its
/// agency in the directory. Keeps the directory row of the user up to date (so that what they
/// record names them).
async fn jwt_principal(
    app: &App,
    token: &VerifiedToken,
) -> Result<Result<Principal, Rejection>, ServiceError> {
    let conn = app.store.conn();
    if identity::is_jwt_revoked(
        conn,
        &token.issuer,
        &token.subject,
        token.jti.as_deref(),
        token.issued_at,
    )
    .await?
    {
        return Ok(Err(Rejection::Revoked));
    }
    let Some(agency) = directory::agency_by_id(conn, token.agency_id).await? else {
        return Ok(Err(Rejection::UnknownAgency));
    };
    let user = identity::ensure_federated_user(
        conn,
        &FederatedUser {
            id: token.user_id(),
            username: token.username.clone(),
            display_name: token.display_name.clone(),
            agency_id: agency.id,
            roles: token.roles.clone(),
        },
        app.now(),
    )
    .await?;
    Ok(Ok(Principal {
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        agency_id: agency.id,
        agency_name: agency.name,
        agency_kind: agency.kind,
        country: agency.country,
        roles: token.roles.clone(),
    }))
}

/// Compares two secrets (or their hashes) in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A short, non-reversible tag of a token for logs (first 12 hex digits of its SHA-256).
pub fn fingerprint(token: &str) -> String {
    let mut hash = token_hash(token);
    hash.truncate(12);
    hash
}

/// Revokes one TRM token (`trm token revoke --token`). Returns whether a live token was
/// revoked (`false`: unknown or already revoked). Takes effect on the next request.
pub async fn revoke_token(app: &App, token: &str) -> Result<bool, ServiceError> {
    let txn = app.store.begin_write().await?;
    let revoked =
        identity::revoke_token_by_hash(&txn, &token_hash(token.trim()), app.now()).await?;
    txn.commit().await?;
    app.auth_cache().forget();
    Ok(revoked)
}

/// Revokes every live TRM token of a user (`trm token revoke --user`). Returns how many.
pub async fn revoke_user_tokens(app: &App, username: &str) -> Result<u64, ServiceError> {
    let user = directory::user_by_username(app.store.conn(), username)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let txn = app.store.begin_write().await?;
    let revoked = identity::revoke_tokens_of_user(&txn, user.id, app.now()).await?;
    txn.commit().await?;
    app.auth_cache().forget();
    Ok(revoked)
}

/// Revokes JWT access tokens (`trm token revoke-jwt`): one by its `jti`, or all of a subject
/// issued before a moment; for tokens of `issuer` only, or of any issuer (`None`).
pub async fn revoke_jwt(
    app: &App,
    issuer: Option<&str>,
    revocation: &JwtRevocation,
) -> Result<(), ServiceError> {
    let empty = match revocation {
        JwtRevocation::Token { jti } => jti.trim().is_empty(),
        JwtRevocation::Subject { subject, .. } => subject.trim().is_empty(),
    };
    if empty || issuer.is_some_and(|i| i.trim().is_empty()) {
        return Err(ServiceError::validation(
            "give a non-empty jti, subject and issuer",
        ));
    }
    let txn = app.store.begin_write().await?;
    identity::insert_jwt_revocation(&txn, issuer, revocation, app.now()).await?;
    // A subject revoked is signed out of the console too (its sessions outlive its tokens).
    if let JwtRevocation::Subject { subject, .. } = revocation {
        let issuer = issuer.or_else(|| app.oidc().map(|o| o.config().issuer.as_str()));
        if let Some(issuer) = issuer {
            let user = super::oidc::user_id(issuer, subject);
            console_sessions::delete_of_user(&txn, user).await?;
        }
    }
    txn.commit().await?;
    app.auth_cache().forget();
    Ok(())
}

/// Issues a fresh token for an existing user and returns it (it cannot be shown again).
pub async fn issue_token(app: &App, username: &str) -> Result<String, ServiceError> {
    let user = directory::user_by_username(app.store.conn(), username)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let token = generate_token();
    let txn = app.store.begin_write().await?;
    directory::insert_token(&txn, user.id, &token_hash(&token), app.now()).await?;
    txn.commit().await?;
    Ok(token)
}
