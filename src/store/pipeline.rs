//! Statements sent together: a connection that can runs them in one round trip.
//!
//! PostgreSQL's writing connections (`super::pg_direct`) send the statements of a pipeline
//! one after the other without waiting for each answer, and the server runs them in the order
//! sent. Each statement of a transaction at PostgreSQL's default isolation (read committed)
//! takes its snapshot when it starts, after the one before it has finished: a read sent after
//! a `FOR UPDATE` sees what that lock waited for, as when sent after its answer. Where the
//! first fails, the ones after it fail too (the transaction is aborted), and the first
//! failure is the caller's error. Every other connection runs them one after the other.
//!
//! A transition on PostgreSQL saves two round trips this way: the case's lock with its tracks
//! and timers, and the change's writes with the reads of its answer.

use super::{WriteKind, WriteTxn};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, QueryResult, Statement,
};

/// A statement of a pipeline, and what it answers.
#[derive(Debug)]
pub enum Piped {
    /// Its rows.
    Rows(Statement),
    /// How many rows it wrote.
    Count(Statement),
}

/// What a statement of a pipeline answered.
#[derive(Debug)]
pub enum Answer {
    Rows(Vec<QueryResult>),
    Count(u64),
}

/// A connection that runs [`Piped`] statements (see the module documentation).
#[async_trait::async_trait]
pub trait Pipelined: ConnectionTrait {
    /// Runs `statements` in order; the first failure is the error. Answers one [`Answer`] a
    /// statement, in order.
    async fn pipeline(&self, statements: Vec<Piped>) -> Result<Vec<Answer>, DbErr> {
        one_by_one(self, statements).await
    }
}

async fn one_by_one<C: ConnectionTrait + ?Sized>(
    conn: &C,
    statements: Vec<Piped>,
) -> Result<Vec<Answer>, DbErr> {
    let mut answers = Vec::with_capacity(statements.len());
    for statement in statements {
        answers.push(match statement {
            Piped::Rows(s) => Answer::Rows(conn.query_all_raw(s).await?),
            Piped::Count(s) => Answer::Count(conn.execute_raw(s).await?.rows_affected()),
        });
    }
    Ok(answers)
}

impl Pipelined for DatabaseConnection {}

impl Pipelined for DatabaseTransaction {}

#[async_trait::async_trait]
impl Pipelined for WriteTxn {
    async fn pipeline(&self, statements: Vec<Piped>) -> Result<Vec<Answer>, DbErr> {
        match &self.0 {
            WriteKind::Pg(txn) => txn.pipeline(statements).await,
            _ => one_by_one(self, statements).await,
        }
    }
}

impl Answer {
    /// The rows answered (an error if the statement was sent for its count).
    pub fn rows(self) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Answer::Rows(rows) => Ok(rows),
            Answer::Count(_) => Err(DbErr::Custom(
                "a statement sent for its count was read for its rows".into(),
            )),
        }
    }
}
