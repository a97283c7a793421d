//! The adult procedure with all five SOPs (`workflows/trm-adult.v2.toml`), played over GraphQL:
//! scenarios 2, 4 and 6 of issue 4, and the other rules it encodes (anonymous notification and
//! re-entry, non-identification and reconsideration, the reflection period as a floor and its
//! early end, the Bulgarian start of the reflection period, the asylum rule, missing and found,
//! re-trafficked, consent withdrawn, deceased, and the closing of a case).
//!
//! Up to version 3 only the lead agency's users move a case, so the decisions of other bodies are
//! recorded by the lead; from version 4 those bodies record them themselves, once the lead has
//! involved them (see [`decider`]; the rules of that are proven in `decisions.rs`). Version 5 adds
//! the last ones (see [`decider_from_5`]): the asylum outcome by the migration authority, protection
//! measures and non-punishment by the prosecutor; a re-trafficking is linked to the new case by
//! `linkSamePerson` instead of a typed reference.

use crate::driver::CaseDriver;
use crate::harness::{TestServer, case_timer, error_code, instant, track_state};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

const WORKFLOW: &str = "trm-adult";

/// Who records a decision of another body: up to version 3 the lead's own `lead` user; from
/// version 4 the body itself (`body`, of the lead's country), which the lead involves in the case
/// for a decision (a referral), and which then records it in its own name.
async fn decider(c: &mut CaseDriver<'_>, version: u32, lead: &str, body: &str) -> String {
    if version < 4 {
        return lead.to_string();
    }
    c.s.involve(lead, &c.id, body, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    c.sync().await;
    body.to_string()
}

/// Who records a decision that version 5 gives to its body (the asylum outcome, protection
/// measures, non-punishment): up to version 4 the lead's `lead` user; from version 5 `body`, which
/// the lead involves for it.
async fn decider_from_5(c: &mut CaseDriver<'_>, version: u32, lead: &str, body: &str) -> String {
    if version < 5 {
        return lead.to_string();
    }
    decider(c, version, lead, body).await
}

/// A residence permit's data: up to version 3 its length typed as a number of months beside its
/// expiry; from version 4 its dates (issued today), on which its minimum length is checked.
fn permit(s: &TestServer, version: u32, ground: &str, months: u32, expiry: &str) -> Value {
    if version < 4 {
        json!({"permit_ground": ground, "permit_months": months, "permit_expiry": expiry})
    } else {
        json!({"permit_ground": ground, "permit_issued": date_in(s, 0), "permit_expiry": expiry})
    }
}

/// A date six calendar months from the server's current time.
fn six_months_on(s: &TestServer) -> String {
    (s.app.now() + chrono::Months::new(6))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// The judgment's data: from version 4 also the date it became final (today) and what it
/// decided on compensation.
fn judgment(s: &TestServer, version: u32, compensation: &str) -> Value {
    if version < 4 {
        json!({"judgment_outcome": "conviction"})
    } else {
        json!({"judgment_outcome": "conviction", "judgment_final_on": date_in(s, 0),
            "compensation_in_judgment": compensation})
    }
}

/// Opens a case of the given version as `user` of the lead agency, who reads it.
async fn open<'a>(s: &'a TestServer, user: &str, version: u32) -> CaseDriver<'a> {
    CaseDriver::open(s, user, WORKFLOW, Some(version)).await
}

/// Takes a fresh case to crisis intervention (presumed victim, assessment, safety plan).
async fn reach_crisis_intervention(c: &mut CaseDriver<'_>, user: &str, risk: &str) -> Value {
    c.ok(
        user,
        "start_screening",
        json!({"signal_source": "agency_referral"}),
    )
    .await;
    c.ok(user, "record_presumed_victim", presumed()).await;
    c.ok(
        user,
        "record_assessment",
        json!({"risk_level": risk, "immediate_needs_assessed": true}),
    )
    .await;
    c.ok(
        user,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true, "secure_shelter": risk == "high"}),
    )
    .await
}

fn presumed() -> Value {
    json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true})
}

fn has_timer(case: &Value, name: &str) -> bool {
    case["timers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["timer"] == name)
}

/// The status of a deadline of the case.
fn deadline<'v>(case: &'v Value, name: &str) -> &'v str {
    case["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["timer"] == name)
        .and_then(|t| t["status"].as_str())
        .unwrap_or_else(|| panic!("no deadline {name} in {case}"))
}

/// The date `days` from the server's current time, as a `date` fact.
fn date_in(s: &TestServer, days: i64) -> String {
    (s.app.now() + Duration::days(days))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

fn midnight(date: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
}

/// Scenario 2: a Nigerian woman, 30, sexually exploited, identified by an NGO in Italy.
async fn scenario_2_nigerian_woman_in_italy_cooperates_on_day_20_and_stays_with_a_permit(
    version: u32,
) {
    let s = TestServer::start().await;
    let worker = "it.shelter";
    let supervisor = "it.shelter.supervisor";
    let mut c = open(&s, worker, version).await;
    let opened = c.view().await;
    assert_eq!(
        track_state(&opened, "identification"),
        Some("signal_received")
    );
    assert_eq!(track_state(&opened, "person"), Some("present"));
    assert_eq!(track_state(&opened, "assistance"), None);

    // Presumed victim: first assistance starts, with a reflection period of at least 30 days.
    let day0 = s.app.now();
    c.ok(
        worker,
        "start_screening",
        json!({"signal_source": "agency_referral"}),
    )
    .await;
    let case = c.ok(worker, "record_presumed_victim", presumed()).await;
    assert_eq!(track_state(&case, "assistance"), Some("needs_assessment"));
    let view = c.view().await;
    let reflection = case_timer(&view, "reflection_period");
    assert_eq!(reflection["kind"], "FLOOR");
    assert_eq!(reflection["status"], "RUNNING");
    assert_eq!(instant(&reflection["dueAt"]), day0 + Duration::days(30));
    assert!(reflection["citation"].as_str().unwrap().contains("Art. 13"));
    c.ok(
        worker,
        "record_assessment",
        json!({"risk_level": "medium", "immediate_needs_assessed": true}),
    )
    .await;
    c.ok(
        worker,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true}),
    )
    .await;

    // Day 10: a removal during the reflection period is refused by the floor (from version 4
    // the migration authority's own step, once the NGO involved it).
    s.clock.advance(Duration::days(10));
    let migration = decider(&mut c, version, supervisor, "it.migration").await;
    let prosecutor = decider(&mut c, version, worker, "it.prosecutor").await;
    assert_eq!(
        c.unmet(
            &migration,
            "enforce_removal",
            json!({"removal_ground": "no_right_of_residence"})
        )
        .await,
        ["floor:reflection_period"]
    );
    // Nor is her future decided during it.
    assert_eq!(
        c.unmet(worker, "move_to_long_term_assistance", json!({}))
            .await,
        ["reflection_period_over"]
    );

    // Day 20: after legal counselling she decides to cooperate: the reflection period ends early
    // and the proceedings track opens; assistance continues.
    s.clock.advance(Duration::days(10));
    assert_eq!(
        c.unmet(
            worker,
            "record_cooperation_decision",
            json!({"legal_counselling_given": true, "cooperation_decision": "cooperates"})
        )
        .await,
        ["not_cooperating"]
    );
    assert_eq!(
        c.unmet(
            worker,
            "decide_to_cooperate",
            json!({"legal_counselling_given": false})
        )
        .await,
        ["legal_counselling_given"]
    );
    let case = c
        .ok(
            worker,
            "decide_to_cooperate",
            json!({"legal_counselling_given": true}),
        )
        .await;
    assert_eq!(track_state(&case, "proceedings"), Some("investigation"));
    assert_eq!(
        track_state(&case, "assistance"),
        Some("crisis_intervention")
    );
    let view = c.view().await;
    assert_eq!(view["facts"]["cooperation_decision"], "cooperates");
    let reflection = case_timer(&view, "reflection_period");
    assert_eq!(reflection["status"], "STOPPED");
    assert_eq!(instant(&reflection["stoppedAt"]), day0 + Duration::days(20));

    // Long-term assistance with a residence permit of at least 6 months.
    let case = c
        .ok(worker, "move_to_long_term_assistance", json!({}))
        .await;
    assert_eq!(
        track_state(&case, "assistance"),
        Some("first_assistance_completed")
    );
    assert_eq!(track_state(&case, "long_term"), Some("permit_application"));
    let short = date_in(&s, 90);
    assert_eq!(
        c.unmet(
            &migration,
            "grant_residence_permit",
            permit(&s, version, "cooperation", 3, &short)
        )
        .await,
        ["permit_at_least_six_months"]
    );
    let expiry = if version < 4 {
        date_in(&s, 183)
    } else {
        six_months_on(&s)
    };
    let case = c
        .ok(
            &migration,
            "grant_residence_permit",
            permit(&s, version, "cooperation", 6, &expiry),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("support_planning"));
    let view = c.view().await;
    let permit = case_timer(&view, "residence_permit");
    assert_eq!(
        (permit["kind"].as_str(), permit["status"].as_str()),
        (Some("DEADLINE"), Some("RUNNING"))
    );
    assert_eq!(instant(&permit["dueAt"]), midnight(&expiry));
    assert_eq!(deadline(&view, "residence_permit"), "PENDING");
    c.ok(
        worker,
        "adopt_support_plan",
        json!({"support_plan_adopted": true, "risk_level": "low"}),
    )
    .await;

    // The proceedings run in parallel and gate nothing in assistance (from version 4 the
    // prosecutor records them).
    let case = c
        .ok(
            &prosecutor,
            "bring_charges",
            json!({"victim_informed_of_proceedings": true}),
        )
        .await;
    assert_eq!(track_state(&case, "proceedings"), Some("prosecution"));
    assert_eq!(track_state(&case, "long_term"), Some("support_plan_active"));

    // Five months later: the permit expires within 30 days (warning), the plan review is overdue.
    s.clock.advance(Duration::days(160));
    let view = c.view().await;
    assert_eq!(deadline(&view, "residence_permit"), "DUE_SOON");
    assert_eq!(case_timer(&view, "residence_permit")["status"], "RUNNING");
    assert_eq!(deadline(&view, "support_plan_review"), "OVERDUE");
    c.ok(worker, "review_support_plan", json!({"risk_level": "low"}))
        .await;
    assert_eq!(deadline(&c.view().await, "support_plan_review"), "PENDING");
    let renewed = date_in(&s, 365);
    let renewal = if version < 4 {
        json!({"permit_months": 12, "permit_expiry": renewed})
    } else {
        json!({"permit_issued": date_in(&s, 0), "permit_expiry": renewed})
    };
    let renewer = if version < 4 { supervisor } else { &migration };
    c.ok(renewer, "renew_residence_permit", renewal).await;
    let view = c.view().await;
    assert_eq!(deadline(&view, "residence_permit"), "PENDING");
    assert_eq!(
        instant(&case_timer(&view, "residence_permit")["dueAt"]),
        midnight(&renewed)
    );

    // Inclusion closes long-term assistance; the proceedings go on to judgment.
    let case = c
        .ok(
            worker,
            "record_inclusion",
            json!({"inclusion_achieved": true}),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("inclusion_achieved"));
    assert_eq!(case["status"], "ACTIVE");
    c.ok(&prosecutor, "open_trial", json!({})).await;
    c.ok(
        &prosecutor,
        "record_judgment",
        judgment(&s, version, "not_claimed"),
    )
    .await;
    let view = c.view().await;
    assert_eq!(deadline(&view, "compensation_claim"), "PENDING");
    // From version 4 the year runs from the day the judgment became final.
    let from = if version < 4 {
        s.app.now()
    } else {
        midnight(&date_in(&s, 0))
    };
    // Version 5 counts the year in calendar months (one year across a leap day is 366 days).
    let year_on = if version < 5 {
        from + Duration::days(365)
    } else {
        from.checked_add_months(chrono::Months::new(12)).unwrap()
    };
    assert_eq!(
        instant(&case_timer(&view, "compensation_claim")["dueAt"]),
        year_on
    );
    assert_eq!(
        c.unmet(
            worker,
            "conclude_without_compensation",
            json!({"informed_of_compensation_rights": false})
        )
        .await,
        ["informed_of_compensation_rights"]
    );
    let case = c
        .ok(
            worker,
            "conclude_without_compensation",
            json!({"informed_of_compensation_rights": true}),
        )
        .await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_concluded")
    );
    assert_eq!(deadline(&c.view().await, "compensation_claim"), "MET");
    s.stop().await;
}

/// Scenario 4: a Bulgarian woman in Austria returns while the proceedings are pending.
async fn scenario_4_bulgarian_woman_in_austria_returns_while_proceedings_continue(version: u32) {
    let s = TestServer::start().await;
    let worker = "at.shelter";
    let mut c = open(&s, worker, version).await;
    reach_crisis_intervention(&mut c, worker, "medium").await;
    c.ok(
        worker,
        "decide_to_cooperate",
        json!({"legal_counselling_given": true}),
    )
    .await;
    // From version 4 the Austrian prosecutor records the proceedings itself.
    let prosecutor = decider(&mut c, version, worker, "at.prosecutor").await;
    c.ok(
        &prosecutor,
        "bring_charges",
        json!({"victim_informed_of_proceedings": true}),
    )
    .await;
    c.ok(&prosecutor, "open_trial", json!({})).await;

    // Informed decision: the return is the person's own request.
    assert_eq!(
        c.unmet(
            worker,
            "move_to_return",
            json!({"return_requested_by_person": false})
        )
        .await,
        ["person_asks_to_return"]
    );
    let case = c
        .ok(
            worker,
            "move_to_return",
            json!({"return_requested_by_person": true}),
        )
        .await;
    assert_eq!(track_state(&case, "return_home"), Some("informed_decision"));
    assert_eq!(
        c.unmet(
            worker,
            "record_return_decision",
            json!({"informed_of_return_options": false, "return_voluntary": true})
        )
        .await,
        ["informed_of_options"]
    );
    c.ok(
        worker,
        "record_return_decision",
        json!({"informed_of_return_options": true, "return_voluntary": true}),
    )
    .await;

    // Joint risk assessment with the Bulgarian side before contacting its focal point.
    assert_eq!(
        c.unmet(worker, "contact_origin_focal_point", json!({}))
            .await,
        ["joint_assessment_done"]
    );
    c.ok(
        worker,
        "record_joint_risk_assessment",
        json!({"return_risk_level": "medium", "joint_assessment_with_origin": true}),
    )
    .await;
    let case = c.ok(worker, "contact_origin_focal_point", json!({})).await;
    assert_eq!(track_state(&case, "return_home"), Some("origin_contacted"));
    // The origin country's answer is due within a configurable service level (escalated to the
    // focal point when overdue).
    assert_eq!(deadline(&c.view().await, "origin_response"), "PENDING");

    // The transfer step is never fired directly: it fires when the origin agency accepts a
    // transfer of lead, so the transfer record and the workflow cannot disagree.
    c.fails(
        worker,
        "record_case_transfer",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    // The return guard: proceedings are active, so the prosecutor must be notified and testimony
    // arrangements recorded before the case can be offered to the Bulgarian agency.
    let origin = "bg.shelter";
    let groups = ["IDENTITY", "LEGAL_STATUS"];
    s.consent_for(worker, &c.id, origin, &groups).await;
    c.sync().await;
    let body = s
        .offer_transfer(
            worker,
            &c.id,
            origin,
            &groups,
            json!({"nationality_verified": true}),
        )
        .await;
    assert_eq!(error_code(&body), "GUARD_FAILED", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["unmetGuards"][0]["name"],
        "proceedings_arrangements"
    );
    c.sync().await;
    let case = c
        .transfer_to(
            worker,
            origin,
            json!({"nationality_verified": true, "prosecutor_notified_of_return": true, "testimony_arrangement": "video_link"}),
        )
        .await;
    assert_eq!(
        track_state(&case, "return_home"),
        Some("travel_preparation")
    );
    assert_eq!(deadline(&c.view().await, "origin_response"), "MET");
    // From here on the Bulgarian agency leads the case (up to version 3 it also records the
    // Austrian proceedings; from version 4 the Austrian prosecutor goes on recording them, once
    // the new lead involves it: the former lead's referral no longer does).
    let worker = origin;
    let prosecutor = if version < 4 {
        worker.to_string()
    } else {
        let (code, _) = c
            .refused(
                &prosecutor,
                "record_testimony_from_abroad",
                json!({"testimony_given_from_abroad": true}),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "involved by the former lead only");
        decider(&mut c, version, worker, &prosecutor).await
    };

    // Travel and reception.
    assert_eq!(
        c.unmet(worker, "depart", json!({"travel_documents_issued": false}))
            .await,
        ["travel_documents_issued"]
    );
    c.ok(
        worker,
        "depart",
        json!({"travel_documents_issued": true, "escort_arranged": true}),
    )
    .await;
    assert_eq!(deadline(&c.view().await, "arrival_confirmation"), "PENDING");
    let case = c
        .ok(
            worker,
            "confirm_reception",
            json!({"received_on_arrival": true, "safe_accommodation": true, "medical_check": true}),
        )
        .await;
    assert_eq!(
        track_state(&case, "return_home"),
        Some("reintegration_planning")
    );
    let view = c.view().await;
    assert_eq!(deadline(&view, "arrival_confirmation"), "MET");
    // Reintegration plan within a month of return [IOM-R]: warned a week before.
    let plan = case_timer(&view, "reintegration_plan");
    assert_eq!(instant(&plan["dueAt"]), s.app.now() + Duration::days(30));
    assert!(plan["citation"].as_str().unwrap().contains("IOM"));
    assert_eq!(deadline(&view, "reintegration_plan"), "PENDING");
    s.clock.advance(Duration::days(25));
    assert_eq!(deadline(&c.view().await, "reintegration_plan"), "DUE_SOON");
    c.ok(
        worker,
        "adopt_reintegration_plan",
        json!({"reintegration_plan_adopted": true}),
    )
    .await;
    assert_eq!(deadline(&c.view().await, "reintegration_plan"), "MET");

    // Monitoring with feedback from the origin agency; then the return is closed.
    c.ok(worker, "start_monitoring", json!({})).await;
    assert_eq!(
        deadline(&c.view().await, "post_return_follow_up"),
        "PENDING"
    );
    assert_eq!(
        c.unmet(worker, "close_return", json!({})).await,
        ["follow_up_feedback"]
    );
    c.ok(
        worker,
        "record_follow_up",
        json!({"follow_up_feedback_received": true}),
    )
    .await;
    let case = c.ok(worker, "close_return", json!({})).await;
    assert_eq!(track_state(&case, "return_home"), Some("return_closed"));
    // ... while the proceedings continue, with her testimony from abroad.
    assert_eq!(track_state(&case, "proceedings"), Some("trial"));
    assert_eq!(case["status"], "ACTIVE");
    let case = c
        .ok(
            &prosecutor,
            "record_testimony_from_abroad",
            json!({"testimony_given_from_abroad": true}),
        )
        .await;
    assert_eq!(track_state(&case, "proceedings"), Some("trial"));
    c.ok(
        &prosecutor,
        "record_judgment",
        judgment(&s, version, "refused"),
    )
    .await;
    if version < 4 {
        c.ok(
            worker,
            "file_compensation_claim",
            json!({"compensation_route": "state_compensation"}),
        )
        .await;
    } else {
        // The court awarded none: state compensation, within a year of the final act.
        c.ok(worker, "claim_state_compensation", json!({})).await;
    }
    assert_eq!(deadline(&c.view().await, "compensation_claim"), "MET");
    let case = c
        .ok(
            worker,
            "record_compensation_decision",
            json!({"compensation_awarded": true}),
        )
        .await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_concluded")
    );
    s.stop().await;
}

/// Scenario 6: a Moroccan man in France; the joint pre-return risk assessment is high.
async fn scenario_6_moroccan_man_in_france_high_return_risk_stays_with_long_term_assistance(
    version: u32,
) {
    let s = TestServer::start().await;
    let worker = "fr.shelter";
    let mut c = open(&s, worker, version).await;
    c.ok(
        worker,
        "start_screening",
        json!({"signal_source": "front_line_indicators"}),
    )
    .await;
    c.ok(worker, "record_presumed_victim", presumed()).await;
    c.ok(
        worker,
        "record_assessment",
        json!({"risk_level": "high", "immediate_needs_assessed": true}),
    )
    .await;
    // At high risk, a secure shelter.
    assert_eq!(
        c.unmet(
            worker,
            "adopt_safety_plan",
            json!({"safety_plan_adopted": true, "secure_shelter": false})
        )
        .await,
        ["high_risk_needs_secure_shelter"]
    );
    c.ok(
        worker,
        "adopt_safety_plan",
        json!({"safety_plan_adopted": true, "secure_shelter": true}),
    )
    .await;
    // He declines to cooperate: assistance continues regardless [EU-36 Art. 11(3)].
    let case = c
        .ok(
            worker,
            "record_cooperation_decision",
            json!({"legal_counselling_given": true, "cooperation_decision": "declines"}),
        )
        .await;
    assert_eq!(
        track_state(&case, "assistance"),
        Some("crisis_intervention")
    );
    assert_eq!(track_state(&case, "proceedings"), None);

    // He asks to return; the joint pre-return risk assessment with Morocco is high.
    c.ok(
        worker,
        "move_to_return",
        json!({"return_requested_by_person": true}),
    )
    .await;
    c.ok(
        worker,
        "record_return_decision",
        json!({"informed_of_return_options": true, "return_voluntary": true}),
    )
    .await;
    c.ok(
        worker,
        "record_joint_risk_assessment",
        json!({"return_risk_level": "high", "joint_assessment_with_origin": true, "risk_mitigation_recorded": false}),
    )
    .await;
    assert_eq!(
        c.unmet(worker, "contact_origin_focal_point", json!({}))
            .await,
        ["risk_acceptable"]
    );
    // Return refused: long-term assistance instead.
    let case = c
        .ok(
            worker,
            "decide_return_not_safe",
            json!({"return_alternative": "stay"}),
        )
        .await;
    assert_eq!(track_state(&case, "return_home"), Some("return_not_safe"));
    assert_eq!(track_state(&case, "long_term"), Some("permit_application"));
    // A permit for his personal situation (the 6-month minimum is for cooperation permits),
    // from version 4 granted by the prefecture itself.
    let expiry = date_in(&s, 365);
    let prefecture = decider(&mut c, version, worker, "fr.migration").await;
    c.ok(
        &prefecture,
        "grant_residence_permit",
        permit(&s, version, "personal_situation", 12, &expiry),
    )
    .await;
    let case = c
        .ok(
            worker,
            "adopt_support_plan",
            json!({"support_plan_adopted": true, "risk_level": "high"}),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("support_plan_active"));
    assert_eq!(case["status"], "ACTIVE");
    s.stop().await;
}

/// SOP 1: without consent only an anonymous notification; the case can re-enter or be closed.
async fn refusing_referral_notifies_anonymously_and_the_case_can_re_enter_or_close(version: u32) {
    let s = TestServer::start().await;
    let worker = "it.shelter.supervisor";
    let mut c = open(&s, worker, version).await;
    c.ok(
        worker,
        "start_screening",
        json!({"signal_source": "self_report"}),
    )
    .await;
    let no_consent = json!({"indicators_found": true, "consent_to_referral": false});
    let case = c.ok(worker, "refuse_referral", no_consent.clone()).await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("anonymous_notification")
    );
    assert_eq!(
        track_state(&case, "assistance"),
        None,
        "no assistance, no transfer"
    );
    assert!(!has_timer(&c.view().await, "reflection_period"));
    assert_eq!(
        c.unmet(
            worker,
            "re_enter_after_notification",
            json!({"new_consent": false})
        )
        .await,
        ["new_consent"]
    );
    let case = c
        .ok(
            worker,
            "re_enter_after_notification",
            json!({"new_consent": true}),
        )
        .await;
    assert_eq!(track_state(&case, "identification"), Some("screening"));
    c.ok(worker, "refuse_referral", no_consent).await;
    // The case cannot be closed while identification is open.
    assert_eq!(
        c.unmet(worker, "close_case", json!({})).await,
        ["identification_finished"]
    );
    let case = c.ok(worker, "close_notification", json!({})).await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("identification_closed")
    );
    assert_eq!(case["status"], "ACTIVE", "the person track is still open");
    let case = c.ok(worker, "close_case", json!({})).await;
    assert_eq!(track_state(&case, "person"), Some("case_closed"));
    assert_eq!(case["status"], "CLOSED");

    // Referred elsewhere (e.g. general services), then closed.
    let mut other = open(&s, worker, version).await;
    other
        .ok(
            worker,
            "start_screening",
            json!({"signal_source": "hotline"}),
        )
        .await;
    let case = other
        .ok(
            worker,
            "refer_elsewhere",
            json!({"reclassification": "general_services"}),
        )
        .await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("referred_elsewhere")
    );
    let case = other.ok(worker, "close_case", json!({})).await;
    assert_eq!(case["status"], "CLOSED");
    s.stop().await;
}

/// SOP 1: a negative decision is reasoned and told; reconsideration needs new evidence.
async fn not_identified_can_be_reconsidered_on_new_evidence_and_closing_ends_assistance(
    version: u32,
) {
    let s = TestServer::start().await;
    // The French national coordination (focal point and competent authority).
    let focal = "fr.focal";
    let mut c = open(&s, focal, version).await;
    c.ok(
        focal,
        "start_screening",
        json!({"signal_source": "agency_referral"}),
    )
    .await;
    c.ok(focal, "record_presumed_victim", presumed()).await;
    let negative = |informed: bool| {
        json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators",
               "person_informed_of_decision": informed})
    };
    assert_eq!(
        c.unmet(focal, "decide_not_identified", negative(false))
            .await,
        ["person_informed"]
    );
    let case = c.ok(focal, "decide_not_identified", negative(true)).await;
    assert_eq!(track_state(&case, "identification"), Some("not_identified"));
    assert_eq!(
        track_state(&case, "assistance"),
        Some("needs_assessment"),
        "benefit of the doubt: assistance goes on until the case is closed"
    );
    let case = if version < 4 {
        assert_eq!(
            c.unmet(
                focal,
                "reconsider",
                json!({"reconsideration_requested_by": "support_provider", "new_evidence": false})
            )
            .await,
            ["new_evidence"]
        );
        c.ok(
            focal,
            "reconsider",
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": true}),
        )
        .await
    } else {
        // From version 4 the support provider asks itself (the shelter the coordination
        // referred her to), and the competent authority decides.
        let (code, _) = c
            .refused(
                focal,
                "request_reconsideration",
                json!({"new_evidence": true}),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "the coordination is no support provider");
        c.s.refer_for(focal, &c.id, "fr.shelter", "SHELTER", &["IDENTITY"])
            .await;
        c.sync().await;
        assert_eq!(
            c.unmet(
                "fr.shelter",
                "request_reconsideration",
                json!({"new_evidence": false})
            )
            .await,
            ["new_evidence"]
        );
        c.ok(
            "fr.shelter",
            "request_reconsideration",
            json!({"new_evidence": true}),
        )
        .await;
        c.ok(focal, "reconsider", json!({"evidence_reviewed": true}))
            .await
    };
    assert_eq!(
        track_state(&case, "identification"),
        Some("presumed_victim")
    );
    // Formal identification needs a risk assessment.
    assert_eq!(
        c.unmet(
            focal,
            "identify_formally",
            json!({"evidence_reviewed": true})
        )
        .await,
        ["risk_assessed"]
    );
    c.ok(focal, "decide_not_identified", negative(true)).await;
    let case = c.ok(focal, "close_not_identified", json!({})).await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("identification_closed")
    );
    assert_eq!(track_state(&case, "assistance"), Some("assistance_ended"));
    assert_eq!(
        case_timer(&c.view().await, "reflection_period")["status"],
        "STOPPED"
    );
    // From version 4 closing also ends the shelter's referral.
    let then: &[&str] = if version < 4 { &[] } else { &["REFERRAL"] };
    let case = c.ok_then(focal, "close_case", json!({}), then).await;
    assert_eq!(case["status"], "CLOSED");
    s.stop().await;
}

/// SOP 2: only the migration authority may end the reflection period early (public order), and
/// only then may a removal be enforced.
async fn the_migration_authority_can_end_the_reflection_period_on_public_order_grounds(
    version: u32,
) {
    let s = TestServer::start().await;
    // Elsewhere (an NGO lead) the early end is not permitted at all.
    let mut ngo = open(&s, "it.shelter.supervisor", version).await;
    reach_crisis_intervention(&mut ngo, "it.shelter.supervisor", "low").await;
    let body = ngo
        .fails(
            "it.shelter.supervisor",
            "terminate_reflection_period",
            json!({"reflection_termination_ground": "public_order"}),
            "FORBIDDEN",
        )
        .await;
    assert!(body.to_string().contains("MIGRATION_AUTHORITY"), "{body}");

    let officer = "it.migration";
    let mut c = open(&s, officer, version).await;
    reach_crisis_intervention(&mut c, officer, "low").await;
    s.clock.advance(Duration::days(3));
    assert_eq!(
        c.unmet(
            officer,
            "enforce_removal",
            json!({"removal_ground": "public_order"})
        )
        .await,
        ["floor:reflection_period"]
    );
    c.ok(
        officer,
        "terminate_reflection_period",
        json!({"reflection_termination_ground": "public_order"}),
    )
    .await;
    assert_eq!(
        case_timer(&c.view().await, "reflection_period")["status"],
        "STOPPED"
    );
    assert_eq!(
        c.unmet(
            officer,
            "terminate_reflection_period",
            json!({"reflection_termination_ground": "public_order"})
        )
        .await,
        ["reflection_running"]
    );
    let case = c
        .ok(
            officer,
            "enforce_removal",
            json!({"removal_ground": "public_order"}),
        )
        .await;
    assert_eq!(track_state(&case, "assistance"), Some("removed"));
    s.stop().await;
}

/// [BG-NRM] In Bulgaria the reflection period starts at formal identification (by the
/// prosecutor), not at reasonable grounds: data, not code.
async fn in_bulgaria_the_reflection_period_starts_at_formal_identification(version: u32) {
    let s = TestServer::start().await;
    for (prosecutor, country) in [("bg.prosecutor", "BG"), ("it.prosecutor", "IT")] {
        let mut c = open(&s, prosecutor, version).await;
        c.ok(
            prosecutor,
            "start_screening",
            json!({"signal_source": "agency_referral"}),
        )
        .await;
        let mut grounds = presumed();
        grounds["risk_level"] = json!("medium");
        c.ok(prosecutor, "record_presumed_victim", grounds).await;
        let at_grounds = s.app.now();
        let view = c.view().await;
        assert_eq!(
            has_timer(&view, "reflection_period"),
            country == "IT",
            "{country}: reflection at reasonable grounds"
        );
        s.clock.advance(Duration::days(4));
        let case = c
            .ok(
                prosecutor,
                "identify_formally",
                json!({"evidence_reviewed": true}),
            )
            .await;
        assert_eq!(
            track_state(&case, "identification"),
            Some("formally_identified")
        );
        let reflection = case_timer(&c.view().await, "reflection_period").clone();
        let started = if country == "BG" {
            at_grounds + Duration::days(4)
        } else {
            at_grounds
        };
        assert_eq!(instant(&reflection["startedAt"]), started, "{country}");
        assert_eq!(
            instant(&reflection["dueAt"]),
            started + Duration::days(30),
            "{country}"
        );
        // Day 32 after grounds, day 28 after identification: still no removal in Bulgaria; in
        // Italy the period has run out.
        s.clock.advance(Duration::days(28));
        let removal = json!({"removal_ground": "no_right_of_residence"});
        // From version 4 the migration authority enforces a removal, not the prosecutor.
        let migration = if country == "BG" {
            "bg.migration"
        } else {
            "it.migration"
        };
        let authority = decider(&mut c, version, prosecutor, migration).await;
        if country == "BG" {
            assert_eq!(
                c.unmet(&authority, "enforce_removal", removal).await,
                ["floor:reflection_period"]
            );
        } else {
            let case = c.ok(&authority, "enforce_removal", removal).await;
            assert_eq!(track_state(&case, "assistance"), Some("removed"));
        }
    }
    s.stop().await;
}

/// [BG-NRM] No contact with the authorities of the country of origin once the person has applied
/// for asylum; no removal either while it is pending. Consent withdrawn stops a transfer.
async fn an_asylum_application_blocks_contact_with_the_origin_country(version: u32) {
    let s = TestServer::start().await;
    let worker = "it.shelter";
    let supervisor = "it.shelter.supervisor";
    let mut c = open(&s, worker, version).await;
    reach_crisis_intervention(&mut c, worker, "low").await;
    // From version 5 the migration authority records the outcome of the application itself.
    let asylum = decider_from_5(&mut c, version, worker, "it.migration").await;
    if version >= 5 {
        let (code, _) = c
            .refused(
                worker,
                "record_asylum_outcome",
                json!({"asylum_outcome": "withdrawn"}),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "the shelter does not decide on asylum");
    }
    assert_eq!(
        c.unmet(
            &asylum,
            "record_asylum_outcome",
            json!({"asylum_outcome": "withdrawn"})
        )
        .await,
        ["asylum_applied"]
    );
    c.ok(worker, "record_asylum_application", json!({})).await;
    assert_eq!(c.view().await["facts"]["asylum_applied"], true);
    // After the reflection period, still no removal while asylum is pending.
    s.clock.advance(Duration::days(31));
    // (From version 5 the migration authority is involved already.)
    let migration = if version >= 5 {
        asylum.clone()
    } else {
        decider(&mut c, version, supervisor, "it.migration").await
    };
    assert_eq!(
        c.unmet(
            &migration,
            "enforce_removal",
            json!({"removal_ground": "no_right_of_residence"})
        )
        .await,
        ["no_removal_of_asylum_seeker"]
    );
    // She asks to return: the joint assessment with an origin NGO partner is fine, the origin
    // focal point (an authority) may not be contacted.
    c.ok(
        worker,
        "move_to_return",
        json!({"return_requested_by_person": true}),
    )
    .await;
    c.ok(
        worker,
        "record_return_decision",
        json!({"informed_of_return_options": true, "return_voluntary": true}),
    )
    .await;
    c.ok(
        worker,
        "record_joint_risk_assessment",
        json!({"return_risk_level": "low", "joint_assessment_with_origin": true}),
    )
    .await;
    assert_eq!(
        c.unmet(worker, "contact_origin_focal_point", json!({}))
            .await,
        ["no_origin_contact_for_asylum_seekers"]
    );
    // She withdraws the application: contact is possible again.
    c.ok(
        &asylum,
        "record_asylum_outcome",
        json!({"asylum_outcome": "withdrawn"}),
    )
    .await;
    c.ok(worker, "contact_origin_focal_point", json!({})).await;
    // She withdraws her consent: the transfer stops.
    // From version 4 the withdrawal also suspends the referral to the migration authority.
    let then: &[&str] = if version < 4 {
        &[]
    } else {
        &["CONSENT_WITHDRAWN", "REFERRAL"]
    };
    let case = c.ok_then(worker, "withdraw_consent", json!({}), then).await;
    assert_eq!(track_state(&case, "person"), Some("consent_withdrawn"));
    let body = s
        .offer_transfer(worker, &c.id, "ng.shelter", &["IDENTITY"], json!({}))
        .await;
    assert_eq!(error_code(&body), "GUARD_FAILED", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["unmetGuards"][0]["name"],
        "consent_not_withdrawn"
    );
    let case = c.ok(worker, "renew_consent", json!({})).await;
    assert_eq!(track_state(&case, "person"), Some("present"));
    assert_eq!(c.view().await["facts"]["consent_withdrawn"], false);
    // Then the origin stays silent: the return is cancelled and she stays.
    let case = c
        .ok(
            worker,
            "cancel_return",
            json!({"return_cancel_reason": "origin_silent"}),
        )
        .await;
    assert_eq!(track_state(&case, "return_home"), Some("return_cancelled"));
    assert_eq!(track_state(&case, "long_term"), Some("permit_application"));
    s.stop().await;
}

/// Absconded or missing: the case is suspended and the reflection period paused; found again, it
/// resumes where it was. After the search period the case of a missing person can be closed.
async fn a_missing_person_suspends_the_case_and_resumes_where_it_was_when_found(version: u32) {
    let s = TestServer::start().await;
    let worker = "it.shelter";
    let supervisor = "it.shelter.supervisor";
    let mut c = open(&s, worker, version).await;
    c.ok(
        worker,
        "start_screening",
        json!({"signal_source": "self_report"}),
    )
    .await;
    c.ok(worker, "record_presumed_victim", presumed()).await;
    let due = instant(&case_timer(&c.view().await, "reflection_period")["dueAt"]);

    s.clock.advance(Duration::days(10));
    let case = c
        .ok(
            worker,
            "report_missing",
            json!({"missing_circumstance": "absconded", "police_alerted": true}),
        )
        .await;
    assert_eq!(track_state(&case, "person"), Some("missing"));
    assert_eq!(
        case_timer(&c.view().await, "reflection_period")["status"],
        "PAUSED"
    );
    // No other track moves while she is missing.
    assert_eq!(
        c.unmet(
            worker,
            "record_assessment",
            json!({"risk_level": "high", "immediate_needs_assessed": true})
        )
        .await,
        ["case_suspended"]
    );
    s.clock.advance(Duration::days(5));
    let case = c.ok(worker, "found", json!({})).await;
    assert_eq!(track_state(&case, "person"), Some("present"));
    assert_eq!(
        track_state(&case, "identification"),
        Some("presumed_victim")
    );
    assert_eq!(track_state(&case, "assistance"), Some("needs_assessment"));
    let view = c.view().await;
    let reflection = case_timer(&view, "reflection_period");
    assert_eq!(reflection["status"], "RUNNING");
    assert_eq!(
        instant(&reflection["dueAt"]),
        due + Duration::days(5),
        "five days missing add five days"
    );
    assert_eq!(
        case_timer(&view, "missing_before_closure")["status"],
        "STOPPED"
    );
    c.ok(
        worker,
        "record_assessment",
        json!({"risk_level": "high", "immediate_needs_assessed": true}),
    )
    .await;

    // Missing again, this time for good.
    c.ok(
        worker,
        "report_missing",
        json!({"missing_circumstance": "disappeared", "police_alerted": true}),
    )
    .await;
    s.clock.advance(Duration::days(89));
    assert_eq!(
        c.unmet(supervisor, "close_while_missing", json!({})).await,
        ["floor:missing_before_closure"]
    );
    s.clock.advance(Duration::days(1));
    let case = c.ok(supervisor, "close_while_missing", json!({})).await;
    assert_eq!(track_state(&case, "person"), Some("lost_contact"));
    assert_eq!(track_state(&case, "assistance"), Some("assistance_ended"));
    assert_eq!(case["status"], "ACTIVE", "identification is still open");
    let case = c
        .ok(worker, "close_identification_after_person_event", json!({}))
        .await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("identification_closed")
    );
    assert_eq!(case["status"], "CLOSED");
    s.stop().await;
}

/// Re-trafficked: recorded with the country where she was found (a new, linked identification
/// case is opened there); protection measures and non-punishment are recorded on the person.
async fn re_trafficking_ends_assistance_and_points_to_a_new_linked_case(version: u32) {
    let s = TestServer::start().await;
    let worker = "it.shelter";
    let mut c = open(&s, worker, version).await;
    reach_crisis_intervention(&mut c, worker, "high").await;
    // Identification can only be closed this way after such an event.
    assert_eq!(
        c.unmet(worker, "close_identification_after_person_event", json!({}))
            .await,
        ["person_event"]
    );
    // From version 5 the prosecutor records the protection measure and non-punishment.
    let prosecutor = decider_from_5(&mut c, version, worker, "it.prosecutor").await;
    if version >= 5 {
        let (code, _) = c
            .refused(
                worker,
                "order_protection_measure",
                json!({"protection_measure": "relocation"}),
            )
            .await;
        assert_eq!(code, "FORBIDDEN", "the shelter does not order protection");
        let (code, _) = c.refused(worker, "invoke_non_punishment", json!({})).await;
        assert_eq!(code, "FORBIDDEN", "nor decide on non-punishment");
    }
    c.ok(
        &prosecutor,
        "order_protection_measure",
        json!({"protection_measure": "relocation"}),
    )
    .await;
    c.ok(&prosecutor, "invoke_non_punishment", json!({})).await;
    let facts = c.view().await["facts"].clone();
    assert_eq!(facts["protection_measure"], "relocation");
    assert_eq!(facts["non_punishment_invoked"], true);
    // Found again in France: up to version 4 the new case's reference is typed beside the step;
    // from version 5 the step takes none, and the French case is linked to this one, checked.
    let found = if version < 5 {
        json!({"re_trafficked_in_country": "FR", "linked_case_reference": "FR-2026-000042"})
    } else {
        json!({"re_trafficked_in_country": "FR"})
    };
    if version >= 5 {
        let body = c
            .fails(
                worker,
                "record_re_trafficked",
                json!({"re_trafficked_in_country": "FR", "linked_case_reference": "FR-2026-000042"}),
                "VALIDATION",
            )
            .await;
        assert!(body.to_string().contains("linked_case_reference"), "{body}");
    }
    let case = c.ok(worker, "record_re_trafficked", found).await;
    assert_eq!(track_state(&case, "person"), Some("re_trafficked"));
    assert_eq!(track_state(&case, "assistance"), Some("assistance_ended"));
    assert_eq!(
        case_timer(&c.view().await, "reflection_period")["status"],
        "STOPPED"
    );
    // From version 5 closing the case also ends the prosecutor's live referral.
    let then: &[&str] = if version < 5 { &[] } else { &["REFERRAL"] };
    let case = c
        .ok_then(
            worker,
            "close_identification_after_person_event",
            json!({}),
            then,
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    if version >= 5 {
        let (french, _) = s.open_workflow("fr.shelter", WORKFLOW, None).await;
        let reference = c.reference.clone();
        let body = s
            .gql(
                "fr.shelter",
                "mutation($input: LinkSamePersonInput!) { linkSamePerson(input: $input) {
                    link { reference earlierReference } } }",
                json!({"input": {"caseId": french, "earlierReference": reference}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(
            body["data"]["linkSamePerson"]["link"]["earlierReference"],
            reference
        );
    }
    s.stop().await;
}

/// Deceased: other tracks end; the proceedings against the traffickers are closed by whoever
/// records them, and then the case is closed.
async fn a_death_ends_the_assistance_tracks_and_the_case_closes_when_proceedings_end(version: u32) {
    let s = TestServer::start().await;
    let prosecutor = "it.prosecutor";
    let mut c = open(&s, prosecutor, version).await;
    reach_crisis_intervention(&mut c, prosecutor, "medium").await;
    c.ok(
        prosecutor,
        "identify_formally",
        json!({"evidence_reviewed": true}),
    )
    .await;
    c.ok(
        prosecutor,
        "decide_to_cooperate",
        json!({"legal_counselling_given": true}),
    )
    .await;
    assert_eq!(
        c.unmet(
            prosecutor,
            "decide_to_cooperate",
            json!({"legal_counselling_given": true})
        )
        .await,
        ["proceedings_not_open"]
    );
    assert_eq!(
        c.unmet(
            prosecutor,
            "record_death",
            json!({"death_confirmed": false})
        )
        .await,
        ["death_confirmed"]
    );
    let case = c
        .ok(prosecutor, "record_death", json!({"death_confirmed": true}))
        .await;
    assert_eq!(track_state(&case, "person"), Some("deceased"));
    assert_eq!(track_state(&case, "assistance"), Some("assistance_ended"));
    assert_eq!(
        track_state(&case, "identification"),
        Some("formally_identified"),
        "her status is kept"
    );
    assert_eq!(track_state(&case, "proceedings"), Some("investigation"));
    assert_eq!(case["status"], "ACTIVE");
    let case = c
        .ok(
            prosecutor,
            "terminate_proceedings",
            json!({"termination_reason": "perpetrator_not_found"}),
        )
        .await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_terminated")
    );
    assert_eq!(case["status"], "CLOSED");
    s.stop().await;
}

/// Consent withdrawn: she refuses assistance; the case can only close when identification ends.
async fn consent_withdrawn_and_assistance_refused(version: u32) {
    let s = TestServer::start().await;
    let supervisor = "it.shelter.supervisor";
    let worker = "it.shelter";
    let mut c = open(&s, worker, version).await;
    c.ok(
        worker,
        "start_screening",
        json!({"signal_source": "self_report"}),
    )
    .await;
    c.ok(worker, "record_presumed_victim", presumed()).await;
    c.ok(worker, "withdraw_consent", json!({})).await;
    let case = c.ok(worker, "refuse_assistance", json!({})).await;
    assert_eq!(track_state(&case, "assistance"), Some("assistance_refused"));
    assert_eq!(track_state(&case, "person"), Some("consent_withdrawn"));
    assert_eq!(
        c.unmet(supervisor, "close_case", json!({})).await,
        ["identification_finished"]
    );
    // Case workers do not close cases.
    c.fails(worker, "close_case", json!({}), "FORBIDDEN").await;
    s.stop().await;
}

/// SOP 3 exits: a refused or expired permit leads to the return track (with its mandatory joint
/// risk assessment); a cancelled return restarts long-term assistance; it can end early.
async fn a_refused_or_expired_permit_leads_to_return_and_long_term_assistance_can_end(
    version: u32,
) {
    let s = TestServer::start().await;
    let worker = "fr.shelter";
    let mut c = open(&s, worker, version).await;
    reach_crisis_intervention(&mut c, worker, "low").await;
    s.clock.advance(Duration::days(30));
    c.ok(worker, "move_to_long_term_assistance", json!({}))
        .await;
    let prefecture = decider(&mut c, version, worker, "fr.migration").await;
    let case = c
        .ok(&prefecture, "refuse_residence_permit", json!({}))
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("return_required"));
    assert_eq!(track_state(&case, "return_home"), Some("informed_decision"));
    let case = c
        .ok(
            worker,
            "cancel_return",
            json!({"return_cancel_reason": "person_changed_mind"}),
        )
        .await;
    assert_eq!(track_state(&case, "return_home"), Some("return_cancelled"));
    assert_eq!(track_state(&case, "long_term"), Some("permit_application"));

    let expiry = date_in(&s, 200);
    c.ok(
        &prefecture,
        "grant_residence_permit",
        permit(&s, version, "personal_situation", 6, &expiry),
    )
    .await;
    c.ok(
        worker,
        "adopt_support_plan",
        json!({"support_plan_adopted": true, "risk_level": "low"}),
    )
    .await;
    assert_eq!(
        c.unmet(worker, "record_permit_expired", json!({})).await,
        ["permit_expired"]
    );
    s.clock.advance(Duration::days(201));
    assert_eq!(deadline(&c.view().await, "residence_permit"), "OVERDUE");
    let case = c.ok(worker, "record_permit_expired", json!({})).await;
    assert_eq!(track_state(&case, "long_term"), Some("return_required"));
    assert_eq!(track_state(&case, "return_home"), Some("informed_decision"));
    c.ok(
        worker,
        "cancel_return",
        json!({"return_cancel_reason": "consent_withdrawn"}),
    )
    .await;
    let case = c
        .ok(
            worker,
            "end_long_term_assistance",
            json!({"long_term_end_reason": "left_the_country"}),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("long_term_ended"));
    // Only identification (no competent authority at this lead) keeps the case open.
    assert_eq!(
        c.unmet(worker, "close_case", json!({})).await,
        ["identification_finished"]
    );
    s.stop().await;
}

/// SOP 4 from long-term assistance: she decides to return; on arrival nobody receives her, the
/// focal points are alerted and the return is closed as untraced.
async fn a_return_from_long_term_assistance_not_received_on_arrival_is_alerted_and_closed(
    version: u32,
) {
    let s = TestServer::start().await;
    let worker = "fr.shelter";
    let mut c = open(&s, worker, version).await;
    reach_crisis_intervention(&mut c, worker, "low").await;
    s.clock.advance(Duration::days(31));
    c.ok(worker, "move_to_long_term_assistance", json!({}))
        .await;
    let expiry = date_in(&s, 365);
    let prefecture = decider(&mut c, version, worker, "fr.migration").await;
    c.ok(
        &prefecture,
        "grant_residence_permit",
        permit(&s, version, "personal_situation", 12, &expiry),
    )
    .await;
    c.ok(
        worker,
        "adopt_support_plan",
        json!({"support_plan_adopted": true, "risk_level": "low"}),
    )
    .await;
    assert_eq!(
        c.unmet(
            worker,
            "decide_to_return",
            json!({"return_requested_by_person": false, "risk_level": "low"})
        )
        .await,
        ["person_asks_to_return"]
    );
    let case = c
        .ok(
            worker,
            "decide_to_return",
            json!({"return_requested_by_person": true, "risk_level": "low"}),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("return_chosen"));
    assert_eq!(track_state(&case, "return_home"), Some("informed_decision"));
    assert_eq!(
        case_timer(&c.view().await, "residence_permit")["status"],
        "STOPPED"
    );
    c.ok(
        worker,
        "record_return_decision",
        json!({"informed_of_return_options": true, "return_voluntary": true}),
    )
    .await;
    c.ok(
        worker,
        "record_joint_risk_assessment",
        json!({"return_risk_level": "high", "joint_assessment_with_origin": true, "risk_mitigation_recorded": true}),
    )
    .await;
    // High risk with mitigation recorded; no proceedings: no prosecutor needed.
    c.ok(worker, "contact_origin_focal_point", json!({})).await;
    // Morocco's focal point accepts the transfer and leads the return from now on.
    c.transfer_to(worker, "ma.focal", json!({})).await;
    let worker = "ma.focal";
    c.ok(worker, "depart", json!({"travel_documents_issued": true}))
        .await;
    s.clock.advance(Duration::days(3));
    assert_eq!(deadline(&c.view().await, "arrival_confirmation"), "OVERDUE");
    assert_eq!(
        c.unmet(
            worker,
            "confirm_reception",
            json!({"received_on_arrival": false})
        )
        .await,
        ["received_on_arrival"]
    );
    // Version 2 has the worker record that she alerted the focal points; from version 3 the
    // service alerts them itself (tests/api/escalation.rs) and records it.
    let case = if version >= 3 {
        c.ok_alerting(worker, "report_not_received", json!({}))
            .await
    } else {
        c.ok(
            worker,
            "report_not_received",
            json!({"arrival_alert_sent": true}),
        )
        .await
    };
    assert_eq!(track_state(&case, "return_home"), Some("not_received"));
    let case = c.ok(worker, "close_untraced_return", json!({})).await;
    assert_eq!(track_state(&case, "return_home"), Some("return_closed"));
    s.stop().await;
}

// Each story is played on every version of the procedure that can still hold a case: the latest,
// for new cases, and the earlier one, for the cases pinned to it.
on_versions! {
    v2 => 2,
    v3 => 3,
    v4 => 4,
    v5 => 5;
    scenario_2_nigerian_woman_in_italy_cooperates_on_day_20_and_stays_with_a_permit,
    scenario_4_bulgarian_woman_in_austria_returns_while_proceedings_continue,
    scenario_6_moroccan_man_in_france_high_return_risk_stays_with_long_term_assistance,
    refusing_referral_notifies_anonymously_and_the_case_can_re_enter_or_close,
    not_identified_can_be_reconsidered_on_new_evidence_and_closing_ends_assistance,
    the_migration_authority_can_end_the_reflection_period_on_public_order_grounds,
    in_bulgaria_the_reflection_period_starts_at_formal_identification,
    an_asylum_application_blocks_contact_with_the_origin_country,
    a_missing_person_suspends_the_case_and_resumes_where_it_was_when_found,
    re_trafficking_ends_assistance_and_points_to_a_new_linked_case,
    a_death_ends_the_assistance_tracks_and_the_case_closes_when_proceedings_end,
    consent_withdrawn_and_assistance_refused,
    a_refused_or_expired_permit_leads_to_return_and_long_term_assistance_can_end,
    a_return_from_long_term_assistance_not_received_on_arrival_is_alerted_and_closed,
}
