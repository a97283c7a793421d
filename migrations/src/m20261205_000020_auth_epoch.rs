//! The authentication epoch (issue 18): one number that moves on whenever something that decides
//! who a bearer token is changes — a TRM token revoked or deleted, a user or an agency changed
//! or deleted, a JWT revoked. Instances cache token → principal for a moment instead of reading
//! the directory on every request, and drop their cache when they see the epoch move (they read
//! it at most once a second by default, which bounds how long a revoked token keeps working).
//! Triggers move it, so every way of changing those tables does — the service, `trm token
//! revoke` in another process, or an operator's SQL.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, events) whose changes move the epoch.
const WATCHED: [(&str, &str); 4] = [
    ("api_tokens", "UPDATE OR DELETE"),
    ("users", "UPDATE OR DELETE"),
    ("agencies", "UPDATE OR DELETE"),
    ("revoked_jwts", "INSERT OR UPDATE OR DELETE"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE auth_epoch (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), value BIGINT NOT NULL);
             INSERT INTO auth_epoch (id, value) VALUES (1, 0);",
        )
        .await?;
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION trm_bump_auth_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN UPDATE auth_epoch SET value = value + 1 WHERE id = 1; RETURN NULL; END $$;",
                )
                .await?;
                for (table, events) in WATCHED {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER trm_auth_epoch_{table} AFTER {events} ON {table} \
                         FOR EACH STATEMENT EXECUTE FUNCTION trm_bump_auth_epoch();"
                    ))
                    .await?;
                }
            }
            _ => {
                // SQLite triggers name one event each.
                for (table, events) in WATCHED {
                    for event in events.split(" OR ") {
                        db.execute_unprepared(&format!(
                            "CREATE TRIGGER trm_auth_epoch_{table}_{event} AFTER {event} ON {table} \
                             BEGIN UPDATE auth_epoch SET value = value + 1 WHERE id = 1; END;",
                            event = event.to_lowercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                for (table, _) in WATCHED {
                    db.execute_unprepared(&format!(
                        "DROP TRIGGER IF EXISTS trm_auth_epoch_{table} ON {table};"
                    ))
                    .await?;
                }
                db.execute_unprepared("DROP FUNCTION IF EXISTS trm_bump_auth_epoch();")
                    .await?;
            }
            _ => {
                for (table, events) in WATCHED {
                    for event in events.split(" OR ") {
                        db.execute_unprepared(&format!(
                            "DROP TRIGGER IF EXISTS trm_auth_epoch_{table}_{};",
                            event.to_lowercase()
                        ))
                        .await?;
                    }
                }
            }
        }
        db.execute_unprepared("DROP TABLE auth_epoch;").await?;
        Ok(())
    }
}
