//! The hardened API, proven from outside: an attack corpus refused before anything runs, the
//! rate limit per principal, production defaults, `/metrics`, and a canary name and date of
//! birth seeded in a case that never reach the logs, an error or the metrics.

use crate::harness::{TestServer, error_code};
use crate::process::{seeded_database, serve, stop};
use crate::subscriptions::WsClient;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use trm::server::ApiLimits;
use trm::server::HttpOptions;

const OPEN: &str = r#"openCase(input: {workflowId: "trm-adult"}) { case { id } }"#;

/// The number of cases the auditor (who sees every case) sees: proves refused mutations did not
/// run.
async fn case_count(s: &TestServer) -> usize {
    s.data(
        "auditor",
        "{ cases(first: 100) { edges { node { id } } } }",
        json!({}),
    )
    .await["cases"]["edges"]
        .as_array()
        .unwrap()
        .len()
}

/// Asserts a whole-request refusal: `VALIDATION`, no data, a message containing `needle`.
fn assert_refused(what: &str, body: &Value, needle: &str) {
    assert_eq!(error_code(body), "VALIDATION", "{what}: {body}");
    assert!(body["data"].is_null(), "{what}: nothing ran: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.to_lowercase().contains(&needle.to_lowercase()),
        "{what}: message {message:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn an_attack_corpus_is_refused_before_anything_runs() {
    // As in production: no introspection, no GraphiQL.
    let s = TestServer::start_with(HttpOptions {
        graphiql: false,
        limits: ApiLimits {
            introspection: false,
            ..ApiLimits::default()
        },
        ..HttpOptions::default()
    })
    .await;
    let auth = format!("Bearer {}", s.token("it.shelter"));

    let deep = format!(
        "mutation {{ openCase(input: {{workflowId: \"trm-adult\"}}) {{ case {{ {}id{} }} }} }}",
        "followsCase { ".repeat(14),
        " }".repeat(14)
    );
    let aliases: String = (1..1000).map(|i| format!("a{i}: __typename ")).collect();
    let many_opens: String = (0..300).map(|i| format!("o{i}: {OPEN} ")).collect();
    let many_me: String = (0..1000)
        .map(|i| format!("m{i}: me {{ roles }} "))
        .collect();
    let flood_one = format!(
        "mutation {{ openCase(input: {{workflowId: \"trm-adult\"}}) {} {{ case {{ id }} }} }}",
        "@include(if: true) ".repeat(1000)
    );
    let flood_many: String = (0..60)
        .map(|i| format!("t{i}: __typename @skip(if: false) "))
        .collect();
    let mut bomb = String::from("mutation { ...F40 }\nfragment F0 on Mutation { ");
    bomb.push_str(OPEN);
    bomb.push_str(" }\n");
    for i in 1..=40 {
        bomb.push_str(&format!(
            "fragment F{i} on Mutation {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    let cycle = format!(
        "mutation {{ ...A }} fragment A on Mutation {{ {OPEN} ...B }} fragment B on Mutation {{ ...A }}"
    );
    let long_text = format!("mutation {{ {OPEN} }} # {}", "x".repeat(40 * 1024));
    let corpus: Vec<(&str, String, &str)> = vec![
        ("over-deep query", deep, "nested too deep"),
        (
            "1,000 aliases",
            format!("mutation {{ a0: {OPEN} {aliases} }}"),
            "too many fields",
        ),
        (
            "300 mutations",
            format!("mutation {{ {many_opens} }}"),
            "too many fields",
        ),
        (
            "1,000 aliases of a query field",
            format!("{{ {many_me} }}"),
            "too many fields",
        ),
        (
            "directive flood on one field",
            flood_one,
            "too many directives",
        ),
        (
            "directive flood across fields",
            format!("mutation {{ {OPEN} {flood_many} }}"),
            "too many directives",
        ),
        ("fragment bomb", bomb, "too many fields"),
        ("fragment cycle", cycle, "spreads itself"),
        ("huge query text", long_text, "bytes long"),
        (
            "syntax error",
            format!("mutation {{ {OPEN}"),
            "syntax error at line 1",
        ),
        (
            "introspection: __schema",
            "{ __schema { types { name } } }".into(),
            "__schema",
        ),
        (
            "introspection: __type",
            "{ __type(name: \"Case\") { name fields { name } } }".into(),
            "__type",
        ),
        (
            "huge first",
            "{ cases(first: 1000000) { edges { node { id } } } }".into(),
            "between 0 and 100",
        ),
        (
            "negative first",
            "{ cases(first: -1) { edges { node { id } } } }".into(),
            "between 0 and 100",
        ),
        (
            "first beyond Int",
            "{ worklist(first: 99999999999) { edges { cursor } } }".into(),
            "Int",
        ),
        (
            "huge first on a worklist",
            "{ worklist(first: 1000000) { edges { cursor } } }".into(),
            "between 0 and 100",
        ),
    ];
    for (what, query, needle) in &corpus {
        let started = Instant::now();
        let (status, body) = s.post(Some(&auth), query, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        assert_refused(what, &body, needle);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{what} took {:?}",
            started.elapsed()
        );
    }
    // __typename is not introspection: clients use it.
    let body = s.gql("it.shelter", "{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query");

    // A JSON array batch: 400 VALIDATION, none of its operations runs.
    let batch = json!([{"query": format!("mutation {{ {OPEN} }}")}, {"query": "{ me { roles } }"}]);
    let res = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("Authorization", &auth)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_refused("JSON batch", &body, "batched requests");

    // A body over the limit: 413 PAYLOAD_TOO_LARGE, whether it says its length or not. (A fresh
    // client: the server closes the connection without reading the body.)
    let big = format!("mutation {{ {OPEN} }} # {}", "x".repeat(2 * 1024 * 1024));
    let res = crate::harness::http()
        .post(format!("{}/graphql", s.url))
        .header("Authorization", &auth)
        .json(&json!({"query": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE", "{body}");
    let (status, body) = post_chunked(&s.url, &auth, 2 * 1024 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("PAYLOAD_TOO_LARGE"), "{body}");

    // GraphiQL is off.
    let res = s
        .client
        .get(format!("{}/graphql", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    assert_eq!(case_count(&s).await, 0, "no refused mutation opened a case");
    // The same server still serves ordinary requests.
    s.open_case("it.shelter").await;
    assert_eq!(case_count(&s).await, 1);
    s.stop().await;
}

/// POSTs a chunked body (no `Content-Length`) of about `bytes` bytes to `/graphql`; returns the
/// status and the raw answer.
async fn post_chunked(url: &str, auth: &str, bytes: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!(
        "{{\"query\": \"{{ me {{ roles }} }} #{}",
        "x".repeat(64 * 1024)
    );
    let mut sent = 0;
    while sent < bytes {
        let frame = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        // The server may answer and close before it has everything: stop writing then.
        if stream.write_all(frame.as_bytes()).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).to_string();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn a_request_running_too_long_is_cut_off_with_timeout() {
    let s = TestServer::start_with(HttpOptions {
        request_timeout: Duration::from_secs(1),
        ..HttpOptions::default()
    })
    .await;
    let (id, _) = s.open_case("it.shelter").await;
    // Another writer holds the case (and, on SQLite, the database's write lock): the transition
    // waits for it longer than the request may take.
    let blocker = s.app.store.begin_write().await.unwrap();
    trm::store::execute_sql(&blocker, "UPDATE cases SET version = version")
        .await
        .unwrap();
    let auth = format!("Bearer {}", s.token("it.shelter"));
    let started = Instant::now();
    let (status, body) = s
        .post(
            Some(&auth),
            "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { case { version } } }",
            json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
                "data": {"signal_source": "self_report"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(error_code(&body), "TIMEOUT");
    assert!(started.elapsed() < Duration::from_secs(5));
    blocker.rollback().await.unwrap();
    assert_eq!(
        s.version_and_history("it.shelter", &id).await,
        (1, 1),
        "the cut-off transition changed nothing"
    );
    s.stop().await;
}

/// One `trm_graphql_requests_total` sample from a `/metrics` text.
fn requests_total(metrics: &str, operation: &str, outcome: &str) -> u64 {
    let prefix =
        format!("trm_graphql_requests_total{{operation=\"{operation}\",outcome=\"{outcome}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {prefix} in:\n{metrics}"))
}

async fn metrics_text(s: &TestServer) -> String {
    let res = s
        .client
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    res.text().await.unwrap()
}

#[tokio::test]
async fn each_principal_has_a_rate_limit_and_metrics_count_what_happened() {
    let s = TestServer::start_with(HttpOptions {
        rate_limit_per_minute: 5,
        ..HttpOptions::default()
    })
    .await;
    let auth = format!("Bearer {}", s.token("it.shelter"));
    for _ in 0..4 {
        s.data("it.shelter", "{ me { roles } }", json!({})).await;
    }
    s.open_case("it.shelter").await;
    // The sixth request within the minute: 429, Retry-After, and the mutation does not run.
    let (status, body) = s
        .post(Some(&auth), &format!("mutation {{ {OPEN} }}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"]
        .as_u64()
        .unwrap();
    assert!((1..=12).contains(&retry), "{body}");
    let res = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("Authorization", &auth)
        .json(&json!({"query": "{ me { roles } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let header: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=12).contains(&header));
    // Other principals have their own buckets; no token at all is still 401, not 429.
    assert_eq!(case_count(&s).await, 1, "the limited mutation did not run");
    let (status, _) = s.post(None, "{ me { roles } }", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Subscriptions take from the same bucket.
    let mut ws = WsClient::as_user(&s, "it.shelter").await;
    ws.subscribe("s", "subscription { inbox { id } }", json!({}))
        .await;
    let payload = ws.next_payload("s").await;
    assert_eq!(
        payload["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{payload}"
    );

    // The metrics: fixed labels only.
    let text = metrics_text(&s).await;
    assert_eq!(requests_total(&text, "query", "OK"), 5, "{text}");
    assert_eq!(requests_total(&text, "mutation", "OK"), 1);
    assert_eq!(requests_total(&text, "unknown", "RATE_LIMITED"), 3);
    assert_eq!(requests_total(&text, "unknown", "UNAUTHENTICATED"), 1);
    assert!(text.contains("trm_rate_limited_total{transport=\"http\"} 2"));
    assert!(text.contains("trm_rate_limited_total{transport=\"websocket\"} 1"));
    assert!(text.contains(
        "trm_graphql_request_duration_seconds_count{operation=\"query\",outcome=\"OK\"} 5"
    ));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let labels = line
            .split_once('{')
            .and_then(|(_, rest)| rest.split_once('}'))
            .map_or("", |(labels, _)| labels);
        for pair in labels.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap();
            let value = value.trim_matches('"');
            let fixed = match key {
                "operation" => ["query", "mutation", "subscription", "unknown"].contains(&value),
                "outcome" => trm::server::OUTCOMES.contains(&value),
                "transport" => ["http", "websocket", "console"].contains(&value),
                // A statement's verb and table (`INSERT case_events`), or those of the
                // statements sent together, joined by `; `: names from the code.
                "statement" => value.split("; ").all(|kind| {
                    kind.split_once(' ')
                        .map_or(kind, |(verb, _)| verb)
                        .chars()
                        .all(|c| c.is_ascii_uppercase())
                        && kind.split_once(' ').is_none_or(|(_, table)| {
                            table.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        })
                }),
                "le" => value == "+Inf" || value.parse::<f64>().is_ok(),
                _ => false,
            };
            assert!(fixed, "label {key}={value} is not from a fixed set");
        }
    }
    s.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The `trm` binary, as deployed: production defaults and the canary.

const CANARY_NAME: &str = "Canary Zyxwvutsrq";
const CANARY_DOB: &str = "1999-12-31";

/// A client of a running binary that keeps every answer it got.
struct Client {
    url: String,
    tokens: BTreeMap<String, String>,
    http: reqwest::Client,
    /// (what was asked, status, body) of every answer.
    answers: Vec<(String, StatusCode, String)>,
}

impl Client {
    async fn post_raw(
        &mut self,
        what: &str,
        user: Option<&str>,
        body: String,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}/graphql", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(user) = user {
            let token = self
                .tokens
                .get(user)
                .cloned()
                .unwrap_or_else(|| user.to_string());
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        self.answers.push((what.to_string(), status, text));
        (status, json)
    }

    async fn gql(&mut self, what: &str, user: &str, query: &str, variables: Value) -> Value {
        let body = json!({"query": query, "variables": variables}).to_string();
        self.post_raw(what, Some(user), body).await.1
    }

    async fn data(&mut self, what: &str, user: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(what, user, query, variables).await;
        assert!(body.get("errors").is_none(), "{what}: {body}");
        body["data"].clone()
    }

    async fn get(&mut self, what: &str, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        self.answers.push((what.to_string(), status, text.clone()));
        (status, text)
    }
}

#[tokio::test]
async fn production_switches_introspection_and_graphiql_off_unless_asked() {
    let (db, tokens) = seeded_database().await;
    let auth = format!("Bearer {}", tokens["it.shelter"]);
    let http = crate::harness::http();
    let introspect = |url: String, query: &'static str| {
        let http = http.clone();
        let auth = auth.clone();
        async move {
            http.post(format!("{url}/graphql"))
                .header("Authorization", auth)
                .json(&json!({"query": query}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let schema = "{ __schema { queryType { name } } }";
    let ty = "{ __type(name: \"Case\") { name } }";

    let key = crate::process::production_key();
    let match_key = crate::process::production_key();
    let (child, out) = serve(
        &db,
        &[
            "--production",
            "--audit-key-file",
            &key,
            "--match-key-file",
            &match_key,
        ],
        None,
    );
    let url = out.lines().next().unwrap().to_string();
    assert!(!out.contains("GraphiQL"), "{out}");
    let res = http.get(format!("{url}/graphql")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    for query in [schema, ty] {
        let body = introspect(url.clone(), query).await;
        assert_eq!(error_code(&body), "VALIDATION", "{body}");
        assert!(body["data"].is_null(), "{body}");
    }
    // Suggestions are off: a misspelt field gets no "did you mean".
    let body = introspect(url.clone(), "{ me { rolez } }").await;
    assert!(
        !body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Did you mean"),
        "{body}"
    );
    let res = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "metrics on the main address");
    stop(child);

    // Switched on explicitly; metrics on an address of their own.
    let (child, out) = serve(
        &db,
        &[
            "--production",
            "--audit-key-file",
            &key,
            "--match-key-file",
            &match_key,
            "--introspection",
            "true",
            "--graphiql",
            "true",
            "--metrics-bind",
            "127.0.0.1:0",
        ],
        None,
    );
    let url = out.lines().next().unwrap().to_string();
    let metrics_url = out
        .lines()
        .find_map(|l| l.strip_prefix("Metrics: "))
        .unwrap_or_else(|| panic!("prints the metrics address: {out}"))
        .to_string();
    let res = http.get(format!("{url}/graphql")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for query in [schema, ty] {
        let body = introspect(url.clone(), query).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let res = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "not on the main address"
    );
    let res = http.get(&metrics_url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("trm_graphql_requests_total{operation=\"query\",outcome=\"OK\"} 2")
    );
    stop(child);
}

/// `text` without terminal colour codes.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... final letter
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `text` holds the canary in any form looked for.
fn leaks(text: &str) -> Option<&'static str> {
    [CANARY_NAME, "Zyxwvutsrq", CANARY_DOB]
        .into_iter()
        .find(|c| text.contains(c))
}

#[tokio::test]
async fn a_canary_name_and_date_of_birth_never_reach_logs_errors_or_metrics() {
    let (db, tokens) = seeded_database().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("trm.log");
    let (child, out) = serve(
        &db,
        &[
            "--production",
            "--audit-key-file",
            &crate::process::production_key(),
            "--match-key-file",
            &crate::process::production_key(),
            "--rate-limit-per-minute",
            "40",
        ],
        Some(&log),
    );
    let mut c = Client {
        url: out.lines().next().unwrap().to_string(),
        tokens,
        // No connection reuse: the server closes a connection after a 413.
        http: crate::harness::http_builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap(),
        answers: Vec::new(),
    };
    let lead = "it.shelter";

    // The canary, seeded in a case as its IDENTITY; legal status shared with another agency.
    let id = c
        .data(
            "open",
            lead,
            "mutation { openCase(input: {workflowId: \"trm-adult\", originCountry: \"NG\"}) { case { id } } }",
            json!({}),
        )
        .await["openCase"]["case"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let record = "mutation($id: ID!, $g: DataGroup!, $v: JSON!) { recordPersonalData(input: {caseId: $id, group: $g, value: $v}) { case { version } } }";
    c.data(
        "record identity",
        lead,
        record,
        json!({"id": id, "g": "IDENTITY", "v": {"names": CANARY_NAME, "dateOfBirth": CANARY_DOB, "nationality": "NG"}}),
    )
    .await;
    c.data(
        "record legal status",
        lead,
        record,
        json!({"id": id, "g": "LEGAL_STATUS", "v": {"residence": "none"}}),
    )
    .await;
    let iom = c
        .data(
            "iom agency",
            "it.iom",
            "{ me { agency { id } } }",
            json!({}),
        )
        .await["me"]["agency"]["id"]
        .clone();
    c.data(
        "consent",
        lead,
        "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }",
        json!({"input": {"caseId": id, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["LEGAL_STATUS"]}}),
    )
    .await;
    c.data(
        "referral",
        lead,
        "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
        json!({"input": {"caseId": id, "toAgencyId": iom, "service": "LEGAL", "purpose": "legal counselling", "sharedGroups": ["LEGAL_STATUS"]}}),
    )
    .await;

    // Reads: the lead sees the canary (in data, as it should); the receiver sees IDENTITY
    // redacted; the police and another country's focal point do not see the case.
    let view = "query($id: ID!) { case(id: $id) { reference access personalData { group value redacted } redactedFields history(first: 50) { edges { node { kind transition } } } } }";
    let seen = c.data("lead reads", lead, view, json!({"id": id})).await;
    assert!(
        seen.to_string().contains(CANARY_NAME),
        "the lead reads the canary: {seen}"
    );
    for user in ["it.iom", "it.police", "ng.focal"] {
        let body = c.gql("others read", user, view, json!({"id": id})).await;
        assert!(leaks(&body.to_string()).is_none(), "{user} sees: {body}");
    }
    // What an auditor may read is the access policy's business; here only its errors count.
    c.gql("auditor reads", "auditor", view, json!({"id": id}))
        .await;
    let seen = c
        .data("receiver reads", "it.iom", view, json!({"id": id}))
        .await;
    assert_eq!(seen["case"]["access"], "PARTICIPANT", "{seen}");
    assert!(
        seen["case"]["redactedFields"]
            .as_array()
            .unwrap()
            .contains(&json!("personalData.IDENTITY")),
        "{seen}"
    );

    // Bad inputs that carry the canary where a message might repeat it.
    let fire =
        "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { case { version } } }";
    let bad: Vec<(&str, &str, String, Value)> = vec![
        ("malformed id", lead, "query($id: ID!) { case(id: $id) { id } }".to_string(), json!({"id": CANARY_NAME})),
        ("malformed id literal", lead, format!("{{ case(id: \"{CANARY_NAME} {CANARY_DOB}\") {{ id }} }}"), json!({})),
        ("unknown enum value", lead, record.to_string(), json!({"id": id, "g": CANARY_NAME, "v": {}})),
        ("unknown input field", lead, "mutation($i: RecordPersonalDataInput!) { recordPersonalData(input: $i) { case { id } } }".to_string(),
            json!({"i": {"caseId": id, "group": "IDENTITY", "value": {}, CANARY_NAME: CANARY_DOB}})),
        ("wrong-typed value", lead, record.to_string(), json!({"id": id, "g": "IDENTITY", "v": CANARY_NAME})),
        ("too-long reason", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
            "data": {"signal_source": "self_report"}, "reason": format!("{CANARY_NAME} {CANARY_DOB} ").repeat(300)}})),
        ("wrong-typed fact", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
            "data": {"signal_source": CANARY_NAME}}})),
        ("wrong-typed bool fact", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "record_presumed_victim", "expectedVersion": 1,
            "data": {"consent_to_referral": CANARY_DOB, "indicators_found": [CANARY_NAME]}}})),
        ("unknown fact", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
            "data": {CANARY_NAME: CANARY_DOB}}})),
        ("unknown transition", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": CANARY_NAME, "expectedVersion": 1, "data": {}}})),
        ("stale version with canary reason", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 99,
            "data": {"signal_source": "self_report"}, "reason": CANARY_NAME}})),
        ("bad idempotency key", lead, fire.to_string(), json!({"i": {"caseId": id, "transition": "start_screening", "expectedVersion": 1,
            "data": {"signal_source": "self_report"}, "idempotencyKey": format!("{CANARY_NAME}\n{CANARY_DOB}")}})),
        ("bad date", lead, "mutation($i: RecordMovementInput!) { recordMovement(input: $i) { case { id } } }".to_string(),
            json!({"i": {"caseId": id, "country": "IT", "movedOn": format!("{CANARY_DOB}T{CANARY_NAME}"), "source": "PERSON"}})),
        ("bad country", lead, "mutation($i: RecordMovementInput!) { recordMovement(input: $i) { case { id } } }".to_string(),
            json!({"i": {"caseId": id, "country": CANARY_NAME, "movedOn": "2025-01-01", "source": "PERSON", "place": CANARY_NAME}})),
        ("not found: unknown reference", lead, "query($r: String!) { caseByReference(reference: $r) { id } }".to_string(), json!({"r": CANARY_NAME})),
        ("forbidden: the auditor records data", "auditor", record.to_string(), json!({"id": id, "g": "IDENTITY", "v": {"names": CANARY_NAME}})),
        ("not visible: the police record data", "it.police", record.to_string(), json!({"id": id, "g": "IDENTITY", "v": {"names": CANARY_NAME}})),
        ("syntax error", lead, format!("{{ case(id: \"{CANARY_NAME}) {{ id }} }}"), json!({})),
        ("unknown field", lead, "{ me { rolez } }".to_string(), json!({"x": CANARY_NAME})),
        ("over-limit query", lead, format!("{{ {} }}", (0..600).map(|i| format!("a{i}: caseByReference(reference: \"{CANARY_NAME}\") {{ id }} ")).collect::<String>()), json!({})),
        ("unused variable", lead, "query($x: String) { me { roles } }".to_string(), json!({"x": CANARY_NAME, "y": CANARY_DOB})),
    ];
    for (what, user, query, variables) in bad {
        let body = c.gql(what, user, &query, variables).await;
        assert!(
            body.get("errors").is_some() || what.starts_with("not found"),
            "{what} is refused: {body}"
        );
    }
    // Bodies that are not GraphQL requests.
    for (what, body) in [
        (
            "JSON syntax error",
            format!(
                "{{\"query\": \"{{ me {{ roles }} }}\", \"variables\": {{\"x\": \"{CANARY_NAME}\""
            ),
        ),
        (
            "variables of the wrong type",
            format!("{{\"query\": \"{{ me {{ roles }} }}\", \"variables\": \"{CANARY_NAME}\"}}"),
        ),
        (
            "query of the wrong type",
            format!("{{\"query\": [\"{CANARY_NAME}\", \"{CANARY_DOB}\"]}}"),
        ),
        (
            "JSON batch",
            format!(
                "[{{\"query\": \"{{ caseByReference(reference: \\\"{CANARY_NAME}\\\") {{ id }} }}\"}}]"
            ),
        ),
        ("not JSON", format!("{CANARY_NAME} {CANARY_DOB}")),
    ] {
        let (status, _) = c.post_raw(what, Some(lead), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
    }
    // Unauthenticated, with the canary in the body and in the token.
    let (status, _) = c
        .post_raw(
            "no token",
            None,
            json!({"query": record, "variables": {"id": id, "g": "IDENTITY", "v": {"names": CANARY_NAME}}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = c
        .post_raw(
            "canary token",
            Some(&format!("trm_{CANARY_NAME}")),
            json!({"query": "{ me { roles } }"}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Too large, with the canary in it.
    let (status, _) = c
        .post_raw(
            "too large",
            Some(lead),
            json!({"query": "{ me { roles } }", "variables": {"x": format!("{CANARY_NAME} ").repeat(70_000)}}).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // In a URL (GraphiQL is off in production: 404), which the logs must not repeat either.
    let (status, _) = c
        .get(
            "url",
            &format!(
                "/graphql?name={}&dob={CANARY_DOB}",
                CANARY_NAME.replace(' ', "+")
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Rate-limited, with the canary in the requests.
    let mut limited = 0;
    for _ in 0..45 {
        let (status, _) = c
            .post_raw(
                "rate limit",
                Some("ng.focal"),
                json!({"query": "query($r: String!) { caseByReference(reference: $r) { id } }", "variables": {"r": CANARY_NAME}}).to_string(),
            )
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(
        limited >= 5,
        "the rate limit answered 429 ({limited} times)"
    );

    // The metrics.
    let (status, metrics) = c.get("metrics", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.contains("outcome=\"RATE_LIMITED\""));
    stop(child);

    // Nothing but the lead's own reads carried the canary.
    for (what, status, text) in &c.answers {
        let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let errors = if body.is_null() {
            text.clone()
        } else {
            body.get("errors")
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        assert!(
            leaks(&errors).is_none(),
            "{what} ({status}) repeats the canary in an error: {errors}"
        );
        if !["lead reads", "auditor reads"].contains(&what.as_str()) {
            let data = body
                .get("data")
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                leaks(&data).is_none(),
                "{what} ({status}) returns the canary: {data}"
            );
        }
    }
    let logs = strip_ansi(&std::fs::read_to_string(&log).unwrap());
    assert!(
        logs.contains(" DEBUG request{method=POST path=/graphql}") && logs.contains("listening"),
        "the logs were captured at debug level:\n{logs}"
    );
    if let Some(found) = leaks(&logs) {
        let line = logs.lines().find(|l| l.contains(found)).unwrap_or_default();
        panic!("the logs repeat {found:?}: {line}");
    }
}
