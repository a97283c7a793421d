//! Storage: sea-orm over SQLite (embedded default) or PostgreSQL. The only code that touches
//! the database. Repositories take a connection or a transaction so that a use case can make
//! several of their calls one atomic unit.

pub mod access_log;
pub mod audit;
pub mod audit_snapshot;
pub mod batch;
pub mod break_glass;
pub mod cases;
mod columns;
pub mod console_sessions;
pub mod console_sign_ins;
pub mod directory;
pub mod disclosures;
pub mod entities;
mod error;
pub mod events;
mod group_commit;
pub mod idempotency;
pub mod identity;
pub mod inbox;
pub mod notify;
pub mod person;
mod pg_direct;
pub mod pipeline;
pub mod same_person;
mod spans;
pub mod sqlite_snapshot;
use spans::statement_span;
pub mod timers;
pub mod workflows;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use std::time::Duration;
use trm_migration::{Migrator, MigratorTrait};

pub use error::{DbFault, StoreError, fault};

pub use group_commit::GroupStats;

/// The database behind the service.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// Where write transactions run: on SQLite one connection, on which writes queue in order
    /// (instead of polling SQLite's lock on the busy timeout, which makes tail latency grow with
    /// the number of writers) and commit in groups ([`group_commit`]); on PostgreSQL a pool of
    /// `tokio-postgres` connections of their own ([`pg_direct`]), or the reading pool where
    /// those would go without TLS and the reading pool's might not.
    writer: Writer,
    /// The SQLite file, for readers that open it themselves ([`sqlite_snapshot`]).
    sqlite_file: Option<std::sync::Arc<std::path::Path>>,
}

#[derive(Clone, Debug)]
enum Writer {
    Group(std::sync::Arc<group_commit::GroupCommit>),
    /// PostgreSQL, through `tokio-postgres`.
    Pg(std::sync::Arc<pg_direct::PgWriter>),
    /// PostgreSQL, through the reading pool (a URL the writing connections cannot follow: TLS
    /// required, or possible with a server on another machine).
    Pool(DatabaseConnection),
}

/// A write transaction ([`Store::begin_write`]): read and write through it as through any
/// connection (it is a [`ConnectionTrait`]), then [`WriteTxn::commit`] or
/// [`WriteTxn::rollback`]; dropped, it changes nothing. On SQLite it is a member of a group
/// (`group_commit`); `commit` returns once the write is durable, whichever way. It does not
/// hand out the transaction beneath: on SQLite, what runs through it is what opens the member's
/// savepoint before its first write.
#[derive(Debug)]
pub struct WriteTxn(WriteKind);

#[derive(Debug)]
enum WriteKind {
    Member(group_commit::Member),
    Pg(pg_direct::PgTxn),
    Alone(DatabaseTransaction),
}

impl WriteTxn {
    /// Commits: returns once the write is durable (on SQLite, with its group).
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.0 {
            WriteKind::Member(member) => member.commit().await,
            WriteKind::Pg(txn) => txn.commit().await,
            WriteKind::Alone(txn) => Ok(txn.commit().await?),
        }
    }

    /// Rolls the write back.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.0 {
            WriteKind::Member(member) => member.rollback().await,
            WriteKind::Pg(txn) => txn.rollback().await,
            WriteKind::Alone(txn) => Ok(txn.rollback().await?),
        }
    }
}

/// A write transaction is a connection like the others: store functions take it as they take
/// the pool (sea-orm's trait is an `async_trait` one, hence the attribute).
#[async_trait::async_trait]
impl ConnectionTrait for WriteTxn {
    fn get_database_backend(&self) -> DatabaseBackend {
        match &self.0 {
            // Groups are SQLite's alone.
            WriteKind::Member(_) => DatabaseBackend::Sqlite,
            WriteKind::Pg(_) => DatabaseBackend::Postgres,
            WriteKind::Alone(txn) => txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<sea_orm::ExecResult, DbErr> {
        match &self.0 {
            WriteKind::Member(member) => member.execute(stmt).await,
            WriteKind::Pg(txn) => txn.execute(stmt).await,
            WriteKind::Alone(txn) => txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<sea_orm::ExecResult, DbErr> {
        match &self.0 {
            WriteKind::Member(member) => member.execute_unprepared(sql).await,
            WriteKind::Pg(txn) => txn.execute_unprepared(sql).await,
            WriteKind::Alone(txn) => txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<sea_orm::QueryResult>, DbErr> {
        match &self.0 {
            WriteKind::Member(member) => member.query_one(stmt).await,
            WriteKind::Pg(txn) => txn.query_one(stmt).await,
            WriteKind::Alone(txn) => txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
        match &self.0 {
            WriteKind::Member(member) => member.query_all(stmt).await,
            WriteKind::Pg(txn) => txn.query_all(stmt).await,
            WriteKind::Alone(txn) => txn.query_all_raw(stmt).await,
        }
    }
}

/// Connection settings. Built from the database flags ([`crate::config::DatabaseConfig`]);
/// `Default` gives their defaults.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path`, `postgres://...`, or a bare file path (SQLite).
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// SQLite's `synchronous` setting; `FULL` (the default) is the lowest that keeps every
    /// acknowledged commit through a power loss in WAL mode.
    pub sqlite_synchronous: SqliteSync,
    /// Start even on settings that can lose acknowledged writes (see [`Store::durability_risks`]).
    pub accept_durability_risk: bool,
}

/// SQLite's `synchronous` levels that TRM can be told to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteSync {
    /// No fsync at all: a crash of the machine can lose and corrupt.
    Off,
    /// WAL synced only at checkpoints: a power loss can lose the latest acknowledged commits.
    Normal,
    /// The WAL is synced at every commit.
    Full,
    /// `FULL`, and the directory is synced too.
    Extra,
}

/// Prepared statements each SQLite connection keeps (sqlx's default is 100). A statement
/// prepared by SQLite holds its compiled program, tens of kilobytes for the larger reads, and
/// the reads of pages with `IN` lists of every length each compile anew: at 100 per connection
/// the pool's caches took the server past 150 MiB under a 1M-case read load, at 32 it peaked at
/// 146 MiB (`BENCHMARKS.md`). The statements of the hot paths are few and stay cached.
const SQLITE_STATEMENTS_CACHED: usize = 32;

/// Turns what a user typed into a URL sqlx understands (a bare path means a SQLite file).
pub fn normalise_url(url: &str) -> String {
    if url.contains("://") || url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    }
}

impl Store {
    /// Opens the database. SQLite files are created if missing and opened in WAL mode with
    /// `synchronous=FULL` (WAL with NORMAL can lose acknowledged commits on power loss),
    /// foreign keys on and a busy timeout, so that writers queue instead of failing.
    pub async fn connect(options: &StoreOptions) -> Result<Store, StoreError> {
        let url = normalise_url(&options.url);
        let mut opts = ConnectOptions::new(url.clone());
        opts.sqlx_logging(false)
            .max_connections(options.max_connections)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(3))
            // The pool retries a refused connection until this runs out: it is how long a
            // request waits before `SERVICE_UNAVAILABLE` when the database is down. Waiting for a
            // free connection under load takes milliseconds.
            .acquire_timeout(Duration::from_secs(3));
        if !url.starts_with("sqlite:") {
            // A server's connection can be cut (a restart, a proxy, a firewall); the pool
            // would ping every connection before handing it out, a round trip more for every
            // transaction and every read. One that has been in use within the last second is
            // known to be alive (a connection cut while in use fails its statement, and the
            // pool closes it when it comes back: sqlx tests each one given back); an idle one
            // is pinged first.
            opts.test_before_acquire_if_idle_for(Duration::from_secs(1));
        }
        if url.starts_with("sqlite:") {
            // The pool would ping every connection it hands out: on SQLite a round trip to the
            // connection's thread that proves nothing (a connection to a local file is not cut
            // off as a server's is), before every read and every group of writes.
            opts.test_before_acquire(false);
            let synchronous = options.sqlite_synchronous;
            opts.map_sqlx_sqlite_opts(move |o| {
                use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match synchronous {
                        SqliteSync::Off => SqliteSynchronous::Off,
                        SqliteSync::Normal => SqliteSynchronous::Normal,
                        SqliteSync::Full => SqliteSynchronous::Full,
                        SqliteSync::Extra => SqliteSynchronous::Extra,
                    })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .statement_cache_capacity(SQLITE_STATEMENTS_CACHED)
            });
        }
        let sqlite = url.starts_with("sqlite:");
        let mut attempt: u64 = 0;
        loop {
            match Database::connect(opts.clone()).await {
                Ok(db) if sqlite => {
                    let Some(file) = sqlite_snapshot::file_of(&url) else {
                        return Err(StoreError::Unsupported(
                            "an in-memory SQLite database: give TRM a file (e.g. --database-url sqlite://trm.db)"
                                .into(),
                        ));
                    };
                    match group_commit::open_writer(&file, options.sqlite_synchronous) {
                        Ok(writer) => {
                            // Give the planner statistics (bounded sampling, milliseconds even
                            // on a large file): without them SQLite picks the status index for
                            // "shared with my agency" and scans every active case.
                            let store = Store {
                                db,
                                sqlite_file: sqlite_snapshot::file_of(&url).map(Into::into),
                                writer: Writer::Group(std::sync::Arc::new(writer)),
                            };
                            store.optimize().await?;
                            return Ok(store);
                        }
                        Err(StoreError::Database(e)) if attempt < 50 && is_sqlite_busy(&e) => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(20 * Ord::min(attempt, 10)))
                                .await;
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(db) => {
                    let writer = match pg_direct::PgWriter::new(&url, options.max_connections) {
                        Some(pg) => Writer::Pg(std::sync::Arc::new(pg)),
                        None => Writer::Pool(db.clone()),
                    };
                    return Ok(Store {
                        writer,
                        db,
                        sqlite_file: None,
                    });
                }
                // Switching a fresh file to WAL needs an exclusive lock, and SQLite answers
                // "busy" at once (without waiting on the busy timeout) when two connections
                // would otherwise deadlock upgrading their locks: instances opening a new
                // database together take turns here.
                Err(e) if sqlite && attempt < 50 && is_sqlite_busy(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(20 * Ord::min(attempt, 10))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Applies every pending migration, all or nothing, in one write transaction (both engines
    /// have transactional DDL). Instances starting together take turns: SQLite's write lock, and
    /// on PostgreSQL a transaction-scoped advisory lock.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.writer {
            Writer::Group(group) => {
                // The migrator takes a sea-orm transaction: one of the reading pool's
                // connections, while the writing connection holds no group.
                let _alone = group.exclusive().await?;
                let txn = self
                    .db
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await?;
                Migrator::up(&txn, None).await?;
                Ok(txn.commit().await?)
            }
            Writer::Pg(_) | Writer::Pool(_) => {
                let txn = self.db.begin().await?;
                lock_exclusively(&txn, LOCK_MIGRATIONS).await?;
                Migrator::up(&txn, None).await?;
                Ok(txn.commit().await?)
            }
        }
    }

    /// The connection pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The SQLite file behind the store (none on PostgreSQL).
    pub fn sqlite_file(&self) -> Option<&std::path::Path> {
        self.sqlite_file.as_deref()
    }

    /// Which database engine this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Starts a write transaction. On SQLite writes take turns on the one writing connection
    /// and commit in groups (`group_commit`: the group's transaction is `BEGIN IMMEDIATE`, so
    /// that other processes writing the file queue on the busy timeout instead of failing on
    /// lock upgrade); on PostgreSQL it is a transaction of the pool.
    pub async fn begin_write(&self) -> Result<WriteTxn, StoreError> {
        match &self.writer {
            Writer::Group(group) => Ok(WriteTxn(WriteKind::Member(group.begin().await?))),
            Writer::Pg(pg) => Ok(WriteTxn(WriteKind::Pg(pg.begin().await?))),
            Writer::Pool(pool) => Ok(WriteTxn(WriteKind::Alone(pool.begin().await?))),
        }
    }

    /// Waits until every write that has finished but may not be durable yet (a SQLite group
    /// still gathering) has committed: after it, the reading pool sees them. A write that lost
    /// a race on a unique key to another still in its group calls it before reading the
    /// winner's result. Immediate on PostgreSQL, where a finished write has committed.
    pub async fn settled(&self) -> Result<(), StoreError> {
        match &self.writer {
            Writer::Group(_) => self.begin_write().await?.commit().await,
            Writer::Pg(_) | Writer::Pool(_) => Ok(()),
        }
    }

    /// How SQLite's writes were grouped so far (`None` on PostgreSQL).
    pub fn group_stats(&self) -> Option<(u64, u64, u64)> {
        match &self.writer {
            Writer::Group(group) => Some(group.stats().snapshot()),
            Writer::Pg(_) | Writer::Pool(_) => None,
        }
    }

    /// Refreshes the query planner's statistics where they are stale (SQLite; bounded
    /// sampling, milliseconds even on a large file). Without them SQLite picks the status index
    /// for "cases shared with my agency" and scans every active case. PostgreSQL's autovacuum
    /// does this by itself. Run at start-up and by the scheduler.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if let Writer::Group(group) = &self.writer {
            group_commit::between_groups(
                group,
                "PRAGMA analysis_limit = 400; PRAGMA optimize = 0x10002;",
            )
            .await?;
        }
        Ok(())
    }

    /// The database settings in force that can lose writes TRM has acknowledged, described
    /// (empty when there are none): on SQLite `synchronous` below `FULL` or a journal other than
    /// WAL (read back from a reading and the writing connection); on PostgreSQL `fsync`,
    /// `synchronous_commit` or `full_page_writes` off.
    pub async fn durability_risks(&self) -> Result<Vec<String>, StoreError> {
        let mut risks = Vec::new();
        if self.backend() == DatabaseBackend::Sqlite {
            for which in ["reading", "writing"] {
                let read = |name: &'static str| async move {
                    match (&self.writer, which) {
                        (Writer::Group(group), "writing") => group.pragma(name).await,
                        _ => pragma(&self.db, name).await,
                    }
                };
                let sync = read("synchronous").await?;
                if sync.parse::<i64>().unwrap_or(0) < 2 {
                    risks.push(format!(
                        "SQLite synchronous = {} on the {which} connection (below FULL: a power loss can lose acknowledged commits)",
                        match sync.as_str() {
                            "0" => "OFF",
                            "1" => "NORMAL",
                            other => other,
                        }
                    ));
                }
                let journal = read("journal_mode").await?;
                if !journal.eq_ignore_ascii_case("wal") {
                    risks.push(format!(
                        "SQLite journal_mode = {journal} on the {which} connection (expected WAL)"
                    ));
                }
            }
        } else {
            for (setting, bad) in [
                ("fsync", "off"),
                ("synchronous_commit", "off"),
                ("full_page_writes", "off"),
            ] {
                let value = pragma_pg(&self.db, setting).await?;
                if value.eq_ignore_ascii_case(bad) {
                    risks.push(format!(
                        "PostgreSQL {setting} = {value} (a crash can lose acknowledged commits)"
                    ));
                }
            }
        }
        Ok(risks)
    }

    /// Writes a consistent copy of a SQLite database to `path` (which must not exist) while
    /// others keep reading and writing: `VACUUM INTO` reads one snapshot. PostgreSQL is backed
    /// up with its own tools (`pg_dump`), so this refuses there.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), StoreError> {
        if self.backend() != DatabaseBackend::Sqlite {
            return Err(StoreError::Unsupported(
                "trm backup copies SQLite databases; back up PostgreSQL with pg_dump -Fc".into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Unsupported(format!(
                "{} already exists",
                path.display()
            )));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::Unsupported("the backup path is not valid UTF-8".into()))?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                "VACUUM INTO ?",
                [target.into()],
            ))
            .await?;
        Ok(())
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        self.db.ping().await.is_ok()
    }

    /// Closes the pools (on shutdown).
    pub async fn close(self) -> Result<(), StoreError> {
        if let Writer::Group(group) = &self.writer {
            // Whatever group is still gathering commits first.
            self.settled().await?;
            group.close().await?;
        }
        if let Writer::Pg(pg) = &self.writer {
            pg.close();
        }
        Ok(self.db.close().await?)
    }
}

/// A SQLite `PRAGMA`'s value, as text.
async fn pragma(conn: &DatabaseConnection, name: &str) -> Result<String, StoreError> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA {name}"),
        ))
        .await?;
    pragma_value(row, name)
}

/// The value a `PRAGMA` answered (`row`), as text: a number or a word.
fn pragma_value(row: Option<sea_orm::QueryResult>, name: &str) -> Result<String, StoreError> {
    let row = row.ok_or_else(|| StoreError::Corrupt(format!("PRAGMA {name} answered nothing")))?;
    Ok(row
        .try_get_by_index::<i64>(0)
        .map(|v| v.to_string())
        .or_else(|_| row.try_get_by_index::<String>(0))?)
}

/// A PostgreSQL setting's value, as `SHOW` gives it.
async fn pragma_pg(conn: &DatabaseConnection, name: &str) -> Result<String, StoreError> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT current_setting('{name}') AS v"),
        ))
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("setting {name} answered nothing")))?;
    Ok(row.try_get("", "v")?)
}

/// Whether SQLite refused with `SQLITE_BUSY` (5) or `SQLITE_LOCKED` (6), or one of their
/// extended codes.
fn is_sqlite_busy(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let (DbErr::Conn(RuntimeErr::SqlxError(err)) | DbErr::Exec(RuntimeErr::SqlxError(err))) = e
    else {
        return false;
    };
    match err.as_ref() {
        sqlx::Error::Database(d) => d
            .code()
            .and_then(|c| c.parse::<i64>().ok())
            .is_some_and(|c| matches!(c & 0xff, 5 | 6)),
        _ => false,
    }
}

/// Advisory lock keys (PostgreSQL) for work that instances must not do at the same time.
pub const LOCK_MIGRATIONS: i64 = 0x7472_6d00_0001;
/// See [`LOCK_MIGRATIONS`].
pub const LOCK_DEMO_SEED: i64 = 0x7472_6d00_0002;
/// See [`LOCK_MIGRATIONS`]: held by the transaction that gives waiting audit-log leaves their
/// positions, and by the one that signs a checkpoint, so that positions are gap-free and a
/// checkpoint covers what the log holds (`audit::sequence_pending`).
pub const LOCK_AUDIT_LOG: i64 = 0x7472_6d00_0003;

/// Holds a PostgreSQL advisory lock until the end of the transaction `conn` (no-op on SQLite,
/// where write transactions are already exclusive).
pub async fn lock_exclusively<C: ConnectionTrait>(conn: &C, key: i64) -> Result<(), StoreError> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.execute_raw(exclusive_lock(key)).await?;
    }
    Ok(())
}

/// The statement of [`lock_exclusively`] (PostgreSQL).
fn exclusive_lock(key: i64) -> Statement {
    Statement::from_string(
        DatabaseBackend::Postgres,
        format!("SELECT pg_advisory_xact_lock({key})"),
    )
}

/// Increments and returns a per-(country, year) counter in one statement (works on both engines).
pub(crate) async fn next_counter<C: ConnectionTrait>(
    conn: &C,
    country: &str,
    year: i32,
) -> Result<i64, StoreError> {
    use entities::case_reference_counter::Column;
    let table = entities::case_reference_counter::Entity;
    let insert = Query::insert()
        .into_table(table)
        .columns([Column::Country, Column::Year, Column::Last])
        .values([country.into(), year.into(), 1i64.into()])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([Column::Country, Column::Year])
                .value(Column::Last, Expr::col((table, Column::Last)).add(1i64))
                .to_owned(),
        )
        .returning_col(Column::Last)
        .to_owned();
    let row = conn
        .query_one_raw(conn.get_database_backend().build(&insert))
        .await?
        .ok_or_else(|| StoreError::Corrupt("counter upsert returned no row".into()))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Runs a plain SQL statement (used by tests and tooling).
pub async fn execute_sql<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<u64, StoreError> {
    let stmt = Statement::from_string(conn.get_database_backend(), sql.to_string());
    Ok(conn.execute_raw(stmt).await?.rows_affected())
}
