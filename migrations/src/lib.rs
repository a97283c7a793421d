//! Database migrations for TRM. The same migrations run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_directory;
mod m20261123_000002_create_cases;
mod m20261123_000003_add_timer_lifecycle;
mod m20261123_000004_add_case_links;
mod m20261123_000005_directory_countries;
mod m20261123_000006_cross_border;
mod m20261123_000007_revoked_jwts;
mod m20261123_000008_break_glass;
mod m20261123_000009_audit_log;
mod m20261123_000010_access_log;
mod m20261124_000011_audit_search;
mod m20261124_000012_worklist_order;
mod m20261204_000013_case_last_hash;
mod m20261204_000014_case_access_ended;
mod m20261204_000015_access_log_exports;
mod m20261204_000016_person_match_keys;
mod m20261204_000017_free_text_writers;
mod m20261205_000018_console_sessions;
mod m20261205_000019_console_sign_ins;
mod m20261205_000020_auth_epoch;
mod m20261205_000021_audit_log_pending;
mod m20261205_000022_children_board;
mod m20261206_000023_signals_pending;

/// Applies TRM's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_directory::Migration),
            Box::new(m20261123_000002_create_cases::Migration),
            Box::new(m20261123_000003_add_timer_lifecycle::Migration),
            Box::new(m20261123_000004_add_case_links::Migration),
            Box::new(m20261123_000005_directory_countries::Migration),
            Box::new(m20261123_000006_cross_border::Migration),
            Box::new(m20261123_000007_revoked_jwts::Migration),
            Box::new(m20261123_000008_break_glass::Migration),
            Box::new(m20261123_000009_audit_log::Migration),
            Box::new(m20261123_000010_access_log::Migration),
            Box::new(m20261124_000011_audit_search::Migration),
            Box::new(m20261124_000012_worklist_order::Migration),
            Box::new(m20261204_000013_case_last_hash::Migration),
            Box::new(m20261204_000014_case_access_ended::Migration),
            Box::new(m20261204_000015_access_log_exports::Migration),
            Box::new(m20261204_000016_person_match_keys::Migration),
            Box::new(m20261204_000017_free_text_writers::Migration),
            Box::new(m20261205_000018_console_sessions::Migration),
            Box::new(m20261205_000019_console_sign_ins::Migration),
            Box::new(m20261205_000020_auth_epoch::Migration),
            Box::new(m20261205_000021_audit_log_pending::Migration),
            Box::new(m20261205_000022_children_board::Migration),
            Box::new(m20261206_000023_signals_pending::Migration),
        ]
    }
}
