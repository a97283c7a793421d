//! The `cases` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub reference: String,
    pub workflow_id: String,
    pub workflow_version: i32,
    pub country: String,
    pub lead_agency_id: Uuid,
    pub status: String,
    pub facts: Json,
    /// Number of events recorded for the case; the optimistic-concurrency token.
    pub version: i64,
    pub opened_by: Uuid,
    pub opened_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The earlier case this one continues (e.g. a child's case at 18).
    pub follows_case_id: Option<Uuid>,
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    pub origin_country: Option<String>,
    /// The agency that opened the case (its first lead); `None` on rows older than the column,
    /// whose lead never changed.
    pub opened_by_agency_id: Option<Uuid>,
    /// The hash of the case's latest event (the next event's previous hash).
    pub last_hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
