//! What an auditor finds by the case's reference and country, and the verification an exported
//! case file comes with (the same check as `trm audit verify-file`, also stated on the printable
//! page).

use crate::harness::{TestServer, error_code};
use serde_json::{Value, json};

const SEARCH: &str = "query($f: AuditEventFilter) {
    auditEvents(filter: $f, first: 100) { nodes { kind case { id reference country } } } }";

async fn found(s: &TestServer, user: &str, filter: Value) -> Value {
    s.gql(user, SEARCH, json!({"f": filter})).await
}

fn nodes(body: &Value) -> Vec<Value> {
    body["data"]["auditEvents"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

#[tokio::test]
async fn auditors_find_a_cases_events_by_its_reference_and_cases_by_country() {
    let s = TestServer::start().await;
    let (it_case, it_reference) = s.open_case("it.shelter").await;
    let (other_it, _) = s.open_case("it.shelter").await;
    let (ng_case, ng_reference) = s.open_case("ng.shelter").await;

    let by_reference = nodes(&found(&s, "auditor", json!({"caseReference": it_reference})).await);
    assert_eq!(by_reference.len(), 1, "{by_reference:?}");
    assert_eq!(by_reference[0]["case"]["id"], json!(it_case));
    assert_eq!(by_reference[0]["kind"], "CASE_OPENED");

    let in_italy = nodes(&found(&s, "auditor", json!({"caseCountry": "it"})).await);
    let mut ids: Vec<&str> = in_italy
        .iter()
        .map(|e| e["case"]["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = [it_case.as_str(), other_it.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert!(in_italy.iter().all(|e| e["case"]["country"] == "IT"));

    // Both filters must hold; an unknown reference finds nothing.
    let none = nodes(
        &found(
            &s,
            "auditor",
            json!({"caseReference": ng_reference, "caseCountry": "IT"}),
        )
        .await,
    );
    assert!(none.is_empty(), "{none:?}");
    let ng = nodes(&found(&s, "auditor", json!({"caseReference": ng_reference})).await);
    assert_eq!(ng[0]["case"]["id"], json!(ng_case));
    assert!(
        nodes(&found(&s, "auditor", json!({"caseReference": "XX-2026-999999"})).await).is_empty()
    );

    // Only auditors search.
    let refused = found(&s, "it.shelter", json!({"caseReference": it_reference})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN", "{refused}");
    s.stop().await;
}

#[tokio::test]
async fn an_exported_case_file_states_that_it_verified_and_its_printable_page_says_so() {
    let s = TestServer::start().await;
    let (case_id, reference) = s.open_case("it.shelter").await;
    let data = s
        .data(
            "auditor",
            "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) {
                caseFile { document printable checkpoint { treeSize keyId }
                    verification { ok firstProblem events anchoredTreeSize keyId } } } }",
            json!({"input": {"caseId": case_id, "purposeCategory": "AUDIT",
                "purpose": "annual audit"}}),
        )
        .await["exportCaseFile"]["caseFile"]
        .clone();
    let verification = &data["verification"];
    assert_eq!(verification["ok"], true, "{data}");
    assert!(verification["firstProblem"].is_null());
    assert_eq!(verification["events"], 1);
    assert_eq!(
        verification["anchoredTreeSize"],
        data["checkpoint"]["treeSize"]
    );
    assert_eq!(verification["keyId"], data["checkpoint"]["keyId"]);
    // The same check as anyone runs offline on the JSON file.
    let file: trm::audit::export::CaseFile =
        serde_json::from_value(data["document"].clone()).expect("a case file");
    assert!(trm::audit::export::verify_file(&file, &[]).ok());
    let printable = data["printable"].as_str().expect("html");
    assert!(printable.contains("Verified when exported"), "{printable}");
    assert!(printable.contains(data["checkpoint"]["keyId"].as_str().unwrap()));
    assert!(printable.contains(&reference));
    s.stop().await;
}
