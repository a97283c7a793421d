//! The same person again (issue 16): the keyed match keys of each case's identity (HMAC values
//! only, never names; replaced when the identity is recorded again), the links an agency
//! records from its case to an earlier case of the same person, and on inbox entries the link
//! or the agency they report.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PersonMatchKeys {
    Table,
    CaseId,
    MatchKey,
    KeyId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum SamePersonLinks {
    Table,
    Id,
    CaseId,
    CaseReference,
    EarlierCaseId,
    EarlierReference,
    AgencyId,
    LinkedBy,
    LinkedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    SamePersonLinkId,
    FromAgencyId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonMatchKeys::Table)
                    .col(uuid(PersonMatchKeys::CaseId))
                    .col(string_len(PersonMatchKeys::MatchKey, 64))
                    .col(string_len(PersonMatchKeys::KeyId, 16))
                    .col(timestamp_with_time_zone(PersonMatchKeys::RecordedAt))
                    .primary_key(
                        Index::create()
                            .col(PersonMatchKeys::CaseId)
                            .col(PersonMatchKeys::MatchKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_person_match_keys_key")
                    .table(PersonMatchKeys::Table)
                    .col(PersonMatchKeys::MatchKey)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SamePersonLinks::Table)
                    .col(pk_uuid(SamePersonLinks::Id))
                    .col(uuid(SamePersonLinks::CaseId))
                    .col(string_len(SamePersonLinks::CaseReference, 64))
                    .col(uuid(SamePersonLinks::EarlierCaseId))
                    .col(string_len(SamePersonLinks::EarlierReference, 64))
                    .col(uuid(SamePersonLinks::AgencyId))
                    .col(uuid(SamePersonLinks::LinkedBy))
                    .col(timestamp_with_time_zone(SamePersonLinks::LinkedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_same_person_links_pair")
                    .table(SamePersonLinks::Table)
                    .col(SamePersonLinks::CaseId)
                    .col(SamePersonLinks::EarlierCaseId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_same_person_links_earlier")
                    .table(SamePersonLinks::Table)
                    .col(SamePersonLinks::EarlierCaseId)
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters a table one column at a time.
        for column in [Notifications::FromAgencyId, Notifications::SamePersonLinkId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notifications::Table)
                        .add_column(ColumnDef::new(column).uuid().null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Notifications::SamePersonLinkId, Notifications::FromAgencyId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notifications::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            SamePersonLinks::Table.into_iden(),
            PersonMatchKeys::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
