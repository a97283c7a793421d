//! The web console's sessions (issue 17): one row per signed-in browser. The cookie holds a
//! random secret; only its SHA-256 is stored here, with the user it signs in, the form token
//! that every form of the session must carry (CSRF), and the times that end it (idle and
//! absolute). Nothing else: the principal is read from the directory at every request, so a
//! deactivated user or a changed role takes effect at once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    IdHash,
    UserId,
    CsrfToken,
    Language,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .col(string_len(ConsoleSessions::IdHash, 64).primary_key())
                    .col(uuid(ConsoleSessions::UserId))
                    .col(string_len(ConsoleSessions::CsrfToken, 64))
                    .col(string_len_null(ConsoleSessions::Language, 8))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_console_sessions_expires_at")
                    .table(ConsoleSessions::Table)
                    .col(ConsoleSessions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).to_owned())
            .await
    }
}
