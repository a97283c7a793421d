//! The `countries` table: the directory's countries and their national focal point.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "countries")]
pub struct Model {
    /// ISO 3166-1 alpha-2.
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    /// The ISO 3166-1 English short name.
    pub name: String,
    pub focal_point_agency_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
