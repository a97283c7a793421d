//! The writing connection on SQLite through its C API (`rusqlite`), run on the writer's own
//! thread.
//!
//! Why not sqlx: its SQLite driver runs every statement on a thread of the connection's own and
//! sends the rows back over a channel, so each statement is two wake-ups of another thread, and
//! on this machine's virtual CPUs those hand-overs, not SQLite, were most of a transition's time
//! (`BENCHMARKS.md`). Here a statement runs where the member that sends it runs, as SQLite is
//! meant to be used: the writer holds the group's turn, nobody else touches the connection, and
//! a statement of a transition takes microseconds (the pages it touches are in the cache). What
//! waits for the disk is the commit, one `fsync` per group.
//!
//! A statement's text may hold several statements (`;`-separated, as the store's batched
//! writes send them, [`crate::store::batch`]); they run in order, each binding the next of the
//! anonymous parameters, and the rows of each that answers any come back in order. Values are
//! written and read back as sqlx writes and reads them ([`super::values`]), so that the reading
//! pool (sqlx) and this connection agree on every row. Read a row's columns by name: sea-orm's
//! row type keeps them by name, so by index they come in the order of their names, not of the
//! `SELECT` (index 0 of a one-column result is that column). Errors keep SQLite's extended result
//! code, so that a refused constraint and an environmental fault (a full disk, a read-only
//! file) are told apart as they are from sqlx's errors ([`crate::store::fault`]).

use super::values::{self, Unsupported};
use crate::store::columns::Kind;
use crate::store::error::Refusal;
use crate::store::{SqliteSync, StoreError};
use rusqlite::{Connection, OpenFlags};
use sea_orm::{DbErr, ExecResult, ProxyExecResult, ProxyRow, QueryResult, RuntimeErr, Statement};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Statements kept prepared: the writes of the hot paths are few (see the reading pool's).
const STATEMENTS_CACHED: usize = 64;

/// How many statements' result columns are remembered before the memory is cleared (`IN` lists
/// of every length make texts without end).
const COLUMNS_REMEMBERED: usize = 512;

/// The writing connection (see the module documentation).
#[derive(Debug)]
pub(in crate::store) struct Direct {
    /// `None` once closed.
    inner: Mutex<Option<Inner>>,
}

struct Inner {
    conn: Connection,
    /// Each statement's result columns: their names and how they are read back.
    columns: HashMap<String, Arc<[(String, Kind)]>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

/// What a statement's text did: the rows it answered and the rows it wrote.
pub(super) struct Ran {
    pub rows: Vec<QueryResult>,
    pub written: u64,
}

impl Direct {
    /// Opens `file` for writing with the pool's settings: WAL, `synchronous` as configured,
    /// foreign keys on. No busy timeout: SQLite would wait for a lock another connection holds
    /// on the calling thread, which may be the one that connection's holder needs to go on;
    /// the group's `BEGIN IMMEDIATE` waits for the write lock itself, asynchronously, and once
    /// it holds the lock no statement of the group waits for another (WAL).
    pub(in crate::store) fn open(file: &Path, sync: SqliteSync) -> Result<Direct, StoreError> {
        let conn = Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(e, true))?;
        conn.busy_timeout(Duration::ZERO)
            .map_err(|e| sql_error(e, true))?;
        let synchronous = match sync {
            SqliteSync::Off => "OFF",
            SqliteSync::Normal => "NORMAL",
            SqliteSync::Full => "FULL",
            SqliteSync::Extra => "EXTRA",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
             PRAGMA foreign_keys = ON;"
        ))
        .map_err(|e| sql_error(e, true))?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_CACHED);
        Ok(Direct {
            inner: Mutex::new(Some(Inner {
                conn,
                columns: HashMap::new(),
            })),
        })
    }

    fn inner(&self) -> Result<std::sync::MutexGuard<'_, Option<Inner>>, DbErr> {
        // Poisoned only by a panic inside SQLite's calls: the connection's state is unknown.
        self.inner
            .lock()
            .map_err(|_| DbErr::Conn(RuntimeErr::Internal("the writing connection failed".into())))
    }

    /// Closes the connection (a transaction left open is rolled back).
    pub(super) fn close(&self) -> Result<(), DbErr> {
        match self.inner()?.take() {
            Some(inner) => inner.conn.close().map_err(|(_, e)| sql_error(e, true)),
            None => Ok(()),
        }
    }

    /// Runs the statements of `stmt` in order (see the module documentation), in a span as
    /// sea-orm traces a statement (the telemetry names and times it, [`crate::telemetry`]).
    pub(super) fn run(&self, stmt: &Statement) -> Result<Ran, DbErr> {
        let span = crate::store::statement_span("sqlite", &stmt.sql);
        let ran = span.in_scope(|| self.run_untraced(stmt));
        span.record("otel.status_code", if ran.is_ok() { "OK" } else { "ERROR" });
        ran
    }

    fn run_untraced(&self, stmt: &Statement) -> Result<Ran, DbErr> {
        let mut inner = self.inner()?;
        let Some(Inner { conn, columns }) = &mut *inner else {
            return Err(closed());
        };
        let values: &[sea_orm::Value] = stmt.values.as_ref().map_or(&[], |v| &v.0);
        let mut next = 0;
        let mut ran = Ran {
            rows: Vec::new(),
            written: 0,
        };
        for sql in statements(&stmt.sql) {
            let mut prepared = conn.prepare_cached(sql).map_err(|e| sql_error(e, false))?;
            let wanted = prepared.parameter_count();
            let Some(bound) = values.get(next..next + wanted) else {
                return Err(DbErr::Custom(format!(
                    "a statement takes {wanted} values where {} are left",
                    values.len() - next
                )));
            };
            next += wanted;
            for (i, value) in bound.iter().enumerate() {
                prepared
                    .raw_bind_parameter(i + 1, values::to_sql(value).map_err(unsupported)?)
                    .map_err(|e| sql_error(e, false))?;
            }
            let read_only = prepared.readonly();
            let answers = if prepared.column_count() == 0 {
                None
            } else {
                Some(match columns.get(sql) {
                    Some(known) => known.clone(),
                    None => {
                        if columns.len() >= COLUMNS_REMEMBERED {
                            columns.clear();
                        }
                        let described = describe(conn, sql, &prepared);
                        columns.insert(sql.to_string(), described.clone());
                        described
                    }
                })
            };
            let mut rows = prepared.raw_query();
            while let Some(row) = rows.next().map_err(|e| sql_error(e, false))? {
                let Some(answers) = &answers else { continue };
                let mut values = BTreeMap::new();
                for (i, (name, kind)) in answers.iter().enumerate() {
                    let value = row.get_ref(i).map_err(|e| sql_error(e, false))?;
                    // Two columns of one name: the first is the one a name finds (as in sqlx).
                    if !values.contains_key(name) {
                        values.insert(
                            name.clone(),
                            values::from_sql(*kind, value).map_err(unsupported)?,
                        );
                    }
                }
                ran.rows.push(ProxyRow::new(values).into());
            }
            drop(rows);
            if !read_only {
                ran.written += conn.changes();
            }
        }
        if next != values.len() {
            return Err(DbErr::Custom(format!(
                "{} values were given for {next} parameters",
                values.len()
            )));
        }
        Ok(ran)
    }

    /// Runs a statement's text without values.
    pub(super) fn run_text(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let ran = self.run(&Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            sql,
        ))?;
        Ok(written(ran.written))
    }

    /// Whether a transaction is open on the connection.
    pub(super) fn in_transaction(&self) -> bool {
        self.inner()
            .is_ok_and(|inner| inner.as_ref().is_some_and(|i| !i.conn.is_autocommit()))
    }
}

/// How many rows a statement wrote, as sea-orm reports it.
pub(super) fn written(rows: u64) -> ExecResult {
    ProxyExecResult::new(0, rows).into()
}

/// The result columns of a statement: their names, and the type each is read back as. A
/// column read from a table has the type its entity declares (else its declared type in the
/// schema); a column a write returns (`RETURNING`), of which SQLite reports no origin, is the
/// written table's column of that name; an expression is read by its value's storage class.
fn describe(
    conn: &Connection,
    sql: &str,
    prepared: &rusqlite::CachedStatement<'_>,
) -> Arc<[(String, Kind)]> {
    let declared = prepared.columns();
    let written = written_table(sql);
    let mut schema: Option<HashMap<String, String>> = None;
    prepared
        .columns_with_metadata()
        .iter()
        .zip(declared)
        .map(|(meta, decl)| {
            let name = meta.name();
            let from_origin = || {
                meta.table_name()
                    .zip(meta.origin_name())
                    .and_then(|(table, column)| Kind::declared_by_entity(table, column))
                    .or_else(|| decl.decl_type().map(Kind::declared))
            };
            let from_written = |schema: &mut Option<HashMap<String, String>>| {
                let table = written?;
                Kind::declared_by_entity(table, name).or_else(|| {
                    schema
                        .get_or_insert_with(|| declared_columns(conn, table))
                        .get(name)
                        .map(|decl| Kind::declared(decl))
                })
            };
            let kind = from_origin()
                .or_else(|| from_written(&mut schema))
                .unwrap_or(Kind::Dynamic);
            (name.to_string(), kind)
        })
        .collect()
}

/// The table a write statement writes (`INSERT INTO t`, `UPDATE t`, `DELETE FROM t`), unquoted.
fn written_table(sql: &str) -> Option<&str> {
    let mut words = sql.split_whitespace();
    let first = words.next()?.to_ascii_uppercase();
    let mut word = words.next()?;
    if word.eq_ignore_ascii_case("OR") {
        words.next()?;
        word = words.next()?;
    }
    let table = match first.as_str() {
        "INSERT" | "REPLACE" if word.eq_ignore_ascii_case("INTO") => words.next()?,
        "DELETE" if word.eq_ignore_ascii_case("FROM") => words.next()?,
        "UPDATE" => word,
        _ => return None,
    };
    let table = table.split('(').next()?;
    Some(table.trim_matches(|c| c == '"' || c == '`' || c == '[' || c == ']'))
}

/// A table's columns and their declared types, as the schema has them.
fn declared_columns(conn: &Connection, table: &str) -> HashMap<String, String> {
    let read = || -> rusqlite::Result<HashMap<String, String>> {
        let mut info = conn.prepare("SELECT name, type FROM pragma_table_xinfo(?1)")?;
        let rows = info.query_map([table], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    };
    read().unwrap_or_default()
}

/// The statements of a text, in order: split at each `;` outside quotes and comments, the
/// empty ones left out.
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    let bytes = sql.as_bytes();
    let mut pieces = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                pieces.push(&sql[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    pieces.push(&sql[start.min(sql.len())..]);
    pieces.into_iter().filter(|s| !s.trim().is_empty())
}

fn closed() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the writing connection is closed".into(),
    ))
}

fn unsupported(e: Unsupported) -> DbErr {
    DbErr::Type(e.0)
}

/// An error of SQLite's, as sea-orm carries sqlx's: with SQLite's extended result code, so
/// that [`crate::store::fault`] and the constraint check read it as they read sqlx's.
pub(super) fn sql_error(e: rusqlite::Error, connecting: bool) -> DbErr {
    let runtime = match e {
        rusqlite::Error::SqliteFailure(failure, message) => Refusal {
            engine: sea_orm::DatabaseBackend::Sqlite,
            code: failure.extended_code.to_string(),
            message: message.unwrap_or_else(|| failure.to_string()),
            constraint: None,
        }
        .runtime(),
        other => return DbErr::Custom(format!("sqlite: {other}")),
    };
    if connecting {
        DbErr::Conn(runtime)
    } else {
        DbErr::Exec(runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::statements;

    #[test]
    fn the_table_a_write_writes() {
        use super::written_table;
        assert_eq!(
            written_table(r#"INSERT INTO "cases" ("id") VALUES (?) RETURNING "id""#),
            Some("cases")
        );
        assert_eq!(
            written_table("INSERT OR IGNORE INTO t(a) VALUES (1)"),
            Some("t")
        );
        assert_eq!(
            written_table(r#"UPDATE "case_tracks" SET x = 1"#),
            Some("case_tracks")
        );
        assert_eq!(written_table("DELETE FROM t WHERE 1"), Some("t"));
        assert_eq!(written_table("SELECT 1"), None);
    }

    #[test]
    fn a_text_splits_at_semicolons_outside_quotes_and_comments() {
        let sql = "INSERT INTO t VALUES ('a;b', \"c;\");\nSELECT 1 -- x;y\n; /* ; */ SELECT 2;  ";
        let pieces: Vec<&str> = statements(sql).map(str::trim).collect();
        assert_eq!(
            pieces,
            [
                "INSERT INTO t VALUES ('a;b', \"c;\")",
                "SELECT 1 -- x;y",
                "/* ; */ SELECT 2"
            ]
        );
    }
}
