//! The UK National Referral Mechanism (`workflows/trm-uk-nrm.v1.toml`, `v2.toml`): a national
//! variant in data only, with its own working-day calendar (`workflows/calendars/GB.toml`).
//! Scenario 3 of issue 4 (an adult who refuses referral), the reasonable-grounds deadline in GB
//! working days, the 30-day recovery period before the conclusive-grounds decision,
//! reconsiderations and exits. Every story plays on both versions; they differ in who asks for a
//! reconsideration (v1: the lead, naming the requester in a fact; v2: the first responder or
//! support provider itself, in its own name) and in the state a requested reasonable-grounds
//! reconsideration waits in (v1: `awaiting_rg`; v2: `rg_reconsideration`). The decisions of the
//! Single Competent Authority on a case a first responder leads are in `decisions_uk.rs`.

use crate::driver::{CaseDriver, available};
use crate::harness::{TestServer, case_timer, instant, track_state, workflows_dir};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const NRM: &str = "trm-uk-nrm";
/// The Single Competent Authority (COMPETENT_AUTHORITY and FOCAL_POINT roles).
const SCA: &str = "gb.competent";
/// A police first responder (CASE_WORKER).
const POLICE: &str = "gb.police";
/// A support provider (an NGO; CASE_WORKER and SUPERVISOR).
const SUPPORT: &str = "gb.support";

/// Moves the test clock to `at`.
fn set_clock(s: &TestServer, at: DateTime<Utc>) {
    s.clock.advance(at - s.app.now());
}

/// The bank holidays in `workflows/calendars/GB.toml`, read independently of the server.
fn gb_holidays() -> BTreeSet<NaiveDate> {
    let text = std::fs::read_to_string(workflows_dir().join("calendars/GB.toml")).unwrap();
    let file: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(file["country"].as_str(), Some("GB"));
    file["holidays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| NaiveDate::parse_from_str(d.as_str().unwrap(), "%Y-%m-%d").unwrap())
        .collect()
}

/// `start` plus `n` working days: Saturdays, Sundays and the given holidays are skipped.
fn plus_working_days(
    start: DateTime<Utc>,
    n: u32,
    holidays: &BTreeSet<NaiveDate>,
) -> DateTime<Utc> {
    let mut due = start;
    let mut left = n;
    while left > 0 {
        due += Duration::days(1);
        let day = due.date_naive();
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day) {
            left -= 1;
        }
    }
    due
}

fn adult_referral() -> Value {
    json!({"exploitation_type": "labour", "is_child": false, "indicators_found": true,
           "informed_of_nrm": true, "consent_to_referral": true})
}

fn rg_negative() -> Value {
    json!({"evidence_reviewed": true, "negative_reason": "threshold_not_met",
           "person_informed_of_decision": true})
}

/// Opens a case under `version` as the SCA, who reads it, and refers it.
async fn referred(s: &TestServer, version: u32) -> CaseDriver<'_> {
    let mut c = CaseDriver::open(s, SCA, NRM, Some(version)).await;
    c.ok(SCA, "refer_to_nrm", adult_referral()).await;
    c
}

/// Opens, refers and decides positive reasonable grounds as the SCA.
async fn with_positive_rg(s: &TestServer, version: u32) -> CaseDriver<'_> {
    let mut c = referred(s, version).await;
    c.ok(
        SCA,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
    )
    .await;
    c
}

async fn scenario_3_an_adult_who_refuses_referral_is_only_notified_anonymously(version: u32) {
    // A Romanian man in forced labour in the UK, met by the police, does not want to be referred.
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, POLICE, NRM, Some(version)).await;
    assert!(c.reference.starts_with("GB-"), "{}", c.reference);
    let no_consent = json!({"exploitation_type": "labour", "is_child": false,
                            "indicators_found": true, "informed_of_nrm": true,
                            "consent_to_referral": false});
    // No referral without an adult's consent ...
    assert_eq!(
        c.unmet(POLICE, "refer_to_nrm", no_consent.clone()).await,
        ["consent_or_child"]
    );
    // ... and a child is never only notified.
    assert_eq!(
        c.unmet(
            POLICE,
            "notify_anonymously",
            json!({"is_child": true, "indicators_found": true, "consent_to_referral": false}),
        )
        .await,
        ["adult_only"]
    );
    // A consenting adult is referred, not notified.
    assert_eq!(
        c.unmet(
            POLICE,
            "notify_anonymously",
            json!({"is_child": false, "indicators_found": true, "consent_to_referral": true}),
        )
        .await,
        ["no_consent"]
    );
    let after = c
        .ok(
            POLICE,
            "notify_anonymously",
            json!({"exploitation_type": "labour", "is_child": false, "indicators_found": true,
               "consent_to_referral": false}),
        )
        .await;
    assert_eq!(
        track_state(&after, "identification"),
        Some("duty_to_notify")
    );
    assert_eq!(
        track_state(&after, "support"),
        None,
        "no support without referral"
    );

    // Nothing else happens to the case: no decision, no timer, no support, no transfer.
    let now = c.view().await;
    assert_eq!(now["status"], "ACTIVE");
    assert_eq!(now["timers"], json!([]));
    let keys = c.keys().await;
    assert_eq!(
        keys,
        BTreeSet::from(["re_enter_with_consent".into(), "close_notification".into()])
    );
    assert!(
        keys.iter()
            .all(|k| !k.contains("transfer") && !k.contains("return") && !k.contains("refer")),
        "{now}"
    );
    for (t, data) in [
        ("refer_to_nrm", adult_referral()),
        ("decide_rg_positive", json!({"evidence_reviewed": true})),
        ("transfer_case", json!({})),
        ("return_to_origin", json!({})),
    ] {
        c.fails(POLICE, t, data, "INVALID_TRANSITION").await;
    }

    // Weeks later he changes his mind: re-entry with consent, then a normal referral.
    s.clock.advance(Duration::days(21));
    assert_eq!(
        c.unmet(
            POLICE,
            "re_enter_with_consent",
            json!({"new_consent": false})
        )
        .await,
        ["new_consent"]
    );
    let back = c
        .ok(
            POLICE,
            "re_enter_with_consent",
            json!({"new_consent": true}),
        )
        .await;
    assert_eq!(track_state(&back, "identification"), Some("encountered"));
    let referred = c.ok(POLICE, "refer_to_nrm", adult_referral()).await;
    assert_eq!(
        track_state(&referred, "identification"),
        Some("awaiting_rg")
    );
    let now = c.view().await;
    assert_eq!(case_timer(&now, "rg_decision")["status"], "RUNNING");
    // The decision is the Single Competent Authority's, not the police's.
    let decide = available(&now, "decide_rg_positive");
    assert_eq!(decide["allowed"], false);
    assert_eq!(decide["unmetGuards"][0]["name"], "role");
    c.fails(
        POLICE,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
        "FORBIDDEN",
    )
    .await;
    s.stop().await;
}

async fn the_reasonable_grounds_decision_is_due_in_five_gb_working_days(version: u32) {
    let s = TestServer::start().await;
    let mut c = referred(&s, version).await;
    let now = c.view().await;
    assert_eq!(now["country"], "GB");
    let rg = case_timer(&now, "rg_decision");
    assert_eq!(rg["kind"], "DEADLINE");
    assert_eq!(rg["status"], "RUNNING");
    assert!(rg["citation"].as_str().unwrap().contains("5 working days"));
    let started = instant(&rg["startedAt"]);
    let due = instant(&rg["dueAt"]);
    assert_eq!(due, plus_working_days(started, 5, &gb_holidays()));
    let due_day = due.date_naive();
    assert!(
        !matches!(due_day.weekday(), Weekday::Sat | Weekday::Sun)
            && !gb_holidays().contains(&due_day),
        "due on a working day: {due}"
    );

    // The deadline's definition: warned two days before, escalated to the supervisor and focal point.
    let data = s
        .data(
            SCA,
            "query($v: Int) { workflow(id: \"trm-uk-nrm\", version: $v) { timers { key kind days workingDays warnDays escalateTo blocks citation } } }",
            json!({"v": version}),
        )
        .await;
    let timers = data["workflow"]["timers"].as_array().unwrap();
    let def = |k: &str| timers.iter().find(|t| t["key"] == k).unwrap().clone();
    assert_eq!(def("rg_decision")["workingDays"], 5);
    assert_eq!(def("rg_decision")["warnDays"], 2);
    assert_eq!(
        def("rg_decision")["escalateTo"],
        json!(["SUPERVISOR", "FOCAL_POINT"])
    );
    assert_eq!(def("recovery_period")["kind"], "FLOOR");
    assert_eq!(def("recovery_period")["days"], 30);
    assert_eq!(
        def("recovery_period")["blocks"],
        json!(["decide_cg_positive", "decide_cg_negative"])
    );
    assert!(
        timers
            .iter()
            .all(|t| t["citation"].as_str().unwrap().starts_with("UK-NRM")),
        "every timer cites its source: {timers:?}"
    );

    // Overdue after the due date; the decision stops the deadline and starts the recovery period.
    set_clock(&s, due + Duration::hours(1));
    let overdue = s
        .data(
            SCA,
            "{ cases(filter: {workflow: \"trm-uk-nrm\", deadline: OVERDUE}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(overdue["cases"]["edges"][0]["node"]["id"], c.id.as_str());
    let deadlines = c
        .query("query($id: ID!) { case(id: $id) { deadlines { timer status dueAt dueSoonFrom escalateTo } } }")
        .await;
    let rg = &deadlines["deadlines"][0];
    assert_eq!(rg["timer"], "rg_decision");
    assert_eq!(rg["status"], "OVERDUE");
    assert_eq!(rg["escalateTo"], json!(["SUPERVISOR", "FOCAL_POINT"]));
    assert_eq!(
        instant(&rg["dueAt"]) - instant(&rg["dueSoonFrom"]),
        Duration::days(2)
    );
    let worklist = s
        .data(
            SCA,
            "{ worklist { edges { node { reason deadlineTimer case { id } } } } }",
            json!({}),
        )
        .await;
    let first = &worklist["worklist"]["edges"][0]["node"];
    assert_eq!(
        (first["reason"].as_str(), first["deadlineTimer"].as_str()),
        (Some("OVERDUE"), Some("rg_decision"))
    );
    assert_eq!(first["case"]["id"], c.id.as_str());
    // The scheduler records the missed target on the case once, escalated to the supervisors
    // and the focal point; the decision can still be made.
    assert_eq!(trm::service::timers::fire_due(&s.app).await.unwrap(), 1);
    assert_eq!(trm::service::timers::fire_due(&s.app).await.unwrap(), 0);
    let before = c.version;
    assert_eq!(
        c.sync().await,
        before + 2,
        "one event for the missed target, one for its escalation"
    );
    let decided = c
        .ok(
            SCA,
            "decide_rg_positive",
            json!({"evidence_reviewed": true}),
        )
        .await;
    assert_eq!(track_state(&decided, "identification"), Some("rg_positive"));
    assert_eq!(track_state(&decided, "support"), Some("recovery_support"));
    let now = c.view().await;
    assert_eq!(
        case_timer(&now, "recovery_period")["status"],
        "RUNNING",
        "{now}"
    );
    let overdue = s
        .data(
            SCA,
            "{ cases(filter: {workflow: \"trm-uk-nrm\", deadline: OVERDUE}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(overdue["cases"]["edges"], json!([]));
    let deadlines = c
        .query("query($id: ID!) { case(id: $id) { deadlines { timer status } } }")
        .await;
    assert_eq!(
        deadlines["deadlines"],
        json!([{"timer": "rg_decision", "status": "MISSED"}])
    );
    s.stop().await;
}

async fn bank_holidays_at_christmas_are_not_working_days(version: u32) {
    let s = TestServer::start().await;
    // Referred on Monday 21 December 2026 at 09:00 UTC. Christmas Day (Friday 25) and the
    // substitute Boxing Day (Monday 28) are bank holidays: Tue 22, Wed 23, Thu 24, Tue 29, Wed 30.
    let monday = Utc.with_ymd_and_hms(2026, 12, 21, 9, 0, 0).unwrap();
    set_clock(&s, monday);
    let c = referred(&s, version).await;
    let rg = case_timer(&c.view().await, "rg_decision").clone();
    assert_eq!(instant(&rg["startedAt"]), monday);
    let due = Utc.with_ymd_and_hms(2026, 12, 30, 9, 0, 0).unwrap();
    assert_eq!(instant(&rg["dueAt"]), due);
    assert_eq!(
        plus_working_days(monday, 5, &BTreeSet::new()),
        Utc.with_ymd_and_hms(2026, 12, 28, 9, 0, 0).unwrap(),
        "weekends alone would make it due on the 28th"
    );
    let listed = |filter: &'static str| {
        let s = &s;
        async move {
            let q = format!(
                "{{ cases(filter: {{workflow: \"trm-uk-nrm\", deadline: {filter}}}) {{ edges {{ node {{ id }} }} }} }}"
            );
            s.data(SCA, &q, json!({})).await["cases"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // On the 28th (a bank holiday) it is due soon (2 days' warning), not overdue.
    set_clock(&s, Utc.with_ymd_and_hms(2026, 12, 28, 10, 0, 0).unwrap());
    assert_eq!(listed("DUE_SOON").await, [c.id.as_str()]);
    assert!(listed("OVERDUE").await.is_empty());
    set_clock(&s, due);
    assert_eq!(listed("OVERDUE").await, [c.id.as_str()]);
    assert!(listed("DUE_SOON").await.is_empty());

    // A year later the holidays fall differently: Christmas and Boxing Day are substituted by
    // Monday 27 and Tuesday 28 December 2027.
    let monday = Utc.with_ymd_and_hms(2027, 12, 20, 9, 0, 0).unwrap();
    set_clock(&s, monday);
    let c = referred(&s, version).await;
    let rg = case_timer(&c.view().await, "rg_decision").clone();
    assert_eq!(
        instant(&rg["dueAt"]),
        Utc.with_ymd_and_hms(2027, 12, 29, 9, 0, 0).unwrap()
    );
    assert_eq!(
        instant(&rg["dueAt"]),
        plus_working_days(monday, 5, &gb_holidays())
    );
    s.stop().await;
}

async fn the_conclusive_grounds_decision_waits_thirty_days_after_reasonable_grounds(version: u32) {
    let s = TestServer::start().await;
    let mut c = with_positive_rg(&s, version).await;
    let now = c.view().await;
    let recovery = case_timer(&now, "recovery_period");
    assert_eq!(recovery["kind"], "FLOOR");
    assert!(
        recovery["citation"]
            .as_str()
            .unwrap()
            .contains("13 Dec 2022")
    );
    assert_eq!(
        instant(&recovery["dueAt"]) - instant(&recovery["startedAt"]),
        Duration::days(30)
    );
    // No move-on before a conclusive decision.
    assert_eq!(
        available(&now, "begin_move_on")["unmetGuards"][0]["name"],
        "cg_decided"
    );

    // Day 29: both conclusive decisions are refused by the floor.
    s.clock.advance(Duration::days(29));
    assert_eq!(
        c.unmet(
            SCA,
            "decide_cg_positive",
            json!({"evidence_reviewed": true})
        )
        .await,
        ["floor:recovery_period"]
    );
    assert_eq!(
        c.unmet(SCA, "decide_cg_negative", rg_negative()).await,
        ["floor:recovery_period"]
    );
    let now = c.view().await;
    let cg = available(&now, "decide_cg_positive");
    assert_eq!(cg["allowed"], false);
    assert_eq!(cg["unmetGuards"][0]["name"], "floor:recovery_period");

    // Day 30: allowed. Recognised as a victim: at least 45 days of move-on support.
    s.clock.advance(Duration::days(1));
    assert_eq!(
        available(&c.view().await, "decide_cg_positive")["allowed"],
        true
    );
    let decided = c
        .ok(
            SCA,
            "decide_cg_positive",
            json!({"evidence_reviewed": true, "person_informed_of_decision": true}),
        )
        .await;
    assert_eq!(track_state(&decided, "identification"), Some("cg_positive"));
    assert_eq!(decided["status"], "ACTIVE", "support continues");
    let moving = c.ok(SCA, "begin_move_on", json!({})).await;
    assert_eq!(track_state(&moving, "support"), Some("move_on_support"));
    let now = c.view().await;
    assert_eq!(case_timer(&now, "recovery_period")["status"], "ELAPSED");
    let move_on = case_timer(&now, "move_on_positive");
    assert_eq!(
        instant(&move_on["dueAt"]) - instant(&move_on["startedAt"]),
        Duration::days(45)
    );
    s.clock.advance(Duration::days(44));
    let outcome = json!({"move_on_outcome": "recovery_needs_support"});
    assert_eq!(
        c.unmet(SCA, "end_support", outcome.clone()).await,
        ["floor:move_on_positive"]
    );
    s.clock.advance(Duration::days(1));
    let ended = c.ok(SCA, "end_support", outcome).await;
    assert_eq!(track_state(&ended, "support"), Some("support_ended"));
    assert_eq!(ended["status"], "CLOSED");
    s.stop().await;
}

async fn negative_decisions_are_reconsidered_only_on_new_evidence(version: u32) {
    let s = TestServer::start().await;
    let mut c = referred(&s, version).await;
    // Negative reasonable grounds: the person must be told, with reasons.
    let mut untold = rg_negative();
    untold["person_informed_of_decision"] = json!(false);
    assert_eq!(
        c.unmet(SCA, "decide_rg_negative", untold).await,
        ["person_informed"]
    );
    let negative = c.ok(SCA, "decide_rg_negative", rg_negative()).await;
    assert_eq!(
        track_state(&negative, "identification"),
        Some("rg_negative")
    );
    assert_eq!(track_state(&negative, "support"), None);
    assert_eq!(
        case_timer(&c.view().await, "rg_decision")["status"],
        "STOPPED"
    );
    // v1: the SCA, leading, records the request and names the requester in a fact. v2: the first
    // responder asks itself, once the SCA has involved it; the SCA may not, and the fact is gone.
    let (rg_requester, cg_requester) = if version == 1 {
        (SCA, SCA)
    } else {
        (POLICE, SUPPORT)
    };
    let request = |new_evidence: bool| {
        if version == 1 {
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": new_evidence})
        } else {
            json!({"new_evidence": new_evidence})
        }
    };
    if version >= 2 {
        let body = c
            .fails(
                SCA,
                "request_rg_reconsideration",
                request(true),
                "FORBIDDEN",
            )
            .await;
        // The SCA does not ask itself.
        assert!(body.to_string().contains("POLICE"), "{body}");
        // The first responder who referred the person is not on the case yet: it does not see it.
        c.fails(
            POLICE,
            "request_rg_reconsideration",
            request(true),
            "NOT_FOUND",
        )
        .await;
        s.refer_for(SCA, &c.id, POLICE, "OTHER", &["IDENTITY"])
            .await;
        c.sync().await;
        let (code, _) = c
            .refused(
                POLICE,
                "request_rg_reconsideration",
                json!({"reconsideration_requested_by": "first_responder", "new_evidence": true}),
            )
            .await;
        assert_eq!(code, "VALIDATION", "v2 has no fact naming the requester");
    }
    assert_eq!(
        c.unmet(rg_requester, "request_rg_reconsideration", request(false))
            .await,
        ["new_evidence"]
    );
    let again = c
        .ok(rg_requester, "request_rg_reconsideration", request(true))
        .await;
    assert_eq!(
        track_state(&again, "identification"),
        Some(if version == 1 {
            "awaiting_rg"
        } else {
            "rg_reconsideration"
        })
    );
    if version >= 2 {
        // The request is not a decision: the police may not take it.
        c.fails(
            POLICE,
            "decide_rg_positive",
            json!({"evidence_reviewed": true}),
            "FORBIDDEN",
        )
        .await;
    }
    c.ok(
        SCA,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
    )
    .await;

    // Negative conclusive grounds after the recovery period: 9 working days of support.
    s.clock.advance(Duration::days(30));
    let cg = c.ok(SCA, "decide_cg_negative", rg_negative()).await;
    assert_eq!(track_state(&cg, "identification"), Some("cg_negative"));
    let now = c.view().await;
    let after_negative = case_timer(&now, "move_on_negative");
    assert_eq!(
        instant(&after_negative["dueAt"]),
        plus_working_days(instant(&after_negative["startedAt"]), 9, &gb_holidays())
    );
    c.ok(SCA, "begin_move_on", json!({})).await;
    let outcome = json!({"move_on_outcome": "mainstream_services"});
    assert_eq!(
        c.unmet(SCA, "end_support", outcome.clone()).await,
        ["floor:move_on_negative"]
    );

    // The support provider asks for reconsideration with new evidence: support goes on meanwhile.
    if version >= 2 {
        c.fails(
            SCA,
            "request_cg_reconsideration",
            request(true),
            "FORBIDDEN",
        )
        .await;
        s.refer_for(SCA, &c.id, SUPPORT, "SHELTER", &["IDENTITY"])
            .await;
        c.sync().await;
    }
    let reconsidering = c
        .ok(cg_requester, "request_cg_reconsideration", request(true))
        .await;
    assert_eq!(
        track_state(&reconsidering, "identification"),
        Some("cg_reconsideration")
    );
    assert_eq!(
        case_timer(&c.view().await, "move_on_negative")["status"],
        "STOPPED"
    );
    s.clock.advance(Duration::days(20));
    assert_eq!(
        c.unmet(SCA, "end_support", outcome.clone()).await,
        ["no_pending_reconsideration"]
    );
    // Upheld: the 9 working days start again from the new decision.
    c.ok(SCA, "decide_cg_negative", rg_negative()).await;
    let now = c.view().await;
    let restarted = case_timer(&now, "move_on_negative");
    assert_eq!(restarted["status"], "RUNNING");
    let due = instant(&restarted["dueAt"]);
    set_clock(&s, due - Duration::hours(1));
    assert_eq!(
        c.unmet(SCA, "end_support", outcome.clone()).await,
        ["floor:move_on_negative"]
    );
    set_clock(&s, due);
    let ended = c.ok(SCA, "end_support", outcome).await;
    assert_eq!(track_state(&ended, "support"), Some("support_ended"));
    assert_eq!(ended["status"], "ACTIVE");
    // v2: closing the case ends the referrals that involved the police and the support provider.
    let then: &[&str] = if version == 1 {
        &[]
    } else {
        &["REFERRAL", "REFERRAL"]
    };
    let closed = c
        .ok_then(SCA, "close_not_identified", json!({}), then)
        .await;
    assert_eq!(
        track_state(&closed, "identification"),
        Some("closed_not_identified")
    );
    assert_eq!(closed["status"], "CLOSED");
    s.stop().await;
}

async fn every_exit_closes_or_leaves_the_procedure(version: u32) {
    let s = TestServer::start().await;

    // No indicators: not referred.
    let mut c = CaseDriver::open(&s, POLICE, NRM, Some(version)).await;
    let closed = c
        .ok(
            POLICE,
            "close_without_referral",
            json!({"reclassification": "no_indicators"}),
        )
        .await;
    assert_eq!(track_state(&closed, "identification"), Some("not_referred"));
    assert_eq!(closed["status"], "CLOSED");

    // An anonymous notification that never turns into a referral is closed.
    let mut c = CaseDriver::open(&s, POLICE, NRM, Some(version)).await;
    c.ok(
        POLICE,
        "notify_anonymously",
        json!({"is_child": false, "indicators_found": true, "consent_to_referral": false}),
    )
    .await;
    let closed = c.ok(POLICE, "close_notification", json!({})).await;
    assert_eq!(closed["status"], "CLOSED");

    // A negative reasonable-grounds decision that is not reconsidered is closed.
    let mut c = referred(&s, version).await;
    c.ok(SCA, "decide_rg_negative", rg_negative()).await;
    let closed = c.ok(SCA, "close_not_identified", json!({})).await;
    assert_eq!(closed["status"], "CLOSED");

    // A child is referred without consent; a child's support cannot be declined here.
    let mut c = CaseDriver::open(&s, SCA, NRM, Some(version)).await;
    c.ok(
        SCA,
        "refer_to_nrm",
        json!({"is_child": true, "indicators_found": true, "informed_of_nrm": true}),
    )
    .await;
    c.ok(
        SCA,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
    )
    .await;
    assert_eq!(
        c.unmet(SCA, "decline_support", json!({})).await,
        ["adult_only"]
    );

    // An adult may decline support and stay in the NRM; the decisions go on.
    let mut c = with_positive_rg(&s, version).await;
    let declined = c.ok(SCA, "decline_support", json!({})).await;
    assert_eq!(track_state(&declined, "support"), Some("support_declined"));
    assert_eq!(
        track_state(&declined, "identification"),
        Some("rg_positive")
    );
    assert_eq!(declined["status"], "ACTIVE");

    // Leaving the NRM during the recovery period ends support and stops the timers.
    let mut c = with_positive_rg(&s, version).await;
    s.clock.advance(Duration::days(3));
    let left = c
        .ok(
            SCA,
            "withdraw_from_nrm",
            json!({"exit_reason": "lost_contact"}),
        )
        .await;
    assert_eq!(track_state(&left, "identification"), Some("withdrawn"));
    assert_eq!(track_state(&left, "support"), Some("support_ended"));
    assert_eq!(left["status"], "CLOSED");
    assert_eq!(
        case_timer(&c.view().await, "recovery_period")["status"],
        "STOPPED"
    );
    s.stop().await;
}

// Each story is played on every version of the procedure: the latest, for new cases, and the
// earlier one, for the cases pinned to it.
on_versions! {
    v1 => 1,
    v2 => 2;
    scenario_3_an_adult_who_refuses_referral_is_only_notified_anonymously,
    the_reasonable_grounds_decision_is_due_in_five_gb_working_days,
    bank_holidays_at_christmas_are_not_working_days,
    the_conclusive_grounds_decision_waits_thirty_days_after_reasonable_grounds,
    negative_decisions_are_reconsidered_only_on_new_evidence,
    every_exit_closes_or_leaves_the_procedure,
}
