//! The `revoked_jwts` table: revoked JWT access tokens, by `jti` or by subject.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_jwts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The issuer (`iss`) the row applies to; `None`: any issuer.
    pub issuer: Option<String>,
    /// One revoked token, by its `jti`.
    pub jti: Option<String>,
    /// Every token of this subject (`sub`) issued before `issued_before`.
    pub subject: Option<String>,
    pub issued_before: Option<DateTimeUtc>,
    pub revoked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
