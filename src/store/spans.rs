//! Tracing spans for the statements the writing connections run themselves (sea-orm traces
//! the pool's).

/// A span for a statement of the writing connections (SQLite's, PostgreSQL's), named and with
/// the fields sea-orm gives its own: the transaction's `BEGIN`, `COMMIT` and `ROLLBACK` without
/// their text, the others with it (the telemetry turns it into the statement's kind and tables,
/// never exporting the text).
pub(in crate::store) fn statement_span(system: &'static str, sql: &str) -> tracing::Span {
    macro_rules! span {
        ($name:literal, $operation:expr) => {
            tracing::info_span!(
                $name,
                otel.kind = "client",
                db.system = system,
                db.operation = $operation,
                db.statement = tracing::field::Empty,
                otel.status_code = tracing::field::Empty,
            )
        };
    }
    let first = sql.split_whitespace().next().unwrap_or_default();
    let is = |word: &str| first.eq_ignore_ascii_case(word);
    if is("BEGIN") {
        return span!("sea_orm.begin", "EXECUTE");
    } else if is("COMMIT") {
        return span!("sea_orm.commit", "EXECUTE");
    } else if is("ROLLBACK") && !sql.contains(" TO ") {
        return span!("sea_orm.rollback", "EXECUTE");
    }
    let operation = ["SELECT", "INSERT", "UPDATE", "DELETE"]
        .into_iter()
        .find(|op| is(op))
        .unwrap_or("EXECUTE");
    let span = span!("sea_orm.execute", operation);
    span.record("db.statement", sql);
    span
}
