//! The `transfers` table: transfers of lead.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub requested_by_receiver: bool,
    pub transition: Option<String>,
    pub data: Json,
    pub data_groups: Json,
    pub consent_id: Option<Uuid>,
    pub override_basis: Option<String>,
    pub override_justification: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub response_due_at: DateTimeUtc,
    pub escalated_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub offerer_roles: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
