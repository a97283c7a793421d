//! The errors a use case can end with. Each maps to one stable API error code.

use crate::workflow::Unmet;
use crate::workflow::engine::InputProblem;
use sea_orm::DbErr;

/// Why a use case did not complete. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("authentication required: send a valid bearer token")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Validation {
        message: String,
        problems: Vec<InputProblem>,
    },
    #[error("transition `{transition}` is not allowed now: {}", unmet.iter().map(|u| u.reason.as_str()).collect::<Vec<_>>().join("; "))]
    GuardFailed {
        transition: String,
        unmet: Vec<Unmet>,
    },
    #[error("{0}")]
    InvalidTransition(String),
    /// Sharing needs a consent that covers it (or an override on a legal basis).
    #[error("{0}")]
    ConsentRequired(String),
    /// A rule of law forbids it, whoever asks (e.g. no contact with the authorities of an asylum
    /// seeker's country of origin); no override or consent lifts it.
    #[error("{0}")]
    LegalBan(String),
    #[error(
        "the case has changed since version {expected}; it is now at version {actual}: reload it and try again"
    )]
    VersionConflict { expected: i64, actual: i64 },
    #[error("this idempotency key was already used with a different request")]
    IdempotencyMismatch,
    #[error(
        "the service cannot reach its database; try again shortly (with the same idempotency key, a retry is safe)"
    )]
    Unavailable(#[source] DbErr),
    /// The database answered but cannot store anything (a full disk, a read-only file).
    #[error("{0}; an administrator must act")]
    StorageRefused(&'static str, #[source] DbErr),
    #[error("internal error")]
    Internal(#[source] DbErr),
}

impl ServiceError {
    /// A validation error without per-field detail.
    pub fn validation(message: impl Into<String>) -> Self {
        ServiceError::Validation {
            message: message.into(),
            problems: Vec::new(),
        }
    }
}

impl From<DbErr> for ServiceError {
    fn from(err: DbErr) -> Self {
        match fault(&err) {
            Some(DbFault::Unreachable | DbFault::CannotOpen) => ServiceError::Unavailable(err),
            Some(DbFault::Full) => {
                ServiceError::StorageRefused("the database's storage is full", err)
            }
            Some(DbFault::ReadOnly) => {
                ServiceError::StorageRefused("the database is read-only", err)
            }
            Some(DbFault::Io) => ServiceError::StorageRefused(
                "the database could not write to its storage (a full disk, a file size limit, \
                 a read-only or failing device)",
                err,
            ),
            None => ServiceError::Internal(err),
        }
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
