//! The layer of the process's subscriber that hands each span to the server it belongs to: the
//! server whose request opened it (a task-local set for the request's future by
//! [`Instrumentation::run`]), or its parent's. For that server it times database statements
//! (sea-orm's `sea_orm.*` spans) and commits (`trm.commit`) for its [`Timings`], and passes
//! the exported spans to its OpenTelemetry layer, if it exports.

use super::exported;
use super::otlp::{ExportLayer, Tracing};
use super::redact::{kind_of_span, statement_kind};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tracing::Metadata;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::{Layer, Registry};

/// Where a server's statement and commit timings go (its metrics).
pub trait Timings: Send + Sync + 'static {
    /// One database statement of `kind` (e.g. `INSERT case_events`, `COMMIT`; see
    /// [`super::statement_kind`]) took `elapsed`, waiting for a connection included.
    fn statement(&self, kind: &str, elapsed: Duration);
    /// One change to a case committed (or failed to) in `elapsed`: its writes and `COMMIT`.
    fn commit(&self, elapsed: Duration);
}

/// The span around [`crate::service::unit_of_work::CaseWork::commit`].
const COMMIT_SPAN: &str = "trm.commit";

/// How many servers export spans now: while none does, the stage spans stay disabled.
static EXPORTING: AtomicUsize = AtomicUsize::new(0);

/// One server's sinks.
struct Sinks {
    timings: Arc<dyn Timings>,
    export: Option<ExportLayer>,
}

impl Drop for Sinks {
    fn drop(&mut self) {
        if self.export.is_some() {
            EXPORTING.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

tokio::task_local! {
    /// The server whose request the running task serves.
    static SERVER: Arc<Sinks>;
}

/// What one server's requests run under (see the module's documentation). Cheap to clone.
#[derive(Clone)]
pub struct Instrumentation {
    sinks: Arc<Sinks>,
}

impl Instrumentation {
    /// The sinks of a server whose statement and commit timings go to `timings` and whose spans
    /// go to `tracing` (when it exports). Installs the process's subscriber if `main` has not.
    pub fn new(timings: Arc<dyn Timings>, tracing: &Tracing) -> Instrumentation {
        super::install(None);
        let export = tracing.layer();
        if export.is_some() {
            EXPORTING.fetch_add(1, Ordering::Relaxed);
        }
        Instrumentation {
            sinks: Arc::new(Sinks { timings, export }),
        }
    }

    /// Runs `future` as this server's: the spans it opens are the server's.
    pub fn run<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        SERVER.scope(self.sinks.clone(), future)
    }
}

/// The layer, for the spans it routes.
pub(super) fn layer() -> Box<dyn Layer<Registry> + Send + Sync> {
    Route.with_filter(Routed).boxed()
}

/// Which spans the layer sees: statements and commits always (for the metrics), the stages
/// only while some server exports.
struct Routed;

impl<S> Filter<S> for Routed {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        exported(meta) && (timed(meta) || EXPORTING.load(Ordering::Relaxed) > 0)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if !exported(meta) {
            Interest::never()
        } else if timed(meta) {
            Interest::always()
        } else {
            Interest::sometimes()
        }
    }
}

/// Whether a span is timed for the metrics.
fn timed(meta: &Metadata<'_>) -> bool {
    meta.name().starts_with("sea_orm.") || meta.name() == COMMIT_SPAN
}

struct Route;

/// Kept in a routed span's extensions: its server, and when it started.
struct Owned {
    sinks: Arc<Sinks>,
    at: Instant,
    /// A statement's kind, once known (from `db.statement` or `db.operation`).
    kind: Option<String>,
}

impl Route {
    fn sinks<'a>(ctx: &Context<'a, Registry>, id: &Id) -> Option<Arc<Sinks>> {
        let span = ctx.span(id)?;
        let extensions = span.extensions();
        extensions.get::<Owned>().map(|o| o.sinks.clone())
    }
}

impl Layer<Registry> for Route {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, Registry>) {
        let Some(span) = ctx.span(id) else { return };
        let sinks = SERVER.try_with(Arc::clone).ok().or_else(|| {
            let parent = span.parent()?;
            let extensions = parent.extensions();
            extensions.get::<Owned>().map(|o| o.sinks.clone())
        });
        let Some(sinks) = sinks else { return };
        let mut visitor = KindVisitor::default();
        attrs.record(&mut visitor);
        let kind = kind_of_span(span.name())
            .map(str::to_string)
            .or(visitor.kind);
        span.extensions_mut().insert(Owned {
            sinks: sinks.clone(),
            at: Instant::now(),
            kind,
        });
        drop(span);
        if let Some(export) = &sinks.export {
            export.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, Registry>) {
        let Some(sinks) = Route::sinks(&ctx, id) else {
            return;
        };
        let mut visitor = KindVisitor::default();
        values.record(&mut visitor);
        if let Some(kind) = visitor.kind
            && let Some(span) = ctx.span(id)
            && let Some(owned) = span.extensions_mut().get_mut::<Owned>()
        {
            owned.kind = Some(kind);
        }
        if let Some(export) = &sinks.export {
            export.on_record(id, values, ctx);
        }
    }

    fn on_follows_from(&self, id: &Id, follows: &Id, ctx: Context<'_, Registry>) {
        if let Some(sinks) = Route::sinks(&ctx, id)
            && let Some(export) = &sinks.export
        {
            export.on_follows_from(id, follows, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, Registry>) {
        let Some(span) = ctx.span(&id) else { return };
        let (sinks, elapsed, kind) = {
            let extensions = span.extensions();
            let Some(owned) = extensions.get::<Owned>() else {
                return;
            };
            (owned.sinks.clone(), owned.at.elapsed(), owned.kind.clone())
        };
        if span.name() == COMMIT_SPAN {
            sinks.timings.commit(elapsed);
        } else if span.name().starts_with("sea_orm.") {
            sinks
                .timings
                .statement(kind.as_deref().unwrap_or("OTHER"), elapsed);
        }
        drop(span);
        if let Some(export) = &sinks.export {
            export.on_close(id, ctx);
        }
    }
}

/// Finds the kind of a statement in a span's fields.
#[derive(Default)]
struct KindVisitor {
    kind: Option<String>,
}

impl Visit for KindVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "db.statement" {
            self.kind = Some(statement_kind(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `db.operation` is recorded with `%`: one of a handful of keywords.
        if field.name() == "db.operation" && self.kind.is_none() {
            self.kind = Some(statement_kind(&format!("{value:?}")));
        }
    }
}
