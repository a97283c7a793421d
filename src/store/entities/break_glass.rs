//! The `break_glass` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "break_glass")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub user_id: Uuid,
    pub agency_id: Uuid,
    pub lead_agency_id: Option<Uuid>,
    pub justification: String,
    pub opened_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub review_due_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
    pub reviewed_by: Option<Uuid>,
    pub reviewed_by_agency_id: Option<Uuid>,
    pub justified: Option<bool>,
    pub review_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
