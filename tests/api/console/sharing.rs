//! Sharing in the console over HTTP: the consent form (record, withdraw) and the referral form,
//! whose preview is the API's disclosure manifest (`previewReferral`): what the receiver will
//! see, and why the service would refuse it, before anything is sent.

use super::{Session, text};
use crate::harness::{TestServer, to_crisis_intervention};
use reqwest::StatusCode;
use serde_json::json;

const NAME: &str = "Amara Testcase-Eze";
const DIAGNOSIS: &str = "synthetic-diagnosis-5150";

/// The section `id` of a page, as text.
fn section(body: &str, id: &str) -> String {
    let start = body
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let end = body[start..]
        .find("</section>")
        .map_or(body.len(), |e| start + e);
    text(&body[start..end])
}

/// Sends the referral form (identity to `to`, for reintegration) with `action`.
async fn refer(italy: &Session, id: &str, to: &str, version: i64, action: &str) -> super::Page {
    let version = version.to_string();
    italy
        .post(
            &format!("/cases/{id}/refer"),
            &[
                ("to", to),
                ("service", "REINTEGRATION"),
                ("groups", "IDENTITY"),
                ("purpose", "Prepare the reception"),
                ("version", version.as_str()),
                ("action", action),
            ],
        )
        .await
}

#[tokio::test]
async fn consent_recorded_and_withdrawn_in_the_console_decides_what_the_referral_preview_allows() {
    let s = TestServer::start_console().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(&s, lead, &id).await;
    for (group, value) in [
        ("IDENTITY", json!({"full_name": NAME})),
        ("HEALTH", json!({"diagnosis": DIAGNOSIS})),
    ] {
        s.data(lead, "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { id } } }",
            json!({"input": {"caseId": id, "group": group, "value": value}}))
            .await;
    }
    let ngo = s.agency_id("ng.shelter").await;
    let italy = Session::sign_in(&s, lead).await;
    let version = || async { s.version_and_history(lead, &id).await.0 };
    // Without consent: the preview says it would be refused and why, and offers no sending.
    let page = refer(&italy, &id, &ngo, version().await, "preview").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let preview = section(&page.body, "preview");
    assert!(preview.contains("Consent missing."), "{preview}");
    assert!(!page.body.contains("value=\"send\""), "no send button");

    // The consent form: the person's consent to share identity with the Nigerian shelter.
    let form = italy.get(&format!("/cases/{id}/consent")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains("No consent recorded."));
    let recorded = italy
        .post(
            &format!("/cases/{id}/consent"),
            &[
                ("givenBy", "PERSON"),
                ("purposes", "SERVICES"),
                ("purposes", "RETURN"),
                ("groups", "IDENTITY"),
                ("agencies", ngo.as_str()),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    assert_eq!(
        recorded.location.as_deref(),
        Some(format!("/cases/{id}/consent").as_str())
    );
    let consents = s
        .data(lead, "query($id: ID!) { case(id: $id) { consents { id inForce purposes dataGroups agencies { id } } } }",
            json!({"id": id}))
        .await["case"]["consents"]
        .clone();
    assert_eq!(consents.as_array().unwrap().len(), 1, "{consents}");
    assert_eq!(consents[0]["dataGroups"], json!(["IDENTITY"]));
    assert_eq!(consents[0]["agencies"][0]["id"], ngo.as_str());
    let consent = consents[0]["id"].as_str().unwrap().to_string();
    assert!(
        italy
            .get(&format!("/cases/{id}/consent"))
            .await
            .text()
            .contains("In force")
    );

    // Now the preview finds that consent and shows what the receiver will see.
    let page = refer(&italy, &id, &ngo, version().await, "preview").await;
    let preview = section(&page.body, "preview");
    assert!(!preview.contains("Consent missing."), "{preview}");
    assert!(preview.contains("Under the consent"), "{preview}");
    let shared = &preview
        [preview.find("Shared with them").unwrap()..preview.find("Withheld from them").unwrap()];
    assert!(
        shared.contains("Identity") && !shared.contains("Health"),
        "{shared}"
    );
    assert!(preview[preview.find("Withheld from them").unwrap()..].contains("Health"));
    assert!(page.body.contains("value=\"send\""));
    // Sent: the referral, then the receiver sees what the preview said, and no more.
    let sent = refer(&italy, &id, &ngo, version().await, "send").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(sent.location.as_deref().unwrap().starts_with("/referrals/"));
    let nigeria = Session::sign_in(&s, "ng.shelter").await;
    let seen = nigeria
        .post(
            &format!("/cases/{id}/personal-data"),
            &[("purpose", "Prepare the reception")],
        )
        .await;
    let seen = if seen.status == StatusCode::SEE_OTHER {
        nigeria.get(seen.location.as_deref().unwrap()).await
    } else {
        seen
    };
    let personal = section(&seen.body, "personal");
    assert!(personal.contains(NAME), "{personal}");
    assert!(!personal.contains(DIAGNOSIS), "{personal}");
    assert!(personal.contains("Withheld"), "{personal}");

    // The person withdraws the consent (console form): it is no longer in force, and the
    // preview says so again before anything is sent.
    let withdrawn = italy
        .post(
            &format!("/cases/{id}/consent/withdraw"),
            &[("consent", consent.as_str())],
        )
        .await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.body
    );
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
    assert!(
        italy
            .get(&format!("/cases/{id}/consent"))
            .await
            .text()
            .contains("Withdrawn")
    );
    let page = refer(&italy, &id, &ngo, version().await, "preview").await;
    assert!(section(&page.body, "preview").contains("Consent missing."));
    // A form without the session's token records nothing.
    let forged = italy
        .post_raw(
            &format!("/cases/{id}/consent"),
            &[
                ("csrf", "forged"),
                ("givenBy", "PERSON"),
                ("groups", "IDENTITY"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test]
async fn the_referral_preview_names_a_legal_ban_in_french() {
    let s = TestServer::start_console().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    let v = to_crisis_intervention(&s, lead, &id).await;
    let body = s
        .fire(lead, &id, "record_asylum_application", v, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let italy = Session::sign_in(&s, lead).await;
    let lang = italy.post("/language", &[("lang", "fr")]).await;
    assert!(lang.status.is_redirection(), "{}", lang.body);
    let embassy = s.agency_id("it.embassy.ng").await;
    let page = italy
        .post(
            &format!("/cases/{id}/refer"),
            &[
                ("to", embassy.as_str()),
                ("service", "OTHER"),
                ("groups", "IDENTITY"),
                ("purpose", "documents de voyage"),
                ("action", "preview"),
            ],
        )
        .await;
    let preview = section(&page.body, "preview");
    assert!(preview.contains("Interdiction légale"), "{preview}");
    assert!(preview.contains("Consentement manquant"), "{preview}");
    assert!(!page.body.contains("value=\"send\""));
    s.stop().await;
}
