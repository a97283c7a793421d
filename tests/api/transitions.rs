//! Firing transitions: allowed, refused with unmet guards, and what the caller may do next.

use crate::harness::{TestServer, error_code, presumed_victim_data, to_crisis_intervention};
use chrono::Duration;
use serde_json::json;

#[tokio::test]
async fn an_allowed_transition_moves_the_case_and_records_who_did_it() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    let body = s
        .fire_input(
            "it.shelter",
            json!({"caseId": id, "transition": "start_screening", "expectedVersion": 1,
                   "reason": "Self-referral at the drop-in centre", "data": {"signal_source": "self_report"}}),
        )
        .await;
    let fired = &body["data"]["fireTransition"];
    assert_eq!(fired["replayed"], false);
    assert_eq!(fired["case"]["version"], 2);
    assert_eq!(fired["case"]["states"][0]["state"], "screening");
    let event = &fired["event"];
    assert_eq!(event["sequence"], 2);
    assert_eq!(event["transition"], "start_screening");
    assert_eq!(
        (event["fromState"].as_str(), event["toState"].as_str()),
        (Some("signal_received"), Some("screening"))
    );
    assert_eq!(event["reason"], "Self-referral at the drop-in centre");
    assert_eq!(event["data"], json!({"signal_source": "self_report"}));
    assert_eq!(event["actor"]["username"], "it.shelter");
    assert_eq!(event["agency"]["name"], "Demo Casa Rifugio (NGO shelter)");

    // Reasonable grounds start assistance as a parallel track, with the reflection period.
    let body = s
        .fire(
            "it.shelter",
            &id,
            "record_presumed_victim",
            2,
            presumed_victim_data(),
        )
        .await;
    let states = &body["data"]["fireTransition"]["case"]["states"];
    assert_eq!(
        states,
        &json!([
            {"track": "identification", "state": "presumed_victim", "stage": "IDENTIFICATION"},
            {"track": "assistance", "state": "needs_assessment", "stage": "FIRST_ASSISTANCE"}
        ])
    );
    let data = s
        .data("it.shelter", "query($id: ID!) { case(id: $id) { timers { timer kind status startedAt dueAt citation } } }", json!({"id": id}))
        .await;
    let timer = &data["case"]["timers"][0];
    assert_eq!(timer["timer"], "reflection_period");
    assert_eq!(timer["kind"], "FLOOR");
    assert_eq!(timer["status"], "RUNNING");
    assert!(timer["citation"].as_str().unwrap().contains("Art. 13"));
    s.stop().await;
}

#[tokio::test]
async fn a_refused_transition_lists_every_unmet_guard_and_changes_nothing() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    s.fire(
        "it.shelter",
        &id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    let before = s.version_and_history("it.shelter", &id).await;
    let body = s
        .fire(
            "it.shelter",
            &id,
            "record_presumed_victim",
            2,
            json!({"indicators_found": false, "informed_of_rights": false, "consent_to_referral": true}),
        )
        .await;
    assert_eq!(error_code(&body), "GUARD_FAILED");
    assert_eq!(body["data"], json!(null));
    let unmet = body["errors"][0]["extensions"]["unmetGuards"]
        .as_array()
        .unwrap();
    let names: Vec<_> = unmet.iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["indicators_found", "informed_of_rights"]);
    assert!(
        unmet
            .iter()
            .all(|u| !u["reason"].as_str().unwrap().is_empty()
                && !u["reasonFr"].as_str().unwrap().is_empty())
    );
    assert_eq!(s.version_and_history("it.shelter", &id).await, before);

    // Other refusals are typed too, and change nothing either.
    let cases = [
        (
            "identify_formally",
            json!({"evidence_reviewed": true}),
            "INVALID_TRANSITION",
        ),
        ("no_such_step", json!({}), "INVALID_TRANSITION"),
        (
            "record_presumed_victim",
            json!({"indicators_found": "yes"}),
            "VALIDATION",
        ),
        (
            "record_presumed_victim",
            json!({"full_name": "X"}),
            "VALIDATION",
        ),
    ];
    for (transition, data, code) in cases {
        let body = s.fire("it.shelter", &id, transition, 2, data).await;
        assert_eq!(error_code(&body), code, "{transition}: {body}");
    }
    let body = s
        .fire_input("it.shelter", json!({"caseId": id, "transition": "start_screening", "expectedVersion": 2, "data": [1, 2]}))
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    let body = s
        .fire(
            "it.shelter",
            "Q2FzZTpub3QtYS11dWlk",
            "start_screening",
            2,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    assert_eq!(s.version_and_history("it.shelter", &id).await, before);
    s.stop().await;
}

#[tokio::test]
async fn roles_agency_kinds_and_lead_agency_are_enforced() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.prosecutor").await;
    let version = to_crisis_intervention(&s, "it.prosecutor", &id).await;
    // The prosecutor's office leads the case; a case worker role alone cannot identify formally,
    // but the competent authority can.
    let body = s
        .fire(
            "it.prosecutor",
            &id,
            "terminate_reflection_period",
            version,
            json!({"reflection_termination_ground": "public_order"}),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "only a migration authority ends the reflection period"
    );
    let body = s
        .fire(
            "it.prosecutor",
            &id,
            "identify_formally",
            version,
            json!({"evidence_reviewed": true}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        body["data"]["fireTransition"]["case"]["states"][0]["state"],
        "formally_identified"
    );
    s.stop().await;
}

#[tokio::test]
async fn available_transitions_explain_what_the_caller_may_do() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    let version = to_crisis_intervention(&s, "it.shelter", &id).await;
    let query = "query($id: ID!) { case(id: $id) { availableTransitions { key track from to allowed unmetGuards { name reason } inputs { fact required type values } } } }";
    let data = s.data("it.shelter", query, json!({"id": id})).await;
    let list = data["case"]["availableTransitions"].as_array().unwrap();
    let get = |key: &str| {
        list.iter()
            .find(|t| t["key"] == key)
            .unwrap_or_else(|| panic!("{key} missing: {list:?}"))
    };
    assert_eq!(get("identify_formally")["allowed"], false);
    assert_eq!(get("identify_formally")["unmetGuards"][0]["name"], "role");
    assert_eq!(get("complete_first_assistance")["allowed"], false);
    assert_eq!(
        get("complete_first_assistance")["unmetGuards"][0]["name"],
        "reflection_period_over"
    );
    assert_eq!(get("record_cooperation_decision")["allowed"], true);
    assert_eq!(
        get("record_cooperation_decision")["inputs"][1]["values"],
        json!(["cooperates", "declines", "undecided"])
    );
    assert_eq!(get("refuse_assistance")["track"], "assistance");

    // In French.
    let data = s
        .data("it.shelter", "query($id: ID!) { case(id: $id) { availableTransitions(language: \"fr\") { key label unmetGuards { reason } } } }", json!({"id": id}))
        .await;
    let complete = data["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "complete_first_assistance")
        .unwrap()
        .clone();
    assert!(complete["label"].as_str().unwrap().starts_with("Achever"));
    assert!(
        complete["unmetGuards"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("délai de réflexion")
    );

    // Another agency's case worker with visibility (an auditor) is shown nothing as allowed.
    let data = s.data("auditor", query, json!({"id": id})).await;
    let list = data["case"]["availableTransitions"].as_array().unwrap();
    assert!(
        list.iter()
            .all(|t| t["allowed"] == false && t["unmetGuards"][0]["name"] == "lead_agency")
    );

    // After 30 days the reflection period has elapsed and first assistance can be completed.
    s.clock.advance(Duration::days(30));
    let data = s.data("it.shelter", query, json!({"id": id})).await;
    let list = data["case"]["availableTransitions"].as_array().unwrap();
    assert_eq!(
        list.iter()
            .find(|t| t["key"] == "complete_first_assistance")
            .unwrap()["allowed"],
        true
    );
    let body = s
        .fire(
            "it.shelter",
            &id,
            "complete_first_assistance",
            version,
            json!({"next_step": "return"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_case_closes_when_every_track_is_finished_and_then_nothing_leaves_it() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.prosecutor").await;
    let v = to_crisis_intervention(&s, "it.prosecutor", &id).await;
    let body = s
        .fire(
            "it.prosecutor",
            &id,
            "decide_not_identified",
            v,
            json!({"evidence_reviewed": true, "not_identified_reason": "other_crime", "person_informed_of_decision": true}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    // Closing needs a supervisor or focal point, which the prosecutor's user is not.
    let body = s
        .fire(
            "it.prosecutor",
            &id,
            "close_not_identified",
            v + 1,
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    s.stop().await;

    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter.supervisor").await;
    let body = s
        .fire(
            "it.shelter.supervisor",
            &id,
            "start_screening",
            1,
            json!({"signal_source": "hotline"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s
        .fire(
            "it.shelter.supervisor",
            &id,
            "refuse_referral",
            2,
            json!({"indicators_found": true, "consent_to_referral": false}),
        )
        .await;
    assert_eq!(
        body["data"]["fireTransition"]["case"]["states"][0]["state"],
        "anonymous_notification"
    );
    let body = s
        .fire(
            "it.shelter.supervisor",
            &id,
            "close_notification",
            3,
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["fireTransition"]["case"]["status"], "CLOSED");
    let data = s
        .data(
            "it.shelter.supervisor",
            "query($id: ID!) { case(id: $id) { availableTransitions { key } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data["case"]["availableTransitions"], json!([]));
    let body = s
        .fire(
            "it.shelter.supervisor",
            &id,
            "re_enter_after_notification",
            4,
            json!({"new_consent": true}),
        )
        .await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    let data = s
        .data(
            "it.shelter.supervisor",
            "{ cases(filter: {status: CLOSED}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["cases"]["edges"][0]["node"]["id"], id.as_str());
    s.stop().await;
}

#[tokio::test]
async fn the_remaining_paths_of_the_v1_procedure_play_through() {
    let s = TestServer::start().await;
    let ok = |body: serde_json::Value| {
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["fireTransition"]["case"].clone()
    };
    // Refused referral, then the person consents and re-enters screening.
    let (id, _) = s.open_case("it.shelter").await;
    ok(s.fire(
        "it.shelter",
        &id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await);
    ok(s.fire(
        "it.shelter",
        &id,
        "refuse_referral",
        2,
        json!({"indicators_found": true, "consent_to_referral": false}),
    )
    .await);
    let case = ok(s
        .fire(
            "it.shelter",
            &id,
            "re_enter_after_notification",
            3,
            json!({"new_consent": true}),
        )
        .await);
    assert_eq!(case["states"][0]["state"], "screening");

    // Negative decision, reconsideration on new evidence, negative again, closed.
    let (id, _) = s.open_case("it.prosecutor").await;
    let v = to_crisis_intervention(&s, "it.prosecutor", &id).await;
    let negative = json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators", "person_informed_of_decision": true});
    ok(s.fire(
        "it.prosecutor",
        &id,
        "decide_not_identified",
        v,
        negative.clone(),
    )
    .await);
    let body = s
        .fire(
            "it.prosecutor",
            &id,
            "reconsider",
            v + 1,
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": false}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["unmetGuards"][0]["name"],
        "new_evidence"
    );
    let case = ok(s
        .fire(
            "it.prosecutor",
            &id,
            "reconsider",
            v + 1,
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": true}),
        )
        .await);
    assert_eq!(case["states"][0]["state"], "presumed_victim");
    ok(s.fire(
        "it.prosecutor",
        &id,
        "decide_not_identified",
        v + 2,
        negative,
    )
    .await);
    s.stop().await;

    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter.supervisor").await;
    let v = to_crisis_intervention(&s, "it.shelter.supervisor", &id).await;
    // The person refuses assistance.
    ok(s.fire(
        "it.shelter.supervisor",
        &id,
        "refuse_assistance",
        v,
        json!({}),
    )
    .await);
    s.stop().await;

    // The migration authority ends the reflection period on public-order grounds, with the
    // cooperation decision recorded after legal counselling.
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.migration").await;
    let v = to_crisis_intervention(&s, "it.migration", &id).await;
    let body = s
        .fire(
            "it.migration",
            &id,
            "record_cooperation_decision",
            v,
            json!({"legal_counselling_given": false, "cooperation_decision": "declines"}),
        )
        .await;
    assert_eq!(error_code(&body), "GUARD_FAILED");
    ok(s.fire(
        "it.migration",
        &id,
        "record_cooperation_decision",
        v,
        json!({"legal_counselling_given": true, "cooperation_decision": "undecided"}),
    )
    .await);
    ok(s.fire(
        "it.migration",
        &id,
        "terminate_reflection_period",
        v + 1,
        json!({"reflection_termination_ground": "public_order"}),
    )
    .await);
    let data = s
        .data(
            "it.migration",
            "query($id: ID!) { case(id: $id) { timers { timer status } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(data["case"]["timers"][0]["status"], "STOPPED");
    let body = s
        .fire(
            "it.migration",
            &id,
            "terminate_reflection_period",
            v + 2,
            json!({"reflection_termination_ground": "public_order"}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["unmetGuards"][0]["name"],
        "reflection_running"
    );
    s.stop().await;

    // A supervisor closes a negative decision: assistance ends with it.
    let s = TestServer::start().await;
    let (id, _) = s.open_case("gb.competent").await;
    let steps = [
        (
            "start_screening",
            json!({"signal_source": "front_line_indicators"}),
        ),
        ("record_presumed_victim", presumed_victim_data()),
        (
            "decide_not_identified",
            json!({"evidence_reviewed": true, "not_identified_reason": "other_crime", "person_informed_of_decision": true}),
        ),
        ("close_not_identified", json!({})),
    ];
    let mut case = serde_json::Value::Null;
    for (v, (t, d)) in (1..).zip(steps) {
        case = ok(s.fire("gb.competent", &id, t, v, d).await);
    }
    assert_eq!(case["status"], "CLOSED");
    assert_eq!(case["states"][1]["state"], "assistance_ended");
    s.stop().await;
}
