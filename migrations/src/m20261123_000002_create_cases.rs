//! Cases, their track states and timers, the append-only event log, idempotency records,
//! per-country reference counters and the registry of workflow definitions in use.
//!
//! The event log has no cascading foreign keys: history never disappears with the rows it
//! describes.

use super::m20261123_000001_create_directory::{Agencies, Users};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkflowDefinitions {
    Table,
    WorkflowId,
    Version,
    SourceHash,
    RegisteredAt,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Reference,
    WorkflowId,
    WorkflowVersion,
    Country,
    LeadAgencyId,
    Status,
    Facts,
    Version,
    OpenedBy,
    OpenedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseTracks {
    Table,
    CaseId,
    Track,
    State,
    Stage,
    EnteredAt,
}

#[derive(DeriveIden)]
enum CaseTimers {
    Table,
    CaseId,
    Timer,
    StartedAt,
    DueAt,
    StoppedAt,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Seq,
    Kind,
    Transition,
    Track,
    FromState,
    ToState,
    Reason,
    Changes,
    WorkflowId,
    WorkflowVersion,
    ActorUserId,
    ActorAgencyId,
    OccurredAt,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Operation,
    RequestHash,
    CaseId,
    EventId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CaseReferenceCounters {
    Table,
    Country,
    Year,
    Last,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkflowDefinitions::Table)
                    .col(string(WorkflowDefinitions::WorkflowId))
                    .col(integer(WorkflowDefinitions::Version))
                    .col(string_len(WorkflowDefinitions::SourceHash, 64))
                    .col(timestamp_with_time_zone(WorkflowDefinitions::RegisteredAt))
                    .primary_key(
                        Index::create()
                            .col(WorkflowDefinitions::WorkflowId)
                            .col(WorkflowDefinitions::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(pk_uuid(Cases::Id))
                    .col(string_uniq(Cases::Reference))
                    .col(string(Cases::WorkflowId))
                    .col(integer(Cases::WorkflowVersion))
                    .col(char_len(Cases::Country, 2))
                    .col(uuid(Cases::LeadAgencyId))
                    .col(string_len(Cases::Status, 16))
                    .col(json(Cases::Facts))
                    .col(big_integer(Cases::Version))
                    .col(uuid(Cases::OpenedBy))
                    .col(timestamp_with_time_zone(Cases::OpenedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cases_lead_agency")
                            .from(Cases::Table, Cases::LeadAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_cases_opened_by")
                            .from(Cases::Table, Cases::OpenedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_lead_agency_opened")
                    .table(Cases::Table)
                    .col(Cases::LeadAgencyId)
                    .col(Cases::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_cases_status")
                    .table(Cases::Table)
                    .col(Cases::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseTracks::Table)
                    .col(uuid(CaseTracks::CaseId))
                    .col(string(CaseTracks::Track))
                    .col(string(CaseTracks::State))
                    .col(string_len(CaseTracks::Stage, 40))
                    .col(timestamp_with_time_zone(CaseTracks::EnteredAt))
                    .primary_key(
                        Index::create()
                            .col(CaseTracks::CaseId)
                            .col(CaseTracks::Track),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_tracks_case")
                            .from(CaseTracks::Table, CaseTracks::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_case_tracks_state", CaseTracks::State),
            ("ix_case_tracks_stage", CaseTracks::Stage),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CaseTracks::Table)
                        .col(col)
                        .col(CaseTracks::CaseId)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CaseTimers::Table)
                    .col(uuid(CaseTimers::CaseId))
                    .col(string(CaseTimers::Timer))
                    .col(timestamp_with_time_zone(CaseTimers::StartedAt))
                    .col(timestamp_with_time_zone(CaseTimers::DueAt))
                    .col(timestamp_with_time_zone_null(CaseTimers::StoppedAt))
                    .primary_key(
                        Index::create()
                            .col(CaseTimers::CaseId)
                            .col(CaseTimers::Timer),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_case_timers_case")
                            .from(CaseTimers::Table, CaseTimers::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_case_timers_due")
                    .table(CaseTimers::Table)
                    .col(CaseTimers::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseEvents::Table)
                    .col(pk_uuid(CaseEvents::Id))
                    .col(uuid(CaseEvents::CaseId))
                    .col(big_integer(CaseEvents::Seq))
                    .col(string_len(CaseEvents::Kind, 32))
                    .col(string_null(CaseEvents::Transition))
                    .col(string_null(CaseEvents::Track))
                    .col(string_null(CaseEvents::FromState))
                    .col(string_null(CaseEvents::ToState))
                    .col(text_null(CaseEvents::Reason))
                    .col(json(CaseEvents::Changes))
                    .col(string(CaseEvents::WorkflowId))
                    .col(integer(CaseEvents::WorkflowVersion))
                    .col(uuid(CaseEvents::ActorUserId))
                    .col(uuid(CaseEvents::ActorAgencyId))
                    .col(timestamp_with_time_zone(CaseEvents::OccurredAt))
                    .col(string_len(CaseEvents::PrevHash, 64))
                    .col(string_len(CaseEvents::Hash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_case_events_case_seq")
                    .table(CaseEvents::Table)
                    .col(CaseEvents::CaseId)
                    .col(CaseEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 200))
                    .col(string_len(IdempotencyKeys::Operation, 40))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(uuid(IdempotencyKeys::CaseId))
                    .col(uuid_null(IdempotencyKeys::EventId))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseReferenceCounters::Table)
                    .col(char_len(CaseReferenceCounters::Country, 2))
                    .col(integer(CaseReferenceCounters::Year))
                    .col(big_integer(CaseReferenceCounters::Last))
                    .primary_key(
                        Index::create()
                            .col(CaseReferenceCounters::Country)
                            .col(CaseReferenceCounters::Year),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CaseReferenceCounters::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            CaseEvents::Table.into_iden(),
            CaseTimers::Table.into_iden(),
            CaseTracks::Table.into_iden(),
            Cases::Table.into_iden(),
            WorkflowDefinitions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
