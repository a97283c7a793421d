//! The access log records exports of the case file too: what kind of access an entry is, the
//! export purpose's category and the recipient named. Earlier entries are reads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AccessLog {
    Table,
    Kind,
    PurposeCategory,
    Recipient,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        let columns = [
            ColumnDef::new(AccessLog::Kind)
                .string()
                .not_null()
                .default("READ")
                .to_owned(),
            ColumnDef::new(AccessLog::PurposeCategory)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(AccessLog::Recipient)
                .text()
                .null()
                .to_owned(),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(AccessLog::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            AccessLog::Recipient,
            AccessLog::PurposeCategory,
            AccessLog::Kind,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AccessLog::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
