//! The `person_match_keys` table: the keyed match keys of each case's identity (HMAC values
//! only; never names or dates).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "person_match_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    /// HMAC-SHA256 of a normalised name and a birth year, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub match_key: String,
    /// Which secret made it (`MatchSecret::key_id`).
    pub key_id: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
