//! Optimistic concurrency and idempotent retries.

use crate::harness::{TestServer, error_code};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    s.fire(
        "it.shelter",
        &id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    let body = s
        .fire(
            "it.shelter",
            &id,
            "refer_elsewhere",
            1,
            json!({"reclassification": "asylum"}),
        )
        .await;
    assert_eq!(error_code(&body), "VERSION_CONFLICT");
    assert_eq!(body["errors"][0]["extensions"]["expectedVersion"], 1);
    assert_eq!(body["errors"][0]["extensions"]["actualVersion"], 2);
    assert_eq!(s.version_and_history("it.shelter", &id).await, (2, 2));
    s.stop().await;
}

#[tokio::test]
async fn racing_writers_on_one_version_produce_exactly_one_winner() {
    let s = Arc::new(TestServer::start().await);
    let (id, _) = s.open_case("it.shelter").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let source = if i % 2 == 0 { "hotline" } else { "self_report" };
            s.fire(
                "it.shelter",
                &id,
                "start_screening",
                1,
                json!({"signal_source": source}),
            )
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let body = t.await.unwrap();
        if body.get("errors").is_none() {
            ok += 1;
        } else {
            assert_eq!(error_code(&body), "VERSION_CONFLICT", "{body}");
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(s.version_and_history("it.shelter", &id).await, (2, 2));
    Arc::try_unwrap(s).ok().unwrap().stop().await;
}

#[tokio::test]
async fn an_idempotent_retry_returns_the_first_result_without_doing_it_again() {
    let s = TestServer::start().await;
    let (id, _) = s.open_case("it.shelter").await;
    let input = json!({"caseId": id, "transition": "start_screening", "expectedVersion": 1,
                       "data": {"signal_source": "hotline"}, "idempotencyKey": "retry-1"});
    let first = s.fire_input("it.shelter", input.clone()).await;
    let again = s.fire_input("it.shelter", input.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(first["data"]["fireTransition"]["replayed"], false);
    assert_eq!(again["data"]["fireTransition"]["replayed"], true);
    assert_eq!(
        first["data"]["fireTransition"]["event"],
        again["data"]["fireTransition"]["event"]
    );
    assert_eq!(s.version_and_history("it.shelter", &id).await, (2, 2));

    // Same key, different input.
    let mut changed = input.clone();
    changed["data"]["signal_source"] = json!("self_report");
    let body = s.fire_input("it.shelter", changed).await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_MISMATCH");
    // Keys belong to their user: another user's same key is a different request.
    let body = s
        .fire_input(
            "it.shelter.supervisor",
            json!({"caseId": id, "transition": "refer_elsewhere", "expectedVersion": 2,
        "data": {"reclassification": "general_services"}, "idempotencyKey": "retry-1"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let body = s.fire_input("it.shelter", json!({"caseId": id, "transition": "start_screening", "expectedVersion": 1, "idempotencyKey": ""})).await;
    assert_eq!(error_code(&body), "VALIDATION");

    // openCase is idempotent too.
    let open = "mutation($k: String) { openCase(input: {workflowId: \"trm-adult\", idempotencyKey: $k}) { case { id reference } } }";
    let a = s.data("it.police", open, json!({"k": "open-1"})).await;
    let b = s.data("it.police", open, json!({"k": "open-1"})).await;
    assert_eq!(a, b);
    let data = s
        .data(
            "it.police",
            "{ cases { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["cases"]["edges"].as_array().unwrap().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn concurrent_retries_of_one_key_make_exactly_one_event() {
    let s = Arc::new(TestServer::start().await);
    let (id, _) = s.open_case("it.shelter").await;
    let input = json!({"caseId": id, "transition": "start_screening", "expectedVersion": 1,
                       "data": {"signal_source": "agency_referral"}, "idempotencyKey": "flaky-network-7"});
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        let input = input.clone();
        tasks.push(tokio::spawn(async move {
            s.fire_input("it.shelter", input).await
        }));
    }
    let mut events = Vec::new();
    for t in tasks {
        let body = t.await.unwrap();
        assert!(
            body.get("errors").is_none(),
            "every retry gets the result: {body}"
        );
        events.push(body["data"]["fireTransition"]["event"].clone());
    }
    assert!(
        events.windows(2).all(|w| w[0] == w[1]),
        "identical events: {events:?}"
    );
    assert_eq!(s.version_and_history("it.shelter", &id).await, (2, 2));
    Arc::try_unwrap(s).ok().unwrap().stop().await;
}
