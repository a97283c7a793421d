//! Italy → Nigeria: the Italian shelter records the person's consent and refers her to the
//! Nigerian shelter for her return, by clicking, each agency in its own browser session; the
//! preview says what the receiver will see (and why the service would refuse), and the
//! receiver sees only that.

use crate::browser::{Browser, sign_in, skipped};
use crate::harness::{TestServer, steps_to_origin_contact, to_crisis_intervention};
use serde_json::json;

const NAME: &str = "Blessing Testcase-Okoro";
const DIAGNOSIS: &str = "synthetic-diagnosis-7731";
const PURPOSE: &str = "Prepare the reception in Benin City";

#[tokio::test]
async fn italy_refers_a_return_to_nigeria_and_the_nigerian_shelter_sees_only_what_was_shared() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    // The case up to the contact with the country of origin, by the API (the first session
    // test clicks through the first steps).
    let lead = "it.shelter";
    let (case_id, reference) = s.open_workflow(lead, "trm-adult", None).await;
    let mut version = to_crisis_intervention(&s, lead, &case_id).await;
    for (step, data) in steps_to_origin_contact() {
        let body = s.fire(lead, &case_id, step, version, data).await;
        assert!(body.get("errors").is_none(), "{step}: {body}");
        version += 1;
    }
    for (group, value) in [
        ("IDENTITY", json!({"full_name": NAME, "nationality": "NG"})),
        ("HEALTH", json!({"diagnosis": DIAGNOSIS})),
    ] {
        let body = s
            .gql(
                lead,
                "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
                json!({"input": {"caseId": case_id, "group": group, "value": value}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let nigeria = s.agency_id("ng.shelter").await;

    // Italy: the person's consent, recorded on the case's consent form.
    let mut italy = Browser::start(&s.url, "en").await;
    sign_in(&mut italy, lead).await;
    italy.go(&format!("/cases/{case_id}")).await;
    italy.click("a[href$='/consent']").await;
    for css in [
        "input[name=givenBy][value=PERSON]",
        "input[name=purposes][value=SERVICES]",
        "input[name=purposes][value=RETURN]",
        "input[name=groups][value=IDENTITY]",
        "input[name=groups][value=CONTACT]",
    ] {
        italy.find(css).await.click().await.unwrap();
    }
    italy.select("#agencies", &nigeria).await;
    italy
        .click("form[action$='/consent'] button[type=submit]")
        .await;
    let consents = italy.find("#consents-h + ul").await.text().await.unwrap();
    assert!(consents.contains("In force"), "{consents}");

    // The referral as a guided form, previewed before it is sent: health is not covered by
    // the consent, and the preview says so before anything is sent.
    italy.go(&format!("/cases/{case_id}")).await;
    italy.click("a[href$='/refer']").await;
    italy.select("#to", &nigeria).await;
    italy.select("#service", "REINTEGRATION").await;
    italy
        .find("input[name=groups][value=IDENTITY]")
        .await
        .click()
        .await
        .unwrap();
    italy
        .find("input[name=consent]")
        .await
        .click()
        .await
        .unwrap();
    italy.type_into("#purpose", PURPOSE).await;
    italy
        .find("input[name=groups][value=HEALTH]")
        .await
        .click()
        .await
        .unwrap();
    italy.click("button[value=preview]").await;
    let refused = italy.find("#refusals").await.text().await.unwrap();
    assert!(refused.contains("Consent missing"), "{refused}");
    assert!(
        italy
            .client
            .find(fantoccini::Locator::Css("button[value=send]"))
            .await
            .is_err(),
        "nothing to send while the service would refuse it"
    );
    italy
        .find("input[name=groups][value=HEALTH]")
        .await
        .click()
        .await
        .unwrap();
    italy.click("button[value=preview]").await;
    let preview = italy.find("#preview").await.text().await.unwrap();
    assert!(preview.contains("Demo"), "{preview}");
    let shared = italy.find("#preview ul.shared").await.text().await.unwrap();
    assert_eq!(shared.trim(), "Identity");
    let withheld = italy
        .find("#preview ul.withheld")
        .await
        .text()
        .await
        .unwrap();
    assert!(withheld.contains("Health"), "{withheld}");
    assert!(
        preview.contains("Under the consent"),
        "the consent it relies on: {preview}"
    );
    italy.screenshot("referral-preview").await;
    italy.click("button[value=send]").await;
    assert!(
        italy
            .client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/referrals/")
    );
    assert!(italy.main_text().await.contains("Pending"));

    // Nigeria: the offer in its list, with only the shared group; accepted.
    let mut lagos = Browser::start(&s.url, "en").await;
    sign_in(&mut lagos, "ng.shelter").await;
    lagos.go("/referrals").await;
    let list = lagos.main_text().await;
    assert!(list.contains(&reference), "{list}");
    lagos.click("main table a").await;
    let offer = lagos.main_text().await;
    assert!(
        offer.contains(PURPOSE),
        "the purpose is addressed to the receiver: {offer}"
    );
    assert!(offer.contains("Identity"));
    lagos.screenshot("referral-received").await;
    lagos.click("button[value=accept]").await;
    assert!(lagos.main_text().await.contains("Accepted"));
    lagos.click("a[href^='/cases/']").await;
    lagos.type_into("#purpose", "Prepare the reception").await;
    lagos.click("#personal button[type=submit]").await;
    let personal = lagos.find("#personal").await.text().await.unwrap();
    assert!(
        personal.contains(NAME),
        "the shared group is shown: {personal}"
    );
    assert!(!personal.contains(DIAGNOSIS), "health was not shared");
    assert!(
        personal.contains("Withheld"),
        "withheld groups say so: {personal}"
    );
    lagos
        .client
        .execute(
            "document.getElementById('personal').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    lagos.screenshot("receiver-case").await;

    // Italy sees the answer in its inbox (live list) and the case's referral accepted.
    italy.go("/inbox").await;
    assert!(italy.main_text().await.contains("Referral answered"));
    italy.go(&format!("/cases/{case_id}")).await;
    assert!(
        italy
            .find("#referrals")
            .await
            .text()
            .await
            .unwrap()
            .contains("Accepted")
    );

    // Italy offers the lead of the case to Nigeria (the workflow's transfer step), sharing
    // identity only; Nigeria accepts it and leads the return from now on.
    italy.go(&format!("/cases/{case_id}")).await;
    italy
        .find("#step-record_case_transfer > summary")
        .await
        .click()
        .await
        .unwrap();
    italy.click("#step-record_case_transfer a.button").await;
    italy.select("#to", &nigeria).await;
    italy
        .find("input[name='f.nationality_verified'][value=true]")
        .await
        .click()
        .await
        .unwrap();
    italy
        .find("input[name=groups][value=IDENTITY]")
        .await
        .click()
        .await
        .unwrap();
    italy
        .find("input[name=consent]")
        .await
        .click()
        .await
        .unwrap();
    italy
        .type_into("#purpose", "Return agreed with the person")
        .await;
    italy.click("button[value=preview]").await;
    italy.click("button[value=send]").await;
    assert!(
        italy
            .client
            .current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/transfers/")
    );
    lagos.go("/").await;
    let work = lagos.main_text().await;
    assert!(work.contains("Transfer to decide"), "{work}");
    lagos.click("#work a[href^='/transfers/']").await;
    lagos.screenshot("transfer-offered").await;
    lagos.click("button[value=accept]").await;
    assert!(lagos.main_text().await.contains("Accepted"));
    lagos.click("a[href^='/cases/']").await;
    let case = lagos.main_text().await;
    assert!(case.contains("Your access: Lead agency"), "{case}");
    assert!(case.contains("Demo"), "{case}");

    // No URL either browser visited carries anything about the person or typed text.
    for b in [&italy, &lagos] {
        b.assert_urls_free_of(&[
            NAME,
            "Blessing",
            "Okoro",
            DIAGNOSIS,
            PURPOSE,
            "Benin",
            "reception",
        ]);
    }
    italy.close().await;
    lagos.close().await;
}
