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
    #[error("the service cannot reach its database; try again shortly")]
    Unavailable(#[source] DbErr),
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
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ServiceError::Unavailable(err),
            other => ServiceError::Internal(other),
        }
    }
}
