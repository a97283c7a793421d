//! The access log: every read of a case's personal data, with who, when and why.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Id,
    CaseId,
    UserId,
    AgencyId,
    ReadAt,
    Purpose,
    DataGroups,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessLog::Table)
                    .col(pk_uuid(AccessLog::Id))
                    .col(uuid(AccessLog::CaseId))
                    .col(uuid(AccessLog::UserId))
                    .col(uuid(AccessLog::AgencyId))
                    .col(timestamp_with_time_zone(AccessLog::ReadAt))
                    .col(text_null(AccessLog::Purpose))
                    .col(json(AccessLog::DataGroups))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_access_log_case")
                    .table(AccessLog::Table)
                    .col(AccessLog::CaseId)
                    .col(AccessLog::ReadAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccessLog::Table).to_owned())
            .await
    }
}
