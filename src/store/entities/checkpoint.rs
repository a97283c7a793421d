//! The `checkpoints` table: signed tree heads of the audit log.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "checkpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tree_size: i64,
    /// Merkle root, hex.
    pub root_hash: String,
    pub created_at: DateTimeUtc,
    /// First 8 bytes of SHA-256 of the public key, hex.
    pub key_id: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature over the checkpoint text, hex.
    pub signature: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
