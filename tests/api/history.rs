//! Case history: complete, ordered, paged, chained.

use crate::harness::{TestServer, error_code, to_crisis_intervention};
use serde_json::json;

#[tokio::test]
async fn history_lists_every_event_oldest_first_with_its_context() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    to_crisis_intervention(&s, "it.shelter", &id).await;
    let data = s
        .data(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { version history { edges { node {
                id sequence kind transition track fromState toState reason data occurredAt
                actor { username } agency { country } workflowKey workflowVersion prevHash hash
            } } pageInfo { hasNextPage hasPreviousPage } } } }",
            json!({"id": id}),
        )
        .await;
    let edges = data["case"]["history"]["edges"].as_array().unwrap();
    let nodes: Vec<_> = edges.iter().map(|e| &e["node"]).collect();
    assert_eq!(nodes.len(), 5);
    assert_eq!(data["case"]["version"], 5);
    let transitions: Vec<_> = nodes.iter().map(|n| n["transition"].as_str()).collect();
    assert_eq!(
        transitions,
        [
            None,
            Some("start_screening"),
            Some("record_presumed_victim"),
            Some("record_assessment"),
            Some("adopt_safety_plan")
        ]
    );
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["sequence"], i as i64 + 1);
        assert_eq!(n["actor"]["username"], "it.shelter");
        assert_eq!(n["agency"]["country"], "IT");
        assert_eq!(
            (n["workflowKey"].as_str(), n["workflowVersion"].as_i64()),
            (Some("trm-adult"), Some(1))
        );
        if i > 0 {
            assert_eq!(
                n["prevHash"],
                nodes[i - 1]["hash"],
                "events are hash-chained"
            );
            assert!(n["occurredAt"].as_str() >= nodes[i - 1]["occurredAt"].as_str());
        }
    }
    assert_eq!(nodes[0]["prevHash"], "0".repeat(64));
    assert_eq!(nodes[3]["track"], "assistance");
    assert_eq!(
        nodes[3]["data"],
        json!({"risk_level": "low", "immediate_needs_assessed": true})
    );

    // Paging with first/after walks the same events.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = s
            .data(
                "it.shelter",
                "query($id: ID!, $after: String) { case(id: $id) { history(first: 2, after: $after) { edges { node { sequence } } pageInfo { hasNextPage endCursor } } } }",
                json!({"id": id, "after": after}),
            )
            .await;
        let h = &data["case"]["history"];
        seen.extend(
            h["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["sequence"].as_i64().unwrap()),
        );
        if !h["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = h["pageInfo"]["endCursor"].as_str().map(String::from);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);

    // An event is a node, visible under the same rules as its case.
    let event_id = nodes[1]["id"].as_str().unwrap();
    let q = "query($id: ID!) { node(id: $id) { ... on CaseEvent { transition } } }";
    assert_eq!(
        s.data("it.shelter", q, json!({"id": event_id})).await["node"]["transition"],
        "start_screening"
    );
    assert_eq!(
        s.data("bg.shelter", q, json!({"id": event_id})).await["node"],
        json!(null)
    );

    let body = s
        .gql(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { history(first: 1000) { edges { cursor } } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    s.stop().await;
}

#[tokio::test]
async fn replaying_the_stored_events_reproduces_the_current_state() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    to_crisis_intervention(&s, "it.shelter", &id).await;
    let case_id = trm::api::ids::decode_uuid(&id, "Case").unwrap();
    let principal = trm::store::directory::principal_by_token_hash(
        s.app.store.conn(),
        &trm::service::auth::token_hash(s.token("auditor")),
    )
    .await
    .unwrap()
    .unwrap();
    let case = trm::service::cases::get_case(&s.app, &principal, case_id)
        .await
        .unwrap()
        .unwrap();
    let events = trm::service::cases::history(&s.app, &case, 0, 100)
        .await
        .unwrap()
        .expect("auditors see the history");
    let workflow = s.app.workflow_of(case.record()).unwrap();
    let replayed = trm::workflow::engine::replay(&workflow, events.iter().map(|e| &e.changes));
    assert_eq!(replayed, case.record().state);
    assert!(
        events.iter().all(|e| e.hash == e.compute_hash()),
        "stored hashes match their content"
    );
    s.stop().await;
}
