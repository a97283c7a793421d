//! Where the time goes: logs, the spans of a request's stages, and the timings behind the
//! database metrics.
//!
//! One `tracing` subscriber serves the whole process ([`init_logging`] in `trm`; installed
//! without logs by the first server otherwise): libraries enter spans on threads of their own
//! (sqlx's SQLite worker does), so every span must live in the one registry that is the default
//! everywhere. Within it, each server has its own sinks, an [`Instrumentation`]: its requests run
//! in its scope, and the spans they open are its own (tests start many servers in one process,
//! and each must see only its spans and count only its statements). A server's sinks take
//! - the timing of database statements and commits, for `/metrics` ([`Timings`]);
//! - when OTLP export is configured ([`Tracing`]), the spans: `trm.request` and its stages
//!   `trm.authenticate`, `trm.parse`, `trm.execute`, `trm.policy`, `trm.engine`, `trm.commit`,
//!   and one span per database statement (sea-orm's `sea_orm.*` spans, exported as
//!   `INSERT case_events` and the like).
//!
//! Spans never carry personal data: only the attributes of `redact::ALLOWED` leave the process
//! (operation kind, outcome code, workflow and transition ids, the statement's kind), never the
//! statement's text, an error message or a log line. While no server exports, the stage spans
//! are disabled where they are created and cost next to nothing; the statement spans are kept
//! for the metrics.

mod otlp;
mod redact;
mod route;

pub use otlp::{Tracing, TracingError, TracingOptions};
pub use redact::statement_kind;
pub use route::{Instrumentation, Timings};

use std::sync::Once;
use tracing::Metadata;
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

static INSTALLED: Once = Once::new();

/// Starts the process's logging: stderr, filtered by `directives` (`EnvFilter` syntax; the
/// `default` when they are missing or do not parse), without the spans that are for export only.
/// Called once, by `main`, before any server starts.
pub fn init_logging(directives: Option<&str>, default: &str) {
    let filter = directives
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter.and(filter_fn(|meta| !exported(meta))));
    install(Some(logs.boxed()));
}

/// Installs the process's subscriber (once; without logs unless [`init_logging`] came first).
fn install(logs: Option<Box<dyn Layer<Registry> + Send + Sync>>) {
    INSTALLED.call_once(|| {
        // Fails only when something else installed a subscriber first (then servers are not
        // instrumented: their spans go to that subscriber).
        let layers: Vec<_> = std::iter::once(route::layer()).chain(logs).collect();
        let _ = tracing_subscriber::registry().with(layers).try_init();
    });
}

/// Whether a span is one that telemetry exports: the stages (`trm.*`) and sea-orm's statements
/// (`sea_orm.*`; its `trace`-level spans are named otherwise).
fn exported(meta: &Metadata<'_>) -> bool {
    meta.is_span() && (meta.name().starts_with("trm.") || meta.name().starts_with("sea_orm."))
}
