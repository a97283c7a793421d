//! Reading the columns of a SQLite file as sqlx wrote them (UUIDs as 16 bytes, timestamps as
//! RFC 3339 text, JSON as text), in place where rusqlite hands them over, for the snapshot reader.

use super::super::StoreError;
use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::Row;
use rusqlite::types::ValueRef;
use std::path::PathBuf;
use uuid::Uuid;

/// The SQLite file a `sqlite:` URL names, if it names one (not an in-memory database).
pub fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

pub(super) fn failed(message: String) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(message))
}

pub(super) fn sql(e: rusqlite::Error) -> StoreError {
    failed(format!("sqlite: {e}"))
}

/// A column that cannot be decoded, as rusqlite reports it.
pub(super) fn undecodable(column: usize, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        e.to_string().into(),
    )
}

/// A UUID as sqlx stores it on SQLite (16 bytes), or as text.
pub(super) fn uuid_opt_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Uuid>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => Uuid::from_slice(b).map(Some).map_err(|e| undecodable(i, e)),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .map_err(|e| undecodable(i, e))
            .and_then(|s| Uuid::parse_str(s).map_err(|e| undecodable(i, e)))
            .map(Some),
        _ => Err(undecodable(i, "not a UUID")),
    }
}

pub(super) fn uuid_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    uuid_opt_at(row, i)?.ok_or_else(|| undecodable(i, "null"))
}

/// A timestamp as sqlx writes it (RFC 3339), or as SQLite's own functions do (UTC, no zone).
pub(super) fn time_opt_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    // Read in place (no owned copy): millions of timestamps go through here.
    let text = match row.get_ref(i)? {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| undecodable(i, e))?,
        _ => return Err(undecodable(i, "not a timestamp")),
    };
    parse_time(text)
        .map(Some)
        .ok_or_else(|| undecodable(i, "not a timestamp"))
}

/// A timestamp as sqlx writes it (RFC 3339), or as SQLite's own functions do (UTC, no zone).
pub(in crate::store) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

pub(super) fn time_at(row: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    time_opt_at(row, i)?.ok_or_else(|| undecodable(i, "null"))
}

pub(super) fn json_opt_at(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<serde_json::Value>> {
    match row.get_ref(i)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(t) | ValueRef::Blob(t) => serde_json::from_slice(t)
            .map(Some)
            .map_err(|e| undecodable(i, e)),
        _ => Err(undecodable(i, "not JSON text")),
    }
}

pub(super) fn json_at(row: &Row<'_>, i: usize) -> rusqlite::Result<serde_json::Value> {
    json_opt_at(row, i)?.ok_or_else(|| undecodable(i, "null"))
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::PathBuf;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(file_of("sqlite://trm.db"), Some(PathBuf::from("trm.db")));
        assert_eq!(
            file_of("sqlite:///var/lib/trm/trm.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/trm/trm.db"))
        );
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory"), None);
        assert_eq!(file_of("postgres://postgres@localhost/trm"), None);
    }
}
