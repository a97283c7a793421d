//! The directory's countries (ISO 3166-1 alpha-2) with their national focal point, and the
//! state an embassy or consulate represents.
//!
//! An agency's `country` is where it sits; `represented_country` is set only for embassies and
//! consulates (the state they represent). Every agency's country has a row in `countries`: rows
//! for the agencies that already exist are added here, with their ISO 3166-1 names.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Countries {
    Table,
    Code,
    Name,
    FocalPointAgencyId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
    Country,
    RepresentedCountry,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Countries::Table)
                    .col(char_len(Countries::Code, 2).primary_key())
                    .col(string(Countries::Name))
                    .col(uuid_null(Countries::FocalPointAgencyId))
                    .col(timestamp_with_time_zone(Countries::CreatedAt))
                    .col(timestamp_with_time_zone(Countries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_countries_focal_point")
                            .from(Countries::Table, Countries::FocalPointAgencyId)
                            .to(Agencies::Table, Agencies::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .add_column(char_len_null(Agencies::RepresentedCountry, 2))
                    .to_owned(),
            )
            .await?;
        backfill_countries(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Agencies::Table)
                    .drop_column(Agencies::RepresentedCountry)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Countries::Table).to_owned())
            .await
    }
}

/// Adds a `countries` row for the country of every existing agency.
async fn backfill_countries(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend: DbBackend = conn.get_database_backend();
    let select = Query::select()
        .distinct()
        .column(Agencies::Country)
        .from(Agencies::Table)
        .to_owned();
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    for row in rows {
        let code: String = row.try_get_by_index(0)?;
        let code = code.trim().to_string();
        // Agencies were only ever created with valid codes; an unknown one keeps its code as name.
        let name = rust_iso3166::from_alpha2(&code)
            .map(|c| c.name.to_string())
            .unwrap_or_else(|| code.clone());
        let insert = Query::insert()
            .into_table(Countries::Table)
            .columns([
                Countries::Code,
                Countries::Name,
                Countries::CreatedAt,
                Countries::UpdatedAt,
            ])
            .values([
                code.into(),
                name.into(),
                Expr::current_timestamp(),
                Expr::current_timestamp(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .on_conflict(OnConflict::column(Countries::Code).do_nothing().to_owned())
            .to_owned();
        manager.exec_stmt(insert).await?;
    }
    Ok(())
}
