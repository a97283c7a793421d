//! The scheduler: records every timer whose due date passed as an event on its case, exactly
//! once even when several instances share the database, and escalates a lapsed deadline in the
//! same change (`super::escalation`); and deadline views for the API.

use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::domain::{CaseRecord, EventDraft, EventKind};
use crate::store::timers;
use crate::workflow::Changes;
use crate::workflow::definition::TimerKind;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// How many due timers one pass handles at most.
pub const BATCH: u64 = 200;

/// Records due timers as `TIMER_ELAPSED` events (escalating lapsed deadlines) and escalates
/// overdue answers to referrals and transfers; returns how many timers this call recorded.
pub async fn fire_due(app: &App) -> Result<usize, ServiceError> {
    let mut fired = 0;
    loop {
        let now = app.now();
        let due = timers::due(app.store.conn(), now, BATCH).await?;
        let batch = due.len();
        for (case_id, timer) in due {
            if fire_one(app, case_id, &timer, now).await? {
                fired += 1;
            }
        }
        if (batch as u64) < BATCH {
            // Overdue answers to referrals and transfers go to the focal point on the same beat.
            super::inbox::escalate_overdue(app).await?;
            return Ok(fired);
        }
    }
}

async fn fire_one(
    app: &App,
    case_id: uuid::Uuid,
    timer: &str,
    now: DateTime<Utc>,
) -> Result<bool, ServiceError> {
    let mut work = match CaseWork::begin(app, Changer::System, case_id, None).await {
        Ok(work) => work,
        Err(ServiceError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    // The conditional update makes the firing exactly-once across instances.
    if !timers::claim(work.tx(), case_id, timer, now).await? {
        return Ok(false);
    }
    let system = (uuid::Uuid::nil(), work.case().lead_agency_id);
    work.record(
        EventDraft::new(EventKind::TimerElapsed, system).changes(Changes {
            timer_elapsed: Some(timer.to_string()),
            ..Changes::default()
        }),
    )
    .await?;
    // The deadline's escalation is part of the same change: exactly once, like the lapse.
    let workflow = work.workflow().clone();
    if let Some(def) = workflow.timers.get(timer) {
        super::escalation::escalate(app, &mut work, def).await?;
    }
    work.commit().await?;
    Ok(true)
}

/// Runs [`fire_due`] every `interval` until the process ends. Failures are logged and retried.
pub async fn run_scheduler(app: App, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_optimized = std::time::Instant::now();
    loop {
        tick.tick().await;
        // Planner statistics follow the data as it grows (hourly is SQLite's advice).
        if last_optimized.elapsed() >= Duration::from_secs(3600) {
            last_optimized = std::time::Instant::now();
            if let Err(e) = app.store.optimize().await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
        }
        match fire_due(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(fired = n, "timers recorded as elapsed"),
            Err(e) => tracing::warn!(error = %e, "scheduler pass failed; retrying next tick"),
        }
        // Leaves a crash left waiting for their position (PostgreSQL) are placed here at the
        // latest.
        if let Err(e) = super::audit_log::settle(&app.store).await {
            tracing::warn!(error = %e, "placing audit-log leaves failed; retrying next tick");
        }
        if let Some(key) = app.audit_key() {
            let every = chrono::Duration::minutes(crate::audit::CHECKPOINT_EVERY_MINUTES);
            match super::audit_log::checkpoint_if_due(&app.store, key, app.now(), every).await {
                Ok(Some(c)) => tracing::info!(tree_size = c.tree_size, "audit checkpoint signed"),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "audit checkpoint failed; retrying next tick"),
            }
        }
    }
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DeadlineStatus {
    /// Not yet in its warning window.
    Pending,
    /// Inside the warning window before the due date.
    DueSoon,
    /// Past the due date and still open: escalated.
    Overdue,
    /// Stopped before the due date (what it waited for happened).
    Met,
    /// Stopped after the due date (it happened, late).
    Missed,
    /// Not counting (e.g. the person is missing).
    Paused,
}

/// One deadline of a case.
#[derive(Debug, Clone)]
pub struct Deadline {
    pub timer: String,
    pub status: DeadlineStatus,
    pub due_at: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
}

/// The deadlines (DEADLINE timers) of a case at `now`, most urgent first.
pub fn deadlines(app: &App, case: &CaseRecord, now: DateTime<Utc>) -> Vec<Deadline> {
    let Ok(workflow) = app.workflow_of(case) else {
        return Vec::new();
    };
    let mut list: Vec<Deadline> = case
        .state
        .timers
        .iter()
        .filter_map(|(id, t)| {
            let def = workflow
                .timers
                .get(id)
                .filter(|d| d.kind == TimerKind::Deadline)?;
            let warn_at = t.due_at - chrono::Duration::days(i64::from(def.warn_days));
            let status = match (t.stopped_at, t.paused_at) {
                (Some(stopped), _) if stopped < t.due_at => DeadlineStatus::Met,
                (Some(_), _) => DeadlineStatus::Missed,
                (None, Some(_)) => DeadlineStatus::Paused,
                (None, None) if now >= t.due_at => DeadlineStatus::Overdue,
                (None, None) if now >= warn_at => DeadlineStatus::DueSoon,
                (None, None) => DeadlineStatus::Pending,
            };
            Some(Deadline {
                timer: id.clone(),
                status,
                due_at: t.due_at,
                warn_at,
            })
        })
        .collect();
    list.sort_by_key(|d| (urgency(d.status), d.due_at));
    list
}

/// Lower is more urgent.
pub fn urgency(status: DeadlineStatus) -> u8 {
    match status {
        DeadlineStatus::Overdue => 0,
        DeadlineStatus::DueSoon => 1,
        DeadlineStatus::Pending => 2,
        DeadlineStatus::Paused => 3,
        DeadlineStatus::Met | DeadlineStatus::Missed => 4,
    }
}
