//! The writes of one change on PostgreSQL, joined into as few statements as keep their meaning:
//! consecutive writes that cannot see each other's rows as data-modifying `WITH` queries of one
//! statement (see [`pg_groups`]).

use super::StoreError;
use crate::store::pipeline::Piped;
use sea_orm::{DatabaseBackend, QueryResult, Statement, Value};

/// Statements sent as one on PostgreSQL (see [`pg_groups`]).
pub(super) enum Group {
    /// A statement on its own.
    Alone(Statement),
    /// Several as one statement of `WITH` queries answering, per query, how many rows it
    /// returned (column `trm_w{i}`); how many queries.
    Joined(Statement, usize),
}

impl Group {
    /// The group as a statement of a pipeline, and how many queries it joins (`None`: alone).
    pub(super) fn piped(self) -> (Piped, Option<usize>) {
        match self {
            Group::Alone(statement) => (Piped::Count(statement), None),
            Group::Joined(statement, queries) => (Piped::Rows(statement), Some(queries)),
        }
    }
}

/// The rows written by the `queries` of a joined statement, from its answer.
pub(super) fn joined_written(row: Option<QueryResult>, queries: usize) -> Result<u64, StoreError> {
    let row =
        row.ok_or_else(|| StoreError::Corrupt("a change's joined writes answered nothing".into()))?;
    let mut written = 0;
    for i in 0..queries {
        let n: i64 = row.try_get("", &format!("trm_w{i}"))?;
        written += u64::try_from(n).unwrap_or_default();
    }
    Ok(written)
}

/// What a PostgreSQL statement does, when it can run as a `WITH` query beside others.
#[derive(Clone, Copy, PartialEq)]
enum PgWrite<'a> {
    /// `INSERT INTO table (…) VALUES (…)`: new rows only.
    Insert(&'a str),
    /// Any other write of `table` (`UPDATE`, `DELETE`, an upsert, an insert from a query).
    Other(&'a str),
}

/// How statement `s` may join others on PostgreSQL: only a single write with no literal text, no `WITH` or `RETURNING` of its own, and parameters `$1…$n` for its `n`
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
    None
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

/// PostgreSQL: consecutive statements as few statements as keep their meaning. A statement joins the group before it when it can
/// ([`pg_write`]) and names no table a statement of the group writes, unless both only insert
/// new rows into it: statements of one group run on one snapshot and do not see each other's
/// rows, where one by one each saw the writes before it. (Foreign keys are checked at the end of
/// the whole statement, so an event inserted beside its case's new row is checked against it.)
pub(super) fn pg_groups(statements: impl IntoIterator<Item = Statement>) -> Vec<Group> {
    let mut out = Vec::new();
    let mut group: Vec<Statement> = Vec::new();
    let values = |s: &Statement| s.values.as_ref().map_or(0, |v| v.0.len());
    for statement in statements {
        let room = group.iter().map(values).sum::<usize>() + values(&statement) <= PG_MAX_VALUES;
        let joins = room
            && pg_write(&statement).is_some_and(|this| {
                group.iter().all(|earlier| match pg_write(earlier) {
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
        group.push(statement);
    }
    out.extend(pg_group(group));
    out
}

/// One group as it runs: a statement alone as it is; several as one `WITH` statement.
fn pg_group(mut group: Vec<Statement>) -> Option<Group> {
    if group.len() <= 1 {
        return group.pop().map(Group::Alone);
    }
    let mut queries = Vec::new();
    let mut answers = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let n = group.len();
    for (i, statement) in group.into_iter().enumerate() {
        queries.push(format!(
            "trm_w{i} AS ({} RETURNING 1)",
            renumbered(&statement.sql, values.len())
        ));
        answers.push(format!("(SELECT count(*) FROM trm_w{i}) AS trm_w{i}"));
        values.extend(statement.values.map(|v| v.0).unwrap_or_default());
    }
    let sql = format!("WITH {} SELECT {}", queries.join(", "), answers.join(", "));
    Some(Group::Joined(
        Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values),
        n,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(text: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Postgres, text, values)
    }

    /// The SQL of each group, and whether it was joined.
    fn shapes(groups: &[Group]) -> Vec<(bool, &str)> {
        groups
            .iter()
            .map(|g| match g {
                Group::Alone(s) => (false, s.sql.as_str()),
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
        ]);
        let [Group::Joined(s, queries)] = &groups[..] else {
            panic!("{:?}", shapes(&groups));
        };
        assert_eq!(
            s.sql,
            r#"WITH trm_w0 AS (UPDATE "case_tracks" SET "state" = $1 WHERE "case_id" = $2 RETURNING 1), "#
                .to_string()
                + r#"trm_w1 AS (UPDATE "cases" SET "version" = $3 WHERE "id" = $4 AND "version" = $5 RETURNING 1), "#
                + r#"trm_w2 AS (INSERT INTO "case_events" ("id", "seq") VALUES ($6, $7) RETURNING 1), "#
                + r#"trm_w3 AS (INSERT INTO "case_events" ("id", "seq") VALUES ($8, $9) RETURNING 1), "#
                + "trm_w4 AS (INSERT INTO audit_log_pending (event_id) VALUES ($10) RETURNING 1) "
                + "SELECT (SELECT count(*) FROM trm_w0) AS trm_w0, (SELECT count(*) FROM trm_w1) AS trm_w1, "
                + "(SELECT count(*) FROM trm_w2) AS trm_w2, (SELECT count(*) FROM trm_w3) AS trm_w3, "
                + "(SELECT count(*) FROM trm_w4) AS trm_w4"
        );
        assert_eq!(*queries, 5);
        assert_eq!(
            s.values.as_ref().map(|v| v.0.len()),
            Some(10),
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
        assert!(pg_write(&literal).is_none());
        let with = pg(
            "WITH m AS (DELETE FROM p RETURNING 1) INSERT INTO q VALUES ($1)",
            vec![1.into()],
        );
        assert!(pg_write(&with).is_none());
        let unbound = pg("UPDATE t SET v = $2 WHERE id = $1", vec![1.into()]);
        assert!(pg_write(&unbound).is_none(), "$2 without a second value");
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
}
