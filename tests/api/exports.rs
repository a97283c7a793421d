//! Every disclosure is logged: an export of the case file needs a purpose, and is recorded in
//! the case's access log (who, purpose, recipient) and as a `CASE_FILE_EXPORTED` event that
//! holds no free text; a read of the places on the person's route is logged like any other read
//! of personal data.

use crate::harness::{TestServer, error_code};
use serde_json::{Value, json};

const EXPORT: &str = "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) {
    caseFile { document printable checkpoint { keyId } } case { id version } } }";

const ACCESS_LOG: &str = "query($id: ID!) { case(id: $id) { accessLog { kind reader { username }
    agency { name } readAt purpose purposeCategory recipient groups } } }";

const HISTORY: &str = "query($id: ID!) { case(id: $id) { version history(first: 100) {
    edges { node { kind reason details bySystem actor { username } } } } } }";

/// The case's access log and history as the auditor reads them.
async fn records(s: &TestServer, case_id: &str) -> (Value, Value) {
    let log =
        s.data("auditor", ACCESS_LOG, json!({"id": case_id})).await["case"]["accessLog"].clone();
    let history = s.data("auditor", HISTORY, json!({"id": case_id})).await["case"].clone();
    (log, history)
}

#[tokio::test]
async fn an_export_without_a_purpose_is_refused_and_changes_nothing() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let before = records(&s, &case_id).await;
    let refused = [
        // No purpose at all: GraphQL refuses the input before anything runs.
        (
            "auditor",
            json!({"caseId": case_id, "purposeCategory": "AUDIT"}),
            "VALIDATION",
        ),
        // A blank one, or a blank recipient, is no purpose.
        (
            "auditor",
            json!({"caseId": case_id, "purposeCategory": "AUDIT", "purpose": "  "}),
            "VALIDATION",
        ),
        (
            "auditor",
            json!({"caseId": case_id, "purposeCategory": "OTHER", "purpose": "x".repeat(501)}),
            "VALIDATION",
        ),
        (
            "auditor",
            json!({"caseId": case_id, "purposeCategory": "AUDIT", "purpose": "annual audit",
                "recipient": " "}),
            "VALIDATION",
        ),
        // Only auditors export, with or without a purpose.
        (
            "it.shelter",
            json!({"caseId": case_id, "purposeCategory": "AUDIT", "purpose": "annual audit"}),
            "FORBIDDEN",
        ),
    ];
    for (user, input, code) in refused {
        let body = s.gql(user, EXPORT, json!({"input": input})).await;
        assert_eq!(error_code(&body), code, "{input}: {body}");
        assert!(body["data"].is_null(), "{body}");
        assert_eq!(
            records(&s, &case_id).await,
            before,
            "{input}: nothing recorded"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn an_export_is_in_the_access_log_and_an_event_on_the_case() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let purpose = "Request of the National Rapporteur, letter 2026/114";
    let data = s
        .data(
            "auditor",
            EXPORT,
            json!({"input": {"caseId": case_id, "purposeCategory": "OVERSIGHT",
                "purpose": purpose, "recipient": "Office of the National Rapporteur"}}),
        )
        .await["exportCaseFile"]
        .clone();
    assert_eq!(data["case"]["version"], 2, "{data}");
    assert!(
        data["caseFile"]["checkpoint"]["keyId"].is_string(),
        "{data}"
    );

    // The access log: who, why (in words and by category) and to whom; no personal data left.
    let (log, history) = records(&s, &case_id).await;
    let entry = &log[0];
    assert_eq!(entry["kind"], "CASE_FILE_EXPORT", "{log}");
    assert_eq!(entry["reader"]["username"], "auditor");
    assert_eq!(entry["purpose"], purpose);
    assert_eq!(entry["purposeCategory"], "OVERSIGHT");
    assert_eq!(entry["recipient"], "Office of the National Rapporteur");
    assert_eq!(entry["groups"], json!([]));

    // The event on the case: the category, the access log entry and what the file covers; no
    // free text.
    let events = history["history"]["edges"].as_array().unwrap();
    let event = &events.last().unwrap()["node"];
    assert_eq!(event["kind"], "CASE_FILE_EXPORTED", "{history}");
    assert_eq!(event["actor"]["username"], "auditor");
    assert_eq!(event["details"]["purpose"], "OVERSIGHT");
    assert!(event["details"]["accessLogEntry"].is_string(), "{event}");
    assert!(event["reason"].is_null(), "{event}");
    let text = event.to_string();
    assert!(
        !text.contains("Rapporteur") && !text.contains("2026/114"),
        "free text stays in the access log: {event}"
    );

    // The file is the case as it stood when it was exported, anchored to a signed checkpoint
    // that the event names; a later file lists the earlier export.
    let file = &data["caseFile"]["document"];
    assert_eq!(file["case"]["version"], 1, "{file}");
    assert_eq!(event["details"]["caseVersion"], 1);
    assert_eq!(
        event["details"]["checkpointTreeSize"],
        file["checkpoint"]["treeSize"]
    );
    let again = s
        .data(
            "auditor",
            EXPORT,
            json!({"input": {"caseId": case_id, "purposeCategory": "AUDIT", "purpose": "follow-up"}}),
        )
        .await["exportCaseFile"]["caseFile"]["document"]
        .clone();
    assert_eq!(again["events"][1]["content"]["kind"], "CASE_FILE_EXPORTED");
    assert_eq!(again["accessLog"][0]["kind"], "CASE_FILE_EXPORT");
    assert_eq!(
        again["accessLog"][0]["recipient"],
        "Office of the National Rapporteur"
    );

    // The lead agency sees in the case's history that its case left, and why (by category).
    let lead = s
        .data(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { history(first: 10) { edges { node { kind details } } } } }",
            json!({"id": case_id}),
        )
        .await;
    let kinds: Vec<Value> = lead["case"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!("CASE_OPENED"),
            json!("CASE_FILE_EXPORTED"),
            json!("CASE_FILE_EXPORTED")
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn a_route_with_places_is_a_logged_read_of_contact_data() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, _) = s.open_case(lead).await;
    let route = "query($id: ID!) { case(id: $id) { route { country place } } }";
    // No movement yet: nothing was read.
    s.data(lead, route, json!({"id": case_id})).await;
    let (log, _) = records(&s, &case_id).await;
    assert_eq!(log, json!([]));
    s.data(
        lead,
        "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
        json!({"input": {"caseId": case_id, "country": "NE", "place": "Agadez",
            "movedOn": "2025-06-01", "source": "SELF_REPORTED"}}),
    )
    .await;
    let data = s.data(lead, route, json!({"id": case_id})).await;
    assert_eq!(data["case"]["route"][0]["place"], "Agadez");
    let (log, _) = records(&s, &case_id).await;
    assert_eq!(log.as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log[0]["kind"], "READ");
    assert_eq!(log[0]["reader"]["username"], lead);
    assert_eq!(log[0]["groups"], json!(["CONTACT"]));
    assert!(log[0]["recipient"].is_null());
    s.stop().await;
}

#[tokio::test]
async fn the_invariant_checker_finds_an_export_missing_from_the_access_log() {
    let s = TestServer::start().await;
    let (case_id, reference) = s.open_case("it.shelter").await;
    s.data(
        "auditor",
        EXPORT,
        json!({"input": {"caseId": case_id, "purposeCategory": "OVERSIGHT",
            "purpose": "Annual review", "recipient": "Office of the National Rapporteur"}}),
    )
    .await;
    let (_, violation) = trm::service::protections::check_all(&s.app).await.unwrap();
    assert!(violation.is_none(), "{violation:?}");
    // Behind the service's back: the export's access-log entry removed.
    use sea_orm::ConnectionTrait;
    s.app
        .store
        .conn()
        .execute_unprepared("DELETE FROM access_log")
        .await
        .unwrap();
    let (_, violation) = trm::service::protections::check_all(&s.app).await.unwrap();
    let text = violation.expect("the checker finds it").to_string();
    assert!(
        text.contains(&reference) && text.contains("access log"),
        "{text}"
    );
    s.stop_tampered().await;
}
