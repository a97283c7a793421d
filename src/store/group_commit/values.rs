//! Values between sea-orm and SQLite's C API, for the writing connection ([`super::direct`]).
//!
//! Written as sqlx writes them, so that a row reads the same whichever connection wrote it:
//! UUIDs as 16 bytes, timestamps as RFC 3339 text (`to_rfc3339_opts(AutoSi)`), dates as
//! `YYYY-MM-DD`, JSON as compact text, booleans as 0/1.
//!
//! Read back as the type the reading code asks for: sea-orm takes a value only of its exact
//! type (an `i32` column from an `Int`, never a `BigInt`), and SQLite's storage classes do not
//! tell (an integer is an integer; a UUID is a blob). So a column's type comes from the entity
//! that declares its table (by the table and column SQLite reports the result column comes
//! from), else from the column's declared type in the schema, else (an expression) from the
//! value's storage class.

use super::super::sqlite_snapshot::parse_time;
use crate::store::columns::Kind;
use chrono::{DateTime, NaiveDate, SecondsFormat};
use rusqlite::types::{Value as Sql, ValueRef};
use sea_orm::sea_query::Value;
use uuid::Uuid;

/// A value that cannot be written or read back (the message names no value, only its type).
#[derive(Debug)]
pub(super) struct Unsupported(pub(super) String);

/// `value` as SQLite stores it when sqlx binds it.
pub(super) fn to_sql(value: &Value) -> Result<Sql, Unsupported> {
    fn or_null<T>(v: &Option<T>, f: impl FnOnce(&T) -> Sql) -> Sql {
        v.as_ref().map(f).unwrap_or(Sql::Null)
    }
    Ok(match value {
        Value::Bool(v) => or_null(v, |b| Sql::Integer(i64::from(*b))),
        Value::TinyInt(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::SmallInt(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::Int(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::BigInt(v) => or_null(v, |i| Sql::Integer(*i)),
        Value::TinyUnsigned(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::SmallUnsigned(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::Unsigned(v) => or_null(v, |i| Sql::Integer(i64::from(*i))),
        Value::BigUnsigned(v) => match v {
            Some(i) => Sql::Integer(
                i64::try_from(*i).map_err(|_| Unsupported("an integer out of range".into()))?,
            ),
            None => Sql::Null,
        },
        Value::Float(v) => or_null(v, |f| Sql::Real(f64::from(*f))),
        Value::Double(v) => or_null(v, |f| Sql::Real(*f)),
        Value::String(v) => or_null(v, |s| Sql::Text(s.clone())),
        Value::Char(v) => or_null(v, |c| Sql::Text(c.to_string())),
        Value::Bytes(v) => or_null(v, |b| Sql::Blob(b.clone())),
        Value::Json(v) => match v {
            Some(j) => Sql::Text(
                serde_json::to_string(j.as_ref())
                    .map_err(|_| Unsupported("JSON that does not serialise".into()))?,
            ),
            None => Sql::Null,
        },
        Value::ChronoDate(v) => or_null(v, |d| Sql::Text(d.format("%F").to_string())),
        Value::ChronoTime(v) => or_null(v, |t| Sql::Text(t.format("%T%.f").to_string())),
        Value::ChronoDateTime(v) => or_null(v, |t| Sql::Text(t.format("%F %T%.f").to_string())),
        Value::ChronoDateTimeUtc(v) => or_null(v, |t| Sql::Text(rfc3339(t))),
        Value::ChronoDateTimeLocal(v) => or_null(v, |t| Sql::Text(rfc3339(t))),
        Value::ChronoDateTimeWithTimeZone(v) => or_null(v, |t| Sql::Text(rfc3339(t))),
        Value::Uuid(v) => or_null(v, |u| Sql::Blob(u.as_bytes().to_vec())),
        other => {
            return Err(Unsupported(format!(
                "a value of type {:?} on SQLite",
                std::mem::discriminant(other)
            )));
        }
    })
}

fn rfc3339<Tz: chrono::TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The value of a result column read as `kind`.
pub(super) fn from_sql(kind: Kind, value: ValueRef<'_>) -> Result<Value, Unsupported> {
    let wrong =
        |what: &str| Unsupported(format!("a {what} column holding {:?}", value.data_type()));
    Ok(match (kind, value) {
        (Kind::Uuid, ValueRef::Null) => Value::Uuid(None),
        (Kind::Uuid, ValueRef::Blob(b)) => {
            Value::Uuid(Some(Uuid::from_slice(b).map_err(|_| wrong("UUID"))?))
        }
        (Kind::Uuid, ValueRef::Text(t)) => Value::Uuid(Some(
            std::str::from_utf8(t)
                .ok()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| wrong("UUID"))?,
        )),
        (Kind::Time, ValueRef::Null) => Value::ChronoDateTimeUtc(None),
        (Kind::Time, ValueRef::Text(t)) => Value::ChronoDateTimeUtc(Some(
            std::str::from_utf8(t)
                .ok()
                .and_then(parse_time)
                .ok_or_else(|| wrong("timestamp"))?,
        )),
        (Kind::Date, ValueRef::Null) => Value::ChronoDate(None),
        (Kind::Date, ValueRef::Text(t)) => Value::ChronoDate(Some(
            std::str::from_utf8(t)
                .ok()
                .and_then(|s| NaiveDate::parse_from_str(s, "%F").ok())
                .ok_or_else(|| wrong("date"))?,
        )),
        (Kind::Json, ValueRef::Null) => Value::Json(None),
        (Kind::Json, ValueRef::Text(t) | ValueRef::Blob(t)) => Value::Json(Some(Box::new(
            serde_json::from_slice(t).map_err(|_| wrong("JSON"))?,
        ))),
        (Kind::Bool, ValueRef::Null) => Value::Bool(None),
        (Kind::Bool, ValueRef::Integer(i)) => Value::Bool(Some(i != 0)),
        (Kind::Int, ValueRef::Null) => Value::Int(None),
        (Kind::Int, ValueRef::Integer(i)) => {
            Value::Int(Some(i32::try_from(i).map_err(|_| wrong("32-bit integer"))?))
        }
        (Kind::BigInt, ValueRef::Null) => Value::BigInt(None),
        (Kind::BigInt | Kind::Dynamic, ValueRef::Integer(i)) => Value::BigInt(Some(i)),
        (Kind::Text, ValueRef::Null) => Value::String(None),
        (Kind::Text | Kind::Dynamic, ValueRef::Text(t)) => Value::String(Some(
            String::from_utf8(t.to_vec()).map_err(|_| wrong("text"))?,
        )),
        (Kind::Text, ValueRef::Integer(i)) => Value::String(Some(i.to_string())),
        (Kind::Bytes, ValueRef::Null) => Value::Bytes(None),
        (Kind::Bytes | Kind::Dynamic, ValueRef::Blob(b)) => Value::Bytes(Some(b.to_vec())),
        (Kind::Bytes, ValueRef::Text(t)) => Value::Bytes(Some(t.to_vec())),
        (Kind::Double, ValueRef::Null) => Value::Double(None),
        (Kind::Double | Kind::Dynamic, ValueRef::Real(f)) => Value::Double(Some(f)),
        (Kind::Double, ValueRef::Integer(i)) => Value::Double(Some(i as f64)),
        // A null expression: no type to give it; sea-orm reads it as null whatever it asks for.
        (Kind::Dynamic, ValueRef::Null) => Value::BigInt(None),
        (Kind::Uuid, _) => return Err(wrong("UUID")),
        (Kind::Time, _) => return Err(wrong("timestamp")),
        (Kind::Date, _) => return Err(wrong("date")),
        (Kind::Json, _) => return Err(wrong("JSON")),
        (Kind::Bool, _) => return Err(wrong("boolean")),
        (Kind::Int | Kind::BigInt, _) => return Err(wrong("integer")),
        (Kind::Text, _) => return Err(wrong("text")),
        (Kind::Bytes, _) => return Err(wrong("blob")),
        (Kind::Double, _) => return Err(wrong("real")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn values_round_trip_as_sqlx_writes_them() {
        let id = Uuid::now_v7();
        let at = DateTime::parse_from_rfc3339("2026-12-06T10:14:21.123456+00:00")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let json = serde_json::json!({"a": [1, "b"]});
        let cases = [
            (Value::Uuid(Some(id)), Kind::Uuid),
            (Value::ChronoDateTimeUtc(at), Kind::Time),
            (Value::Json(Some(Box::new(json))), Kind::Json),
            (Value::Bool(Some(true)), Kind::Bool),
            (Value::Int(Some(7)), Kind::Int),
            (Value::BigInt(Some(1 << 40)), Kind::BigInt),
            (Value::String(Some("x".into())), Kind::Text),
            (Value::String(None), Kind::Text),
            (
                Value::ChronoDate(NaiveDate::from_ymd_opt(2026, 12, 6)),
                Kind::Date,
            ),
        ];
        for (value, kind) in cases {
            let stored = to_sql(&value).unwrap();
            let back = from_sql(kind, ValueRef::from(&stored)).unwrap();
            assert_eq!(back, value);
        }
        assert_eq!(
            to_sql(&Value::ChronoDateTimeUtc(at)).unwrap(),
            Sql::Text("2026-12-06T10:14:21.123456+00:00".into())
        );
        assert_eq!(
            to_sql(&Value::Uuid(Some(id))).unwrap(),
            Sql::Blob(id.as_bytes().to_vec())
        );
    }

    #[test]
    fn a_value_of_another_type_is_refused_not_guessed() {
        assert!(from_sql(Kind::Uuid, ValueRef::Integer(1)).is_err());
        assert!(from_sql(Kind::Int, ValueRef::Integer(1 << 40)).is_err());
        assert!(from_sql(Kind::Time, ValueRef::Text(b"yesterday")).is_err());
    }
}
