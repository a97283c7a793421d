//! One case, one procedure at a time (issue 15, rules 4 and 5): a disputed age puts the same
//! case under the child procedure at once, an assessment as an adult brings it back, and at 18
//! the hand-over continues it under the adult procedure; each switch is one event, the child
//! rules are re-applied to what was already shared, and no second case runs beside it.

use crate::cross_border::{case, consent, consent_id, events, inbox, refer, referral_id, version};
use crate::harness::{TestServer, error_code, to_crisis_intervention};
use crate::protections::fire_ok;
use serde_json::json;
use std::collections::BTreeMap;

/// The workflow the case is under now, and its track states.
async fn procedure(s: &TestServer, user: &str, id: &str) -> (String, BTreeMap<String, String>) {
    let c = s
        .data(
            user,
            "query($id: ID!) { case(id: $id) { workflow { key version } states { track state } } }",
            json!({"id": id}),
        )
        .await;
    let states = c["case"]["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["track"].as_str().unwrap().to_string(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let w = &c["case"]["workflow"];
    (
        format!("{} v{}", w["key"].as_str().unwrap(), w["version"]),
        states,
    )
}

const FOLLOW_ON: &str = "mutation($w: String!, $f: ID) { openCase(input: {workflowId: $w, followsCaseId: $f}) { case { id } } }";

#[tokio::test]
async fn a_disputed_age_puts_the_same_case_under_the_child_rules_at_once_and_back_when_assessed_adult()
 {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(&s, lead, &id).await;
    // Shared abroad on her own consent while she was taken for an adult.
    let iom = s.agency_id("it.iom").await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [iom], "dataGroups": ["IDENTITY"]})).await);
    let r = referral_id(&refer(&s, lead, json!({"caseId": id, "toAgencyId": iom, "service": "LEGAL", "purpose": "legal counselling", "sharedGroups": ["IDENTITY"]})).await);

    // Reasons to believe she is a child: recorded, and the switch needs them.
    let v = version(&case(&s, lead, &id).await);
    let body = s
        .fire(
            lead,
            &id,
            "apply_child_procedure",
            v,
            json!({"reasons_to_believe_child": false}),
        )
        .await;
    assert_eq!(error_code(&body), "GUARD_FAILED", "{body}");
    let body = fire_ok(
        &s,
        lead,
        &id,
        "apply_child_procedure",
        json!({"reasons_to_believe_child": true}),
    )
    .await;
    let event = &body["data"]["fireTransition"]["event"];
    assert_eq!(event["transition"], "apply_child_procedure");

    // The same case, under the child procedure, its states mapped in that one event.
    let (under, states) = procedure(&s, lead, &id).await;
    assert_eq!(under, "trm-child v4");
    assert_eq!(states["identification"], "presumed_child_victim");
    assert_eq!(states["age"], "minor_presumed");
    assert_eq!(states["guardianship"], "guardian_pending");
    assert_eq!(states["person"], "in_contact");
    assert_eq!(states["protection"], "placement_needed");
    assert_eq!(states["solution"], "awaiting_bid");
    assert!(!states.contains_key("assistance"), "{states:?}");

    // The child rules hold at once for what was already shared: her own consent grounds nothing
    // for a child without a guardian, so the referral stops and the receiver is told.
    let seen = case(&s, lead, &id).await;
    let referral = seen["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == r)
        .unwrap();
    assert!(
        referral["status"] == "SUSPENDED" || referral["status"] == "REVOKED",
        "{referral}"
    );
    let told: Vec<String> = inbox(&s, "it.iom")
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect();
    assert!(told.iter().any(|k| k.starts_with("REFERRAL_")), "{told:?}");
    let switches = events(&seen)
        .into_iter()
        .filter(|e| e["transition"] == "apply_child_procedure")
        .count();
    assert_eq!(switches, 1);

    // No second case for the person beside this one.
    let body = s
        .gql(lead, FOLLOW_ON, json!({"w": "trm-adult", "f": id}))
        .await;
    assert_eq!(error_code(&body), "CASE_STILL_ACTIVE", "{body}");

    // Under the child procedure: a guardian first, then the age assessment.
    fire_ok(
        &s,
        lead,
        &id,
        "appoint_guardian",
        json!({"guardian_appointed_by": "court", "guardian_independent": true}),
    )
    .await;
    fire_ok(
        &s,
        lead,
        &id,
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
    )
    .await;
    fire_ok(
        &s,
        lead,
        &id,
        "record_age_as_adult",
        json!({"age_assessment_method": "multidisciplinary",
        "age_range_lowest": 19, "age_range_highest": 23, "person_informed_of_age_decision": true}),
    )
    .await;
    // Final: the same case continues under the adult procedure.
    fire_ok(
        &s,
        "it.shelter.supervisor",
        &id,
        "accept_adult_assessment",
        json!({}),
    )
    .await;
    let (under, states) = procedure(&s, lead, &id).await;
    assert_eq!(under, "trm-adult v5");
    assert_eq!(states["identification"], "presumed_victim");
    assert_eq!(states["person"], "present");
    assert!(!states.contains_key("age") && !states.contains_key("guardianship"));
    let c = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { status } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(c["case"]["status"], "ACTIVE");
    // The adult procedure goes on: the prosecutor the lead involves records a protection measure.
    s.involve(lead, &id, "it.prosecutor", &["IDENTITY"]).await;
    fire_ok(
        &s,
        "it.prosecutor",
        &id,
        "order_protection_measure",
        json!({"protection_measure": "relocation"}),
    )
    .await;
    // The audit verifier rebuilds the case across both switches (in `stop`).
    s.stop().await;
}

#[tokio::test]
async fn the_checker_finds_two_cases_of_one_person_open_under_one_lead() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (first, first_ref) = s.open_workflow(lead, "trm-adult", None).await;
    // A follow-on case is refused while the first is open.
    let body = s
        .gql(lead, FOLLOW_ON, json!({"w": "trm-child", "f": first}))
        .await;
    assert_eq!(error_code(&body), "CASE_STILL_ACTIVE", "{body}");
    // Behind the service's back: a second open case linked to the first.
    let (_, second_ref) = s.open_workflow(lead, "trm-child", None).await;
    let sql = format!(
        "UPDATE cases SET follows_case_id = (SELECT id FROM cases WHERE reference = '{first_ref}') \
         WHERE reference = '{second_ref}'"
    );
    use sea_orm::ConnectionTrait;
    s.app.store.conn().execute_unprepared(&sql).await.unwrap();
    let (_, violation) = trm::service::protections::check_all(&s.app).await.unwrap();
    let text = violation.expect("the checker finds it").to_string();
    assert!(
        text.contains(&second_ref) && text.contains(&first_ref),
        "{text}"
    );
    s.stop_tampered().await;
}

#[tokio::test]
async fn of_two_follow_on_cases_opened_at_once_only_one_opens() {
    let s = TestServer::start().await;
    let lead = "it.shelter.supervisor";
    let (first, _) = s.open_workflow(lead, "trm-adult", None).await;
    fire_ok(
        &s,
        lead,
        &first,
        "start_screening",
        json!({"signal_source": "self_report"}),
    )
    .await;
    fire_ok(
        &s,
        lead,
        &first,
        "refuse_referral",
        json!({"indicators_found": true, "consent_to_referral": false}),
    )
    .await;
    fire_ok(&s, lead, &first, "close_notification", json!({})).await;
    fire_ok(&s, lead, &first, "close_case", json!({})).await;
    // She comes back: two workers open the case that continues it at the same moment.
    let vars = json!({"w": "trm-adult", "f": first});
    let (a, b) = tokio::join!(
        s.gql(lead, FOLLOW_ON, vars.clone()),
        s.gql(lead, FOLLOW_ON, vars.clone())
    );
    let opened = [&a, &b]
        .iter()
        .filter(|r| r.get("errors").is_none())
        .count();
    assert_eq!(opened, 1, "{a} {b}");
    let refused = if a.get("errors").is_some() { &a } else { &b };
    assert_eq!(error_code(refused), "CASE_STILL_ACTIVE", "{refused}");
    s.stop().await;
}

/// A case pinned to one of the adult procedure's earlier versions (3 and 4) switches too: to the
/// child procedure's latest version, its states mapped, as from the latest.
#[tokio::test]
async fn a_case_on_the_earlier_adult_version_continues_under_the_child_procedure() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    for version in [3, 4] {
        let (id, _) = s.open_workflow(lead, "trm-adult", Some(version)).await;
        to_crisis_intervention(&s, lead, &id).await;
        fire_ok(
            &s,
            lead,
            &id,
            "apply_child_procedure",
            json!({"reasons_to_believe_child": true}),
        )
        .await;
        let (under, states) = procedure(&s, lead, &id).await;
        assert_eq!(under, "trm-child v4", "from adult v{version}");
        assert_eq!(states["identification"], "presumed_child_victim");
        assert_eq!(states["person"], "in_contact");
    }
    s.stop().await;
}
