//! The tamper-evident core: hash chains, the RFC 6962 log, signed checkpoints, `trm audit
//! verify` (in-process, through GraphQL and as the binary) on a database edited behind the
//! service's back.

use crate::harness::{TestServer, to_crisis_intervention};
use serde_json::{Value, json};
use trm::audit::merkle::{self, Hash};

/// Opens three cases and moves two of them on; returns the first case's reference.
async fn play(s: &TestServer) -> String {
    let (a, reference) = s.open_case("it.shelter").await;
    to_crisis_intervention(s, "it.shelter", &a).await;
    let (b, _) = s.open_case("it.shelter").await;
    to_crisis_intervention(s, "it.shelter", &b).await;
    s.open_case("it.shelter").await;
    reference
}

/// The in-process verifier's first problem (`None` when OK).
async fn verify(s: &TestServer) -> Option<String> {
    let report = trm::service::audit_verify::verify(&s.app.store, &s.app.workflows, &[])
        .await
        .expect("verify runs");
    assert_eq!(report.ok, report.first_problem.is_none());
    report.first_problem
}

/// Runs `trm audit verify` on the test database: (success, stdout + stderr).
pub(crate) async fn verify_binary(s: &TestServer) -> (bool, String) {
    trm(&["audit", "verify", "--database-url", &s.db_url()]).await
}

/// Runs the `trm` binary with `args`, with nothing from the environment steering it:
/// (success, stdout + stderr). Awaited, not blocked on: the test's server runs on the same
/// runtime, and a task of it holding a lock the binary waits for (the log's sequencer on
/// PostgreSQL) must be able to finish.
pub(crate) async fn trm(args: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::from(crate::harness::trm_command())
        .args(args)
        .output()
        .await
        .expect("trm runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Edits the database with `sql`, then expects both verifiers to fail naming `expected`.
async fn expect_detected(s: &TestServer, sqls: &[String], expected: &str) {
    assert_eq!(verify(s).await, None, "clean before tampering");
    for sql in sqls {
        trm::store::execute_sql(s.app.store.conn(), sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let problem = verify(s).await.expect("tampering detected");
    assert!(
        problem.contains(expected),
        "{problem} should name {expected}"
    );
    let (ok, text) = verify_binary(s).await;
    assert!(!ok, "binary should fail: {text}");
    assert!(text.contains(expected), "{text} should name {expected}");
    let gql = s
        .data(
            "auditor",
            "{ auditVerification { ok firstProblem } }",
            json!({}),
        )
        .await;
    assert_eq!(gql["auditVerification"]["ok"], json!(false));
    assert!(
        gql["auditVerification"]["firstProblem"]
            .as_str()
            .unwrap_or_default()
            .contains(expected)
    );
}

fn of_case(reference: &str) -> String {
    format!("case_id = (SELECT id FROM cases WHERE reference = '{reference}')")
}

fn hash(v: &Value) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(&hex::decode(v.as_str().expect("hex string")).expect("hex"));
    out
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().expect("array").iter().map(hash).collect()
}

const CHECKPOINT: &str = "mutation { createCheckpoint { treeSize rootHash createdAt keyId publicKey signature signedText } }";

#[tokio::test]
async fn an_untouched_log_verifies_and_proofs_check_out_offline() {
    let s = TestServer::start().await;
    play(&s).await;
    assert_eq!(verify(&s).await, None);
    let (ok, text) = verify_binary(&s).await;
    assert!(ok && text.contains("OK"), "{text}");

    // Only auditors read the audit log.
    let body = s
        .gql("it.shelter", "{ auditVerification { ok } }", json!({}))
        .await;
    assert!(body.get("errors").is_some(), "{body}");

    let first = s.data("auditor", CHECKPOINT, json!({})).await["createCheckpoint"].clone();
    let first_size = first["treeSize"].as_i64().expect("size");
    assert!(first_size > 0);
    assert!(
        first["signedText"]
            .as_str()
            .unwrap_or_default()
            .starts_with(&format!("trm-checkpoint/v1\n{first_size}\n"))
    );

    // The log grows; a later checkpoint extends the earlier one.
    let (case, _) = s.open_case("it.shelter").await;
    to_crisis_intervention(&s, "it.shelter", &case).await;
    let second = s.data("auditor", CHECKPOINT, json!({})).await["createCheckpoint"].clone();
    let second_size = second["treeSize"].as_i64().expect("size");
    assert!(second_size > first_size);
    let v = s
        .data(
            "auditor",
            "query($f: Int!, $t: Int!) { consistencyProof(from: $f, to: $t) { fromRoot toRoot proof } }",
            json!({"f": first_size, "t": second_size}),
        )
        .await;
    let proof = hashes(&v["consistencyProof"]["proof"]);
    assert!(merkle::verify_consistency(
        first_size as u64,
        second_size as u64,
        &hash(&first["rootHash"]),
        &hash(&second["rootHash"]),
        &proof
    ));

    // An event's inclusion proof verifies with the pure module against the signed root.
    let history = s
        .data(
            "auditor",
            "query($id: ID!) { node(id: $id) { ... on Case { history { edges { node { id } } } } } }",
            json!({"id": case}),
        )
        .await;
    let event_id = history["node"]["history"]["edges"][1]["node"]["id"].clone();
    assert!(event_id.is_string(), "{history}");
    let p = s
        .data(
            "auditor",
            "query($e: ID!, $n: Int) { inclusionProof(eventId: $e, treeSize: $n) { position treeSize eventHash leafHash path root } }",
            json!({"e": event_id, "n": second_size}),
        )
        .await["inclusionProof"]
        .clone();
    let event_hash = hex::decode(p["eventHash"].as_str().expect("hex")).expect("hex");
    let leaf = merkle::leaf_hash(&event_hash);
    assert_eq!(
        hex::encode(leaf),
        p["leafHash"].as_str().unwrap_or_default()
    );
    assert_eq!(p["root"], second["rootHash"]);
    assert!(merkle::verify_inclusion(
        &leaf,
        p["position"].as_u64().expect("position"),
        second_size as u64,
        &hashes(&p["path"]),
        &hash(&second["rootHash"])
    ));
    let latest = s
        .data("auditor", "{ auditCheckpoint { treeSize } }", json!({}))
        .await;
    assert_eq!(latest["auditCheckpoint"]["treeSize"], json!(second_size));
    assert_eq!(verify(&s).await, None, "checkpoints verify");

    // Rewrite the log under the first checkpoint: its proof against the later log fails.
    trm::store::execute_sql(
        s.app.store.conn(),
        &format!(
            "UPDATE audit_log SET leaf_hash = '{}' WHERE position = 0",
            "ab".repeat(32)
        ),
    )
    .await
    .expect("rewrite");
    let v = s
        .data(
            "auditor",
            "query($f: Int!, $t: Int!) { consistencyProof(from: $f, to: $t) { toRoot proof } }",
            json!({"f": first_size, "t": second_size}),
        )
        .await;
    assert!(!merkle::verify_consistency(
        first_size as u64,
        second_size as u64,
        &hash(&first["rootHash"]),
        &hash(&v["consistencyProof"]["toRoot"]),
        &hashes(&v["consistencyProof"]["proof"])
    ));
    let problem = verify(&s).await.expect("rewrite detected");
    assert!(problem.contains("audit log position 0"), "{problem}");
    s.stop_tampered().await;
}

#[tokio::test]
async fn an_edited_event_is_named() {
    event_edit_is_named("to_state = 'closed'", 3, "edited").await;
}

/// An event whose stored changes are no longer the changes of an event (valid JSON, so that
/// PostgreSQL's `jsonb` takes it) is named, as unreadable.
#[tokio::test]
async fn an_event_whose_changes_are_not_changes_is_named_unreadable() {
    event_edit_is_named("changes = '[1]'", 2, "unreadable").await;
}

/// Sets `set` on event `seq` of a played case behind the service's back: the verification names
/// the case and the event, and says `says`.
async fn event_edit_is_named(set: &str, seq: i64, says: &str) {
    let s = TestServer::start().await;
    let r = play(&s).await;
    let sql = format!(
        "UPDATE case_events SET {set} WHERE seq = {seq} AND {}",
        of_case(&r)
    );
    expect_detected(&s, &[sql], &format!("case {r} (")).await;
    let problem = verify(&s).await.unwrap_or_default();
    assert!(
        problem.contains(&format!("seq {seq}")) && problem.contains(says),
        "{problem}"
    );
    s.stop_tampered().await;
}

#[tokio::test]
async fn a_case_edited_behind_its_events_is_named() {
    let s = TestServer::start().await;
    let r = play(&s).await;
    // A track moved on without an event.
    let sql = format!(
        "UPDATE case_tracks SET state = 'closed' WHERE track = 'identification' AND {}",
        of_case(&r)
    );
    expect_detected(&s, &[sql], &format!("case {r} (")).await;
    let problem = verify(&s).await.unwrap_or_default();
    assert!(problem.contains("track states"), "{problem}");
    s.stop_tampered().await;

    // The lead handed to another agency without a transfer.
    let s = TestServer::start().await;
    let r = play(&s).await;
    let sql = format!(
        "UPDATE cases SET lead_agency_id = (SELECT agency_id FROM users WHERE username = 'ng.shelter') WHERE reference = '{r}'"
    );
    expect_detected(&s, &[sql], &format!("case {r} (")).await;
    let problem = verify(&s).await.unwrap_or_default();
    assert!(problem.contains("lead agency"), "{problem}");
    s.stop_tampered().await;
}

/// The verifier reads the cases in parts at once (one a core on SQLite); with every case edited,
/// the problem it names is still the first case's by id, whichever part finds its own first.
#[tokio::test]
async fn with_every_case_edited_the_first_by_id_is_named() {
    let s = TestServer::start().await;
    for _ in 0..8 {
        s.open_case("it.shelter").await;
    }
    let first = {
        use sea_orm::ConnectionTrait;
        let conn = s.app.store.conn();
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(
                conn.get_database_backend(),
                "SELECT reference FROM cases ORDER BY id LIMIT 1".to_string(),
            ))
            .await
            .expect("query runs")
            .expect("one row");
        row.try_get_by_index::<String>(0).expect("a reference")
    };
    let sql = "UPDATE cases SET version = version + 10".to_string();
    expect_detected(&s, &[sql], &format!("case {first} (")).await;
    s.stop_tampered().await;
}

#[tokio::test]
async fn a_deleted_event_is_named() {
    let s = TestServer::start().await;
    let r = play(&s).await;
    let sql = format!("DELETE FROM case_events WHERE seq = 2 AND {}", of_case(&r));
    expect_detected(&s, &[sql], &format!("case {r} (")).await;
    let problem = verify(&s).await.unwrap_or_default();
    assert!(
        problem.contains("seq 3") && problem.contains("expected seq 2"),
        "{problem}"
    );
    s.stop_tampered().await;
}

#[tokio::test]
async fn reordered_events_are_named() {
    let s = TestServer::start().await;
    let r = play(&s).await;
    let c = of_case(&r);
    let sqls = [
        format!("UPDATE case_events SET seq = 100 WHERE seq = 2 AND {c}"),
        format!("UPDATE case_events SET seq = 2 WHERE seq = 3 AND {c}"),
        format!("UPDATE case_events SET seq = 3 WHERE seq = 100 AND {c}"),
    ];
    expect_detected(&s, &sqls, &format!("case {r} (")).await;
    let problem = verify(&s).await.unwrap_or_default();
    assert!(problem.contains("seq 2"), "{problem}");
    s.stop_tampered().await;
}

#[tokio::test]
async fn an_edited_log_row_is_named() {
    let s = TestServer::start().await;
    play(&s).await;
    let sql = "UPDATE audit_log SET leaf_hash = (SELECT leaf_hash FROM audit_log WHERE position = 1) WHERE position = 3".to_string();
    expect_detected(&s, &[sql], "audit log position 3").await;
    s.stop_tampered().await;
}

#[tokio::test]
async fn a_deleted_log_row_is_named() {
    let s = TestServer::start().await;
    play(&s).await;
    let sql = "DELETE FROM audit_log WHERE position = 4".to_string();
    expect_detected(&s, &[sql], "audit log position 4").await;
    s.stop_tampered().await;
}

#[tokio::test]
async fn a_forged_checkpoint_is_named() {
    let s = TestServer::start().await;
    play(&s).await;
    let c = s.data("auditor", CHECKPOINT, json!({})).await["createCheckpoint"].clone();
    let size = c["treeSize"].as_i64().expect("size");
    let sql = format!(
        "UPDATE checkpoints SET root_hash = '{}' WHERE tree_size = {size}",
        "cd".repeat(32)
    );
    expect_detected(&s, &[sql], &format!("checkpoint of size {size}")).await;
    s.stop_tampered().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn verification_of_a_live_database_sees_one_consistent_snapshot() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let mut cases = Vec::new();
    for _ in 0..4 {
        // Version 4: the repeated step is the lead's there (the prosecutor's from version 5).
        cases.push(s.open_workflow("it.shelter", "trm-adult", Some(4)).await.0);
    }
    let until = std::time::Instant::now() + std::time::Duration::from_millis(2500);
    let mut writers = Vec::new();
    for id in cases {
        let s = s.clone();
        writers.push(tokio::spawn(async move {
            let mut version = 1;
            while std::time::Instant::now() < until {
                let body = s
                    .fire_input(
                        "it.shelter",
                        serde_json::json!({"caseId": id, "transition": "order_protection_measure",
                               "expectedVersion": version, "data": {"protection_measure": "relocation"}}),
                    )
                    .await;
                assert!(body.get("errors").is_none(), "{body}");
                version += 1;
            }
            version
        }));
    }
    // Verification runs again and again while the cases move: each run must see cases and
    // their events as of one moment, or it would report a case ahead of (or behind) its events.
    let mut runs = 0;
    while std::time::Instant::now() < until {
        assert_eq!(
            verify(&s).await,
            None,
            "a live verification found a problem"
        );
        runs += 1;
    }
    let mut fired = 0;
    for w in writers {
        fired += w.await.unwrap() - 1;
    }
    assert!(runs > 1 && fired > 8, "runs {runs}, transitions {fired}");
    std::sync::Arc::try_unwrap(s).ok().unwrap().stop().await;
}

/// A number the database answers to `sql`.
async fn count(s: &TestServer, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let conn = s.app.store.conn();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            sql.to_string(),
        ))
        .await
        .expect("query runs")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("a number")
}

/// Several agencies' clients change cases at the same moment. Every event gets exactly one leaf,
/// the events of a case sit in the log in their order, and the log verifies. (On PostgreSQL a
/// change no longer takes its log position in its own transaction: its leaf waits and is
/// placed right after the commit, many at a time; this is the proof that nothing is lost or
/// reordered on the way.)
#[tokio::test]
async fn changes_at_the_same_moment_each_get_one_leaf_in_their_case_order() {
    let s = std::sync::Arc::new(TestServer::start().await);
    let mut clients = Vec::new();
    for _ in 0..6 {
        let s = s.clone();
        clients.push(tokio::spawn(async move {
            let (id, _) = s.open_case("it.shelter").await;
            to_crisis_intervention(&s, "it.shelter", &id).await;
        }));
    }
    for client in clients {
        client.await.expect("client ran");
    }
    let log = s
        .data(
            "auditor",
            "{ auditVerification { ok firstProblem treeSize checkedEvents } }",
            json!({}),
        )
        .await;
    let v = &log["auditVerification"];
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["treeSize"], v["checkedEvents"], "one leaf per event: {v}");
    assert!(v["treeSize"].as_i64().unwrap() >= 6 * 3, "{v}");
    let out_of_order = count(
        &s,
        "SELECT count(*) FROM case_events a \
         JOIN case_events b ON b.case_id = a.case_id AND b.seq > a.seq \
         JOIN audit_log la ON la.event_id = a.id JOIN audit_log lb ON lb.event_id = b.id \
         WHERE la.position > lb.position",
    )
    .await;
    assert_eq!(
        out_of_order, 0,
        "a case's later event placed before an earlier one"
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM audit_log_pending").await,
        0,
        "the verification placed every waiting leaf"
    );
    std::sync::Arc::try_unwrap(s)
        .ok()
        .expect("one owner")
        .stop()
        .await;
}

/// A leaf written by hand among those waiting for a position, for an event already in the log:
/// named, and the log is not extended with it.
#[tokio::test]
async fn a_second_leaf_of_an_event_waiting_for_a_position_is_named() {
    let s = TestServer::start().await;
    play(&s).await;
    let sql = "INSERT INTO audit_log_pending (event_id, leaf_hash, appended_at) \
               SELECT event_id, leaf_hash, appended_at FROM audit_log WHERE position = 2"
        .to_string();
    expect_detected(&s, &[sql], "appears twice (also at audit log position 2)").await;
    s.stop_tampered().await;
}
