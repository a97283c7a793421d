//! Break-glass: a permitted user opens a case outside their normal access, for a limited time,
//! with a mandatory justification; the lead agency reviews it afterwards.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BreakGlass {
    Table,
    Id,
    CaseId,
    UserId,
    AgencyId,
    Justification,
    OpenedAt,
    ExpiresAt,
    ReviewDueAt,
    ReviewedAt,
    ReviewedBy,
    Justified,
    ReviewNote,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BreakGlass::Table)
                    .col(pk_uuid(BreakGlass::Id))
                    .col(uuid(BreakGlass::CaseId))
                    .col(uuid(BreakGlass::UserId))
                    .col(uuid(BreakGlass::AgencyId))
                    .col(text(BreakGlass::Justification))
                    .col(timestamp_with_time_zone(BreakGlass::OpenedAt))
                    .col(timestamp_with_time_zone(BreakGlass::ExpiresAt))
                    .col(timestamp_with_time_zone(BreakGlass::ReviewDueAt))
                    .col(timestamp_with_time_zone_null(BreakGlass::ReviewedAt))
                    .col(uuid_null(BreakGlass::ReviewedBy))
                    .col(boolean_null(BreakGlass::Justified))
                    .col(text_null(BreakGlass::ReviewNote))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_break_glass_user")
                    .table(BreakGlass::Table)
                    .col(BreakGlass::UserId)
                    .col(BreakGlass::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_break_glass_case")
                    .table(BreakGlass::Table)
                    .col(BreakGlass::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BreakGlass::Table).to_owned())
            .await
    }
}
