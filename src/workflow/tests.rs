//! Engine tests on the real adult workflow and on broken definitions.

use super::engine::{self, Actor, Refusal};
use super::load::parse;
use super::{CaseState, Workflow};
use crate::domain::{AgencyKind, CaseStatus, Role};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value as Json, json};

const ADULT: &str = include_str!("../../workflows/trm-adult.v1.toml");

fn adult() -> Workflow {
    parse("trm-adult.v1.toml", ADULT).expect("the shipped workflow is valid")
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn worker(kind: AgencyKind) -> Actor {
    Actor {
        roles: vec![Role::CaseWorker],
        agency_kind: kind,
    }
}

fn data(v: Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap_or_default()
}

fn fire(
    w: &Workflow,
    s: &CaseState,
    a: &Actor,
    t: &str,
    d: Json,
    now: DateTime<Utc>,
) -> Result<CaseState, Refusal> {
    engine::evaluate(w, s, a, t, &data(d), now).map(|o| o.state)
}

/// Opens a case and takes it to crisis intervention with the given risk.
fn in_crisis_intervention(w: &Workflow, now: DateTime<Utc>) -> CaseState {
    let ngo = worker(AgencyKind::Ngo);
    let s = engine::initial_state(w);
    let s = fire(
        w,
        &s,
        &ngo,
        "start_screening",
        json!({"signal_source": "self_report"}),
        now,
    )
    .unwrap();
    let s = fire(
        w,
        &s,
        &ngo,
        "record_presumed_victim",
        json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true}),
        now,
    )
    .unwrap();
    let s = fire(
        w,
        &s,
        &ngo,
        "record_assessment",
        json!({"risk_level": "low", "immediate_needs_assessed": true}),
        now,
    )
    .unwrap();
    fire(
        w,
        &s,
        &ngo,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true}),
        now,
    )
    .unwrap()
}

#[test]
fn presumed_victim_starts_assistance_in_parallel_and_the_reflection_period() {
    let w = adult();
    let s = in_crisis_intervention(&w, t0());
    assert_eq!(s.tracks["identification"], "presumed_victim");
    assert_eq!(s.tracks["assistance"], "crisis_intervention");
    let timer = &s.timers["reflection_period"];
    assert_eq!(timer.due_at - timer.started_at, Duration::days(30));
    assert_eq!(engine::status(&w, &s), CaseStatus::Active);
}

#[test]
fn unmet_guards_are_all_listed_and_change_nothing() {
    let w = adult();
    let ngo = worker(AgencyKind::Ngo);
    let s = fire(
        &w,
        &engine::initial_state(&w),
        &ngo,
        "start_screening",
        json!({"signal_source": "hotline"}),
        t0(),
    )
    .unwrap();
    let before = s.clone();
    let refusal = fire(
        &w,
        &s,
        &ngo,
        "record_presumed_victim",
        json!({"indicators_found": true, "informed_of_rights": false, "consent_to_referral": false}),
        t0(),
    )
    .unwrap_err();
    let Refusal::GuardsUnmet(unmet) = refusal else {
        panic!("expected unmet guards, got {refusal:?}")
    };
    let names: Vec<_> = unmet.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["informed_of_rights", "consent_to_referral"]);
    assert!(unmet[1].reason.contains("consent"));
    assert!(!unmet[1].reason_fr.is_empty());
    assert_eq!(s, before);
}

#[test]
fn inputs_are_typed_required_and_closed() {
    let w = adult();
    let ngo = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    let Err(Refusal::InvalidInput(problems)) = fire(
        &w,
        &s,
        &ngo,
        "start_screening",
        json!({"signal_source": "rumour", "name": "x"}),
        t0(),
    ) else {
        panic!("expected invalid input")
    };
    let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["name", "signal_source"]);
    let Err(Refusal::InvalidInput(problems)) =
        fire(&w, &s, &ngo, "start_screening", json!({}), t0())
    else {
        panic!("expected invalid input")
    };
    assert_eq!(problems[0].message, "is required");
}

#[test]
fn roles_and_agency_kinds_are_enforced() {
    let w = adult();
    let s = in_crisis_intervention(&w, t0());
    // Only the competent authority identifies formally.
    let Err(Refusal::NotPermitted(unmet)) = fire(
        &w,
        &s,
        &worker(AgencyKind::Ngo),
        "identify_formally",
        json!({"evidence_reviewed": true}),
        t0(),
    ) else {
        panic!("expected not permitted")
    };
    assert_eq!(unmet[0].name, "role");
    // Only the migration authority terminates the reflection period.
    let Err(Refusal::NotPermitted(unmet)) = fire(
        &w,
        &s,
        &worker(AgencyKind::Ngo),
        "terminate_reflection_period",
        json!({"reflection_termination_ground": "public_order"}),
        t0(),
    ) else {
        panic!("expected not permitted")
    };
    assert_eq!(unmet[0].name, "agency_kind");
    let prosecutor = Actor {
        roles: vec![Role::CompetentAuthority],
        agency_kind: AgencyKind::Prosecutor,
    };
    let s = fire(
        &w,
        &s,
        &prosecutor,
        "identify_formally",
        json!({"evidence_reviewed": true}),
        t0(),
    )
    .unwrap();
    assert_eq!(s.tracks["identification"], "formally_identified");
}

#[test]
fn reflection_period_is_a_floor_unless_the_person_cooperates() {
    let w = adult();
    let ngo = worker(AgencyKind::Ngo);
    let s = in_crisis_intervention(&w, t0());
    let complete = json!({"next_step": "return"});
    let day29 = t0() + Duration::days(29);
    let refusal = fire(
        &w,
        &s,
        &ngo,
        "complete_first_assistance",
        complete.clone(),
        day29,
    )
    .unwrap_err();
    assert!(matches!(&refusal, Refusal::GuardsUnmet(u) if u[0].name == "reflection_period_over"));
    let day30 = t0() + Duration::days(30);
    let done = fire(
        &w,
        &s,
        &ngo,
        "complete_first_assistance",
        complete.clone(),
        day30,
    )
    .unwrap();
    assert_eq!(done.tracks["assistance"], "first_assistance_completed");
    // Cooperation ends the reflection period early.
    let s = fire(
        &w,
        &s,
        &ngo,
        "record_cooperation_decision",
        json!({"legal_counselling_given": true, "cooperation_decision": "cooperates"}),
        day29,
    )
    .unwrap();
    assert!(fire(&w, &s, &ngo, "complete_first_assistance", complete, day29).is_ok());
}

#[test]
fn high_risk_requires_a_secure_shelter() {
    let w = adult();
    let ngo = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    let s = fire(
        &w,
        &s,
        &ngo,
        "start_screening",
        json!({"signal_source": "self_report"}),
        t0(),
    )
    .unwrap();
    let s = fire(
        &w,
        &s,
        &ngo,
        "record_presumed_victim",
        json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true}),
        t0(),
    )
    .unwrap();
    let s = fire(
        &w,
        &s,
        &ngo,
        "record_assessment",
        json!({"risk_level": "high", "immediate_needs_assessed": true}),
        t0(),
    )
    .unwrap();
    let refusal = fire(
        &w,
        &s,
        &ngo,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true}),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(&refusal, Refusal::GuardsUnmet(u) if u[0].name == "high_risk_needs_secure_shelter")
    );
    let s = fire(
        &w,
        &s,
        &ngo,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true, "secure_shelter": true}),
        t0(),
    )
    .unwrap();
    assert_eq!(s.tracks["assistance"], "crisis_intervention");
}

#[test]
fn closing_a_negative_decision_ends_assistance_and_closes_the_case() {
    let w = adult();
    let s = in_crisis_intervention(&w, t0());
    let authority = Actor {
        roles: vec![Role::CompetentAuthority],
        agency_kind: AgencyKind::Prosecutor,
    };
    let s = fire(
        &w,
        &s,
        &authority,
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "other_crime", "person_informed_of_decision": true}),
        t0(),
    )
    .unwrap();
    let supervisor = Actor {
        roles: vec![Role::Supervisor],
        agency_kind: AgencyKind::Ngo,
    };
    let outcome = engine::evaluate(
        &w,
        &s,
        &supervisor,
        "close_not_identified",
        &Map::new(),
        t0() + Duration::days(2),
    )
    .unwrap();
    assert_eq!(outcome.state.tracks["assistance"], "assistance_ended");
    assert!(
        outcome.state.timers["reflection_period"]
            .stopped_at
            .is_some()
    );
    assert_eq!(engine::status(&w, &outcome.state), CaseStatus::Closed);
    // Nothing leaves a closed case.
    assert!(engine::available(&w, &outcome.state, &supervisor, t0()).is_empty());
}

#[test]
fn transitions_only_leave_current_states() {
    let w = adult();
    let s = engine::initial_state(&w);
    let refusal = fire(
        &w,
        &s,
        &worker(AgencyKind::Ngo),
        "record_assessment",
        json!({}),
        t0(),
    )
    .unwrap_err();
    assert!(
        matches!(refusal, Refusal::NotFromCurrentState { ref track, current: None, .. } if track == "assistance")
    );
    let refusal = fire(
        &w,
        &s,
        &worker(AgencyKind::Ngo),
        "fly_away",
        json!({}),
        t0(),
    )
    .unwrap_err();
    assert!(matches!(refusal, Refusal::UnknownTransition { .. }));
}

#[test]
fn availability_skips_guards_on_missing_input_but_judges_the_rest() {
    let w = adult();
    let s = in_crisis_intervention(&w, t0());
    let ngo = worker(AgencyKind::Ngo);
    let avail = engine::available(&w, &s, &ngo, t0());
    let complete = avail
        .iter()
        .find(|a| a.transition.id == "complete_first_assistance")
        .unwrap();
    assert!(!complete.allowed);
    assert_eq!(complete.unmet[0].name, "reflection_period_over");
    let cooperation = avail
        .iter()
        .find(|a| a.transition.id == "record_cooperation_decision")
        .unwrap();
    assert!(cooperation.allowed, "its only guard reads its own input");
    let identify = avail
        .iter()
        .find(|a| a.transition.id == "identify_formally")
        .unwrap();
    assert_eq!(identify.unmet[0].name, "role");
}

#[test]
fn replaying_changes_reproduces_the_state() {
    let w = adult();
    let ngo = worker(AgencyKind::Ngo);
    let mut s = engine::initial_state(&w);
    let mut log = Vec::new();
    for (t, d) in [
        (
            "start_screening",
            json!({"signal_source": "agency_referral"}),
        ),
        (
            "record_presumed_victim",
            json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true}),
        ),
        (
            "record_assessment",
            json!({"risk_level": "medium", "immediate_needs_assessed": true}),
        ),
        ("adopt_safety_plan", json!({"safety_plan_adopted": true})),
        ("refuse_assistance", json!({})),
    ] {
        let o = engine::evaluate(&w, &s, &ngo, t, &data(d), t0()).unwrap();
        log.push(o.changes);
        s = o.state;
    }
    assert_eq!(engine::replay(&w, &log), s);
}

#[test]
fn working_days_skip_weekends() {
    // Friday 09:00 + 5 working days = next Friday 09:00.
    let friday = Utc.with_ymd_and_hms(2026, 3, 6, 9, 0, 0).unwrap();
    let due = engine::due_at(super::definition::TimerDuration::WorkingDays(5), friday);
    assert_eq!(due, friday + Duration::days(7));
    let due = engine::due_at(super::definition::TimerDuration::WorkingDays(1), friday);
    assert_eq!(due, friday + Duration::days(3));
}

fn broken(find: &str, replace: &str) -> String {
    assert!(ADULT.contains(find), "test fixture out of date: {find}");
    match parse("broken.toml", &ADULT.replacen(find, replace, 1)) {
        Ok(_) => panic!("accepted a broken definition ({find} -> {replace})"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_definitions_are_refused_with_file_line_and_reason() {
    let e = broken("to = \"safety_planning\"", "to = \"safety_plannin\"");
    assert!(e.starts_with("broken.toml:"), "{e}");
    assert!(e.contains("unknown state `safety_plannin`"), "{e}");
    let line: usize = e.split(':').nth(1).unwrap().parse().unwrap();
    let expected = ADULT
        .lines()
        .position(|l| l == "[transitions.record_assessment]")
        .unwrap()
        + 1;
    assert_eq!(line, expected, "{e}");

    assert!(
        broken("roles = [\"COMPETENT_AUTHORITY\"]", "roles = [\"JUDGE\"]")
            .contains("unknown Role `JUDGE`")
    );
    assert!(
        broken(
            "expr = \"evidence_reviewed == true\"",
            "expr = \"evidence == true\""
        )
        .contains("not a declared fact")
    );
    assert!(
        broken(
            "expr = \"new_evidence == true\"",
            "expr = \"reconsideration_requested_by\""
        )
        .contains("not a boolean")
    );
    assert!(
        broken("stage = \"FIRST_ASSISTANCE\"", "stage = \"SHELTER\"").contains("unknown Stage")
    );
    // Dead end: a non-terminal state with no way out.
    assert!(
        broken(
            "terminal = true\nlabel.en = \"Referred elsewhere",
            "label.en = \"Referred elsewhere"
        )
        .contains("dead end")
    );
    // Unreachable: nothing leads to it any more.
    assert!(
        broken("to = \"referred_elsewhere\"", "to = \"screening\"")
            .contains("`referred_elsewhere` is unreachable")
    );
    assert!(broken("label.fr = \"Dépistage\"", "").contains("no `fr` label"));
    assert!(broken("days = 30", "").contains("timer `reflection_period`"));
    assert!(broken("version = 1", "version = \"one\"").contains("broken.toml:"));
}
