//! Opening, reading and listing cases; who sees which case.

use crate::harness::{TestServer, error_code, to_crisis_intervention};
use serde_json::json;

#[tokio::test]
async fn opening_a_case_pins_the_workflow_and_records_the_opener() {
    let s = TestServer::start().await;
    let data = s
        .data(
            "it.shelter",
            "mutation { openCase(input: {workflowId: \"trm-adult\", workflowVersion: 1}) { case {
                id reference country status version
                workflow { key version }
                leadAgency { name country }
                states { track state stage terminal }
                history { edges { node { sequence kind actor { username } agency { name } workflowKey workflowVersion } } }
            } } }",
            json!({}),
        )
        .await;
    let case = &data["openCase"]["case"];
    let year = s.app.now().format("%Y").to_string();
    assert_eq!(case["reference"], format!("IT-{year}-000001"));
    assert_eq!(case["country"], "IT");
    assert_eq!(case["status"], "ACTIVE");
    assert_eq!(case["version"], 1);
    assert_eq!(case["workflow"], json!({"key": "trm-adult", "version": 1}));
    assert_eq!(
        case["leadAgency"]["name"],
        "Demo Casa Rifugio (NGO shelter)"
    );
    assert_eq!(
        case["states"],
        json!([{"track": "identification", "state": "signal_received", "stage": "IDENTIFICATION", "terminal": false}])
    );
    let opened = &case["history"]["edges"][0]["node"];
    assert_eq!(opened["kind"], "CASE_OPENED");
    assert_eq!(opened["actor"]["username"], "it.shelter");
    assert_eq!(opened["workflowVersion"], 1);

    // References count per country and year.
    let (_, second) = s.open_case("it.police").await;
    assert_eq!(second, format!("IT-{year}-000002"));
    let (_, nigerian) = s.open_case("ng.shelter").await;
    assert_eq!(nigerian, format!("NG-{year}-000001"));

    // Without a version, a case opens under the latest loaded version.
    let versions = s
        .data("it.shelter", "{ workflows { key version } }", json!({}))
        .await;
    let latest = versions["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["key"] == "trm-adult")
        .filter_map(|w| w["version"].as_u64())
        .max()
        .unwrap();
    let data = s
        .data("it.police", "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { workflow { version } } } }", json!({}))
        .await;
    assert_eq!(data["openCase"]["case"]["workflow"]["version"], latest);
    s.stop().await;
}

#[tokio::test]
async fn bad_open_requests_get_typed_errors() {
    let s = TestServer::start().await;
    let body = s
        .gql(
            "it.shelter",
            "mutation { openCase(input: {workflowId: \"nope\"}) { case { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = s
        .gql("it.shelter", "mutation { openCase(input: {workflowId: \"trm-adult\", workflowVersion: 99}) { case { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = s
        .gql(
            "auditor",
            "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = s
        .gql(
            "it.shelter",
            "mutation { openCase(input: {workflowId: 5}) { case { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    let data = s
        .data("auditor", "{ cases { edges { node { id } } } }", json!({}))
        .await;
    assert!(
        data["cases"]["edges"].as_array().unwrap().is_empty(),
        "nothing was opened"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_case_of_another_agency_answers_like_a_missing_one_on_every_path() {
    let s = TestServer::start().await;
    let (id, reference) = s.open_case("it.shelter").await;
    let missing = trm::api::ids::encode("Case", &uuid::Uuid::now_v7().to_string()).0;
    for case_id in [&id, &missing] {
        let data = s
            .data(
                "bg.shelter",
                "query($id: ID!) { case(id: $id) { id } node(id: $id) { id } }",
                json!({"id": case_id}),
            )
            .await;
        assert_eq!(data, json!({"case": null, "node": null}));
        let body = s
            .fire(
                "bg.shelter",
                case_id,
                "start_screening",
                1,
                json!({"signal_source": "hotline"}),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND");
    }
    let data = s
        .data(
            "bg.shelter",
            "query($r: String!) { caseByReference(reference: $r) { id } }",
            json!({"r": reference}),
        )
        .await;
    assert_eq!(data["caseByReference"], json!(null));
    let data = s
        .data(
            "bg.shelter",
            "{ cases { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert!(data["cases"]["edges"].as_array().unwrap().is_empty());
    // The lead agency and auditors see it, by id, by node and by reference.
    for user in ["it.shelter", "auditor"] {
        let data = s
            .data(
                user,
                "query($id: ID!, $r: String!) { case(id: $id) { reference } node(id: $id) { ... on Case { reference } } caseByReference(reference: $r) { id } }",
                json!({"id": id, "r": reference}),
            )
            .await;
        assert_eq!(data["case"]["reference"], reference.as_str());
        assert_eq!(data["node"]["reference"], reference.as_str());
        assert_eq!(data["caseByReference"]["id"], id.as_str());
    }
    // Auditors read but do not act.
    let body = s
        .fire(
            "auditor",
            &id,
            "start_screening",
            1,
            json!({"signal_source": "hotline"}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    s.stop().await;
}

#[tokio::test]
async fn cases_can_be_filtered_by_stage_state_and_status_and_paged() {
    let s = TestServer::start().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(s.open_case("it.shelter").await.0);
    }
    to_crisis_intervention(&s, "it.shelter", &ids[0]).await;
    let list = |filter: serde_json::Value| {
        let s = &s;
        async move {
            let data = s
                .data(
                    "it.shelter",
                    "query($f: CaseFilterInput) { cases(filter: $f, first: 100) { edges { node { id } } } }",
                    json!({"f": filter}),
                )
                .await;
            data["cases"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(json!({"stage": "FIRST_ASSISTANCE"})).await,
        vec![ids[0].clone()]
    );
    assert_eq!(
        list(json!({"state": "crisis_intervention"})).await,
        vec![ids[0].clone()]
    );
    assert_eq!(list(json!({"state": "signal_received"})).await.len(), 4);
    assert_eq!(
        list(json!({"status": "ACTIVE", "stage": "IDENTIFICATION"}))
            .await
            .len(),
        5
    );
    assert!(list(json!({"status": "CLOSED"})).await.is_empty());

    // Pages of two, newest first, following cursors to the end.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = s
            .data(
                "it.shelter",
                "query($after: String) { cases(first: 2, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
                json!({"after": after}),
            )
            .await;
        let conn = &data["cases"];
        seen.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["id"].as_str().unwrap().to_string()),
        );
        if !conn["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = conn["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let body = s
        .gql(
            "it.shelter",
            "{ cases(first: 101) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    let body = s
        .gql(
            "it.shelter",
            "{ cases(after: \"garbage\") { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    s.stop().await;
}
