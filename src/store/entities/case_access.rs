//! The `case_access` table: which agencies may see a case (beyond its lead), and since when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_access")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub agency_id: Uuid,
    pub since: DateTimeUtc,
    pub reason: String,
    /// When a protection of the case ended this access (`None`: live).
    pub ended_at: Option<DateTimeUtc>,
    /// The rule that ended it.
    pub ended_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
