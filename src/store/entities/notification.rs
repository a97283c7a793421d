//! The `notifications` table: agencies' inbox entries (ids only, no personal data).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub agency_id: Uuid,
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub referral_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    /// The same-person link the entry reports.
    pub same_person_link_id: Option<Uuid>,
    /// The agency whose act the entry reports, where it is not the case's lead.
    pub from_agency_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
