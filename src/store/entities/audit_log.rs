//! The `audit_log` table: one row per case event, the leaves of the Merkle log.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// 0-based position of the leaf in the log.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    #[sea_orm(unique)]
    pub event_id: Uuid,
    /// The leaf: the event's chain hash, hex.
    pub leaf_hash: String,
    pub appended_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
