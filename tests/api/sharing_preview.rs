//! `previewReferral` and `previewTransfer`: the disclosure manifest a referral or transfer would
//! carry now and every reason it would be refused, from the checks the mutations apply; nothing
//! changed or recorded.

use crate::harness::{TestServer, to_crisis_intervention};
use serde_json::{Value, json};

const MANIFEST: &str = "allowed refusals { code message unmetGuards { name reason } }
    toAgency { id } sharedGroups withheldGroups ground { consentId overrideBasis }
    sharedTexts { field sharedAs } transition respondWithinDays";

async fn preview(s: &TestServer, user: &str, input: Value) -> Value {
    let q = format!(
        "query($input: MakeReferralInput!) {{ previewReferral(input: $input) {{ {MANIFEST} }} }}"
    );
    s.data(user, &q, json!({"input": input})).await["previewReferral"].clone()
}

async fn version_and_events(s: &TestServer, user: &str, id: &str) -> (i64, usize) {
    s.version_and_history(user, id).await
}

fn codes(manifest: &Value) -> Vec<String> {
    manifest["refusals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_referral_preview_shows_its_manifest_and_every_refusal_and_the_referral_then_agrees() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(&s, lead, &id).await;
    let ngo = s.agency_id("ng.shelter").await;
    let embassy = s.agency_id("it.embassy.ng").await;
    let to = |agency: &str, groups: &[&str]| {
        json!({"caseId": id, "toAgencyId": agency, "service": "REINTEGRATION",
            "purpose": "prepare the reception", "sharedGroups": groups})
    };
    let before = version_and_events(&s, lead, &id).await;

    // No consent yet: refused for that, said before anything is sent.
    let m = preview(&s, lead, to(&ngo, &["IDENTITY"])).await;
    assert_eq!(m["allowed"], false, "{m}");
    assert_eq!(codes(&m), ["CONSENT_REQUIRED"], "{m}");
    assert_eq!(m["ground"], Value::Null);
    assert_eq!(
        version_and_events(&s, lead, &id).await,
        before,
        "nothing recorded"
    );

    // With the person's consent for identity: the manifest, the consent it finds, the purpose
    // travelling as identity; health and the rest withheld.
    let consent = s.consent_for(lead, &id, "ng.shelter", &["IDENTITY"]).await;
    let m = preview(&s, lead, to(&ngo, &["IDENTITY"])).await;
    assert_eq!(m["allowed"], true, "{m}");
    assert_eq!(m["toAgency"]["id"], ngo.as_str());
    assert_eq!(m["sharedGroups"], json!(["IDENTITY"]));
    assert!(
        m["withheldGroups"]
            .as_array()
            .unwrap()
            .contains(&json!("HEALTH"))
    );
    assert_eq!(m["ground"]["consentId"], consent.as_str(), "{m}");
    assert_eq!(
        m["sharedTexts"],
        json!([{"field": "purpose", "sharedAs": ["IDENTITY"]}])
    );
    assert_eq!(m["respondWithinDays"], 5);
    // Health is not covered by the consent.
    let m = preview(&s, lead, to(&ngo, &["IDENTITY", "HEALTH"])).await;
    assert_eq!(codes(&m), ["CONSENT_REQUIRED"], "{m}");

    // An asylum seeker's origin authorities: a legal ban (and no consent either), in the
    // order the mutation meets them; the mutation answers the first.
    let v = version_and_events(&s, lead, &id).await.0;
    let body = s
        .fire(lead, &id, "record_asylum_application", v, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s
        .gql(lead, "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { id } } }",
            json!({"input": {"caseId": id, "country": "NG"}}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let settled = version_and_events(&s, lead, &id).await;
    let m = preview(&s, lead, to(&embassy, &["IDENTITY"])).await;
    assert_eq!(codes(&m), ["LEGAL_BAN", "CONSENT_REQUIRED"], "{m}");
    let made = s
        .gql(lead, "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": to(&embassy, &["IDENTITY"])}))
        .await;
    assert_eq!(
        made["errors"][0]["extensions"]["code"], "LEGAL_BAN",
        "{made}"
    );
    assert_eq!(
        made["errors"][0]["message"], m["refusals"][0]["message"],
        "the same words"
    );
    // Perpetrator data outside law enforcement, a supervisor's override: each said.
    let mut over = to(&s.agency_id("it.iom").await, &["IDENTITY", "PERPETRATOR"]);
    over["override"] = json!({"basis": "VITAL_INTERESTS", "justification": "urgent"});
    let m = preview(&s, lead, over.clone()).await;
    assert!(codes(&m).contains(&"LEGAL_BAN".to_string()), "{m}");
    assert!(codes(&m).contains(&"FORBIDDEN".to_string()), "{m}");
    let m = preview(&s, "it.shelter.supervisor", over).await;
    assert_eq!(codes(&m), ["LEGAL_BAN"], "{m}");
    assert_eq!(m["ground"]["overrideBasis"], "VITAL_INTERESTS");
    assert_eq!(
        m["sharedTexts"][1],
        json!({"field": "ground.overrideJustification", "sharedAs": ["IDENTITY", "PERPETRATOR"]})
    );

    // Previews change and record nothing.
    assert_eq!(version_and_events(&s, lead, &id).await, settled);

    // The referral carries what the preview said: the receiver reads identity, not health.
    let made = s
        .data(lead, "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { sharedGroups ground { consentId } } } }",
            json!({"input": to(&ngo, &["IDENTITY"])}))
        .await;
    assert_eq!(
        made["makeReferral"]["referral"]["sharedGroups"],
        json!(["IDENTITY"])
    );
    assert_eq!(
        made["makeReferral"]["referral"]["ground"]["consentId"],
        consent.as_str()
    );
    let seen = s
        .data(
            "ng.shelter",
            "query($id: ID!) { case(id: $id) { redactedFields } }",
            json!({"id": id}),
        )
        .await;
    let redacted = seen["case"]["redactedFields"].as_array().unwrap();
    assert!(redacted.contains(&json!("personalData.HEALTH")), "{seen}");
    assert!(
        !redacted.contains(&json!("personalData.IDENTITY")),
        "{seen}"
    );

    // Another agency's case: not found, as everywhere else.
    let other = s
        .gql(
            "fr.shelter",
            "query($input: MakeReferralInput!) { previewReferral(input: $input) { allowed } }",
            json!({"input": to(&ngo, &["IDENTITY"])}),
        )
        .await;
    assert_eq!(
        other["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{other}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_transfer_preview_reports_what_offer_transfer_refuses_with() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    to_crisis_intervention(&s, lead, &id).await;
    s.consent_for(lead, &id, "ng.shelter", &["IDENTITY"]).await;
    let input = json!({"caseId": id, "toAgencyId": s.agency_id("ng.shelter").await,
        "sharedGroups": ["IDENTITY"], "reason": "return agreed", "data": {}});
    let m = s
        .data(lead, &format!("query($input: OfferTransferInput!) {{ previewTransfer(input: $input) {{ {MANIFEST} }} }}"),
            json!({"input": input}))
        .await["previewTransfer"]
        .clone();
    // Not yet at the return: the workflow's transfer step cannot fire.
    assert_eq!(m["allowed"], false, "{m}");
    let offered = s
        .gql(lead, "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) { transfer { id } } }",
            json!({"input": input}))
        .await;
    assert_eq!(
        offered["errors"][0]["extensions"]["code"], m["refusals"][0]["code"],
        "{offered} {m}"
    );
    assert_eq!(offered["errors"][0]["message"], m["refusals"][0]["message"]);
    // Within the country: a referral, not a transfer.
    let mut home = input.clone();
    home["toAgencyId"] = json!(s.agency_id("it.iom").await);
    let m = s
        .data(lead, &format!("query($input: OfferTransferInput!) {{ previewTransfer(input: $input) {{ {MANIFEST} }} }}"),
            json!({"input": home}))
        .await["previewTransfer"]
        .clone();
    assert!(codes(&m).contains(&"VALIDATION".to_string()), "{m}");
    assert_eq!(
        m["sharedTexts"],
        json!([{"field": "reason", "sharedAs": ["IDENTITY"]}])
    );
    s.stop().await;
}
