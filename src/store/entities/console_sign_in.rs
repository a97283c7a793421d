//! The `console_sign_ins` table: console sign-ins begun at the identity provider and not yet
//! finished (short-lived, single use).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sign_ins")]
pub struct Model {
    /// SHA-256 of the `state` sent to the identity provider, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_hash: String,
    /// SHA-256 of the secret in the browser's sign-in cookie, hex.
    pub browser_hash: String,
    /// The PKCE code verifier (RFC 7636) the authorization code is exchanged with.
    pub pkce_verifier: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
