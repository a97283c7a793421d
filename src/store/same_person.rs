//! The same person again: the keyed match keys of each case's identity (HMAC values only) and
//! the links between cases of one person.

use super::StoreError;
use super::entities::{person_match_key, same_person_link};
use crate::domain::SamePersonLink;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Rows per insert statement (4 values each: well under either database's parameter limit).
const CHUNK: usize = 500;

/// Replaces the match keys of a case with `keys`, made under the secret `key_id`.
pub async fn replace_keys<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    key_id: &str,
    keys: &BTreeSet<String>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    person_match_key::Entity::delete_many()
        .filter(person_match_key::Column::CaseId.eq(case_id))
        .exec(conn)
        .await?;
    let rows: Vec<person_match_key::ActiveModel> = keys
        .iter()
        .map(|k| person_match_key::ActiveModel {
            case_id: Set(case_id),
            match_key: Set(k.clone()),
            key_id: Set(key_id.to_string()),
            recorded_at: Set(at),
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        person_match_key::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The cases (other than `except`) with any of `keys` made under the secret `key_id`.
pub async fn cases_with_keys<C: ConnectionTrait>(
    conn: &C,
    key_id: &str,
    keys: &BTreeSet<String>,
    except: Uuid,
) -> Result<BTreeSet<Uuid>, StoreError> {
    let mut out = BTreeSet::new();
    let keys: Vec<&String> = keys.iter().collect();
    for chunk in keys.chunks(CHUNK) {
        let ids: Vec<Uuid> = person_match_key::Entity::find()
            .select_only()
            .column(person_match_key::Column::CaseId)
            .filter(person_match_key::Column::MatchKey.is_in(chunk.iter().map(|k| k.as_str())))
            .filter(person_match_key::Column::KeyId.eq(key_id))
            .filter(person_match_key::Column::CaseId.ne(except))
            .distinct()
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(ids);
    }
    Ok(out)
}

fn to_link(m: same_person_link::Model) -> SamePersonLink {
    SamePersonLink {
        id: m.id,
        case_id: m.case_id,
        case_reference: m.case_reference,
        earlier_case_id: m.earlier_case_id,
        earlier_reference: m.earlier_reference,
        agency_id: m.agency_id,
        linked_by: m.linked_by,
        linked_at: m.linked_at,
    }
}

/// Records a link.
pub async fn insert_link<C: ConnectionTrait>(
    conn: &C,
    l: &SamePersonLink,
) -> Result<(), StoreError> {
    same_person_link::Entity::insert(same_person_link::ActiveModel {
        id: Set(l.id),
        case_id: Set(l.case_id),
        case_reference: Set(l.case_reference.clone()),
        earlier_case_id: Set(l.earlier_case_id),
        earlier_reference: Set(l.earlier_reference.clone()),
        agency_id: Set(l.agency_id),
        linked_by: Set(l.linked_by),
        linked_at: Set(l.linked_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The link between two cases, whichever way it was made.
pub async fn link_between<C: ConnectionTrait>(
    conn: &C,
    a: Uuid,
    b: Uuid,
) -> Result<Option<SamePersonLink>, StoreError> {
    let pair = |x: Uuid, y: Uuid| {
        Condition::all()
            .add(same_person_link::Column::CaseId.eq(x))
            .add(same_person_link::Column::EarlierCaseId.eq(y))
    };
    Ok(same_person_link::Entity::find()
        .filter(Condition::any().add(pair(a, b)).add(pair(b, a)))
        .one(conn)
        .await?
        .map(to_link))
}

/// The links of a case, made from it or to it, oldest first.
pub async fn links_of_case<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<Vec<SamePersonLink>, StoreError> {
    Ok(same_person_link::Entity::find()
        .filter(
            Condition::any()
                .add(same_person_link::Column::CaseId.eq(case_id))
                .add(same_person_link::Column::EarlierCaseId.eq(case_id)),
        )
        .order_by_asc(same_person_link::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(to_link)
        .collect())
}

/// One link by id.
pub async fn link_by_id<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<SamePersonLink>, StoreError> {
    Ok(same_person_link::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_link))
}
