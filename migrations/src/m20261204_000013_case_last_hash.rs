//! The hash of a case's latest event, kept on the case row: every change locks that row
//! anyway, so the next event's previous hash is read with the lock instead of by a query over
//! the event log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    LastHash,
}

/// The hash that precedes a case's first event.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(
                        ColumnDef::new(Cases::LastHash)
                            .string()
                            .not_null()
                            .default(GENESIS_HASH),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE cases SET last_hash = COALESCE((SELECT e.hash FROM case_events e \
                 WHERE e.case_id = cases.id ORDER BY e.seq DESC LIMIT 1), '{GENESIS_HASH}')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .drop_column(Cases::LastHash)
                    .to_owned(),
            )
            .await
    }
}
