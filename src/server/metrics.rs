//! The metrics behind `/metrics`, recorded with the `metrics` crate into a Prometheus recorder
//! of this server's own (`metrics-exporter-prometheus`, text format 0.0.4): tests start many
//! servers in one process, and a process-global recorder would mix their counts.
//!
//! Every label value comes from a fixed set (the operation kinds, the error codes listed here,
//! the transports, the kinds of SQL statement of [`crate::telemetry::statement_kind`]), so a
//! label can never carry personal data, an id, a username or query text: a code that is not in
//! [`OUTCOMES`] is counted as `OTHER`.

use super::limits::OperationKind;
use crate::telemetry::Timings;
use metrics::{Counter, describe_counter, describe_histogram, with_local_recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
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

const REQUESTS: &str = "trm_graphql_requests_total";
const REQUEST_DURATION: &str = "trm_graphql_request_duration_seconds";
const RATE_LIMITED: &str = "trm_rate_limited_total";
const STATEMENT_DURATION: &str = "trm_db_statement_duration_seconds";
const COMMIT_DURATION: &str = "trm_commit_duration_seconds";

/// Upper bounds of the request latency buckets, in seconds.
const REQUEST_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds of the statement and commit latency buckets, in seconds.
const DATABASE_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Histogram samples between two upkeeps of the recorder (which folds the samples into the
/// buckets; rendering does it too, but `/metrics` may never be read).
const UPKEEP_EVERY: u64 = 4096;

/// The label for an error code: itself when it is one of [`OUTCOMES`], else `OTHER`.
pub fn outcome_label(code: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|o| **o == code)
        .copied()
        .unwrap_or("OTHER")
}

/// Where a request came in, for the rate-limit counter.
#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Http,
    WebSocket,
    /// The web console's pages, which run their GraphQL in the process.
    Console,
}

impl Transport {
    const ALL: [Transport; 3] = [Transport::Http, Transport::WebSocket, Transport::Console];

    fn as_str(self) -> &'static str {
        match self {
            Transport::Http => "http",
            Transport::WebSocket => "websocket",
            Transport::Console => "console",
        }
    }
}

/// The service's metrics; cheap to update from any thread.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// `[kind][outcome]`, registered up front so that every series shows, at 0 until counted.
    requests: Vec<Vec<Counter>>,
    /// `[http, websocket, console]`, as [`Transport::ALL`].
    rate_limited: Vec<Counter>,
    samples: AtomicU64,
    /// The store whose SQLite group commits are shown (set once, by the router).
    store: std::sync::OnceLock<crate::store::Store>,
    /// The statement histograms by kind, registered at the first statement of each kind: a
    /// statement is timed inside the writer's turn, and finding its histogram in the recorder
    /// (building its key and labels) cost more than recording into it.
    statements: std::sync::RwLock<std::collections::HashMap<String, metrics::Histogram>>,
    /// The commit histogram, registered up front.
    commits: metrics::Histogram,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        // The bucket lists are constants and not empty: neither call can fail.
        let builder = PrometheusBuilder::new();
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), &REQUEST_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(STATEMENT_DURATION.into()), &DATABASE_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let builder = builder
            .set_buckets_for_metric(Matcher::Full(COMMIT_DURATION.into()), &DATABASE_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let (requests, rate_limited, commits) = with_local_recorder(&recorder, || {
            describe_counter!(
                REQUESTS,
                "GraphQL requests (HTTP requests and WebSocket subscriptions) by operation kind \
                 and outcome (OK or the error code)."
            );
            describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "Time to answer a GraphQL request over HTTP, by operation kind and outcome."
            );
            describe_counter!(
                RATE_LIMITED,
                "Requests refused by the per-principal rate limit."
            );
            describe_histogram!(
                STATEMENT_DURATION,
                metrics::Unit::Seconds,
                "Time of one database statement run for a request (waiting for a connection \
                 included), by kind of statement (its verb and table, e.g. INSERT case_events)."
            );
            describe_histogram!(
                COMMIT_DURATION,
                metrics::Unit::Seconds,
                "Time to commit one change to a case: its writes and the database's COMMIT."
            );
            let requests = OperationKind::ALL
                .iter()
                .map(|kind| {
                    OUTCOMES
                        .iter()
                        .map(|outcome| {
                            metrics::counter!(REQUESTS, "operation" => kind.as_str(), "outcome" => *outcome)
                        })
                        .collect()
                })
                .collect();
            let rate_limited = Transport::ALL
                .iter()
                .map(|t| metrics::counter!(RATE_LIMITED, "transport" => t.as_str()))
                .collect();
            let commits = metrics::histogram!(COMMIT_DURATION);
            (requests, rate_limited, commits)
        });
        Metrics {
            recorder,
            handle,
            requests,
            rate_limited,
            samples: AtomicU64::new(0),
            store: std::sync::OnceLock::new(),
            statements: std::sync::RwLock::default(),
            commits,
        }
    }
}

impl Metrics {
    /// Counts one GraphQL request (an HTTP request, or a WebSocket `subscribe`) and its outcome.
    pub fn request(&self, kind: OperationKind, outcome: &str) {
        let outcome = outcome_label(outcome);
        let k = OperationKind::ALL.iter().position(|x| *x == kind);
        let o = OUTCOMES.iter().position(|x| *x == outcome);
        if let (Some(k), Some(o)) = (k, o)
            && let Some(counter) = self.requests.get(k).and_then(|r| r.get(o))
        {
            counter.increment(1);
        }
    }

    /// Records how long an HTTP GraphQL request took, and what came of it.
    pub fn latency(&self, kind: OperationKind, outcome: &str, elapsed: Duration) {
        let outcome = outcome_label(outcome);
        with_local_recorder(&self.recorder, || {
            metrics::histogram!(REQUEST_DURATION, "operation" => kind.as_str(), "outcome" => outcome)
                .record(elapsed.as_secs_f64());
        });
        self.sampled();
    }

    /// Counts a request refused by the rate limit.
    pub fn rate_limited(&self, transport: Transport) {
        let i = match transport {
            Transport::Http => 0,
            Transport::WebSocket => 1,
            Transport::Console => 2,
        };
        if let Some(counter) = self.rate_limited.get(i) {
            counter.increment(1);
        }
    }

    /// Shows the SQLite group commits of `store` too (the first store given is kept).
    pub fn watch_store(&self, store: &crate::store::Store) {
        let _ = self.store.set(store.clone());
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut text = self.handle.render();
        if let Some((groups, writes, largest)) =
            self.store.get().and_then(crate::store::Store::group_stats)
        {
            use std::fmt::Write;
            let _ = write!(
                text,
                "# HELP trm_sqlite_group_commits_total SQLite commits of a group of writes (group commit: one fsync for the group).\n\
                 # TYPE trm_sqlite_group_commits_total counter\n\
                 trm_sqlite_group_commits_total {groups}\n\
                 # HELP trm_sqlite_group_commit_writes_total Writes committed in those groups.\n\
                 # TYPE trm_sqlite_group_commit_writes_total counter\n\
                 trm_sqlite_group_commit_writes_total {writes}\n\
                 # HELP trm_sqlite_group_commit_largest The most writes one group has committed.\n\
                 # TYPE trm_sqlite_group_commit_largest gauge\n\
                 trm_sqlite_group_commit_largest {largest}\n"
            );
        }
        text
    }

    fn sampled(&self) {
        if self.samples.fetch_add(1, Ordering::Relaxed) % UPKEEP_EVERY == UPKEEP_EVERY - 1 {
            self.handle.run_upkeep();
        }
    }
}

impl Timings for Metrics {
    fn statement(&self, kind: &str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        // A poisoned lock only means a panic elsewhere while it was held; the map is still whole.
        let known = self
            .statements
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(kind)
            .cloned();
        let histogram = known.unwrap_or_else(|| {
            let histogram = with_local_recorder(
                &self.recorder,
                || metrics::histogram!(STATEMENT_DURATION, "statement" => kind.to_string()),
            );
            self.statements
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(kind.to_string(), histogram.clone());
            histogram
        });
        histogram.record(seconds);
        self.sampled();
    }

    fn commit(&self, elapsed: Duration) {
        self.commits.record(elapsed.as_secs_f64());
        self.sampled();
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
        m.latency(OperationKind::Query, "OK", Duration::from_millis(30));
        m.latency(
            OperationKind::Mutation,
            "Canary Zyxwvutsrq",
            Duration::from_millis(3),
        );
        m.rate_limited(Transport::Http);
        m.statement("INSERT case_events", Duration::from_micros(300));
        m.commit(Duration::from_millis(2));
        let text = m.render();
        assert!(text.contains("trm_graphql_requests_total{operation=\"query\",outcome=\"OK\"} 1"));
        assert!(
            text.contains("trm_graphql_requests_total{operation=\"mutation\",outcome=\"OTHER\"} 1")
        );
        assert!(
            text.contains(
                "trm_graphql_requests_total{operation=\"subscription\",outcome=\"OK\"} 0"
            ),
            "every series shows from the start:\n{text}"
        );
        assert!(!text.contains("Canary"));
        assert!(text.contains(
            "trm_graphql_request_duration_seconds_bucket{operation=\"query\",outcome=\"OK\",le=\"0.05\"} 1"
        ), "{text}");
        assert!(text.contains(
            "trm_graphql_request_duration_seconds_bucket{operation=\"query\",outcome=\"OK\",le=\"0.025\"} 0"
        ));
        assert!(text.contains(
            "trm_graphql_request_duration_seconds_count{operation=\"mutation\",outcome=\"OTHER\"} 1"
        ));
        assert!(text.contains("trm_rate_limited_total{transport=\"http\"} 1"));
        assert!(text.contains(
            "trm_db_statement_duration_seconds_bucket{statement=\"INSERT case_events\",le=\"0.0005\"} 1"
        ), "{text}");
        assert!(
            text.contains("trm_commit_duration_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("# TYPE trm_commit_duration_seconds histogram"));
    }

    #[test]
    fn each_server_counts_for_itself() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.request(OperationKind::Query, "OK");
        a.latency(OperationKind::Query, "OK", Duration::from_millis(1));
        assert!(
            b.render()
                .contains("trm_graphql_requests_total{operation=\"query\",outcome=\"OK\"} 0")
        );
        assert!(
            !b.render()
                .contains("trm_graphql_request_duration_seconds_count")
        );
    }
}
