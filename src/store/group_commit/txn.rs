//! The group's transaction on the writing connection ([`super::direct`]).

use super::direct::{self, Direct};
use sea_orm::{DbErr, ExecResult, QueryResult, Statement};
use std::sync::Arc;
use std::time::Duration;

/// How long a group waits for SQLite's write lock held by another connection (as the pool's
/// busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The group's transaction on the writing connection (`BEGIN IMMEDIATE`: it takes SQLite's write
/// lock at once, so that a writer elsewhere makes it wait at its start, [`GroupTxn::begin`],
/// rather than fail midway on upgrading a read lock). Dropped open, it is rolled back.
#[derive(Debug)]
pub(super) struct GroupTxn {
    conn: Arc<Direct>,
    open: bool,
}

impl GroupTxn {
    /// Opens the group's transaction. Another process (or another store on the file) holding
    /// SQLite's write lock makes it wait, without holding the thread: SQLite answers "busy" at
    /// once (the writing connection has no busy timeout) and the writer tries again shortly,
    /// for up to [`BUSY_TIMEOUT`], as the pool's connections wait on theirs.
    pub(super) async fn begin(conn: &Arc<Direct>) -> Result<GroupTxn, DbErr> {
        let deadline = tokio::time::Instant::now() + BUSY_TIMEOUT;
        let mut pause = Duration::from_millis(1);
        loop {
            match conn.run_text("BEGIN IMMEDIATE") {
                Ok(_) => {
                    return Ok(GroupTxn {
                        conn: conn.clone(),
                        open: true,
                    });
                }
                Err(e)
                    if crate::store::is_sqlite_busy(&e)
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn execute(&self, stmt: &Statement) -> Result<ExecResult, DbErr> {
        Ok(direct::written(self.conn.run(stmt)?.written))
    }

    pub(super) fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.conn.run_text(sql)
    }

    pub(super) fn query_all(&self, stmt: &Statement) -> Result<Vec<QueryResult>, DbErr> {
        Ok(self.conn.run(stmt)?.rows)
    }

    /// Commits: the one `fsync` of the group. When `COMMIT` fails the transaction may still be
    /// open (SQLite keeps it open on a busy lock): dropped, it is rolled back.
    pub(super) fn commit(mut self) -> Result<(), DbErr> {
        self.conn.run_text("COMMIT")?;
        self.open = false;
        Ok(())
    }

    pub(super) fn rollback(mut self) -> Result<(), DbErr> {
        self.open = false;
        self.conn.run_text("ROLLBACK").map(drop)
    }
}

impl Drop for GroupTxn {
    fn drop(&mut self) {
        if self.open && self.conn.in_transaction() {
            // Nobody to tell: the members that wrote in it have failed or will fail.
            let _ = self.conn.run_text("ROLLBACK");
        }
    }
}
