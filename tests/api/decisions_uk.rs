//! The UK National Referral Mechanism, version 2 (`workflows/trm-uk-nrm.v2.toml`): the Single
//! Competent Authority takes its decisions in its own name on a case a first responder leads and
//! involved it in (a referral for a decision); a reconsideration of a negative decision is
//! requested by the first responder or the support provider itself, in its own name, and refused
//! to anyone else; cases opened under version 1 keep it and can be migrated.

use crate::driver::CaseDriver;
use crate::harness::{TestServer, case_timer, error_code, track_state};
use chrono::Duration;
use serde_json::{Value, json};

const NRM: &str = "trm-uk-nrm";
/// The Single Competent Authority (a national focal point; COMPETENT_AUTHORITY and FOCAL_POINT).
const SCA: &str = "gb.competent";
/// A police first responder (CASE_WORKER).
const POLICE: &str = "gb.police";
/// A support provider (an NGO; CASE_WORKER and SUPERVISOR).
const SUPPORT: &str = "gb.support";
/// A user of the SCA without the COMPETENT_AUTHORITY role, created by [`sca_case_worker`].
const SCA_CLERK: &str = "gb.competent.clerk";

fn adult_referral() -> Value {
    json!({"exploitation_type": "sexual", "is_child": false, "indicators_found": true,
           "informed_of_nrm": true, "consent_to_referral": true})
}

fn negative() -> Value {
    json!({"evidence_reviewed": true, "negative_reason": "insufficient_information",
           "person_informed_of_decision": true})
}

/// The keys of the transitions `user` is offered on the case, sorted.
async fn offered(s: &TestServer, user: &str, case_id: &str) -> Vec<String> {
    let data = s
        .data(
            user,
            "query($id: ID!) { case(id: $id) { availableTransitions { key } } }",
            json!({"id": case_id}),
        )
        .await;
    let mut keys: Vec<String> = data["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect();
    keys.sort_unstable();
    keys
}

/// The last event of the case as the lead's `user` sees it: transition, agency, user, data.
async fn last_event(s: &TestServer, user: &str, case_id: &str) -> Value {
    let data = s
        .data(
            user,
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node {
                transition toState data agency { name kind } actor { username } } } } } }",
            json!({"id": case_id}),
        )
        .await;
    let edges = data["case"]["history"]["edges"].as_array().unwrap();
    edges[edges.len() - 1]["node"].clone()
}

/// Whether `user`'s inbox holds a notice of kind `kind`.
async fn has_notice(s: &TestServer, user: &str, kind: &str) -> bool {
    let data = s
        .data(
            user,
            "{ inbox(first: 50) { edges { node { kind } } } }",
            json!({}),
        )
        .await;
    data["inbox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["node"]["kind"] == kind)
}

/// Adds a case worker to the SCA's agency (no COMPETENT_AUTHORITY role) and gives the test a
/// token for it.
async fn sca_case_worker(s: &mut TestServer) {
    let agency = s.agency_id(SCA).await;
    let body = s
        .gql(
            "admin",
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            json!({"input": {"username": SCA_CLERK, "displayName": "Demo Case Worker (UK SCA)",
                "agencyId": agency, "roles": ["CASE_WORKER"]}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "createUser: {body}");
    let token = trm::service::auth::issue_token(&s.app, SCA_CLERK)
        .await
        .unwrap();
    s.tokens.insert(SCA_CLERK.to_string(), token);
}

/// A police first responder leads the case and refers it to the SCA for a decision; the SCA
/// decides negative reasonable grounds in its own name; the police asks for a reconsideration
/// with new evidence; the SCA reconsiders and decides positive, then, after the recovery period,
/// the conclusive grounds.
#[tokio::test]
async fn the_sca_decides_and_reconsiders_at_the_request_of_the_police_who_lead_the_case() {
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, POLICE, NRM, None).await;
    // New cases open under the latest version.
    let opened = c
        .query("query($id: ID!) { case(id: $id) { workflow { version } } }")
        .await;
    assert_eq!(opened["workflow"]["version"], 2);
    c.ok(POLICE, "refer_to_nrm", adult_referral()).await;

    // The police is no competent authority; the SCA does not take part yet: it does not see it.
    let body = c
        .fails(POLICE, "decide_rg_negative", negative(), "FORBIDDEN")
        .await;
    assert!(body.to_string().contains("COMPETENT_AUTHORITY"), "{body}");
    c.fails(SCA, "decide_rg_negative", negative(), "NOT_FOUND")
        .await;

    // The police refers the case to the SCA for a decision.
    s.involve(POLICE, &c.id, SCA, &["IDENTITY", "EXPLOITATION_NARRATIVE"])
        .await;
    c.sync().await;
    // The SCA is offered its decisions, and only those.
    assert_eq!(
        offered(&s, SCA, &c.id).await,
        ["decide_rg_negative", "decide_rg_positive"]
    );
    // A stale version is a conflict, as for the lead.
    let stale = s
        .fire(SCA, &c.id, "decide_rg_negative", c.version - 1, negative())
        .await;
    assert_eq!(error_code(&stale), "VERSION_CONFLICT");
    let mut untold = negative();
    untold["person_informed_of_decision"] = json!(false);
    assert_eq!(
        c.unmet(SCA, "decide_rg_negative", untold).await,
        ["person_informed"]
    );

    // The decision, in the SCA's name; a retry with the same key does not record it twice.
    let input = json!({"caseId": c.id, "transition": "decide_rg_negative",
        "expectedVersion": c.version, "data": negative(), "idempotencyKey": "sca-rg-1"});
    let first = s.fire_input(SCA, input.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(
        first["data"]["fireTransition"]["event"]["agency"]["name"],
        "Demo Single Competent Authority (UK)"
    );
    let again = s.fire_input(SCA, input).await;
    assert_eq!(again["data"]["fireTransition"]["replayed"], true, "{again}");
    assert_eq!(
        again["data"]["fireTransition"]["event"]["id"],
        first["data"]["fireTransition"]["event"]["id"]
    );
    c.sync().await;
    let view = c.view().await;
    assert_eq!(track_state(&view, "identification"), Some("rg_negative"));
    assert_eq!(case_timer(&view, "rg_decision")["status"], "STOPPED");
    let event = last_event(&s, POLICE, &c.id).await;
    assert_eq!(event["transition"], "decide_rg_negative");
    assert_eq!(event["agency"]["kind"], "NATIONAL_FOCAL_POINT");
    assert_eq!(event["actor"]["username"], SCA);
    assert!(has_notice(&s, POLICE, "DECISION_RECORDED").await);

    // The SCA does not ask itself for a reconsideration; the police asks, on new evidence only.
    let body = c
        .fails(
            SCA,
            "request_rg_reconsideration",
            json!({"new_evidence": true}),
            "FORBIDDEN",
        )
        .await;
    assert!(body.to_string().contains("POLICE"), "{body}");
    assert_eq!(
        c.unmet(
            POLICE,
            "request_rg_reconsideration",
            json!({"new_evidence": false})
        )
        .await,
        ["new_evidence"]
    );
    let requested = c
        .ok(
            POLICE,
            "request_rg_reconsideration",
            json!({"new_evidence": true}),
        )
        .await;
    assert_eq!(
        track_state(&requested, "identification"),
        Some("rg_reconsideration")
    );
    // Who asked is the event's user and agency, with the new evidence; no fact names them.
    let event = last_event(&s, POLICE, &c.id).await;
    assert_eq!(event["actor"]["username"], POLICE);
    assert_eq!(event["agency"]["kind"], "POLICE");
    assert_eq!(event["data"], json!({"new_evidence": true}));
    // The police may not decide its own request.
    c.fails(
        POLICE,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
        "FORBIDDEN",
    )
    .await;

    // The SCA reconsiders: positive reasonable grounds, support and the recovery period start.
    assert_eq!(
        offered(&s, SCA, &c.id).await,
        ["decide_rg_negative", "decide_rg_positive"]
    );
    let positive = c
        .ok(
            SCA,
            "decide_rg_positive",
            json!({"evidence_reviewed": true}),
        )
        .await;
    assert_eq!(
        track_state(&positive, "identification"),
        Some("rg_positive")
    );
    assert_eq!(track_state(&positive, "support"), Some("recovery_support"));
    assert_eq!(
        case_timer(&c.view().await, "recovery_period")["status"],
        "RUNNING"
    );

    // The conclusive-grounds decision, by the SCA too, not before the recovery period ends.
    let cg = json!({"evidence_reviewed": true, "person_informed_of_decision": true});
    assert_eq!(
        c.unmet(SCA, "decide_cg_positive", cg.clone()).await,
        ["floor:recovery_period"]
    );
    s.clock.advance(Duration::days(30));
    c.sync().await;
    let recognised = c.ok(SCA, "decide_cg_positive", cg).await;
    assert_eq!(
        track_state(&recognised, "identification"),
        Some("cg_positive")
    );
    let event = last_event(&s, POLICE, &c.id).await;
    assert_eq!(event["actor"]["username"], SCA);
    // Move-on support is the lead's.
    c.ok(POLICE, "begin_move_on", json!({})).await;
    s.stop().await;
}

/// On a case the police leads, the support provider the police referred the person to asks for
/// the reconsideration of a negative conclusive-grounds decision; the SCA upholds it. Everyone
/// else is refused: the SCA itself, an agency outside the case, an involved agency of a kind the
/// workflow does not name, the SCA's users without the competent authority's role, and the SCA
/// once its referral is revoked.
#[tokio::test]
async fn requests_and_decisions_are_refused_to_anyone_but_their_bodies() {
    let mut s = TestServer::start().await;
    sca_case_worker(&mut s).await;
    let mut c = CaseDriver::open(&s, POLICE, NRM, Some(2)).await;
    c.ok(POLICE, "refer_to_nrm", adult_referral()).await;
    let decision = s.involve(POLICE, &c.id, SCA, &["IDENTITY"]).await;
    s.refer_for(POLICE, &c.id, SUPPORT, "SHELTER", &["IDENTITY"])
        .await;
    // A focal point of another country the police asked to help (it takes part in the case, but
    // holds no competent authority's role and is no first responder).
    s.refer_for(POLICE, &c.id, "ro.focal", "OTHER", &["IDENTITY"])
        .await;
    c.sync().await;

    // Deciding: an agency outside the case does not see it; the support provider and the focal
    // point the police involved may not decide; nor may the SCA's own case worker.
    for (user, code) in [
        ("it.prosecutor", "NOT_FOUND"),
        ("at.police", "NOT_FOUND"),
        (SUPPORT, "FORBIDDEN"),
        ("ro.focal", "FORBIDDEN"),
        (SCA_CLERK, "FORBIDDEN"),
    ] {
        let body = c
            .fails(
                user,
                "decide_rg_positive",
                json!({"evidence_reviewed": true}),
                code,
            )
            .await;
        assert_eq!(error_code(&body), code, "{user}: {body}");
    }
    let body = c
        .fails(
            SCA_CLERK,
            "decide_rg_positive",
            json!({"evidence_reviewed": true}),
            "FORBIDDEN",
        )
        .await;
    assert!(body.to_string().contains("COMPETENT_AUTHORITY"), "{body}");
    // The SCA's case worker is offered nothing its role may not do; the support provider only
    // what its kind may (nothing yet, there is no negative decision).
    assert!(offered(&s, SCA_CLERK, &c.id).await.is_empty());
    assert!(offered(&s, SUPPORT, &c.id).await.is_empty());

    c.ok(
        SCA,
        "decide_rg_positive",
        json!({"evidence_reviewed": true}),
    )
    .await;
    s.clock.advance(Duration::days(30));
    c.sync().await;
    let cg = c.ok(SCA, "decide_cg_negative", negative()).await;
    assert_eq!(track_state(&cg, "identification"), Some("cg_negative"));

    // Requesting: not the SCA (as agency or through its case worker), not a focal point, not
    // an agency outside the case.
    let request = json!({"new_evidence": true});
    for (user, code) in [
        (SCA, "FORBIDDEN"),
        (SCA_CLERK, "FORBIDDEN"),
        ("ro.focal", "FORBIDDEN"),
        ("it.shelter", "NOT_FOUND"),
    ] {
        c.fails(user, "request_cg_reconsideration", request.clone(), code)
            .await;
    }
    assert_eq!(
        offered(&s, SUPPORT, &c.id).await,
        ["request_cg_reconsideration"]
    );
    let requested = c.ok(SUPPORT, "request_cg_reconsideration", request).await;
    assert_eq!(
        track_state(&requested, "identification"),
        Some("cg_reconsideration")
    );
    let event = last_event(&s, POLICE, &c.id).await;
    assert_eq!(event["actor"]["username"], SUPPORT);
    assert_eq!(event["agency"]["kind"], "NGO");
    assert!(has_notice(&s, POLICE, "DECISION_RECORDED").await);
    // The support provider may not decide its own request.
    c.fails(
        SUPPORT,
        "decide_cg_positive",
        json!({"evidence_reviewed": true}),
        "FORBIDDEN",
    )
    .await;

    // The SCA upholds the negative decision: support for 9 more working days.
    let upheld = c.ok(SCA, "decide_cg_negative", negative()).await;
    assert_eq!(track_state(&upheld, "identification"), Some("cg_negative"));
    assert_eq!(
        case_timer(&c.view().await, "move_on_negative")["status"],
        "RUNNING"
    );

    // Once the police revokes its referral for a decision, the SCA decides nothing more.
    let revoked = s
        .gql(
            POLICE,
            "mutation($input: ReferralReasonInput!) { revokeReferral(input: $input) { referral { status } } }",
            json!({"input": {"referralId": decision, "reason": "decision taken"}}),
        )
        .await;
    assert!(revoked.get("errors").is_none(), "{revoked}");
    c.sync().await;
    c.ok(
        SUPPORT,
        "request_cg_reconsideration",
        json!({"new_evidence": true}),
    )
    .await;
    c.fails(
        SCA,
        "decide_cg_positive",
        json!({"evidence_reviewed": true}),
        "FORBIDDEN",
    )
    .await;
    assert!(offered(&s, SCA, &c.id).await.is_empty());
    s.stop().await;
}

/// The SCA may uphold a negative reasonable-grounds decision on reconsideration (the person told
/// again, with reasons); the first responder may ask again on further evidence, and while that
/// request is pending the person may still leave the NRM.
#[tokio::test]
async fn an_upheld_decision_can_be_reconsidered_again_and_the_person_may_leave_meanwhile() {
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, POLICE, NRM, Some(2)).await;
    c.ok(POLICE, "refer_to_nrm", adult_referral()).await;
    s.involve(POLICE, &c.id, SCA, &["IDENTITY"]).await;
    c.sync().await;
    c.ok(SCA, "decide_rg_negative", negative()).await;
    c.ok(
        POLICE,
        "request_rg_reconsideration",
        json!({"new_evidence": true}),
    )
    .await;
    let mut untold = negative();
    untold["person_informed_of_decision"] = json!(false);
    assert_eq!(
        c.unmet(SCA, "decide_rg_negative", untold).await,
        ["person_informed"]
    );
    let upheld = c.ok(SCA, "decide_rg_negative", negative()).await;
    assert_eq!(track_state(&upheld, "identification"), Some("rg_negative"));
    assert_eq!(track_state(&upheld, "support"), None);
    c.ok(
        POLICE,
        "request_rg_reconsideration",
        json!({"new_evidence": true}),
    )
    .await;
    // Closing as not identified waits for the SCA's answer.
    c.fails(
        POLICE,
        "close_not_identified",
        json!({}),
        "INVALID_TRANSITION",
    )
    .await;
    // Closing the case ends the SCA's referral with it.
    let left = c
        .ok_then(
            POLICE,
            "withdraw_from_nrm",
            json!({"exit_reason": "left_the_uk"}),
            &["REFERRAL"],
        )
        .await;
    assert_eq!(track_state(&left, "identification"), Some("withdrawn"));
    assert_eq!(left["status"], "CLOSED");
    s.stop().await;
}

/// A case opened under version 1, with a reconsideration its lead recorded there (the
/// requester named in a fact), moves to version 2 without a state map; from then on the
/// version 2 rules hold on it.
#[tokio::test]
async fn a_running_version_1_case_migrates_to_version_2() {
    let s = TestServer::start().await;
    let mut c = CaseDriver::open(&s, SCA, NRM, Some(1)).await;
    c.ok(SCA, "refer_to_nrm", adult_referral()).await;
    c.ok(SCA, "decide_rg_negative", negative()).await;
    c.ok(
        SCA,
        "request_rg_reconsideration",
        json!({"reconsideration_requested_by": "first_responder", "new_evidence": true}),
    )
    .await;
    let migrate = "mutation($i: MigrateCaseInput!) { migrateCase(input: $i) {
        case { version workflow { version } states { track state } }
        event { kind } } }";
    let data = s
        .data(
            SCA,
            migrate,
            json!({"i": {"caseId": c.id, "toVersion": 2, "expectedVersion": c.version,
                "reason": "decisions and requests recorded by the bodies that make them (NRM v2)"}}),
        )
        .await;
    let m = &data["migrateCase"];
    assert_eq!(m["event"]["kind"], "WORKFLOW_MIGRATED");
    assert_eq!(m["case"]["workflow"]["version"], 2);
    assert_eq!(
        track_state(&m["case"], "identification"),
        Some("awaiting_rg")
    );
    c.sync().await;
    // The fact recorded under version 1 stays in the case's record.
    let view = c.view().await;
    assert_eq!(
        view["facts"]["reconsideration_requested_by"],
        "first_responder"
    );
    // Under version 2 the SCA decides, but the request is the first responder's.
    c.ok(SCA, "decide_rg_negative", negative()).await;
    c.fails(
        SCA,
        "request_rg_reconsideration",
        json!({"new_evidence": true}),
        "FORBIDDEN",
    )
    .await;
    s.refer_for(SCA, &c.id, POLICE, "OTHER", &["IDENTITY"])
        .await;
    c.sync().await;
    let requested = c
        .ok(
            POLICE,
            "request_rg_reconsideration",
            json!({"new_evidence": true}),
        )
        .await;
    assert_eq!(
        track_state(&requested, "identification"),
        Some("rg_reconsideration")
    );
    let positive = c
        .ok(
            SCA,
            "decide_rg_positive",
            json!({"evidence_reviewed": true}),
        )
        .await;
    assert_eq!(track_state(&positive, "support"), Some("recovery_support"));
    s.stop().await;
}
