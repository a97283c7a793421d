//! The `feedback` table: follow-up feedback from a case's new lead to its former lead.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "feedback")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub transfer_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub message: String,
    pub sent_by: Uuid,
    pub sent_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
