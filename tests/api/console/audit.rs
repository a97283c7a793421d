//! The auditor's pages over HTTP: the log's checkpoint and verification, event search, a
//! case's whole timeline (page by page) with its disclosures, access log and emergency accesses
//! exactly as the API gives them to the auditor, the case as it stood at a moment, and the case
//! file downloaded as JSON that verifies and as a printable page. To anyone else the pages do not
//! exist.

use super::{Session, text};
use crate::harness::{TestServer, to_crisis_intervention};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

const LEAD: &str = "it.shelter";

/// The events of a case as the auditor gets them from the API: sequence and reason.
async fn history(s: &TestServer, id: &str) -> Vec<(i64, Option<String>)> {
    let data = s
        .data(
            "auditor",
            "query($id: ID!) { case(id: $id) { history(first: 100) { nodes { sequence reason } } } }",
            json!({"id": id}),
        )
        .await;
    data["case"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["sequence"].as_i64().unwrap(),
                e["reason"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// The text of the events found on the audit page.
fn results(body: &str) -> String {
    let table = &body[body.find("<tbody>").expect("events found")..];
    text(&table[..table.find("</tbody>").unwrap()])
}

/// The sequences in the timeline table of an audit case page.
fn sequences(body: &str) -> Vec<i64> {
    let timeline = &body[body.find("id=\"timeline\"").unwrap()..];
    let table = &timeline[..timeline.find("</table>").unwrap_or(timeline.len())];
    table
        .split("<tr>")
        .skip(2)
        .filter_map(|row| {
            let cell = row.trim_start().strip_prefix("<td>")?;
            cell[..cell.find("</td>")?].parse().ok()
        })
        .collect()
}

/// A case with a long history: steps, a referral on consent, a read of personal data with a
/// purpose, an emergency access by another country's focal point, many movements.
async fn busy_case(s: &TestServer) -> (String, String) {
    let (id, reference) = s.open_case(LEAD).await;
    to_crisis_intervention(s, LEAD, &id).await;
    s.refer_for(LEAD, &id, "ng.shelter", "FAMILY_TRACING", &["IDENTITY"])
        .await;
    s.data(
        LEAD,
        "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { id } } }",
        json!({"input": {"caseId": id, "group": "IDENTITY", "value": {"note": "recorded at intake"}}}),
    )
    .await;
    s.data(
        LEAD,
        "query($id: ID!) { case(id: $id) { personalData(purpose: \"prepare the shelter admission\") { group } } }",
        json!({"id": id}),
    )
    .await;
    s.data(
        "bg.focal",
        "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { access { id } } }",
        json!({"input": {"caseReference": reference, "minutes": 30,
            "justification": "The police report an imminent danger to the person"}}),
    )
    .await;
    for day in 1..=45 {
        s.data(
            LEAD,
            "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
            json!({"input": {"caseId": id, "country": "IT", "movedOn": format!("2025-01-{:02}", day % 28 + 1),
                "source": "SELF_REPORTED"}}),
        )
        .await;
    }
    (id, reference)
}

#[tokio::test]
async fn an_auditor_reads_a_cases_whole_timeline_disclosures_access_log_and_emergency_accesses() {
    let s = TestServer::start_console().await;
    let (id, reference) = busy_case(&s).await;
    let auditor = Session::sign_in(&s, "auditor").await;

    // The search finds the case by its reference and links to its audit page.
    let found = auditor
        .get(&format!("/audit?reference={}", reference.to_lowercase()))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert!(found.body.contains(&format!("href=\"/audit/cases/{id}\"")));
    assert!(found.text().contains("Case opened"), "{}", found.text());
    let by_kind = auditor
        .get("/audit?kind=BREAK_GLASS&country=IT&from=2000-01-01")
        .await;
    let found = results(&by_kind.body);
    assert!(found.contains(&reference), "{found}");
    assert!(found.contains("Emergency access"), "{found}");
    assert!(!found.contains("Movement recorded"), "{found}");

    // Every event, page by page, with its reason, exactly as the API gives them.
    let events = history(&s, &id).await;
    assert!(events.len() > 50, "{} events", events.len());
    let first = auditor.get(&format!("/audit/cases/{id}")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let next = super::link(&first.body, "Next page").expect("a second page");
    let second = auditor.get(&next).await;
    let mut shown = sequences(&first.body);
    assert_eq!(shown.len(), 50);
    shown.extend(sequences(&second.body));
    let expected: Vec<i64> = events.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(shown, expected, "every event once, in order");
    for (seq, reason) in &events {
        if let Some(reason) = reason {
            let page = if *seq <= 50 { &first } else { &second };
            assert!(page.text().contains(reason.as_str()), "#{seq}: {reason}");
        }
    }
    let page = first.text();
    // The referral and the emergency access, with what was shared and why.
    assert!(
        page.contains("Demo Case Worker (IT shelter)"),
        "actors are named"
    );
    assert!(page.contains("the lead's request"), "{page}");
    assert!(page.contains("The police report an imminent danger to the person"));
    // The read of personal data, with its purpose.
    assert!(page.contains("prepare the shelter admission"), "{page}");

    // A case worker, even of the lead agency, and a focal point find no audit pages.
    for user in [LEAD, "ng.focal"] {
        let other = Session::sign_in(&s, user).await;
        for path in ["/audit".to_string(), format!("/audit/cases/{id}")] {
            let r = other.get(&path).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{user} {path}");
            assert!(!r.body.contains("prepare the shelter admission"));
        }
        let home = other.get("/").await;
        assert!(!home.body.contains("href=\"/audit\""), "no menu entry");
    }
    assert!(
        Session::sign_in(&s, "auditor")
            .await
            .get("/")
            .await
            .body
            .contains("href=\"/audit\"")
    );
}

#[tokio::test]
async fn the_log_is_verified_on_request() {
    let s = TestServer::start_console().await;
    s.open_case(LEAD).await;
    let auditor = Session::sign_in(&s, "auditor").await;
    let page = auditor.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("id=\"verification\""));
    let verified = auditor.get("/audit?verify=1").await;
    assert!(
        verified
            .text()
            .contains("Verified: every chain, the log and every checkpoint check out"),
        "{}",
        verified.text()
    );
}

#[tokio::test]
async fn the_case_as_it_stood_at_a_chosen_moment() {
    let s = TestServer::start_console().await;
    let before = s.app.now();
    s.clock.advance(Duration::days(1));
    let (id, _) = s.open_case(LEAD).await;
    s.clock.advance(Duration::days(1));
    let moment = s.app.now();
    s.clock.advance(Duration::days(1));
    to_crisis_intervention(&s, LEAD, &id).await;
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S").to_string();
    let auditor = Session::sign_in(&s, "auditor").await;

    let then = auditor
        .get(&format!("/audit/cases/{id}?at={}", at(moment)))
        .await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.body);
    let view = &then.body[then.body.find("id=\"as-of-view\"").expect("as-of view")..];
    let view = text(&view[..view.find("</dl>").unwrap()]);
    let api = s
        .data(
            "auditor",
            "query($id: ID!, $at: DateTime!) { case(id: $id) { version asOf(at: $at) { version status lastEvent { sequence } } } }",
            json!({"id": id, "at": moment}),
        )
        .await["case"]
        .clone();
    assert_eq!(api["asOf"]["version"], 1, "{api}");
    assert!(api["version"].as_i64().unwrap() > 1);
    assert!(view.contains("Version 1"), "{view}");
    assert!(view.contains("Active"), "{view}");
    assert!(view.contains("#1 Case opened"), "{view}");

    let earlier = auditor
        .get(&format!("/audit/cases/{id}?at={}", at(before)))
        .await;
    assert!(earlier.text().contains("The case had not been opened yet"));
    let unreadable = auditor
        .get(&format!("/audit/cases/{id}?at=yesterday"))
        .await;
    assert!(unreadable.text().contains("The moment could not be read"));
}

#[tokio::test]
async fn the_case_file_downloads_as_json_that_verifies_and_as_a_printable_page() {
    let s = TestServer::start_console().await;
    let (id, reference) = s.open_case(LEAD).await;
    to_crisis_intervention(&s, LEAD, &id).await;
    let auditor = Session::sign_in(&s, "auditor").await;
    let path = format!("/audit/cases/{id}/export");
    let access_log = || async {
        s.data(
            "auditor",
            "query($id: ID!) { case(id: $id) { accessLog { kind purpose } } }",
            json!({"id": id}),
        )
        .await["case"]["accessLog"]
            .clone()
    };

    // Without a purpose: refused, the form shown again, nothing recorded.
    let refused = auditor
        .post(
            &path,
            &[
                ("format", "json"),
                ("purposeCategory", "AUDIT"),
                ("purpose", " "),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.text().contains("purpose is required"),
        "{}",
        refused.text()
    );
    assert_eq!(access_log().await, json!([]));
    // Without the form's token: refused.
    let forged = auditor
        .post_raw(&path, &[("format", "json"), ("purpose", "annual audit")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let json_file = auditor
        .post(
            &path,
            &[
                ("format", "json"),
                ("purposeCategory", "OVERSIGHT"),
                ("purpose", "Request of the National Rapporteur"),
                ("recipient", "Office of the National Rapporteur"),
            ],
        )
        .await;
    assert_eq!(json_file.status, StatusCode::OK, "{}", json_file.body);
    assert_eq!(json_file.header("content-type"), Some("application/json"));
    assert_eq!(
        json_file.header("content-disposition"),
        Some(format!("attachment; filename=\"case-file-{reference}.json\"").as_str())
    );
    assert_eq!(json_file.header("case-file-verification"), Some("verified"));
    assert_eq!(json_file.header("cache-control"), Some("no-store"));
    let file: trm::audit::export::CaseFile =
        serde_json::from_str(&json_file.body).expect("a case file");
    let key = s
        .data("auditor", "{ auditCheckpoint { publicKey } }", json!({}))
        .await["auditCheckpoint"]["publicKey"]
        .as_str()
        .unwrap()
        .to_string();
    let trusted =
        ed25519_dalek::VerifyingKey::from_bytes(&hex::decode(key).unwrap().try_into().unwrap())
            .unwrap();
    let report = trm::audit::export::verify_file(&file, &[trusted]);
    assert!(report.ok(), "{report:?}");
    assert_eq!(file.case.reference, reference);

    let printable = auditor
        .post(
            &path,
            &[
                ("format", "html"),
                ("purposeCategory", "AUDIT"),
                ("purpose", "annual audit"),
            ],
        )
        .await;
    assert_eq!(printable.status, StatusCode::OK);
    assert_eq!(
        printable.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        printable.header("content-disposition"),
        Some(format!("attachment; filename=\"case-file-{reference}.html\"").as_str())
    );
    assert!(
        printable.body.contains("Verified when exported"),
        "{}",
        printable.body
    );
    assert!(printable.body.contains(&reference));

    // Both exports are in the access log, with their purposes.
    let log: Vec<Value> = access_log().await.as_array().unwrap().clone();
    let purposes: Vec<&str> = log.iter().map(|e| e["purpose"].as_str().unwrap()).collect();
    assert_eq!(
        purposes,
        ["annual audit", "Request of the National Rapporteur"]
    );
    // The case worker cannot export.
    let lead = Session::sign_in(&s, LEAD).await;
    let r = lead
        .post(&path, &[("format", "json"), ("purpose", "curious")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(access_log().await.as_array().unwrap().len(), 2);
}
