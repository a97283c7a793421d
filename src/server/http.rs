//! `POST /graphql`: one GraphQL request per HTTP request, and the JSON answers of everything
//! that can refuse one (authentication, rate limit, body, limits, the layers before the
//! handler), each marked with its outcome for the metrics and the request's span
//! ([`super::observe`]). Its stages are spans of their own: `trm.authenticate`, `trm.parse`
//! (the JSON, the GraphQL document and the query limits), `trm.execute` (the schema's
//! validation and the resolvers).

use super::admission::Refusal;
use super::limits::OperationKind;
use super::metrics::{self, Transport};
use super::state::ServerState;
use crate::api;
use crate::service::{ServiceError, auth};
use async_graphql_axum::GraphQLResponse;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::Instrument;

/// `POST /graphql`: authenticate, pass the gate's rate limit, read one request, pass its
/// limits, run it; see [`super::admission`].
pub(super) async fn graphql(
    State(state): State<ServerState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match auth::authenticate(&state.app, authorization)
        .instrument(tracing::info_span!("trm.authenticate"))
        .await
    {
        Ok(p) => p,
        Err(err) => {
            return with_outcome(
                error_response(&err),
                OperationKind::Unknown,
                api::error::code(&err),
            );
        }
    };
    let admission = match state.gate.admit(Transport::Http, Some(principal)) {
        Ok(admission) => admission,
        Err(refusal) => return refused(refusal),
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large_response();
        }
        Err(_) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "VALIDATION",
                "The request body could not be read",
            );
        }
    };
    let admitted = tracing::info_span!("trm.parse").in_scope(|| {
        parse_request(&body)
            .and_then(|request| admission.check(request).map_err(|r| Box::new(refused(r))))
    });
    match admitted {
        Ok(admitted) => {
            let kind = admitted.kind();
            let response = admitted
                .execute()
                .instrument(tracing::info_span!("trm.execute"))
                .await;
            graphql_response(response, kind)
        }
        Err(response) => *response,
    }
}

/// One GraphQL request from a JSON body. A JSON array (a batch) is refused, and so is anything
/// else that is not one request object, with a message that never quotes the body.
fn parse_request(body: &[u8]) -> Result<async_graphql::Request, Box<Response>> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            "Batched requests (a JSON array) are not accepted: send one operation per request",
        )));
    }
    serde_json::from_slice::<async_graphql::Request>(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Eof => "incomplete JSON",
            serde_json::error::Category::Data => "a value of the wrong type",
            serde_json::error::Category::Io => "an unreadable body",
        };
        Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "VALIDATION",
            &format!(
                "The request body is not a GraphQL request ({what} at line {}, column {}): send \
                 a JSON object with `query` (a string) and, optionally, `variables` (an object) \
                 and `operationName` (a string)",
                e.line(),
                e.column()
            ),
        ))
    })
}

/// A refusal of the gate over HTTP: 429 with `Retry-After` for the rate limit, the GraphQL
/// errors (HTTP 200) for a query limit.
fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::RateLimited {
            per_minute,
            retry_after,
        } => {
            let body = json!({ "errors": [{
                "message": Refusal::rate_limit_message(per_minute, retry_after),
                "extensions": { "code": "RATE_LIMITED", "retryAfterSeconds": retry_after },
            }] });
            let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            with_outcome(response, OperationKind::Unknown, "RATE_LIMITED")
        }
        refusal @ Refusal::Limits(_) => {
            graphql_response(refusal.into_response(), OperationKind::Unknown)
        }
    }
}

/// What became of a `/graphql` request, for the metrics (set by whoever answered it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Outcome {
    pub(super) kind: OperationKind,
    pub(super) code: &'static str,
}

pub(super) fn with_outcome(mut response: Response, kind: OperationKind, code: &str) -> Response {
    response.extensions_mut().insert(Outcome {
        kind,
        code: metrics::outcome_label(code),
    });
    response
}

/// A GraphQL response over HTTP, its outcome the first error's code (or `OK`).
fn graphql_response(response: async_graphql::Response, kind: OperationKind) -> Response {
    let code = metrics::outcome_label(first_code(&response));
    with_outcome(GraphQLResponse::from(response).into_response(), kind, code)
}

fn first_code(response: &async_graphql::Response) -> &str {
    match response.errors.first() {
        None => "OK",
        Some(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(async_graphql::Value::String(code)) => code.as_str(),
            _ => "OTHER",
        },
    }
}

/// `{"errors": [{"message": ..., "extensions": {"code": ...}}]}` with `status`.
pub(super) fn json_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    with_outcome(
        (status, Json(body)).into_response(),
        OperationKind::Unknown,
        code,
    )
}

pub(super) fn too_large_response() -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        "The request body is larger than this service accepts",
    )
}

/// The answer to a request whose handler panicked: 500 `INTERNAL`, no details. The panic is
/// logged by the panic hook ([`super::install_panic_hook`]), without request data.
pub(super) fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked; answered 500 INTERNAL");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
}

/// The answer to a request whose authentication failed: 401 (with `WWW-Authenticate`), 503
/// when the database is unavailable, 500 otherwise.
fn error_response(err: &ServiceError) -> Response {
    let (status, code) = match err {
        ServiceError::Unauthenticated => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
        ServiceError::Unavailable(cause) | ServiceError::StorageRefused(_, cause) => {
            tracing::warn!(error = %cause, "database unavailable during authentication");
            (StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE")
        }
        other => {
            tracing::error!(error = ?other, "authentication failed unexpectedly");
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL")
        }
    };
    let body =
        json!({ "errors": [{ "message": err.to_string(), "extensions": { "code": code } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
