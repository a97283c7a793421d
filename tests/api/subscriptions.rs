//! Subscriptions over WebSocket (`/graphql/ws`, `graphql-transport-ws`): authentication in
//! `connection_init`, access rules, and delivery across two instances on one PostgreSQL.

use crate::harness::{TestServer, presumed_victim_data};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use trm::service::bus::{CAPACITY, Signal};

const CASE_EVENTS: &str = "subscription($id: ID!, $after: Int) {
    caseEvents(caseId: $id, afterSequence: $after) {
        sequence kind transition fromState toState actor { username } agency { name }
    }
}";

/// How long a test waits for a message before failing.
const WAIT: Duration = Duration::from_secs(15);

/// What the server sent.
#[derive(Debug)]
enum Incoming {
    Json(Value),
    Closed(u16, String),
}

/// A minimal `graphql-transport-ws` client.
pub(crate) struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Opens `/graphql/ws` of `server`, optionally with an `Authorization` header.
    async fn connect(server: &TestServer, authorization: Option<&str>) -> WsClient {
        let url = format!("{}/graphql/ws", server.url.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        if let Some(a) = authorization {
            request
                .headers_mut()
                .insert("Authorization", a.parse().unwrap());
        }
        let (ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
        assert_eq!(
            response.headers()["Sec-WebSocket-Protocol"],
            "graphql-transport-ws"
        );
        WsClient { ws }
    }

    async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next text message or the close frame (pings and pongs skipped).
    async fn recv(&mut self) -> Incoming {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message from the server in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Incoming::Json(serde_json::from_str(&text).unwrap());
                }
                Some(Ok(Message::Close(frame))) => {
                    return frame.map_or(Incoming::Closed(1005, String::new()), |f| {
                        Incoming::Closed(u16::from(f.code), f.reason.to_string())
                    });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("WebSocket error: {e}"),
                None => return Incoming::Closed(1006, String::new()),
            }
        }
    }

    /// Sends `connection_init` with `payload` and returns the answer.
    async fn init(&mut self, payload: Value) -> Incoming {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        self.recv().await
    }

    /// Connects as a demo user (token in `connection_init`) and waits for `connection_ack`.
    pub(crate) async fn as_user(server: &TestServer, user: &str) -> WsClient {
        let mut client = WsClient::connect(server, None).await;
        let auth = format!("Bearer {}", server.token(user));
        match client.init(json!({"authorization": auth})).await {
            Incoming::Json(v) if v["type"] == "connection_ack" => client,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub(crate) async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"type": "subscribe", "id": id, "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The payload of the next `next` message of subscription `id`.
    pub(crate) async fn next_payload(&mut self, id: &str) -> Value {
        match self.recv().await {
            Incoming::Json(v) if v["type"] == "next" && v["id"] == id => v["payload"].clone(),
            other => panic!("expected next for {id}, got {other:?}"),
        }
    }

    /// The next case event of subscription `id`.
    async fn next_event(&mut self, id: &str) -> Value {
        let payload = self.next_payload(id).await;
        assert!(payload.get("errors").is_none(), "{payload}");
        payload["data"]["caseEvents"].clone()
    }

    /// Waits until the session has set up every subscription sent before: the answer to a
    /// later message of the session comes after them.
    pub(crate) async fn barrier(&mut self) {
        self.subscribe("barrier", CASE_EVENTS, json!({"id": random_case_id()}))
            .await;
        let _ = self.next_payload("barrier").await;
        self.complete("barrier").await;
    }

    /// Expects `complete` for subscription `id`.
    async fn complete(&mut self, id: &str) {
        match self.recv().await {
            Incoming::Json(v) if v["type"] == "complete" && v["id"] == id => {}
            other => panic!("expected complete for {id}, got {other:?}"),
        }
    }

    /// Subscribes to a case's events from its first one and waits for that one (`CASE_OPENED`):
    /// from then on the subscription is live, and what follows can only arrive as signals.
    async fn follow_case(&mut self, id: &str, case_id: &str) {
        self.subscribe(id, CASE_EVENTS, json!({"id": case_id, "after": 0}))
            .await;
        let first = self.next_event(id).await;
        assert_eq!(first["sequence"], 1);
        assert_eq!(first["kind"], "CASE_OPENED");
    }
}

/// A well-formed case ID that names no case.
fn random_case_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("Case:{}", uuid::Uuid::now_v7()))
}

fn is_postgres() -> bool {
    std::env::var("TRM_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

#[tokio::test]
async fn a_case_worker_receives_the_events_of_their_case_as_they_are_recorded() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&s, "it.shelter").await;
    ws.follow_case("1", &case_id).await;

    let body = s
        .fire(
            "it.shelter",
            &case_id,
            "start_screening",
            1,
            json!({"signal_source": "hotline"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 2);
    assert_eq!(event["kind"], "TRANSITION");
    assert_eq!(event["transition"], "start_screening");
    assert_eq!(event["fromState"], "signal_received");
    assert_eq!(event["toState"], "screening");
    assert_eq!(event["actor"]["username"], "it.shelter");

    s.fire(
        "it.shelter",
        &case_id,
        "record_presumed_victim",
        2,
        presumed_victim_data(),
    )
    .await;
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 3);
    assert_eq!(event["transition"], "record_presumed_victim");

    // A refused transition records nothing, so nothing is sent; the next event is the next one.
    s.fire(
        "it.shelter",
        &case_id,
        "record_assessment",
        2,
        json!({"risk_level": "low", "immediate_needs_assessed": true}),
    )
    .await;
    s.fire(
        "it.shelter",
        &case_id,
        "record_assessment",
        3,
        json!({"risk_level": "low", "immediate_needs_assessed": true}),
    )
    .await;
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 4);
    assert_eq!(event["transition"], "record_assessment");

    // `complete` from the client ends the subscription.
    ws.send(json!({"type": "complete", "id": "1"})).await;
    ws.complete("1").await;
    // At shutdown the session is closed as "going away", so that clients reconnect elsewhere.
    s.stop().await;
    assert!(matches!(ws.recv().await, Incoming::Closed(1001, _)));
}

#[tokio::test]
async fn a_subscription_resumes_after_a_sequence_and_ignores_other_cases() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let (other_id, _) = s.open_case("it.shelter").await;
    s.fire(
        "it.shelter",
        &case_id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    s.fire(
        "it.shelter",
        &case_id,
        "record_presumed_victim",
        2,
        presumed_victim_data(),
    )
    .await;
    let mut ws = WsClient::as_user(&s, "it.shelter").await;
    // The client last saw sequence 1: it gets 2 and 3, in order, then live events.
    ws.subscribe("r", CASE_EVENTS, json!({"id": case_id, "after": 1}))
        .await;
    assert_eq!(ws.next_event("r").await["sequence"], 2);
    assert_eq!(ws.next_event("r").await["sequence"], 3);
    s.fire(
        "it.shelter",
        &other_id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    s.fire(
        "it.shelter",
        &case_id,
        "record_assessment",
        3,
        json!({"risk_level": "low", "immediate_needs_assessed": true}),
    )
    .await;
    let event = ws.next_event("r").await;
    assert_eq!(event["sequence"], 4, "the other case's event is not sent");
    assert_eq!(event["transition"], "record_assessment");
    s.stop().await;
}

#[tokio::test]
async fn a_case_another_agency_may_not_see_answers_like_one_that_does_not_exist() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&s, "it.police").await;

    ws.subscribe("hidden", CASE_EVENTS, json!({"id": case_id}))
        .await;
    let hidden = ws.next_payload("hidden").await;
    ws.complete("hidden").await;
    ws.subscribe("absent", CASE_EVENTS, json!({"id": random_case_id()}))
        .await;
    let absent = ws.next_payload("absent").await;
    ws.complete("absent").await;

    assert_eq!(hidden["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(
        hidden, absent,
        "the same answer for a hidden and a missing case"
    );
    assert!(hidden["data"].is_null(), "{hidden}");

    // Nothing is streamed later either: the case moves, the police hear nothing (the session
    // stays open and answers a new subscription's first message, which comes first).
    s.fire(
        "it.shelter",
        &case_id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    ws.subscribe("again", CASE_EVENTS, json!({"id": case_id, "after": 0}))
        .await;
    let again = ws.next_payload("again").await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "NOT_FOUND");
    ws.complete("again").await;

    // The auditor may read every case, and so may follow it.
    let mut auditor = WsClient::as_user(&s, "auditor").await;
    auditor
        .subscribe("a", CASE_EVENTS, json!({"id": case_id, "after": 0}))
        .await;
    assert_eq!(auditor.next_event("a").await["sequence"], 1);
    assert_eq!(auditor.next_event("a").await["sequence"], 2);
    s.stop().await;
}

#[tokio::test]
async fn a_missing_or_bad_token_is_refused_before_any_subscription_runs() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;

    for payload in [
        json!({}),
        json!({"authorization": "Bearer trm_not-a-token"}),
        json!({"authorization": "Basic dXNlcjpwYXNz"}),
    ] {
        let mut ws = WsClient::connect(&s, None).await;
        match ws.init(payload.clone()).await {
            Incoming::Closed(code, reason) => {
                assert_eq!((code, reason.as_str()), (4401, "Unauthorized"), "{payload}");
            }
            other => panic!("{payload}: expected close 4401, got {other:?}"),
        }
    }

    // A bad header is refused too; a subscription before `connection_ack` is refused (4401).
    let mut ws = WsClient::connect(&s, Some("Bearer trm_wrong")).await;
    assert!(matches!(
        ws.init(json!({})).await,
        Incoming::Closed(4401, _)
    ));
    let mut ws = WsClient::connect(&s, None).await;
    ws.subscribe("x", CASE_EVENTS, json!({"id": case_id})).await;
    assert!(matches!(ws.recv().await, Incoming::Closed(4401, _)));

    // The token may also come in the upgrade request's Authorization header.
    let auth = format!("Bearer {}", s.token("it.shelter"));
    let mut ws = WsClient::connect(&s, Some(&auth)).await;
    assert!(matches!(ws.init(json!({})).await, Incoming::Json(v) if v["type"] == "connection_ack"));
    ws.follow_case("1", &case_id).await;

    // Without the graphql-transport-ws subprotocol there is no upgrade.
    let url = format!("{}/graphql/ws", s.url.replacen("http", "ws", 1));
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_token_stops_delivery() {
    let s = TestServer::start().await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&s, "it.shelter").await;
    ws.follow_case("1", &case_id).await;
    trm::store::execute_sql(
        s.app.store.conn(),
        "UPDATE api_tokens SET revoked_at = created_at",
    )
    .await
    .unwrap();
    // Revoked behind the service's back: it applies within the stated bound.
    crate::jwt::past_the_recheck_bound(&s).await;
    // Fired with a token issued afterwards (all demo tokens are revoked now).
    let token = trm::service::auth::issue_token(&s.app, "it.shelter")
        .await
        .unwrap();
    let (_, body) = s
        .post(
            Some(&format!("Bearer {token}")),
            "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { event { sequence } } }",
            json!({"i": {"caseId": case_id, "transition": "start_screening", "expectedVersion": 1,
                         "data": {"signal_source": "hotline"}}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let payload = ws.next_payload("1").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(payload["data"].is_null(), "{payload}");
    ws.complete("1").await;
    s.stop().await;
}

#[tokio::test]
async fn events_fired_on_one_instance_reach_subscribers_of_another() {
    let a = TestServer::start().await;
    // On PostgreSQL a second instance on the same database; SQLite serves one instance, so
    // there the same check runs within it.
    let b = if is_postgres() {
        Some(a.start_instance().await)
    } else {
        None
    };
    let firing = b.as_ref().unwrap_or(&a);
    let (case_id, _) = firing.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&a, "it.shelter").await;
    ws.follow_case("1", &case_id).await;

    let body = firing
        .fire(
            "it.shelter",
            &case_id,
            "start_screening",
            1,
            json!({"signal_source": "hotline"}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 2);
    assert_eq!(event["transition"], "start_screening");

    // Both instances' subscribers hear it, whichever instance recorded it.
    let mut on_firing = WsClient::as_user(firing, "it.shelter").await;
    on_firing.follow_case("2", &case_id).await;
    assert_eq!(on_firing.next_event("2").await["sequence"], 2);
    firing
        .fire(
            "it.shelter",
            &case_id,
            "record_presumed_victim",
            2,
            presumed_victim_data(),
        )
        .await;
    assert_eq!(ws.next_event("1").await["sequence"], 3);
    assert_eq!(on_firing.next_event("2").await["sequence"], 3);
    if let Some(b) = b {
        b.stop().await;
    }
    a.stop().await;
}

#[tokio::test]
async fn delivery_survives_the_listener_losing_its_connection() {
    if !is_postgres() {
        return; // PostgreSQL only: SQLite delivers in-process.
    }
    let a = TestServer::start().await;
    let b = a.start_instance().await;
    let (case_id, _) = b.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&a, "it.shelter").await;
    ws.follow_case("1", &case_id).await;
    // Kill the listeners' connections (as a network failure or a restart would).
    let killed = trm::store::execute_sql(
        b.app.store.conn(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN %'",
    )
    .await
    .unwrap();
    assert!(killed >= 1, "the listeners were found");
    b.fire(
        "it.shelter",
        &case_id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    // Whether the notification came through the new connection or was lost while reconnecting
    // (then the reconnect makes subscribers catch up), the event arrives, once.
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 2);
    b.fire(
        "it.shelter",
        &case_id,
        "record_presumed_victim",
        2,
        presumed_victim_data(),
    )
    .await;
    assert_eq!(ws.next_event("1").await["sequence"], 3);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn an_agency_hears_its_inbox_across_instances_and_no_one_else_does() {
    let a = TestServer::start().await;
    let b = if is_postgres() {
        Some(a.start_instance().await)
    } else {
        None
    };
    let firing = b.as_ref().unwrap_or(&a);
    let me = "{ me { agency { id } } }";
    let iom = a.data("it.iom", me, json!({})).await["me"]["agency"]["id"].clone();
    let (case_id, _) = firing.open_case("it.shelter").await;

    let inbox = "subscription { inbox { kind case { id } referral { service } } }";
    let mut receiver = WsClient::as_user(&a, "it.iom").await;
    receiver.subscribe("in", inbox, json!({})).await;
    let mut bystander = WsClient::as_user(&a, "it.police").await;
    bystander.subscribe("in", inbox, json!({})).await;
    // The subscriptions are set up once the next message of the session is answered.
    receiver
        .subscribe("barrier", CASE_EVENTS, json!({"id": random_case_id()}))
        .await;
    let _ = receiver.next_payload("barrier").await;
    receiver.complete("barrier").await;
    bystander
        .subscribe("barrier", CASE_EVENTS, json!({"id": random_case_id()}))
        .await;
    let _ = bystander.next_payload("barrier").await;
    bystander.complete("barrier").await;

    let consent = firing
        .data(
            "it.shelter",
            "mutation($i: RecordConsentInput!) { recordConsent(input: $i) { consent { id } } }",
            json!({"i": {"caseId": case_id, "givenBy": "PERSON", "purposes": ["SERVICES"],
                         "dataGroups": ["IDENTITY"]}}),
        )
        .await;
    let consent_id = consent["recordConsent"]["consent"]["id"].clone();
    firing
        .data(
            "it.shelter",
            "mutation($i: MakeReferralInput!) { makeReferral(input: $i) { referral { id } } }",
            json!({"i": {"caseId": case_id, "toAgencyId": iom, "service": "REINTEGRATION",
                         "purpose": "Reintegration support", "sharedGroups": ["IDENTITY"],
                         "consentId": consent_id}}),
        )
        .await;

    let payload = receiver.next_payload("in").await;
    assert!(payload.get("errors").is_none(), "{payload}");
    let notification = &payload["data"]["inbox"];
    assert_eq!(notification["kind"], "REFERRAL_RECEIVED");
    assert_eq!(notification["referral"]["service"], "REINTEGRATION");

    // Another agency's inbox heard nothing: the next thing its session sends is the answer to
    // a later subscription.
    bystander
        .subscribe("later", CASE_EVENTS, json!({"id": random_case_id()}))
        .await;
    let later = bystander.next_payload("later").await;
    assert_eq!(later["errors"][0]["extensions"]["code"], "NOT_FOUND");
    if let Some(b) = b {
        b.stop().await;
    }
    a.stop().await;
}

/// Signals for nothing in particular, more than a subscriber's buffer holds.
fn flood() -> Vec<Signal> {
    (0..CAPACITY + 10)
        .map(|_| Signal::CaseEvent {
            case_id: uuid::Uuid::now_v7(),
            event_id: uuid::Uuid::now_v7(),
        })
        .collect()
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_catches_up_or_is_told() {
    if is_postgres() {
        return; // Floods this instance's bus directly, which only in-process delivery allows.
    }
    let a = TestServer::start().await;
    // A second instance on the same SQLite file: its signals do not reach `a`'s subscribers,
    // so an event it records is only found by catching up from the database.
    let b = a.start_instance().await;
    let (case_id, _) = a.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&a, "it.shelter").await;
    ws.follow_case("1", &case_id).await;
    let mut inbox = WsClient::as_user(&a, "it.iom").await;
    inbox
        .subscribe("in", "subscription { inbox { kind } }", json!({}))
        .await;
    inbox
        .subscribe("barrier", CASE_EVENTS, json!({"id": random_case_id()}))
        .await;
    let _ = inbox.next_payload("barrier").await;
    inbox.complete("barrier").await;

    b.fire(
        "it.shelter",
        &case_id,
        "start_screening",
        1,
        json!({"signal_source": "hotline"}),
    )
    .await;
    a.app.bus.committed(&flood());

    // caseEvents catches up: the missed event, once, then live ones.
    let event = ws.next_event("1").await;
    assert_eq!(event["sequence"], 2);
    assert_eq!(event["transition"], "start_screening");
    a.fire(
        "it.shelter",
        &case_id,
        "record_presumed_victim",
        2,
        presumed_victim_data(),
    )
    .await;
    assert_eq!(ws.next_event("1").await["sequence"], 3);

    // inbox has no sequence to resume from: it says so and ends.
    let payload = inbox.next_payload("in").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"],
        "SUBSCRIPTION_LAGGED"
    );
    inbox.complete("in").await;
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn the_query_limits_apply_to_subscriptions() {
    let s = TestServer::start_with(trm::server::HttpOptions {
        limits: trm::server::ApiLimits {
            max_depth: 3,
            ..trm::server::ApiLimits::default()
        },
        ..trm::server::HttpOptions::default()
    })
    .await;
    let (case_id, _) = s.open_case("it.shelter").await;
    let mut ws = WsClient::as_user(&s, "it.shelter").await;
    ws.subscribe(
        "deep",
        "subscription($id: ID!) { caseEvents(caseId: $id) { actor { agency { name } } } }",
        json!({"id": case_id}),
    )
    .await;
    let payload = ws.next_payload("deep").await;
    assert_eq!(payload["errors"][0]["extensions"]["code"], "VALIDATION");
    assert!(
        payload["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too deep")),
        "{payload}"
    );
    assert!(payload["data"].is_null(), "{payload}");
    ws.complete("deep").await;
    s.stop().await;
}

#[tokio::test]
async fn a_connection_that_never_initialises_is_closed() {
    let s = TestServer::start().await;
    let mut ws = WsClient::connect(&s, None).await;
    match ws.recv().await {
        Incoming::Closed(code, _) => assert_eq!(code, 4408),
        other => panic!("expected close 4408, got {other:?}"),
    }
    s.stop().await;
}
