//! Write transactions on PostgreSQL through `tokio-postgres`, beside the reading pool (sqlx).
//!
//! Why not sqlx here: measured on the benchmark's transaction (`BENCHMARKS.md`), the same
//! statements through sqlx and sea-orm took about twice the CPU of a prepared-statement client,
//! on the service's side and on the database's, and on a machine where both share the cores
//! that is the transitions' limit. These connections keep every statement prepared, declare
//! each parameter's type as sqlx does (so a statement means the same on either), read a
//! column back as the value of its PostgreSQL type ([`values`]), and cut the round trips a
//! transaction needs: its `BEGIN` goes out with its first statement, and a connection is not
//! pinged when handed out or given back (one whose server went away is closed, which the
//! connection's task sees; one that fails a statement is not reused).
//!
//! Errors keep PostgreSQL's SQLSTATE and message, wrapped as sqlx's database errors, so that a
//! refused constraint and an environmental fault are told apart as they are for the pool's
//! ([`crate::store::fault`]).

mod values;

use crate::store::StoreError;
use crate::store::error::Refusal;
use crate::store::pipeline::{Answer, Piped};
use sea_orm::{
    ConnAcquireErr, DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult, RuntimeErr,
    Statement,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls};
use tracing::Instrument;
use values::{Param, Unsupported};

/// How long a transaction waits for a connection (a free one, or a new one while the server
/// refuses) before the request fails as the database being unreachable; the reading pool's.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Statements each connection keeps prepared before it forgets them all (`IN` lists of every
/// length make texts without end; the writes of the hot paths are few).
const STATEMENTS_PREPARED: usize = 256;

/// The writing connections (see the module documentation).
pub(in crate::store) struct PgWriter {
    config: Config,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for PgWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgWriter").finish_non_exhaustive()
    }
}

/// One connection and the statements prepared on it.
struct Conn {
    client: Client,
    /// Only its transaction's holder uses it, one statement at a time (a lock because the
    /// connection methods take `&self`).
    prepared: Mutex<Prepared>,
}

/// Statements prepared on a connection: by text, then by the parameters' types.
#[derive(Default)]
struct Prepared {
    by_text: HashMap<String, Vec<(Vec<Type>, tokio_postgres::Statement)>>,
    count: usize,
}

impl Conn {
    fn prepared(&self) -> std::sync::MutexGuard<'_, Prepared> {
        // Poisoned only by a panic while inserting: at worst a statement is prepared again.
        self.prepared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl PgWriter {
    /// The writing connections for `url`, at most `max` at once; `None` when they could be
    /// less protected than the reading pool's ([`without_tls`]) or the URL has an option this
    /// client does not know, and the reading pool writes instead. Connects lazily.
    pub(in crate::store) fn new(url: &str, max: u32) -> Option<PgWriter> {
        let mut config: Config = url.parse().ok()?;
        if !without_tls(&config) {
            return None;
        }
        // As sqlx sets it on its connections: times as text come out in UTC on both.
        let options = match config.get_options() {
            Some(given) => format!("{given} -c TimeZone=UTC"),
            None => "-c TimeZone=UTC".to_string(),
        };
        config.options(options);
        if config.get_application_name().is_none() {
            config.application_name("trm-writer");
        }
        config.connect_timeout(ACQUIRE_TIMEOUT);
        Some(PgWriter {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(usize::try_from(max.max(1)).unwrap_or(1))),
        })
    }

    /// Closes the idle connections and refuses new transactions (on shutdown); one still open
    /// ends as it would have, and its connection is closed with it.
    pub(in crate::store) fn close(&self) {
        self.permits.close();
        self.idle().clear();
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Conn>> {
        // Poisoned only by a panic while pushing or popping: the list is whole either way.
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a transaction; its `BEGIN` goes out with its first statement.
    pub(in crate::store) async fn begin(self: &Arc<Self>) -> Result<PgTxn, DbErr> {
        let deadline = Instant::now() + ACQUIRE_TIMEOUT;
        let permit = tokio::time::timeout_at(deadline.into(), self.permits.clone().acquire_owned())
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
        let idle = loop {
            match self.idle().pop() {
                Some(conn) if conn.client.is_closed() => continue,
                other => break other,
            }
        };
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect(deadline).await?,
        };
        Ok(PgTxn {
            writer: self.clone(),
            conn: Some(conn),
            _permit: permit,
            begun: AtomicBool::new(false),
            failed: AtomicBool::new(false),
        })
    }

    /// A new connection, retried until `deadline` while the server refuses (restarting, say).
    async fn connect(&self, deadline: Instant) -> Result<Conn, DbErr> {
        let mut pause = Duration::from_millis(20);
        loop {
            let attempt =
                tokio::time::timeout_at(deadline.into(), self.config.connect(NoTls)).await;
            match attempt {
                Ok(Ok((client, connection))) => {
                    tokio::spawn(async move {
                        // It ends when the client is dropped or the server goes away; the client
                        // then reports itself closed and is not reused.
                        let _ = connection.await;
                    });
                    return Ok(Conn {
                        client,
                        prepared: Mutex::default(),
                    });
                }
                Ok(Err(e)) if Instant::now() + pause < deadline => {
                    tracing::debug!(error = %e, "a writing connection was refused; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                Ok(Err(e)) => return Err(DbErr::Conn(runtime(e))),
                Err(_) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
            }
        }
    }
}

/// Whether connections without TLS (this client is built without it) lose nothing against the
/// reading pool's, which use TLS where the server offers it: the URL says `sslmode=disable`, or
/// it leaves TLS optional (`prefer`, the default) and the server is on this machine (a Unix
/// socket, a loopback address). A remote server with TLS optional keeps the pool for writes,
/// so that what a change carries is never sent in the clear where it was not before.
fn without_tls(config: &Config) -> bool {
    use tokio_postgres::config::Host;
    let local = |host: &Host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    };
    match config.get_ssl_mode() {
        SslMode::Disable => true,
        SslMode::Prefer => {
            config.get_hosts().iter().all(local)
                && config.get_hostaddrs().iter().all(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// A write transaction on one of the writing connections ([`PgWriter::begin`]). Dropped
/// without [`PgTxn::commit`] or [`PgTxn::rollback`], its connection is closed, which rolls it
/// back on the server.
pub(in crate::store) struct PgTxn {
    writer: Arc<PgWriter>,
    /// `None` once committed or rolled back.
    conn: Option<Conn>,
    _permit: OwnedSemaphorePermit,
    /// Whether `BEGIN` was sent.
    begun: AtomicBool,
    /// Whether a statement failed for a reason other than the database's refusal (the
    /// connection's state is unknown: it is not reused).
    failed: AtomicBool,
}

impl std::fmt::Debug for PgTxn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTxn").finish_non_exhaustive()
    }
}

/// What one statement did: its rows and how many rows it wrote.
struct Ran {
    rows: Vec<tokio_postgres::Row>,
    written: u64,
}

impl PgTxn {
    fn conn(&self) -> Result<&Conn, DbErr> {
        self.conn.as_ref().ok_or_else(|| {
            DbErr::Conn(RuntimeErr::Internal(
                "the transaction has ended".to_string(),
            ))
        })
    }

    /// The statement prepared for `stmt`'s text and its values' types (prepared now if new).
    async fn prepared(&self, stmt: &Statement) -> Result<tokio_postgres::Statement, DbErr> {
        let values: &[sea_orm::Value] = stmt.values.as_ref().map_or(&[], |v| &v.0);
        let types = values
            .iter()
            .map(values::declared)
            .collect::<Result<Vec<_>, _>>()
            .map_err(unsupported)?;
        let conn = self.conn()?;
        if let Some(known) = conn
            .prepared()
            .by_text
            .get(&stmt.sql)
            .and_then(|all| all.iter().find(|(t, _)| *t == types))
        {
            return Ok(known.1.clone());
        }
        let prepared = conn
            .client
            .prepare_typed(&stmt.sql, &types)
            .await
            .map_err(|e| self.error(e))?;
        let mut known = conn.prepared();
        if known.count >= STATEMENTS_PREPARED {
            *known = Prepared::default();
        }
        known.count += 1;
        known
            .by_text
            .entry(stmt.sql.clone())
            .or_default()
            .push((types, prepared.clone()));
        Ok(prepared)
    }

    /// Runs `stmt`, sending `BEGIN` before it if it is the transaction's first.
    async fn run(&self, stmt: &Statement, wants_rows: bool) -> Result<Ran, DbErr> {
        self.send(&[(stmt, wants_rows)])
            .await?
            .pop()
            .ok_or_else(|| DbErr::Custom("a statement sent answered nothing".into()))
    }

    /// Runs `statements` in one round trip (see [`crate::store::pipeline`]).
    pub(in crate::store) async fn pipeline(
        &self,
        statements: Vec<Piped>,
    ) -> Result<Vec<Answer>, DbErr> {
        let sent: Vec<(&Statement, bool)> = statements
            .iter()
            .map(|piped| match piped {
                Piped::Rows(stmt) => (stmt, true),
                Piped::Count(stmt) => (stmt, false),
            })
            .collect();
        let ran = self.send(&sent).await?;
        let mut answers = Vec::with_capacity(ran.len());
        for ((_, wants_rows), ran) in sent.into_iter().zip(ran) {
            answers.push(if wants_rows {
                Answer::Rows(
                    ran.rows
                        .iter()
                        .map(query_result)
                        .collect::<Result<_, _>>()?,
                )
            } else {
                Answer::Count(ran.written)
            });
        }
        Ok(answers)
    }

    /// Sends `statements` (each with whether its rows are wanted, else its count) without
    /// waiting for an answer between them, `BEGIN` before them if they are the transaction's
    /// first: one round trip for all, the server running them in the order sent. Each is
    /// prepared first (a text new to the connection costs a round trip of its own, once). The
    /// first failure is the error (the ones after it fail as the transaction is aborted).
    async fn send(&self, statements: &[(&Statement, bool)]) -> Result<Vec<Ran>, DbErr> {
        let mut sent = Vec::with_capacity(statements.len());
        for &(stmt, wants_rows) in statements {
            let values: &[sea_orm::Value] = stmt.values.as_ref().map_or(&[], |v| &v.0);
            let params: Vec<Param<'_>> = values.iter().map(Param).collect();
            sent.push((stmt, wants_rows, self.prepared(stmt).await?, params));
        }
        let client = &self.conn()?.client;
        let all =
            futures::future::join_all(sent.iter().map(|(stmt, wants_rows, prepared, params)| {
                let params: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                let span = crate::store::statement_span("postgresql", &stmt.sql);
                let traced = span.clone();
                async move {
                    let ran = if *wants_rows {
                        client
                            .query(prepared, &params)
                            .await
                            .map(|rows| Ran { rows, written: 0 })
                    } else {
                        client.execute(prepared, &params).await.map(|written| Ran {
                            rows: Vec::new(),
                            written,
                        })
                    };
                    span.record("otel.status_code", if ran.is_ok() { "OK" } else { "ERROR" });
                    ran
                }
                .instrument(traced)
            }));
        // Each goes out at its first poll, which `join!` and `join_all` give in order. (`BEGIN`
        // on a connection that is idle, as every one handed out is, fails only if the
        // connection does, and then so do the statements.)
        let ran = if self.begun.swap(true, Ordering::AcqRel) {
            all.await
        } else {
            let (begun, ran) = tokio::join!(client.batch_execute("BEGIN"), all);
            begun.map_err(|e| self.error(e))?;
            ran
        };
        ran.into_iter()
            .map(|ran| ran.map_err(|e| self.error(e)))
            .collect()
    }

    /// A failure of the connection's own (not the database refusing a statement) leaves it in
    /// a state nobody knows: it is closed rather than reused.
    fn error(&self, e: tokio_postgres::Error) -> DbErr {
        if e.as_db_error().is_none() {
            self.failed.store(true, Ordering::Release);
        }
        DbErr::Exec(runtime(e))
    }

    pub(in crate::store) async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let ran = self.run(&stmt, false).await?;
        Ok(ProxyExecResult::new(0, ran.written).into())
    }

    /// Runs a statement's text without values. Prepared like the others (nothing in a write
    /// transaction sends text of several statements on PostgreSQL; such a text is refused with
    /// PostgreSQL's "cannot insert multiple commands into a prepared statement").
    pub(in crate::store) async fn execute_unprepared(
        &self,
        sql: &str,
    ) -> Result<ExecResult, DbErr> {
        self.execute(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql,
        ))
        .await
    }

    pub(in crate::store) async fn query_all(
        &self,
        stmt: Statement,
    ) -> Result<Vec<QueryResult>, DbErr> {
        let ran = self.run(&stmt, true).await?;
        ran.rows.iter().map(query_result).collect()
    }

    pub(in crate::store) async fn query_one(
        &self,
        stmt: Statement,
    ) -> Result<Option<QueryResult>, DbErr> {
        let ran = self.run(&stmt, true).await?;
        ran.rows.first().map(query_result).transpose()
    }

    /// Commits (nothing to send if nothing was).
    pub(in crate::store) async fn commit(mut self) -> Result<(), StoreError> {
        self.end("COMMIT").await
    }

    /// Rolls back.
    pub(in crate::store) async fn rollback(mut self) -> Result<(), StoreError> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, how: &str) -> Result<(), StoreError> {
        let Some(conn) = self.conn.take() else {
            return Ok(());
        };
        if self.begun.load(Ordering::Acquire) {
            let span = crate::store::statement_span("postgresql", how);
            let ended = conn
                .client
                .batch_execute(how)
                .instrument(span.clone())
                .await;
            span.record(
                "otel.status_code",
                if ended.is_ok() { "OK" } else { "ERROR" },
            );
            if let Err(e) = ended {
                // Whether a failed `COMMIT` committed is unknown to us: the connection goes.
                return Err(StoreError::Database(DbErr::Exec(runtime(e))));
            }
        }
        if !self.failed.load(Ordering::Acquire)
            && !conn.client.is_closed()
            && !self.writer.permits.is_closed()
        {
            self.writer.idle().push(conn);
        }
        Ok(())
    }
}

impl Drop for PgTxn {
    fn drop(&mut self) {
        // Ended without a word: a connection with a transaction open is closed with the client
        // (the server rolls it back); one that never began is as good as new.
        if let Some(conn) = self.conn.take()
            && !self.begun.load(Ordering::Acquire)
            && !self.failed.load(Ordering::Acquire)
            && !conn.client.is_closed()
            && !self.writer.permits.is_closed()
        {
            self.writer.idle().push(conn);
        }
    }
}

/// A row as sea-orm reads it (by column name; the first of two columns of one name, as in
/// sqlx).
fn query_result(row: &tokio_postgres::Row) -> Result<QueryResult, DbErr> {
    let mut values = BTreeMap::new();
    for (i, column) in row.columns().iter().enumerate() {
        if !values.contains_key(column.name()) {
            values.insert(
                column.name().to_string(),
                values::column(row, i).map_err(unsupported)?,
            );
        }
    }
    Ok(ProxyRow::new(values).into())
}

fn unsupported(e: Unsupported) -> DbErr {
    DbErr::Type(e.0)
}

/// `e` as sqlx would report it: the database's refusal with its SQLSTATE and message, else the
/// connection's failure as an I/O error.
fn runtime(e: tokio_postgres::Error) -> RuntimeErr {
    match e.as_db_error() {
        Some(db) => Refusal {
            engine: sea_orm::DatabaseBackend::Postgres,
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            constraint: db.constraint().map(str::to_string),
        }
        .runtime(),
        None => RuntimeErr::SqlxError(Arc::new(sea_orm::sqlx::Error::Io(std::io::Error::other(
            e.to_string(),
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clear(url: &str) -> bool {
        url.parse::<Config>().is_ok_and(|c| without_tls(&c))
    }

    #[test]
    fn writes_go_without_tls_only_where_the_pool_would_not_use_it_either() {
        assert!(clear("postgres://postgres@127.0.0.1:5432/trm"));
        assert!(clear("postgres://trm@localhost/trm"));
        assert!(clear("postgres://trm@[::1]:5432/trm"));
        assert!(clear("postgres://trm@db.example.org/trm?sslmode=disable"));
        // A remote server that may offer TLS, or a URL that requires it: the pool writes.
        assert!(!clear("postgres://trm@db.example.org/trm"));
        assert!(!clear("postgres://trm@10.0.0.5/trm?sslmode=prefer"));
        assert!(!clear("postgres://trm@127.0.0.1/trm?sslmode=require"));
        assert!(!clear("postgres://trm@localhost/trm?sslmode=verify-full"));
    }
}
