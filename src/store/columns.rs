//! The entities' columns by table and column name, with the type each is read back as: for
//! rows whose values come without the exact type sea-orm asks for (an `i32` column from an
//! `Int`, never a `BigInt`): SQLite's storage classes on the writing connection
//! ([`super::group_commit`]), and rows read as JSON on PostgreSQL ([`super::batch`]).

use sea_orm::{ColumnTrait, ColumnType, EntityTrait, IdenStatic, Iterable};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The type a column is read back as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Kind {
    Uuid,
    Time,
    Date,
    Json,
    Bool,
    Int,
    BigInt,
    Text,
    Bytes,
    Double,
    /// An expression: by the value's storage class.
    Dynamic,
}

impl Kind {
    fn of(column_type: &ColumnType) -> Kind {
        match column_type {
            ColumnType::Uuid => Kind::Uuid,
            ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
                Kind::Time
            }
            ColumnType::Date => Kind::Date,
            ColumnType::Json | ColumnType::JsonBinary => Kind::Json,
            ColumnType::Boolean => Kind::Bool,
            ColumnType::Integer
            | ColumnType::SmallInteger
            | ColumnType::TinyInteger
            | ColumnType::Unsigned
            | ColumnType::SmallUnsigned
            | ColumnType::TinyUnsigned => Kind::Int,
            ColumnType::BigInteger | ColumnType::BigUnsigned => Kind::BigInt,
            ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Kind::Text,
            ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => Kind::Bytes,
            ColumnType::Float | ColumnType::Double => Kind::Double,
            _ => Kind::Dynamic,
        }
    }

    /// From a column's declared type in the schema (as sea-query writes them for SQLite).
    pub(in crate::store) fn declared(decl: &str) -> Kind {
        let decl = decl.to_ascii_lowercase();
        if decl.starts_with("uuid") {
            Kind::Uuid
        } else if decl.starts_with("timestamp") || decl.starts_with("datetime") {
            Kind::Time
        } else if decl.starts_with("date") {
            Kind::Date
        } else if decl.starts_with("json") {
            Kind::Json
        } else if decl.starts_with("bool") {
            Kind::Bool
        } else if decl.contains("int") {
            Kind::BigInt
        } else if decl.contains("char") || decl.contains("text") || decl.contains("clob") {
            Kind::Text
        } else if decl.contains("blob") || decl.contains("binary") {
            Kind::Bytes
        } else if decl.contains("real") || decl.contains("floa") || decl.contains("doub") {
            Kind::Double
        } else {
            Kind::Dynamic
        }
    }

    /// The column `column` of table `table`, as its entity declares it (`None`: no entity
    /// declares it).
    pub(in crate::store) fn declared_by_entity(table: &str, column: &str) -> Option<Kind> {
        column_of(table, column).map(|c| c.kind)
    }
}

/// A column as its entity declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) struct Column {
    pub kind: Kind,
    /// Whether it may hold SQL `NULL` (a JSON column that may not holds JSON `null` instead).
    pub nullable: bool,
}

/// The column `column` of table `table`, as its entity declares it (`None`: no entity declares
/// it).
pub(in crate::store) fn column_of(table: &str, column: &str) -> Option<Column> {
    ENTITY_COLUMNS.get(table)?.get(column).copied()
}

/// Every entity's columns, by table.
static ENTITY_COLUMNS: LazyLock<HashMap<String, HashMap<String, Column>>> = LazyLock::new(|| {
    use super::entities::*;
    let mut tables = HashMap::new();
    add::<access_log::Entity>(&mut tables);
    add::<agency::Entity>(&mut tables);
    add::<api_token::Entity>(&mut tables);
    add::<audit_log::Entity>(&mut tables);
    add::<break_glass::Entity>(&mut tables);
    add::<case::Entity>(&mut tables);
    add::<case_access::Entity>(&mut tables);
    add::<case_event::Entity>(&mut tables);
    add::<case_reference_counter::Entity>(&mut tables);
    add::<case_timer::Entity>(&mut tables);
    add::<case_track::Entity>(&mut tables);
    add::<checkpoint::Entity>(&mut tables);
    add::<consent::Entity>(&mut tables);
    add::<console_session::Entity>(&mut tables);
    add::<console_sign_in::Entity>(&mut tables);
    add::<country::Entity>(&mut tables);
    add::<feedback::Entity>(&mut tables);
    add::<idempotency_key::Entity>(&mut tables);
    add::<movement::Entity>(&mut tables);
    add::<notification::Entity>(&mut tables);
    add::<person_match_key::Entity>(&mut tables);
    add::<personal_data::Entity>(&mut tables);
    add::<referral::Entity>(&mut tables);
    add::<revoked_jwt::Entity>(&mut tables);
    add::<same_person_link::Entity>(&mut tables);
    add::<transfer::Entity>(&mut tables);
    add::<user::Entity>(&mut tables);
    add::<workflow_definition::Entity>(&mut tables);
    tables
});

fn add<E: EntityTrait>(tables: &mut HashMap<String, HashMap<String, Column>>) {
    let columns = E::Column::iter()
        .map(|c| {
            let def = c.def();
            let column = Column {
                kind: Kind::of(def.get_column_type()),
                nullable: def.is_null(),
            };
            (c.as_str().to_string(), column)
        })
        .collect();
    tables.insert(E::default().table_name().to_string(), columns);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_say_which_integers_are_32_bits() {
        assert_eq!(
            Kind::declared_by_entity("cases", "workflow_version"),
            Some(Kind::Int)
        );
        assert_eq!(
            Kind::declared_by_entity("cases", "version"),
            Some(Kind::BigInt)
        );
        assert_eq!(Kind::declared_by_entity("cases", "id"), Some(Kind::Uuid));
        assert_eq!(
            Kind::declared_by_entity("cases", "opened_at"),
            Some(Kind::Time)
        );
        assert_eq!(Kind::declared_by_entity("cases", "facts"), Some(Kind::Json));
        assert_eq!(Kind::declared_by_entity("cases", "nothing"), None);
    }

    #[test]
    fn entities_say_which_columns_may_be_null() {
        assert_eq!(
            column_of("cases", "origin_country").map(|c| c.nullable),
            Some(true)
        );
        assert_eq!(column_of("cases", "facts").map(|c| c.nullable), Some(false));
    }
}
