//! The `agencies` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agencies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    /// Where the agency sits (ISO 3166-1 alpha-2).
    pub country: String,
    pub created_at: DateTimeUtc,
    /// The state an embassy or consulate represents (ISO 3166-1 alpha-2); empty for other kinds.
    pub represented_country: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
