//! Several queries as one PostgreSQL statement ([`super::query_parts`]): PostgreSQL's extended
//! protocol takes one statement per round trip, and sqlx does not pipeline, so queries of rows
//! of different shapes (a case, its tracks and its timers) would cost a round trip each. Here
//! each query becomes a scalar subquery answering its rows as one JSON array, in the query's
//! order:
//!
//! ```sql
//! SELECT (SELECT coalesce(json_agg(q), '[]') FROM (<query 0>) q) AS trm_p0,
//!        (SELECT coalesce(json_agg(q), '[]') FROM (<query 1, its $n renumbered>) q) AS trm_p1
//! ```
//!
//! One statement reads one snapshot, so the parts agree with each other (they may not when
//! read one after the other). A query that locks (`FOR UPDATE`) must not be one of them: the
//! row it waits for would be read again at its new version, and the others at the snapshot from
//! before the wait.
//!
//! JSON does not say which Rust type a value is (a UUID and a name are both strings), so each
//! value is given the type the entity of the query's table declares for its column
//! ([`crate::store::columns`]), and the rows are built as sea-orm rows of those values.

use super::{PART, Part};
use crate::store::StoreError;
use crate::store::columns::{self, Column, Kind};
use chrono::NaiveDate;
use sea_orm::sea_query::Value;
use sea_orm::{ConnectionTrait, DatabaseBackend, ProxyRow, QueryResult, Statement, Values};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The rows of each of `parts`, read in one statement (see the module documentation).
pub(super) async fn query_parts<C: ConnectionTrait>(
    conn: &C,
    parts: Vec<Part>,
) -> Result<Vec<Vec<QueryResult>>, StoreError> {
    let (statement, answer) = statement_of(parts);
    answer.read(conn.query_one_raw(statement).await?)
}

/// `parts` as one statement, and how its answer is read.
pub(super) fn statement_of(parts: Vec<Part>) -> (Statement, PgParts) {
    let tables: Vec<&'static str> = parts.iter().map(|p| p.table).collect();
    (one_statement(parts), PgParts { tables })
}

/// How the answer of parts read as one statement is read (see `super::pg_parts`).
#[derive(Debug)]
pub struct PgParts {
    tables: Vec<&'static str>,
}

impl PgParts {
    /// The rows of each part, from the statement's one row.
    pub fn read(self, row: Option<QueryResult>) -> Result<Vec<Vec<QueryResult>>, StoreError> {
        let Some(row) = row else {
            return Err(StoreError::Corrupt(
                "a query of parts answered no row".into(),
            ));
        };
        let mut answered = Vec::with_capacity(self.tables.len());
        for (i, table) in self.tables.into_iter().enumerate() {
            let rows: Json = row.try_get("", &format!("trm_p{i}"))?;
            let Json::Array(rows) = rows else {
                return Err(StoreError::Corrupt(format!(
                    "part {i} is not a list of rows"
                )));
            };
            answered.push(
                rows.into_iter()
                    .map(|r| row_of(table, r))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(answered)
    }
}

/// The queries as one statement (see the module documentation).
fn one_statement(parts: Vec<Part>) -> Statement {
    let mut sql = String::from("SELECT ");
    let mut values: Vec<Value> = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str("(SELECT coalesce(json_agg(q), '[]') FROM (");
        sql.push_str(&renumbered(&part.statement.sql, values.len()));
        sql.push_str(&format!(") q) AS trm_p{i}"));
        if let Some(Values(v)) = part.statement.values {
            values.extend(v);
        }
    }
    Statement::from_sql_and_values(DatabaseBackend::Postgres, sql, values)
}

/// `sql` with each parameter `$n` outside quotes made `$(n + by)`.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            // A doubled quote inside a quoted text is the quote itself: it closes and reopens.
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + by).to_string());
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// A row of `table` answered as a JSON object, as a sea-orm row.
fn row_of(table: &str, row: Json) -> Result<QueryResult, StoreError> {
    let Json::Object(fields) = row else {
        return Err(StoreError::Corrupt(format!(
            "a row of {table} is not an object"
        )));
    };
    let mut values = BTreeMap::new();
    for (name, value) in fields {
        let column = match columns::column_of(table, &name) {
            Some(column) => column,
            // The part's own number, or an expression: by the JSON's type.
            None if name == PART => continue,
            None => Column {
                kind: Kind::Dynamic,
                nullable: true,
            },
        };
        let value = value_of(column, value).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "column {table}.{name} holds a value of another type than its entity's"
            ))
        })?;
        values.insert(name, value);
    }
    Ok(ProxyRow::new(values).into())
}

/// A JSON value as the value sea-orm reads for `column` (`None`: of another type).
fn value_of(column: Column, value: Json) -> Option<Value> {
    Some(match (column.kind, value) {
        (Kind::Json, Json::Null) if !column.nullable => Value::Json(Some(Box::new(Json::Null))),
        (Kind::Json, Json::Null) => Value::Json(None),
        (Kind::Json, v) => Value::Json(Some(Box::new(v))),
        (Kind::Uuid, Json::Null) => Value::Uuid(None),
        (Kind::Uuid, Json::String(s)) => Value::Uuid(Some(Uuid::parse_str(&s).ok()?)),
        (Kind::Time, Json::Null) => Value::ChronoDateTimeUtc(None),
        (Kind::Time, Json::String(s)) => Value::ChronoDateTimeUtc(Some(
            crate::store::sqlite_snapshot::parse_time(&s).or_else(|| parse_plain_time(&s))?,
        )),
        (Kind::Date, Json::Null) => Value::ChronoDate(None),
        (Kind::Date, Json::String(s)) => {
            Value::ChronoDate(Some(NaiveDate::parse_from_str(&s, "%F").ok()?))
        }
        (Kind::Bool, Json::Null) => Value::Bool(None),
        (Kind::Bool, Json::Bool(b)) => Value::Bool(Some(b)),
        (Kind::Int, Json::Null) => Value::Int(None),
        (Kind::Int, Json::Number(n)) => Value::Int(Some(i32::try_from(n.as_i64()?).ok()?)),
        (Kind::BigInt, Json::Null) => Value::BigInt(None),
        (Kind::BigInt, Json::Number(n)) => Value::BigInt(Some(n.as_i64()?)),
        (Kind::Text, Json::Null) => Value::String(None),
        (Kind::Text, Json::String(s)) => Value::String(Some(s)),
        (Kind::Bytes, Json::Null) => Value::Bytes(None),
        // `bytea` as JSON: `\x` and its bytes in hexadecimal.
        (Kind::Bytes, Json::String(s)) => {
            Value::Bytes(Some(hex::decode(s.strip_prefix("\\x")?).ok()?))
        }
        (Kind::Double, Json::Null) => Value::Double(None),
        (Kind::Double, Json::Number(n)) => Value::Double(Some(n.as_f64()?)),
        (Kind::Dynamic, Json::Null) => Value::BigInt(None),
        (Kind::Dynamic, Json::Bool(b)) => Value::Bool(Some(b)),
        (Kind::Dynamic, Json::Number(n)) => match n.as_i64() {
            Some(i) => Value::BigInt(Some(i)),
            None => Value::Double(Some(n.as_f64()?)),
        },
        (Kind::Dynamic, Json::String(s)) => Value::String(Some(s)),
        (Kind::Dynamic, v) => Value::Json(Some(Box::new(v))),
        _ => return None,
    })
}

/// A `timestamp` (without time zone) as JSON writes it, taken as UTC.
fn parse_plain_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_are_renumbered_outside_quotes_only() {
        assert_eq!(
            renumbered(
                r#"SELECT "a$1" FROM t WHERE x = $1 AND y = 'it''s $2' AND z IN ($2, $10)"#,
                3
            ),
            r#"SELECT "a$1" FROM t WHERE x = $4 AND y = 'it''s $2' AND z IN ($5, $13)"#
        );
        assert_eq!(renumbered("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn parts_become_one_statement_with_their_values_in_turn() {
        let part = |sql: &str, v: i64| Part {
            statement: Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                [Value::from(v)],
            ),
            table: "cases",
        };
        let s = one_statement(vec![
            part("SELECT * FROM a WHERE x = $1", 1),
            part("SELECT * FROM b WHERE y = $1", 2),
        ]);
        assert_eq!(
            s.sql,
            "SELECT (SELECT coalesce(json_agg(q), '[]') FROM (SELECT * FROM a WHERE x = $1) q) \
             AS trm_p0, (SELECT coalesce(json_agg(q), '[]') FROM (SELECT * FROM b WHERE y = $2) \
             q) AS trm_p1"
        );
        assert_eq!(
            s.values,
            Some(Values(vec![Value::from(1i64), Value::from(2i64)]))
        );
    }

    #[test]
    fn json_values_take_their_entity_columns_types() {
        let id = Uuid::now_v7();
        let row = row_of(
            "cases",
            json!({
                "id": id.to_string(),
                "workflow_version": 3,
                "version": 1_i64 << 40,
                "opened_at": "2026-12-06T10:14:21.123456+00:00",
                "origin_country": null,
                "facts": {"a": [1, "b"]},
                "trm_part": 0,
            }),
        )
        .unwrap();
        assert_eq!(row.try_get::<Uuid>("", "id").unwrap(), id);
        assert_eq!(row.try_get::<i32>("", "workflow_version").unwrap(), 3);
        assert_eq!(row.try_get::<i64>("", "version").unwrap(), 1 << 40);
        assert_eq!(
            row.try_get::<chrono::DateTime<chrono::Utc>>("", "opened_at")
                .unwrap()
                .to_rfc3339(),
            "2026-12-06T10:14:21.123456+00:00"
        );
        assert_eq!(
            row.try_get::<Option<String>>("", "origin_country").unwrap(),
            None
        );
        assert_eq!(
            row.try_get::<Json>("", "facts").unwrap(),
            json!({"a": [1, "b"]})
        );
    }

    #[test]
    fn a_value_of_another_type_is_refused_not_guessed() {
        assert!(row_of("cases", json!({"id": 7})).is_err());
        assert!(row_of("cases", json!({"workflow_version": 1_i64 << 40})).is_err());
        assert!(row_of("cases", json!({"opened_at": "yesterday"})).is_err());
        assert!(row_of("cases", json!([1])).is_err());
    }
}
