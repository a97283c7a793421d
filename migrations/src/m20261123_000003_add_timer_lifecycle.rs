//! Timers that pause (e.g. while the person is missing) and that the scheduler marks as fired
//! exactly once (elapsed, recorded as an event) and escalates when overdue.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseTimers {
    Table,
    PausedAt,
    FiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite allows one column per ALTER TABLE.
        for col in [CaseTimers::PausedAt, CaseTimers::FiredAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseTimers::Table)
                        .add_column(timestamp_with_time_zone_null(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [CaseTimers::FiredAt, CaseTimers::PausedAt] {
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
