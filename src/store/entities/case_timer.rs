//! The `case_timers` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_timers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub timer: String,
    pub started_at: DateTimeUtc,
    pub due_at: DateTimeUtc,
    pub stopped_at: Option<DateTimeUtc>,
    pub paused_at: Option<DateTimeUtc>,
    /// FLOOR or DEADLINE (from the workflow, kept here for queries).
    pub kind: Option<String>,
    /// When a deadline becomes "due soon" (due date minus the warning window).
    pub warn_at: Option<DateTimeUtc>,
    /// When the scheduler recorded the timer as elapsed (at most once).
    pub fired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
