//! The worklist fills its "can be moved forward" part with an agency's active cases, least
//! recently touched first, a page at a time: an index in that order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    LeadAgencyId,
    Status,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_lead_status_updated")
                    .table(Cases::Table)
                    .col(Cases::LeadAgencyId)
                    .col(Cases::Status)
                    .col(Cases::UpdatedAt)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_cases_lead_status_updated")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await
    }
}
