//! Nothing declared is decorative: a deadline that names `escalate_to` tells the agencies that
//! hold those roles when it lapses, exactly once, with one `DEADLINE_ESCALATED` event; a return
//! deadline reaches the focal points of both ends of the return, never an asylum seeker's origin
//! authorities; a child not received on arrival starts the missing-child protocol on the route
//! and at both ends of the return.
//!
//! A little over 400 lines: the last two tests drive a real child case and a real adult case to
//! their return, step by step, from tables of steps.

use crate::driver::CaseDriver;
use crate::harness::{TestServer, steps_to_origin_contact};
use chrono::Duration;
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/escalation")
}

const LEAD: &str = "it.shelter";

/// The kinds of the notifications about `case` in `user`'s agency's inbox, oldest first.
async fn inbox(s: &TestServer, user: &str, case: &str) -> Vec<String> {
    let data = s
        .data(
            user,
            "{ inbox(first: 100) { edges { node { kind case { id } } } } }",
            json!({}),
        )
        .await;
    let mut kinds: Vec<String> = data["inbox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["case"]["id"] == case)
        .map(|e| e["node"]["kind"].as_str().unwrap().to_string())
        .collect();
    kinds.reverse();
    kinds
}

/// The case's events as its lead sees them: (kind, details).
async fn history(s: &TestServer, id: &str) -> Vec<(String, Value)> {
    let data = s
        .data(
            LEAD,
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node { kind details } } } } }",
            json!({"id": id}),
        )
        .await;
    data["case"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["kind"].as_str().unwrap().to_string(),
                e["node"]["details"].clone(),
            )
        })
        .collect()
}

/// The details of the case's `DEADLINE_ESCALATED` events.
async fn escalations(s: &TestServer, id: &str) -> Vec<Value> {
    history(s, id)
        .await
        .into_iter()
        .filter(|(kind, _)| kind == "DEADLINE_ESCALATED")
        .map(|(_, details)| details)
        .collect()
}

/// The database id of `user`'s agency (event details carry database ids).
async fn agency_uuid(s: &TestServer, user: &str) -> String {
    let id = s.agency_id(user).await;
    trm::api::ids::decode_uuid(&id, "Agency")
        .unwrap()
        .to_string()
}

async fn open(s: &TestServer, origin: &str) -> String {
    let data = s
        .data(
            LEAD,
            "mutation($o: String) { openCase(input: {workflowId: \"escalation\", originCountry: $o}) { case { id } } }",
            json!({"o": origin}),
        )
        .await;
    data["openCase"]["case"]["id"].as_str().unwrap().to_string()
}

async fn fire(s: &TestServer, id: &str, transition: &str, data: Value) {
    let version = s.version_and_history(LEAD, id).await.0;
    let body = s.fire(LEAD, id, transition, version, data).await;
    assert!(body.get("errors").is_none(), "{transition}: {body}");
}

/// Moves the clock `days` on (the test clock's pass of the scheduler records what lapsed), then
/// runs the scheduler once more, which finds nothing left to do.
async fn lapse(s: &TestServer, days: u32) {
    let fired = s
        .data(
            LEAD,
            "mutation($d: Int!) { advanceTestClock(input: {days: $d}) { firedTimers } }",
            json!({"d": days}),
        )
        .await["advanceTestClock"]["firedTimers"]
        .as_u64()
        .unwrap();
    assert_eq!(fired, 1, "one deadline lapsed");
    let again = trm::service::timers::fire_due(&s.app).await.unwrap();
    assert_eq!(again, 0, "a second scheduler pass records nothing");
}

/// How `user` reads the case (`null` when it may not).
async fn access(s: &TestServer, user: &str, id: &str) -> Value {
    s.data(
        user,
        "query($id: ID!) { case(id: $id) { access states { state } } }",
        json!({"id": id}),
    )
    .await["case"]["access"]
        .clone()
}

#[tokio::test]
async fn a_lapsed_deadline_tells_the_holders_of_its_roles_once_with_one_event() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let id = open(&s, "NG").await;
    fire(&s, &id, "submit", json!({})).await;
    // A guardianship service takes part in the case: a referral to it is pending.
    let guardianship = s
        .data(
            "admin",
            "mutation { createAgency(input: {name: \"Demo Guardianship Service\", kind: GUARDIANSHIP, country: \"IT\"}) { agency { id } } }",
            json!({}),
        )
        .await["createAgency"]["agency"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = s.gql(LEAD,
        "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }",
        json!({"input": {"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"],
            "agencyIds": [guardianship], "dataGroups": ["IDENTITY"]}})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s.gql(LEAD,
        "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
        json!({"input": {"caseId": id, "toAgencyId": guardianship, "service": "OTHER",
            "purpose": "guardianship", "sharedGroups": ["IDENTITY"], "respondWithinDays": 30}})).await;
    assert!(body.get("errors").is_none(), "{body}");

    // Day 4: the 3-day answer lapses; the scheduler runs twice.
    lapse(&s, 4).await;
    let events = history(&s, &id).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        ["TIMER_ELAPSED", "DEADLINE_ESCALATED"],
        "the escalation is recorded with the lapse"
    );
    let escalated = escalations(&s, &id).await;
    assert_eq!(escalated.len(), 1, "one event: {escalated:?}");
    let guardianship_uuid = trm::api::ids::decode_uuid(&guardianship, "Agency")
        .unwrap()
        .to_string();
    assert_eq!(
        escalated[0],
        json!({
            "timer": "answer",
            "roles": ["CASE_WORKER", "SUPERVISOR", "GUARDIAN", "FOCAL_POINT"],
            "countries": ["IT"],
            "agencies": [agency_uuid(&s, LEAD).await, guardianship_uuid, agency_uuid(&s, "it.focal").await],
        }),
        "the lead once (case workers and supervisors), the guardianship service taking part, \
         Italy's focal point; not a return deadline, so not Nigeria's"
    );
    assert_eq!(inbox(&s, LEAD, &id).await, ["DEADLINE_LAPSED"]);
    assert_eq!(inbox(&s, "it.focal", &id).await, ["DEADLINE_LAPSED"]);
    assert!(inbox(&s, "ng.focal", &id).await.is_empty());
    assert_eq!(
        access(&s, "it.focal", &id).await,
        "PARTICIPANT",
        "the focal point sees the case's procedural state"
    );
    assert!(access(&s, "ng.focal", &id).await.is_null());

    // The return: a lapsed arrival deadline reaches the focal points of both ends.
    fire(&s, &id, "depart", json!({})).await;
    lapse(&s, 3).await;
    let escalated = escalations(&s, &id).await;
    assert_eq!(escalated.len(), 2);
    assert_eq!(escalated[1]["timer"], "arrival");
    assert_eq!(escalated[1]["countries"], json!(["IT", "NG"]));
    assert_eq!(
        escalated[1]["agencies"],
        json!([
            agency_uuid(&s, "it.focal").await,
            agency_uuid(&s, "ng.focal").await
        ])
    );
    assert_eq!(inbox(&s, LEAD, &id).await, ["DEADLINE_LAPSED"]);
    assert_eq!(
        inbox(&s, "it.focal", &id).await,
        ["DEADLINE_LAPSED", "DEADLINE_LAPSED"]
    );
    assert_eq!(inbox(&s, "ng.focal", &id).await, ["DEADLINE_LAPSED"]);
    assert_eq!(access(&s, "ng.focal", &id).await, "PARTICIPANT");
    s.stop().await;
}

#[tokio::test]
async fn a_return_deadline_never_reaches_the_origin_authorities_of_an_asylum_seeker() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let id = open(&s, "NG").await;
    fire(&s, &id, "apply_for_asylum", json!({"asylum_applied": true})).await;
    fire(&s, &id, "depart", json!({})).await;
    lapse(&s, 3).await;
    let escalated = escalations(&s, &id).await;
    assert_eq!(escalated.len(), 1);
    assert_eq!(
        escalated[0]["agencies"],
        json!([agency_uuid(&s, "it.focal").await]),
        "Italy's focal point only: Nigeria's is an authority of the asylum seeker's origin"
    );
    assert_eq!(inbox(&s, "it.focal", &id).await, ["DEADLINE_LAPSED"]);
    assert!(inbox(&s, "ng.focal", &id).await.is_empty());
    assert!(access(&s, "ng.focal", &id).await.is_null());
    s.stop().await;
}

/// Senegal's child protection leads; Mali's receives the child back.
const SN_CP: &str = "sn.childprotection";
const ML_CP: &str = "ml.childprotection";

#[tokio::test]
async fn a_child_not_received_on_arrival_starts_the_missing_child_protocol() {
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, SN_CP, "trm-child", None).await;
    // A Malian girl who came through Niger to Senegal.
    let body = s
        .gql(
            SN_CP,
            "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { id } } }",
            json!({"input": {"caseId": c.id, "country": "ML"}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s.gql(SN_CP, "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
        json!({"input": {"caseId": c.id, "country": "NE", "movedOn": "2026-01-10", "source": "SELF_REPORTED"}})).await;
    assert!(body.get("errors").is_none(), "{body}");
    c.sync().await;
    let to_return_preparation: &[(&str, Value)] = &[
        (
            "start_screening",
            json!({"signal_source": "front_line_indicators"}),
        ),
        (
            "record_presumed_child_victim",
            json!({"indicators_found": true, "child_protection_notified": true}),
        ),
        (
            "appoint_guardian",
            json!({"guardian_appointed_by": "court", "guardian_independent": true}),
        ),
        (
            "place_child",
            json!({"risk_level": "medium", "placement_type": "specialised_children_shelter"}),
        ),
        (
            "record_needs_assessment",
            json!({"needs_assessment_multidisciplinary": true}),
        ),
        (
            "adopt_action_plan",
            json!({"action_plan_owners_and_dates": true}),
        ),
        ("identify_child_victim", json!({"evidence_reviewed": true})),
        (
            "record_child_views",
            json!({"child_heard_for_bid": true, "child_views_on_return": "agrees", "child_views_on_transfer": "agrees"}),
        ),
        (
            "start_family_tracing",
            json!({"tracing_channel": "origin_child_protection", "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
        ),
        (
            "record_family_found",
            json!({"family_member_found": "both_parents"}),
        ),
        ("verify_family_link", json!({"family_link_verified": true})),
        (
            "record_family_assessment",
            json!({"family_involved_in_trafficking": false, "family_assessment_result": "positive"}),
        ),
        (
            "determine_best_interests",
            json!({"bid_outcome": "return_and_reunify", "bid_panel_multidisciplinary": true}),
        ),
        ("start_return_procedure", json!({})),
        (
            "record_caregiver_agreement",
            json!({"caregiver_agreed": true}),
        ),
        (
            "record_return_risk_assessment",
            json!({"joint_risk_assessment": true, "return_risk": "acceptable"}),
        ),
        (
            "arrange_escort",
            json!({"escort_arranged": true, "escort_by": "social_worker"}),
        ),
    ];
    for (transition, data) in to_return_preparation {
        c.ok(SN_CP, transition, data.clone()).await;
    }
    // Mali's child protection leads the return from now on.
    c.transfer_to(SN_CP, ML_CP, json!({})).await;
    c.ok(
        ML_CP,
        "record_reception_confirmed",
        json!({"receiving_agency_confirmed": true}),
    )
    .await;
    s.clock.advance(Duration::days(31));
    c.ok(ML_CP, "depart_accompanied_return", json!({})).await;

    // Nobody receives her: the police and the guardian are alerted, as the step records ...
    c.refused_by(
        ML_CP,
        "report_not_received",
        json!({"police_alerted": false, "guardian_alerted": true}),
        &["police_alerted"],
    )
    .await;
    c.ok_alerting(
        ML_CP,
        "report_not_received",
        json!({"police_alerted": true, "guardian_alerted": true}),
    )
    .await;
    // ... and the service alerts the focal points on her route and at both ends of the return.
    for focal in ["ne.focal", "sn.focal", "ml.focal"] {
        assert_eq!(
            inbox(&s, focal, &c.id).await,
            ["PERSON_NOT_RECEIVED"],
            "{focal}"
        );
        assert_eq!(access(&s, focal, &c.id).await, "PARTICIPANT", "{focal}");
    }
    assert!(
        inbox(&s, "ng.focal", &c.id).await.is_empty(),
        "Nigeria is neither on the route nor an end of the return"
    );
    let alert = s
        .data(
            ML_CP,
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node { kind details } } } } }",
            json!({"id": c.id}),
        )
        .await["case"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .rfind(|e| e["kind"] == "ROUTE_ALERTED")
        .unwrap();
    assert_eq!(alert["details"]["alert"], "not_received");
    assert_eq!(alert["details"]["countries"], json!(["ML", "NE", "SN"]));
    s.stop().await;
}

#[tokio::test]
async fn an_adult_not_received_on_arrival_alerts_the_focal_points_of_both_countries() {
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, LEAD, "trm-adult", None).await;
    let body = s
        .gql(
            LEAD,
            "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { id } } }",
            json!({"input": {"caseId": c.id, "country": "NG"}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s.gql(LEAD, "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
        json!({"input": {"caseId": c.id, "country": "NE", "movedOn": "2026-01-10", "source": "SELF_REPORTED"}})).await;
    assert!(body.get("errors").is_none(), "{body}");
    c.sync().await;
    let to_safety_plan: &[(&str, Value)] = &[
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
            json!({"risk_level": "low", "immediate_needs_assessed": true}),
        ),
        (
            "adopt_safety_plan",
            json!({"safety_plan_adopted": true, "secure_shelter": false}),
        ),
    ];
    for (transition, data) in to_safety_plan
        .iter()
        .cloned()
        .chain(steps_to_origin_contact())
    {
        c.ok(LEAD, transition, data).await;
    }
    // A shelter in Nigeria takes the case over and receives her travel.
    let origin = "ng.shelter";
    c.transfer_to(LEAD, origin, json!({})).await;
    c.ok(origin, "depart", json!({"travel_documents_issued": true}))
        .await;
    // Nobody receives her: the service alerts the focal points of both countries (she is an
    // adult: not those of the countries she came through).
    c.ok_alerting(origin, "report_not_received", json!({}))
        .await;
    assert_eq!(c.view().await["facts"]["arrival_alert_sent"], true);
    for focal in ["it.focal", "ng.focal"] {
        assert_eq!(
            inbox(&s, focal, &c.id).await,
            ["PERSON_NOT_RECEIVED"],
            "{focal}"
        );
    }
    assert!(inbox(&s, "ne.focal", &c.id).await.is_empty());
    s.stop().await;
}
