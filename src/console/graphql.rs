//! Running the console's GraphQL as the signed-in user and reading the answers: data into typed
//! views, errors into what a page shows (their message, already free of the request's values,
//! and code).

use super::Console;
use super::session::Signed;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// An error the API answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    /// `extensions.code` (`FORBIDDEN`, `GUARD_FAILED`, `VERSION_CONFLICT`, ...).
    pub code: String,
    /// For `GUARD_FAILED`: the reason of each unmet guard.
    pub reasons: Vec<String>,
}

impl ApiError {
    /// An answer the console could not read (a bug of the console, not of the user's input).
    fn unreadable(what: &str) -> ApiError {
        tracing::error!(what, "the console could not read an answer of the API");
        ApiError {
            message: "The service answered in a way this page does not understand.".into(),
            code: "INTERNAL".into(),
            reasons: Vec::new(),
        }
    }
}

impl Console {
    /// Runs `query` as `signed`'s principal; its data as `T`, or the errors it answered with
    /// (the first error decides; a partial answer counts as an error).
    pub(super) async fn gql<T: DeserializeOwned>(
        &self,
        signed: &Signed,
        query: &str,
        variables: Value,
    ) -> Result<T, ApiError> {
        let response = self.graphql.run(&signed.principal, query, variables).await;
        if let Some(error) = response.errors.first() {
            let ext = error
                .extensions
                .as_ref()
                .and_then(|e| serde_json::to_value(e).ok())
                .unwrap_or(Value::Null);
            let code = ext
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("INTERNAL")
                .to_string();
            let reasons = ext
                .get("unmetGuards")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|u| u.get("reason").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            return Err(ApiError {
                message: error.message.clone(),
                code,
                reasons,
            });
        }
        let data = response
            .data
            .into_json()
            .map_err(|_| ApiError::unreadable("data"))?;
        serde_json::from_value(data).map_err(|e| {
            tracing::error!(error = %e, "console view does not match the API's answer");
            ApiError::unreadable("view")
        })
    }
}
