//! Counters for `/metrics`, in the Prometheus text format.
//!
//! Every label value comes from a fixed set (the operation kinds and the error codes listed
//! here), so a label can never carry personal data, an id, a username or query text: a code that
//! is not in [`OUTCOMES`] is counted as `OTHER`.

use super::limits::OperationKind;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The outcomes counted: `OK` and the `extensions.code`s of the API (README, *Errors*).
pub const OUTCOMES: &[&str] = &[
    "OK",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "VALIDATION",
    "GUARD_FAILED",
    "INVALID_TRANSITION",
    "CONSENT_REQUIRED",
    "LEGAL_BAN",
    "VERSION_CONFLICT",
    "IDEMPOTENCY_MISMATCH",
    "SUBSCRIPTION_LAGGED",
    "RATE_LIMITED",
    "PAYLOAD_TOO_LARGE",
    "TIMEOUT",
    "SERVICE_UNAVAILABLE",
    "INTERNAL",
    "OTHER",
];

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const KINDS: usize = OperationKind::ALL.len();

/// The label for an error code: itself when it is one of [`OUTCOMES`], else `OTHER`.
pub fn outcome_label(code: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|o| **o == code)
        .copied()
        .unwrap_or("OTHER")
}

fn kind_index(kind: OperationKind) -> usize {
    OperationKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KINDS - 1)
}

/// The service's counters; cheap to update from any thread.
#[derive(Debug)]
pub struct Metrics {
    /// `[kind][outcome]`.
    requests: Vec<Vec<AtomicU64>>,
    /// `[kind][bucket]`, cumulative at rendering only.
    latency_buckets: Vec<Vec<AtomicU64>>,
    latency_count: Vec<AtomicU64>,
    latency_sum_micros: Vec<AtomicU64>,
    /// `[http, ws, console]`.
    rate_limited: [AtomicU64; 3],
}

impl Default for Metrics {
    fn default() -> Self {
        let row = |n: usize| (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
        Metrics {
            requests: (0..KINDS).map(|_| row(OUTCOMES.len())).collect(),
            latency_buckets: (0..KINDS).map(|_| row(BUCKETS.len())).collect(),
            latency_count: row(KINDS),
            latency_sum_micros: row(KINDS),
            rate_limited: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
        }
    }
}

/// Where a request came in, for the rate-limit counter.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Http,
    WebSocket,
    /// The web console's pages, which run their GraphQL in the process.
    Console,
}

impl Metrics {
    /// Counts one GraphQL request (an HTTP request, or a WebSocket `subscribe`) and its outcome.
    pub fn request(&self, kind: OperationKind, outcome: &str) {
        let o = OUTCOMES
            .iter()
            .position(|x| *x == outcome_label(outcome))
            .unwrap_or(OUTCOMES.len() - 1);
        if let Some(c) = self.requests.get(kind_index(kind)).and_then(|r| r.get(o)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how long an HTTP GraphQL request took.
    pub fn latency(&self, kind: OperationKind, elapsed: Duration) {
        let k = kind_index(kind);
        let seconds = elapsed.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|le| seconds <= *le)
            && let Some(c) = self.latency_buckets.get(k).and_then(|r| r.get(b))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(c) = self.latency_count.get(k) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(c) = self.latency_sum_micros.get(k) {
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            c.fetch_add(micros, Ordering::Relaxed);
        }
    }

    /// Counts a request refused by the rate limit.
    pub fn rate_limited(&self, transport: Transport) {
        let i = match transport {
            Transport::Http => 0,
            Transport::WebSocket => 1,
            Transport::Console => 2,
        };
        self.rate_limited[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        out.push_str(
            "# HELP trm_graphql_requests_total GraphQL requests (HTTP requests and WebSocket \
             subscriptions) by operation kind and outcome (OK or the error code).\n\
             # TYPE trm_graphql_requests_total counter\n",
        );
        for (k, kind) in OperationKind::ALL.iter().enumerate() {
            for (o, outcome) in OUTCOMES.iter().enumerate() {
                let n = self.requests.get(k).and_then(|r| r.get(o)).map_or(0, get);
                let _ = writeln!(
                    out,
                    "trm_graphql_requests_total{{operation=\"{}\",outcome=\"{outcome}\"}} {n}",
                    kind.as_str()
                );
            }
        }
        out.push_str(
            "# HELP trm_graphql_request_duration_seconds Time to answer a GraphQL request over \
             HTTP, by operation kind.\n\
             # TYPE trm_graphql_request_duration_seconds histogram\n",
        );
        for (k, kind) in OperationKind::ALL.iter().enumerate() {
            let kind = kind.as_str();
            let mut cumulative = 0;
            for (b, le) in BUCKETS.iter().enumerate() {
                cumulative += self
                    .latency_buckets
                    .get(k)
                    .and_then(|r| r.get(b))
                    .map_or(0, get);
                let _ = writeln!(
                    out,
                    "trm_graphql_request_duration_seconds_bucket{{operation=\"{kind}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = self.latency_count.get(k).map_or(0, get);
            let sum = self.latency_sum_micros.get(k).map_or(0, get) as f64 / 1e6;
            let _ = writeln!(
                out,
                "trm_graphql_request_duration_seconds_bucket{{operation=\"{kind}\",le=\"+Inf\"}} {count}\n\
                 trm_graphql_request_duration_seconds_sum{{operation=\"{kind}\"}} {sum}\n\
                 trm_graphql_request_duration_seconds_count{{operation=\"{kind}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP trm_rate_limited_total Requests refused by the per-principal rate limit.\n\
             # TYPE trm_rate_limited_total counter\n",
        );
        for (i, transport) in ["http", "websocket", "console"].iter().enumerate() {
            let _ = writeln!(
                out,
                "trm_rate_limited_total{{transport=\"{transport}\"}} {}",
                get(&self.rate_limited[i])
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_fixed_sets() {
        let m = Metrics::default();
        m.request(OperationKind::Query, "OK");
        m.request(OperationKind::Mutation, "Canary Zyxwvutsrq");
        m.latency(OperationKind::Query, Duration::from_millis(30));
        m.rate_limited(Transport::Http);
        let text = m.render();
        assert!(text.contains("trm_graphql_requests_total{operation=\"query\",outcome=\"OK\"} 1"));
        assert!(
            text.contains("trm_graphql_requests_total{operation=\"mutation\",outcome=\"OTHER\"} 1")
        );
        assert!(!text.contains("Canary"));
        assert!(text.contains(
            "trm_graphql_request_duration_seconds_bucket{operation=\"query\",le=\"0.05\"} 1"
        ));
        assert!(text.contains(
            "trm_graphql_request_duration_seconds_bucket{operation=\"query\",le=\"0.025\"} 0"
        ));
        assert!(text.contains("trm_graphql_request_duration_seconds_count{operation=\"query\"} 1"));
        assert!(text.contains("trm_rate_limited_total{transport=\"http\"} 1"));
    }
}
