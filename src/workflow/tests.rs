//! Engine tests on the real adult workflow and on broken definitions.
//!
//! Long because it is tests: one file of engine tests over the real workflows, beside the
//! engine they test.

use super::calendar::Calendar;
use super::definition::Alert;
use super::engine::{self, Actor, Env, Refusal};
use super::load::parse;
use super::{CaseState, Workflow};
use crate::vocabulary::{AgencyKind, CaseStatus, Role};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value as Json, json};

const ADULT: &str = include_str!("../../workflows/trm-adult.v1.toml");

fn adult() -> Workflow {
    parse("trm-adult.v1.toml", ADULT).expect("the shipped workflow is valid")
}

static CALENDAR: std::sync::LazyLock<Calendar> = std::sync::LazyLock::new(Calendar::default);

/// The evaluation environment at `now` in Italy.
fn at(now: DateTime<Utc>) -> Env<'static> {
    Env {
        now,
        country: "IT",
        calendar: &CALENDAR,
    }
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
    engine::evaluate(w, s, a, t, &data(d), at(now)).map(|o| o.state)
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
        at(t0() + Duration::days(2)),
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
    assert!(engine::available(&w, &outcome.state, &supervisor, at(t0())).is_empty());
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
    let avail = engine::available(&w, &s, &ngo, at(t0()));
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
        let o = engine::evaluate(&w, &s, &ngo, t, &data(d), at(t0())).unwrap();
        log.push(o.changes);
        s = o.state;
    }
    assert_eq!(engine::replay(&w, &log), s);
}

#[test]
fn working_days_skip_weekends() {
    // Friday 09:00 + 5 working days = next Friday 09:00.
    let friday = Utc.with_ymd_and_hms(2026, 3, 6, 9, 0, 0).unwrap();
    let due = engine::due_at(
        &super::definition::TimerDuration::WorkingDays(5),
        friday,
        &Default::default(),
        &CALENDAR,
    )
    .unwrap();
    assert_eq!(due, friday + Duration::days(7));
    let due = engine::due_at(
        &super::definition::TimerDuration::WorkingDays(1),
        friday,
        &Default::default(),
        &CALENDAR,
    )
    .unwrap();
    assert_eq!(due, friday + Duration::days(3));
}

#[test]
fn months_are_calendar_months() {
    // A year from the final act is the same day a year on, whatever the year's length; a day
    // that month lacks is its last day.
    let months = |n, from: chrono::DateTime<Utc>| {
        engine::due_at(
            &super::definition::TimerDuration::Months(n),
            from,
            &Default::default(),
            &CALENDAR,
        )
        .unwrap()
    };
    let final_act = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
    assert_eq!(
        months(12, final_act),
        Utc.with_ymd_and_hms(2028, 3, 1, 0, 0, 0).unwrap(),
        "366 days across a leap day"
    );
    let leap_day = Utc.with_ymd_and_hms(2028, 2, 29, 0, 0, 0).unwrap();
    assert_eq!(
        months(12, leap_day),
        Utc.with_ymd_and_hms(2029, 2, 28, 0, 0, 0).unwrap()
    );
    let end_of_january = Utc.with_ymd_and_hms(2027, 1, 31, 9, 0, 0).unwrap();
    assert_eq!(
        months(1, end_of_january),
        Utc.with_ymd_and_hms(2027, 2, 28, 9, 0, 0).unwrap()
    );
}

/// The error `source` gets once `find` is replaced by `replace` (panics if it is accepted).
fn refused(file: &str, source: &str, find: &str, replace: &str) -> String {
    assert!(source.contains(find), "test fixture out of date: {find}");
    match parse(file, &source.replacen(find, replace, 1)) {
        Ok(_) => panic!("accepted a broken definition ({find} -> {replace})"),
        Err(e) => e.to_string(),
    }
}

fn broken(find: &str, replace: &str) -> String {
    refused("broken.toml", ADULT, find, replace)
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

/// A small workflow that uses every timer and jurisdiction feature.
const FEATURES: &str = r#"
id = "features"
version = 1
label = { en = "Features", fr = "Fonctions" }

[parameters.reflection_start]
type = "enum"
values = ["at_grounds", "at_identification"]
default = "at_grounds"
label = { en = "When reflection starts", fr = "Début de la réflexion" }

[jurisdictions.BG]
label = { en = "Bulgaria", fr = "Bulgarie" }
parameters = { reflection_start = "at_identification" }
timers.decision = { working_days = 2 }

[facts.permit_until]
type = "date"
label = { en = "Permit valid until", fr = "Permis valable jusqu'au" }

[tracks.main]
label = { en = "Main", fr = "Principal" }
initial = "open"
start_on_open = true

[tracks.presence]
label = { en = "Presence", fr = "Présence" }
initial = "present"
start_on_open = true

[states.open]
track = "main"
stage = "IDENTIFICATION"
label = { en = "Open", fr = "Ouvert" }

[states.identified]
track = "main"
stage = "IDENTIFICATION"
label = { en = "Identified", fr = "Identifié" }

[states.removed]
track = "main"
stage = "RETURN"
terminal = true
label = { en = "Removed", fr = "Éloigné" }

[states.present]
track = "presence"
stage = "FIRST_ASSISTANCE"
label = { en = "Present", fr = "Présent" }

[states.missing]
track = "presence"
stage = "FIRST_ASSISTANCE"
suspends_case = true
label = { en = "Missing", fr = "Disparu" }

[timers.reflection]
kind = "FLOOR"
days = 30
blocks = ["remove"]
citation = "CoE CETS 197 Art. 13"
label = { en = "Reflection period", fr = "Délai de réflexion" }

[timers.decision]
kind = "DEADLINE"
days = 5
warn_days = 1
escalate_to = ["SUPERVISOR"]
citation = "practice"
label = { en = "Decision", fr = "Décision" }

[timers.permit]
kind = "DEADLINE"
until_fact = "permit_until"
warn_days = 30
citation = "EU-81"
label = { en = "Permit", fr = "Permis" }

[transitions.grounds]
from = "open"
to = "open"
label = { en = "Grounds", fr = "Motifs" }
roles = ["CASE_WORKER"]
inputs = [{ fact = "permit_until" }]
effects = { start_timers = [{ timer = "reflection", when = "params.reflection_start == 'at_grounds'" }, "decision", "permit"] }

[transitions.identify]
from = "open"
to = "identified"
label = { en = "Identify", fr = "Identifier" }
roles = ["CASE_WORKER"]
effects = { start_timers = [{ timer = "reflection", when = "params.reflection_start == 'at_identification'" }] }

[transitions.remove]
from = ["open", "identified"]
to = "removed"
label = { en = "Remove", fr = "Éloigner" }
roles = ["CASE_WORKER"]

[transitions.go_missing]
from = "present"
to = "missing"
label = { en = "Missing", fr = "Disparu" }
roles = ["CASE_WORKER"]
effects = { pause_timers = ["reflection"] }

[transitions.found]
from = "missing"
to = "present"
label = { en = "Found", fr = "Retrouvé" }
roles = ["CASE_WORKER"]
effects = { resume_timers = ["reflection"] }
"#;

fn features() -> Workflow {
    parse("features.toml", FEATURES).expect("valid")
}

fn in_country(now: DateTime<Utc>, country: &'static str) -> Env<'static> {
    Env {
        now,
        country,
        calendar: &CALENDAR,
    }
}

#[test]
fn a_floor_blocks_the_transitions_it_names_until_it_elapses() {
    let w = features();
    let a = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    let s = engine::evaluate(&w, &s, &a, "grounds", &Map::new(), at(t0()))
        .unwrap()
        .state;
    let refusal = engine::evaluate(
        &w,
        &s,
        &a,
        "remove",
        &Map::new(),
        at(t0() + Duration::days(29)),
    )
    .unwrap_err();
    let Refusal::GuardsUnmet(unmet) = refusal else {
        panic!("{refusal:?}")
    };
    assert_eq!(unmet[0].name, "floor:reflection");
    assert!(unmet[0].reason.contains("Art. 13"), "{}", unmet[0].reason);
    assert!(
        engine::evaluate(
            &w,
            &s,
            &a,
            "remove",
            &Map::new(),
            at(t0() + Duration::days(30))
        )
        .is_ok()
    );
}

#[test]
fn jurisdictions_change_parameters_and_timer_lengths_without_code() {
    let w = features();
    let a = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    // Italy (defaults): reflection starts at grounds; decision due in 5 calendar days.
    let it = engine::evaluate(&w, &s, &a, "grounds", &Map::new(), in_country(t0(), "IT"))
        .unwrap()
        .state;
    assert!(it.timers.contains_key("reflection"));
    assert_eq!(it.timers["decision"].due_at, t0() + Duration::days(5));
    // Bulgaria: reflection starts at formal identification; decision due in 2 working days.
    let bg = engine::evaluate(&w, &s, &a, "grounds", &Map::new(), in_country(t0(), "BG"))
        .unwrap()
        .state;
    assert!(!bg.timers.contains_key("reflection"));
    assert_eq!(
        bg.timers["decision"].due_at,
        t0() + Duration::days(2),
        "t0 is a Monday"
    );
    let bg = engine::evaluate(&w, &bg, &a, "identify", &Map::new(), in_country(t0(), "BG"))
        .unwrap()
        .state;
    assert!(bg.timers.contains_key("reflection"));
}

#[test]
fn a_timer_can_run_until_a_recorded_date() {
    let w = features();
    let a = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    let s = engine::evaluate(
        &w,
        &s,
        &a,
        "grounds",
        &data(json!({"permit_until": "2026-09-02"})),
        at(t0()),
    )
    .unwrap()
    .state;
    assert_eq!(
        s.timers["permit"].due_at,
        Utc.with_ymd_and_hms(2026, 9, 2, 0, 0, 0).unwrap()
    );
    // Without the date, the timer does not start.
    let s = engine::evaluate(
        &w,
        &engine::initial_state(&w),
        &a,
        "grounds",
        &Map::new(),
        at(t0()),
    )
    .unwrap()
    .state;
    assert!(!s.timers.contains_key("permit"));
}

#[test]
fn a_missing_person_suspends_the_case_and_pauses_timers_until_found() {
    let w = features();
    let a = worker(AgencyKind::Ngo);
    let s = engine::initial_state(&w);
    let s = engine::evaluate(&w, &s, &a, "grounds", &Map::new(), at(t0()))
        .unwrap()
        .state;
    let s = engine::evaluate(
        &w,
        &s,
        &a,
        "go_missing",
        &Map::new(),
        at(t0() + Duration::days(10)),
    )
    .unwrap()
    .state;
    assert!(
        s.timers["reflection"]
            .view(t0() + Duration::days(40))
            .paused
    );
    // While missing, the other track does not move.
    let refusal = engine::evaluate(
        &w,
        &s,
        &a,
        "identify",
        &Map::new(),
        at(t0() + Duration::days(11)),
    )
    .unwrap_err();
    assert!(
        matches!(&refusal, Refusal::GuardsUnmet(u) if u[0].name == "case_suspended"),
        "{refusal:?}"
    );
    // Found after 5 days: the period resumes where it was (due 5 days later than planned).
    let found = engine::evaluate(
        &w,
        &s,
        &a,
        "found",
        &Map::new(),
        at(t0() + Duration::days(15)),
    )
    .unwrap();
    assert_eq!(
        found.state.timers["reflection"].due_at,
        t0() + Duration::days(35)
    );
    assert_eq!(found.state.tracks["main"], "open", "resumes where it was");
    let mut log = vec![];
    let mut st = engine::initial_state(&w);
    for (t, day) in [("grounds", 0), ("go_missing", 10), ("found", 15)] {
        let o =
            engine::evaluate(&w, &st, &a, t, &Map::new(), at(t0() + Duration::days(day))).unwrap();
        log.push(o.changes);
        st = o.state;
    }
    assert_eq!(engine::replay(&w, &log), st, "pauses and resumes replay");
}

#[test]
fn jurisdiction_and_timer_mistakes_are_refused_at_load() {
    let broken = |find: &str, replace: &str| refused("f.toml", FEATURES, find, replace);
    assert!(broken("[jurisdictions.BG]", "[jurisdictions.Bulgaria]").contains("ISO 3166-1"));
    assert!(
        broken(
            "parameters = { reflection_start = \"at_identification\" }",
            "parameters = { reflection_start = \"later\" }"
        )
        .contains("takes one of")
    );
    assert!(
        broken(
            "timers.decision = { working_days = 2 }",
            "timers.desicion = { working_days = 2 }"
        )
        .contains("unknown timer `desicion`")
    );
    for length in [
        "{ months = 0 }",
        "{ months = 3, days = 2 }",
        "{ months = 1201 }",
    ] {
        assert!(
            broken(
                "timers.decision = { working_days = 2 }",
                &format!("timers.decision = {length}")
            )
            .contains("needs exactly one of"),
            "{length}"
        );
    }
    assert!(
        broken("blocks = [\"remove\"]", "blocks = [\"deport\"]")
            .contains("blocks unknown transition `deport`")
    );
    assert!(
        broken("until_fact = \"permit_until\"", "until_fact = \"permit\"").contains("date fact")
    );
    assert!(
        broken(
            "params.reflection_start == 'at_grounds'",
            "params.start == 'at_grounds'"
        )
        .contains("not a declared parameter")
    );
    assert!(
        broken("escalate_to = [\"SUPERVISOR\"]", "escalate_to = [\"BOSS\"]")
            .contains("unknown Role")
    );
}

#[test]
fn a_timer_stopped_while_paused_counts_as_stopped_not_elapsed() {
    let t = engine::TimerState {
        started_at: t0(),
        due_at: t0() + Duration::days(30),
        stopped_at: Some(t0() + Duration::days(40)),
        paused_at: Some(t0() + Duration::days(10)),
    };
    let view = t.view(t0() + Duration::days(50));
    assert!(view.stopped && !view.elapsed && !view.paused, "{view:?}");
}

const ADULT_V2: &str = include_str!("../../workflows/trm-adult.v2.toml");
const CHILD: &str = include_str!("../../workflows/trm-child.v1.toml");

#[test]
fn cross_border_keys_are_read_and_checked_at_load() {
    let adult = parse("trm-adult.v2.toml", ADULT_V2).unwrap();
    let step: Vec<&str> = adult
        .transitions
        .iter()
        .filter(|t| t.transfer_of_lead)
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(step, ["record_case_transfer"]);
    assert!(adult.protections.asylum_seeker.is_some());
    let child = parse("trm-child.v1.toml", CHILD).unwrap();
    let alerts: Vec<(&str, Alert)> = child
        .transitions
        .iter()
        .filter_map(|t| Some((t.id.as_str(), t.alert?)))
        .collect();
    assert_eq!(
        alerts,
        [
            ("report_missing", Alert::Missing),
            ("record_found", Alert::Found)
        ]
    );
    // The asylum rule is a guard expression: unknown facts and non-booleans are refused.
    let e = refused(
        "b.toml",
        ADULT_V2,
        "asylum_seeker = \"asylum_applied == true",
        "asylum_seeker = \"asylum_pending == true",
    );
    assert!(
        e.contains("asylum_seeker") && e.contains("not a declared fact"),
        "{e}"
    );
    let e = refused("b.toml", CHILD, "alert = \"missing\"", "alert = \"lost\"");
    assert!(e.starts_with("b.toml:"), "{e}");
}

const CHILD_V2: &str = include_str!("../../workflows/trm-child.v2.toml");
const ADULT_V3: &str = include_str!("../../workflows/trm-adult.v3.toml");

#[test]
fn the_person_status_is_read_from_the_declared_protections() {
    use super::engine::initial_state;
    let child = parse("trm-child.v2.toml", CHILD_V2).unwrap();
    let mut state = initial_state(&child);
    let at_open = child.person_status(&state, "SN");
    assert!(
        at_open.child && !at_open.guardian,
        "{at_open:?} in {state:?}"
    );
    state
        .tracks
        .insert("guardianship".into(), "under_guardianship".into());
    assert!(child.person_status(&state, "SN").guardian);
    state.tracks.insert("age".into(), "turned_18".into());
    let adult_now = child.person_status(&state, "SN");
    assert!(!adult_now.child && !adult_now.guardian, "{adult_now:?}");

    let adult = parse("trm-adult.v3.toml", ADULT_V3).unwrap();
    let mut state = initial_state(&adult);
    assert_eq!(
        adult.person_status(&state, "IT"),
        super::PersonStatus::default()
    );
    state
        .facts
        .insert("asylum_applied".into(), serde_json::json!(true));
    state
        .facts
        .insert("consent_withdrawn".into(), serde_json::json!(true));
    state.tracks.insert("person".into(), "deceased".into());
    let s = adult.person_status(&state, "IT");
    assert!(
        s.asylum_seeker && s.consent_withdrawn && s.deceased && !s.child,
        "{s:?}"
    );
    // Versions before `[protections]` keep their one rule.
    let v2 = parse("trm-adult.v2.toml", ADULT_V2).unwrap();
    let s = v2.person_status(&state, "IT");
    assert!(
        s.asylum_seeker && !s.consent_withdrawn && !s.deceased && s.age_undeclared,
        "{s:?}"
    );
}

#[test]
fn enum_values_read_as_labelled_in_each_language_else_as_the_value() {
    let with = |labels: &str| {
        ADULT.replacen(
            "label.en = \"Source of the signal\"",
            &format!("label.en = \"Source of the signal\"\n{labels}"),
            1,
        )
    };
    let source = with(
        "values_label.hotline.en = \"Hotline call\"\nvalues_label.hotline.fr = \"Appel à la ligne d’écoute\"",
    );
    let w = parse("labelled.toml", &source).expect("labels of values are valid");
    let fact = &w.facts["signal_source"];
    assert_eq!(fact.value_label("hotline", "en"), "Hotline call");
    assert_eq!(
        fact.value_label("hotline", "fr"),
        "Appel à la ligne d’écoute"
    );
    assert_eq!(
        fact.value_label("self_report", "fr"),
        "self report",
        "an unlabelled value reads as itself"
    );
    assert!(adult().facts["signal_source"].value_labels.is_empty());
    // A label of a value the fact does not have, or without French, is refused.
    let e = match parse(
        "bad.toml",
        &with("values_label.radio.en = \"Radio\"\nvalues_label.radio.fr = \"Radio\""),
    ) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted a label of an unknown value"),
    };
    assert!(
        e.contains("labels `radio`, which is not one of its values"),
        "{e}"
    );
    let e = match parse("bad.toml", &with("values_label.hotline.en = \"Hotline\"")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted a label without French"),
    };
    assert!(
        e.contains("value `hotline` of fact `signal_source` has no `fr` label"),
        "{e}"
    );
}
