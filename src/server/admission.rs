//! The one way a GraphQL request gets in and runs, over HTTP and WebSocket alike.
//!
//! Once the caller is authenticated (each transport in its own way), a request passes the
//! [`Gate`] in two steps: [`Gate::admit`] takes from the principal's rate limit, then
//! [`Admission::check`] applies the query limits of [`limits`], keeps the request's values to
//! scrub them from errors ([`RequestEcho`]) and adds the principal to the request. Only then is
//! there an [`Admitted`] request to execute, once or as a stream; every response it gives has
//! the request's values scrubbed and an `extensions.code` on every error. (HTTP reads the body
//! between the two steps, so a rate-limited client is refused before its body is looked at.)
//!
//! Metrics: the gate counts rate-limit refusals per transport. Over HTTP, the `observe` layer
//! counts each request once answered, with its latency (it also sees the answers of the layers
//! before the handler); over WebSocket there is no such layer, and a subscription has no single
//! answer, so the gate counts the request when it decides.

use super::echo::RequestEcho;
use super::limits::{self, ApiLimits, OperationKind};
use super::metrics::{Metrics, Transport};
use super::parsed::ParsedQueries;
use super::ratelimit::{self, RateLimiter};
use crate::access::Principal;
use crate::api::TrmSchema;
use crate::service::App;
use async_graphql::{Data, ErrorExtensionValues, Request, Response, ServerError};
use futures::StreamExt;
use futures::stream::BoxStream;
use std::sync::Arc;

/// The checks every GraphQL request passes, and the schema it then runs on.
#[derive(Clone)]
pub(super) struct Gate {
    app: App,
    schema: TrmSchema,
    limits: ApiLimits,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    /// Query texts parsed and checked against `limits` before.
    parsed: Arc<ParsedQueries>,
}

/// A principal's request that the rate limit let through; its query limits are still to check.
#[must_use]
pub(super) struct Admission {
    gate: Gate,
    transport: Transport,
    principal: Option<Principal>,
}

/// A request that passed every check: ready to run.
#[must_use]
pub(super) struct Admitted {
    schema: TrmSchema,
    request: Request,
    kind: OperationKind,
    echo: RequestEcho,
}

/// Why a request was refused before anything ran.
#[derive(Debug)]
pub(super) enum Refusal {
    /// The principal's rate limit is spent: try again in `retry_after` seconds.
    RateLimited { per_minute: u32, retry_after: u64 },
    /// A query limit (length, syntax, fields, directives, values, introspection): `VALIDATION`.
    Limits(ServerError),
}

impl Gate {
    pub(super) fn new(
        app: App,
        schema: TrmSchema,
        limits: ApiLimits,
        limiter: Arc<RateLimiter>,
        metrics: Arc<Metrics>,
    ) -> Gate {
        Gate {
            app,
            schema,
            limits,
            limiter,
            metrics,
            parsed: Arc::default(),
        }
    }

    /// The counters behind `/metrics`.
    pub(super) fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The first step: the principal's rate limit. A request without a principal (a WebSocket
    /// `execute` outside a session, which the schema then refuses) is not limited.
    pub(super) fn admit(
        &self,
        transport: Transport,
        principal: Option<Principal>,
    ) -> Result<Admission, Refusal> {
        if let Some(p) = &principal
            && let Err(wait) = self.limiter.check(p.user_id)
        {
            self.metrics.rate_limited(transport);
            let refusal = Refusal::RateLimited {
                per_minute: self.limiter.limit(),
                retry_after: ratelimit::retry_after_secs(wait),
            };
            self.count(transport, OperationKind::Unknown, refusal.code());
            return Err(refusal);
        }
        Ok(Admission {
            gate: self.clone(),
            transport,
            principal,
        })
    }

    /// Counts a decision where no layer counts the answer (see the module's documentation).
    fn count(&self, transport: Transport, kind: OperationKind, code: &str) {
        if !matches!(transport, Transport::Http) {
            self.metrics.request(kind, code);
        }
    }
}

impl Admission {
    /// The second step: the query limits. The parsed document stays in the request (the schema
    /// does not parse it again), and the principal is added to the request's data.
    pub(super) fn check(self, mut request: Request) -> Result<Admitted, Refusal> {
        let gate = self.gate;
        let kind = match limits::check_request_with(&mut request, &gate.limits, Some(&gate.parsed))
        {
            Ok(kind) => kind,
            Err(error) => {
                let refusal = Refusal::Limits(error);
                gate.count(self.transport, OperationKind::Unknown, refusal.code());
                return Err(refusal);
            }
        };
        gate.count(self.transport, kind, "OK");
        let echo = RequestEcho::of(&mut request);
        if let Some(principal) = self.principal {
            request = crate::api::for_caller(request, &gate.app, principal);
        }
        Ok(Admitted {
            schema: gate.schema,
            request,
            kind,
            echo,
        })
    }
}

impl Admitted {
    /// What the request runs, for metrics.
    pub(super) fn kind(&self) -> OperationKind {
        self.kind
    }

    /// Runs a query or mutation.
    pub(super) async fn execute(self) -> Response {
        let mut response = self.schema.execute(self.request).await;
        self.echo.scrub(&mut response);
        with_error_codes(response)
    }

    /// Runs any operation as a stream (a subscription's events, or a single response), with the
    /// WebSocket session's data.
    pub(super) fn execute_stream(
        self,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let echo = self.echo;
        async_graphql::Executor::execute_stream(&self.schema, self.request, session_data)
            .map(move |mut response| {
                echo.scrub(&mut response);
                with_error_codes(response)
            })
            .boxed()
    }
}

impl Refusal {
    /// The error code the refusal answers with.
    pub(super) fn code(&self) -> &'static str {
        match self {
            Refusal::RateLimited { .. } => "RATE_LIMITED",
            Refusal::Limits(_) => "VALIDATION",
        }
    }

    /// The message of a rate-limit refusal.
    pub(super) fn rate_limit_message(per_minute: u32, retry_after: u64) -> String {
        format!(
            "Too many requests: at most {per_minute} a minute for each user; try again in {retry_after} s"
        )
    }

    /// The refusal as a GraphQL response (errors only).
    pub(super) fn into_response(self) -> Response {
        let error = match self {
            Refusal::RateLimited {
                per_minute,
                retry_after,
            } => {
                let mut error =
                    ServerError::new(Refusal::rate_limit_message(per_minute, retry_after), None);
                let mut ext = ErrorExtensionValues::default();
                ext.set("code", "RATE_LIMITED");
                ext.set("retryAfterSeconds", retry_after);
                error.extensions = Some(ext);
                error
            }
            Refusal::Limits(error) => error,
        };
        Response::from_errors(vec![error])
    }
}

/// Errors raised by the GraphQL layer itself (parse, validation, limits) get a code too.
fn with_error_codes(mut response: Response) -> Response {
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            ext.set("code", "VALIDATION");
        }
    }
    response
}
