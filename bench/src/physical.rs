//! The physical baselines: a transition's transaction shape straight on the database, through a
//! thin client and nothing of TRM's store, ORM or driver in between. This is the machine's limit
//! for the bytes a transition commits, which the through-the-store baseline (same driver and
//! store code as the service) is not.
//!
//! - SQLite through its C API (`rusqlite`, the same bundled SQLite that sqlx links), each
//!   client on its own OS thread: WAL, `synchronous = FULL`, `BEGIN IMMEDIATE`, cached prepared
//!   statements. One writer at a time, so N clients take turns, two ways (see [`Contention`]):
//!   each on its own connection polling the lock with a busy timeout, or queued for one
//!   connection.
//! - PostgreSQL through `tokio-postgres`: one connection per client, every statement prepared
//!   once (`BEGIN`, `SELECT … FOR UPDATE`, `UPDATE`, two `INSERT`s, `COMMIT`); log positions
//!   from a sequence. Optionally the same shape run by `pgbench -M prepared`.
//!
//! Each runs on its own fresh database with TRM's own schema (its migrations, so the same
//! tables, indexes and foreign keys as the service writes), one case per client opened through
//! the store as `openCase` would. What a transaction writes are the values TRM writes for the
//! benchmarked step (`order_protection_measure`): the same `changes` JSON, hashes, ids and
//! timestamps in the same encodings; only the work of computing them (engine, policies,
//! canonical JSON) is left out, which is the point.

use crate::load::{Stats, drive, drive_threads};
use crate::seed;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use trm::workflow::engine::{Changes, TrackChange};
use uuid::Uuid;

/// The `changes` JSON TRM records for the benchmarked step, one per protection measure.
fn changes_json() -> Vec<String> {
    (0..seed::MEASURES.len() as u64)
        .map(|i| {
            let changes = Changes {
                tracks: vec![TrackChange {
                    track: "person".into(),
                    from: Some("present".into()),
                    to: "present".into(),
                }],
                facts: seed::protection_facts(i),
                ..Changes::default()
            };
            serde_json::to_string(&changes).unwrap_or_default()
        })
        .collect()
}

/// The next event's chain hash: SHA-256 over the previous hash and the event's content (TRM
/// hashes canonical JSON of the event; the bytes here stand in for it, the cost is not the
/// point).
fn chain_hash(prev: &str, event_id: Uuid, seq: i64, changes: &str, at: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(event_id.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(changes.as_bytes());
    h.update(at.as_bytes());
    let digest = h.finalize();
    let mut s = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The facts JSON of the case after the step: the stored facts with `protection_measure` set.
fn next_facts(stored: &str, i: u64) -> Result<String, String> {
    let mut facts: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(stored).map_err(|e| format!("facts: {e}"))?;
    facts.extend(seed::protection_facts(i));
    serde_json::to_string(&facts).map_err(|e| e.to_string())
}

/// Bytes of the values one transaction's event row carries (as bound; SQLite encodings), for
/// the report.
pub fn event_row_bytes() -> usize {
    let changes = changes_json();
    let avg_changes = changes.iter().map(String::len).sum::<usize>() / changes.len().max(1);
    // ids: event, case, actor, agency (16 each); seq and workflow version (8 + 4); kind,
    // transition, track, from and to state; workflow id; occurred_at (RFC 3339, µs); two hashes.
    16 * 4
        + 8
        + 4
        + "transition".len()
        + "order_protection_measure".len()
        + "person".len()
        + 2 * "present".len()
        + seed::WORKFLOW.len()
        + "2026-12-05T10:00:00.123456+00:00".len()
        + 2 * 64
        + avg_changes
}

/// Now, as TRM stores it on SQLite (sqlx: RFC 3339, `+00:00`, sub-seconds as needed).
fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

const SQLITE_CASE: &str = "SELECT id, reference, workflow_id, workflow_version, country, lead_agency_id, status, facts, version, opened_by, opened_at, updated_at, follows_case_id, origin_country, opened_by_agency_id, last_hash FROM cases WHERE id = ?1";
const SQLITE_LOG_TAIL: &str =
    "SELECT position, leaf_hash FROM audit_log ORDER BY position DESC LIMIT 1";
const SQLITE_UPDATE: &str = "UPDATE cases SET version = ?1, last_hash = ?2, facts = ?3, status = ?4, updated_at = ?5 WHERE id = ?6 AND version = ?7";
const SQLITE_EVENT: &str = "INSERT INTO case_events (id, case_id, seq, kind, transition, track, from_state, to_state, reason, reason_shared_as, reason_to, changes, workflow_id, workflow_version, actor_user_id, actor_agency_id, occurred_at, prev_hash, hash, details) VALUES (?1, ?2, ?3, 'transition', 'order_protection_measure', 'person', 'present', 'present', NULL, NULL, NULL, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL)";
const SQLITE_LEAF: &str =
    "INSERT INTO audit_log (position, event_id, leaf_hash, appended_at) VALUES (?1, ?2, ?3, ?4)";

/// Opens the baseline's file as the service opens its database.
fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    // As the service opens it (WAL, FULL, foreign keys on); a long busy timeout because N
    // clients queue on the one write lock (SQLite's busy handler sleeps and retries).
    conn.busy_timeout(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(|e| e.to_string())?;
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if sync != 2 {
        return Err(format!("SQLite synchronous = {sync}, expected FULL (2)"));
    }
    Ok(conn)
}

/// One transaction: lock (`BEGIN IMMEDIATE`) and read the case row, read the log's last leaf,
/// update the case, insert the event and its log leaf, commit.
fn sqlite_transition(
    conn: &rusqlite::Connection,
    case: Uuid,
    changes: &[String],
    i: u64,
) -> Result<(), String> {
    let err = |e: rusqlite::Error| e.to_string();
    conn.prepare_cached("BEGIN IMMEDIATE")
        .map_err(err)?
        .execute([])
        .map_err(err)?;
    let result = (|| {
        #[allow(clippy::type_complexity)]
        let (workflow_id, workflow_version, agency, status, facts, version, user, last_hash): (
            String,
            i64,
            Vec<u8>,
            String,
            String,
            i64,
            Vec<u8>,
            String,
        ) = conn
            .prepare_cached(SQLITE_CASE)
            .map_err(err)?
            .query_row([case.as_bytes().as_slice()], |r| {
                Ok((
                    r.get(2)?,
                    r.get(3)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(15)?,
                ))
            })
            .map_err(err)?;
        let position: i64 = {
            let mut tail = conn.prepare_cached(SQLITE_LOG_TAIL).map_err(err)?;
            let mut rows = tail.query([]).map_err(err)?;
            match rows.next().map_err(err)? {
                Some(row) => {
                    let (p, _leaf): (i64, String) =
                        (row.get(0).map_err(err)?, row.get(1).map_err(err)?);
                    p + 1
                }
                None => 0,
            }
        };
        let changes = &changes[usize::try_from(i).unwrap_or(0) % changes.len()];
        let facts = next_facts(&facts, i)?;
        let (id, seq, now) = (Uuid::now_v7(), version + 1, now_text());
        let hash = chain_hash(&last_hash, id, seq, changes, &now);
        let updated = conn
            .prepare_cached(SQLITE_UPDATE)
            .map_err(err)?
            .execute(rusqlite::params![
                seq,
                hash,
                facts,
                status,
                now,
                case.as_bytes().as_slice(),
                version
            ])
            .map_err(err)?;
        if updated != 1 {
            return Err(format!("case {case}: version conflict"));
        }
        conn.prepare_cached(SQLITE_EVENT)
            .map_err(err)?
            .execute(rusqlite::params![
                id.as_bytes().as_slice(),
                case.as_bytes().as_slice(),
                seq,
                changes,
                workflow_id,
                workflow_version,
                user,
                agency,
                now,
                last_hash,
                hash
            ])
            .map_err(err)?;
        conn.prepare_cached(SQLITE_LEAF)
            .map_err(err)?
            .execute(rusqlite::params![
                position,
                id.as_bytes().as_slice(),
                hash,
                now
            ])
            .map_err(err)?;
        Ok(())
    })();
    match result {
        Ok(()) => conn
            .prepare_cached("COMMIT")
            .map_err(err)?
            .execute([])
            .map(|_| ())
            .map_err(err),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// How the SQLite baseline's clients take turns at the one write lock.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Contention {
    /// Each client on its own connection, polling the lock: `BEGIN IMMEDIATE` waits on
    /// SQLite's busy handler, which sleeps (1, 2, 5, … up to 100 ms) and retries. What issue 18
    /// measured.
    BusyTimeout,
    /// One connection, which the clients' threads take in turn (a FIFO lock): how TRM's
    /// writers queue for its one writer connection, without the driver. Nobody sleeps in the
    /// busy handler, and the connection's page cache stays valid from one transaction to the
    /// next (a connection that another one wrote behind must read its pages again).
    Queued,
}

/// The SQLite baseline at `cases.len()` clients on the file `path` (TRM's schema, `cases`
/// open), each client on its own OS thread.
pub async fn sqlite(
    path: &Path,
    cases: &[Uuid],
    contention: Contention,
    duration: Duration,
) -> Result<Stats, String> {
    let changes = changes_json();
    match contention {
        Contention::BusyTimeout => {
            let mut clients = Vec::with_capacity(cases.len());
            for &case in cases {
                clients.push((open_sqlite(path)?, case));
            }
            tokio::task::block_in_place(|| {
                drive_threads(clients, duration, |(conn, case), i| {
                    sqlite_transition(conn, *case, &changes, i)
                })
            })
        }
        Contention::Queued => {
            // tokio's mutex queues its waiters in order; `blocking_lock` waits on an OS thread.
            let conn = tokio::sync::Mutex::new(open_sqlite(path)?);
            tokio::task::block_in_place(|| {
                drive_threads(cases.to_vec(), duration, |case, i| {
                    let conn = conn.blocking_lock();
                    sqlite_transition(&conn, *case, &changes, i)
                })
            })
        }
    }
}

/// One client of the PostgreSQL baseline: its connection, its prepared statements, its case.
struct PgClient {
    client: tokio_postgres::Client,
    begin: tokio_postgres::Statement,
    case: tokio_postgres::Statement,
    update: tokio_postgres::Statement,
    event: tokio_postgres::Statement,
    leaf: tokio_postgres::Statement,
    commit: tokio_postgres::Statement,
    /// With [`PgLog::Locked`]: the advisory lock, the log's size, the leaf at a position.
    locked: Option<[tokio_postgres::Statement; 3]>,
    case_id: Uuid,
}

/// How the PostgreSQL baseline places the audit-log leaf.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PgLog {
    /// At the next value of a sequence: nothing serialises the clients but the rows they share.
    Free,
    /// As TRM's store appends it: after the event, take the log's advisory lock
    /// (`pg_advisory_xact_lock`, held to the commit), read the log's size, insert the leaf at
    /// that position. Appenders are serialised from there to their commit, fsync included.
    Locked,
}

/// TRM's advisory-lock key for the audit log (`trm::store::LOCK_AUDIT_LOG`).
const PG_LOG_LOCK: i64 = trm::store::LOCK_AUDIT_LOG;
const PG_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
const PG_LOG_SIZE: &str = "SELECT COALESCE(MAX(position), -1) + 1 FROM audit_log";
const PG_LEAF_AT: &str =
    "INSERT INTO audit_log (position, event_id, leaf_hash, appended_at) VALUES ($1, $2, $3, $4)";

/// Where the PostgreSQL baselines take log positions from: a sequence, so that clients do not
/// serialise on the log (TRM does, with an advisory lock held to the commit, to keep log
/// positions in commit order; the baseline measures the disk and the server, not that choice).
const PG_POSITIONS: &str = "trm_bench_log_position";

const PG_CASE: &str = "SELECT id, reference, workflow_id, workflow_version, country, lead_agency_id, status, facts, version, opened_by, opened_at, updated_at, follows_case_id, origin_country, opened_by_agency_id, last_hash FROM cases WHERE id = $1 FOR UPDATE";
const PG_UPDATE: &str = "UPDATE cases SET version = $1, last_hash = $2, facts = $3, status = $4, updated_at = $5 WHERE id = $6 AND version = $7";
const PG_EVENT: &str = "INSERT INTO case_events (id, case_id, seq, kind, transition, track, from_state, to_state, reason, reason_shared_as, reason_to, changes, workflow_id, workflow_version, actor_user_id, actor_agency_id, occurred_at, prev_hash, hash, details) VALUES ($1, $2, $3, 'transition', 'order_protection_measure', 'person', 'present', 'present', NULL, NULL, NULL, $4, $5, $6, $7, $8, $9, $10, $11, NULL)";
const PG_LEAF: &str = "INSERT INTO audit_log (position, event_id, leaf_hash, appended_at) VALUES (nextval('trm_bench_log_position'), $1, $2, $3)";

/// Connects to `url` (tokio-postgres, no TLS: the bench talks to a local server).
/// A PostgreSQL error with what the server said (the client's own text is only "db error").
fn pg_error(e: tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
    }
}

async fn pg_connect(url: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("{url}: {}", pg_error(e)))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("trm-bench: baseline connection: {e}");
        }
    });
    Ok(client)
}

/// Makes the sequence log positions come from, starting after the log's last leaf (again
/// before each run: [`PgLog::Locked`] runs append after the sequence's last value).
pub async fn pg_prepare(url: &str) -> Result<(), String> {
    let client = pg_connect(url).await?;
    client
        .batch_execute(&format!(
            "CREATE SEQUENCE IF NOT EXISTS {PG_POSITIONS}; \
             SELECT setval('{PG_POSITIONS}', (SELECT COALESCE(MAX(position), -1) + 1 FROM audit_log), false);"
        ))
        .await
        .map_err(pg_error)
}

/// Waits (up to 20 s) until the server has `needed` connections free: the server's pool, the
/// backends of the last workload still exiting and other users of the server share
/// `max_connections`. Fails with what to do when they do not come free.
pub async fn pg_wait_for_connections(url: &str, needed: usize) -> Result<(), String> {
    let client = pg_connect(url).await?;
    let started = std::time::Instant::now();
    loop {
        let row = client
            .query_one(
                "SELECT current_setting('max_connections')::int - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int",
                &[],
            )
            .await
            .map_err(pg_error)?;
        let free: i32 = row.try_get(0).map_err(pg_error)?;
        if usize::try_from(free).unwrap_or(0) > needed {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "PostgreSQL has {free} connections free, the physical baseline at {needed} clients needs one each (the server's pool holds up to 32): raise max_connections or leave {needed} out of --clients"
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn pg_client(url: &str, case_id: Uuid, log: PgLog) -> Result<PgClient, String> {
    let client = pg_connect(url).await?;
    let prepare = |sql: &'static str| {
        let client = &client;
        async move { client.prepare(sql).await.map_err(|e| format!("{sql}: {e}")) }
    };
    Ok(PgClient {
        begin: prepare("BEGIN").await?,
        case: prepare(PG_CASE).await?,
        update: prepare(PG_UPDATE).await?,
        event: prepare(PG_EVENT).await?,
        leaf: prepare(PG_LEAF).await?,
        commit: prepare("COMMIT").await?,
        locked: match log {
            PgLog::Free => None,
            PgLog::Locked => Some([
                prepare(PG_LOCK).await?,
                prepare(PG_LOG_SIZE).await?,
                prepare(PG_LEAF_AT).await?,
            ]),
        },
        client,
        case_id,
    })
}

async fn pg_transition(
    c: &PgClient,
    changes: &[(String, serde_json::Value)],
    i: u64,
) -> Result<(), String> {
    let err = pg_error;
    let db = &c.client;
    db.execute(&c.begin, &[]).await.map_err(err)?;
    let result = async {
        let row = db.query_one(&c.case, &[&c.case_id]).await.map_err(err)?;
        let workflow_id: String = row.try_get(2).map_err(err)?;
        let workflow_version: i32 = row.try_get(3).map_err(err)?;
        let agency: Uuid = row.try_get(5).map_err(err)?;
        let status: String = row.try_get(6).map_err(err)?;
        let facts: serde_json::Value = row.try_get(7).map_err(err)?;
        let version: i64 = row.try_get(8).map_err(err)?;
        let user: Uuid = row.try_get(9).map_err(err)?;
        let last_hash: String = row.try_get(15).map_err(err)?;
        let (changes_text, changes) = &changes[usize::try_from(i).unwrap_or(0) % changes.len()];
        let mut facts = facts;
        if let Some(map) = facts.as_object_mut() {
            map.extend(seed::protection_facts(i));
        }
        let (id, seq, now) = (Uuid::now_v7(), version + 1, chrono::Utc::now());
        let hash = chain_hash(&last_hash, id, seq, changes_text, &now.to_rfc3339());
        let updated = db
            .execute(
                &c.update,
                &[&seq, &hash, &facts, &status, &now, &c.case_id, &version],
            )
            .await
            .map_err(err)?;
        if updated != 1 {
            return Err(format!("case {}: version conflict", c.case_id));
        }
        db.execute(
            &c.event,
            &[
                &id,
                &c.case_id,
                &seq,
                &changes,
                &workflow_id,
                &workflow_version,
                &user,
                &agency,
                &now,
                &last_hash,
                &hash,
            ],
        )
        .await
        .map_err(err)?;
        match &c.locked {
            None => {
                db.execute(&c.leaf, &[&id, &hash, &now])
                    .await
                    .map_err(err)?;
            }
            Some([lock, size, leaf_at]) => {
                db.execute(lock, &[&PG_LOG_LOCK]).await.map_err(err)?;
                let position: i64 = db
                    .query_one(size, &[])
                    .await
                    .map_err(err)?
                    .try_get(0)
                    .map_err(err)?;
                db.execute(leaf_at, &[&position, &id, &hash, &now])
                    .await
                    .map_err(err)?;
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => db.execute(&c.commit, &[]).await.map(|_| ()).map_err(err),
        Err(e) => {
            let _ = db.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// The PostgreSQL baseline at `cases.len()` clients on the database `url` (TRM's schema,
/// [`pg_prepare`]d, `cases` open).
pub async fn postgres(
    url: &str,
    cases: &[Uuid],
    log: PgLog,
    duration: Duration,
) -> Result<Stats, String> {
    pg_prepare(url).await?;
    let mut clients = Vec::with_capacity(cases.len());
    for &case in cases {
        clients.push(tokio::sync::Mutex::new(pg_client(url, case, log).await?));
    }
    let clients = Arc::new(clients);
    let changes: Vec<(String, serde_json::Value)> = changes_json()
        .into_iter()
        .map(|text| {
            let value = serde_json::from_str(&text).unwrap_or_default();
            (text, value)
        })
        .collect();
    let changes = Arc::new(changes);
    drive(cases.len(), duration, move |c, i| {
        let (clients, changes) = (clients.clone(), changes.clone());
        async move {
            let client = clients[c].lock().await;
            pg_transition(&client, &changes, i).await
        }
    })
    .await
}

/// The same transaction as a `pgbench` script (`-M prepared`): each pgbench client works on
/// the case `IT-2026-P{clients}{client_id}` (looked up before the transaction, one indexed read).
/// pgbench computes the hash and the event id in SQL.
const PGBENCH_SCRIPT: &str = r"\set m random(1, 5)
SELECT id AS cid FROM cases WHERE reference = 'IT-2026-P' || lpad(:nclients::text, 3, '0') || lpad(:client_id::text, 4, '0') \gset
BEGIN;
SELECT version + 1 AS seq, version AS ver, last_hash AS prev, workflow_id AS wf, workflow_version AS wfv, lead_agency_id AS agency, opened_by AS actor, gen_random_uuid() AS eid, encode(sha256(convert_to(last_hash || gen_random_uuid()::text, 'UTF8')), 'hex') AS h FROM cases WHERE id = :cid FOR UPDATE \gset
UPDATE cases SET version = :seq, last_hash = :h, facts = jsonb_set(facts::jsonb, '{protection_measure}', to_jsonb((ARRAY['police_protection', 'witness_protection_programme', 'relocation', 'family_protection', 'anonymity_in_proceedings'])[:m]))::json, status = status, updated_at = now() WHERE id = :cid AND version = :ver;
INSERT INTO case_events (id, case_id, seq, kind, transition, track, from_state, to_state, changes, workflow_id, workflow_version, actor_user_id, actor_agency_id, occurred_at, prev_hash, hash) VALUES (:eid, :cid, :seq, 'transition', 'order_protection_measure', 'person', 'present', 'present', :changes, :wf, :wfv, :actor, :agency, now(), :prev, :h);
INSERT INTO audit_log (position, event_id, leaf_hash, appended_at) VALUES (nextval('trm_bench_log_position'), :eid, :h, now());
COMMIT;
";

/// Runs `pgbench -M prepared` with [`PGBENCH_SCRIPT`] at `clients` clients for `duration`
/// (the cases of the tokio-postgres run at that client count), logging every transaction to
/// compute the same percentiles as the other workloads. `None` when pgbench is not on PATH.
pub fn pgbench(
    url: &str,
    dir: &Path,
    clients: usize,
    duration: Duration,
) -> Result<Option<Stats>, String> {
    if std::process::Command::new("pgbench")
        .arg("--version")
        .output()
        .is_err()
    {
        return Ok(None);
    }
    let work = dir.join("pgbench");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    std::fs::write(work.join("transition.sql"), PGBENCH_SCRIPT).map_err(|e| e.to_string())?;
    let threads = clients.min(std::thread::available_parallelism().map_or(2, usize::from));
    let output = std::process::Command::new("pgbench")
        .current_dir(&work)
        .args(["-n", "-M", "prepared", "--log", "--log-prefix", "tx"])
        .arg(format!("--client={clients}"))
        .arg(format!("--jobs={threads}"))
        .arg(format!("--time={}", duration.as_secs().max(1)))
        .arg(format!("--define=nclients={clients:03}"))
        .arg(format!(
            "--define=changes={}",
            changes_json().first().cloned().unwrap_or_default()
        ))
        .arg("--file=transition.sql")
        .arg(url)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !stdout.contains("tps = ") {
        return Err(format!(
            "pgbench failed: {}{stdout}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let failed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("number of failed transactions: "))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    if failed > 0 {
        return Err(format!("pgbench: {failed} failed transactions\n{stdout}"));
    }
    // Per-transaction log lines: client_id transaction_no latency_us script_no epoch us.
    let mut hist = crate::load::histogram()?;
    for entry in std::fs::read_dir(&work).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("tx."))
        {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        for line in text.lines() {
            let Some(us) = line
                .split_whitespace()
                .nth(2)
                .and_then(|v| v.parse::<u64>().ok())
            else {
                return Err(format!("pgbench log: unexpected line {line:?}"));
            };
            hist.saturating_record(us.max(1));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    if hist.is_empty() {
        return Err("pgbench logged no transactions".into());
    }
    Ok(Some(Stats::new(hist, duration.as_secs_f64())))
}
