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

#[tokio::test]
async fn many_clients_racing_round_after_round_leave_a_gapless_history_and_overwrite_nothing() {
    let s = Arc::new(TestServer::start().await);
    // Version 4: the repeated step is the lead's there (the prosecutor's from version 5).
    let (id, _) = s.open_workflow("it.shelter", "trm-adult", Some(4)).await;
    let mut tasks = Vec::new();
    for client in 0..12 {
        let (s, id) = (s.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for attempt in 0..12 {
                let (version, _) = s.version_and_history("it.shelter", &id).await;
                let reason = format!("client {client} attempt {attempt}");
                let body = s
                    .fire_input(
                        "it.shelter",
                        json!({"caseId": id, "transition": "order_protection_measure",
                               "expectedVersion": version, "reason": reason,
                               "data": {"protection_measure": "relocation"}}),
                    )
                    .await;
                if body.get("errors").is_none() {
                    let seq = body["data"]["fireTransition"]["event"]["sequence"]
                        .as_i64()
                        .unwrap();
                    assert_eq!(seq, version + 1, "{body}");
                    won.push((seq, reason));
                } else {
                    assert_eq!(error_code(&body), "VERSION_CONFLICT", "{body}");
                }
            }
            won
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap());
    }
    won.sort();
    let (version, events) = s.version_and_history("it.shelter", &id).await;
    assert_eq!(won.len() as i64, version - 1, "every win is one version");
    assert_eq!(events as i64, version);
    // Each acknowledged transition is in the history at its sequence, with its own reason:
    // none was overwritten by another writer.
    let mut history = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let d = s
            .data(
                "it.shelter",
                "query($id: ID!, $after: String) { case(id: $id) { history(first: 100, after: $after) { nodes { sequence reason } pageInfo { hasNextPage endCursor } } } }",
                json!({"id": id, "after": after}),
            )
            .await;
        let page = &d["case"]["history"];
        for n in page["nodes"].as_array().unwrap() {
            history.push((
                n["sequence"].as_i64().unwrap(),
                n["reason"].as_str().unwrap_or("").to_string(),
            ));
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let sequences: Vec<i64> = history.iter().map(|(s, _)| *s).collect();
    assert_eq!(sequences, (1..=version).collect::<Vec<_>>(), "no gaps");
    assert_eq!(history[1..].to_vec(), won);
    Arc::try_unwrap(s).ok().unwrap().stop().await;
}

#[tokio::test]
async fn an_idempotent_retry_on_another_instance_after_a_restart_gets_the_identical_answer() {
    let first = TestServer::start().await;
    let (id, _) = first.open_case("it.shelter").await;
    let payload = "fireTransition(input: $i) { replayed case { version } event { id sequence hash occurredAt } }";
    let query = format!("mutation($i: FireTransitionInput!) {{ {payload} }}");
    let input = json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
                        "data": {"signal_source": "hotline"}, "idempotencyKey": "restart-1"}});
    let original = first.data("it.shelter", &query, input.clone()).await;
    assert_eq!(original["fireTransition"]["replayed"], false);
    // The instance that answered goes away; the client retries, several times at once, on
    // another one.
    let second = Arc::new(first.start_instance().await);
    first.stop().await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (s, query, input) = (second.clone(), query.clone(), input.clone());
        tasks.push(tokio::spawn(async move {
            s.data("it.shelter", &query, input).await
        }));
    }
    for t in tasks {
        let mut retry = t.await.unwrap();
        assert_eq!(retry["fireTransition"]["replayed"], true);
        retry["fireTransition"]["replayed"] = json!(false);
        assert_eq!(retry, original, "identical answer");
    }
    assert_eq!(second.version_and_history("it.shelter", &id).await, (2, 2));
    Arc::try_unwrap(second).ok().unwrap().stop().await;
}
