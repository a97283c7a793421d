//! Bearer tokens: random, shown once, stored only as SHA-256 hashes.

use super::{App, ServiceError};
use crate::access::Principal;
use crate::store::directory;
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

/// The principal behind an `Authorization` header value (`Bearer <token>`).
pub async fn authenticate(
    app: &App,
    authorization: Option<&str>,
) -> Result<Principal, ServiceError> {
    let token = authorization
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() < 200)
        .ok_or(ServiceError::Unauthenticated)?;
    directory::principal_by_token_hash(app.store.conn(), &token_hash(token))
        .await?
        .ok_or(ServiceError::Unauthenticated)
}

/// Issues a fresh token for an existing user and returns it (it cannot be shown again).
pub async fn issue_token(app: &App, username: &str) -> Result<String, ServiceError> {
    let user = directory::user_by_username(app.store.conn(), username)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let token = generate_token();
    directory::insert_token(app.store.conn(), user.id, &token_hash(&token), app.now()).await?;
    Ok(token)
}
