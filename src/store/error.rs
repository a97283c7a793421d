//! What can go wrong in the store, named so that the layers above can decide without reading
//! database text: a row that is not there, a constraint that refused a write (a lost race),
//! data that cannot be read back, and the database itself failing (classified by [`fault`]).

use sea_orm::DbErr;

/// Why a store call did not complete.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique or foreign-key constraint refused the write (e.g. a concurrent insert won).
    #[error("constraint {constraint} refused the write")]
    Conflict {
        /// The constraint, as the database names it.
        constraint: String,
        #[source]
        source: DbErr,
    },
    /// Stored data cannot be read back into a record (a value outside the vocabulary, JSON that
    /// does not parse, a number out of range).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The store was asked for something it cannot do (e.g. an online copy of PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
    /// The database failed (see [`StoreError::fault`] for the environmental causes).
    #[error(transparent)]
    Database(DbErr),
    /// The commit of a group of writes this write was part of failed (SQLite group commit:
    /// `super::group_commit`); none of the group's writes was kept.
    #[error("the group commit failed: {0}")]
    Group(std::sync::Arc<DbErr>),
}

impl StoreError {
    /// Data that cannot be read back: `what` names the record, `detail` the problem.
    pub fn corrupt(what: impl std::fmt::Display, detail: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(format!("{what}: {detail}"))
    }

    /// Whether a constraint refused the write (a lost race on a unique key).
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    /// Which environmental fault this is, if any.
    pub fn fault(&self) -> Option<DbFault> {
        match self {
            StoreError::Database(e) => fault(e),
            StoreError::Group(e) => fault(e),
            _ => None,
        }
    }
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        let constraint = match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(m))
            | Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(m)) => Some(constraint_name(&m)),
            _ => refused_by_constraint(&err).map(constraint_name),
        };
        match constraint {
            Some(constraint) => StoreError::Conflict {
                constraint,
                source: err,
            },
            None => StoreError::Database(err),
        }
    }
}

/// The message of a unique or foreign-key violation that sea-orm does not recognise: one from
/// the writing connection on SQLite, which reports SQLite's codes through sqlx's error type
/// (`group_commit::direct`).
fn refused_by_constraint(err: &DbErr) -> Option<&str> {
    use sea_orm::{RuntimeErr, sqlx};
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    match e.as_ref() {
        sqlx::Error::Database(d) if d.is_unique_violation() || d.is_foreign_key_violation() => {
            Some(d.message())
        }
        _ => None,
    }
}

/// The constraint a violation message names: PostgreSQL quotes it (`... constraint "x"`),
/// SQLite lists the columns (`UNIQUE constraint failed: t.a, t.b`).
fn constraint_name(message: &str) -> String {
    if let Some((_, rest)) = message.split_once("constraint \"")
        && let Some((name, _)) = rest.split_once('"')
    {
        return name.to_string();
    }
    match message.split_once("constraint failed: ") {
        Some((_, columns)) => columns.trim().to_string(),
        None => message.chars().take(120).collect(),
    }
}

/// A database failure that is the environment's, not the request's or the code's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbFault {
    /// Cannot connect, the connection broke, the server is shutting down or starting, the pool
    /// timed out, or SQLite stayed busy past its timeout: retrying later can succeed.
    Unreachable,
    /// No space left (SQLite `SQLITE_FULL`, PostgreSQL `53100`, or the OS refusing to grow a file).
    Full,
    /// The database or its file is read-only (SQLite `SQLITE_READONLY`, PostgreSQL `25006`).
    ReadOnly,
    /// SQLite cannot open its file (`SQLITE_CANTOPEN`: missing directory, no permission).
    CannotOpen,
    /// Reading or writing the database's files failed (SQLite `SQLITE_IOERR`: e.g. a file size
    /// limit, a file made immutable, a failing device).
    Io,
}

/// Which environmental fault `err` is, if any.
pub fn fault(err: &DbErr) -> Option<DbFault> {
    use sea_orm::{RuntimeErr, sqlx};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return Some(DbFault::Unreachable),
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return None,
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else {
        return matches!(err, DbErr::Conn(_)).then_some(DbFault::Unreachable);
    };
    match sqlx_err.as_ref() {
        sqlx::Error::Io(io) if io.raw_os_error() == Some(28) => Some(DbFault::Full),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(DbFault::Unreachable),
        sqlx::Error::Database(d) => {
            let code = d.code()?;
            if let Ok(n) = code.parse::<i64>() {
                // SQLite: the primary result code is the low byte of the extended one.
                return match n & 0xff {
                    13 => Some(DbFault::Full),
                    8 => Some(DbFault::ReadOnly),
                    10 => Some(DbFault::Io),
                    14 => Some(DbFault::CannotOpen),
                    5 | 6 => Some(DbFault::Unreachable),
                    _ => None,
                };
            }
            match code.as_ref() {
                "53100" => Some(DbFault::Full),
                "25006" => Some(DbFault::ReadOnly),
                c if c.starts_with("08") || c.starts_with("57P") || c == "53300" => {
                    Some(DbFault::Unreachable)
                }
                _ => None,
            }
        }
        _ => matches!(err, DbErr::Conn(_)).then_some(DbFault::Unreachable),
    }
}

/// A refusal by the database, read by a writing connection's own client (SQLite's C API,
/// `tokio-postgres`) and handed on as sqlx reports the reading pool's: its code (SQLite's extended
/// result code, PostgreSQL's SQLSTATE), message and constraint, so that [`StoreError`] and
/// [`fault`] tell a refused constraint and an environmental fault apart whichever connection
/// ran the statement.
#[derive(Debug)]
pub(in crate::store) struct Refusal {
    pub engine: sea_orm::DatabaseBackend,
    pub code: String,
    pub message: String,
    pub constraint: Option<String>,
}

impl Refusal {
    /// As a sea-orm runtime error.
    pub fn runtime(self) -> sea_orm::RuntimeErr {
        sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(sea_orm::sqlx::Error::Database(
            Box::new(self),
        )))
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

impl sea_orm::sqlx::error::DatabaseError for Refusal {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(std::borrow::Cow::Borrowed(&self.code))
    }

    fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sea_orm::sqlx::error::ErrorKind {
        use sea_orm::DatabaseBackend::{Postgres, Sqlite};
        use sea_orm::sqlx::error::ErrorKind;
        match (self.engine, self.code.as_str()) {
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            (Sqlite, "2067" | "1555") | (Postgres, "23505") => ErrorKind::UniqueViolation,
            // SQLITE_CONSTRAINT_FOREIGNKEY
            (Sqlite, "787") | (Postgres, "23503") => ErrorKind::ForeignKeyViolation,
            // SQLITE_CONSTRAINT_NOTNULL
            (Sqlite, "1299") | (Postgres, "23502") => ErrorKind::NotNullViolation,
            // SQLITE_CONSTRAINT_CHECK
            (Sqlite, "275") | (Postgres, "23514") => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_are_read_from_either_engine() {
        assert_eq!(
            constraint_name(
                "duplicate key value violates unique constraint \"idempotency_keys_pkey\""
            ),
            "idempotency_keys_pkey"
        );
        assert_eq!(
            constraint_name(
                "UNIQUE constraint failed: idempotency_keys.user_id, idempotency_keys.key"
            ),
            "idempotency_keys.user_id, idempotency_keys.key"
        );
    }
}
