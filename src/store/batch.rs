//! The rows a change writes, sent together when it commits.
//!
//! A change to a case writes its own rows (the case row, its track and timer rows, its events
//! and their log leaves, the inbox notices, the idempotency record) after everything it decided
//! was read. Each statement sent on its own costs a round trip: on SQLite, a hand-over to the
//! driver's thread and back, which measured as most of a transition's time (`BENCHMARKS.md`).
//! [`Writes`] gathers them; on SQLite they run as one multi-statement execution (SQLite runs the
//! statements in order, binding the anonymous `?` parameters of each in turn). On PostgreSQL a
//! statement takes one parameter list, so consecutive writes that cannot see each other's
//! effects (different tables, or new rows of one table) run as one statement of data-modifying
//! `WITH` queries ([`pg_groups`]); a write that touches a table an earlier one of its group
//! wrote starts a new statement, so that every write sees the ones before it, as when they ran
//! one by one. Either way they run in the caller's transaction, in the order they were added,
//! and the first failure stops the rest and is the caller's error.
//!
//! Each statement says how many rows it must write at least; fewer in all is reported as a
//! corrupt store (a row the change holds locked was not there), so that such a change rolls
//! back rather than commit half of itself.

use super::StoreError;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value, Values};

/// The writes of one change, in order (see the module documentation).
#[derive(Debug)]
pub struct Writes {
    backend: DatabaseBackend,
    statements: Vec<Statement>,
    /// Rows the statements must write at least, together.
    rows: u64,
    /// Queries run for their effect (`pg_notify`) after the writes, with them on PostgreSQL.
    effects: Vec<Statement>,
}

impl Writes {
    /// No writes yet, for a transaction on `backend`.
    pub fn new(backend: DatabaseBackend) -> Writes {
        Writes {
            backend,
            statements: Vec::new(),
            rows: 0,
            effects: Vec::new(),
        }
    }

    /// The database the statements are built for.
    pub fn backend(&self) -> DatabaseBackend {
        self.backend
    }

    /// Adds a statement that writes exactly one row.
    pub fn one(&mut self, statement: Statement) {
        self.rows += 1;
        self.statements.push(statement);
    }

    /// Adds a statement that writes any number of rows.
    pub fn any(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// Adds a query run for its effect, which writes no row (`SELECT pg_notify(…)`); it runs
    /// after the writes.
    pub fn effect(&mut self, query: Statement) {
        self.effects.push(query);
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.effects.is_empty()
    }

    /// Runs every statement in `conn`, in order, then the queries `reads` (as [`query_parts`]
    /// takes them) in the same round trip on SQLite: what they read includes these writes.
    pub async fn run_then_read<C: ConnectionTrait>(
        self,
        conn: &C,
        reads: Vec<Statement>,
    ) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
        let n = reads.len();
        if self.backend != DatabaseBackend::Sqlite
            || !self
                .statements
                .iter()
                .chain(&reads)
                .all(anonymous_parameters)
        {
            self.run(conn).await?;
            return query_parts(conn, reads).await;
        }
        // The rows written, counted by the connection's change counter around the writes
        // (a query answers rows, not counts).
        let count = |part: usize| {
            Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                format!("SELECT total_changes() AS trm_changes, ? AS {PART}"),
                [Value::from(part as i64)],
            )
        };
        let (rows, effects) = (self.rows, self.effects);
        let mut statements = vec![count(n)];
        statements.extend(self.statements);
        statements.push(count(n + 1));
        statements.extend(reads);
        let mut parts: Vec<Vec<sea_orm::QueryResult>> = (0..n).map(|_| Vec::new()).collect();
        let mut changes = Vec::new();
        for row in conn.query_all_raw(joined(statements)).await? {
            let part: i64 = row.try_get("", PART)?;
            match usize::try_from(part) {
                Ok(i) if i < n => parts[i].push(row),
                Ok(i) if i <= n + 1 => changes.push(row.try_get::<i64>("", "trm_changes")?),
                _ => return Err(StoreError::Corrupt(format!("a row of no query ({part})"))),
            }
        }
        let written = match changes[..] {
            [before, after] => u64::try_from(after - before).unwrap_or_default(),
            _ => {
                return Err(StoreError::Corrupt(
                    "a change's writes were not counted".into(),
                ));
            }
        };
        if written < rows {
            return Err(too_few(written, rows));
        }
        for query in effects {
            conn.query_all_raw(query).await?;
        }
        Ok(parts)
    }

    /// Runs every statement in `conn`, in order; nothing to do when there is none.
    pub async fn run<C: ConnectionTrait>(self, conn: &C) -> Result<(), StoreError> {
        let mut written = 0;
        if self.backend == DatabaseBackend::Postgres {
            let groups = pg_groups(
                self.statements
                    .into_iter()
                    .map(|s| (s, true))
                    .chain(self.effects.into_iter().map(|s| (s, false))),
            );
            for group in groups {
                written += group.run(conn).await?;
            }
        } else {
            if self.statements.len() > 1 && self.statements.iter().all(anonymous_parameters) {
                written += conn
                    .execute_raw(joined(self.statements))
                    .await?
                    .rows_affected();
            } else {
                for statement in self.statements {
                    written += conn.execute_raw(statement).await?.rows_affected();
                }
            }
            for query in self.effects {
                conn.query_all_raw(query).await?;
            }
        }
        if written < self.rows {
            return Err(too_few(written, self.rows));
        }
        Ok(())
    }
}

/// Statements sent as one on PostgreSQL (see [`pg_groups`]).
enum Group {
    /// A statement on its own; whether its rows count as written.
    Alone(Statement, bool),
    /// Several as one statement of `WITH` queries answering, per query, how many rows it
    /// returned (column `trm_w{i}`); which of them count as written.
    Joined(Statement, Vec<bool>),
}

impl Group {
    /// Runs the group; answers the rows it wrote (of the statements that count).
    async fn run<C: ConnectionTrait>(self, conn: &C) -> Result<u64, StoreError> {
        match self {
            Group::Alone(statement, true) => Ok(conn.execute_raw(statement).await?.rows_affected()),
            Group::Alone(query, false) => {
                conn.query_all_raw(query).await?;
                Ok(0)
            }
            Group::Joined(statement, counted) => {
                let row = conn.query_one_raw(statement).await?.ok_or_else(|| {
                    StoreError::Corrupt("a change's joined writes answered nothing".into())
                })?;
                let mut written = 0;
                for (i, counts) in counted.iter().enumerate() {
                    let n: i64 = row.try_get("", &format!("trm_w{i}"))?;
                    if *counts {
                        written += u64::try_from(n).unwrap_or_default();
                    }
                }
                Ok(written)
            }
        }
    }
}

/// What a PostgreSQL statement does, when it can run as a `WITH` query beside others.
#[derive(Clone, Copy, PartialEq)]
enum PgWrite<'a> {
    /// `INSERT INTO table (…) VALUES (…)`: new rows only.
    Insert(&'a str),
    /// Any other write of `table` (`UPDATE`, `DELETE`, an upsert, an insert from a query).
    Other(&'a str),
    /// `SELECT f(…)` run for its effect.
    Effect,
}

/// How statement `s` may join others on PostgreSQL: only a single write (or `SELECT f(…)`) with
/// no literal text, no `WITH` or `RETURNING` of its own, and parameters `$1…$n` for its `n`
/// values, so that its text can be moved into a `WITH` query and its parameters renumbered.
fn pg_write(s: &Statement) -> Option<PgWrite<'_>> {
    let sql = s.sql.as_str();
    let upper = sql.to_ascii_uppercase();
    if sql.contains(['\'', ';'])
        || upper.contains("RETURNING")
        || upper.contains("WITH ")
        || !numbered_parameters(s)
    {
        return None;
    }
    if let Some(rest) = sql.strip_prefix("INSERT INTO ") {
        let table = table_name(rest)?;
        let plain = upper.contains(" VALUES ")
            && !upper.contains(" ON CONFLICT")
            && !upper.contains("SELECT");
        return Some(if plain {
            PgWrite::Insert(table)
        } else {
            PgWrite::Other(table)
        });
    }
    if let Some(rest) = sql
        .strip_prefix("UPDATE ")
        .or_else(|| sql.strip_prefix("DELETE FROM "))
    {
        return table_name(rest).map(PgWrite::Other);
    }
    let call = sql.strip_prefix("SELECT ")?;
    let open = call.find('(')?;
    (open > 0
        && call[..open]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !upper.contains(" FROM "))
    .then_some(PgWrite::Effect)
}

/// The table a write names first (`"cases" SET …` → `cases`).
fn table_name(rest: &str) -> Option<&str> {
    let end = rest.find(|c: char| c.is_whitespace() || c == '(')?;
    Some(rest[..end].trim_matches('"')).filter(|t| !t.is_empty())
}

/// Whether the parameters of `s` are `$1…$n` for its `n` values (each `$` followed by a number
/// in that range).
fn numbered_parameters(s: &Statement) -> bool {
    let n = s.values.as_ref().map_or(0, |v| v.0.len());
    let sql = s.sql.as_bytes();
    sql.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'$')
        .all(|(i, _)| {
            let digits: String = sql[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .map(|b| char::from(*b))
                .collect();
            digits.parse::<usize>().is_ok_and(|k| (1..=n).contains(&k))
        })
}

/// `sql` with every parameter `$k` renumbered `$(k + offset)`.
fn renumbered(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        match rest[..len].parse::<usize>() {
            Ok(k) => out.push_str(&(k + offset).to_string()),
            Err(_) => out.push_str(&rest[..len]),
        }
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// Whether `sql` names `table` (as a whole word, quoted or not).
fn names(sql: &str, table: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    sql.match_indices(table).any(|(at, _)| {
        !word(sql[..at].chars().next_back()) && !word(sql[at + table.len()..].chars().next())
    })
}

/// Values one joined statement may carry at most (PostgreSQL takes 65,535 parameters).
const PG_MAX_VALUES: usize = 30_000;

/// PostgreSQL: consecutive statements (each with whether its rows count as written) as few
/// statements as keep their meaning. A statement joins the group before it when it can
/// ([`pg_write`]) and names no table a statement of the group writes, unless both only insert
/// new rows into it: statements of one group run on one snapshot and do not see each other's
/// rows, where one by one each saw the writes before it. (Foreign keys are checked at the end of
/// the whole statement, so an event inserted beside its case's new row is checked against it.)
fn pg_groups(statements: impl IntoIterator<Item = (Statement, bool)>) -> Vec<Group> {
    let mut out = Vec::new();
    let mut group: Vec<(Statement, bool)> = Vec::new();
    let values = |s: &Statement| s.values.as_ref().map_or(0, |v| v.0.len());
    for (statement, counts) in statements {
        let room = group.iter().map(|(s, _)| values(s)).sum::<usize>() + values(&statement)
            <= PG_MAX_VALUES;
        let joins = room
            && pg_write(&statement).is_some_and(|this| {
                group.iter().all(|(earlier, _)| match pg_write(earlier) {
                    Some(PgWrite::Effect) => true,
                    Some(PgWrite::Insert(table)) => {
                        this == PgWrite::Insert(table) || !names(&statement.sql, table)
                    }
                    Some(PgWrite::Other(table)) => !names(&statement.sql, table),
                    None => false,
                })
            });
        if !joins {
            out.extend(pg_group(std::mem::take(&mut group)));
        }
        group.push((statement, counts));
    }
    out.extend(pg_group(group));
    out
}

/// One group as it runs: a statement alone as it is; several as one `WITH` statement.
fn pg_group(mut group: Vec<(Statement, bool)>) -> Option<Group> {
    if group.len() <= 1 {
        return group.pop().map(|(s, counts)| Group::Alone(s, counts));
    }
    let mut queries = Vec::new();
    let mut answers = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut counted = Vec::new();
    for (i, (statement, counts)) in group.into_iter().enumerate() {
        let returning = if pg_write(&statement) == Some(PgWrite::Effect) {
            ""
        } else {
            " RETURNING 1"
        };
        queries.push(format!(
            "trm_w{i} AS ({}{returning})",
            renumbered(&statement.sql, values.len())
        ));
        answers.push(format!("(SELECT count(*) FROM trm_w{i}) AS trm_w{i}"));
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
        counted.push(counts);
    }
    let sql = format!("WITH {} SELECT {}", queries.join(", "), answers.join(", "));
    Some(Group::Joined(
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values),
        counted,
    ))
}

fn too_few(written: u64, rows: u64) -> StoreError {
    StoreError::Corrupt(format!(
        "a change wrote {written} rows where it must write at least {rows}: a row it holds \
         locked is missing"
    ))
}

/// Whether every parameter of `s` is an anonymous `?` (bound in order), so that it can run
/// joined to others: a numbered one (`?1`, `$1`) would name a value of the joined list.
fn anonymous_parameters(s: &Statement) -> bool {
    let sql = s.sql.as_bytes();
    !sql.windows(2).any(|w| {
        (w[0] == b'?' || w[0] == b'$' || w[0] == b':' || w[0] == b'@') && w[1].is_ascii_digit()
    })
}

/// The statements as one SQLite execution: their texts in order, their values in order.
fn joined(statements: Vec<Statement>) -> Statement {
    let mut sql = String::new();
    let mut values: Vec<Value> = Vec::new();
    for s in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&s.sql);
        if let Some(Values(v)) = s.values {
            values.extend(v);
        }
    }
    Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, values)
}

/// The column that says which of the statements given to [`query_parts`] a row answers.
pub const PART: &str = "trm_part";

/// Runs the queries `statements` (each selecting its index in the list as its [`PART`] column)
/// and answers their rows, one list per query, in order: on SQLite in one round trip, elsewhere
/// one after the other.
pub async fn query_parts<C: ConnectionTrait>(
    conn: &C,
    statements: Vec<Statement>,
) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
    let n = statements.len();
    let mut parts: Vec<Vec<sea_orm::QueryResult>> = (0..n).map(|_| Vec::new()).collect();
    if conn.get_database_backend() == DatabaseBackend::Sqlite
        && n > 1
        && statements.iter().all(anonymous_parameters)
    {
        for row in conn.query_all_raw(joined(statements)).await? {
            let part: i64 = row.try_get("", PART)?;
            let part = parts
                .get_mut(usize::try_from(part).unwrap_or(usize::MAX))
                .ok_or_else(|| StoreError::Corrupt(format!("a row of no query ({part})")))?;
            part.push(row);
        }
    } else {
        for (part, statement) in parts.iter_mut().zip(statements) {
            *part = conn.query_all_raw(statement).await?;
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{Database, DatabaseConnection, TransactionTrait};

    async fn table() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); \
             INSERT INTO t VALUES (1, 'one')",
        )
        .await
        .unwrap();
        db
    }

    fn sql(text: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Sqlite, text, values)
    }

    async fn rows(db: &DatabaseConnection) -> Vec<(i64, String)> {
        db.query_all_raw(sql("SELECT id, v FROM t ORDER BY id", vec![]))
            .await
            .unwrap()
            .iter()
            .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "v").unwrap()))
            .collect()
    }

    #[tokio::test]
    async fn statements_run_in_order_each_with_its_own_values() {
        let db = table().await;
        let mut w = Writes::new(DatabaseBackend::Sqlite);
        w.one(sql(
            "INSERT INTO t (id, v) VALUES (?, ?)",
            vec![2.into(), "two".into()],
        ));
        w.one(sql(
            "UPDATE t SET v = ? WHERE id = ?",
            vec!["uno".into(), 1.into()],
        ));
        // Reads what the statement before it wrote.
        w.one(sql(
            "UPDATE t SET v = v || ? WHERE id = ?",
            vec!["!".into(), 2.into()],
        ));
        w.run(&db).await.unwrap();
        assert_eq!(
            rows(&db).await,
            vec![(1, "uno".to_string()), (2, "two!".to_string())]
        );
    }

    #[tokio::test]
    async fn a_row_that_is_not_there_fails_the_writes_and_its_transaction_keeps_nothing() {
        let db = table().await;
        let txn = db.begin().await.unwrap();
        let mut w = Writes::new(DatabaseBackend::Sqlite);
        w.one(sql(
            "UPDATE t SET v = ? WHERE id = ?",
            vec!["uno".into(), 1.into()],
        ));
        w.one(sql(
            "UPDATE t SET v = ? WHERE id = ?",
            vec!["ghost".into(), 9.into()],
        ));
        let err = w.run(&txn).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
        txn.rollback().await.unwrap();
        assert_eq!(rows(&db).await, vec![(1, "one".to_string())]);
    }

    #[tokio::test]
    async fn a_failing_statement_stops_the_rest_with_its_error() {
        let db = table().await;
        let mut w = Writes::new(DatabaseBackend::Sqlite);
        w.one(sql(
            "INSERT INTO t (id, v) VALUES (?, ?)",
            vec![1.into(), "again".into()],
        ));
        w.one(sql(
            "INSERT INTO t (id, v) VALUES (?, ?)",
            vec![3.into(), "three".into()],
        ));
        // A unique key taken is a conflict, as the unit of work needs to see a lost race.
        let err = w.run(&db).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
        assert_eq!(rows(&db).await, vec![(1, "one".to_string())]);
    }

    #[tokio::test]
    async fn reads_after_the_writes_see_them_and_come_back_by_query() {
        let db = table().await;
        let mut w = Writes::new(DatabaseBackend::Sqlite);
        w.one(sql(
            "INSERT INTO t (id, v) VALUES (?, ?)",
            vec![2.into(), "two".into()],
        ));
        let reads = vec![
            sql(
                &format!("SELECT v, ? AS {PART} FROM t WHERE id = ?"),
                vec![0i64.into(), 2.into()],
            ),
            sql(
                &format!("SELECT v, ? AS {PART} FROM t WHERE id > ?"),
                vec![1i64.into(), 5.into()],
            ),
            sql(
                &format!("SELECT v, ? AS {PART} FROM t ORDER BY id"),
                vec![2i64.into()],
            ),
        ];
        let parts = w.run_then_read(&db, reads).await.unwrap();
        let texts = |i: usize| -> Vec<String> {
            parts[i]
                .iter()
                .map(|r| r.try_get("", "v").unwrap())
                .collect()
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(texts(0), vec!["two"]);
        assert!(texts(1).is_empty());
        assert_eq!(texts(2), vec!["one", "two"]);

        let mut w = Writes::new(DatabaseBackend::Sqlite);
        w.one(sql("DELETE FROM t WHERE id = ?", vec![7.into()]));
        let err = w.run_then_read(&db, Vec::new()).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    }

    fn pg(text: &str, values: Vec<Value>) -> (Statement, bool) {
        (
            Statement::from_sql_and_values(DatabaseBackend::Postgres, text, values),
            true,
        )
    }

    /// The SQL of each group, and whether it was joined.
    fn shapes(groups: &[Group]) -> Vec<(bool, &str)> {
        groups
            .iter()
            .map(|g| match g {
                Group::Alone(s, _) => (false, s.sql.as_str()),
                Group::Joined(s, _) => (true, s.sql.as_str()),
            })
            .collect()
    }

    #[test]
    fn on_postgres_a_transitions_writes_are_one_statement_with_their_parameters_renumbered() {
        let groups = pg_groups([
            pg(
                r#"UPDATE "case_tracks" SET "state" = $1 WHERE "case_id" = $2"#,
                vec!["b".into(), 7.into()],
            ),
            pg(
                r#"UPDATE "cases" SET "version" = $1 WHERE "id" = $2 AND "version" = $3"#,
                vec![2.into(), 7.into(), 1.into()],
            ),
            pg(
                r#"INSERT INTO "case_events" ("id", "seq") VALUES ($1, $2)"#,
                vec![10.into(), 2.into()],
            ),
            pg(
                r#"INSERT INTO "case_events" ("id", "seq") VALUES ($1, $2)"#,
                vec![11.into(), 3.into()],
            ),
            pg(
                "INSERT INTO audit_log_pending (event_id) VALUES ($1)",
                vec![10.into()],
            ),
            (
                Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    ["trm".into(), "[]".into()],
                ),
                false,
            ),
        ]);
        let [Group::Joined(s, counted)] = &groups[..] else {
            panic!("{:?}", shapes(&groups));
        };
        assert_eq!(
            s.sql,
            r#"WITH trm_w0 AS (UPDATE "case_tracks" SET "state" = $1 WHERE "case_id" = $2 RETURNING 1), "#
                .to_string()
                + r#"trm_w1 AS (UPDATE "cases" SET "version" = $3 WHERE "id" = $4 AND "version" = $5 RETURNING 1), "#
                + r#"trm_w2 AS (INSERT INTO "case_events" ("id", "seq") VALUES ($6, $7) RETURNING 1), "#
                + r#"trm_w3 AS (INSERT INTO "case_events" ("id", "seq") VALUES ($8, $9) RETURNING 1), "#
                + "trm_w4 AS (INSERT INTO audit_log_pending (event_id) VALUES ($10) RETURNING 1), "
                + "trm_w5 AS (SELECT pg_notify($11, $12)) "
                + "SELECT (SELECT count(*) FROM trm_w0) AS trm_w0, (SELECT count(*) FROM trm_w1) AS trm_w1, "
                + "(SELECT count(*) FROM trm_w2) AS trm_w2, (SELECT count(*) FROM trm_w3) AS trm_w3, "
                + "(SELECT count(*) FROM trm_w4) AS trm_w4, (SELECT count(*) FROM trm_w5) AS trm_w5"
        );
        assert_eq!(counted, &vec![true, true, true, true, true, false]);
        assert_eq!(
            s.values.as_ref().map(|v| v.0.len()),
            Some(12),
            "every statement's values, in order"
        );
    }

    #[test]
    fn on_postgres_a_write_that_would_not_see_an_earlier_one_starts_a_new_statement() {
        let stop = pg(
            r#"UPDATE "case_timers" SET "stopped_at" = $1 WHERE "timer" = $2"#,
            vec![1.into(), "t".into()],
        );
        let restart = pg(
            r#"UPDATE "case_timers" SET "started_at" = $1 WHERE "timer" = $2"#,
            vec![2.into(), "t".into()],
        );
        let event = pg(
            r#"INSERT INTO "case_events" ("id") VALUES ($1)"#,
            vec![1.into()],
        );
        // The same row twice: the second write must see the first.
        let groups = pg_groups([stop.clone(), event.clone(), restart.clone()]);
        assert_eq!(
            shapes(&groups).iter().map(|(j, _)| *j).collect::<Vec<_>>(),
            vec![true, false]
        );
        // A query that reads a table written before it, an upsert beside an insert into its
        // table, statements with literals or a `WITH` of their own: never joined to those.
        let reads = pg(
            r#"INSERT INTO "x" ("n") SELECT count(*) FROM "case_events" WHERE "id" = $1"#,
            vec![1.into()],
        );
        assert_eq!(pg_groups([event.clone(), reads]).len(), 2);
        let upsert = pg(
            r#"INSERT INTO "case_events" ("id") VALUES ($1) ON CONFLICT DO NOTHING"#,
            vec![2.into()],
        );
        assert_eq!(pg_groups([event.clone(), upsert]).len(), 2);
        let literal = pg("UPDATE t SET v = 'a;b' WHERE id = $1", vec![1.into()]);
        assert!(pg_write(&literal.0).is_none());
        let with = pg(
            "WITH m AS (DELETE FROM p RETURNING 1) INSERT INTO q VALUES ($1)",
            vec![1.into()],
        );
        assert!(pg_write(&with.0).is_none());
        let unbound = pg("UPDATE t SET v = $2 WHERE id = $1", vec![1.into()]);
        assert!(pg_write(&unbound.0).is_none(), "$2 without a second value");
        // Names are whole words: `cases` is not in `case_events`, `case_events` is in `"case_events"`.
        assert!(!names(r#"INSERT INTO "case_events""#, "cases"));
        assert!(names(r#"INSERT INTO "case_events""#, "case_events"));
        assert!(!names("INSERT INTO case_events_archive", "case_events"));
        assert_eq!(
            renumbered("a = $1 AND b = $12, $", 3),
            "a = $4 AND b = $15, $"
        );
        // A group stops short of PostgreSQL's limit on parameters.
        let wide = |id: i32| {
            let slots: Vec<String> = (1..=10_000).map(|i| format!("${i}")).collect();
            pg(
                &format!("INSERT INTO wide (a) VALUES ({})", slots.join(", ")),
                (0..10_000).map(|_| Value::from(id)).collect(),
            )
        };
        let groups = pg_groups([wide(1), wide(2), wide(3), wide(4)]);
        assert_eq!(
            shapes(&groups).iter().map(|(j, _)| *j).collect::<Vec<_>>(),
            vec![true, false]
        );
    }

    #[test]
    fn only_statements_with_anonymous_parameters_are_joined() {
        let s = |text: &str| sql(text, vec![]);
        assert!(anonymous_parameters(&s("UPDATE t SET v = ? WHERE id = ?")));
        assert!(!anonymous_parameters(&s(
            "UPDATE t SET v = ?1 WHERE id = ?2"
        )));
        assert!(!anonymous_parameters(&s("UPDATE t SET v = $1")));
        let joined = joined(vec![
            sql("A ?", vec![1.into()]),
            sql("B ? ?", vec![2.into(), 3.into()]),
        ]);
        assert_eq!(joined.sql, "A ?;\nB ? ?");
        assert_eq!(
            joined.values.map(|v| v.0),
            Some(vec![1.into(), 2.into(), 3.into()])
        );
    }
}
