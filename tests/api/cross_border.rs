//! Cases across agencies and borders (issue 5): service referrals, transfers of lead with
//! consent and a disclosure manifest, overrides, consent withdrawal, the asylum ban, the
//! perpetrator rule, escalation of overdue answers, and alerts along a missing child's route.

use crate::harness::{
    TestServer, error_code, steps_to_origin_contact, to_crisis_intervention, track_state,
};
use chrono::Duration;
use serde_json::{Value, json};

const CASE: &str = "query($id: ID!) { case(id: $id) {
    id version access facts redactedFields leadAgency { name }
    states { track state }
    personalData(purpose: \"cross-border test\") { group value redacted }
    route { country place movedOn }
    history(first: 100) { edges { node { kind transition reason details } } }
    referrals { id status sharedGroups }
    transfers { id status sharedGroups feedback { message } }
} }";

/// The case as `user` sees it (`null` when it may not).
pub(crate) async fn case(s: &TestServer, user: &str, id: &str) -> Value {
    s.data(user, CASE, json!({"id": id})).await["case"].clone()
}

pub(crate) fn version(c: &Value) -> i64 {
    c["version"].as_i64().unwrap()
}

/// The value of a personal-data group (null when redacted or empty) and whether it is redacted.
fn group<'v>(c: &'v Value, name: &str) -> (&'v Value, bool) {
    let g = c["personalData"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == name)
        .unwrap();
    (&g["value"], g["redacted"].as_bool().unwrap())
}

pub(crate) fn events(c: &Value) -> Vec<Value> {
    c["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

async fn record_data(s: &TestServer, user: &str, case_id: &str, grp: &str, value: Value) -> Value {
    s.gql(
        user,
        "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
        json!({"input": {"caseId": case_id, "group": grp, "value": value}}),
    )
    .await
}

pub(crate) async fn consent(s: &TestServer, user: &str, input: Value) -> Value {
    s.gql(
        user,
        "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id inForce } } }",
        json!({"input": input}),
    )
    .await
}

pub(crate) fn consent_id(body: &Value) -> String {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["recordConsent"]["consent"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub(crate) async fn refer(s: &TestServer, user: &str, input: Value) -> Value {
    s.gql(
        user,
        "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral {
            id status sharedGroups service respondBy
            ground { consentId overrideBasis }
            leadAgencyAtReferral { name } toAgency { name }
        } } }",
        json!({"input": input}),
    )
    .await
}

pub(crate) fn referral_id(body: &Value) -> String {
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs a referral mutation (`acceptReferral`, ...) and returns the whole body.
pub(crate) async fn on_referral(s: &TestServer, user: &str, op: &str, input: Value) -> Value {
    let input_ty = match op {
        "acceptReferral" => "AcceptReferralInput",
        "completeReferral" => "CompleteReferralInput",
        _ => "ReferralReasonInput",
    };
    s.gql(
        user,
        &format!(
            "mutation($input: {input_ty}!) {{ {op}(input: $input) {{ referral {{ id status statusReason successful }} }} }}"
        ),
        json!({"input": input}),
    )
    .await
}

/// Runs a transfer mutation and returns the whole body.
pub(crate) async fn on_transfer(
    s: &TestServer,
    user: &str,
    op: &str,
    input_ty: &str,
    input: Value,
) -> Value {
    s.gql(
        user,
        &format!(
            "mutation($input: {input_ty}!) {{ {op}(input: $input) {{ transfer {{ id status statusReason }} case {{ version access }} }} }}"
        ),
        json!({"input": input}),
    )
    .await
}

/// The kinds of `user`'s inbox entries, newest first, with their referral / transfer ids.
pub(crate) async fn inbox(
    s: &TestServer,
    user: &str,
) -> Vec<(String, Option<String>, Option<String>)> {
    let data = s
        .data(
            user,
            "{ inbox(first: 50) { edges { node { kind case { id } referral { id } transfer { id } } } } }",
            json!({}),
        )
        .await;
    data["inbox"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["kind"].as_str().unwrap().to_string(),
                n["referral"]["id"].as_str().map(str::to_string),
                n["transfer"]["id"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// An adult case led by `user`, taken to the point where the origin country has been contacted
/// (the workflow's transfer step is next).
pub(crate) async fn case_ready_for_transfer(s: &TestServer, user: &str) -> String {
    let (id, _) = s.open_workflow(user, "trm-adult", None).await;
    let mut v = to_crisis_intervention(s, user, &id).await;
    for (t, d) in steps_to_origin_contact() {
        let body = s.fire(user, &id, t, v, d).await;
        assert!(body.get("errors").is_none(), "{t}: {body}");
        v = body["data"]["fireTransition"]["case"]["version"]
            .as_i64()
            .unwrap();
    }
    id
}

#[tokio::test]
async fn a_referral_is_accepted_and_completed_declined_or_revoked_and_shares_only_its_groups() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_case(lead).await;
    assert!(
        record_data(&s, lead, &id, "IDENTITY", json!({"names": "Demo Person A"}))
            .await
            .get("errors")
            .is_none()
    );
    assert!(
        record_data(&s, lead, &id, "HEALTH", json!({"notes": "synthetic"}))
            .await
            .get("errors")
            .is_none()
    );
    let iom = s.agency_id("it.iom").await;

    // No consent: refused, nothing changes.
    let before = version(&case(&s, lead, &id).await);
    let input = json!({"caseId": id, "toAgencyId": iom, "service": "LEGAL", "purpose": "legal counselling", "sharedGroups": ["IDENTITY"]});
    let body = refer(&s, lead, input.clone()).await;
    assert_eq!(error_code(&body), "CONSENT_REQUIRED", "{body}");
    assert_eq!(version(&case(&s, lead, &id).await), before);
    // A consent to services with agencies of the case's own country (no agency or country named).
    let c = consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]})).await);
    // Sharing a group the consent does not cover is still refused.
    let mut with_health = input.clone();
    with_health["sharedGroups"] = json!(["IDENTITY", "HEALTH"]);
    assert_eq!(
        error_code(&refer(&s, lead, with_health).await),
        "CONSENT_REQUIRED"
    );
    let body = refer(&s, lead, input.clone()).await;
    let r1 = referral_id(&body);
    let r = &body["data"]["makeReferral"]["referral"];
    assert_eq!(r["status"], "PENDING");
    assert_eq!(r["ground"]["consentId"], c.as_str());
    assert_eq!(r["sharedGroups"], json!(["IDENTITY"]));
    assert_eq!(
        r["leadAgencyAtReferral"]["name"],
        case(&s, lead, &id).await["leadAgency"]["name"]
    );

    // The receiver's inbox, and what it sees of the case: the shared group only.
    assert!(inbox(&s, "it.iom").await.contains(&(
        "REFERRAL_RECEIVED".into(),
        Some(r1.clone()),
        None
    )));
    let seen = case(&s, "it.iom", &id).await;
    assert_eq!(seen["access"], "PARTICIPANT");
    assert_eq!(group(&seen, "IDENTITY").0["names"], "Demo Person A");
    assert_eq!(group(&seen, "HEALTH"), (&Value::Null, true));
    assert!(seen["facts"].is_null());
    assert!(events(&seen).is_empty(), "participants see no history");
    let redacted = seen["redactedFields"].as_array().unwrap();
    for f in ["facts", "history", "personalData.HEALTH"] {
        assert!(redacted.contains(&json!(f)), "{f} is listed as redacted");
    }
    // The referral is on the receiver's worklist, with its answer date.
    let work = s
        .data(
            "it.iom",
            "{ worklist { edges { node { reason dueAt referral { id } } } } }",
            json!({}),
        )
        .await;
    let item = &work["worklist"]["edges"][0]["node"];
    assert_eq!(
        (item["reason"].as_str(), item["referral"]["id"].as_str()),
        (Some("REFERRAL_TO_ANSWER"), Some(r1.as_str()))
    );
    assert!(item["dueAt"].is_string());
    // An agency without any relation to the case sees nothing at all.
    assert!(case(&s, "fr.shelter", &id).await.is_null());

    // Accepted, then completed without success (a reason is required for that).
    let body = on_referral(&s, lead, "acceptReferral", json!({"referralId": r1})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "only the receiver answers");
    let body = on_referral(&s, "it.iom", "acceptReferral", json!({"referralId": r1})).await;
    assert_eq!(
        body["data"]["acceptReferral"]["referral"]["status"], "ACCEPTED",
        "{body}"
    );
    assert_eq!(inbox(&s, lead).await[0].0, "REFERRAL_ANSWERED");
    let body = on_referral(&s, "it.iom", "acceptReferral", json!({"referralId": r1})).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    let body = on_referral(
        &s,
        "it.iom",
        "completeReferral",
        json!({"referralId": r1, "successful": false}),
    )
    .await;
    assert_eq!(error_code(&body), "VALIDATION");
    let body = on_referral(
        &s,
        "it.iom",
        "completeReferral",
        json!({"referralId": r1, "successful": false, "reason": "person moved away"}),
    )
    .await;
    let done = &body["data"]["completeReferral"]["referral"];
    assert_eq!(
        (done["status"].as_str(), done["successful"].as_bool()),
        (Some("COMPLETED"), Some(false))
    );

    // Declined (with a reason).
    let mut to_police = input.clone();
    to_police["toAgencyId"] = json!(s.agency_id("it.police").await);
    let r2 = referral_id(&refer(&s, lead, to_police).await);
    let body = on_referral(
        &s,
        "it.police",
        "declineReferral",
        json!({"referralId": r2}),
    )
    .await;
    assert_eq!(error_code(&body), "VALIDATION", "a decline needs a reason");
    let body = on_referral(
        &s,
        "it.police",
        "declineReferral",
        json!({"referralId": r2, "reason": "no capacity"}),
    )
    .await;
    assert_eq!(
        body["data"]["declineReferral"]["referral"]["status"],
        "DECLINED"
    );
    assert_eq!(
        body["data"]["declineReferral"]["referral"]["statusReason"],
        "no capacity"
    );
    assert_eq!(
        group(&case(&s, "it.police", &id).await, "IDENTITY"),
        (&Value::Null, true)
    );

    // Revoked by the sender (never by the receiver); the receiver loses the shared data.
    let mut to_prosecutor = input.clone();
    to_prosecutor["toAgencyId"] = json!(s.agency_id("it.prosecutor").await);
    let r3 = referral_id(&refer(&s, lead, to_prosecutor).await);
    assert!(!group(&case(&s, "it.prosecutor", &id).await, "IDENTITY").1);
    let body = on_referral(
        &s,
        "it.prosecutor",
        "revokeReferral",
        json!({"referralId": r3}),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = on_referral(
        &s,
        lead,
        "revokeReferral",
        json!({"referralId": r3, "reason": "no longer needed"}),
    )
    .await;
    assert_eq!(
        body["data"]["revokeReferral"]["referral"]["status"],
        "REVOKED"
    );
    assert_eq!(inbox(&s, "it.prosecutor").await[0].0, "REFERRAL_REVOKED");
    assert_eq!(
        group(&case(&s, "it.prosecutor", &id).await, "IDENTITY"),
        (&Value::Null, true)
    );

    // Every step is one event on the case's chain, with ids and names, never personal data.
    let lead_view = case(&s, lead, &id).await;
    let actions: Vec<String> = events(&lead_view)
        .iter()
        .filter(|e| e["kind"] == "REFERRAL")
        .map(|e| e["details"]["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "MADE",
            "ACCEPTED",
            "COMPLETED",
            "MADE",
            "DECLINED",
            "MADE",
            "REVOKED"
        ]
    );
    let text = lead_view["history"].to_string();
    assert!(!text.contains("Demo Person A") && !text.contains("synthetic"));
    assert_eq!(lead_view["referrals"].as_array().unwrap().len(), 3);
    assert_eq!(
        case(&s, "it.iom", &id).await["referrals"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a receiver sees its own referrals only"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_return_transfer_from_italy_to_nigeria_moves_the_lead_with_only_the_shared_groups() {
    let s = TestServer::start().await;
    let (it, ng) = ("it.shelter", "ng.shelter");
    let id = case_ready_for_transfer(&s, it).await;
    for (g, v) in [
        (
            "IDENTITY",
            json!({"names": "Demo Person B", "nationality": "NG"}),
        ),
        ("HEALTH", json!({"notes": "synthetic health note"})),
        (
            "EXPLOITATION_NARRATIVE",
            json!({"account": "synthetic account"}),
        ),
        ("LEGAL_STATUS", json!({"residence": "none"})),
    ] {
        assert!(record_data(&s, it, &id, g, v).await.get("errors").is_none());
    }
    let ng_agency = s.agency_id(ng).await;
    let offer =
        |groups: Value| json!({"caseId": id, "toAgencyId": ng_agency, "sharedGroups": groups});

    // Without consent: refused, nothing changes.
    let before = version(&case(&s, it, &id).await);
    let body = on_transfer(
        &s,
        it,
        "offerTransfer",
        "OfferTransferInput",
        offer(json!(["IDENTITY"])),
    )
    .await;
    assert_eq!(error_code(&body), "CONSENT_REQUIRED", "{body}");
    assert_eq!(version(&case(&s, it, &id).await), before);
    assert!(case(&s, ng, &id).await.is_null(), "nothing reached Nigeria");
    // She consents to the return and to sharing identity and legal status with Nigeria.
    let c = consent_id(&consent(&s, it, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["RETURN"], "countries": ["NG"], "dataGroups": ["IDENTITY", "LEGAL_STATUS"]})).await);
    let body = on_transfer(
        &s,
        it,
        "offerTransfer",
        "OfferTransferInput",
        offer(json!(["IDENTITY", "HEALTH"])),
    )
    .await;
    assert_eq!(
        error_code(&body),
        "CONSENT_REQUIRED",
        "health is not covered: {body}"
    );
    let body = s
        .offer_transfer(
            it,
            &id,
            ng,
            &["IDENTITY", "LEGAL_STATUS"],
            json!({"nationality_verified": true}),
        )
        .await;
    let t = &body["data"]["offerTransfer"]["transfer"];
    assert_eq!(t["status"], "OFFERED", "{body}");
    assert_eq!(t["transition"], "record_case_transfer");
    assert_eq!(
        t["sharedGroups"],
        json!(["IDENTITY", "LEGAL_STATUS"]),
        "the disclosure manifest"
    );
    assert_eq!(t["ground"]["consentId"], c.as_str());
    let tid = t["id"].as_str().unwrap().to_string();
    // Only one open transfer at a time.
    let body = s
        .offer_transfer(it, &id, ng, &["IDENTITY"], json!({}))
        .await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");

    // Nigeria's inbox; it sees what it would receive, to decide.
    assert!(
        inbox(&s, ng)
            .await
            .contains(&("TRANSFER_OFFERED".into(), None, Some(tid.clone())))
    );
    let awaiting = s
        .data(
            ng,
            "{ transfersAwaitingDecision { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        awaiting["transfersAwaitingDecision"]["edges"][0]["node"]["id"],
        tid.as_str()
    );
    let work = s
        .data(
            ng,
            "{ worklist { edges { node { reason transfer { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        work["worklist"]["edges"][0]["node"]["reason"],
        "TRANSFER_TO_DECIDE"
    );
    let seen = case(&s, ng, &id).await;
    assert_eq!(seen["access"], "PARTICIPANT");
    assert_eq!(group(&seen, "IDENTITY").0["names"], "Demo Person B");
    assert_eq!(group(&seen, "HEALTH"), (&Value::Null, true));

    // Accepted: the transfer step fires and the lead moves, in one event.
    let body = s.accept_transfer(ng, &tid).await;
    assert!(body.get("errors").is_none(), "{body}");
    let after = &body["data"]["acceptTransfer"]["case"];
    assert_eq!(after["access"], "LEAD");
    assert_eq!(
        track_state(after, "return_home"),
        Some("travel_preparation")
    );
    let seen = case(&s, ng, &id).await;
    assert_eq!(seen["leadAgency"]["name"], after["leadAgency"]["name"]);
    let accepted: Vec<Value> = events(&seen)
        .into_iter()
        .filter(|e| e["kind"] == "TRANSFER_ACCEPTED")
        .collect();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0]["transition"], "record_case_transfer");
    assert!(accepted[0]["details"]["transfer"].is_string());
    assert_eq!(
        accepted[0]["details"]["groups"],
        json!(["IDENTITY", "LEGAL_STATUS"])
    );
    // Even as lead, Nigeria sees only the shared groups of what Italy recorded.
    assert!(!group(&seen, "IDENTITY").1);
    assert_eq!(group(&seen, "LEGAL_STATUS").0["residence"], "none");
    assert_eq!(group(&seen, "HEALTH"), (&Value::Null, true));
    assert_eq!(group(&seen, "EXPLOITATION_NARRATIVE"), (&Value::Null, true));
    assert!(
        !seen.to_string().contains("synthetic"),
        "no redacted content on any path"
    );
    // Italy's free-text reasons stay with Italy.
    assert!(events(&seen).iter().all(|e| e["reason"].is_null()));

    // Italy keeps what it had, sees no new data, and cannot move the case any more.
    s.clock.advance(Duration::minutes(5));
    assert!(
        record_data(&s, ng, &id, "CONTACT", json!({"phone": "synthetic 000"}))
            .await
            .get("errors")
            .is_none()
    );
    let former = case(&s, it, &id).await;
    assert_eq!(former["access"], "FORMER_LEAD");
    assert_eq!(group(&former, "HEALTH").0["notes"], "synthetic health note");
    assert_eq!(group(&former, "CONTACT"), (&Value::Null, false));
    assert!(former["facts"].is_null());
    let body = s
        .fire(
            it,
            &id,
            "depart",
            version(&former),
            json!({"travel_documents_issued": true}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert_eq!(
        events(&former).last().unwrap()["kind"],
        "TRANSFER_ACCEPTED",
        "the former lead's history ends at the transfer"
    );

    // Follow-up feedback from Nigeria reaches Italy.
    let body = s.gql(ng, "mutation($input: SendFeedbackInput!) { sendFeedback(input: $input) { feedback { message } } }",
        json!({"input": {"transferId": tid, "message": "Arrived safely; reintegration plan in preparation."}})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        inbox(&s, it).await[0],
        ("FEEDBACK_RECEIVED".to_string(), None, Some(tid.clone()))
    );
    let former = case(&s, it, &id).await;
    assert_eq!(
        former["transfers"][0]["feedback"][0]["message"],
        "Arrived safely; reintegration plan in preparation."
    );
    let body = s.gql(it, "mutation($input: SendFeedbackInput!) { sendFeedback(input: $input) { feedback { message } } }",
        json!({"input": {"transferId": tid, "message": "x"}})).await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "feedback goes from the new lead to the former"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_transfer_without_consent_needs_an_override_by_a_permitted_user_with_its_legal_basis() {
    let s = TestServer::start().await;
    let (worker, supervisor) = ("it.shelter", "it.shelter.supervisor");
    let id = case_ready_for_transfer(&s, worker).await;
    let ng = s.agency_id("ng.focal").await;
    let input = |over: Value| json!({"caseId": id, "toAgencyId": ng, "sharedGroups": ["IDENTITY"], "override": over});
    let body = s
        .offer_transfer(worker, &id, "ng.focal", &["IDENTITY"], json!({}))
        .await;
    assert_eq!(error_code(&body), "CONSENT_REQUIRED");
    let over = json!({"basis": "VITAL_INTERESTS", "justification": "credible threat of retaliation in Italy"});
    let body = on_transfer(
        &s,
        worker,
        "offerTransfer",
        "OfferTransferInput",
        input(over.clone()),
    )
    .await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "a case worker may not override: {body}"
    );
    let body = on_transfer(
        &s,
        supervisor,
        "offerTransfer",
        "OfferTransferInput",
        input(json!({"basis": "VITAL_INTERESTS", "justification": " "})),
    )
    .await;
    assert_eq!(
        error_code(&body),
        "VALIDATION",
        "an override needs its justification"
    );
    let before = version(&case(&s, worker, &id).await);
    let body = s.gql(supervisor, "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) { transfer { status ground { consentId overrideBasis overrideJustification } } } }",
        json!({"input": input(over)})).await;
    let t = &body["data"]["offerTransfer"]["transfer"];
    assert_eq!(t["status"], "OFFERED", "{body}");
    assert_eq!(t["ground"]["overrideBasis"], "VITAL_INTERESTS");
    assert!(t["ground"]["consentId"].is_null());
    let last = events(&case(&s, worker, &id).await).pop().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["details"]["override"].as_str()),
        (Some("TRANSFER"), Some("VITAL_INTERESTS"))
    );
    assert_eq!(version(&case(&s, worker, &id).await), before + 1);
    s.stop().await;
}

#[tokio::test]
async fn withdrawing_consent_suspends_the_pending_transfer_and_referrals_that_rely_on_it() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let id = case_ready_for_transfer(&s, lead).await;
    let c = s.consent_for(lead, &id, "ng.shelter", &["IDENTITY"]).await;
    let body = s
        .offer_transfer(lead, &id, "ng.shelter", &["IDENTITY"], json!({}))
        .await;
    let tid = body["data"]["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = referral_id(&refer(&s, lead, json!({"caseId": id, "toAgencyId": s.agency_id("ng.shelter").await, "service": "REINTEGRATION", "purpose": "prepare reintegration", "sharedGroups": ["IDENTITY"]})).await);

    let body = s.gql(lead, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { inForce withdrawnAt } case { transfers { status } referrals { status } } } }",
        json!({"input": {"consentId": c, "reason": "she changed her mind"}})).await;
    let out = &body["data"]["withdrawConsent"];
    assert_eq!(out["consent"]["inForce"], false, "{body}");
    assert_eq!(out["case"]["transfers"][0]["status"], "SUSPENDED");
    assert_eq!(out["case"]["referrals"][0]["status"], "SUSPENDED");
    let kinds: Vec<String> = inbox(&s, "ng.shelter")
        .await
        .into_iter()
        .map(|k| k.0)
        .collect();
    assert!(
        kinds.contains(&"TRANSFER_SUSPENDED".to_string())
            && kinds.contains(&"REFERRAL_SUSPENDED".to_string()),
        "{kinds:?}"
    );
    // Nothing shared any more, and the suspended transfer cannot be accepted.
    assert_eq!(
        group(&case(&s, "ng.shelter", &id).await, "IDENTITY").0,
        &Value::Null
    );
    let body = s.accept_transfer("ng.shelter", &tid).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    assert_eq!(
        case(&s, lead, &id).await["leadAgency"]["name"],
        case(&s, lead, &id).await["leadAgency"]["name"]
    );
    let body = on_referral(&s, "ng.shelter", "acceptReferral", json!({"referralId": r})).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    // Withdrawing twice is refused; the lead can revoke the suspended transfer.
    let body = s.gql(lead, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { inForce } } }",
        json!({"input": {"consentId": c}})).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    let body = on_transfer(
        &s,
        lead,
        "revokeTransfer",
        "TransferReasonInput",
        json!({"transferId": tid}),
    )
    .await;
    assert_eq!(
        body["data"]["revokeTransfer"]["transfer"]["status"], "REVOKED",
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_asylum_seekers_case_is_never_referred_to_the_authorities_of_their_country_of_origin() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(&s, lead, &id).await;
    let body = s.gql(lead, "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { originCountry } } }",
        json!({"input": {"caseId": id, "country": "NG"}})).await;
    assert_eq!(
        body["data"]["setOriginCountry"]["case"]["originCountry"], "NG",
        "{body}"
    );
    let embassy = s.agency_id("it.embassy.ng").await;
    let ngo = s.agency_id("ng.shelter").await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [embassy, ngo], "dataGroups": ["IDENTITY"]})).await);
    let to = |agency: &str| json!({"caseId": id, "toAgencyId": agency, "service": "OTHER", "purpose": "travel documents", "sharedGroups": ["IDENTITY"]});
    // Before any asylum application the embassy may be asked (with consent).
    let r = referral_id(&refer(&s, lead, to(&embassy)).await);
    on_referral(&s, lead, "revokeReferral", json!({"referralId": r})).await;

    let v = version(&case(&s, lead, &id).await);
    let body = s
        .fire(lead, &id, "record_asylum_application", v, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let before = version(&case(&s, lead, &id).await);
    let body = refer(&s, lead, to(&embassy)).await;
    assert_eq!(error_code(&body), "LEGAL_BAN", "{body}");
    // Not even a supervisor's override lifts the ban.
    let mut over = to(&embassy);
    over["override"] = json!({"basis": "VITAL_INTERESTS", "justification": "urgent"});
    assert_eq!(
        error_code(&refer(&s, "it.shelter.supervisor", over).await),
        "LEGAL_BAN"
    );
    assert_eq!(
        version(&case(&s, lead, &id).await),
        before,
        "nothing changed"
    );
    // A non-governmental organisation of the origin country may still help, with consent.
    assert_eq!(
        refer(&s, lead, to(&ngo)).await["data"]["makeReferral"]["referral"]["status"],
        "PENDING"
    );
    s.stop().await;
}

#[tokio::test]
async fn perpetrator_information_travels_only_between_law_enforcement_agencies() {
    let s = TestServer::start().await;
    let lead = "it.police";
    let (id, _) = s.open_case(lead).await;
    record_data(
        &s,
        lead,
        &id,
        "PERPETRATOR",
        json!({"description": "synthetic"}),
    )
    .await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY", "PERPETRATOR"]})).await);
    let to = |agency: String| json!({"caseId": id, "toAgencyId": agency, "service": "LEGAL", "purpose": "investigation", "sharedGroups": ["PERPETRATOR"]});
    let body = refer(&s, lead, to(s.agency_id("it.shelter").await)).await;
    assert_eq!(error_code(&body), "LEGAL_BAN", "{body}");
    let body = refer(&s, lead, to(s.agency_id("it.prosecutor").await)).await;
    assert_eq!(
        body["data"]["makeReferral"]["referral"]["status"], "PENDING",
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_overdue_referral_is_escalated_once_to_the_focal_point_of_the_receivers_country() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_case(lead).await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "countries": ["NG"], "dataGroups": ["IDENTITY"]})).await);
    let body = refer(&s, lead, json!({"caseId": id, "toAgencyId": s.agency_id("ng.shelter").await, "service": "FAMILY_TRACING", "purpose": "trace the family", "sharedGroups": ["IDENTITY"], "respondWithinDays": 2})).await;
    let r = referral_id(&body);
    assert!(case(&s, "ng.focal", &id).await.is_null());
    s.clock.advance(Duration::days(1));
    trm::service::timers::fire_due(&s.app).await.unwrap();
    assert!(inbox(&s, "ng.focal").await.is_empty(), "not yet overdue");
    s.clock.advance(Duration::days(2));
    trm::service::timers::fire_due(&s.app).await.unwrap();
    trm::service::timers::fire_due(&s.app).await.unwrap();
    assert_eq!(
        inbox(&s, "ng.focal").await,
        [("RESPONSE_OVERDUE".to_string(), Some(r.clone()), None)],
        "escalated exactly once"
    );
    let seen = case(&s, "ng.focal", &id).await;
    assert_eq!(seen["access"], "PARTICIPANT");
    assert_eq!(
        group(&seen, "IDENTITY"),
        (&Value::Null, true),
        "the focal point gets no personal data"
    );
    let escalated = events(&case(&s, lead, &id).await)
        .into_iter()
        .filter(|e| e["details"]["action"] == "ESCALATED")
        .count();
    assert_eq!(escalated, 1);
    let r = s
        .data(
            "ng.shelter",
            "query($id: ID!) { referral(id: $id) { escalatedAt status } }",
            json!({"id": r}),
        )
        .await;
    assert!(r["referral"]["escalatedAt"].is_string());
    s.stop().await;
}

#[tokio::test]
async fn a_missing_child_alerts_the_focal_points_of_every_country_on_the_route() {
    let s = TestServer::start().await;
    let lead = "sn.childprotection";
    let (id, _) = s.open_workflow(lead, "trm-child", None).await;
    for (country, place, date) in [
        ("NE", "Niamey", "2026-01-10"),
        ("ML", "Gao", "2026-02-01"),
        ("SN", "Dakar", "2026-03-15"),
    ] {
        let body = s.gql(lead, "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
            json!({"input": {"caseId": id, "country": country, "place": place, "movedOn": date, "source": "SELF_REPORTED"}})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let body = s.gql(lead, "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
        json!({"input": {"caseId": id, "country": "XX", "movedOn": "2026-01-01", "source": "SELF_REPORTED"}})).await;
    assert_eq!(error_code(&body), "VALIDATION");
    let route = case(&s, lead, &id).await["route"].clone();
    assert_eq!(
        route
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["country"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["NE", "ML", "SN"]
    );

    let v = version(&case(&s, lead, &id).await);
    let body = s
        .fire(
            lead,
            &id,
            "report_missing",
            v,
            json!({"police_alerted": true, "guardian_alerted": true}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    for focal in ["ne.focal", "ml.focal", "sn.focal"] {
        assert_eq!(inbox(&s, focal).await[0].0, "PERSON_MISSING", "{focal}");
        let seen = case(&s, focal, &id).await;
        assert_eq!(seen["access"], "PARTICIPANT", "{focal}");
        assert!(
            seen["personalData"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g["redacted"] == true)
        );
        assert!(
            seen["route"][0]["place"].is_null(),
            "whereabouts are CONTACT data"
        );
    }
    assert!(
        inbox(&s, "ng.focal").await.is_empty(),
        "Nigeria is not on the route"
    );
    let alert = events(&case(&s, lead, &id).await)
        .into_iter()
        .find(|e| e["kind"] == "ROUTE_ALERTED")
        .unwrap();
    assert_eq!(alert["details"]["countries"], json!(["ML", "NE", "SN"]));

    let v = version(&case(&s, lead, &id).await);
    let body = s
        .fire(lead, &id, "record_found", v, json!({"risk_level": "high"}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    for focal in ["ne.focal", "ml.focal", "sn.focal"] {
        assert_eq!(inbox(&s, focal).await[0].0, "PERSON_FOUND", "{focal}");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_agency_that_knows_a_case_asks_for_it_and_the_lead_decides() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let id = case_ready_for_transfer(&s, lead).await;
    s.consent_for(lead, &id, "ng.shelter", &["IDENTITY"]).await;
    refer(&s, lead, json!({"caseId": id, "toAgencyId": s.agency_id("ng.shelter").await, "service": "REINTEGRATION", "purpose": "prepare", "sharedGroups": ["IDENTITY"]})).await;
    let body = on_transfer(
        &s,
        "ng.shelter",
        "requestTransfer",
        "RequestTransferInput",
        json!({"caseId": id, "reason": "she is back in Lagos"}),
    )
    .await;
    let t = &body["data"]["requestTransfer"]["transfer"];
    assert_eq!(t["status"], "REQUESTED", "{body}");
    let tid = t["id"].as_str().unwrap().to_string();
    assert_eq!(
        inbox(&s, lead).await[0],
        ("TRANSFER_REQUESTED".to_string(), None, Some(tid.clone()))
    );
    // The receiver cannot accept its own request; the lead approves, sharing identity.
    assert_eq!(
        error_code(&s.accept_transfer("ng.shelter", &tid).await),
        "INVALID_TRANSITION"
    );
    let body = on_transfer(
        &s,
        lead,
        "approveTransferRequest",
        "ApproveTransferRequestInput",
        json!({"transferId": tid, "sharedGroups": ["IDENTITY"]}),
    )
    .await;
    assert_eq!(
        body["data"]["approveTransferRequest"]["transfer"]["status"], "ACCEPTED",
        "{body}"
    );
    let seen = case(&s, "ng.shelter", &id).await;
    assert_eq!(seen["access"], "LEAD");
    assert_eq!(
        track_state(&seen, "return_home"),
        Some("travel_preparation")
    );
    s.stop().await;
}
