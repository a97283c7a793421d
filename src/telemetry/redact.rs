//! What of a span may leave the process: a fixed list of attributes ([`ALLOWED`]), nothing
//! else. A statement's span keeps its kind (`INSERT case_events`), never its text; no span keeps
//! an event, a log line or an error message (a database error can quote a value).

use opentelemetry::KeyValue;
use opentelemetry::trace::Status;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanEvents, SpanProcessor};
use std::time::Duration;

/// The attributes a span may carry out of the process. Every value among them comes from a
/// fixed set or from the code (the workflow files' ids are public SOP identifiers), never
/// from a request's values.
pub const ALLOWED: &[&str] = &[
    "trm.operation",
    "trm.outcome",
    "trm.workflow",
    "trm.workflow_version",
    "trm.transition",
    "http.request.method",
    "http.route",
    "http.response.status_code",
    "db.system",
    "db.operation",
    "db.query.summary",
];

/// The kind of an SQL statement, for span names and metric labels: its verb, and for `SELECT`,
/// `INSERT`, `UPDATE` and `DELETE` the table it names first (`INSERT case_events`,
/// `SELECT cases`). Values never show: they are placeholders in TRM's statements, and a table
/// name is read only where an identifier stands. A verb outside a fixed list is `OTHER`. Several
/// statements sent together (`store::batch`) are the kinds of each, once, in order, joined by
/// `; ` (`UPDATE cases; INSERT case_events; INSERT audit_log`).
pub fn statement_kind(sql: &str) -> String {
    let mut kinds: Vec<String> = Vec::new();
    for part in sql.split(';').filter(|p| !p.trim().is_empty()) {
        for kind in with_kinds(part).unwrap_or_else(|| vec![one_statement_kind(part)]) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    if kinds.is_empty() {
        return "OTHER".to_string();
    }
    kinds.join("; ")
}

/// A statement with `WITH` queries (the joined writes of `store::batch` on PostgreSQL) as the
/// kinds of its queries and of its main statement, unless that only reads what they returned
/// (`WITH w AS (UPDATE cases …) SELECT count(*) FROM w` is `UPDATE cases`). `None` if `sql` does
/// not start with `WITH`.
fn with_kinds(sql: &str) -> Option<Vec<String>> {
    let rest = sql.trim_start();
    if !rest
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("WITH "))
    {
        return None;
    }
    let rest = &rest[5..];
    let (mut kinds, mut names) = (Vec::new(), Vec::new());
    // Where the next query's name starts: `name AS (body)`, then `,` or the main statement.
    let mut at = 0;
    loop {
        let open = rest[at..].find('(')? + at;
        if let Some(name) = rest[at..open].split_whitespace().next() {
            names.push(name.trim_matches('"'));
        }
        let mut depth = 0usize;
        let close = rest[open..].char_indices().find_map(|(i, c)| {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(open + i);
                    }
                }
                _ => {}
            }
            None
        })?;
        kinds.push(one_statement_kind(&rest[open + 1..close]));
        let after = rest[close + 1..].trim_start();
        if let Some(next) = after.strip_prefix(',') {
            at = rest.len() - next.len();
            continue;
        }
        let kind = one_statement_kind(after);
        let reads_queries = kind
            .strip_prefix("SELECT ")
            .is_some_and(|table| names.contains(&table));
        if !after.is_empty() && !reads_queries {
            kinds.push(kind);
        }
        return Some(kinds);
    }
}

fn one_statement_kind(sql: &str) -> String {
    const VERBS: &[&str] = &[
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "PRAGMA",
        "SET",
        "SHOW",
        "LISTEN",
        "UNLISTEN",
        "NOTIFY",
        "LOCK",
        "CREATE",
        "ALTER",
        "DROP",
        "WITH",
        "VACUUM",
        "ANALYZE",
        "EXECUTE",
    ];
    let mut words = sql.split_whitespace();
    let first = words.next().unwrap_or_default().to_ascii_uppercase();
    let Some(verb) = VERBS.iter().find(|v| **v == first) else {
        return "OTHER".to_string();
    };
    let table = match *verb {
        "INSERT" => word_after("INTO", &mut words),
        "UPDATE" => words.next(),
        "DELETE" | "SELECT" => word_after("FROM", &mut words),
        _ => None,
    };
    match table.and_then(identifier) {
        Some(table) => format!("{verb} {table}"),
        None => verb.to_string(),
    }
}

/// The word after the next `keyword` (any case).
fn word_after<'a>(keyword: &str, words: &mut std::str::SplitWhitespace<'a>) -> Option<&'a str> {
    words
        .by_ref()
        .find(|w| w.eq_ignore_ascii_case(keyword))
        .and_then(|_| words.next())
}

/// `word` as a table name: quotes dropped, up to the first character that cannot be part of an
/// unquoted identifier; `None` when nothing is left or it is implausibly long.
fn identifier(word: &str) -> Option<&str> {
    let word = word.trim_start_matches(['"', '`', '[']);
    let end = word
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(word.len());
    let name = &word[..end];
    (!name.is_empty() && name.len() <= 63 && !name.starts_with(|c: char| c.is_ascii_digit()))
        .then_some(name)
}

/// The kind of the statement behind sea-orm spans that carry no statement text.
pub(super) fn kind_of_span(name: &str) -> Option<&'static str> {
    match name {
        "sea_orm.begin" => Some("BEGIN"),
        "sea_orm.commit" => Some("COMMIT"),
        "sea_orm.rollback" => Some("ROLLBACK"),
        _ => None,
    }
}

/// A span processor that lets only [`ALLOWED`] attributes through to `next` (the exporter's
/// batch), names statement spans by their kind, and drops events and error descriptions.
#[derive(Debug)]
pub(super) struct Redact<P> {
    pub(super) next: P,
}

impl<P: SpanProcessor> SpanProcessor for Redact<P> {
    fn on_start(&self, span: &mut Span, cx: &opentelemetry::Context) {
        self.next.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        if span.name.starts_with("sea_orm.") {
            let text = |key: &str| {
                span.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| kv.value.as_str().into_owned())
            };
            let kind = match kind_of_span(&span.name) {
                Some(kind) => kind.to_string(),
                None => text("db.statement")
                    .or_else(|| text("db.operation"))
                    .map(|sql| statement_kind(&sql))
                    .unwrap_or_else(|| "OTHER".to_string()),
            };
            span.attributes
                .push(KeyValue::new("db.query.summary", kind.clone()));
            span.name = kind.into();
        }
        span.attributes
            .retain(|kv| ALLOWED.contains(&kv.key.as_str()));
        span.events = SpanEvents::default();
        if let Status::Error { .. } = span.status {
            span.status = Status::error("");
        }
        self.next.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.next.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.next.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.next.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_kind_is_its_verb_and_table_never_a_value() {
        let cases = [
            (
                r#"INSERT INTO "case_events" ("id", "data") VALUES ($1, $2)"#,
                "INSERT case_events",
            ),
            (
                r#"SELECT "cases"."id" FROM "cases" WHERE "cases"."id" = $1 FOR UPDATE"#,
                "SELECT cases",
            ),
            (r#"UPDATE "cases" SET "version" = $1"#, "UPDATE cases"),
            ("delete from inbox where id = ?", "DELETE inbox"),
            ("SELECT 1", "SELECT"),
            ("SELECT x FROM (SELECT 1) AS t", "SELECT"),
            ("COMMIT", "COMMIT"),
            ("INSERT INTO 'Canary Zyxwvutsrq' VALUES (1)", "INSERT"),
            ("Canary Zyxwvutsrq", "OTHER"),
            ("", "OTHER"),
            (
                "UPDATE \"case_tracks\" SET \"state\" = ?;\nUPDATE \"cases\" SET \"version\" = ?;\n\
                 INSERT INTO \"case_events\" (\"id\") VALUES (?);\nUPDATE \"case_tracks\" SET \"state\" = ?",
                "UPDATE case_tracks; UPDATE cases; INSERT case_events",
            ),
            ("SELECT 1;", "SELECT"),
            (
                r#"WITH trm_w0 AS (UPDATE "cases" SET "v" = $1 RETURNING 1), trm_w1 AS (INSERT INTO "case_events" ("id") VALUES ($2) RETURNING 1), trm_w2 AS (SELECT pg_notify($3, $4)) SELECT (SELECT count(*) FROM trm_w0) AS trm_w0, (SELECT count(*) FROM trm_w1) AS trm_w1, (SELECT count(*) FROM trm_w2) AS trm_w2"#,
                "UPDATE cases; INSERT case_events; SELECT",
            ),
            (
                "WITH moved AS (DELETE FROM audit_log_pending RETURNING event_id) INSERT INTO audit_log (event_id) SELECT event_id FROM moved",
                "DELETE audit_log_pending; INSERT audit_log",
            ),
            (
                "WITH x AS (SELECT 1) SELECT * FROM cases",
                "SELECT; SELECT cases",
            ),
        ];
        for (sql, kind) in cases {
            assert_eq!(statement_kind(sql), kind, "{sql}");
        }
    }
}
