//! The `consents` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub given_by: String,
    pub child_assent: Option<bool>,
    pub assent_missing_reason: Option<String>,
    pub purposes: Json,
    pub agency_ids: Json,
    pub countries: Json,
    pub data_groups: Json,
    pub given_at: DateTimeUtc,
    pub recorded_by: Uuid,
    pub recorded_by_agency_id: Option<Uuid>,
    pub recorded_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
