//! Domain errors as GraphQL errors: a human message and a stable `extensions.code`.
//! Internal causes are logged here, once, and never reach the client.

use crate::service::ServiceError;
use async_graphql::{Error, ErrorExtensions, Value};

/// The stable machine code of an error.
pub fn code(err: &ServiceError) -> &'static str {
    match err {
        ServiceError::Unauthenticated => "UNAUTHENTICATED",
        ServiceError::Forbidden(_) => "FORBIDDEN",
        ServiceError::NotFound(_) => "NOT_FOUND",
        ServiceError::Validation { .. } => "VALIDATION",
        ServiceError::GuardFailed { .. } => "GUARD_FAILED",
        ServiceError::InvalidTransition(_) => "INVALID_TRANSITION",
        ServiceError::ConsentRequired(_) => "CONSENT_REQUIRED",
        ServiceError::LegalBan(_) => "LEGAL_BAN",
        ServiceError::CaseStillActive(_) => "CASE_STILL_ACTIVE",
        ServiceError::VersionConflict { .. } => "VERSION_CONFLICT",
        ServiceError::IdempotencyMismatch => "IDEMPOTENCY_MISMATCH",
        ServiceError::Unavailable(_) | ServiceError::StorageRefused(..) => "SERVICE_UNAVAILABLE",
        ServiceError::Internal(_) => "INTERNAL",
    }
}

impl ErrorExtensions for ServiceError {
    fn extend(&self) -> Error {
        match self {
            ServiceError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            ServiceError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable")
            }
            ServiceError::StorageRefused(what, cause) => {
                tracing::error!(error = %cause, "{what}")
            }
            _ => {}
        }
        Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", code(self));
            match self {
                ServiceError::GuardFailed { transition, unmet } => {
                    ext.set("transition", transition.as_str());
                    let list: Vec<Value> = unmet
                        .iter()
                        .map(|u| {
                            let mut m = async_graphql::indexmap::IndexMap::new();
                            m.insert(
                                async_graphql::Name::new("name"),
                                Value::from(u.name.as_str()),
                            );
                            m.insert(
                                async_graphql::Name::new("reason"),
                                Value::from(u.reason.as_str()),
                            );
                            m.insert(
                                async_graphql::Name::new("reasonFr"),
                                Value::from(u.reason_fr.as_str()),
                            );
                            Value::Object(m)
                        })
                        .collect();
                    ext.set("unmetGuards", Value::List(list));
                }
                ServiceError::Validation { problems, .. } if !problems.is_empty() => {
                    let list: Vec<Value> = problems
                        .iter()
                        .map(|p| {
                            let mut m = async_graphql::indexmap::IndexMap::new();
                            m.insert(
                                async_graphql::Name::new("field"),
                                Value::from(format!("data.{}", p.field)),
                            );
                            m.insert(
                                async_graphql::Name::new("message"),
                                Value::from(p.message.as_str()),
                            );
                            Value::Object(m)
                        })
                        .collect();
                    ext.set("problems", Value::List(list));
                }
                ServiceError::VersionConflict { expected, actual } => {
                    ext.set("expectedVersion", *expected);
                    ext.set("actualVersion", *actual);
                }
                _ => {}
            }
        })
    }
}

/// Converts a service result into a GraphQL result.
pub trait IntoGql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGql<T> for Result<T, ServiceError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| e.extend())
    }
}

/// A `VALIDATION` error for bad arguments.
pub fn invalid(message: impl Into<String>) -> Error {
    ServiceError::validation(message).extend()
}
