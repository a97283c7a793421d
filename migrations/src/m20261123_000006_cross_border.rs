//! Cases that move between agencies and across borders: personal data by sensitivity group
//! (append-only versions), consents, service referrals, transfers of lead, which agencies may
//! see a case, the person's movements, agencies' inbox notifications and follow-up feedback.
//!
//! Events gain `details` (ids and names only, never personal data) and cases gain the country of
//! origin and the agency that opened them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    OriginCountry,
    OpenedByAgencyId,
}

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    Details,
}

#[derive(DeriveIden)]
enum CaseAccess {
    Table,
    CaseId,
    AgencyId,
    Since,
    Reason,
}

#[derive(DeriveIden)]
enum PersonalData {
    Table,
    Id,
    CaseId,
    DataGroup,
    Value,
    RecordedAt,
    RecordedBy,
    AgencyId,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    Id,
    CaseId,
    GivenBy,
    ChildAssent,
    AssentMissingReason,
    Purposes,
    AgencyIds,
    Countries,
    DataGroups,
    GivenAt,
    RecordedBy,
    RecordedAt,
    WithdrawnAt,
    WithdrawnBy,
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    CaseId,
    FromAgencyId,
    ToAgencyId,
    Service,
    Purpose,
    DataGroups,
    ConsentId,
    OverrideBasis,
    OverrideJustification,
    Status,
    StatusReason,
    OutcomeSuccessful,
    ResponseDueAt,
    EscalatedAt,
    LeadAgencyId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Transfers {
    Table,
    Id,
    CaseId,
    FromAgencyId,
    ToAgencyId,
    RequestedByReceiver,
    Transition,
    Data,
    DataGroups,
    ConsentId,
    OverrideBasis,
    OverrideJustification,
    Status,
    StatusReason,
    ResponseDueAt,
    EscalatedAt,
    CreatedBy,
    OffererRoles,
    CreatedAt,
    UpdatedAt,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum Movements {
    Table,
    Id,
    CaseId,
    Country,
    Place,
    MovedOn,
    Source,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    AgencyId,
    Kind,
    CaseId,
    ReferralId,
    TransferId,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    CaseId,
    TransferId,
    FromAgencyId,
    ToAgencyId,
    Message,
    SentBy,
    SentAt,
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(c);
    }
    manager.create_index(idx.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(char_len_null(Cases::OriginCountry, 2))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Cases::Table)
                    .add_column(uuid_null(Cases::OpenedByAgencyId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .add_column(json_null(CaseEvents::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseAccess::Table)
                    .col(uuid(CaseAccess::CaseId))
                    .col(uuid(CaseAccess::AgencyId))
                    .col(timestamp_with_time_zone(CaseAccess::Since))
                    .col(string_len(CaseAccess::Reason, 40))
                    .primary_key(
                        Index::create()
                            .col(CaseAccess::CaseId)
                            .col(CaseAccess::AgencyId),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_case_access_agency",
            CaseAccess::Table,
            vec![
                CaseAccess::AgencyId.into_iden(),
                CaseAccess::CaseId.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonalData::Table)
                    .col(pk_uuid(PersonalData::Id))
                    .col(uuid(PersonalData::CaseId))
                    .col(string_len(PersonalData::DataGroup, 40))
                    .col(json(PersonalData::Value))
                    .col(timestamp_with_time_zone(PersonalData::RecordedAt))
                    .col(uuid(PersonalData::RecordedBy))
                    .col(uuid(PersonalData::AgencyId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_personal_data_case",
            PersonalData::Table,
            vec![
                PersonalData::CaseId.into_iden(),
                PersonalData::DataGroup.into_iden(),
                PersonalData::RecordedAt.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(pk_uuid(Consents::Id))
                    .col(uuid(Consents::CaseId))
                    .col(string_len(Consents::GivenBy, 40))
                    .col(boolean_null(Consents::ChildAssent))
                    .col(text_null(Consents::AssentMissingReason))
                    .col(json(Consents::Purposes))
                    .col(json(Consents::AgencyIds))
                    .col(json(Consents::Countries))
                    .col(json(Consents::DataGroups))
                    .col(timestamp_with_time_zone(Consents::GivenAt))
                    .col(uuid(Consents::RecordedBy))
                    .col(timestamp_with_time_zone(Consents::RecordedAt))
                    .col(timestamp_with_time_zone_null(Consents::WithdrawnAt))
                    .col(uuid_null(Consents::WithdrawnBy))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_consents_case",
            Consents::Table,
            vec![Consents::CaseId.into_iden()],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(pk_uuid(Referrals::Id))
                    .col(uuid(Referrals::CaseId))
                    .col(uuid(Referrals::FromAgencyId))
                    .col(uuid(Referrals::ToAgencyId))
                    .col(string_len(Referrals::Service, 40))
                    .col(text(Referrals::Purpose))
                    .col(json(Referrals::DataGroups))
                    .col(uuid_null(Referrals::ConsentId))
                    .col(string_len_null(Referrals::OverrideBasis, 40))
                    .col(text_null(Referrals::OverrideJustification))
                    .col(string_len(Referrals::Status, 20))
                    .col(text_null(Referrals::StatusReason))
                    .col(boolean_null(Referrals::OutcomeSuccessful))
                    .col(timestamp_with_time_zone(Referrals::ResponseDueAt))
                    .col(timestamp_with_time_zone_null(Referrals::EscalatedAt))
                    .col(uuid(Referrals::LeadAgencyId))
                    .col(uuid(Referrals::CreatedBy))
                    .col(timestamp_with_time_zone(Referrals::CreatedAt))
                    .col(timestamp_with_time_zone(Referrals::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_referrals_case",
            Referrals::Table,
            vec![Referrals::CaseId.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_referrals_to",
            Referrals::Table,
            vec![
                Referrals::ToAgencyId.into_iden(),
                Referrals::Status.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "ix_referrals_due",
            Referrals::Table,
            vec![
                Referrals::Status.into_iden(),
                Referrals::ResponseDueAt.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Transfers::Table)
                    .col(pk_uuid(Transfers::Id))
                    .col(uuid(Transfers::CaseId))
                    .col(uuid(Transfers::FromAgencyId))
                    .col(uuid(Transfers::ToAgencyId))
                    .col(boolean(Transfers::RequestedByReceiver))
                    .col(string_null(Transfers::Transition))
                    .col(json(Transfers::Data))
                    .col(json(Transfers::DataGroups))
                    .col(uuid_null(Transfers::ConsentId))
                    .col(string_len_null(Transfers::OverrideBasis, 40))
                    .col(text_null(Transfers::OverrideJustification))
                    .col(string_len(Transfers::Status, 20))
                    .col(text_null(Transfers::StatusReason))
                    .col(timestamp_with_time_zone(Transfers::ResponseDueAt))
                    .col(timestamp_with_time_zone_null(Transfers::EscalatedAt))
                    .col(uuid(Transfers::CreatedBy))
                    .col(json(Transfers::OffererRoles))
                    .col(timestamp_with_time_zone(Transfers::CreatedAt))
                    .col(timestamp_with_time_zone(Transfers::UpdatedAt))
                    .col(uuid_null(Transfers::DecidedBy))
                    .col(timestamp_with_time_zone_null(Transfers::DecidedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_transfers_case",
            Transfers::Table,
            vec![Transfers::CaseId.into_iden()],
        )
        .await?;
        index(
            manager,
            "ix_transfers_to",
            Transfers::Table,
            vec![
                Transfers::ToAgencyId.into_iden(),
                Transfers::Status.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "ix_transfers_due",
            Transfers::Table,
            vec![
                Transfers::Status.into_iden(),
                Transfers::ResponseDueAt.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Movements::Table)
                    .col(pk_uuid(Movements::Id))
                    .col(uuid(Movements::CaseId))
                    .col(char_len(Movements::Country, 2))
                    .col(text_null(Movements::Place))
                    .col(date(Movements::MovedOn))
                    .col(string_len(Movements::Source, 40))
                    .col(uuid(Movements::RecordedBy))
                    .col(timestamp_with_time_zone(Movements::RecordedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_movements_case",
            Movements::Table,
            vec![
                Movements::CaseId.into_iden(),
                Movements::MovedOn.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::AgencyId))
                    .col(string_len(Notifications::Kind, 40))
                    .col(uuid_null(Notifications::CaseId))
                    .col(uuid_null(Notifications::ReferralId))
                    .col(uuid_null(Notifications::TransferId))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_notifications_agency",
            Notifications::Table,
            vec![
                Notifications::AgencyId.into_iden(),
                Notifications::Id.into_iden(),
            ],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(Feedback::Table)
                    .col(pk_uuid(Feedback::Id))
                    .col(uuid(Feedback::CaseId))
                    .col(uuid(Feedback::TransferId))
                    .col(uuid(Feedback::FromAgencyId))
                    .col(uuid(Feedback::ToAgencyId))
                    .col(text(Feedback::Message))
                    .col(uuid(Feedback::SentBy))
                    .col(timestamp_with_time_zone(Feedback::SentAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_feedback_transfer",
            Feedback::Table,
            vec![Feedback::TransferId.into_iden()],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Feedback::Table.into_iden(),
            Notifications::Table.into_iden(),
            Movements::Table.into_iden(),
            Transfers::Table.into_iden(),
            Referrals::Table.into_iden(),
            Consents::Table.into_iden(),
            PersonalData::Table.into_iden(),
            CaseAccess::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(CaseEvents::Table)
                    .drop_column(CaseEvents::Details)
                    .to_owned(),
            )
            .await?;
        for col in [Cases::OriginCountry, Cases::OpenedByAgencyId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
