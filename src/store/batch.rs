//! The rows a change writes, sent together when it commits.
//!
//! A change to a case writes its own rows (the case row, its track and timer rows, its events
//! and their log leaves, the inbox notices, the idempotency record) after everything it decided
//! was read. Each statement sent on its own costs a round trip: on SQLite, a hand-over to the
//! driver's thread and back, which measured as most of a transition's time (`BENCHMARKS.md`).
//! [`Writes`] gathers them; on SQLite they run as one multi-statement execution (SQLite runs the
//! statements in order, binding the anonymous `?` parameters of each in turn), on PostgreSQL one
//! after the other. Either way they run in the caller's transaction, in the order they were
//! added, and the first failure stops the rest and is the caller's error.
//!
//! Each statement says how many rows it must write at least; fewer in all is reported as a
//! corrupt store (a row the change holds locked was not there), so that such a change rolls
//! back rather than commit half of itself.

use super::StoreError;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value, Values};

/// The writes of one change, in order (see the module documentation).
#[derive(Debug)]
pub struct Writes {
    backend: DatabaseBackend,
    statements: Vec<Statement>,
    /// Rows the statements must write at least, together.
    rows: u64,
}

impl Writes {
    /// No writes yet, for a transaction on `backend`.
    pub fn new(backend: DatabaseBackend) -> Writes {
        Writes {
            backend,
            statements: Vec::new(),
            rows: 0,
        }
    }

    /// The database the statements are built for.
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Adds a statement that writes exactly one row.
    pub fn one(&mut self, statement: Statement) {
        self.rows += 1;
        self.statements.push(statement);
    }

    /// Adds a statement that writes any number of rows.
    pub fn any(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Adds `other`'s statements after these.
    pub fn extend(&mut self, other: Writes) {
        self.rows += other.rows;
        self.statements.extend(other.statements);
    }

    /// Runs every statement in `conn`, in order; nothing to do when there is none.
    pub async fn run<C: ConnectionTrait>(self, conn: &C) -> Result<(), StoreError> {
        let written = if self.backend == DatabaseBackend::Sqlite
            && self.statements.len() > 1
            && self.statements.iter().all(anonymous_parameters)
        {
            conn.execute_raw(joined(self.statements))
                .await?
                .rows_affected()
        } else {
            let mut written = 0;
            for statement in self.statements {
                written += conn.execute_raw(statement).await?.rows_affected();
            }
            written
        };
        if written < self.rows {
            return Err(StoreError::Corrupt(format!(
                "a change wrote {written} rows where it must write at least {}: a row it holds \
                 locked is missing",
                self.rows
            )));
        }
        Ok(())
    }
}

/// Whether every parameter of `s` is an anonymous `?` (bound in order), so that it can run
/// joined to others: a numbered one (`?1`, `$1`) would name a value of the joined list.
fn anonymous_parameters(s: &Statement) -> bool {
    let sql = s.sql.as_bytes();
    !sql.windows(2).any(|w| {
        (w[0] == b'?' || w[0] == b'$' || w[0] == b':' || w[0] == b'@') && w[1].is_ascii_digit()
    })
}

/// The statements as one SQLite execution: their texts in order, their values in order.
fn joined(statements: Vec<Statement>) -> Statement {
    let mut sql = String::new();
    let mut values: Vec<Value> = Vec::new();
    for s in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&s.sql);
        if let Some(Values(v)) = s.values {
            values.extend(v);
        }
    }
    Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, values)
}

/// The column that says which of the statements given to [`query_parts`] a row answers.
pub const PART: &str = "trm_part";

/// Runs the queries `statements` (each selecting its index in the list as its [`PART`] column)
/// and answers their rows, one list per query, in order: on SQLite in one round trip, elsewhere
/// one after the other.
pub async fn query_parts<C: ConnectionTrait>(
    conn: &C,
    statements: Vec<Statement>,
) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
    let n = statements.len();
    let mut parts: Vec<Vec<sea_orm::QueryResult>> = (0..n).map(|_| Vec::new()).collect();
    if conn.get_database_backend() == DatabaseBackend::Sqlite
        && n > 1
        && statements.iter().all(anonymous_parameters)
    {
        for row in conn.query_all_raw(joined(statements)).await? {
            let part: i64 = row.try_get("", PART)?;
            let part = parts
                .get_mut(usize::try_from(part).unwrap_or(usize::MAX))
                .ok_or_else(|| StoreError::Corrupt(format!("a row of no query ({part})")))?;
            part.push(row);
        }
    } else {
        for (part, statement) in parts.iter_mut().zip(statements) {
            *part = conn.query_all_raw(statement).await?;
        }
    }
    Ok(parts)
}
