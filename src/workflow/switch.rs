//! A running case moving to another workflow: to a newer version of its own (a migration), or
//! to another procedure through a step that declares `continues_under` (adult ↔ child). Pure:
//! the caller records the changes as the step's one event and pins the case.

use super::definition::{ProcedureSwitch, Workflow};
use super::engine::{self, CaseState, Changes, Env, TimerState, TrackChange, WorkflowRef};
use std::collections::BTreeMap;

/// Timers of a case moving to `to`: the running ones it also has are re-timed to its lengths
/// (`started`, only those whose due date moves), the running ones it does not have are stopped
/// at `env.now`. Elapsed, stopped and paused timers keep their record.
pub fn retime(
    to: &Workflow,
    timers: &BTreeMap<String, TimerState>,
    facts: &BTreeMap<String, serde_json::Value>,
    env: Env<'_>,
) -> (
    BTreeMap<String, TimerState>,
    BTreeMap<String, chrono::DateTime<chrono::Utc>>,
) {
    let mut started = BTreeMap::new();
    let mut stopped = BTreeMap::new();
    for (id, t) in timers {
        if !t.view(env.now).running {
            continue;
        }
        match to.timers.get(id) {
            Some(def) => {
                let duration = to.timer_duration(def, env.country);
                if let Some(due) = engine::due_at(&duration, t.started_at, facts, env.calendar)
                    && due != t.due_at
                {
                    started.insert(
                        id.clone(),
                        TimerState {
                            due_at: due,
                            ..t.clone()
                        },
                    );
                }
            }
            None => {
                stopped.insert(id.clone(), env.now);
            }
        }
    }
    (started, stopped)
}

/// Why a case cannot continue under the other workflow as its states stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchConflict {
    pub track: String,
    pub states: (String, String),
}

impl std::fmt::Display for SwitchConflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the case's states map to both `{}` and `{}` on track `{}` of the other procedure",
            self.states.0, self.states.1, self.track
        )
    }
}

/// The changes of a step (`outcome`, already checked against `from`) after which the case in
/// `before` continues under `to` as `switch` maps it: every track of `to` in the state its
/// mapped state says (else its initial state), the tracks `to` does not have removed, the
/// step's facts kept with every fact the case holds, timers re-timed ([`retime`]), and the
/// workflow it continues under named. Applying the result to `before` gives the case under `to`.
pub fn continue_under(
    to: &Workflow,
    switch: &ProcedureSwitch,
    before: &CaseState,
    outcome: &Changes,
    env: Env<'_>,
) -> Result<Changes, SwitchConflict> {
    let mut after = before.clone();
    engine::apply(&mut after, outcome);
    let mut tracks: BTreeMap<String, String> = engine::initial_state(to).tracks;
    let mut placed: BTreeMap<String, String> = BTreeMap::new();
    for state in after.tracks.values() {
        let same = [state.clone()];
        let mapped = switch.states.get(state).map_or(&same[..], Vec::as_slice);
        // A state the other workflow does not have ends with its track.
        for target in mapped.iter().filter_map(|m| to.state(m)) {
            if let Some(other) = placed.get(&target.track)
                && other != &target.id
            {
                return Err(SwitchConflict {
                    track: target.track.clone(),
                    states: (other.clone(), target.id.clone()),
                });
            }
            placed.insert(target.track.clone(), target.id.clone());
            tracks.insert(target.track.clone(), target.id.clone());
        }
    }
    let (mut timers_started, mut timers_stopped) = retime(to, &after.timers, &after.facts, env);
    // What the step itself started or stopped stands, where `to` has the timer.
    for (id, t) in &outcome.timers_started {
        if to.timers.contains_key(id) {
            timers_started
                .entry(id.clone())
                .or_insert_with(|| t.clone());
        }
    }
    for (id, at) in &outcome.timers_stopped {
        timers_stopped.entry(id.clone()).or_insert(*at);
    }
    // Applied stops before starts: a timer both re-timed and stopped would come back running.
    timers_stopped.retain(|id, _| !timers_started.contains_key(id));
    Ok(Changes {
        tracks: tracks
            .iter()
            .filter(|(track, state)| before.tracks.get(*track) != Some(*state))
            .map(|(track, state)| TrackChange {
                track: track.clone(),
                from: before.tracks.get(track).cloned(),
                to: state.clone(),
            })
            .collect(),
        tracks_removed: before
            .tracks
            .keys()
            .filter(|t| !tracks.contains_key(*t))
            .cloned()
            .collect(),
        facts: outcome.facts.clone(),
        timers_started,
        timers_stopped,
        timers_paused: outcome.timers_paused.clone(),
        timers_resumed: outcome.timers_resumed.clone(),
        continues_under: Some(WorkflowRef {
            id: to.id.clone(),
            version: to.version,
        }),
        ..Changes::default()
    })
}

#[cfg(test)]
#[path = "switch_tests.rs"]
mod tests;
