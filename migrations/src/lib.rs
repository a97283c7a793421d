//! Database migrations for TRM. The same migrations run on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_directory;
mod m20261123_000002_create_cases;
mod m20261123_000003_add_timer_lifecycle;
mod m20261123_000004_add_case_links;

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
        ]
    }
}
