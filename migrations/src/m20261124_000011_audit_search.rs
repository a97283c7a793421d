//! Indexes for auditors' event search: by time, by acting agency or user, by transition and by
//! workflow version, each ordered by time so that keyset pages are index range scans.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    OccurredAt,
    ActorAgencyId,
    ActorUserId,
    Transition,
    WorkflowId,
    WorkflowVersion,
}

/// (index name, leading columns); every index ends with (occurred_at, id).
fn indexes() -> Vec<(&'static str, Vec<CaseEvents>)> {
    vec![
        ("ix_case_events_time", vec![]),
        ("ix_case_events_agency", vec![CaseEvents::ActorAgencyId]),
        ("ix_case_events_actor", vec![CaseEvents::ActorUserId]),
        ("ix_case_events_transition", vec![CaseEvents::Transition]),
        (
            "ix_case_events_workflow",
            vec![CaseEvents::WorkflowId, CaseEvents::WorkflowVersion],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, leading) in indexes() {
            let mut index = Index::create();
            index.name(name).table(CaseEvents::Table);
            for col in leading {
                index.col(col);
            }
            index.col(CaseEvents::OccurredAt).col(CaseEvents::Id);
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(CaseEvents::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
