//! The errors a use case can end with. Each maps to one stable API error code.

use crate::store::{DbFault, StoreError};
use crate::workflow::Unmet;
use crate::workflow::engine::InputProblem;

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
    /// A person has one active case per lead agency: the earlier case (or a case continuing
    /// it) is still open.
    #[error("{0}")]
    CaseStillActive(String),
    #[error(
        "the case has changed since version {expected}; it is now at version {actual}: reload it and try again"
    )]
    VersionConflict { expected: i64, actual: i64 },
    #[error("this idempotency key was already used with a different request")]
    IdempotencyMismatch,
    #[error(
        "the service cannot reach its database; try again shortly (with the same idempotency key, a retry is safe)"
    )]
    Unavailable(#[source] StoreError),
    /// The database answered but cannot store anything (a full disk, a read-only file).
    #[error("{0}; an administrator must act")]
    StorageRefused(&'static str, #[source] StoreError),
    /// A fault of the program or its data (logged; the client sees only "internal error").
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
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

impl ServiceError {
    /// An internal fault described in words (logged, never shown to the client).
    pub fn internal(message: impl Into<String>) -> Self {
        ServiceError::Internal(message.into().into())
    }

    /// Whether this is the refusal of a write that lost a race (a unique key already taken, or
    /// the case's version moved on): the caller may find the winner's result and answer with it.
    pub fn lost_race(&self) -> bool {
        match self {
            ServiceError::VersionConflict { .. } => true,
            ServiceError::Internal(e) => e
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_conflict),
            _ => false,
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err.fault() {
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
            None => match err {
                StoreError::NotFound(what) => ServiceError::NotFound(what),
                other => ServiceError::Internal(Box::new(other)),
            },
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        StoreError::from(err).into()
    }
}
