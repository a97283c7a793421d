//! Reliability drills: the `trm` binary is killed, stopped, restarted and starved of its
//! database while clients work, and every transition it acknowledged must still be there,
//! exactly once, with the audit trail verifying. They run on SQLite, and on PostgreSQL with
//! `TRM_TEST_DATABASE_URL`.
//!
//! The short versions run in CI with the rest of the suite. The long version of the crash drill:
//! `TRM_DRILL_KILLS=200 TRM_DRILL_CLIENTS=16 cargo test --test api drills::` (see the README's
//! operations section).

use crate::audit::trm;
use crate::process::{kill, seeded_database, seeded_database_with, serve, signal, stop, wait_exit};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use trm::store::{Store, StoreOptions};

const FIRE: &str = "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { case { version } event { sequence } replayed } }";
const MEASURES: [&str; 5] = [
    "police_protection",
    "witness_protection_programme",
    "relocation",
    "family_protection",
    "anonymity_in_proceedings",
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (the seed is printed, so a failing run can be replayed with
/// `TRM_DRILL_SEED`).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = env_number(
            "TRM_DRILL_SEED",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7),
        );
        eprintln!("drill seed: TRM_DRILL_SEED={seed}");
        Rng(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Posts a GraphQL request: the body, or `Err` when no complete HTTP answer arrived (the
/// outcome is then unknown).
async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<(u16, Value), String> {
    let res = http
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let text = res.text().await.map_err(|e| e.to_string())?;
    let body = serde_json::from_str(&text).map_err(|e| format!("{status}: {e}: {text}"))?;
    Ok((status, body))
}

async fn data(http: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Value {
    let (status, body) = post(http, url, token, query, vars).await.unwrap();
    assert!(
        status == 200 && body.get("errors").is_none(),
        "{status}: {body}"
    );
    body["data"].clone()
}

async fn open_cases(http: &reqwest::Client, url: &str, token: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let d = data(
            http,
            url,
            token,
            // Version 4: the drills' step (`order_protection_measure`) is the lead's there (the
            // prosecutor's from version 5).
            r#"mutation { openCase(input: {workflowId: "trm-adult", workflowVersion: 4}) { case { id } } }"#,
            json!({}),
        )
        .await;
        ids.push(d["openCase"]["case"]["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn version(http: &reqwest::Client, url: &str, token: &str, case_id: &str) -> i64 {
    let d = data(
        http,
        url,
        token,
        "query($id: ID!) { case(id: $id) { version } }",
        json!({"id": case_id}),
    )
    .await;
    d["case"]["version"].as_i64().unwrap()
}

/// The operation a client sent whose outcome it does not know.
#[derive(Clone, Debug)]
struct Pending {
    key: String,
    expected: i64,
    measure: &'static str,
}

/// One client of the drill: its own case, what was acknowledged, and what is unknown.
#[derive(Debug)]
struct Worker {
    case_id: String,
    version: i64,
    next: usize,
    /// (sequence, idempotency key) of every acknowledged transition.
    acked: Vec<(i64, String)>,
    pending: Option<Pending>,
    /// Unknown outcomes found applied / not applied after a restart.
    unknown_present: usize,
    unknown_absent: usize,
}

impl Worker {
    /// A client of a freshly opened case (version 1).
    fn new(case_id: String) -> Worker {
        Worker {
            case_id,
            version: 1,
            next: 0,
            acked: Vec::new(),
            pending: None,
            unknown_present: 0,
            unknown_absent: 0,
        }
    }
}

/// A one-connection store on `url` (for SQL the drills run beside the service).
async fn store_at(url: &str) -> Store {
    Store::connect(&StoreOptions {
        url: url.to_string(),
        max_connections: 1,
        ..Default::default()
    })
    .await
    .unwrap()
}

fn fire_input(case_id: &str, p: &Pending) -> Value {
    json!({"i": {"caseId": case_id, "transition": "order_protection_measure",
        "expectedVersion": p.expected, "idempotencyKey": p.key,
        "data": {"protection_measure": p.measure}}})
}

/// Fires until the server stops answering (or `until` passes); every answer must be a success.
async fn work(
    http: reqwest::Client,
    url: String,
    token: String,
    mut w: Worker,
    until: Instant,
) -> Worker {
    while Instant::now() < until {
        let p = Pending {
            key: format!("drill-{}-{}", w.case_id, w.next),
            expected: w.version,
            measure: MEASURES[w.next % MEASURES.len()],
        };
        w.pending = Some(p.clone());
        match post(&http, &url, &token, FIRE, fire_input(&w.case_id, &p)).await {
            Err(_) => return w,
            Ok((status, body)) => {
                if let Some(errors) = body.get("errors") {
                    // The database can be cut off mid-request: a clear error, outcome unknown.
                    let code = errors[0]["extensions"]["code"].as_str().unwrap_or("");
                    assert_eq!(code, "SERVICE_UNAVAILABLE", "{status}: {body}");
                    return w;
                }
                let payload = &body["data"]["fireTransition"];
                let seq = payload["event"]["sequence"].as_i64().unwrap();
                assert_eq!(seq, p.expected + 1, "{body}");
                assert_eq!(payload["replayed"], false, "{body}");
                w.version = seq;
                w.acked.push((seq, p.key));
                w.pending = None;
                w.next += 1;
            }
        }
    }
    w
}

/// After a restart: an unknown operation is either fully there or not at all; retried with its
/// key it is there exactly once.
async fn settle(http: &reqwest::Client, url: &str, token: &str, w: &mut Worker) {
    let Some(p) = w.pending.take() else { return };
    let now = version(http, url, token, &w.case_id).await;
    let applied = if now == p.expected + 1 {
        true
    } else {
        assert_eq!(
            now, p.expected,
            "case {} is at version {now}; an unknown transition from {} is half-applied or doubled",
            w.case_id, p.expected
        );
        false
    };
    let d = data(http, url, token, FIRE, fire_input(&w.case_id, &p)).await;
    let payload = &d["fireTransition"];
    assert_eq!(payload["event"]["sequence"], p.expected + 1, "{d}");
    assert_eq!(
        payload["replayed"], applied,
        "a retry of {} after restart: {d}",
        p.key
    );
    if applied {
        w.unknown_present += 1;
    } else {
        w.unknown_absent += 1;
    }
    w.version = p.expected + 1;
    w.acked.push((p.expected + 1, p.key));
    w.next += 1;
}

/// One number from SQL.
async fn count(store: &Store, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let conn = store.conn();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The database's own integrity check, and that no case is half-written: every case's version
/// is its number of events, every event is in the audit log.
async fn check_database(db_url: &str) {
    let store = store_at(db_url).await;
    use sea_orm::ConnectionTrait;
    if store.backend() == sea_orm::DatabaseBackend::Sqlite {
        let row = store
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "PRAGMA integrity_check".to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        let verdict: String = row.try_get_by_index(0).unwrap();
        assert_eq!(verdict, "ok", "SQLite integrity_check");
    } else {
        // amcheck's B-tree checks over every index of TRM's tables.
        trm::store::execute_sql(store.conn(), "CREATE EXTENSION IF NOT EXISTS amcheck")
            .await
            .unwrap();
        let checked = count(
            &store,
            "SELECT count(bt_index_check(c.oid, true)) FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE a.amname = 'btree' AND n.nspname = 'public'",
        )
        .await;
        assert!(checked > 0, "amcheck checked no index");
    }
    let torn = count(
        &store,
        "SELECT count(*) FROM cases c WHERE c.version <> \
         (SELECT count(*) FROM case_events e WHERE e.case_id = c.id)",
    )
    .await;
    assert_eq!(torn, 0, "cases whose version is not their number of events");
    let unlogged = count(
        &store,
        "SELECT (SELECT count(*) FROM case_events) - (SELECT count(*) FROM audit_log) \
         - (SELECT count(*) FROM audit_log_pending)",
    )
    .await;
    assert_eq!(unlogged, 0, "events and audit log leaves differ in number");
    store.close().await.ok();
}

async fn audit_verifies(db_url: &str) {
    let (ok, text) = trm(&[
        "audit",
        "verify",
        "--database-url",
        db_url,
        "--workflows",
        crate::harness::workflows_dir().to_str().unwrap(),
    ])
    .await;
    assert!(ok && text.contains("OK"), "audit verify: {text}");
}

/// The whole history of a case, page by page: (sequence, transition, kind, timer) as JSON.
async fn history(http: &reqwest::Client, url: &str, token: &str, case_id: &str) -> Vec<Value> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let d = data(
            http,
            url,
            token,
            "query($id: ID!, $after: String) { case(id: $id) { history(first: 100, after: $after) { \
             nodes { sequence transition kind timer } pageInfo { hasNextPage endCursor } } } }",
            json!({"id": case_id, "after": after}),
        )
        .await;
        let page = &d["case"]["history"];
        nodes.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            return nodes;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

/// Checks every client's case against what it was told: the history holds exactly the
/// acknowledged transitions, in order, once each.
async fn check_histories(http: &reqwest::Client, url: &str, token: &str, workers: &[Worker]) {
    for w in workers {
        let nodes = history(http, url, token, &w.case_id).await;
        let fired: Vec<i64> = nodes
            .iter()
            .filter(|n| n["transition"] == "order_protection_measure")
            .map(|n| n["sequence"].as_i64().unwrap())
            .collect();
        let acked: Vec<i64> = w.acked.iter().map(|(s, _)| *s).collect();
        assert_eq!(fired, acked, "case {}: history vs acknowledged", w.case_id);
        assert_eq!(version(http, url, token, &w.case_id).await, w.version);
        let seqs: Vec<i64> = nodes
            .iter()
            .map(|n| n["sequence"].as_i64().unwrap())
            .collect();
        assert_eq!(
            seqs,
            (1..=w.version).collect::<Vec<_>>(),
            "gaps in {}",
            w.case_id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_transitions_survive_sigkill_at_random_moments() {
    let kills = env_number("TRM_DRILL_KILLS", 20);
    let clients = env_number("TRM_DRILL_CLIENTS", 8) as usize;
    sigkill_drill(kills, clients, false).await;
}

/// The same drill with many clients on SQLite, where their writes commit in groups (one
/// transaction, one fsync, a savepoint each): the process is killed while groups are being
/// gathered and committed, and no acknowledged transition may be missing, none half there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_transitions_survive_sigkill_during_group_commits() {
    if crate::harness::on_postgres() {
        eprintln!("group commit is SQLite's: this drill runs on SQLite only");
        return;
    }
    let kills = env_number("TRM_DRILL_GROUP_KILLS", 8);
    let clients = env_number("TRM_DRILL_GROUP_CLIENTS", 32) as usize;
    sigkill_drill(kills, clients, true).await;
}

/// How many writes per group, on average, the server at `url` has committed so far (its
/// `/metrics`), or 0 when it cannot tell.
async fn writes_per_group(http: &reqwest::Client, url: &str) -> (f64, f64) {
    let text = metrics_text(http, url).await;
    let groups = metric(&text, "trm_sqlite_group_commits_total");
    let writes = metric(&text, "trm_sqlite_group_commit_writes_total");
    let average = if groups > 0.0 { writes / groups } else { 0.0 };
    (average, metric(&text, "trm_sqlite_group_commit_largest"))
}

/// The server's `/metrics` (empty when it does not answer).
async fn metrics_text(http: &reqwest::Client, url: &str) -> String {
    match http.get(format!("{url}/metrics")).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The value of the unlabelled metric `name` in `text` (0 when it is not there).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// How many writes the server at `url` has committed in groups since it started (0 when it
/// cannot tell).
async fn committed_writes(http: &reqwest::Client, url: &str) -> f64 {
    metric(
        &metrics_text(http, url).await,
        "trm_sqlite_group_commit_writes_total",
    )
}

/// Waits until the server at `url` has committed `more` writes beyond `before` (at most 20 s).
async fn wait_for_writes(http: &reqwest::Client, url: &str, before: f64, more: f64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && committed_writes(http, url).await < before + more {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Clients fire transitions (each on its own case, each with an idempotency key) while the
/// server is killed `kills` times at random moments and restarted; after each kill the database
/// and the audit log verify, unknown outcomes are settled by retrying with their keys, and the
/// histories hold exactly what was acknowledged. `grouped`: the drill must also have seen
/// groups of more than one write committed before the kills.
async fn sigkill_drill(kills: u64, clients: usize, grouped: bool) {
    let mut rng = Rng::new();
    let (db, tokens) = seeded_database().await;
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (mut child, out) = serve(&db, &["--scheduler-interval-secs", "1"], None);
    let mut url = out.lines().next().unwrap().to_string();
    let mut workers: Vec<Worker> = open_cases(&http, &url, &token, clients)
        .await
        .into_iter()
        .map(Worker::new)
        .collect();
    // The most writes per group on average before a kill, and the largest group seen.
    let (mut average_groups, mut largest_group) = (0.0f64, 0.0f64);
    for round in 0..kills {
        let writes_before = committed_writes(&http, &url).await;
        let until = Instant::now() + Duration::from_secs(10);
        let tasks: Vec<_> = workers
            .drain(..)
            .map(|w| tokio::spawn(work(http.clone(), url.clone(), token.clone(), w, until)))
            .collect();
        if grouped {
            // Kill during group commits, not before the first: on a loaded machine the first
            // answers can take longer than the random wait below.
            wait_for_writes(&http, &url, writes_before, clients as f64 / 2.0).await;
        }
        tokio::time::sleep(Duration::from_millis(20 + rng.below(400))).await;
        if grouped {
            let (average, largest) = writes_per_group(&http, &url).await;
            average_groups = average_groups.max(average);
            largest_group = largest_group.max(largest);
        }
        kill(child);
        for t in tasks {
            workers.push(t.await.unwrap());
        }
        check_database(&db.url).await;
        audit_verifies(&db.url).await;
        (child, url) = {
            let (c, out) = serve(&db, &["--scheduler-interval-secs", "1"], None);
            (c, out.lines().next().unwrap().to_string())
        };
        for w in &mut workers {
            settle(&http, &url, &token, w).await;
        }
        if round % 5 == 4 {
            check_histories(&http, &url, &token, &workers).await;
        }
    }
    check_histories(&http, &url, &token, &workers).await;
    stop(child);
    check_database(&db.url).await;
    audit_verifies(&db.url).await;
    let acked: usize = workers.iter().map(|w| w.acked.len()).sum();
    let present: usize = workers.iter().map(|w| w.unknown_present).sum();
    let absent: usize = workers.iter().map(|w| w.unknown_absent).sum();
    eprintln!(
        "crash drill: {clients} clients, {kills} kills, {acked} transitions acknowledged ({present} unknown found applied, {absent} unknown found not applied); writes per group up to {average_groups:.1} on average, {largest_group} at most"
    );
    assert!(
        acked >= kills as usize,
        "the drill did too little work to mean anything"
    );
    if grouped {
        assert!(
            largest_group > 1.0,
            "no group of more than one write was committed before a kill: the drill did not test group commit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_lets_in_flight_requests_finish() {
    let (db, tokens) = seeded_database().await;
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (mut child, out) = serve(&db, &[], None);
    let url = out.lines().next().unwrap().to_string();
    let cases = open_cases(&http, &url, &token, 8).await;
    let signalled = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut tasks = Vec::new();
    for case_id in cases {
        let (http, url, token, signalled) =
            (http.clone(), url.clone(), token.clone(), signalled.clone());
        tasks.push(tokio::spawn(async move {
            let (mut version, mut after_signal, mut refused) = (1i64, 0usize, 0usize);
            loop {
                let p = Pending {
                    key: format!("term-{case_id}-{version}"),
                    expected: version,
                    measure: MEASURES[version as usize % MEASURES.len()],
                };
                let sent = Instant::now();
                match post(&http, &url, &token, FIRE, fire_input(&case_id, &p)).await {
                    Ok((status, body)) => {
                        assert!(
                            status == 200 && body.get("errors").is_none(),
                            "an answer during shutdown was not a success: {status} {body}"
                        );
                        version += 1;
                        let at = *signalled.lock().unwrap();
                        if at.is_some_and(|at| sent <= at) {
                            after_signal += 1;
                        }
                    }
                    Err(_) => {
                        refused += 1;
                        return (case_id, version, after_signal, refused, p);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    *signalled.lock().unwrap() = Some(Instant::now());
    signal(&child, "TERM");
    let status =
        tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(15)))
            .await
            .unwrap()
            .expect("the server exits within 15 s of SIGTERM");
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let mut finished_in_flight = 0;
    let mut results = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        finished_in_flight += r.2;
        results.push(r);
    }
    assert!(
        finished_in_flight > 0,
        "no request in flight at SIGTERM was answered"
    );
    // Everything acknowledged is there; the request cut off at the end is there or not, whole.
    let (child, out) = serve(&db, &[], None);
    let url = out.lines().next().unwrap().to_string();
    for (case_id, acked_version, _, _, p) in results {
        let now = version(&http, &url, &token, &case_id).await;
        assert!(
            now == acked_version || now == p.expected + 1,
            "case {case_id}: acknowledged up to {acked_version}, found {now}"
        );
    }
    stop(child);
    check_database(&db.url).await;
    audit_verifies(&db.url).await;
}

/// A copy of the repository's workflows with the deadlines fixture (a 5-day deadline and a
/// 10-day floor) added.
fn workflows_with_deadline_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &std::path::Path, to: &std::path::Path| {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(from)
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success());
    };
    for entry in std::fs::read_dir(crate::harness::workflows_dir()).unwrap() {
        let path = entry.unwrap().path();
        copy(&path, &dir.path().join(path.file_name().unwrap()));
    }
    let fixture = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/deadlines/decision.v1.toml");
    copy(&fixture, &dir.path().join("decision.v1.toml"));
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timers_that_fell_due_while_down_fire_once_after_restart() {
    let workflows = workflows_with_deadline_fixture();
    let dir = workflows.path().to_str().unwrap().to_string();
    let (db, tokens) = seeded_database_with(workflows.path()).await;
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (child, out) = serve(&db, &["--workflows", &dir], None);
    let url = out.lines().next().unwrap().to_string();
    let d = data(
        &http,
        &url,
        &token,
        r#"mutation { openCase(input: {workflowId: "decision"}) { case { id } } }"#,
        json!({}),
    )
    .await;
    let case_id = d["openCase"]["case"]["id"].as_str().unwrap().to_string();
    data(
        &http,
        &url,
        &token,
        FIRE,
        json!({"i": {"caseId": case_id, "transition": "submit", "expectedVersion": 1}}),
    )
    .await;
    stop(child);
    // Six days later, two instances come up together: the 5-day deadline fell due while the
    // service was down; the 10-day floor did not.
    let args = [
        "--workflows",
        &dir,
        "--test-clock",
        "--test-clock-offset-days",
        "6",
        "--scheduler-interval-secs",
        "1",
    ];
    let (a, out_a) = serve(&db, &args, None);
    let (b, _) = serve(&db, &args, None);
    let url = out_a.lines().next().unwrap().to_string();
    let timers = |http: reqwest::Client, url: String, token: String, case_id: String| async move {
        history(&http, &url, &token, &case_id)
            .await
            .iter()
            .filter(|n| n["kind"] == "TIMER_ELAPSED")
            .map(|n| n["timer"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fired = timers(http.clone(), url.clone(), token.clone(), case_id.clone()).await;
        if !fired.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Several more passes of both schedulers.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let fired = timers(http.clone(), url.clone(), token.clone(), case_id.clone()).await;
    assert_eq!(
        fired,
        vec!["decision".to_string()],
        "timers recorded after restart"
    );
    stop(a);
    stop(b);
    check_database(&db.url).await;
    let (ok, text) = trm(&[
        "audit",
        "verify",
        "--database-url",
        &db.url,
        "--workflows",
        &dir,
    ])
    .await;
    assert!(ok, "{text}");
}

#[tokio::test]
async fn settings_that_can_lose_acknowledged_writes_are_refused_unless_accepted() {
    let (db, _) = seeded_database().await;
    let risky: Vec<&str> = if db.url.starts_with("sqlite") {
        vec!["--sqlite-synchronous", "normal"]
    } else {
        // `synchronous_commit = off` for this database only (fsync is server-wide).
        let store = store_at(&db.url).await;
        let name = db.url.rsplit('/').next().unwrap();
        trm::store::execute_sql(
            store.conn(),
            &format!("ALTER DATABASE {name} SET synchronous_commit = off"),
        )
        .await
        .unwrap();
        store.close().await.ok();
        vec![]
    };
    let refused = crate::process::try_serve_url(&db.url, &risky, None);
    let Err(printed) = refused else {
        panic!("the service started on settings that can lose acknowledged writes")
    };
    assert!(
        printed.contains("refusing to start") && printed.contains("--accept-durability-risk"),
        "{printed}"
    );
    let named = if risky.is_empty() {
        "synchronous_commit = off"
    } else {
        "synchronous = NORMAL"
    };
    assert!(printed.contains(named), "{printed}");
    let mut accepted = risky.clone();
    accepted.push("--accept-durability-risk");
    let (child, _) = serve(&db, &accepted, None);
    stop(child);
    if risky.is_empty() {
        // Back to the server's default: the service starts without being told anything.
        let store = store_at(&db.url).await;
        let name = db.url.rsplit('/').next().unwrap();
        trm::store::execute_sql(
            store.conn(),
            &format!("ALTER DATABASE {name} RESET synchronous_commit"),
        )
        .await
        .unwrap();
        store.close().await.ok();
    }
    let (child, _) = serve(&db, &[], None);
    stop(child);
}

/// A fresh SQLite file with the demo network, whatever database the suite runs on (the storage
/// drills are about SQLite's files): (directory, URL, tokens).
async fn sqlite_seeded() -> (
    tempfile::TempDir,
    String,
    std::collections::BTreeMap<String, String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("trm.db").display());
    let tokens = crate::process::seed(&url, &crate::harness::workflows_dir()).await;
    (dir, url, tokens)
}

fn prlimit_fsize(pid: u32, limit: &str) {
    let status = std::process::Command::new("prlimit")
        .args([&format!("--fsize={limit}"), "--pid", &pid.to_string()])
        .status()
        .expect("prlimit (util-linux) runs");
    assert!(status.success(), "prlimit --fsize={limit}");
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_grow_gives_a_clear_error_and_recovers() {
    let (_dir, db_url, tokens) = sqlite_seeded().await;
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (child, out) = crate::process::serve_url(&db_url, &[], None);
    let url = out.lines().next().unwrap().to_string();
    let case_id = open_cases(&http, &url, &token, 1).await.remove(0);
    // From here on, no file of the process may grow past one page: as on a full disk, every
    // write of a new WAL frame fails (with EFBIG; the process survives SIGXFSZ).
    prlimit_fsize(child.id(), "4096:unlimited");
    for n in 0..3 {
        let p = Pending {
            key: format!("full-{n}"),
            expected: 1,
            measure: MEASURES[0],
        };
        let (status, body) = post(&http, &url, &token, FIRE, fire_input(&case_id, &p))
            .await
            .expect("the service answers while its storage is full");
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("storage"), "{message}");
    }
    // Reads still work, and nothing was written.
    assert_eq!(version(&http, &url, &token, &case_id).await, 1);
    prlimit_fsize(child.id(), "unlimited:unlimited");
    let p = Pending {
        key: "full-after".into(),
        expected: 1,
        measure: MEASURES[1],
    };
    let d = data(&http, &url, &token, FIRE, fire_input(&case_id, &p)).await;
    assert_eq!(d["fireTransition"]["case"]["version"], 2, "{d}");
    stop(child);
    check_database(&db_url).await;
    audit_verifies(&db_url).await;
}

/// Makes a file read-only even for root: the immutable attribute (root), or its mode.
fn make_read_only(path: &std::path::Path, read_only: bool) {
    if !path.exists() {
        return;
    }
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if root {
        let status = std::process::Command::new("chattr")
            .arg(if read_only { "+i" } else { "-i" })
            .arg(path)
            .status()
            .expect("chattr runs");
        assert!(status.success(), "chattr on {}", path.display());
    } else {
        let mut perms = std::fs::metadata(path).unwrap().permissions();
        perms.set_readonly(read_only);
        std::fs::set_permissions(path, perms).unwrap();
    }
}

#[tokio::test]
async fn a_read_only_sqlite_file_is_refused_with_a_clear_error() {
    let (dir, db_url, _) = sqlite_seeded().await;
    let files: Vec<_> = ["trm.db", "trm.db-wal", "trm.db-shm"]
        .iter()
        .map(|f| dir.path().join(f))
        .collect();
    for f in &files {
        make_read_only(f, true);
    }
    let refused = crate::process::try_serve_url(&db_url, &[], None);
    for f in &files {
        make_read_only(f, false);
    }
    let Err(printed) = refused else {
        panic!("the service started on a read-only database file")
    };
    assert!(!printed.contains("panicked"), "{printed}");
    assert!(
        printed.to_lowercase().contains("read-only") || printed.to_lowercase().contains("readonly"),
        "{printed}"
    );
    // Writable again, it starts and the data is whole.
    let (child, _) = crate::process::serve_url(&db_url, &[], None);
    stop(child);
    check_database(&db_url).await;
}

#[tokio::test]
async fn an_online_backup_restores_and_its_audit_log_verifies() {
    let (db, tokens) = seeded_database().await;
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (child, out) = serve(&db, &[], None);
    let url = out.lines().next().unwrap().to_string();
    let cases = open_cases(&http, &url, &token, 4).await;
    let mut workers: Vec<Worker> = cases.into_iter().map(Worker::new).collect();
    // Some work, then the backup while clients keep writing.
    let until = Instant::now() + Duration::from_millis(300);
    for w in std::mem::take(&mut workers) {
        workers.push(work(http.clone(), url.clone(), token.clone(), w, until).await);
    }
    let acked_before: Vec<i64> = workers.iter().map(|w| w.version).collect();
    let until = Instant::now() + Duration::from_millis(1500);
    let tasks: Vec<_> = std::mem::take(&mut workers)
        .into_iter()
        .map(|w| tokio::spawn(work(http.clone(), url.clone(), token.clone(), w, until)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let restored_url = if db.url.starts_with("sqlite") {
        let file = dir.path().join("backup.db");
        let (ok, text) = trm(&[
            "backup",
            "--database-url",
            &db.url,
            "--out",
            file.to_str().unwrap(),
        ])
        .await;
        assert!(ok, "{text}");
        // Restoring is putting the file in place of the database (service stopped).
        let restored = dir.path().join("restored.db");
        std::fs::copy(&file, &restored).unwrap();
        format!("sqlite://{}", restored.display())
    } else {
        let dump = dir.path().join("trm.dump");
        let status = std::process::Command::new("pg_dump")
            .args(["-Fc", "-f", dump.to_str().unwrap(), &db.url])
            .status()
            .expect("pg_dump runs");
        assert!(status.success(), "pg_dump");
        let (base, name) = db.url.rsplit_once('/').unwrap();
        let restored_name = format!("{name}_restored");
        let admin = store_at(&format!("{base}/postgres")).await;
        trm::store::execute_sql(admin.conn(), &format!("CREATE DATABASE {restored_name}"))
            .await
            .unwrap();
        let restored_url = format!("{base}/{restored_name}");
        let status = std::process::Command::new("pg_restore")
            .args(["--no-owner", "-d", &restored_url, dump.to_str().unwrap()])
            .status()
            .expect("pg_restore runs");
        assert!(status.success(), "pg_restore");
        admin.close().await.ok();
        restored_url
    };
    for t in tasks {
        workers.push(t.await.unwrap());
    }
    stop(child);
    audit_verifies(&restored_url).await;
    check_database(&restored_url).await;
    // The restored database serves, and holds at least what was acknowledged before the backup.
    let (restored, out) = crate::process::serve_url(&restored_url, &[], None);
    let url = out.lines().next().unwrap().to_string();
    for (w, before) in workers.iter().zip(acked_before) {
        let v = version(&http, &url, &token, &w.case_id).await;
        assert!(v >= before && v <= w.version + 1, "case {}: {v}", w.case_id);
    }
    stop(restored);
    if !restored_url.starts_with("sqlite") {
        let (base, name) = restored_url.rsplit_once('/').unwrap();
        let admin = store_at(&format!("{base}/postgres")).await;
        trm::store::execute_sql(
            admin.conn(),
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await
        .unwrap();
        admin.close().await.ok();
    }
}

/// A TCP proxy in front of PostgreSQL that can cut the database off (every open connection
/// dropped, new ones refused) and bring it back, as a stopped and restarted server looks to
/// the service.
struct Proxy {
    port: u16,
    up: Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
    open: Arc<std::sync::atomic::AtomicUsize>,
}

impl Proxy {
    async fn start(target: String) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let open = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (up2, open2, cut2) = (up.clone(), open.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let mut cuts = cut2.subscribe();
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                open2.fetch_add(1, Ordering::SeqCst);
                let (target, open) = (target.clone(), open2.clone());
                tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {},
                            _ = cuts.changed() => {},
                        }
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Proxy {
            port,
            up,
            cut,
            open,
        }
    }

    /// Refuses new connections and drops every open one; returns once they are all closed.
    async fn cut(&self) {
        use std::sync::atomic::Ordering;
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
        while self.open.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// How the drill takes PostgreSQL away.
enum Outage {
    Proxy(Proxy),
    /// Shell commands that stop and start the real server.
    Commands {
        stop: String,
        start: String,
    },
}

impl Outage {
    async fn begin(&self) {
        match self {
            Outage::Proxy(proxy) => proxy.cut().await,
            Outage::Commands { stop, .. } => shell(stop),
        }
    }

    fn end(&self) {
        match self {
            Outage::Proxy(proxy) => proxy.restore(),
            Outage::Commands { start, .. } => shell(start),
        }
    }
}

fn shell(command: &str) {
    let status = std::process::Command::new("sh")
        .args(["-c", command])
        .status()
        .expect("sh runs");
    assert!(status.success(), "{command}");
}

async fn readyz(http: &reqwest::Client, url: &str) -> u16 {
    match http
        .get(format!("{url}/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
    {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_going_away_under_load_is_reported_and_the_service_recovers_by_itself() {
    let (db, tokens) = seeded_database().await;
    let Some(rest) = db.url.strip_prefix("postgres://") else {
        // This drill is about a database server going away; SQLite is a file in the process.
        eprintln!("PostgreSQL drill: runs with TRM_TEST_DATABASE_URL=postgres://...");
        return;
    };
    let (auth, host_and_db) = rest.split_once('@').unwrap();
    let (host, name) = host_and_db.split_once('/').unwrap();
    // With TRM_DRILL_PG_STOP and TRM_DRILL_PG_START (shell commands, e.g. `pg_ctlcluster 15
    // main stop -m fast`), the real server is stopped and started: only where nothing else uses
    // it meanwhile (`.ci/run` does this after the suite). Otherwise a proxy cuts it off.
    let outage = match (
        std::env::var("TRM_DRILL_PG_STOP"),
        std::env::var("TRM_DRILL_PG_START"),
    ) {
        (Ok(stop), Ok(start)) => Outage::Commands { stop, start },
        _ => Outage::Proxy(Proxy::start(host.to_string()).await),
    };
    let served_url = match &outage {
        Outage::Proxy(proxy) => format!("postgres://{auth}@127.0.0.1:{}/{name}", proxy.port),
        Outage::Commands { .. } => db.url.clone(),
    };
    let token = tokens["it.shelter"].clone();
    let http = crate::harness::http();
    let (child, out) = crate::process::serve_url(&served_url, &[], None);
    let url = out.lines().next().unwrap().to_string();
    assert_eq!(readyz(&http, &url).await, 200);
    let mut workers: Vec<Worker> = open_cases(&http, &url, &token, 4)
        .await
        .into_iter()
        .map(Worker::new)
        .collect();
    for _ in 0..3 {
        let until = Instant::now() + Duration::from_secs(30);
        let tasks: Vec<_> = workers
            .drain(..)
            .map(|w| tokio::spawn(work(http.clone(), url.clone(), token.clone(), w, until)))
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        outage.begin().await;
        // Every client stops on a clear SERVICE_UNAVAILABLE (`work` asserts the code) well
        // before its 30 s request timeout.
        let cut_at = Instant::now();
        for t in tasks {
            workers.push(t.await.unwrap());
        }
        let waited = cut_at.elapsed();
        assert!(
            waited < Duration::from_secs(15),
            "requests hung for {waited:?} with the database gone"
        );
        assert_eq!(
            readyz(&http, &url).await,
            503,
            "/readyz with the database gone"
        );
        let p = Pending {
            key: "while-down".into(),
            expected: 1,
            measure: MEASURES[0],
        };
        let (status, body) = post(
            &http,
            &url,
            &token,
            FIRE,
            fire_input(&workers[0].case_id, &p),
        )
        .await
        .unwrap();
        // 503 when the request is refused while authenticating, 200 with a GraphQL error after.
        assert!(status == 503 || status == 200, "{status}");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
            "{body}"
        );
        outage.end();
        let back = Instant::now() + Duration::from_secs(30);
        while readyz(&http, &url).await != 200 {
            assert!(
                Instant::now() < back,
                "the service did not recover by itself"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for w in &mut workers {
            settle(&http, &url, &token, w).await;
        }
    }
    check_histories(&http, &url, &token, &workers).await;
    stop(child);
    check_database(&db.url).await;
    audit_verifies(&db.url).await;
}
