//! Revoked JWT access tokens (from agencies' identity providers).
//!
//! A row revokes either one token, by its `jti`, or every token of a subject (`sub`) issued
//! before `issued_before` (its `iat`). `issuer` narrows the row to one issuer; `NULL` means any
//! issuer. Authentication checks this table on every request (one indexed query), so a
//! revocation takes effect at once on every instance.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevokedJwts {
    Table,
    Id,
    Issuer,
    Jti,
    Subject,
    IssuedBefore,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedJwts::Table)
                    .col(pk_uuid(RevokedJwts::Id))
                    .col(string_null(RevokedJwts::Issuer))
                    .col(string_null(RevokedJwts::Jti))
                    .col(string_null(RevokedJwts::Subject))
                    .col(timestamp_with_time_zone_null(RevokedJwts::IssuedBefore))
                    .col(timestamp_with_time_zone(RevokedJwts::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_revoked_jwts_jti")
                    .table(RevokedJwts::Table)
                    .col(RevokedJwts::Jti)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_revoked_jwts_subject")
                    .table(RevokedJwts::Table)
                    .col(RevokedJwts::Subject)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedJwts::Table).to_owned())
            .await
    }
}
