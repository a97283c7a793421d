//! Every agency acts on a shared case in its own name (`workflows/trm-adult.v4.toml`,
//! `trm-child.v3.toml`): the decisions of other bodies are recorded by those bodies, on a case
//! their lead involved them in (a referral for a decision), under the same guards, policies,
//! version checks and idempotency as the lead's own steps; requests are lodged by those who make
//! them; and the lead sees the result.

use crate::driver::CaseDriver;
use crate::harness::{
    TestServer, case_timer, error_code, instant, to_crisis_intervention, track_state,
};
use chrono::Duration;
use serde_json::{Value, json};

pub(crate) const ADULT: &str = "trm-adult";

/// What an agency taking part in a case sees of it.
const PARTICIPANT_VIEW: &str = "query($id: ID!) { case(id: $id) {
    version access facts redactedFields
    states { track state }
    availableTransitions { key allowed unmetGuards { name reason } }
} }";

/// Takes a fresh adult case to crisis intervention as `user` of the lead.
pub(crate) async fn to_crisis(c: &mut CaseDriver<'_>, user: &str) {
    c.version = to_crisis_intervention(c.s, user, &c.id).await;
}

/// As the prosecutor the lead involved, charges, trial and the final judgment (on `final_on`),
/// with what it decided on compensation.
async fn to_judgment(
    c: &mut CaseDriver<'_>,
    prosecutor: &str,
    final_on: &str,
    compensation: &str,
) -> Value {
    c.ok(
        prosecutor,
        "bring_charges",
        json!({"victim_informed_of_proceedings": true}),
    )
    .await;
    c.ok(prosecutor, "open_trial", json!({})).await;
    c.ok(
        prosecutor,
        "record_judgment",
        json!({"judgment_outcome": "conviction", "judgment_final_on": final_on,
            "compensation_in_judgment": compensation}),
    )
    .await
}

/// The keys of the transitions `user` is offered on the case, and whether each is allowed.
pub(crate) async fn offered(s: &TestServer, user: &str, case_id: &str) -> Vec<(String, bool)> {
    let data = s.data(user, PARTICIPANT_VIEW, json!({"id": case_id})).await;
    data["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_string(),
                a["allowed"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The kinds of the notifications in `user`'s inbox.
pub(crate) async fn inbox_kinds(s: &TestServer, user: &str) -> Vec<String> {
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
        .map(|e| e["node"]["kind"].as_str().unwrap().to_string())
        .collect()
}

/// The last event of the case as `user` (the lead) sees it: transition, agency, user.
pub(crate) async fn last_event(s: &TestServer, user: &str, case_id: &str) -> Value {
    let data = s
        .data(
            user,
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node {
                transition agency { name kind } actor { username } } } } } }",
            json!({"id": case_id}),
        )
        .await;
    let edges = data["case"]["history"]["edges"].as_array().unwrap();
    edges[edges.len() - 1]["node"].clone()
}

/// On a case an NGO leads, the migration authority ends the reflection period itself once the
/// NGO involved it; before, and for anyone else, the step is refused and changes nothing.
#[tokio::test]
async fn the_migration_authority_ends_the_reflection_period_on_a_case_an_ngo_leads() {
    let s = TestServer::start().await;
    let lead = "it.shelter.supervisor";
    let authority = "it.migration";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(4)).await;
    to_crisis(&mut c, lead).await;
    let ground = json!({"reflection_termination_ground": "renewed_contact_with_perpetrators"});

    // The NGO is not the authority: refused by the workflow (agency kind), not only the policy.
    let body = c
        .fails(
            lead,
            "terminate_reflection_period",
            ground.clone(),
            "FORBIDDEN",
        )
        .await;
    assert!(body.to_string().contains("MIGRATION_AUTHORITY"), "{body}");
    // The authority does not take part in the case yet: it does not even see it.
    let body = c
        .fails(
            authority,
            "terminate_reflection_period",
            ground.clone(),
            "NOT_FOUND",
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");

    // The NGO involves it for a decision, sharing identity and legal status.
    let referral = s
        .involve(lead, &c.id, authority, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    c.sync().await;
    // It sees the steps given to its kind (and only those), not the case's facts.
    let seen = s
        .data(authority, PARTICIPANT_VIEW, json!({"id": c.id}))
        .await;
    assert_eq!(seen["case"]["access"], "PARTICIPANT");
    assert!(seen["case"]["facts"].is_null(), "{seen}");
    assert!(
        !seen["case"]["redactedFields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "availableTransitions"),
        "{seen}"
    );
    let offer = offered(&s, authority, &c.id).await;
    let mut keys: Vec<&str> = offer.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["enforce_removal", "terminate_reflection_period"]);
    // A removal is refused by the floor of the reflection period, with its reason.
    assert_eq!(
        c.unmet(
            authority,
            "enforce_removal",
            json!({"removal_ground": "public_order"})
        )
        .await,
        ["floor:reflection_period"]
    );
    // A stale version is a conflict, as for the lead.
    let stale = s
        .fire(
            authority,
            &c.id,
            "terminate_reflection_period",
            c.version - 1,
            ground.clone(),
        )
        .await;
    assert_eq!(error_code(&stale), "VERSION_CONFLICT");

    // The decision, in its own name; a retry with the same key does not record it twice.
    let input = json!({"caseId": c.id, "transition": "terminate_reflection_period",
        "expectedVersion": c.version, "data": ground, "idempotencyKey": "ma-end-reflection-1"});
    let first = s.fire_input(authority, input.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(
        first["data"]["fireTransition"]["event"]["agency"]["name"],
        "Demo Questura – Immigration Office"
    );
    let again = s.fire_input(authority, input).await;
    assert_eq!(again["data"]["fireTransition"]["replayed"], true, "{again}");
    assert_eq!(
        again["data"]["fireTransition"]["event"]["id"],
        first["data"]["fireTransition"]["event"]["id"]
    );
    c.sync().await;

    // The lead sees the result: the timer stopped, the event in the authority's name, a notice.
    let view = c.view().await;
    assert_eq!(case_timer(&view, "reflection_period")["status"], "STOPPED");
    let event = last_event(&s, lead, &c.id).await;
    assert_eq!(event["transition"], "terminate_reflection_period");
    assert_eq!(event["agency"]["kind"], "MIGRATION_AUTHORITY");
    assert_eq!(event["actor"]["username"], authority);
    assert!(
        inbox_kinds(&s, lead)
            .await
            .contains(&"DECISION_RECORDED".to_string())
    );

    // Another agency the lead involved, of another kind, may not take the authority's decision.
    s.involve(lead, &c.id, "it.prosecutor", &["IDENTITY"]).await;
    c.sync().await;
    let body = c
        .fails(
            "it.prosecutor",
            "enforce_removal",
            json!({"removal_ground": "public_order"}),
            "FORBIDDEN",
        )
        .await;
    assert!(body.to_string().contains("MIGRATION_AUTHORITY"), "{body}");

    // Once the referral is revoked, the authority takes no further step.
    let revoked = s
        .gql(
            lead,
            "mutation($input: ReferralReasonInput!) { revokeReferral(input: $input) { referral { status } } }",
            json!({"input": {"referralId": referral, "reason": "decision taken"}}),
        )
        .await;
    assert!(revoked.get("errors").is_none(), "{revoked}");
    c.sync().await;
    c.fails(
        authority,
        "enforce_removal",
        json!({"removal_ground": "public_order"}),
        "FORBIDDEN",
    )
    .await;
    assert!(offered(&s, authority, &c.id).await.is_empty());
    s.stop().await;
}

/// A competent authority that holds only that role (the Bulgarian prosecutor) decides on
/// identification in its own name; a reconsideration is requested by the support provider
/// itself, refused to anyone else, and decided by the authority.
#[tokio::test]
async fn a_negative_identification_is_reconsidered_at_the_support_providers_request() {
    let s = TestServer::start().await;
    let lead = "bg.shelter";
    let prosecutor = "bg.prosecutor";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(4)).await;
    to_crisis(&mut c, lead).await;
    let negative = json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators",
        "person_informed_of_decision": true});
    // The NGO cannot decide (no competent authority among its roles).
    let (code, _) = c
        .refused(lead, "decide_not_identified", negative.clone())
        .await;
    assert_eq!(code, "FORBIDDEN");
    s.involve(lead, &c.id, prosecutor, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    c.sync().await;
    let mut keys: Vec<String> = offered(&s, prosecutor, &c.id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["decide_not_identified", "identify_formally"]);
    let case = c.ok(prosecutor, "decide_not_identified", negative).await;
    assert_eq!(track_state(&case, "identification"), Some("not_identified"));

    // Only the first responder or the support provider asks for a reconsideration.
    let request = json!({"new_evidence": true});
    let (code, _) = c
        .refused(prosecutor, "request_reconsideration", request.clone())
        .await;
    assert_eq!(code, "FORBIDDEN", "the authority does not ask itself");
    let (code, _) = c
        .refused("bg.focal", "request_reconsideration", request.clone())
        .await;
    assert_eq!(
        code, "NOT_FOUND",
        "an agency outside the case does not even see it"
    );
    assert_eq!(
        c.unmet(
            lead,
            "request_reconsideration",
            json!({"new_evidence": false})
        )
        .await,
        ["new_evidence"]
    );
    let case = c.ok(lead, "request_reconsideration", request).await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("reconsideration_requested")
    );
    let event = last_event(&s, lead, &c.id).await;
    assert_eq!(
        event["agency"]["kind"], "NGO",
        "who asked is the event's agency"
    );
    // The NGO cannot decide its own request.
    let (code, _) = c
        .refused(lead, "reconsider", json!({"evidence_reviewed": true}))
        .await;
    assert_eq!(code, "FORBIDDEN");
    // The authority may uphold or reconsider; here it reconsiders, then identifies.
    let offer = offered(&s, prosecutor, &c.id).await;
    assert!(
        offer.contains(&("uphold_not_identified".to_string(), true)),
        "{offer:?}"
    );
    let case = c
        .ok(prosecutor, "reconsider", json!({"evidence_reviewed": true}))
        .await;
    assert_eq!(
        track_state(&case, "identification"),
        Some("presumed_victim")
    );
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
    s.stop().await;
}

/// A support provider that does not lead the case (an NGO shelter the police referred the
/// person to) asks for the reconsideration itself; the authority upholds the decision.
async fn a_support_provider_the_lead_referred_to_requests_a_reconsideration(version: u32) {
    let s = TestServer::start().await;
    let lead = "at.police";
    let shelter = "at.shelter";
    let prosecutor = "at.prosecutor";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(version)).await;
    to_crisis(&mut c, lead).await;
    s.involve(lead, &c.id, prosecutor, &["IDENTITY"]).await;
    // The shelter takes part through a referral for shelter, not for a decision.
    s.consent_for(lead, &c.id, shelter, &["IDENTITY"]).await;
    let body = s
        .gql(
            lead,
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": c.id, "toAgencyId": s.agency_id(shelter).await,
                "service": "SHELTER", "purpose": "a safe place", "sharedGroups": ["IDENTITY"]}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    c.sync().await;
    c.ok(
        prosecutor,
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "other_crime",
            "person_informed_of_decision": true}),
    )
    .await;
    // The shelter is offered the request only.
    let keys: Vec<String> = offered(&s, shelter, &c.id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["request_reconsideration"]);
    c.ok(
        shelter,
        "request_reconsideration",
        json!({"new_evidence": true}),
    )
    .await;
    let event = last_event(&s, lead, &c.id).await;
    assert_eq!(event["actor"]["username"], shelter);
    assert!(
        inbox_kinds(&s, lead)
            .await
            .contains(&"DECISION_RECORDED".to_string())
    );
    assert_eq!(
        c.unmet(
            prosecutor,
            "uphold_not_identified",
            json!({"evidence_reviewed": true, "person_informed_of_decision": false})
        )
        .await,
        ["person_informed"]
    );
    let case = c
        .ok(
            prosecutor,
            "uphold_not_identified",
            json!({"evidence_reviewed": true, "person_informed_of_decision": true}),
        )
        .await;
    assert_eq!(track_state(&case, "identification"), Some("not_identified"));
    s.stop().await;
}

/// The migration authority grants and renews a permit; its minimum length is checked on the
/// dates themselves. Then the prosecutor records the proceedings; the court awards no
/// compensation, a civil claim fails, and state compensation is still claimed within a year of
/// the final act.
async fn permits_on_their_dates_and_state_compensation_after_a_judgment_without_it(version: u32) {
    let s = TestServer::start().await;
    let lead = "it.shelter.supervisor";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(version)).await;
    to_crisis(&mut c, lead).await;
    c.ok(
        lead,
        "decide_to_cooperate",
        json!({"legal_counselling_given": true}),
    )
    .await;
    c.ok(lead, "move_to_long_term_assistance", json!({})).await;
    s.involve(lead, &c.id, "it.migration", &["IDENTITY", "LEGAL_STATUS"])
        .await;
    s.involve(lead, &c.id, "it.prosecutor", &["IDENTITY"]).await;
    c.sync().await;

    let day = |days: i64| {
        (s.app.now() + Duration::days(days))
            .date_naive()
            .format("%Y-%m-%d")
            .to_string()
    };
    // Six months on the calendar, whatever number one would type beside them.
    let permit = |issued: &str, expiry: &str| json!({"permit_ground": "cooperation", "permit_issued": issued, "permit_expiry": expiry});
    let issued = day(0);
    let short = (s.app.now() + chrono::Months::new(6) - Duration::days(1))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        c.unmet(
            "it.migration",
            "grant_residence_permit",
            permit(&issued, &short)
        )
        .await,
        ["permit_at_least_six_months"]
    );
    assert_eq!(
        c.unmet(
            "it.migration",
            "grant_residence_permit",
            permit(&issued, &issued)
        )
        .await,
        ["permit_dates_in_order", "permit_at_least_six_months"]
    );
    let six = (s.app.now() + chrono::Months::new(6))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let case = c
        .ok(
            "it.migration",
            "grant_residence_permit",
            permit(&issued, &six),
        )
        .await;
    assert_eq!(track_state(&case, "long_term"), Some("support_planning"));
    c.ok(
        lead,
        "adopt_support_plan",
        json!({"support_plan_adopted": true, "risk_level": "low"}),
    )
    .await;
    let renewed = day(365 + 180);
    c.ok(
        "it.migration",
        "renew_residence_permit",
        json!({"permit_issued": day(180), "permit_expiry": renewed}),
    )
    .await;

    // The proceedings, by the prosecutor; the lead records none of them.
    let (code, _) = c
        .refused(
            lead,
            "bring_charges",
            json!({"victim_informed_of_proceedings": true}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // The judgment became final 40 days ago; the court awarded no compensation.
    let final_on = day(-40);
    let case = to_judgment(&mut c, "it.prosecutor", &final_on, "refused").await;
    assert_eq!(track_state(&case, "proceedings"), Some("judgment"));
    let view = c.view().await;
    let clock = case_timer(&view, "compensation_claim");
    assert_eq!(clock["status"], "RUNNING");
    assert_eq!(
        instant(&clock["dueAt"]),
        crate::harness::instant(&json!(format!("{final_on}T00:00:00Z"))) + Duration::days(365),
        "one year from the final act, not from the day it was recorded"
    );
    assert_eq!(
        c.unmet(lead, "conclude_with_compensation", json!({})).await,
        ["compensation_awarded_in_judgment"]
    );
    // A civil claim keeps the state clock running; it awards nothing; state compensation remains.
    c.ok(lead, "file_civil_claim", json!({})).await;
    assert_eq!(
        case_timer(&c.view().await, "compensation_claim")["status"],
        "RUNNING"
    );
    assert_eq!(
        c.unmet(
            lead,
            "record_compensation_decision",
            json!({"compensation_awarded": false})
        )
        .await,
        ["state_route_remains"]
    );
    let case = c
        .ok(
            lead,
            "record_civil_claim_dismissed",
            json!({"compensation_awarded": false}),
        )
        .await;
    assert_eq!(track_state(&case, "proceedings"), Some("judgment"));
    c.ok(lead, "claim_state_compensation", json!({})).await;
    assert_eq!(
        case_timer(&c.view().await, "compensation_claim")["status"],
        "STOPPED"
    );
    let case = c
        .ok(
            lead,
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

/// A judgment that awarded compensation concludes the proceedings; one that awarded none leaves
/// the route open until the person, informed, concludes without it.
async fn a_judgment_with_compensation_concludes_and_without_it_waits_for_the_person(version: u32) {
    let s = TestServer::start().await;
    let lead = "it.shelter.supervisor";
    let mut cases = Vec::new();
    for awarded in ["awarded", "not_claimed"] {
        let mut c = CaseDriver::open(&s, lead, ADULT, Some(version)).await;
        to_crisis(&mut c, lead).await;
        c.ok(
            lead,
            "decide_to_cooperate",
            json!({"legal_counselling_given": true}),
        )
        .await;
        s.involve(lead, &c.id, "it.prosecutor", &["IDENTITY"]).await;
        c.sync().await;
        let today = s.app.now().date_naive().format("%Y-%m-%d").to_string();
        to_judgment(&mut c, "it.prosecutor", &today, awarded).await;
        cases.push(c);
    }
    let mut with = cases.remove(0);
    let case = with.ok(lead, "conclude_with_compensation", json!({})).await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_concluded")
    );
    let mut without = cases.remove(0);
    assert_eq!(
        without
            .unmet(
                lead,
                "conclude_without_compensation",
                json!({"informed_of_compensation_rights": false})
            )
            .await,
        ["informed_of_compensation_rights"]
    );
    let case = without
        .ok(
            lead,
            "conclude_without_compensation",
            json!({"informed_of_compensation_rights": true}),
        )
        .await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_concluded")
    );
    // The prosecutor may terminate proceedings on another case, not the lead.
    let mut third = CaseDriver::open(&s, lead, ADULT, Some(version)).await;
    to_crisis(&mut third, lead).await;
    third
        .ok(
            lead,
            "decide_to_cooperate",
            json!({"legal_counselling_given": true}),
        )
        .await;
    s.involve(lead, &third.id, "it.prosecutor", &["IDENTITY"])
        .await;
    third.sync().await;
    let (code, _) = third
        .refused(
            lead,
            "terminate_proceedings",
            json!({"termination_reason": "insufficient_evidence"}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let case = third
        .ok(
            "it.prosecutor",
            "terminate_proceedings",
            json!({"termination_reason": "insufficient_evidence"}),
        )
        .await;
    assert_eq!(
        track_state(&case, "proceedings"),
        Some("proceedings_terminated")
    );
    s.stop().await;
}

/// The walk-through of the user guide: one case, four agencies of three countries, each
/// recording its own decisions. An Italian shelter leads; the Italian prosecutor identifies her;
/// the Austrian prosecutor, where she was exploited, records the proceedings; the Nigerian shelter
/// accepts her return and confirms her reception; the Austrian trial goes on with her testimony
/// from Nigeria. The history says who decided what.
#[tokio::test]
async fn four_agencies_of_three_countries_each_record_their_own_decisions() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(4)).await;
    to_crisis(&mut c, lead).await;
    s.involve(lead, &c.id, "it.prosecutor", &["IDENTITY"]).await;
    s.involve(lead, &c.id, "at.prosecutor", &["IDENTITY"]).await;
    c.sync().await;
    c.ok(
        "it.prosecutor",
        "identify_formally",
        json!({"evidence_reviewed": true}),
    )
    .await;
    c.ok(
        lead,
        "decide_to_cooperate",
        json!({"legal_counselling_given": true}),
    )
    .await;
    c.ok(
        "at.prosecutor",
        "bring_charges",
        json!({"victim_informed_of_proceedings": true}),
    )
    .await;
    c.ok("at.prosecutor", "open_trial", json!({})).await;
    for (t, d) in crate::harness::steps_to_origin_contact() {
        c.ok(lead, t, d).await;
    }
    // The Nigerian shelter decides to take her case: it accepts the transfer and leads.
    s.transfer_lead(
        lead,
        &c.id,
        "ng.shelter",
        json!({"nationality_verified": true, "prosecutor_notified_of_return": true,
            "testimony_arrangement": "video_link"}),
    )
    .await;
    c.read_as("ng.shelter");
    c.sync().await;
    c.ok(
        "ng.shelter",
        "depart",
        json!({"travel_documents_issued": true, "escort_arranged": false}),
    )
    .await;
    c.ok(
        "ng.shelter",
        "confirm_reception",
        json!({"received_on_arrival": true, "safe_accommodation": true}),
    )
    .await;
    // The Italian shelter, the former lead, sees the case but takes no step on it any more.
    let (code, _) = c
        .refused(
            lead,
            "adopt_reintegration_plan",
            json!({"reintegration_plan_adopted": true}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "a former lead is not involved");
    // The Austrian prosecutor was involved by the former lead: its referral is still live, but
    // only the current lead involves. Once the Nigerian shelter involves it, it records her
    // testimony from Nigeria and the judgment.
    let (code, _) = c
        .refused(
            "at.prosecutor",
            "record_testimony_from_abroad",
            json!({"testimony_given_from_abroad": true}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "involved by the former lead only");
    s.involve("ng.shelter", &c.id, "at.prosecutor", &["IDENTITY"])
        .await;
    c.sync().await;
    c.ok(
        "at.prosecutor",
        "record_testimony_from_abroad",
        json!({"testimony_given_from_abroad": true}),
    )
    .await;
    let today = s.app.now().date_naive().format("%Y-%m-%d").to_string();
    c.ok(
        "at.prosecutor",
        "record_judgment",
        json!({"judgment_outcome": "conviction", "judgment_final_on": today,
            "compensation_in_judgment": "awarded"}),
    )
    .await;

    // The auditor reads who decided what, each in its own name.
    let data = s
        .data(
            "auditor",
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node {
                transition agency { kind country } } } } } }",
            json!({"id": c.id}),
        )
        .await;
    let by = |transition: &str| -> (String, String) {
        let node = data["case"]["history"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["node"])
            .find(|n| n["transition"] == transition)
            .unwrap_or_else(|| panic!("no {transition} in {data}"));
        (
            node["agency"]["kind"].as_str().unwrap().to_string(),
            node["agency"]["country"].as_str().unwrap().to_string(),
        )
    };
    let pair = |kind: &str, country: &str| (kind.to_string(), country.to_string());
    assert_eq!(by("decide_to_cooperate"), pair("NGO", "IT"));
    assert_eq!(by("identify_formally"), pair("PROSECUTOR", "IT"));
    assert_eq!(by("bring_charges"), pair("PROSECUTOR", "AT"));
    assert_eq!(by("record_case_transfer"), pair("NGO", "NG"));
    assert_eq!(by("confirm_reception"), pair("NGO", "NG"));
    assert_eq!(by("record_judgment"), pair("PROSECUTOR", "AT"));
    s.stop().await;
}

// These play on version 4, for the cases pinned to it, and on version 5, for new cases.
on_versions! {
    v4 => 4,
    v5 => 5;
    a_support_provider_the_lead_referred_to_requests_a_reconsideration,
    permits_on_their_dates_and_state_compensation_after_a_judgment_without_it,
    a_judgment_with_compensation_concludes_and_without_it_waits_for_the_person,
}
