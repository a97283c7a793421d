//! Values between sea-orm and PostgreSQL's binary protocol, for the writing connections
//! ([`super`]).
//!
//! A parameter is declared with the type sqlx declares for the same value (text for a string,
//! `jsonb` for JSON, `timestamptz` for a UTC time…), so that a statement means on these
//! connections what it means on the reading pool's. A result column is read back as the value of
//! its PostgreSQL type (`int4` an `Int`, `int8` a `BigInt`, `timestamptz` a UTC time), which is
//! the type sea-orm's entities ask for: PostgreSQL, unlike SQLite, says what every column is.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::sea_query::Value;
use std::error::Error;
use tokio_postgres::Row;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use uuid::Uuid;

/// A value that cannot be written or read back (the message names no value, only its type).
#[derive(Debug)]
pub(super) struct Unsupported(pub(super) String);

/// The type sqlx declares for `value` (its parameter's type in the prepared statement).
pub(super) fn declared(value: &Value) -> Result<Type, Unsupported> {
    Ok(match value {
        Value::Bool(_) => Type::BOOL,
        Value::TinyInt(_) | Value::SmallInt(_) | Value::TinyUnsigned(_) => Type::INT2,
        Value::Int(_) | Value::SmallUnsigned(_) => Type::INT4,
        Value::BigInt(_) | Value::Unsigned(_) | Value::BigUnsigned(_) => Type::INT8,
        Value::Float(_) => Type::FLOAT4,
        Value::Double(_) => Type::FLOAT8,
        Value::String(_) | Value::Char(_) => Type::TEXT,
        Value::Bytes(_) => Type::BYTEA,
        Value::Json(_) => Type::JSONB,
        Value::ChronoDate(_) => Type::DATE,
        Value::ChronoTime(_) => Type::TIME,
        Value::ChronoDateTime(_) => Type::TIMESTAMP,
        Value::ChronoDateTimeUtc(_)
        | Value::ChronoDateTimeLocal(_)
        | Value::ChronoDateTimeWithTimeZone(_) => Type::TIMESTAMPTZ,
        Value::Uuid(_) => Type::UUID,
        other => {
            return Err(Unsupported(format!(
                "a value of type {:?} on PostgreSQL",
                std::mem::discriminant(other)
            )));
        }
    })
}

/// A sea-orm value as a parameter of the type [`declared`] gives it.
pub(super) struct Param<'a>(pub(super) &'a Value);

/// Only whether the value is there: `tokio-postgres` logs a statement's parameters at the debug
/// level, and a value can be a person's name or date of birth.
impl std::fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "value" } else { "null" })
    }
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self.0 {
            Value::Bool(v) => v.to_sql(ty, out),
            Value::TinyInt(v) => v.map(i16::from).to_sql(ty, out),
            Value::SmallInt(v) => v.to_sql(ty, out),
            Value::TinyUnsigned(v) => v.map(i16::from).to_sql(ty, out),
            Value::Int(v) => v.to_sql(ty, out),
            Value::SmallUnsigned(v) => v.map(i32::from).to_sql(ty, out),
            Value::BigInt(v) => v.to_sql(ty, out),
            Value::Unsigned(v) => v.map(i64::from).to_sql(ty, out),
            Value::BigUnsigned(v) => v.map(i64::try_from).transpose()?.to_sql(ty, out),
            Value::Float(v) => v.to_sql(ty, out),
            Value::Double(v) => v.to_sql(ty, out),
            Value::String(v) => v.as_deref().to_sql(ty, out),
            Value::Char(v) => v.map(String::from).to_sql(ty, out),
            Value::Bytes(v) => v.as_deref().to_sql(ty, out),
            Value::Json(v) => v.as_deref().to_sql(ty, out),
            Value::ChronoDate(v) => v.to_sql(ty, out),
            Value::ChronoTime(v) => v.to_sql(ty, out),
            Value::ChronoDateTime(v) => v.to_sql(ty, out),
            Value::ChronoDateTimeUtc(v) => v.to_sql(ty, out),
            Value::ChronoDateTimeLocal(v) => v.map(|t| t.with_timezone(&Utc)).to_sql(ty, out),
            Value::ChronoDateTimeWithTimeZone(v) => v.to_sql(ty, out),
            Value::Uuid(v) => v.to_sql(ty, out),
            other => Err(format!("a value of type {:?}", std::mem::discriminant(other)).into()),
        }
    }

    // The statement is prepared with the types `declared` gives, so every parameter is asked
    // for as that type; the conversions above check it again.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Column `i` of `row`, as the value of its PostgreSQL type.
pub(super) fn column(row: &Row, i: usize) -> Result<Value, Unsupported> {
    let ty = row.columns()[i].type_();
    let read = |e: tokio_postgres::Error| Unsupported(format!("a column of type {ty}: {e}"));
    Ok(match *ty {
        Type::BOOL => Value::Bool(row.try_get(i).map_err(read)?),
        Type::INT2 => Value::SmallInt(row.try_get(i).map_err(read)?),
        Type::INT4 => Value::Int(row.try_get(i).map_err(read)?),
        Type::INT8 => Value::BigInt(row.try_get(i).map_err(read)?),
        Type::FLOAT4 => Value::Float(row.try_get(i).map_err(read)?),
        Type::FLOAT8 => Value::Double(row.try_get(i).map_err(read)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            Value::String(row.try_get(i).map_err(read)?)
        }
        Type::BYTEA => Value::Bytes(row.try_get(i).map_err(read)?),
        Type::JSON | Type::JSONB => Value::Json(
            row.try_get::<_, Option<serde_json::Value>>(i)
                .map_err(read)?
                .map(Box::new),
        ),
        Type::DATE => Value::ChronoDate(row.try_get::<_, Option<NaiveDate>>(i).map_err(read)?),
        Type::TIMESTAMP => {
            Value::ChronoDateTime(row.try_get::<_, Option<NaiveDateTime>>(i).map_err(read)?)
        }
        Type::TIMESTAMPTZ => {
            Value::ChronoDateTimeUtc(row.try_get::<_, Option<DateTime<Utc>>>(i).map_err(read)?)
        }
        Type::UUID => Value::Uuid(row.try_get::<_, Option<Uuid>>(i).map_err(read)?),
        // What `pg_notify` and `pg_advisory_xact_lock` answer: nothing to read.
        Type::VOID => Value::String(None),
        _ => return Err(Unsupported(format!("a column of type {ty}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_value_is_declared_as_sqlx_declares_it() {
        assert_eq!(declared(&Value::from("x")).ok(), Some(Type::TEXT));
        assert_eq!(declared(&Value::from(1_i32)).ok(), Some(Type::INT4));
        assert_eq!(declared(&Value::from(1_i64)).ok(), Some(Type::INT8));
        assert_eq!(
            declared(&Value::from(serde_json::json!({"a": 1}))).ok(),
            Some(Type::JSONB)
        );
        assert_eq!(
            declared(&Value::from(Utc::now())).ok(),
            Some(Type::TIMESTAMPTZ)
        );
        assert_eq!(declared(&Value::from(Uuid::nil())).ok(), Some(Type::UUID));
        assert_eq!(declared(&Value::Bool(None)).ok(), Some(Type::BOOL));
    }

    #[test]
    fn a_parameter_shows_no_value_where_it_is_logged() {
        let name = Value::from("Canary Zyxwvutsrq");
        assert_eq!(format!("{:?}", Param(&name)), "value");
        assert_eq!(format!("{:?}", Param(&Value::String(None))), "null");
    }
}
