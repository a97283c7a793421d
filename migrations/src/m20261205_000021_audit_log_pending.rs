//! Leaves waiting for their position in the audit log (issue 18, PostgreSQL). A change's
//! transaction used to take the log's next position itself, under a lock held until its commit:
//! every transition of every instance waited for the previous one's fsync. Now, on PostgreSQL,
//! the change writes its leaf here in its own transaction (the event and its leaf commit
//! together or not at all) and the leaves are given their positions afterwards, many at a time,
//! by a short transaction that holds the lock (`store::audit::sequence_pending`). `arrival` keeps
//! the order in which they came: a case's later event always arrives after its earlier one (the
//! case's row lock orders them). SQLite appends to the log directly (its writes are serialised
//! anyway); the table stays empty there.

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
                "CREATE TABLE audit_log_pending (arrival BIGSERIAL PRIMARY KEY, \
                 event_id UUID NOT NULL UNIQUE, leaf_hash VARCHAR(64) NOT NULL, \
                 appended_at TIMESTAMPTZ NOT NULL)"
            }
            _ => {
                "CREATE TABLE audit_log_pending (arrival INTEGER PRIMARY KEY AUTOINCREMENT, \
                 event_id uuid_text NOT NULL UNIQUE, leaf_hash varchar(64) NOT NULL, \
                 appended_at timestamp_with_timezone_text NOT NULL)"
            }
        };
        db.execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP TABLE audit_log_pending")
            .await?;
        Ok(())
    }
}
