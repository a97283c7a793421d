//! Free text travels with its sensitivity: what decides who reads a text is kept with it.
//!
//! - An event's reason: the personal-data groups it is shared as and the agency it is addressed
//!   to. Earlier events have neither: their reasons stay with the agency that wrote them and the
//!   auditors, as before.
//! - A consent: the agency that recorded it (whose its note on a missing assent is); filled in
//!   from the recording user's agency.
//! - A break-glass access: the agency that led the case when it was opened (to which the
//!   justification is addressed; filled in with the case's lead now, which reviews it) and the
//!   agency that reviewed it (whose the review's note is; filled in from the reviewer's agency).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CaseEvents {
    Table,
    ReasonSharedAs,
    ReasonTo,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    RecordedByAgencyId,
}

#[derive(DeriveIden)]
enum BreakGlass {
    Table,
    LeadAgencyId,
    ReviewedByAgencyId,
}

const BACKFILL: &[&str] = &[
    "UPDATE consents SET recorded_by_agency_id = \
     (SELECT u.agency_id FROM users u WHERE u.id = consents.recorded_by)",
    "UPDATE break_glass SET lead_agency_id = \
     (SELECT c.lead_agency_id FROM cases c WHERE c.id = break_glass.case_id)",
    "UPDATE break_glass SET reviewed_by_agency_id = \
     (SELECT u.agency_id FROM users u WHERE u.id = break_glass.reviewed_by)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        let columns = [
            (
                CaseEvents::Table.into_iden(),
                json_null(CaseEvents::ReasonSharedAs),
            ),
            (
                CaseEvents::Table.into_iden(),
                uuid_null(CaseEvents::ReasonTo),
            ),
            (
                Consents::Table.into_iden(),
                uuid_null(Consents::RecordedByAgencyId),
            ),
            (
                BreakGlass::Table.into_iden(),
                uuid_null(BreakGlass::LeadAgencyId),
            ),
            (
                BreakGlass::Table.into_iden(),
                uuid_null(BreakGlass::ReviewedByAgencyId),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).add_column(column).to_owned())
                .await?;
        }
        for sql in BACKFILL {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (
                BreakGlass::Table.into_iden(),
                BreakGlass::ReviewedByAgencyId.into_iden(),
            ),
            (
                BreakGlass::Table.into_iden(),
                BreakGlass::LeadAgencyId.into_iden(),
            ),
            (
                Consents::Table.into_iden(),
                Consents::RecordedByAgencyId.into_iden(),
            ),
            (
                CaseEvents::Table.into_iden(),
                CaseEvents::ReasonTo.into_iden(),
            ),
            (
                CaseEvents::Table.into_iden(),
                CaseEvents::ReasonSharedAs.into_iden(),
            ),
        ];
        for (table, column) in columns {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
