//! The console shows nothing the API would not: for principals of every standing towards one
//! case (its lead, an agency it was referred to, an agency with no part in it, the auditor, a
//! focal point, the administrator), every canary written in the case's personal data and free
//! text that appears in the console's pages also appears in what the API returns to the same
//! principal; and the console does show the lead what the lead may read. The pages: the case
//! (and its personal data asked for with a purpose), its consent and referral forms, the
//! referral, the worklist, inbox, lists, the auditor's case (now and as it stood at a moment)
//! and search, the focal point's page.

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

#[tokio::test]
async fn no_principal_sees_in_the_console_what_the_api_would_not_return_to_it() {
    let s = TestServer::start_console().await;
    let lead = "it.shelter";
    let (case_id, _) = s.open_workflow(lead, "trm-adult", None).await;
    let mut canaries: Vec<String> = Vec::new();
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
        let mut html = String::new();
        for page in [
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
        ] {
            assert_ne!(
                page.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{user}: {}",
                page.body
            );
            html.push_str(&page.body);
        }
        let from_console = found(&html, &canaries);
        assert!(
            from_console.is_subset(&from_api),
            "{user} sees in the console {:?} that the API does not return to it",
            from_console.difference(&from_api).collect::<Vec<_>>()
        );
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
