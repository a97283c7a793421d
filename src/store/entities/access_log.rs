//! The `access_log` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "access_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub user_id: Uuid,
    pub agency_id: Uuid,
    pub read_at: DateTimeUtc,
    pub purpose: Option<String>,
    pub data_groups: Json,
    /// `READ` or `CASE_FILE_EXPORT`.
    pub kind: String,
    pub purpose_category: Option<String>,
    pub recipient: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
