//! Preparing databases: the schema and demo network through the service's own start-up, then
//! cases written straight through the store in large transactions (what opening them through
//! the API records: the case, its tracks, its opening event and that event's log leaf, so the
//! audit trail of a seeded database verifies).

use chrono::Utc;
use sea_orm::ConnectionTrait;
use std::collections::BTreeMap;
use std::sync::Arc;
use trm::clock::SystemClock;
use trm::domain::CaseRecord;
use trm::domain::Event;
use trm::service::App;
use trm::store::StoreOptions;
use trm::store::batch::Writes;
use trm::store::cases::{self as case_store};
use trm::store::events;
use trm::workflow::{Registry, Workflow};
use uuid::Uuid;

/// The workflow every seeded and benchmarked case runs.
pub const WORKFLOW: &str = "trm-adult";
/// Its version, pinned: the benchmarked step (`order_protection_measure`, fired by the lead's case
/// worker) is the lead's in version 4; from version 5 the prosecutor records it. Pinned, the
/// numbers stay comparable with the baselines measured before version 5.
pub const WORKFLOW_VERSION: u32 = 4;

/// Opens (creating and migrating) a database and seeds the demo network.
pub async fn prepare(url: &str, registry: Registry) -> Result<App, String> {
    prepare_with_pool(url, registry, 70).await
}

/// [`prepare`] with a pool of at most `max_connections`.
pub async fn prepare_with_pool(
    url: &str,
    registry: Registry,
    max_connections: u32,
) -> Result<App, String> {
    let app = trm::startup::prepare(
        &StoreOptions {
            url: url.to_string(),
            max_connections,
            ..Default::default()
        },
        registry,
        Arc::new(SystemClock),
    )
    .await
    .map_err(|e| e.to_string())?;
    trm::service::demo::seed(&app)
        .await
        .map_err(|e| e.to_string())?;
    Ok(app)
}

/// The benchmarked workflow, at its pinned version.
pub fn workflow(app: &App) -> Result<Arc<Workflow>, String> {
    app.workflows
        .get(WORKFLOW, Some(WORKFLOW_VERSION))
        .ok_or_else(|| format!("workflow {WORKFLOW} v{WORKFLOW_VERSION} is not loaded"))
}

/// (user id, agency id, country) of a demo user.
pub async fn demo_user(app: &App, username: &str) -> Result<(Uuid, Uuid, String), String> {
    let user = trm::store::directory::user_by_username(app.store.conn(), username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no demo user {username}"))?;
    let agency = trm::store::directory::agency_by_id(app.store.conn(), user.agency_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no agency")?;
    Ok((user.id, agency.id, agency.country))
}

/// A new case as `openCase` makes it, with its opening event (the service's own constructor).
pub fn new_case(
    workflow: &Workflow,
    (user, agency, country): &(Uuid, Uuid, String),
    reference: String,
) -> (CaseRecord, Event) {
    let now = chrono::SubsecRound::trunc_subsecs(trm::clock::Clock::now(&SystemClock), 6);
    trm::domain::case::opening(
        workflow,
        trm::domain::case::Opening {
            reference,
            country: country.clone(),
            by: (*user, *agency),
            at: now,
            follows_case_id: None,
            origin_country: None,
        },
    )
}

/// Seeds cases until the database holds `total` of them, spread round-robin over the lead
/// agencies of `users`, 2,000 per transaction. Returns how many were added.
pub async fn seed_cases(app: &App, users: &[&str], total: u64) -> Result<u64, String> {
    let existing = case_store::page_by_id(app.store.conn(), None, None, 1)
        .await
        .map_err(|e| e.to_string())?;
    let have = if existing.is_empty() {
        0
    } else {
        count_cases(app).await?
    };
    if have >= total {
        return Ok(0);
    }
    let workflow = workflow(app)?;
    let mut leads = Vec::new();
    for u in users {
        leads.push(demo_user(app, u).await?);
    }
    let year = Utc::now().format("%Y").to_string();
    let started = std::time::Instant::now();
    let mut n = have;
    while n < total {
        let txn = app.store.begin_write().await.map_err(|e| e.to_string())?;
        let batch_end = (n + 2_000).min(total);
        for i in n..batch_end {
            let lead = &leads[usize::try_from(i).unwrap_or(0) % leads.len()];
            let reference = format!("{}-{year}-B{i:08}", lead.2);
            let (record, event) = new_case(&workflow, lead, reference);
            insert_case(&txn, &workflow, &record, &event).await?;
        }
        txn.commit().await.map_err(|e| e.to_string())?;
        n = batch_end;
        if n % 100_000 == 0 {
            eprintln!(
                "  seeded {n} cases ({:.0}/s)",
                (n - have) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    // Fresh statistics, as autovacuum (PostgreSQL) or the service's start-up (SQLite) would
    // give a database that grew gradually.
    if app.store.backend() == sea_orm::DatabaseBackend::Postgres {
        trm::store::execute_sql(app.store.conn(), "ANALYZE")
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(total - have)
}

/// How many cases the database holds.
pub async fn count_cases(app: &App) -> Result<u64, String> {
    use sea_orm::{ConnectionTrait, Statement};
    let row = app
        .store
        .conn()
        .query_one_raw(Statement::from_string(
            app.store.backend(),
            "SELECT COUNT(*) FROM cases".to_string(),
        ))
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no count")?;
    let n: i64 = row.try_get_by_index(0).map_err(|e| e.to_string())?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Up to `limit` case ids (for reads by id).
pub async fn some_case_ids(app: &App, limit: u64) -> Result<Vec<Uuid>, String> {
    Ok(case_store::page_by_id(app.store.conn(), None, None, limit)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// The values `protection_measure` may take.
pub const MEASURES: [&str; 5] = [
    "police_protection",
    "witness_protection_programme",
    "relocation",
    "family_protection",
    "anonymity_in_proceedings",
];

/// The facts a benchmarked `order_protection_measure` records.
pub fn protection_facts(i: u64) -> BTreeMap<String, serde_json::Value> {
    BTreeMap::from([(
        "protection_measure".to_string(),
        serde_json::json!(MEASURES[usize::try_from(i).unwrap_or(0) % MEASURES.len()]),
    )])
}

/// Writes a new case with its tracks, its opening event and log leaf in `txn`, as the service's
/// unit of work writes them.
pub async fn insert_case(
    txn: &trm::store::WriteTxn,
    workflow: &Workflow,
    record: &CaseRecord,
    event: &Event,
) -> Result<(), String> {
    let mut writes = Writes::new(txn.get_database_backend());
    case_store::insert(&mut writes, workflow, record).map_err(|e| e.to_string())?;
    events::append(&mut writes, event).map_err(|e| e.to_string())?;
    writes.run(txn).await.map_err(|e| e.to_string())
}
