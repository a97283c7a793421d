//! The auditor's timeline and case file, and the pages of focal points and administrators, in
//! the browser.

use crate::browser::{Browser, sign_in, skipped};
use crate::harness::TestServer;
use serde_json::json;

#[tokio::test]
async fn the_auditor_finds_a_case_reads_its_timeline_and_takes_its_case_file() {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let (case_id, reference) = s.open_workflow("it.shelter", "trm-adult", None).await;
    let body = s
        .fire_input(
            "it.shelter",
            json!({"caseId": case_id, "transition": "start_screening", "expectedVersion": 1,
                "data": {"signal_source": "hotline"}, "reason": "Call to the hotline"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let mut b = Browser::start(&s.url, "en").await;
    sign_in(&mut b, "auditor").await;
    b.click("header a[href='/audit']").await;
    b.type_into("#reference", &reference).await;
    b.click("form[role=search] button[type=submit]").await;
    b.click("main table a[href^='/audit/cases/']").await;
    let timeline = b.find("#timeline").await.text().await.unwrap();
    assert!(
        timeline.contains("Demo Case Worker (IT shelter)"),
        "{timeline}"
    );
    assert!(
        timeline.contains("Call to the hotline"),
        "the auditor reads every reason"
    );
    b.screenshot("audit-timeline").await;
    // The case file, downloaded by the browser with the form as it is (token included).
    let answer = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             const form = document.querySelector('#case-file form');\
             form.querySelector('[name=purpose]').value = 'Oversight review';\
             const data = new URLSearchParams(new FormData(form)); data.set('format', 'json');\
             fetch(form.action, {method: 'POST', body: data}).then(async r => done({\
               status: r.status, type: r.headers.get('content-type'),\
               disposition: r.headers.get('content-disposition'),\
               verification: r.headers.get('case-file-verification'), body: await r.text()}));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(answer["disposition"].as_str().unwrap().contains(&reference));
    let file: serde_json::Value =
        serde_json::from_str(answer["body"].as_str().unwrap()).expect("the case file is JSON");
    assert!(file.to_string().contains("Call to the hotline"));
    assert!(answer["verification"].as_str().is_some(), "{answer}");
    b.assert_urls_free_of(&["Call to the hotline", "Oversight review"]);
    b.close().await;
}

#[tokio::test]
async fn the_pages_of_auditors_focal_points_and_administrators_have_no_serious_accessibility_violation()
 {
    if skipped() {
        return;
    }
    let s = TestServer::start_console().await;
    let (case_id, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    let mut report = Vec::new();
    for (user, paths) in [
        (
            "auditor",
            vec!["/audit".to_string(), format!("/audit/cases/{case_id}")],
        ),
        ("it.focal", vec!["/focal-point".to_string()]),
        ("admin", vec!["/admin".to_string()]),
    ] {
        let mut b = Browser::start(&s.url, "en").await;
        sign_in(&mut b, user).await;
        report.extend(b.accessibility_of(user, &paths).await);
        b.screenshot(&format!("home-{user}")).await;
        b.assert_urls_free_of(&[]);
        b.close().await;
    }
    assert!(
        report.is_empty(),
        "serious or critical violations:\n{}",
        report.join("\n")
    );
}
