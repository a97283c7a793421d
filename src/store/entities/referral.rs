//! The `referrals` table: service referrals.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub service: String,
    pub purpose: String,
    pub data_groups: Json,
    pub consent_id: Option<Uuid>,
    pub override_basis: Option<String>,
    pub override_justification: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub outcome_successful: Option<bool>,
    pub response_due_at: DateTimeUtc,
    pub escalated_at: Option<DateTimeUtc>,
    pub lead_agency_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
