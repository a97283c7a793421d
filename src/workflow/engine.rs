//! The engine as a pure function: (definition, case state, actor, clock reading, transition,
//! input) → the changes to apply, or a typed refusal listing what is wrong. No I/O here.
//!
//! One module on purpose: evaluating a transition, its guards, its timers and its effects is one
//! function of the definition and the state; splitting it would spread one rule over files.

use super::calendar::Calendar;
use super::definition::{TimerDuration, TimerKind, Transition, Workflow};
use super::guard::{GuardInput, TimerView};
use crate::vocabulary::{AgencyKind, CaseStatus, Role};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// Where a case stands in its workflow. Replaying a case's recorded changes rebuilds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    /// Current state of each started track.
    pub tracks: BTreeMap<String, String>,
    /// Facts recorded so far.
    pub facts: BTreeMap<String, Json>,
    /// Timers started so far (running, elapsed or stopped).
    pub timers: BTreeMap<String, TimerState>,
}

/// One timer of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerState {
    pub started_at: DateTime<Utc>,
    /// When it falls due (moved later by the time spent paused).
    pub due_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Set while the timer is paused (e.g. the person is missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<DateTime<Utc>>,
}

impl TimerState {
    /// The timer as guards see it at `now`.
    pub fn view(&self, now: DateTime<Utc>) -> TimerView {
        // Stopped before it fell due, or stopped while paused (a paused timer never elapses).
        let stopped_early = self
            .stopped_at
            .is_some_and(|s| s < self.due_at || self.paused_at.is_some_and(|p| p <= s));
        let paused = self.paused_at.is_some() && self.stopped_at.is_none();
        let elapsed = !stopped_early && !paused && now >= self.due_at;
        TimerView {
            started: true,
            running: self.stopped_at.is_none() && !paused && !elapsed,
            elapsed,
            stopped: stopped_early,
            paused,
        }
    }
}

/// What an evaluation needs from outside the case: the time and the jurisdiction.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub now: DateTime<Utc>,
    /// ISO 3166-1 alpha-2 of the case's jurisdiction.
    pub country: &'a str,
    pub calendar: &'a Calendar,
}

/// Who is asking, as far as the engine cares.
#[derive(Debug, Clone)]
pub struct Actor {
    pub roles: Vec<Role>,
    pub agency_kind: AgencyKind,
}

/// A reason a transition cannot be fired now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// Machine name: a guard's name, or `role` / `agency_kind`.
    pub name: String,
    /// Human reason in English.
    pub reason: String,
    /// Human reason in French.
    pub reason_fr: String,
}

/// A problem with the data given to a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    pub field: String,
    pub message: String,
}

/// Why the engine refused a transition. Nothing changes on a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The workflow has no transition of that name.
    UnknownTransition { transition: String },
    /// The transition does not leave any current state of the case.
    NotFromCurrentState {
        transition: String,
        track: String,
        current: Option<String>,
    },
    /// The data does not fit the transition's declared inputs.
    InvalidInput(Vec<InputProblem>),
    /// The caller lacks the role or agency kind.
    NotPermitted(Vec<Unmet>),
    /// Guards do not hold.
    GuardsUnmet(Vec<Unmet>),
}

/// The changes a transition makes, to be recorded as an event and applied to the case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Tracks whose state changes: (track, from, to); `from` is `None` when the track starts.
    pub tracks: Vec<TrackChange>,
    /// Facts recorded (input data and fixed effects).
    pub facts: BTreeMap<String, Json>,
    pub timers_started: BTreeMap<String, TimerState>,
    /// Timers stopped before they fell due, with the moment they were stopped.
    pub timers_stopped: BTreeMap<String, DateTime<Utc>>,
    /// Timers paused, with the moment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub timers_paused: BTreeMap<String, DateTime<Utc>>,
    /// Timers resumed, with their new due date.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub timers_resumed: BTreeMap<String, DateTime<Utc>>,
    /// The timer whose due date passed (events recorded by the scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_elapsed: Option<String>,
    /// For workflow migrations: the version the case left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<u32>,
    /// For opening events: the earlier case this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows_case: Option<uuid::Uuid>,
    /// Tracks the case leaves behind (a step after which it continues under another workflow
    /// that does not have them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks_removed: Vec<String>,
    /// The workflow the case continues under from this event on (`continues_under`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues_under: Option<WorkflowRef>,
}

/// A workflow version, as an event names the one a case continues under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRef {
    pub id: String,
    pub version: u32,
}

/// One track's move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackChange {
    pub track: String,
    pub from: Option<String>,
    pub to: String,
}

/// The accepted transition: what it changes and the state after it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub track: String,
    pub from: String,
    pub to: String,
    pub changes: Changes,
    pub state: CaseState,
}

/// A transition from the case's current states, and whether the actor may fire it now.
#[derive(Debug, Clone)]
pub struct Availability<'w> {
    pub transition: &'w Transition,
    /// Permitted and every guard that does not depend on the transition's own input holds.
    pub allowed: bool,
    pub unmet: Vec<Unmet>,
}

/// The state of a new case under `workflow`.
pub fn initial_state(workflow: &Workflow) -> CaseState {
    CaseState {
        tracks: workflow
            .tracks
            .iter()
            .filter(|t| t.start_on_open)
            .map(|t| (t.id.clone(), t.initial.clone()))
            .collect(),
        ..CaseState::default()
    }
}

/// Whether the case still has work: any started track not in a terminal state.
pub fn status(workflow: &Workflow, state: &CaseState) -> CaseStatus {
    let open = state
        .tracks
        .values()
        .any(|s| workflow.state(s).is_none_or(|st| !st.terminal));
    if open {
        CaseStatus::Active
    } else {
        CaseStatus::Closed
    }
}

/// Checks and computes a transition. Pure: the caller records and applies the outcome.
pub fn evaluate(
    workflow: &Workflow,
    state: &CaseState,
    actor: &Actor,
    transition_id: &str,
    data: &Map<String, Json>,
    env: Env<'_>,
) -> Result<Outcome, Refusal> {
    let transition =
        workflow
            .transition(transition_id)
            .ok_or_else(|| Refusal::UnknownTransition {
                transition: transition_id.to_string(),
            })?;
    let current = state.tracks.get(&transition.track);
    let from = match current {
        Some(s) if transition.from.contains(s) => s.clone(),
        _ => {
            return Err(Refusal::NotFromCurrentState {
                transition: transition.id.clone(),
                track: transition.track.clone(),
                current: current.cloned(),
            });
        }
    };
    let problems = check_input(workflow, transition, data);
    if !problems.is_empty() {
        return Err(Refusal::InvalidInput(problems));
    }
    let denied = permission(transition, actor);
    if !denied.is_empty() {
        return Err(Refusal::NotPermitted(denied));
    }
    let mut facts = state.facts.clone();
    facts.extend(data.iter().map(|(k, v)| (k.clone(), v.clone())));
    let unmet = unmet_guards(workflow, transition, state, &facts, env, false);
    if !unmet.is_empty() {
        return Err(Refusal::GuardsUnmet(unmet));
    }
    let changes = changes(workflow, transition, state, &from, data, env);
    let mut next = state.clone();
    apply(&mut next, &changes);
    Ok(Outcome {
        track: transition.track.clone(),
        from,
        to: transition.to.clone(),
        changes,
        state: next,
    })
}

/// Every transition leaving a current state of the case, with whether `actor` may fire it now.
/// Guards over the transition's own inputs are not judged here (the caller has not given them).
pub fn available<'w>(
    workflow: &'w Workflow,
    state: &CaseState,
    actor: &Actor,
    env: Env<'_>,
) -> Vec<Availability<'w>> {
    workflow
        .transitions
        .iter()
        .filter(|t| {
            state
                .tracks
                .get(&t.track)
                .is_some_and(|s| t.from.contains(s))
        })
        .map(|t| {
            let mut unmet = permission(t, actor);
            unmet.extend(unmet_guards(workflow, t, state, &state.facts, env, true));
            Availability {
                transition: t,
                allowed: unmet.is_empty(),
                unmet,
            }
        })
        .collect()
}

/// Applies recorded changes to a state (used both after a transition and when replaying).
pub fn apply(state: &mut CaseState, changes: &Changes) {
    for change in &changes.tracks {
        state.tracks.insert(change.track.clone(), change.to.clone());
    }
    for track in &changes.tracks_removed {
        state.tracks.remove(track);
    }
    state
        .facts
        .extend(changes.facts.iter().map(|(k, v)| (k.clone(), v.clone())));
    // Stops before starts, so a transition that restarts a timer leaves it running.
    for (name, at) in &changes.timers_stopped {
        if let Some(timer) = state.timers.get_mut(name) {
            timer.stopped_at = Some(*at);
        }
    }
    for (name, at) in &changes.timers_paused {
        if let Some(timer) = state.timers.get_mut(name) {
            timer.paused_at = Some(*at);
        }
    }
    for (name, due) in &changes.timers_resumed {
        if let Some(timer) = state.timers.get_mut(name) {
            timer.paused_at = None;
            timer.due_at = *due;
        }
    }
    for (name, timer) in &changes.timers_started {
        state.timers.insert(name.clone(), timer.clone());
    }
}

/// Rebuilds a case's state from its initial state and its events' changes, in order.
pub fn replay<'a>(
    workflow: &Workflow,
    changes: impl IntoIterator<Item = &'a Changes>,
) -> CaseState {
    let mut state = initial_state(workflow);
    for c in changes {
        apply(&mut state, c);
    }
    state
}

/// When a timer started at `start` falls due; `None` when it runs until a date fact that is
/// not recorded.
pub fn due_at(
    duration: &TimerDuration,
    start: DateTime<Utc>,
    facts: &BTreeMap<String, Json>,
    calendar: &Calendar,
) -> Option<DateTime<Utc>> {
    match duration {
        TimerDuration::Days(days) => Some(start + Duration::days(i64::from(*days))),
        TimerDuration::WorkingDays(days) => Some(calendar.add_working_days(start, *days)),
        TimerDuration::Months(months) => start.checked_add_months(chrono::Months::new(*months)),
        TimerDuration::UntilFact(fact) => date_fact(facts, fact),
    }
}

/// The start of the day held by the `date` fact `name`; `None` when it is not recorded.
fn date_fact(facts: &BTreeMap<String, Json>, name: &str) -> Option<DateTime<Utc>> {
    let date = facts.get(name)?.as_str()?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

fn check_input(
    workflow: &Workflow,
    transition: &Transition,
    data: &Map<String, Json>,
) -> Vec<InputProblem> {
    let mut problems = Vec::new();
    // Sorted, whatever order the caller sent: the same input gets the same answer.
    let mut entries: Vec<(&String, &Json)> = data.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    for (key, value) in entries {
        let Some(input) = transition.inputs.iter().find(|i| &i.fact == key) else {
            problems.push(InputProblem {
                field: key.clone(),
                message: format!("transition `{}` does not record `{key}`", transition.id),
            });
            continue;
        };
        if let Some(fact) = workflow.facts.get(&input.fact)
            && !fact.accepts(value)
        {
            problems.push(InputProblem {
                field: key.clone(),
                message: format!("must be {}", fact.expected()),
            });
        }
    }
    for input in transition.inputs.iter().filter(|i| i.required) {
        if !data.contains_key(&input.fact) {
            problems.push(InputProblem {
                field: input.fact.clone(),
                message: "is required".into(),
            });
        }
    }
    problems
}

fn permission(transition: &Transition, actor: &Actor) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    if !transition.roles.iter().any(|r| actor.roles.contains(r)) {
        let roles = transition
            .roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        unmet.push(Unmet {
            name: "role".into(),
            reason: format!("Requires one of the roles: {roles}"),
            reason_fr: format!("Nécessite l'un des rôles : {roles}"),
        });
    }
    if !transition.agency_kinds.is_empty() && !transition.agency_kinds.contains(&actor.agency_kind)
    {
        let kinds = transition
            .agency_kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        unmet.push(Unmet {
            name: "agency_kind".into(),
            reason: format!("Only an agency of kind {kinds} may do this"),
            reason_fr: format!("Seule une agence de type {kinds} peut le faire"),
        });
    }
    unmet
}

/// Timer views and parameters as guards see them for one case at one moment.
struct GuardValues {
    timers: BTreeMap<String, TimerView>,
    params: BTreeMap<String, Json>,
}

impl GuardValues {
    fn new(workflow: &Workflow, state: &CaseState, env: Env<'_>) -> Self {
        let timers = workflow
            .timers
            .keys()
            .map(|id| {
                (
                    id.clone(),
                    state
                        .timers
                        .get(id)
                        .map(|t| t.view(env.now))
                        .unwrap_or_default(),
                )
            })
            .collect();
        GuardValues {
            timers,
            params: workflow.parameters_for(env.country),
        }
    }

    fn input<'a>(
        &'a self,
        facts: &'a BTreeMap<String, Json>,
        tracks: &'a BTreeMap<String, String>,
    ) -> GuardInput<'a> {
        GuardInput {
            facts,
            tracks,
            timers: &self.timers,
            params: &self.params,
        }
    }
}

fn unmet_guards(
    workflow: &Workflow,
    transition: &Transition,
    state: &CaseState,
    facts: &BTreeMap<String, Json>,
    env: Env<'_>,
    skip_input_dependent: bool,
) -> Vec<Unmet> {
    let mut unmet = Vec::new();
    // A suspending state (e.g. missing) holds every other track where it is.
    for (track, current) in &state.tracks {
        if track != &transition.track && workflow.state(current).is_some_and(|s| s.suspends_case) {
            let label = workflow
                .state(current)
                .map(|s| s.label.clone())
                .unwrap_or_default();
            unmet.push(Unmet {
                name: "case_suspended".into(),
                reason: format!("The case is suspended: {}", label.get("en")),
                reason_fr: format!("Le dossier est suspendu : {}", label.get("fr")),
            });
        }
    }
    // Floors: transitions they block wait until they have elapsed.
    for timer in workflow
        .timers
        .values()
        .filter(|t| t.kind == TimerKind::Floor && t.blocks.contains(&transition.id))
    {
        let Some(running) = state.timers.get(&timer.id) else {
            continue;
        };
        let view = running.view(env.now);
        if view.running || view.paused {
            let due = running.due_at.format("%Y-%m-%d");
            unmet.push(Unmet {
                name: format!("floor:{}", timer.id),
                reason: format!(
                    "Not before {due}: {} ({})",
                    timer.label.get("en"),
                    timer.citation
                ),
                reason_fr: format!(
                    "Pas avant le {due} : {} ({})",
                    timer.label.get("fr"),
                    timer.citation
                ),
            });
        }
    }
    let values = GuardValues::new(workflow, state, env);
    let input = values.input(facts, &state.tracks);
    unmet.extend(
        transition
            .guards
            .iter()
            .filter(|g| {
                !(skip_input_dependent
                    && transition.inputs.iter().any(|i| g.facts.contains(&i.fact)))
            })
            .filter(|g| g.holds(&input, &workflow.facts) != Ok(true))
            .map(|g| Unmet {
                name: g.name.clone(),
                reason: g.reason.get("en").into(),
                reason_fr: g.reason.get("fr").into(),
            }),
    );
    unmet
}

fn changes(
    workflow: &Workflow,
    transition: &Transition,
    state: &CaseState,
    from: &str,
    data: &Map<String, Json>,
    env: Env<'_>,
) -> Changes {
    let now = env.now;
    let mut tracks = vec![TrackChange {
        track: transition.track.clone(),
        from: Some(from.to_string()),
        to: transition.to.clone(),
    }];
    let effects = &transition.effects;
    for id in &effects.start_tracks {
        if let Some(track) = workflow.track(id) {
            tracks.push(TrackChange {
                track: id.clone(),
                from: state.tracks.get(id).cloned(),
                to: track.initial.clone(),
            });
        }
    }
    for (id, to) in &effects.end_tracks {
        // A track that already finished stays where it finished.
        if let Some(current) = state.tracks.get(id)
            && current != to
            && workflow.state(current).is_none_or(|s| !s.terminal)
        {
            tracks.push(TrackChange {
                track: id.clone(),
                from: Some(current.clone()),
                to: to.clone(),
            });
        }
    }
    // Facts recorded: the input (those the transition declares) and fixed values.
    let mut recorded: BTreeMap<String, Json> =
        data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    recorded.extend(effects.set.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut after_facts = state.facts.clone();
    after_facts.extend(recorded.iter().map(|(k, v)| (k.clone(), v.clone())));

    // Stopping applies to any timer not yet stopped: a deadline met late is still dealt with.
    let timers_stopped = effects
        .stop_timers
        .iter()
        .filter(|t| state.timers.get(*t).is_some_and(|s| s.stopped_at.is_none()))
        .map(|t| (t.clone(), now))
        .collect();
    let timers_paused = effects
        .pause_timers
        .iter()
        .filter(|t| state.timers.get(*t).is_some_and(|s| s.view(now).running))
        .map(|t| (t.clone(), now))
        .collect();
    let timers_resumed = effects
        .resume_timers
        .iter()
        .filter_map(|t| {
            let s = state.timers.get(t)?;
            let paused_at = s.paused_at.filter(|_| s.stopped_at.is_none())?;
            Some((t.clone(), s.due_at + (now - paused_at)))
        })
        .collect();
    let values = GuardValues::new(workflow, state, env);
    let input = values.input(&after_facts, &state.tracks);
    let timers_started = effects
        .start_timers
        .iter()
        .filter(|start| {
            start
                .when
                .as_ref()
                .is_none_or(|w| w.holds(&input, &workflow.facts) == Ok(true))
        })
        .filter_map(|start| workflow.timers.get(&start.timer))
        .filter_map(|t| {
            let start = t
                .from_fact
                .as_ref()
                .and_then(|f| date_fact(&after_facts, f))
                .unwrap_or(now);
            let due = due_at(
                &workflow.timer_duration(t, env.country),
                start,
                &after_facts,
                env.calendar,
            )?;
            Some((
                t.id.clone(),
                TimerState {
                    started_at: start,
                    due_at: due,
                    stopped_at: None,
                    paused_at: None,
                },
            ))
        })
        .collect();
    Changes {
        tracks,
        facts: recorded,
        timers_started,
        timers_stopped,
        timers_paused,
        timers_resumed,
        timer_elapsed: None,
        migrated_from: None,
        follows_case: None,
        tracks_removed: Vec::new(),
        continues_under: None,
    }
}
