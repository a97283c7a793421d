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
//! `WITH` queries (`postgres`); a write that touches a table an earlier one of its group
//! wrote starts a new statement, so that every write sees the ones before it, as when they ran
//! one by one. Either way they run in the caller's transaction, in the order they were added,
//! and the first failure stops the rest and is the caller's error.
//!
//! Each statement says how many rows it must write at least; fewer in all is reported as a
//! corrupt store (a row the change holds locked was not there), so that such a change rolls
//! back rather than commit half of itself.

use super::StoreError;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, EntityTrait, QuerySelect, QueryTrait, Select, Statement,
    Value, Values,
};
use std::sync::OnceLock;
use uuid::Uuid;

mod pg_parts;
mod postgres;
use crate::store::pipeline::{Answer, Piped, Pipelined};
pub use pg_parts::PgParts;
use postgres::{Group, joined_written, pg_groups};

/// The writes of one change, in order (see the module documentation).
#[derive(Debug)]
pub struct Writes {
    backend: DatabaseBackend,
    statements: Vec<Statement>,
    /// Rows the statements must write at least, together.
    rows: u64,
}

impl Writes {
    /// No writes yet, for a transaction on `backend`.
    pub fn new(backend: DatabaseBackend) -> Writes {
        Writes {
            backend,
            statements: Vec::new(),
            rows: 0,
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

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Runs every statement in `conn`, in order, then the queries `reads` (as [`query_parts`]
    /// takes them), in the same round trip on SQLite (one execution) and on PostgreSQL's
    /// writing connections (one pipeline): what they read includes these writes.
    pub async fn run_then_read<C: Pipelined>(
        self,
        conn: &C,
        reads: Vec<Part>,
    ) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
        if self.backend == DatabaseBackend::Postgres {
            return self.run_then_read_pg(conn, reads).await;
        }
        let n = reads.len();
        if self.backend != DatabaseBackend::Sqlite
            || !self
                .statements
                .iter()
                .chain(reads.iter().map(|r| &r.statement))
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
        let rows = self.rows;
        let mut statements = vec![count(n)];
        statements.extend(self.statements);
        statements.push(count(n + 1));
        statements.extend(reads.into_iter().map(|r| r.statement));
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
        Ok(parts)
    }

    /// [`Writes::run_then_read`] on PostgreSQL: the writes' statements and the reads' one
    /// statement in one pipeline ([`crate::store::pipeline`]).
    async fn run_then_read_pg<C: Pipelined>(
        self,
        conn: &C,
        reads: Vec<Part>,
    ) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
        let (mut piped, joins): (Vec<Piped>, Vec<Option<usize>>) = pg_groups(self.statements)
            .into_iter()
            .map(Group::piped)
            .unzip();
        let read = (!reads.is_empty()).then(|| {
            let (statement, answer) = pg_parts::statement_of(reads);
            piped.push(Piped::Rows(statement));
            answer
        });
        let mut answers = conn.pipeline(piped).await?.into_iter();
        let mut written = 0;
        for (joined, answer) in joins.into_iter().zip(answers.by_ref()) {
            written += match (joined, answer) {
                (None, Answer::Count(n)) => n,
                (Some(queries), Answer::Rows(rows)) => {
                    joined_written(rows.into_iter().next(), queries)?
                }
                _ => {
                    return Err(StoreError::Corrupt(
                        "a change's writes answered in another shape".into(),
                    ));
                }
            };
        }
        if written < self.rows {
            return Err(too_few(written, self.rows));
        }
        match read {
            None => Ok(Vec::new()),
            Some(read) => {
                let rows = answers.next().map(Answer::rows).transpose()?;
                read.read(rows.and_then(|r| r.into_iter().next()))
            }
        }
    }

    /// Runs every statement in `conn`, in order; nothing to do when there is none. On
    /// PostgreSQL the groups of [`pg_groups`] go out as one pipeline.
    pub async fn run<C: Pipelined>(self, conn: &C) -> Result<(), StoreError> {
        if self.backend == DatabaseBackend::Postgres {
            return self.run_then_read_pg(conn, Vec::new()).await.map(drop);
        }
        let mut written = 0;
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
        if written < self.rows {
            return Err(too_few(written, self.rows));
        }
        Ok(())
    }
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

/// One of the queries of [`query_parts`]: rows of one table, each selecting the query's index
/// in the list as its [`PART`] column.
#[derive(Debug, Clone)]
pub struct Part {
    pub statement: Statement,
    /// The table the rows come from: their columns' types, where PostgreSQL answers them as
    /// JSON.
    pub table: &'static str,
}

impl Part {
    /// The rows `select` finds, as the query of index `index` of a [`query_parts`].
    pub fn of<E: EntityTrait>(select: Select<E>, index: i64, backend: DatabaseBackend) -> Part {
        Part {
            statement: select.expr_as(Expr::val(index), PART).build(backend),
            table: E::default().table_name(),
        }
    }
}

/// Queries of one case whose only varying value is the case's id, built by sea-query once per
/// database (with a stand-in id) and given the case's id at each use: building such a query
/// costs more than SQLite's running it.
pub struct OfOneCase {
    build: fn(DatabaseBackend, Uuid) -> Vec<Part>,
    sqlite: OnceLock<Vec<Part>>,
    postgres: OnceLock<Vec<Part>>,
}

/// The id the queries of an [`OfOneCase`] are built with (the case's id replaces it).
const STAND_IN: Uuid = Uuid::from_u128(0x7472_6d5f_7374_616e_645f_696e_5f69_6400);

impl OfOneCase {
    /// The queries `build` builds for a case's id.
    pub const fn new(build: fn(DatabaseBackend, Uuid) -> Vec<Part>) -> OfOneCase {
        OfOneCase {
            build,
            sqlite: OnceLock::new(),
            postgres: OnceLock::new(),
        }
    }

    /// The queries for case `id` on `backend`.
    pub fn of(&self, backend: DatabaseBackend, id: Uuid) -> Vec<Part> {
        self.of_with(backend, id, &[])
    }

    /// The queries for case `id` on `backend`, where `build` also wrote stand-ins of its own:
    /// each value equal to the first of a pair of `others` is given as its second.
    pub fn of_with(
        &self,
        backend: DatabaseBackend,
        id: Uuid,
        others: &[(Value, Value)],
    ) -> Vec<Part> {
        let built = match backend {
            DatabaseBackend::Postgres => &self.postgres,
            _ => &self.sqlite,
        };
        let built = built.get_or_init(|| (self.build)(backend, STAND_IN));
        let with_id = |v: &Value| match v {
            Value::Uuid(Some(u)) if *u == STAND_IN => Value::Uuid(Some(id)),
            other => others
                .iter()
                .find(|(stand_in, _)| stand_in == other)
                .map_or_else(|| other.clone(), |(_, value)| value.clone()),
        };
        built
            .iter()
            .map(|p| Part {
                statement: Statement {
                    values: p
                        .statement
                        .values
                        .as_ref()
                        .map(|Values(v)| Values(v.iter().map(with_id).collect())),
                    ..p.statement.clone()
                },
                table: p.table,
            })
            .collect()
    }
}

/// The queries `parts` as one PostgreSQL statement (none of them may lock rows), to be sent
/// in a pipeline ([`crate::store::pipeline`]), and how its answer is read.
pub fn pg_statement_of_parts(parts: Vec<Part>) -> (Statement, PgParts) {
    pg_parts::statement_of(parts)
}

/// Runs the queries `parts` and answers their rows, one list per query, in order: in one
/// round trip on SQLite (one execution of their texts) and on PostgreSQL (one statement, see
/// `pg_parts`; none of them may lock rows there), else one after the other.
pub async fn query_parts<C: ConnectionTrait>(
    conn: &C,
    parts: Vec<Part>,
) -> Result<Vec<Vec<sea_orm::QueryResult>>, StoreError> {
    let n = parts.len();
    let backend = conn.get_database_backend();
    if backend == DatabaseBackend::Postgres && n > 1 {
        return pg_parts::query_parts(conn, parts).await;
    }
    let statements: Vec<Statement> = parts.into_iter().map(|p| p.statement).collect();
    let mut parts: Vec<Vec<sea_orm::QueryResult>> = (0..n).map(|_| Vec::new()).collect();
    if backend == DatabaseBackend::Sqlite && n > 1 && statements.iter().all(anonymous_parameters) {
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

    #[test]
    fn queries_of_one_case_are_those_built_for_its_id() {
        use crate::store::entities::case_track;
        use sea_orm::{ColumnTrait, QueryFilter};
        fn build(backend: DatabaseBackend, id: Uuid) -> Vec<Part> {
            vec![Part::of(
                case_track::Entity::find()
                    .filter(case_track::Column::CaseId.eq(id))
                    .filter(case_track::Column::Track.ne("person")),
                1,
                backend,
            )]
        }
        static QUERIES: OfOneCase = OfOneCase::new(build);
        for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
            for _ in 0..2 {
                let id = Uuid::now_v7();
                assert_eq!(
                    format!("{:?}", QUERIES.of(backend, id)),
                    format!("{:?}", build(backend, id))
                );
            }
        }
    }
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
        let read = |text: &str, values: Vec<Value>| Part {
            statement: sql(text, values),
            table: "t",
        };
        let reads = vec![
            read(
                &format!("SELECT v, ? AS {PART} FROM t WHERE id = ?"),
                vec![0i64.into(), 2.into()],
            ),
            read(
                &format!("SELECT v, ? AS {PART} FROM t WHERE id > ?"),
                vec![1i64.into(), 5.into()],
            ),
            read(
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
