//! Sign-ins to the web console at the agency's identity provider (issue 17), while the browser
//! is away at the provider: one short-lived row per sign-in begun, so that any instance of the
//! service can finish it (the instances share the database, not their memory). It holds the
//! SHA-256 of the `state` sent to the provider, the SHA-256 of the secret in the browser's
//! short-lived cookie (the sign-in is finished only by the browser that began it), the PKCE
//! verifier that the code is exchanged with, and when it expires (about ten minutes). A row
//! is deleted when it is used, once, and expired rows when the next sign-in begins.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleSignIns {
    Table,
    StateHash,
    BrowserHash,
    PkceVerifier,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSignIns::Table)
                    .col(string_len(ConsoleSignIns::StateHash, 64).primary_key())
                    .col(string_len(ConsoleSignIns::BrowserHash, 64))
                    .col(string_len(ConsoleSignIns::PkceVerifier, 128))
                    .col(timestamp_with_time_zone(ConsoleSignIns::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSignIns::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_console_sign_ins_expires_at")
                    .table(ConsoleSignIns::Table)
                    .col(ConsoleSignIns::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSignIns::Table).to_owned())
            .await
    }
}
