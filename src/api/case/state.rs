//! A case's procedural state as the API shows it: the tracks' states, timers, deadlines and the
//! transitions the caller may fire, with labels in the caller's language. Shared by the live
//! case and the auditor's "as of" snapshot.

use super::super::workflow::{TransitionInput, transition_inputs};
use crate::domain::{CaseRecord, Stage};
use crate::service::timers::{Deadline, DeadlineStatus};
use crate::workflow::Workflow;
use crate::workflow::definition::TimerKind;
use crate::workflow::engine::Availability;
use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

/// The current state of one track of a case.
#[derive(SimpleObject)]
pub struct CaseTrackState {
    pub track: String,
    pub state: String,
    pub stage: Stage,
    pub label: String,
    pub terminal: bool,
    pub entered_at: Option<DateTime<Utc>>,
}

/// Where a timer stands.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum TimerStatus {
    Running,
    /// Not counting (e.g. while the person is missing).
    Paused,
    Elapsed,
    Stopped,
}

/// A timer of a case.
#[derive(SimpleObject)]
pub struct CaseTimer {
    pub timer: String,
    pub kind: TimerKind,
    pub status: TimerStatus,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub citation: String,
    pub label: String,
}

/// A deadline of a case.
#[derive(SimpleObject)]
pub struct CaseDeadline {
    pub timer: String,
    pub status: DeadlineStatus,
    pub due_at: DateTime<Utc>,
    /// When the case becomes due soon (the warning window opens).
    pub due_soon_from: DateTime<Utc>,
    pub citation: String,
    pub label: String,
    /// Roles alerted once it is overdue.
    pub escalate_to: Vec<crate::domain::Role>,
}

/// A reason a transition cannot be fired now.
#[derive(SimpleObject, Clone)]
pub struct UnmetGuard {
    /// Machine name (a guard's name, or `role`, `agency_kind`, `lead_agency`).
    pub name: String,
    pub reason: String,
}

/// A transition out of the case's current states, judged for the caller.
#[derive(SimpleObject)]
pub struct AvailableTransition {
    pub key: String,
    pub label: String,
    pub track: String,
    pub from: String,
    pub to: String,
    /// Whether the caller may fire it now (guards over its own inputs are judged when fired).
    pub allowed: bool,
    pub unmet_guards: Vec<UnmetGuard>,
    pub inputs: Vec<TransitionInput>,
}

/// The state of every started track of `case`.
pub fn track_states(workflow: &Workflow, case: &CaseRecord, language: &str) -> Vec<CaseTrackState> {
    workflow
        .tracks
        .iter()
        .filter_map(|t| {
            let state = workflow.state(case.state.tracks.get(&t.id)?)?;
            Some(CaseTrackState {
                track: t.id.clone(),
                state: state.id.clone(),
                stage: state.stage,
                label: state.label.get(language).to_string(),
                terminal: state.terminal,
                entered_at: case.entered_at.get(&t.id).copied(),
            })
        })
        .collect()
}

/// The timers of `case` as they stand at `now`.
pub fn case_timers(
    workflow: &Workflow,
    case: &CaseRecord,
    now: DateTime<Utc>,
    language: &str,
) -> Vec<CaseTimer> {
    case.state
        .timers
        .iter()
        .filter_map(|(id, t)| {
            let def = workflow.timers.get(id)?;
            let view = t.view(now);
            let status = if view.paused {
                TimerStatus::Paused
            } else if view.running {
                TimerStatus::Running
            } else if view.elapsed {
                TimerStatus::Elapsed
            } else {
                TimerStatus::Stopped
            };
            Some(CaseTimer {
                timer: id.clone(),
                kind: def.kind,
                status,
                started_at: t.started_at,
                due_at: t.due_at,
                stopped_at: t.stopped_at,
                citation: def.citation.clone(),
                label: def.label.get(language).to_string(),
            })
        })
        .collect()
}

/// The deadlines of a case, with their definitions' labels and citations.
pub fn case_deadlines(
    workflow: &Workflow,
    deadlines: Vec<Deadline>,
    language: &str,
) -> Vec<CaseDeadline> {
    deadlines
        .into_iter()
        .filter_map(|d| {
            let def = workflow.timers.get(&d.timer)?;
            Some(CaseDeadline {
                timer: d.timer,
                status: d.status,
                due_at: d.due_at,
                due_soon_from: d.warn_at,
                citation: def.citation.clone(),
                label: def.label.get(language).to_string(),
                escalate_to: def.escalate_to.clone(),
            })
        })
        .collect()
}

/// The transitions judged for the caller, as the API shows them.
pub fn available_transitions(
    workflow: &Workflow,
    case: &CaseRecord,
    available: Vec<Availability<'_>>,
    language: &str,
) -> Vec<AvailableTransition> {
    available
        .into_iter()
        .map(|a| AvailableTransition {
            key: a.transition.id.clone(),
            label: a.transition.label.get(language).to_string(),
            track: a.transition.track.clone(),
            from: case
                .state
                .tracks
                .get(&a.transition.track)
                .cloned()
                .unwrap_or_default(),
            to: a.transition.to.clone(),
            allowed: a.allowed,
            unmet_guards: a
                .unmet
                .into_iter()
                .map(|u| UnmetGuard {
                    name: u.name,
                    reason: if language == "fr" {
                        u.reason_fr
                    } else {
                        u.reason
                    },
                })
                .collect(),
            inputs: transition_inputs(workflow, a.transition, language),
        })
        .collect()
}
