//! The audit log: every case event is a leaf of one global, append-only RFC 6962 Merkle log,
//! and signed checkpoints (tree size, root, time, key id, Ed25519 signature) of that log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Position,
    EventId,
    LeafHash,
    AppendedAt,
}

#[derive(DeriveIden)]
enum Checkpoints {
    Table,
    TreeSize,
    RootHash,
    CreatedAt,
    KeyId,
    PublicKey,
    Signature,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_integer(AuditLog::Position).primary_key())
                    .col(uuid_uniq(AuditLog::EventId))
                    .col(string_len(AuditLog::LeafHash, 64))
                    .col(timestamp_with_time_zone(AuditLog::AppendedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Checkpoints::Table)
                    .col(big_integer(Checkpoints::TreeSize).primary_key())
                    .col(string_len(Checkpoints::RootHash, 64))
                    .col(timestamp_with_time_zone(Checkpoints::CreatedAt))
                    .col(string_len(Checkpoints::KeyId, 16))
                    .col(string_len(Checkpoints::PublicKey, 64))
                    .col(string_len(Checkpoints::Signature, 128))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Checkpoints::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditLog::Table).to_owned())
            .await
    }
}
