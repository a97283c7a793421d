//! GraphQL run in the process for a signed-in principal: the web console's one way to read and
//! write. A request takes the same path as one over HTTP (the principal's rate limit, the query
//! limits, the schema with every policy, redaction, access-log entry and idempotency rule, the
//! scrubbing of values from errors); only the transport differs.

use super::admission::Gate;
use super::metrics::Transport;
use crate::access::Principal;
use async_graphql::{Request, Response, Variables};

/// Runs GraphQL requests in the process, through the same gate as `POST /graphql`.
#[derive(Clone)]
pub struct InProcess {
    pub(super) gate: Gate,
}

impl InProcess {
    /// Runs `query` with `variables` (a JSON object) as `principal`.
    pub async fn run(
        &self,
        principal: &Principal,
        query: &str,
        variables: serde_json::Value,
    ) -> Response {
        let admission = match self.gate.admit(Transport::Console, Some(principal.clone())) {
            Ok(admission) => admission,
            Err(refusal) => return refusal.into_response(),
        };
        let request = Request::new(query).variables(Variables::from_json(variables));
        match admission.check(request) {
            Ok(admitted) => admitted.execute().await,
            Err(refusal) => refusal.into_response(),
        }
    }
}

impl crate::console::GraphqlRunner for InProcess {
    fn run<'a>(
        &'a self,
        principal: &'a Principal,
        query: &'a str,
        variables: serde_json::Value,
    ) -> futures::future::BoxFuture<'a, Response> {
        Box::pin(InProcess::run(self, principal, query, variables))
    }

    fn stream(
        &self,
        principal: &Principal,
        query: &str,
    ) -> futures::stream::BoxStream<'static, Response> {
        use futures::StreamExt;
        let admission = match self.gate.admit(Transport::Console, Some(principal.clone())) {
            Ok(admission) => admission,
            Err(refusal) => {
                return futures::stream::once(async { refusal.into_response() }).boxed();
            }
        };
        match admission.check(Request::new(query)) {
            Ok(admitted) => admitted.execute_stream(None),
            Err(refusal) => futures::stream::once(async { refusal.into_response() }).boxed(),
        }
    }
}
