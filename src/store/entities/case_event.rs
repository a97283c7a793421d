//! The `case_events` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    pub seq: i64,
    pub kind: String,
    pub transition: Option<String>,
    pub track: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    /// The data groups the reason is shared as (a JSON array of names); null: none.
    pub reason_shared_as: Option<Json>,
    /// The agency the reason is addressed to.
    pub reason_to: Option<Uuid>,
    pub changes: Json,
    pub workflow_id: String,
    pub workflow_version: i32,
    pub actor_user_id: Uuid,
    pub actor_agency_id: Uuid,
    pub occurred_at: DateTimeUtc,
    pub prev_hash: String,
    pub hash: String,
    /// Ids and names of what the event touched (referral, transfer, consent ...); never personal data.
    pub details: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
