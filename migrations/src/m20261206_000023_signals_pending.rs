//! Signals waiting to be announced (PostgreSQL). A change used to send its signals with
//! `NOTIFY` in its own transaction, and PostgreSQL makes the commits of notifying transactions
//! take turns (a database-wide lock held through each one's fsync): no two changes could commit
//! together. Now the change writes its signals here, committed with it or not at all, and the
//! short transaction that runs after commits to place the audit log's leaves sends them
//! (`store::notify::announce`). `arrival` keeps the order they came in. SQLite delivers within
//! its one process; the table stays empty there.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let sql = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                "CREATE TABLE signals_pending (arrival BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)"
            }
            _ => {
                "CREATE TABLE signals_pending (arrival INTEGER PRIMARY KEY AUTOINCREMENT, \
                 payload text NOT NULL)"
            }
        };
        db.execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE signals_pending")
            .await?;
        Ok(())
    }
}
