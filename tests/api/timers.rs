//! Deadlines, the scheduler that records elapsed timers, the worklist and the test clock.

use crate::harness::{TestServer, error_code};
use chrono::Duration;
use serde_json::{Value, json};
use std::path::PathBuf;
use trm::service::App;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deadlines")
}

const CASE: &str = "query($id: ID!) { case(id: $id) {
    version
    deadlines { timer status dueAt dueSoonFrom citation escalateTo }
    history { edges { node { sequence kind timer bySystem actor { username } } } }
} }";

async fn case(s: &TestServer, id: &str) -> Value {
    s.data("it.shelter", CASE, json!({"id": id})).await["case"].clone()
}

async fn advance(s: &TestServer, days: u32) -> Value {
    s.data(
        "it.shelter",
        "mutation($d: Int!) { advanceTestClock(input: {days: $d}) { now firedTimers } }",
        json!({"d": days}),
    )
    .await["advanceTestClock"]
        .clone()
}

async fn deadline_cases(s: &TestServer, which: &str) -> usize {
    let data = s
        .data(
            "it.shelter",
            "query($d: DeadlineFilter) { cases(filter: {deadline: $d}) { edges { node { id } } } }",
            json!({"d": which}),
        )
        .await;
    data["cases"]["edges"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_deadline_becomes_due_soon_then_overdue_and_is_recorded_once() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let (id, _) = s.open_workflow("it.shelter", "decision", None).await;
    let body = s.fire("it.shelter", &id, "submit", 1, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let c = case(&s, &id).await;
    assert_eq!(c["deadlines"][0]["status"], "PENDING");
    assert_eq!(c["deadlines"][0]["escalateTo"], json!(["SUPERVISOR"]));
    assert_eq!(
        (
            deadline_cases(&s, "DUE_SOON").await,
            deadline_cases(&s, "OVERDUE").await
        ),
        (0, 0)
    );

    // Day 3: inside the 2-day warning window.
    assert_eq!(advance(&s, 3).await["firedTimers"], 0);
    assert_eq!(case(&s, &id).await["deadlines"][0]["status"], "DUE_SOON");
    assert_eq!(
        (
            deadline_cases(&s, "DUE_SOON").await,
            deadline_cases(&s, "OVERDUE").await
        ),
        (1, 0)
    );

    // Day 5: due. The test clock records the elapsed timer once, as a system event.
    assert_eq!(advance(&s, 2).await["firedTimers"], 1);
    let c = case(&s, &id).await;
    assert_eq!(c["deadlines"][0]["status"], "OVERDUE");
    assert_eq!(
        (
            deadline_cases(&s, "DUE_SOON").await,
            deadline_cases(&s, "OVERDUE").await
        ),
        (0, 1)
    );
    let events = c["history"]["edges"].as_array().unwrap();
    let elapsed = &events[events.len() - 2]["node"];
    assert_eq!(elapsed["kind"], "TIMER_ELAPSED");
    assert_eq!(elapsed["timer"], "decision");
    assert_eq!(elapsed["bySystem"], true);
    assert_eq!(elapsed["actor"], json!(null));
    // The deadline escalates to the supervisors (of the lead agency) in the same change.
    let escalated = &events.last().unwrap()["node"];
    assert_eq!(escalated["kind"], "DEADLINE_ESCALATED");
    assert_eq!(escalated["bySystem"], true);
    assert_eq!(
        c["version"], 4,
        "the elapsed timer and its escalation are recorded changes"
    );
    let again = advance(&s, 1).await;
    let c2 = case(&s, &id).await;
    assert_eq!(again["firedTimers"], 0, "never twice: {c2}");
    assert_eq!(c2["version"], 4, "never escalated twice");

    // The decision, late, stops the deadline; a stale version from before the timer is a conflict.
    let body = s.fire("it.shelter", &id, "decide", 2, json!({})).await;
    assert_eq!(error_code(&body), "VERSION_CONFLICT");
    let body = s.fire("it.shelter", &id, "decide", 4, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(deadline_cases(&s, "OVERDUE").await, 0);
    assert_eq!(
        case(&s, &id).await["deadlines"][0]["status"],
        "MISSED",
        "dealt with, late"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_floor_blocks_closing_until_it_elapses_and_a_met_deadline_is_not_overdue() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let (id, _) = s.open_workflow("it.shelter", "decision", None).await;
    s.fire("it.shelter", &id, "submit", 1, json!({})).await;
    s.fire("it.shelter", &id, "decide", 2, json!({})).await;
    assert_eq!(case(&s, &id).await["deadlines"][0]["status"], "MET");
    let body = s.fire("it.shelter", &id, "close", 3, json!({})).await;
    assert_eq!(error_code(&body), "GUARD_FAILED");
    assert_eq!(
        body["errors"][0]["extensions"]["unmetGuards"][0]["name"],
        "floor:cooling"
    );
    let fired = advance(&s, 10).await["firedTimers"].as_u64().unwrap();
    assert_eq!(
        fired, 1,
        "the floor elapsing is recorded; the met deadline is not"
    );
    let body = s.fire("it.shelter", &id, "close", 4, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    s.stop().await;
}

#[tokio::test]
async fn the_worklist_puts_overdue_first_then_due_soon_then_actionable() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let (overdue, _) = s.open_workflow("it.shelter", "decision", None).await;
    s.fire("it.shelter", &overdue, "submit", 1, json!({})).await;
    s.clock.advance(Duration::days(2));
    let (soon, _) = s.open_workflow("it.shelter", "decision", None).await;
    s.fire("it.shelter", &soon, "submit", 1, json!({})).await;
    let (actionable, _) = s.open_workflow("it.shelter", "decision", None).await;
    let (_other_agency, _) = s.open_workflow("bg.shelter", "decision", None).await;
    s.clock.advance(Duration::days(3)); // first: day 5 (overdue); second: day 3 (due soon)
    let data = s
        .data(
            "it.shelter",
            "{ worklist { edges { node { reason dueAt deadlineTimer case { id } } } } }",
            json!({}),
        )
        .await;
    let items: Vec<(String, String)> = data["worklist"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["reason"].as_str().unwrap().to_string(),
                e["node"]["case"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("OVERDUE".to_string(), overdue.clone()),
            ("DUE_SOON".to_string(), soon.clone()),
            ("ACTION_AVAILABLE".to_string(), actionable.clone()),
        ]
    );
    // Paging the worklist.
    let page = s
        .data(
            "it.shelter",
            "{ worklist(first: 1) { edges { cursor } pageInfo { hasNextPage endCursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(page["worklist"]["pageInfo"]["hasNextPage"], true);
    let cursor = page["worklist"]["pageInfo"]["endCursor"].clone();
    let next = s
        .data(
            "it.shelter",
            "query($a: String) { worklist(first: 5, after: $a) { edges { node { reason } } } }",
            json!({"a": cursor}),
        )
        .await;
    assert_eq!(next["worklist"]["edges"].as_array().unwrap().len(), 2);
    let timers: Vec<&Value> = data["worklist"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["deadlineTimer"])
        .collect();
    assert_eq!(
        timers,
        [&json!("decision"), &json!("decision"), &json!(null)],
        "only open deadlines are shown"
    );
    // Once decided, the deadline is met; the next step (closing) waits for the cooling-off floor,
    // so there is nothing to do on that case and it leaves the worklist.
    s.fire("it.shelter", &soon, "decide", 2, json!({})).await;
    let data = s
        .data(
            "it.shelter",
            "{ worklist { edges { node { case { id } } } } }",
            json!({}),
        )
        .await;
    let listed: Vec<&Value> = data["worklist"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["case"]["id"])
        .collect();
    assert_eq!(listed, [&json!(overdue), &json!(actionable)]);
    // An auditor's agency leads nothing: an empty worklist.
    let data = s
        .data(
            "auditor",
            "{ worklist { edges { node { reason } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["worklist"]["edges"], json!([]));
    s.stop().await;
}

#[tokio::test]
async fn scheduler_passes_from_several_instances_record_each_timer_exactly_once() {
    let s = TestServer::start_with_workflows(&fixtures()).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let (id, _) = s.open_workflow("it.shelter", "decision", None).await;
        s.fire("it.shelter", &id, "submit", 1, json!({})).await;
        ids.push(id);
    }
    s.clock.advance(Duration::days(11)); // both timers of every case are due: 12 firings
    // Four "instances": separate connection pools on the same database, racing.
    let mut handles = Vec::new();
    for _ in 0..4 {
        let store = trm::store::Store::connect(&trm::store::StoreOptions {
            url: s.db_url(),
            max_connections: 2,
            ..Default::default()
        })
        .await
        .unwrap();
        let app = App::builder(store, s.app.workflows.clone(), s.app.clock.clone())
            .test_clock(s.app.test_clock().cloned())
            .oidc(s.app.oidc().cloned())
            .audit_key(s.app.audit_key().cloned())
            .build();
        handles.push(tokio::spawn(async move {
            trm::service::timers::fire_due(&app).await.unwrap()
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert_eq!(total, 12);
    for id in &ids {
        let c = case(&s, id).await;
        let elapsed = c["history"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["kind"] == "TIMER_ELAPSED")
            .count();
        assert_eq!(elapsed, 2, "one event per timer");
        let escalated = c["history"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["node"]["kind"] == "DEADLINE_ESCALATED")
            .count();
        assert_eq!(
            escalated, 1,
            "the deadline escalated once, the floor not at all"
        );
        assert_eq!(c["version"], 5);
    }
    s.stop().await;
}

#[tokio::test]
async fn the_test_clock_is_off_unless_enabled() {
    let s = TestServer::start().await;
    let app = App::builder(
        s.app.store.clone(),
        s.app.workflows.clone(),
        s.app.clock.clone(),
    )
    .oidc(s.app.oidc().cloned())
    .audit_key(s.app.audit_key().cloned())
    .build();
    // Served without a test clock: the mutation is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = trm::server::serve(
            listener,
            app,
            &trm::server::HttpOptions::default(),
            std::future::pending(),
        )
        .await;
    });
    let body: Value = s
        .client
        .post(format!("{url}/graphql"))
        .bearer_auth(s.token("it.shelter"))
        .json(&json!({"query": "mutation { advanceTestClock(input: {days: 1}) { now } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(error_code(&body), "FORBIDDEN");
    server.abort();
    let body = s
        .gql(
            "it.shelter",
            "mutation { advanceTestClock(input: {days: 100000}) { now } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    s.stop().await;
}

/// A state that keeps its name in the new version but sits in another stage there: after the
/// migration the case is listed under its new stage, not the old one (the lists read the
/// tracks' stage rows, not the workflow).
#[tokio::test]
async fn a_migrated_case_is_listed_under_the_stages_of_its_new_version() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migration");
    let s = TestServer::start_with_workflows(&dir).await;
    let user = "it.shelter.supervisor";
    let (id, _) = s.open_workflow(user, "decision", Some(2)).await;
    let body = s.fire(user, &id, "submit", 1, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let listed = |stage: &'static str| {
        let s = &s;
        async move {
            let data = s
                .data(
                    user,
                    "query($stage: Stage!) { cases(first: 50, filter: {stage: $stage}) { nodes { id } } }",
                    json!({"stage": stage}),
                )
                .await;
            data["cases"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert!(listed("IDENTIFICATION").await.contains(&id));
    assert!(!listed("FIRST_ASSISTANCE").await.contains(&id));

    let data = s
        .data(
            user,
            "mutation($i: MigrateCaseInput!) { migrateCase(input: $i) { case { version states { state stage } } } }",
            json!({"i": {"caseId": id, "toVersion": 3, "expectedVersion": 2,
                         "reason": "Pending decisions are handled by first assistance", "stateMap": {}}}),
        )
        .await;
    let case = &data["migrateCase"]["case"];
    assert_eq!(case["version"], 3);
    assert_eq!(case["states"][0]["state"], "awaiting_decision");
    assert_eq!(case["states"][0]["stage"], "FIRST_ASSISTANCE");
    assert!(listed("FIRST_ASSISTANCE").await.contains(&id));
    assert!(!listed("IDENTIFICATION").await.contains(&id));
    s.stop().await;
}

#[tokio::test]
async fn migrating_a_running_case_maps_states_reevaluates_timers_and_is_recorded() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migration");
    let s = TestServer::start_with_workflows(&dir).await;
    let (id, _) = s
        .open_workflow("it.shelter.supervisor", "decision", Some(1))
        .await;
    s.fire("it.shelter.supervisor", &id, "submit", 1, json!({}))
        .await;
    let migrate = "mutation($i: MigrateCaseInput!) { migrateCase(input: $i) {
        case { version workflow { version } states { state } deadlines { timer dueAt } }
        event { kind reason actor { username } }
    } }";
    let input = |map: Value, version: i64| {
        json!({"i": {"caseId": id, "toVersion": 2, "expectedVersion": version,
                     "reason": "SLA shortened to 3 days by the 2026 amendment", "stateMap": map}})
    };
    // A case worker without supervisory role may not; an unmapped state is refused; nothing changes.
    let body = s
        .gql(
            "it.shelter",
            migrate,
            input(json!({"pending": "awaiting_decision"}), 2),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let body = s
        .gql("it.shelter.supervisor", migrate, input(json!({}), 2))
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("main: pending"),
        "{body}"
    );
    let before = s
        .data(
            "it.shelter.supervisor",
            "query($id: ID!) { case(id: $id) { version deadlines { dueAt } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(before["case"]["version"], 2);

    let data = s
        .data(
            "it.shelter.supervisor",
            migrate,
            input(json!({"pending": "awaiting_decision"}), 2),
        )
        .await;
    let m = &data["migrateCase"];
    assert_eq!(m["case"]["workflow"]["version"], 2);
    assert_eq!(m["case"]["version"], 3);
    assert_eq!(m["case"]["states"][0]["state"], "awaiting_decision");
    assert_eq!(m["event"]["kind"], "WORKFLOW_MIGRATED");
    assert_eq!(m["event"]["actor"]["username"], "it.shelter.supervisor");
    let old_due = chrono::DateTime::parse_from_rfc3339(
        before["case"]["deadlines"][0]["dueAt"].as_str().unwrap(),
    )
    .unwrap();
    let new_due =
        chrono::DateTime::parse_from_rfc3339(m["case"]["deadlines"][0]["dueAt"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        old_due - new_due,
        Duration::days(2),
        "re-evaluated from 5 to 3 days"
    );
    // The case now follows version 2; going back is refused.
    let body = s
        .fire("it.shelter.supervisor", &id, "decide", 3, json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let back = json!({"i": {"caseId": id, "toVersion": 1, "expectedVersion": 4, "reason": "undo"}});
    assert_eq!(
        error_code(&s.gql("it.shelter.supervisor", migrate, back).await),
        "VALIDATION"
    );
    s.stop().await;
}
