//! The console shows nothing the API would not: for principals of every standing towards one
//! case (its lead, an agency it was referred to, an agency with no part in it, the auditor, a
//! focal point, the administrator), every canary written in the case's personal data and free
//! text that appears in the console's pages also appears in what the API returns to the same
//! principal; and the console does show the lead what the lead may read. The pages: the case
//! (and its personal data asked for with a purpose), its consent and referral forms, the
//! referral, the worklist, inbox, lists, the auditor's case (now and as it stood at a moment)
//! and search, the focal point's page; and a transfer of the lead on offer (the offer page, the
//! receiver's worklist and inbox).

use super::Session;
use crate::access::GROUPS;
use crate::harness::TestServer;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;

fn canary(what: &str) -> String {
    format!("canary-{}-cq", what.to_lowercase())
}

fn found(text: &str, canaries: &[String]) -> BTreeSet<String> {
    canaries
        .iter()
        .filter(|c| text.contains(c.as_str()))
        .cloned()
        .collect()
}

/// As `lead`, writes a canary in every data group of `case_id`; the canaries.
async fn record_group_canaries(s: &TestServer, lead: &str, case_id: &str) -> Vec<String> {
    let mut canaries = Vec::new();
    for g in GROUPS {
        let body = s
            .gql(
                lead,
                "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
                json!({"input": {"caseId": case_id, "group": g, "value": {"note": canary(g)}}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        canaries.push(canary(g));
    }
    canaries
}

/// The canaries the console's `html` shows `user`, which must all be among those the API
/// returned to it (`from_api`).
fn shown_within_api(
    user: &str,
    html: &str,
    canaries: &[String],
    from_api: &BTreeSet<String>,
) -> BTreeSet<String> {
    let from_console = found(html, canaries);
    assert!(
        from_console.is_subset(from_api),
        "{user} sees in the console {:?} that the API does not return to it",
        from_console.difference(from_api).collect::<Vec<_>>()
    );
    from_console
}

/// The pages' bodies, one after the other; none may have failed on the server.
fn bodies<const N: usize>(user: &str, pages: [super::Page; N]) -> String {
    let mut html = String::new();
    for page in pages {
        assert_ne!(
            page.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{user}: {}",
            page.body
        );
        html.push_str(&page.body);
    }
    html
}

#[tokio::test]
async fn no_principal_sees_in_the_console_what_the_api_would_not_return_to_it() {
    let s = TestServer::start_console().await;
    let lead = "it.shelter";
    let (case_id, _) = s.open_workflow(lead, "trm-adult", None).await;
    let mut canaries = record_group_canaries(&s, lead, &case_id).await;
    let version = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { version } }",
            json!({"id": case_id}),
        )
        .await["case"]["version"]
        .as_i64()
        .unwrap();
    let body = s
        .fire_input(
            lead,
            json!({"caseId": case_id, "transition": "start_screening", "expectedVersion": version,
                "data": {"signal_source": "hotline"}, "reason": canary("reason")}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    canaries.push(canary("reason"));
    let consent = s
        .consent_for(lead, &case_id, "ng.shelter", &["IDENTITY"])
        .await;
    let body = s
        .gql(
            lead,
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case_id, "toAgencyId": s.agency_id("ng.shelter").await,
                "service": "FAMILY_TRACING", "purpose": canary("purpose"), "sharedGroups": ["IDENTITY"],
                "consentId": consent}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    canaries.push(canary("purpose"));
    let referral_id = body["data"]["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    for user in [
        "it.shelter",
        "ng.shelter",
        "it.police",
        "auditor",
        "ng.focal",
        "admin",
    ] {
        let api = s
            .gql(
                user,
                "query($id: ID!, $r: ID!) { case(id: $id) { personalData(purpose: \"matrix check\") { value }
                   history(first: 100) { nodes { reason } } referrals { purpose } }
                   referral(id: $r) { purpose } }",
                json!({"id": case_id, "r": referral_id}),
            )
            .await;
        let from_api = found(&api.to_string(), &canaries);
        let session = Session::sign_in(&s, user).await;
        let html = bodies(
            user,
            [
                session.get(&format!("/cases/{case_id}")).await,
                session
                    .post(
                        &format!("/cases/{case_id}/personal-data"),
                        &[("purpose", "matrix check")],
                    )
                    .await,
                session.get(&format!("/referrals/{referral_id}")).await,
                session.get("/").await,
                session.get("/inbox?all=1").await,
                session.get("/referrals").await,
                session.get("/cases").await,
                session.get(&format!("/audit/cases/{case_id}")).await,
                session
                    .get(&format!("/audit/cases/{case_id}?at=2100-01-01T00:00:00Z"))
                    .await,
                session.get(&format!("/cases/{case_id}/consent")).await,
                session.get(&format!("/cases/{case_id}/refer")).await,
                session.get("/audit?country=IT").await,
                session.get("/focal-point").await,
            ],
        );
        let from_console = shown_within_api(user, &html, &canaries, &from_api);
        if user == lead {
            assert_eq!(
                from_console,
                canaries.iter().cloned().collect::<BTreeSet<_>>(),
                "the lead sees all it may read"
            );
        }
        if user == "it.police" {
            assert!(
                from_console.is_empty(),
                "an agency with no part sees nothing"
            );
        }
        if user == "ng.shelter" {
            assert!(
                from_console.contains(&canary("IDENTITY")),
                "the shared group is shown"
            );
            assert!(
                from_console.contains(&canary("purpose")),
                "the purpose addressed to it"
            );
            assert!(!from_console.contains(&canary("HEALTH")));
        }
    }
}

/// The same rule for a transfer of the lead on offer: the receiving agency's offer page, its
/// worklist and inbox show only the groups the transfer shares, and no one else sees in the
/// console more than the API returns to it.
#[tokio::test]
async fn a_transfer_offer_shows_in_the_console_only_what_the_api_returns() {
    let s = TestServer::start_console().await;
    let (lead, receiver) = ("it.shelter", "ng.shelter");
    let case_id = crate::cross_border::case_ready_for_transfer(&s, lead).await;
    let canaries = record_group_canaries(&s, lead, &case_id).await;
    s.consent_for(lead, &case_id, receiver, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    let body = s
        .offer_transfer(
            lead,
            &case_id,
            receiver,
            &["IDENTITY", "LEGAL_STATUS"],
            json!({"nationality_verified": true}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let transfer_id = body["data"]["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    for user in [lead, receiver, "it.police", "auditor", "ng.focal", "admin"] {
        let api = s
            .gql(
                user,
                "query($id: ID!, $t: ID!) { case(id: $id) { personalData(purpose: \"matrix check\") { value } }
                   transfer(id: $t) { case { personalData(purpose: \"matrix check\") { value } } } }",
                json!({"id": case_id, "t": transfer_id}),
            )
            .await;
        let from_api = found(&api.to_string(), &canaries);
        let session = Session::sign_in(&s, user).await;
        let html = bodies(
            user,
            [
                session.get(&format!("/transfers/{transfer_id}")).await,
                session.get(&format!("/cases/{case_id}")).await,
                session
                    .post(
                        &format!("/cases/{case_id}/personal-data"),
                        &[("purpose", "matrix check")],
                    )
                    .await,
                session.get("/").await,
                session.get("/inbox?all=1").await,
            ],
        );
        let from_console = shown_within_api(user, &html, &canaries, &from_api);
        if user == receiver {
            let shared: BTreeSet<String> = ["IDENTITY", "LEGAL_STATUS"].map(canary).into();
            assert!(
                from_api.is_subset(&shared),
                "the receiver reads no group the transfer does not share: {from_api:?}"
            );
            assert_eq!(
                from_console, from_api,
                "the console shows the receiver what the API gives it"
            );
        }
        if user == "it.police" {
            assert!(
                from_console.is_empty(),
                "an agency with no part sees nothing"
            );
        }
    }
}
