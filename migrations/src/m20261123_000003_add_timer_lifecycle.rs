//! Timers that pause (e.g. while the person is missing), that the scheduler marks as fired
//! exactly once (recorded as an event), and that can be queried as deadlines: their kind and
//! the moment they become "due soon" are kept with them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseTimers {
    Table,
    Kind,
    WarnAt,
    PausedAt,
    FiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite allows one column per ALTER TABLE.
        for col in [
            CaseTimers::WarnAt,
            CaseTimers::PausedAt,
            CaseTimers::FiredAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseTimers::Table)
                        .add_column(timestamp_with_time_zone_null(col))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(CaseTimers::Table)
                    .add_column(string_len_null(CaseTimers::Kind, 16))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_timers_warn")
                    .table(CaseTimers::Table)
                    .col(CaseTimers::WarnAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_case_timers_warn")
                    .table(CaseTimers::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            CaseTimers::Kind,
            CaseTimers::FiredAt,
            CaseTimers::PausedAt,
            CaseTimers::WarnAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseTimers::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
