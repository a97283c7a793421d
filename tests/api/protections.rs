//! Protections that hold at every moment (issue 15): the person's situation changes *after*
//! sharing began, and what may no longer stand ends in the same change, on every path. Each
//! test also ends with the invariant checker over the whole database (in `TestServer::stop`).

use crate::cross_border::{
    case, consent, consent_id, events, inbox, on_referral, refer, referral_id, version,
};
use crate::harness::{TestServer, error_code, to_crisis_intervention};
use chrono::Duration;
use serde_json::{Value, json};

/// The status and reason of a referral as `user` sees it among the case's referrals.
async fn referral_status(s: &TestServer, user: &str, case_id: &str, id: &str) -> (String, Value) {
    let c = case(s, user, case_id).await;
    let r = c["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("referral {id} not on the case: {c}"));
    let full = s
        .data(
            user,
            "query($id: ID!) { node(id: $id) { ... on Referral { status statusReason } } }",
            json!({"id": id}),
        )
        .await;
    (
        r["status"].as_str().unwrap().to_string(),
        full["node"]["statusReason"].clone(),
    )
}

/// The kinds of `user`'s inbox entries.
async fn inbox_kinds(s: &TestServer, user: &str) -> Vec<String> {
    inbox(s, user)
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .collect()
}

/// The reference list of cases `user` finds.
async fn listed(s: &TestServer, user: &str) -> Vec<String> {
    let data = s
        .data(
            user,
            "{ cases(first: 100) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    data["cases"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

pub(crate) async fn fire_ok(
    s: &TestServer,
    user: &str,
    id: &str,
    transition: &str,
    data: Value,
) -> Value {
    let v = version(&case(s, user, id).await);
    let body = s.fire(user, id, transition, v, data).await;
    assert!(body.get("errors").is_none(), "{transition}: {body}");
    body
}

/// An adult case in Italy of a Nigerian woman, in crisis intervention, with her consent to
/// share her identity with the Nigerian embassy in Rome, Nigeria's focal point and a Nigerian
/// shelter; a referral to each, the embassy's accepted.
async fn shared_with_nigeria(s: &TestServer, lead: &str) -> (String, [String; 3]) {
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(s, lead, &id).await;
    let body = s.gql(lead, "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { originCountry } } }",
        json!({"input": {"caseId": id, "country": "NG"}})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let embassy = s.agency_id("it.embassy.ng").await;
    let focal = s.agency_id("ng.focal").await;
    let ngo = s.agency_id("ng.shelter").await;
    consent_id(&consent(s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [embassy, focal, ngo], "dataGroups": ["IDENTITY"]})).await);
    let mut refs = Vec::new();
    for to in [&embassy, &focal, &ngo] {
        refs.push(referral_id(&refer(s, lead, json!({"caseId": id, "toAgencyId": to, "service": "OTHER", "purpose": "travel documents", "sharedGroups": ["IDENTITY"]})).await));
    }
    let body = on_referral(
        s,
        "it.embassy.ng",
        "acceptReferral",
        json!({"referralId": refs[0]}),
    )
    .await;
    assert_eq!(
        body["data"]["acceptReferral"]["referral"]["status"], "ACCEPTED",
        "{body}"
    );
    (id, [refs[0].clone(), refs[1].clone(), refs[2].clone()])
}

#[tokio::test]
async fn an_asylum_application_ends_every_access_of_the_origin_authorities_in_the_same_change() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, [to_embassy, to_focal, to_ngo]) = shared_with_nigeria(&s, lead).await;
    // Before the application the embassy reads what was shared with it.
    assert!(!case(&s, "it.embassy.ng", &id).await.is_null());
    assert!(listed(&s, "it.embassy.ng").await.contains(&id));
    let before = version(&case(&s, lead, &id).await);

    fire_ok(&s, lead, &id, "record_asylum_application", json!({})).await;

    // At once, on every path: the case, the list, the node.
    for user in ["it.embassy.ng", "ng.focal"] {
        assert!(
            case(&s, user, &id).await.is_null(),
            "{user} still reads the case"
        );
        assert!(
            !listed(&s, user).await.contains(&id),
            "{user} still lists the case"
        );
    }
    // Their referrals ended, with a reason that says nothing of asylum; the NGO's stands.
    for (user, r) in [("it.embassy.ng", &to_embassy), ("ng.focal", &to_focal)] {
        let got = s
            .data(
                user,
                "query($id: ID!) { node(id: $id) { ... on Referral { status statusReason } } }",
                json!({"id": r}),
            )
            .await;
        assert_eq!(got["node"]["status"], "REVOKED", "{got}");
        let reason = got["node"]["statusReason"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        assert!(!reason.contains("asylum") && !reason.is_empty(), "{reason}");
    }
    assert_eq!(referral_status(&s, lead, &id, &to_ngo).await.0, "PENDING");
    assert!(
        inbox_kinds(&s, "it.embassy.ng")
            .await
            .contains(&"REFERRAL_REVOKED".to_string())
    );
    // One change: the application, the referrals ended, the access rows ended; the lead is told.
    let c = case(&s, lead, &id).await;
    let after: Vec<Value> = events(&c).into_iter().skip(before as usize).collect();
    let kinds: Vec<&str> = after.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "TRANSITION");
    assert_eq!(
        kinds.iter().filter(|k| **k == "REFERRAL").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "ACCESS_ENDED").count(),
        2,
        "{kinds:?}"
    );
    assert!(
        after
            .iter()
            .all(|e| e["kind"] == "TRANSITION" || e["details"]["protection"] == "ORIGIN_AUTHORITY")
    );
    assert!(
        inbox_kinds(&s, lead)
            .await
            .contains(&"PROTECTION_APPLIED".to_string())
    );

    // No consent and no override reaches them again ...
    let embassy = s.agency_id("it.embassy.ng").await;
    let to = |agency: &str| json!({"caseId": id, "toAgencyId": agency, "service": "OTHER", "purpose": "documents", "sharedGroups": ["IDENTITY"]});
    assert_eq!(
        error_code(&refer(&s, lead, to(&embassy)).await),
        "LEGAL_BAN"
    );
    // ... and anyone else in the origin country only on her own consent, never an override.
    let ngo = s.agency_id("ng.shelter").await;
    let mut over = to(&ngo);
    over["override"] = json!({"basis": "VITAL_INTERESTS", "justification": "urgent"});
    assert_eq!(
        error_code(&refer(&s, "it.shelter.supervisor", over).await),
        "CONSENT_REQUIRED"
    );
    // Break-glass by the origin country's focal point is refused as well.
    let reference = reference(&s, lead, &id).await;
    let body = s.gql("ng.focal", "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { case { id } } }",
        json!({"input": {"caseReference": reference, "justification": "an emergency that cannot wait"}})).await;
    assert_eq!(error_code(&body), "LEGAL_BAN", "{body}");
    s.stop().await;
}

/// An adult case of `lead`'s in crisis intervention, and IOM Italy's agency id.
async fn adult_case_in_crisis_intervention(s: &TestServer, lead: &str) -> (String, String) {
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(s, lead, &id).await;
    (id, s.agency_id("it.iom").await)
}

#[tokio::test]
async fn a_consent_withdrawn_through_the_workflow_step_suspends_what_rests_on_it() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, iom) = adult_case_in_crisis_intervention(&s, lead).await;
    let c = consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [iom], "dataGroups": ["IDENTITY"]})).await);
    let r = referral_id(&refer(&s, lead, json!({"caseId": id, "toAgencyId": iom, "service": "LEGAL", "purpose": "legal counselling", "sharedGroups": ["IDENTITY"], "respondWithinDays": 2})).await);

    fire_ok(&s, lead, &id, "withdraw_consent", json!({})).await;

    // The same act as the consent mutation: the consent is withdrawn, the referral suspended,
    // the receiver told and reading nothing personal.
    let consents = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { consents { inForce } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        consents["case"]["consents"][0]["inForce"], false,
        "{consents}"
    );
    let (status, reason) = referral_status(&s, lead, &id, &r).await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("SUSPENDED", Some("consent withdrawn"))
    );
    assert!(
        inbox_kinds(&s, "it.iom")
            .await
            .contains(&"REFERRAL_SUSPENDED".to_string())
    );
    let seen = case(&s, "it.iom", &id).await;
    assert!(
        seen["personalData"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["redacted"] == true),
        "{seen}"
    );
    let history = events(&case(&s, lead, &id).await);
    let withdrawal = history
        .iter()
        .find(|e| e["kind"] == "CONSENT_WITHDRAWN")
        .unwrap();
    assert_eq!(withdrawal["details"]["byStep"], true, "{withdrawal}");
    assert!(!c.is_empty());

    // No escalation later for an answer nobody may give any more.
    s.clock.advance(Duration::days(5));
    trm::service::timers::fire_due(&s.app).await.unwrap();
    assert!(
        !inbox_kinds(&s, "it.focal")
            .await
            .contains(&"RESPONSE_OVERDUE".to_string())
    );
    // While the step stands, a new consent is refused; after renewing, she may consent again.
    let again = json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [iom], "dataGroups": ["IDENTITY"]});
    assert_eq!(
        error_code(&consent(&s, lead, again.clone()).await),
        "INVALID_TRANSITION"
    );
    fire_ok(&s, lead, &id, "renew_consent", json!({})).await;
    consent_id(&consent(&s, lead, again).await);
    s.stop().await;
}

#[tokio::test]
async fn the_guardian_speaks_for_the_child_and_stops_speaking_at_18() {
    let s = TestServer::start().await;
    let lead = "sn.childprotection";
    let (id, _) = s.open_workflow(lead, "trm-child", None).await;
    let ngo = s.agency_id("sn.ngo").await;
    let to = json!({"caseId": id, "toAgencyId": ngo, "service": "SHELTER", "purpose": "a place to stay", "sharedGroups": ["IDENTITY"]});
    // The child's own consent is recorded, but grounds nothing.
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]})).await);
    assert_eq!(
        error_code(&refer(&s, lead, to.clone()).await),
        "CONSENT_REQUIRED"
    );
    // Before a guardian: not a guardian's consent either, and no override but child protection.
    let guardian = json!({"caseId": id, "givenBy": "GUARDIAN", "childAssent": true, "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]});
    let guardians = consent_id(&consent(&s, lead, guardian.clone()).await);
    assert_eq!(
        error_code(&refer(&s, lead, to.clone()).await),
        "CONSENT_REQUIRED"
    );
    let mut vital = to.clone();
    vital["override"] = json!({"basis": "VITAL_INTERESTS", "justification": "urgent"});
    assert_eq!(
        error_code(&refer(&s, lead, vital).await),
        "CONSENT_REQUIRED"
    );
    let mut protect = to.clone();
    protect["override"] =
        json!({"basis": "CHILD_PROTECTION", "justification": "emergency shelter tonight"});
    let urgent = referral_id(&refer(&s, lead, protect).await);

    fire_ok(
        &s,
        lead,
        &id,
        "appoint_guardian",
        json!({"guardian_appointed_by": "court", "guardian_independent": true}),
    )
    .await;
    let grounded = referral_id(&refer(&s, lead, to.clone()).await);

    // At 18 the guardian's consent stops being a ground: what rests on it is suspended at once.
    fire_ok(&s, lead, &id, "record_turning_18", json!({})).await;
    assert_eq!(
        referral_status(&s, lead, &id, &grounded).await.0,
        "SUSPENDED"
    );
    assert_eq!(referral_status(&s, lead, &id, &urgent).await.0, "PENDING");
    let mut on_guardians = to.clone();
    on_guardians["consentId"] = json!(guardians);
    assert_eq!(
        error_code(&refer(&s, lead, on_guardians).await),
        "CONSENT_REQUIRED"
    );
    // Her own consent, now, is a ground.
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]})).await);
    referral_id(&refer(&s, lead, to).await);
    s.stop().await;
}

/// The child values the workflow's return guard reads, so that a transfer may be offered.
#[tokio::test]
async fn a_childs_case_goes_only_to_a_child_protection_agency() {
    let s = TestServer::start().await;
    let lead = "sn.childprotection";
    let (id, _) = s.open_workflow(lead, "trm-child", None).await;
    fire_ok(
        &s,
        lead,
        &id,
        "appoint_guardian",
        json!({"guardian_appointed_by": "court", "guardian_independent": true}),
    )
    .await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "GUARDIAN", "childAssent": true, "purposes": ["RETURN", "SHARING"], "countries": ["NG", "ML"], "dataGroups": ["IDENTITY"]})).await);
    let offer = |to: String| json!({"input": {"caseId": id, "toAgencyId": to, "sharedGroups": ["IDENTITY"]}});
    let q = "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) { transfer { status } } }";
    let body = s.gql(lead, q, offer(s.agency_id("ng.shelter").await)).await;
    assert_eq!(error_code(&body), "LEGAL_BAN", "{body}");
    let body = s
        .gql(lead, q, offer(s.agency_id("ml.childprotection").await))
        .await;
    assert_ne!(
        body.get("errors").map(|_| error_code(&body)),
        Some("LEGAL_BAN"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn death_ends_open_referrals_and_nothing_new_is_shared() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, iom) = adult_case_in_crisis_intervention(&s, lead).await;
    consent_id(&consent(&s, lead, json!({"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "agencyIds": [iom], "dataGroups": ["IDENTITY"]})).await);
    let to = json!({"caseId": id, "toAgencyId": iom, "service": "LEGAL", "purpose": "legal counselling", "sharedGroups": ["IDENTITY"]});
    let r = referral_id(&refer(&s, lead, to.clone()).await);
    on_referral(&s, "it.iom", "acceptReferral", json!({"referralId": r})).await;

    fire_ok(
        &s,
        lead,
        &id,
        "record_death",
        json!({"death_confirmed": true}),
    )
    .await;

    let (status, reason) = referral_status(&s, lead, &id, &r).await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("REVOKED", Some("the case ended"))
    );
    assert!(
        inbox_kinds(&s, "it.iom")
            .await
            .contains(&"REFERRAL_REVOKED".to_string())
    );
    assert_eq!(error_code(&refer(&s, lead, to).await), "INVALID_TRANSITION");
    // No further assistance or return step.
    let c = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { availableTransitions { key track } } }",
            json!({"id": id}),
        )
        .await;
    let ids: Vec<&str> = c["case"]["availableTransitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            ["assistance", "long_term", "return_home"]
                .contains(&t["track"].as_str().unwrap_or_default())
        })
        .filter_map(|t| t["key"].as_str())
        .collect();
    assert!(ids.is_empty(), "{ids:?}");
    s.stop().await;
}

#[tokio::test]
async fn the_invariant_checker_names_the_first_case_whose_protections_do_not_hold() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, [_, _, _]) = shared_with_nigeria(&s, lead).await;
    let (read, violation) = trm::service::protections::check_all(&s.app).await.unwrap();
    assert!(read >= 1 && violation.is_none(), "{violation:?}");
    // Behind the service's back: an asylum application written straight into the facts, so
    // the referrals to the origin authorities stand on an asylum seeker's case.
    let reference = reference(&s, lead, &id).await;
    let sql = format!(
        "UPDATE cases SET facts = '{}' WHERE reference = '{reference}'",
        json!({"asylum_applied": true}),
    );
    use sea_orm::ConnectionTrait;
    s.app.store.conn().execute_unprepared(&sql).await.unwrap();
    let (_, violation) = trm::service::protections::check_all(&s.app).await.unwrap();
    let v = violation.expect("the checker finds the violation");
    let text = v.to_string();
    assert!(
        text.contains("ORIGIN_AUTHORITY") && text.contains(&reference),
        "{text}"
    );
    assert_eq!(v.reference, reference);
    s.stop_tampered().await;
}

/// A case's reference, as `user` reads it.
async fn reference(s: &TestServer, user: &str, id: &str) -> String {
    let c = s
        .data(
            user,
            "query($id: ID!) { case(id: $id) { reference } }",
            json!({"id": id}),
        )
        .await;
    c["case"]["reference"].as_str().unwrap().to_string()
}
