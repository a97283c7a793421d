//! A case worked in the browser: the README's first session by clicking, a refusal with its
//! reason, a version conflict between two users, a double click, and accessibility.

use crate::browser::{Browser, sign_in, skipped};
use crate::harness::TestServer;
use serde_json::json;

/// Opens a new adult case from the cases page; the case's API id.
pub async fn open_case(b: &mut Browser) -> String {
    b.go("/cases").await;
    b.find("#open input[value='trm-adult']")
        .await
        .click()
        .await
        .unwrap();
    b.click("#open button[type=submit]").await;
    let path = b.client.current_url().await.unwrap().path().to_string();
    path.trim_start_matches("/cases/").to_string()
}

/// Opens the step `key` on the case page, fills `fields` (css, value: a select's value, a
/// radio's css with "click", or text) and sends it.
pub async fn take_step(b: &mut Browser, key: &str, fields: &[(&str, &str)]) {
    b.find(&format!("#step-{key} > summary"))
        .await
        .click()
        .await
        .unwrap();
    for (css, value) in fields {
        let css = format!("#step-{key} {css}");
        let element = b.find(&css).await;
        match (element.tag_name().await.unwrap().as_str(), *value) {
            ("select", v) => element.select_by_value(v).await.unwrap(),
            (_, "click") => element.click().await.unwrap(),
            (_, v) => b.type_into(&css, v).await,
        }
    }
    b.click(&format!("#step-{key} button[type=submit]")).await;
}

#[tokio::test]
async fn the_first_session_of_the_readme_done_by_clicking() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "it.shelter").await;
    let case_id = open_case(&mut b).await;
    let text = b.main_text().await;
    assert!(text.contains("IT-20"), "the case has its reference: {text}");
    assert!(text.contains("Signal received"));
    assert_eq!(
        b.find("#tracks svg .state.current text")
            .await
            .text()
            .await
            .unwrap(),
        "Signal received",
        "the picture marks the current state"
    );
    take_step(
        &mut b,
        "start_screening",
        &[
            ("select[name='f.signal_source']", "front_line_indicators"),
            ("textarea[name=reason]", "Indicators noticed at intake"),
        ],
    )
    .await;
    assert!(b.main_text().await.contains("Recorded: Start screening"));
    // Without consent: refused, with the guard's reason, nothing changes.
    let yes_no = |fact: &str, answer: &str| format!("input[name='f.{fact}'][value='{answer}']");
    let (indicators, rights, no_consent, consent) = (
        yes_no("indicators_found", "true"),
        yes_no("informed_of_rights", "true"),
        yes_no("consent_to_referral", "false"),
        yes_no("consent_to_referral", "true"),
    );
    take_step(
        &mut b,
        "record_presumed_victim",
        &[
            (indicators.as_str(), "click"),
            (rights.as_str(), "click"),
            (no_consent.as_str(), "click"),
        ],
    )
    .await;
    let flash = b.find("#flash").await.text().await.unwrap();
    assert!(flash.contains("conditions are not met"), "{flash}");
    assert!(
        flash.contains("informed consent"),
        "the reason is shown: {flash}"
    );
    b.screenshot("refused-step").await;
    let (version, _) = s.version_and_history("it.shelter", &case_id).await;
    assert_eq!(version, 2);
    // The form stayed open with what was chosen; now with consent.
    b.find(&format!("#step-record_presumed_victim {consent}"))
        .await
        .click()
        .await
        .unwrap();
    b.click("#step-record_presumed_victim button[type=submit]")
        .await;
    let text = b.main_text().await;
    assert!(
        text.contains("Recorded: Record reasonable grounds"),
        "{text}"
    );
    // The recovery and reflection period runs, with its legal citation and countdown.
    let deadlines = b.find("#deadlines").await.text().await.unwrap();
    assert!(deadlines.contains("runs 30 more days"), "{deadlines}");
    assert!(
        deadlines.contains("Art."),
        "the legal citation: {deadlines}"
    );
    b.screenshot("case").await;
    // The history as a timeline, newest first, with who and why.
    let history = b.find("#history").await.text().await.unwrap();
    assert!(history.contains("Demo Case Worker (IT shelter)"));
    assert!(history.contains("Indicators noticed at intake"));
    let first = history.find("Record reasonable grounds").unwrap();
    let earlier = history.find("Start screening").unwrap();
    assert!(first < earlier, "newest first");
    b.assert_urls_free_of(&["Indicators noticed"]);
    b.close().await;
}

#[tokio::test]
async fn two_users_on_one_case_the_second_is_told_of_the_change_and_reloads() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut first = Browser::start(&s.url, "en").await;
    sign_in(&mut first, "it.shelter").await;
    let case_id = open_case(&mut first).await;
    let mut second = Browser::start(&s.url, "en").await;
    sign_in(&mut second, "it.shelter.supervisor").await;
    second.go(&format!("/cases/{case_id}")).await;
    take_step(
        &mut first,
        "start_screening",
        &[("select[name='f.signal_source']", "hotline")],
    )
    .await;
    take_step(
        &mut second,
        "start_screening",
        &[("select[name='f.signal_source']", "self_report")],
    )
    .await;
    let flash = second.find("#flash").await.text().await.unwrap();
    assert!(flash.contains("Someone else changed this case"), "{flash}");
    second.screenshot("version-conflict").await;
    second.click("#flash a.button").await;
    let text = second.main_text().await;
    assert!(
        text.contains("hotline"),
        "the reloaded case shows the other's step: {text}"
    );
    assert!(!text.contains("self report"));
    first.assert_urls_free_of(&[]);
    second.assert_urls_free_of(&[]);
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn a_double_click_takes_the_step_once() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "it.shelter").await;
    let case_id = open_case(&mut b).await;
    b.find("#step-start_screening > summary")
        .await
        .click()
        .await
        .unwrap();
    b.select("#step-start_screening select", "hotline").await;
    b.client
        .execute(
            "const button = document.querySelector('#step-start_screening button[type=submit]');\
             button.click(); button.click();",
            vec![],
        )
        .await
        .unwrap();
    b.settle().await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (version, events) = s.version_and_history("it.shelter", &case_id).await;
    assert_eq!((version, events), (2, 2), "opened, then one step");
    b.assert_urls_free_of(&[]);
    b.close().await;
}

#[tokio::test]
async fn the_main_pages_have_no_serious_accessibility_violation() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let consent = s
        .consent_for("it.shelter", &case_id, "ng.shelter", &["IDENTITY"])
        .await;
    let referral = s
        .data(
            "it.shelter",
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case_id, "toAgencyId": s.agency_id("ng.shelter").await,
                "service": "FAMILY_TRACING", "purpose": "trace the family", "sharedGroups": ["IDENTITY"],
                "consentId": consent}}),
        )
        .await["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = Browser::start(&s.url, "en").await;
    let mut report = b
        .accessibility_of("signed out", &["/sign-in".to_string()])
        .await;
    sign_in(&mut b, "it.shelter").await;
    let pages = [
        "/".to_string(),
        "/cases".to_string(),
        "/inbox".to_string(),
        "/referrals".to_string(),
        format!("/cases/{case_id}"),
        format!("/cases/{case_id}/refer"),
        format!("/cases/{case_id}/consent"),
        format!("/referrals/{referral}"),
    ];
    report.extend(b.accessibility_of("en", &pages).await);
    b.assert_urls_free_of(&["trace the family"]);
    b.close().await;
    // The same pages in French (longer words, other labels).
    let mut fr = Browser::start(&s.url, "fr").await;
    sign_in(&mut fr, "it.shelter").await;
    report.extend(fr.accessibility_of("fr", &pages).await);
    fr.close().await;
    assert!(
        report.is_empty(),
        "serious or critical violations:\n{}",
        report.join("\n")
    );
}

#[tokio::test]
async fn the_worklist_shows_an_answer_as_it_arrives_without_a_reload() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let (case_id, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    let consent = s
        .consent_for("it.shelter", &case_id, "ng.shelter", &["IDENTITY"])
        .await;
    let referral = s
        .data(
            "it.shelter",
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case_id, "toAgencyId": s.agency_id("ng.shelter").await,
                "service": "FAMILY_TRACING", "purpose": "trace the family", "sharedGroups": ["IDENTITY"],
                "consentId": consent}}),
        )
        .await["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "it.shelter").await;
    assert!(!b.main_text().await.contains("Referral answered"));
    // Mark the page, so that a reload would be seen.
    b.client
        .execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    s.data(
        "ng.shelter",
        "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { id } } }",
        json!({"input": {"referralId": referral}}),
    )
    .await;
    let mut seen = false;
    for _ in 0..100 {
        if b.main_text().await.contains("Referral answered") {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "the answer appears on the open page");
    let same_page = b
        .client
        .execute("return window.notReloaded === true", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::Value::Bool(true), "without a reload");
    b.assert_urls_free_of(&["trace the family"]);
    b.close().await;
}
