//! `trm-bench`: how fast and how big TRM is, measured against baselines in the same run.
//!
//! For each database it (1) measures a transition's transaction shape on the database two
//! ways, without engine, policies, GraphQL or HTTP: through a thin client straight on the
//! database (SQLite's C API, PostgreSQL's prepared statements: the physical limit, see
//! [`physical`]) and through the same store code and connections as the service (what the
//! store costs on top); (2) starts `trm serve` as a child process and drives it over GraphQL/HTTP
//! with N clients: a trivial query (the framework ceiling), transitions at each client count,
//! reads at each database size (the database seeded in bulk first), checking every response
//! body; (3) times start-up and reads the server's peak memory; (4) times audit verification
//! against raw SHA-256 over the same bytes. It prints Markdown tables (the ones in
//! BENCHMARKS.md) and which targets the run met; it asserts no times.

// Start-up code of a measuring tool: a failed set-up is reported and ends the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod load;
mod physical;
mod report;
mod seed;

use clap::Parser;
use load::{Gql, Stats, drive};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use trm::access::CaseScope;
use trm::domain::Event;
use trm::domain::EventKind;
use trm::service::App;
use trm::store::batch::Writes;
use trm::store::cases as case_store;
use trm::store::events;
use trm::workflow::engine::{self, Changes, TrackChange};

#[derive(Parser)]
#[command(
    about = "Benchmarks TRM over GraphQL/HTTP against physical-database, store and framework baselines"
)]
struct Args {
    /// A quick smoke run (CI): 2,000 cases, 1 and 8 clients, 1 s per workload. Times from it
    /// mean nothing.
    #[arg(long)]
    quick: bool,
    /// Case counts for the read workloads.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    sizes: Vec<u64>,
    /// Client counts for transitions.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,64")]
    clients: Vec<usize>,
    /// Seconds per workload (per round of the transition workloads).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Rounds of the transition workloads: at each client count the physical baseline, the
    /// store baseline and TRM run one after the other, this many times over, and each
    /// workload's rounds are added up (throughput over all of them, percentiles over every
    /// latency). More rounds average out a noisy machine; the report shows each round's rate.
    #[arg(long, default_value_t = 1)]
    rounds: u32,
    /// Databases to run on: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    databases: Vec<String>,
    /// PostgreSQL server (a user that may create databases); benchmark databases are created
    /// on it as trm_bench_*.
    #[arg(
        long,
        env = "TRM_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pg_url: String,
    /// The `trm` binary to run [default: the one next to this binary].
    #[arg(long)]
    trm: Option<PathBuf>,
    /// Which parts to run: transitions (with the baselines, the framework ceiling and history),
    /// reads (with start-up, memory and audit verification).
    #[arg(long, value_delimiter = ',', default_value = "transitions,reads")]
    workloads: Vec<String>,
    /// Where SQLite files, token files and reports go. Seeded databases are kept there and
    /// reused by later runs (delete the directory to start over).
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// Also run the PostgreSQL physical baseline's transaction as a `pgbench -M prepared`
    /// script (when pgbench is on PATH), as a check on the tokio-postgres one.
    #[arg(long)]
    pgbench: bool,
}

const READ_CLIENTS: usize = 8;

/// A label made at run time, kept for the report (a handful per run).
fn leak(label: String) -> &'static str {
    Box::leak(label.into_boxed_str())
}

/// The server's connection pool (`--db-pool`); the store baseline gets the same.
const SERVER_POOL: u32 = 32;
const CEILING_CLIENTS: usize = 32;
const LEADS: [&str; 4] = [
    "it.shelter",
    "it.police",
    "ng.shelter",
    "ml.childprotection",
];

/// Opens a case of the pinned version of the benchmarked workflow ([`seed::WORKFLOW_VERSION`]).
const OPEN: &str = "mutation($v: Int) { openCase(input: {workflowId: \"trm-adult\", workflowVersion: $v}) { case { id version } } }";
const FIRE: &str =
    "mutation($input: FireTransitionInput!) { fireTransition(input: $input) { case { version } } }";
const CASE: &str =
    "query($id: ID!) { case(id: $id) { id reference version status states { track state } } }";
/// A list page as a case worker's screen shows it: each case with how the caller's agency
/// stands towards it and what is withheld (fields that need the per-case access view).
const CASES: &str = "{ cases(first: 20, filter: {status: ACTIVE, stage: IDENTIFICATION}) { edges { node { id reference version access redactedFields } } } }";
const WORKLIST: &str =
    "{ worklist(first: 20) { edges { node { reason case { id reference access } } } } }";
const HISTORY: &str = "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node { sequence kind } } } } }";

#[tokio::main]
async fn main() {
    let mut args = Args::parse();
    if args.quick {
        args.sizes = vec![2_000];
        args.clients = vec![1, 8];
        args.seconds = 1;
        args.rounds = 1;
    }
    if let Err(e) = run(args).await {
        eprintln!("trm-bench: {e}");
        std::process::exit(1);
    }
}

fn trm_binary(args: &Args) -> Result<PathBuf, String> {
    let path = match &args.trm {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("trm"),
    };
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found: build it first (cargo build --release) or pass --trm",
            path.display()
        ))
    }
}

fn workflows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows")
}

/// The URL of benchmark database `name` on `db` (creating the PostgreSQL database if needed).
async fn database(args: &Args, db: &str, name: &str) -> Result<String, String> {
    match db {
        "sqlite" => Ok(format!(
            "sqlite://{}",
            args.dir.join(format!("{name}.db")).display()
        )),
        "postgres" => {
            let admin = sea_orm::Database::connect(&args.pg_url)
                .await
                .map_err(|e| e.to_string())?;
            let exists = trm::store::execute_sql(
                &admin,
                &format!("SELECT 1 FROM pg_database WHERE datname = 'trm_bench_{name}'"),
            )
            .await
            .map_err(|e| e.to_string())?;
            if exists == 0 {
                trm::store::execute_sql(&admin, &format!("CREATE DATABASE trm_bench_{name}"))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let base = args
                .pg_url
                .rsplit_once('/')
                .map_or(args.pg_url.as_str(), |(b, _)| b);
            // Without TLS, as the physical baseline's client connects: the same transport for
            // every contender (a local server would else be reached through TLS by sqlx's
            // default `sslmode=prefer`: 5 % of the machine's CPU in the server's OpenSSL alone).
            Ok(format!("{base}/trm_bench_{name}?sslmode=disable"))
        }
        other => Err(format!("unknown database {other} (sqlite, postgres)")),
    }
}

/// Drops a benchmark database so the next use starts empty.
async fn drop_database(args: &Args, db: &str, name: &str) -> Result<(), String> {
    match db {
        "sqlite" => {
            for ext in ["db", "db-wal", "db-shm"] {
                let _ = std::fs::remove_file(args.dir.join(format!("{name}.{ext}")));
            }
            Ok(())
        }
        _ => {
            let admin = sea_orm::Database::connect(&args.pg_url)
                .await
                .map_err(|e| e.to_string())?;
            trm::store::execute_sql(
                &admin,
                &format!("DROP DATABASE IF EXISTS trm_bench_{name} WITH (FORCE)"),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(())
        }
    }
}

/// A running `trm serve`.
struct Server {
    child: Child,
    base: String,
    tokens: HashMap<String, String>,
    startup: Duration,
}

impl Server {
    async fn start(args: &Args, url: &str, tag: &str) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let tokens_file = args.dir.join(format!("tokens-{tag}.json"));
        let _ = std::fs::remove_file(&tokens_file);
        let started = Instant::now();
        let mut child = Command::new(trm_binary(args)?)
            .args(["serve", "--demo", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(url)
            .arg("--workflows")
            .arg(workflows_dir())
            .arg("--demo-tokens")
            .arg(&tokens_file)
            .args(["--rate-limit-per-minute", "0", "--db-pool"])
            .arg(SERVER_POOL.to_string())
            .args(["--scheduler-interval-secs", "0", "--graphiql", "false"])
            // One key for every benchmark database, kept with them (never in the user's data
            // directory).
            .arg("--audit-key-file")
            .arg(args.dir.join("trm-audit.key"))
            .env("TRM_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| e.to_string())?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{base}/readyz")).send().await
                && r.status().is_success()
                && tokens_file.exists()
            {
                break;
            }
            // A server that stopped (it said why on standard error) never gets ready.
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the server stopped before it was ready ({status})"));
            }
            if started.elapsed() > Duration::from_secs(600) {
                return Err("the server did not get ready in 10 minutes".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let startup = started.elapsed();
        let tokens: HashMap<String, String> =
            serde_json::from_slice(&std::fs::read(&tokens_file).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        Ok(Server {
            child,
            base,
            tokens,
            startup,
        })
    }

    fn token(&self, user: &str) -> String {
        self.tokens.get(user).cloned().unwrap_or_default()
    }

    /// Peak resident memory so far (VmHWM), in MiB (Linux).
    fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }

    fn stop(self) {
        drop(self);
    }
}

impl Drop for Server {
    /// SIGTERM (a graceful stop), then wait: no server outlives the run, even on an error.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// One transition's transaction through the store, without engine, policy, GraphQL or HTTP:
/// lock the case, read it and its last hash, update it, append the event and its log leaf (the
/// writes sent together, as the service's unit of work sends them).
async fn raw_transition(app: &App, case_id: uuid::Uuid, i: u64) -> Result<(), String> {
    let workflow = seed::workflow(app)?;
    let txn = app.store.begin_write().await.map_err(|e| e.to_string())?;
    let case = case_store::lock(&txn, CaseScope::All, case_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("case gone")?;
    let prev_hash = case.last_hash.clone();
    let changes = Changes {
        tracks: vec![TrackChange {
            track: "person".into(),
            from: Some("present".into()),
            to: "present".into(),
        }],
        facts: seed::protection_facts(i),
        ..Changes::default()
    };
    let mut after = case.clone();
    engine::apply(&mut after.state, &changes);
    let now = app.now();
    after.status = engine::status(&workflow, &after.state);
    let mut writes = Writes::new(txn.get_database_backend());
    case_store::write_changes(&mut writes, &workflow, case_id, &case.state, &changes, now)
        .map_err(|e| e.to_string())?;
    let mut event = Event {
        id: uuid::Uuid::now_v7(),
        case_id,
        seq: case.version + 1,
        kind: EventKind::Transition,
        transition: Some("order_protection_measure".into()),
        track: Some("person".into()),
        from_state: Some("present".into()),
        to_state: Some("present".into()),
        reason: None,
        reason_shared_as: Default::default(),
        reason_to: None,
        changes,
        workflow_id: case.workflow_id.clone(),
        workflow_version: case.workflow_version,
        actor_user_id: case.opened_by,
        actor_agency_id: case.lead_agency_id,
        occurred_at: now,
        prev_hash,
        hash: String::new(),
        details: None,
        withheld: Vec::new(),
    };
    event.hash = event.compute_hash();
    after.version = event.seq;
    after.last_hash = event.hash.clone();
    after.updated_at = now;
    case_store::update(&mut writes, &after, &case_store::LockedRow::of(&case))
        .map_err(|e| e.to_string())?;
    events::append(&mut writes, &event).map_err(|e| e.to_string())?;
    writes.run(&txn).await.map_err(|e| e.to_string())?;
    txn.commit().await.map_err(|e| e.to_string())
}

/// Results of one database, for the report.
#[derive(Default)]
struct Results {
    /// The physical baseline (SQLite's C API, PostgreSQL's prepared statements) per client count.
    physical: Vec<(usize, Stats)>,
    /// SQLite's physical baseline with the clients taking one connection in turn (a FIFO lock)
    /// instead of polling SQLite's lock on the busy timeout.
    physical_queued: Vec<(usize, Stats)>,
    /// PostgreSQL's physical baseline appending to the audit log as TRM does (advisory lock).
    physical_locked: Vec<(usize, Stats)>,
    /// The same through `pgbench -M prepared` (PostgreSQL, `--pgbench`).
    pgbench: Vec<(usize, Stats)>,
    /// The through-the-store baseline per client count.
    raw: Vec<(usize, Stats)>,
    /// The machine's load average (1 minute) when the transition workloads started and ended.
    load: (String, String),
    transitions: Vec<(usize, Stats)>,
    ceiling: Option<Stats>,
    history: Option<(i64, Stats)>,
    peak_after_transitions: f64,
    reads: Vec<(u64, &'static str, Stats)>,
    startup: Vec<(u64, Duration, f64)>,
    verify: Vec<(u64, u64, f64, f64)>,
}

async fn run(args: Args) -> Result<(), String> {
    if let Some(w) = args
        .workloads
        .iter()
        .find(|w| !["transitions", "reads"].contains(&w.as_str()))
    {
        return Err(format!("unknown workload {w} (transitions, reads)"));
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| e.to_string())?;
    let registry = trm::startup::load_workflows(&workflows_dir()).map_err(|e| e.to_string())?;
    let duration = Duration::from_secs(args.seconds);
    let mut report = String::new();
    let mut targets = Vec::new();
    for db in &args.databases {
        eprintln!("== {db}");
        let mut r = Results::default();

        // 1. Transitions: a fresh database, the raw baseline first, then the server.
        if args.workloads.iter().any(|w| w == "transitions") {
            transitions(&args, db, &registry, duration, &mut r).await?;
        }

        // 2. Reads, start-up, memory and audit verification at each size.
        targets.extend(report::target_rows(db, &r));
        if !args.workloads.iter().any(|w| w == "reads") {
            report.push_str(&report::render(db, &args, &r));
            continue;
        }

        for &size in &args.sizes {
            let name = format!("reads{size}");
            let mut url = database(&args, db, &name).await?;
            let app = match seed::prepare(&url, registry.clone()).await {
                Ok(app) => app,
                Err(e) => {
                    // A kept database made by another version of TRM (its migrations differ):
                    // start it over rather than fail. A fresh one that still fails is an error.
                    eprintln!("  the kept database {name} cannot be used ({e}); seeding it again");
                    drop_database(&args, db, &name).await?;
                    url = database(&args, db, &name).await?;
                    seed::prepare(&url, registry.clone()).await?
                }
            };
            let started = Instant::now();
            let added = seed::seed_cases(&app, &LEADS, size).await?;
            if added > 0 {
                eprintln!(
                    "  seeded {added} cases in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            let ids: Arc<Vec<String>> = Arc::new(
                seed::some_case_ids(&app, 2_000)
                    .await?
                    .into_iter()
                    .map(|id| trm::api::ids::encode("Case", &id.to_string()).to_string())
                    .collect(),
            );
            let verify = time_verification(&app).await?;
            eprintln!(
                "  audit verification of {} events: {:.1} MB/s (raw SHA-256 {:.1} MB/s)",
                verify.0, verify.2, verify.3
            );
            r.verify.push((size, verify.0, verify.2, verify.3));
            app.store.clone().close().await.map_err(|e| e.to_string())?;

            let server = Server::start(&args, &url, &format!("{db}-{size}")).await?;
            let gql = Gql::new(&server.base)?;
            let token = server.token("auditor");
            let lead_token = server.token("it.shelter");
            let reads: [(&'static str, &'static str, bool); 3] = [
                ("case(id)", CASE, true),
                ("cases(filter)", CASES, false),
                ("worklist", WORKLIST, false),
            ];
            for (label, query, by_id) in reads {
                let (g, ids) = (gql.clone(), ids.clone());
                let token = if by_id {
                    token.clone()
                } else {
                    lead_token.clone()
                };
                let stats = drive(READ_CLIENTS, duration, move |c, i| {
                    let (gql, token, ids) = (g.clone(), token.clone(), ids.clone());
                    async move {
                        let vars = if by_id {
                            let n = (c as u64 * 7919 + i * 104_729) as usize % ids.len();
                            json!({"id": ids[n]})
                        } else {
                            json!({})
                        };
                        let d = gql.data(&token, query, vars.clone()).await?;
                        check_read(label, &d, &vars)
                    }
                })
                .await?;
                eprintln!("  {label} at {size} cases: {stats}");
                r.reads.push((size, label, stats));
            }
            // The console's main pages, as a signed-in user's browser asks for them (server time
            // and transfer of the HTML, no assets): (label, user, path with `{id}` for a random
            // case, a marker the page must hold).
            let pages: [(&'static str, &str, &str, &str); 8] = [
                (
                    "console: case page",
                    "auditor",
                    "/cases/{id}",
                    "id=\"history\"",
                ),
                ("console: my work", "it.shelter", "/", "id=\"work\""),
                ("console: cases", "it.shelter", "/cases", "id=\"reference\""),
                ("console: inbox", "it.shelter", "/inbox", "<h1>"),
                (
                    "console: referrals received",
                    "ng.shelter",
                    "/referrals",
                    "<h1>",
                ),
                (
                    "console: focal point",
                    "it.focal",
                    "/focal-point",
                    "id=\"board-h\"",
                ),
                (
                    "console: audited case",
                    "auditor",
                    "/audit/cases/{id}",
                    "id=\"timeline\"",
                ),
                (
                    "console: administration",
                    "admin",
                    "/admin",
                    "id=\"new-agency\"",
                ),
            ];
            let mut cookies = std::collections::BTreeMap::new();
            for (_, user, _, _) in pages {
                if !cookies.contains_key(user) {
                    cookies.insert(user, load::console_cookie(&server.base, user).await?);
                }
            }
            // Each page alone (one client: the server time a user waits for) and under load
            // (eight clients on the server's two cores: the latency includes the queue).
            let runs = pages.iter().flat_map(|&(label, user, path, marker)| {
                [
                    (1, leak(format!("{label}, 1 client")), user, path, marker),
                    (READ_CLIENTS, label, user, path, marker),
                ]
            });
            for (clients, label, user, path, marker) in runs {
                let (http, base, ids) = (gql.http.clone(), server.base.clone(), ids.clone());
                let cookie = cookies.get(user).cloned().unwrap_or_default();
                let stats = drive(clients, duration, move |c, i| {
                    let (http, base, ids, cookie) =
                        (http.clone(), base.clone(), ids.clone(), cookie.clone());
                    async move {
                        let n = (c as u64 * 7919 + i * 104_729) as usize % ids.len();
                        let url = format!("{base}{}", path.replace("{id}", &ids[n].to_string()));
                        load::page(&http, &url, &cookie, marker).await
                    }
                })
                .await?;
                eprintln!("  {label} at {size} cases: {stats}");
                r.reads.push((size, label, stats));
            }
            r.startup.push((size, server.startup, server.peak_mib()));
            eprintln!(
                "  start-up {:.2} s, peak memory {:.0} MiB",
                server.startup.as_secs_f64(),
                server.peak_mib()
            );
            server.stop();
        }
        report.push_str(&report::render(db, &args, &r));
    }
    report.push_str(&report::render_targets(&targets));
    println!("{report}");
    let path = args.dir.join("report.md");
    std::fs::write(&path, &report).map_err(|e| e.to_string())?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// The transition workloads: the raw baseline, the framework ceiling, fireTransition at each
/// client count, the history of the longest case.
async fn transitions(
    args: &Args,
    db: &str,
    registry: &trm::workflow::Registry,
    duration: Duration,
    r: &mut Results,
) -> Result<(), String> {
    // The databases and cases of both baselines first, then the server; then, at each client
    // count, the physical baseline, the store baseline and TRM one after the other, so that
    // the numbers compared come from the same minute of a noisy machine.
    r.load.0 = load_average();
    let (physical_url, physical_cases) = prepare_physical(args, db, registry).await?;
    drop_database(args, db, "tx").await?;
    let url = database(args, db, "tx").await?;
    let mut store_cases = Vec::new();
    {
        let app = seed::prepare(&url, registry.clone()).await?;
        for &clients in &args.clients {
            store_cases.push(Arc::new(open_cases(&app, 'R', clients).await?));
        }
        app.store.clone().close().await.map_err(|e| e.to_string())?;
    }
    let server = Server::start(args, &url, &format!("{db}-tx")).await?;
    let gql = Gql::new(&server.base)?;
    let token = server.token("it.shelter");
    {
        let (gql, token) = (gql.clone(), token.clone());
        let stats = drive(CEILING_CLIENTS, duration, move |_, _| {
            let (gql, token) = (gql.clone(), token.clone());
            async move {
                let d = gql.data(&token, "{ __typename }", json!({})).await?;
                if d["__typename"] != "Query" {
                    return Err(format!("unexpected {d}"));
                }
                Ok(())
            }
        })
        .await?;
        eprintln!("  trivial query, {CEILING_CLIENTS} clients: {stats}");
        r.ceiling = Some(stats);
    }
    let mut longest: Option<(String, i64)> = None;
    for (k, &clients) in args.clients.iter().enumerate() {
        let mut cases = Vec::new();
        for _ in 0..clients {
            let d = gql
                .data(&token, OPEN, json!({"v": seed::WORKFLOW_VERSION}))
                .await?;
            let id = d["openCase"]["case"]["id"].as_str().ok_or("no id")?;
            cases.push(Mutex::new((id.to_string(), 1i64)));
        }
        let cases = Arc::new(cases);
        for round in 1..=args.rounds {
            if args.rounds > 1 {
                eprintln!("  {clients} clients, round {round} of {}", args.rounds);
            }
            run_physical(
                args,
                db,
                &physical_url,
                clients,
                &physical_cases[k],
                duration,
                r,
            )
            .await?;
            {
                // The store baseline's own pool, the size of the server's, open only for its
                // run: PostgreSQL's connections (100 by default) are shared with the server's
                // pool and the physical baseline's.
                let app = seed::prepare_with_pool(&url, registry.clone(), SERVER_POOL).await?;
                let (app2, ids) = (app.clone(), store_cases[k].clone());
                let stats = drive(clients, duration, move |c, i| {
                    let (app, ids) = (app2.clone(), ids.clone());
                    async move { raw_transition(&app, ids[c], i).await }
                })
                .await?;
                eprintln!("  through the store, {clients} clients: {stats}");
                record(&mut r.raw, clients, stats)?;
                app.store.clone().close().await.map_err(|e| e.to_string())?;
            }
            let (g, t, c2) = (gql.clone(), token.clone(), cases.clone());
            let stats = drive(clients, duration, move |c, i| {
                let (gql, token, cases) = (g.clone(), t.clone(), c2.clone());
                async move {
                    let mut case = cases[c].lock().await;
                    let input = json!({"input": {"caseId": case.0, "transition": "order_protection_measure",
                        "expectedVersion": case.1, "data": {"protection_measure": seed::MEASURES[i as usize % seed::MEASURES.len()]}}});
                    let d = gql.data(&token, FIRE, input).await?;
                    let version = d["fireTransition"]["case"]["version"].as_i64();
                    if version != Some(case.1 + 1) {
                        return Err(format!("expected version {}, got {d}", case.1 + 1));
                    }
                    case.1 += 1;
                    Ok(())
                }
            })
            .await?;
            eprintln!("  transition, {clients} clients: {stats}");
            record(&mut r.transitions, clients, stats)?;
        }
        for c in cases.iter() {
            let c = c.lock().await;
            if longest.as_ref().is_none_or(|l| c.1 > l.1) {
                longest = Some(c.clone());
            }
        }
    }
    r.load.1 = load_average();
    r.peak_after_transitions = server.peak_mib();
    if let Some((id, events)) = longest {
        let (g, t) = (gql.clone(), token.clone());
        let stats = drive(READ_CLIENTS, duration, move |_, _| {
            let (gql, token, id) = (g.clone(), t.clone(), id.clone());
            async move {
                let d = gql.data(&token, HISTORY, json!({"id": id})).await?;
                let n = d["case"]["history"]["edges"].as_array().map_or(0, Vec::len);
                if n != 100.min(usize::try_from(events).unwrap_or(0)) {
                    return Err(format!("history returned {n} events"));
                }
                Ok(())
            }
        })
        .await?;
        eprintln!("  history of a case of {events} events: {stats}");
        r.history = Some((events, stats));
    }
    server.stop();
    Ok(())
}

/// Opens `clients` cases through the store as `openCase` records them (the case, its tracks,
/// its opening event and log leaf), referenced `IT-2026-{tag}{clients:03}{client:04}`.
async fn open_cases(app: &App, tag: char, clients: usize) -> Result<Vec<uuid::Uuid>, String> {
    let workflow = seed::workflow(app)?;
    let lead = seed::demo_user(app, "it.shelter").await?;
    let txn = app.store.begin_write().await.map_err(|e| e.to_string())?;
    let mut ids = Vec::new();
    for c in 0..clients {
        let (record, event) =
            seed::new_case(&workflow, &lead, format!("IT-2026-{tag}{clients:03}{c:04}"));
        seed::insert_case(&txn, &workflow, &record, &event).await?;
        ids.push(record.id);
    }
    txn.commit().await.map_err(|e| e.to_string())?;
    Ok(ids)
}

/// What the physical baseline is called in the report.
fn physical_name(db: &str) -> &'static str {
    if db == "sqlite" {
        "C-level"
    } else {
        "prepared"
    }
}

/// The physical baseline's database, fresh (`physical.db` next to the server's, or
/// `trm_bench_physical`), with TRM's schema and one case per client at each client count.
/// Returns its URL and the cases.
async fn prepare_physical(
    args: &Args,
    db: &str,
    registry: &trm::workflow::Registry,
) -> Result<(String, Vec<Vec<uuid::Uuid>>), String> {
    drop_database(args, db, "physical").await?;
    let url = database(args, db, "physical").await?;
    let mut cases = Vec::new();
    {
        let app = seed::prepare(&url, registry.clone()).await?;
        for &clients in &args.clients {
            cases.push(open_cases(&app, 'P', clients).await?);
        }
        // The opened cases' leaves placed in the log (PostgreSQL), so that the baseline's own
        // positions start after them.
        trm::service::audit_log::settle(&app.store)
            .await
            .map_err(|e| e.to_string())?;
        app.store.clone().close().await.map_err(|e| e.to_string())?;
    }
    if db == "postgres" {
        physical::pg_prepare(&url).await?;
    }
    Ok((url, cases))
}

/// The physical baseline at `clients` clients (see [`physical`]): on SQLite with the clients
/// contending on the busy timeout and then queued for one connection; on PostgreSQL through
/// tokio-postgres, with the log free and then locked as TRM locks it, and, with `--pgbench`,
/// through pgbench.
async fn run_physical(
    args: &Args,
    db: &str,
    url: &str,
    clients: usize,
    ids: &[uuid::Uuid],
    duration: Duration,
    r: &mut Results,
) -> Result<(), String> {
    let path = args.dir.join("physical.db");
    let stats = if db == "sqlite" {
        physical::sqlite(&path, ids, physical::Contention::BusyTimeout, duration).await?
    } else {
        physical::pg_wait_for_connections(url, clients).await?;
        physical::postgres(url, ids, physical::PgLog::Free, duration).await?
    };
    eprintln!(
        "  physical ({}), {clients} clients: {stats}",
        physical_name(db)
    );
    record(&mut r.physical, clients, stats)?;
    if db == "sqlite" {
        let stats = physical::sqlite(&path, ids, physical::Contention::Queued, duration).await?;
        eprintln!("  physical (C-level, queued), {clients} clients: {stats}");
        record(&mut r.physical_queued, clients, stats)?;
    }
    if db == "postgres" {
        physical::pg_wait_for_connections(url, clients).await?;
        let stats = physical::postgres(url, ids, physical::PgLog::Locked, duration).await?;
        eprintln!("  physical (prepared, log locked), {clients} clients: {stats}");
        record(&mut r.physical_locked, clients, stats)?;
    }
    if db == "postgres" && args.pgbench {
        physical::pg_wait_for_connections(url, clients).await?;
        physical::pg_prepare(url).await?;
        let run =
            tokio::task::block_in_place(|| physical::pgbench(url, &args.dir, clients, duration))?;
        match run {
            Some(stats) => {
                eprintln!("  pgbench -M prepared, {clients} clients: {stats}");
                record(&mut r.pgbench, clients, stats)?;
            }
            None => eprintln!("  pgbench is not on PATH: skipped"),
        }
    }
    Ok(())
}

/// Checks a read's body: the asked-for case, or a non-empty page of cases.
fn check_read(label: &str, d: &Value, vars: &Value) -> Result<(), String> {
    let ok = match label {
        "case(id)" => d["case"]["id"] == vars["id"] && d["case"]["status"] == "ACTIVE",
        "cases(filter)" => d["cases"]["edges"]
            .as_array()
            .is_some_and(|e| e.len() == 20 && e.iter().all(|n| n["node"]["access"].is_string())),
        _ => d["worklist"]["edges"].as_array().is_some_and(|e| {
            !e.is_empty() && e.iter().all(|n| n["node"]["case"]["access"].is_string())
        }),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{label}: unexpected {d}"))
    }
}

/// Times the audit verifier over the whole database, and raw SHA-256 over the same bytes the
/// verifier hashes (each event's previous hash, newline and canonical content): (events, bytes,
/// verifier MB/s, SHA-256 MB/s).
async fn time_verification(app: &App) -> Result<(u64, u64, f64, f64), String> {
    let started = Instant::now();
    let report = trm::service::audit_verify::verify(&app.store, &app.workflows, &[])
        .await
        .map_err(|e| e.to_string())?;
    let verify_secs = started.elapsed().as_secs_f64();
    if let Some(problem) = report.first_problem {
        return Err(format!("the seeded database does not verify: {problem}"));
    }
    // The same bytes, a page of cases at a time; only the hashing is timed.
    let (mut total, mut sha_secs, mut after) = (0usize, 0f64, None);
    loop {
        let page = trm::store::cases::page_by_id(app.store.conn(), after, None, 500)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let ids: Vec<_> = page.iter().map(|c| c.id).collect();
        let rows = events::of_cases_for_audit(app.store.conn(), &ids)
            .await
            .map_err(|e| e.to_string())?;
        let mut parts = Vec::with_capacity(rows.len());
        for (_, _, _, parsed) in &rows {
            let e = parsed.as_ref().map_err(String::clone)?;
            let mut bytes = e.prev_hash.clone().into_bytes();
            bytes.push(b'\n');
            bytes.extend_from_slice(&trm::domain::event::canonical_json(&e.hashed_content()));
            parts.push(bytes);
        }
        let started = Instant::now();
        let mut digest = [0u8; 32];
        for part in &parts {
            digest = Sha256::digest(part).into();
            total += part.len();
        }
        std::hint::black_box(digest);
        sha_secs += started.elapsed().as_secs_f64();
    }
    let mb = total as f64 / 1e6;
    Ok((
        report.checked_events,
        total as u64,
        mb / verify_secs,
        mb / sha_secs,
    ))
}

/// The 1-minute load average (Linux), to judge how much of the machine the run had.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Adds a round at `clients` clients to a workload's results.
fn record(runs: &mut Vec<(usize, Stats)>, clients: usize, stats: Stats) -> Result<(), String> {
    match runs.iter_mut().find(|(c, _)| *c == clients) {
        Some((_, earlier)) => earlier.merge(stats),
        None => {
            runs.push((clients, stats));
            Ok(())
        }
    }
}
