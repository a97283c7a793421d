//! An agency's access to a case can end (a protection of the case ended it, e.g. an authority of
//! an asylum seeker's country of origin): the row stays, as a record of what it had, with the
//! moment and the rule that ended it; the case scope reads live rows only.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseAccess {
    Table,
    EndedAt,
    EndedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CaseAccess::Table)
                    .add_column(
                        ColumnDef::new(CaseAccess::EndedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CaseAccess::Table)
                    .add_column(ColumnDef::new(CaseAccess::EndedBy).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [CaseAccess::EndedBy, CaseAccess::EndedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CaseAccess::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
