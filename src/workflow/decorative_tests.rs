//! Declarations that nothing executes: found with file and line, refused, only warned about in
//! the versions shipped before the check; and the shipped workflows.

use super::super::definition::Alert;
use super::super::load::{load_dir, parse_file};

/// A workflow in which every declaration is carried out.
const CLEAN: &str = r#"
id = "declared"
version = 1
label = { en = "Declared", fr = "Déclaré" }

[facts.answered]
type = "bool"
label = { en = "Answered", fr = "Répondu" }

[tracks.main]
label = { en = "Main", fr = "Principal" }
initial = "open"
start_on_open = true

[states.open]
track = "main"
stage = "IDENTIFICATION"
label = { en = "Open", fr = "Ouvert" }

[states.travelling]
track = "main"
stage = "RETURN"
label = { en = "Travelling", fr = "En voyage" }

[states.closed]
track = "main"
stage = "RETURN"
terminal = true
label = { en = "Closed", fr = "Clôturé" }

[timers.answer]
kind = "DEADLINE"
days = 5
warn_days = 1
escalate_to = ["SUPERVISOR", "FOCAL_POINT"]
citation = "practice"
label = { en = "Answer", fr = "Réponse" }

[timers.wait]
kind = "FLOOR"
days = 10
blocks = ["close"]
citation = "practice"
label = { en = "Wait", fr = "Attente" }

[transitions.answer]
from = "open"
to = "open"
label = { en = "Answer", fr = "Répondre" }
roles = ["CASE_WORKER"]
inputs = [{ fact = "answered" }]
effects = { start_timers = ["answer", "wait"] }

[transitions.hand_over]
from = "open"
to = "travelling"
label = { en = "Hand over", fr = "Transmettre" }
roles = ["CASE_WORKER"]
transfer_of_lead = true
effects = { stop_timers = ["answer"] }

[transitions.not_received]
from = "travelling"
to = "travelling"
label = { en = "Not received on arrival (alert the focal points)", fr = "Non accueilli (alerter les points focaux)" }
roles = ["CASE_WORKER"]
alert = "not_received"

[transitions.close]
from = "travelling"
to = "closed"
label = { en = "Close", fr = "Clôturer" }
roles = ["CASE_WORKER"]
"#;

/// The findings of `CLEAN` with `find` replaced by `replace`, as `file:line: message`.
fn findings(find: &str, replace: &str) -> Vec<String> {
    assert!(CLEAN.contains(find), "fixture out of date: {find}");
    let source = CLEAN.replacen(find, replace, 1);
    parse_file("declared.toml", &source)
        .expect("a decorative declaration still loads")
        .decorative
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The 1-based line of the first line of `CLEAN` (after the replacement) that starts with `text`.
fn line_of(find: &str, replace: &str, text: &str) -> usize {
    CLEAN
        .replacen(find, replace, 1)
        .lines()
        .position(|l| l.starts_with(text))
        .expect("line in fixture")
        + 1
}

#[test]
fn a_workflow_that_declares_only_what_is_carried_out_has_no_findings() {
    let parsed = parse_file("declared.toml", CLEAN).expect("valid");
    assert!(parsed.decorative.is_empty(), "{:?}", parsed.decorative);
    assert!(!parsed.workflow.is_return_timer("answer"));
}

#[test]
fn each_declaration_nothing_carries_out_is_found_with_file_line_and_declaration() {
    // A floor neither escalates nor warns.
    let floor_escalates = "blocks = [\"close\"]\nescalate_to = [\"SUPERVISOR\"]";
    let found = findings("blocks = [\"close\"]", floor_escalates);
    let line = line_of(
        "blocks = [\"close\"]",
        floor_escalates,
        "escalate_to = [\"SUPERVISOR\"]",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!(
            "declared.toml:{line}: timer `wait`: `escalate_to` on a floor"
        )),
        "{found:?}"
    );
    let found = findings(
        "blocks = [\"close\"]",
        "blocks = [\"close\"]\nwarn_days = 3",
    );
    assert!(
        found[0].contains("timer `wait`: `warn_days` on a floor"),
        "{found:?}"
    );

    // An escalation to a role no agency holds for a case reaches no one.
    let found = findings(
        "escalate_to = [\"SUPERVISOR\", \"FOCAL_POINT\"]",
        "escalate_to = [\"SUPERVISOR\", \"AUDITOR\"]",
    );
    assert!(
        found[0].contains(
            "timer `answer`: `escalate_to` names AUDITOR, which a lapsed deadline cannot reach"
        ),
        "{found:?}"
    );

    // A timer nothing starts.
    let found = findings(
        "effects = { start_timers = [\"answer\", \"wait\"] }",
        "effects = { start_timers = [\"answer\"] }",
    );
    let line = line_of("", "", "[timers.wait]");
    assert_eq!(
        found,
        [format!(
            "declared.toml:{line}: timer `wait` is never started (no transition's `start_timers` names it): nothing it declares ever takes effect"
        )]
    );

    // A step whose label promises an alert that is not declared; an alert on the transfer step.
    let found = findings("alert = \"not_received\"\n", "");
    let line = line_of(
        "alert = \"not_received\"\n",
        "",
        "[transitions.not_received]",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with(&format!(
            "declared.toml:{line}: transition `not_received`: its label announces an alert"
        )),
        "{found:?}"
    );
    let found = findings(
        "transfer_of_lead = true\n",
        "transfer_of_lead = true\nalert = \"missing\"\n",
    );
    assert!(
        found[0].contains("`alert` on the transfer step is never raised"),
        "{found:?}"
    );

    // A fact nothing records.
    let found = findings("inputs = [{ fact = \"answered\" }]\n", "");
    assert!(
        found[0].starts_with("declared.toml:6: fact `answered` is never recorded"),
        "{found:?}"
    );
}

#[test]
fn a_new_version_is_refused_and_one_shipped_before_the_check_only_warned_about() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let decorative = CLEAN.replacen("alert = \"not_received\"\n", "", 1);
    std::fs::write(dir.path().join("declared.v1.toml"), &decorative).expect("write");
    let errors = load_dir(dir.path()).expect_err("a new workflow is held to the check");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].file.ends_with("declared.v1.toml"), "{errors:?}");
    assert!(
        errors[0].message.contains("announces an alert"),
        "{errors:?}"
    );

    // Adult v2, shipped before the check, loads on its own (cases are pinned to it) ...
    let adult_v2 = include_str!("../../workflows/trm-adult.v2.toml");
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("trm-adult.v2.toml"), adult_v2).expect("write");
    let loaded = load_dir(dir.path()).expect("a version shipped before the check loads");
    assert_eq!(loaded.workflows.len(), 1);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    // ... but the same text as a new version is refused.
    std::fs::write(
        dir.path().join("trm-adult.v2.toml"),
        adult_v2.replacen("version = 2", "version = 4", 1),
    )
    .expect("write");
    let errors = load_dir(dir.path()).expect_err("a new version is held to the check");
    assert!(
        errors[0]
            .message
            .contains("transition `report_not_received`"),
        "{errors:?}"
    );
}

#[test]
fn the_shipped_workflows_declare_nothing_decorative_after_the_check() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    let loaded = load_dir(&dir).expect("the shipped workflows load");
    let mut warned: Vec<(String, String)> = loaded
        .warnings
        .iter()
        .map(|w| {
            let file = w.file.rsplit('/').next().unwrap_or_default().to_string();
            let what = w.message.split(':').next().unwrap_or_default().to_string();
            (file, what)
        })
        .collect();
    warned.sort();
    // Versions shipped before the check, frozen by their stored hash: their labels promised
    // alerts that only the next version declares (adult v3, child v2).
    assert_eq!(
        warned,
        [
            ("trm-adult.v2.toml", "transition `report_not_received`"),
            ("trm-child.v1.toml", "transition `record_residence_permit`"),
            ("trm-child.v1.toml", "transition `report_not_received`"),
        ]
        .map(|(f, w)| (f.to_string(), w.to_string()))
    );
    let get = |id: &str, v: u32| {
        loaded
            .workflows
            .iter()
            .find(|w| w.id == id && w.version == v)
            .expect("shipped workflow")
    };
    let alerts = |id: &str, v: u32| -> Vec<(String, Alert)> {
        get(id, v)
            .transitions
            .iter()
            .filter_map(|t| Some((t.id.clone(), t.alert?)))
            .collect()
    };
    assert_eq!(
        alerts("trm-adult", 3),
        [("report_not_received".to_string(), Alert::NotReceived)]
    );
    assert!(
        alerts("trm-child", 2).contains(&("report_not_received".to_string(), Alert::NotReceived))
    );
    // The deadlines of the return reach both ends of it; the others only the case's country.
    for (id, v, timers) in [
        (
            "trm-adult",
            3,
            &[
                "arrival_confirmation",
                "origin_response",
                "reintegration_plan",
                "post_return_follow_up",
            ][..],
        ),
        (
            "trm-child",
            2,
            &[
                "arrival_confirmation",
                "reintegration_plan",
                "follow_up_review",
            ][..],
        ),
    ] {
        let w = get(id, v);
        let of_return: Vec<&str> = w
            .timers
            .keys()
            .filter(|t| w.is_return_timer(t))
            .map(String::as_str)
            .collect();
        let mut expected = timers.to_vec();
        expected.sort_unstable();
        assert_eq!(of_return, expected, "{id} v{v}");
    }
}
