//! A case continuing under another procedure: which states it ends up in, what ends with the
//! tracks it leaves, which timers stop, and what the loader refuses.

use super::continue_under;
use crate::workflow::calendar::Calendar;
use crate::workflow::definition::ProcedureSwitch;
use crate::workflow::engine::{self, CaseState, Changes, Env, TimerState, WorkflowRef};
use crate::workflow::load::{load_dir, parse};
use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use std::collections::BTreeMap;

const ADULT_V3: &str = include_str!("../../workflows/trm-adult.v3.toml");
const CHILD_V2: &str = include_str!("../../workflows/trm-child.v2.toml");

fn state(tracks: &[(&str, &str)]) -> CaseState {
    CaseState {
        tracks: tracks
            .iter()
            .map(|(t, s)| (t.to_string(), s.to_string()))
            .collect(),
        ..CaseState::default()
    }
}

#[test]
fn an_adult_in_crisis_intervention_continues_as_a_presumed_child_victim_awaiting_placement() {
    let adult = parse("trm-adult.v3.toml", ADULT_V3).unwrap();
    let child = parse("trm-child.v2.toml", CHILD_V2).unwrap();
    let step = adult.transition("apply_child_procedure").unwrap();
    let switch = step.continues_under.as_ref().unwrap();
    assert_eq!(switch.workflow, "trm-child");
    let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let running = |days| TimerState {
        started_at: now - Duration::days(3),
        due_at: now + Duration::days(days),
        stopped_at: None,
        paused_at: None,
    };
    let mut before = state(&[
        ("identification", "presumed_victim"),
        ("assistance", "crisis_intervention"),
        ("person", "present"),
    ]);
    before
        .timers
        .insert("reflection_period".into(), running(27));
    before
        .timers
        .insert("support_plan_review".into(), running(60));
    let mut outcome = Changes::default();
    outcome
        .facts
        .insert("reasons_to_believe_child".into(), json!(true));
    let calendar = Calendar::default();
    let env = Env {
        now,
        country: "IT",
        calendar: &calendar,
    };
    let changes = continue_under(&child, switch, &before, &outcome, env).unwrap();
    assert_eq!(
        changes.continues_under,
        Some(WorkflowRef {
            id: "trm-child".into(),
            version: 2
        })
    );
    assert_eq!(changes.tracks_removed, vec!["assistance".to_string()]);
    // The adult-only timer stops; the reflection period, which the child procedure has, runs on.
    assert_eq!(
        changes.timers_stopped.keys().collect::<Vec<_>>(),
        ["support_plan_review"]
    );
    assert_eq!(changes.facts["reasons_to_believe_child"], json!(true));
    let mut after = before.clone();
    engine::apply(&mut after, &changes);
    let expected: BTreeMap<String, String> = [
        ("identification", "presumed_child_victim"),
        ("age", "minor_presumed"),
        ("guardianship", "guardian_pending"),
        ("person", "in_contact"),
        ("protection", "placement_needed"),
        ("best_interests", "best_interests_assessment"),
        ("solution", "awaiting_bid"),
    ]
    .iter()
    .map(|(t, s)| (t.to_string(), s.to_string()))
    .collect();
    assert_eq!(after.tracks, expected);
    assert!(after.timers["reflection_period"].view(now).running);
    assert!(!after.timers["support_plan_review"].view(now).running);
}

#[test]
fn a_mapping_that_puts_one_track_in_two_states_is_refused_when_it_happens() {
    let child = parse("trm-child.v2.toml", CHILD_V2).unwrap();
    let switch = ProcedureSwitch {
        workflow: "trm-child".into(),
        states: [
            ("a".to_string(), vec!["presumed_child_victim".to_string()]),
            ("b".to_string(), vec!["identified_child_victim".to_string()]),
        ]
        .into(),
    };
    let calendar = Calendar::default();
    let env = Env {
        now: Utc::now(),
        country: "IT",
        calendar: &calendar,
    };
    let before = state(&[("one", "a"), ("two", "b")]);
    let conflict = continue_under(&child, &switch, &before, &Changes::default(), env).unwrap_err();
    assert_eq!(conflict.track, "identification");
    assert!(conflict.to_string().contains("identification"));
}

#[test]
fn a_step_continuing_under_a_workflow_not_loaded_or_a_state_it_lacks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trm-adult.v3.toml"), ADULT_V3).unwrap();
    let errors = load_dir(dir.path()).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.message.contains("`trm-child`, which is not loaded")),
        "{errors:?}"
    );
    let renamed = CHILD_V2.replace("[states.awaiting_bid]", "[states.awaiting_a_bid]");
    let renamed = renamed.replace("initial = \"awaiting_bid\"", "initial = \"awaiting_a_bid\"");
    let renamed = renamed.replace("\"awaiting_bid\"", "\"awaiting_a_bid\"");
    std::fs::write(dir.path().join("trm-child.v2.toml"), renamed).unwrap();
    let errors = load_dir(dir.path()).unwrap_err();
    assert!(
        errors.iter().any(|e| e
            .message
            .contains("`awaiting_bid`, which is not a state of trm-child v2")),
        "{errors:?}"
    );
    // With both files as shipped, both load.
    std::fs::write(dir.path().join("trm-child.v2.toml"), CHILD_V2).unwrap();
    assert!(load_dir(dir.path()).is_ok());
}
