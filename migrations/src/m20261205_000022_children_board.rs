//! The focal point's board of children on the move reads the cases of the child procedures
//! concerning its country. Without indexes it scanned every case of the node and every
//! recorded movement: an index of cases by procedure, status and id, so that it reads the
//! cases of the child procedures only, and one of movements by country, for the cases whose
//! route passes through the country.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    WorkflowId,
    Status,
}

#[derive(DeriveIden)]
enum Movements {
    Table,
    Country,
    CaseId,
}

const NAME: &str = "ix_cases_workflow_status_id";
const MOVEMENTS: &str = "ix_movements_country_case";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(NAME)
                    .table(Cases::Table)
                    .col(Cases::WorkflowId)
                    .col(Cases::Status)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name(MOVEMENTS)
                    .table(Movements::Table)
                    .col(Movements::Country)
                    .col(Movements::CaseId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(MOVEMENTS)
                    .table(Movements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(NAME).table(Cases::Table).to_owned())
            .await
    }
}
