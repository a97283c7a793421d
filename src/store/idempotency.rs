//! Idempotency records: (user, key) → the request's hash and what it produced.

use super::StoreError;
use super::batch::Writes;
use super::entities::idempotency_key;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryTrait};
use uuid::Uuid;

/// What a first request with a key produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub operation: String,
    pub request_hash: String,
    pub case_id: Uuid,
    pub event_id: Option<Uuid>,
}

/// The record for (user, key), if any.
pub async fn find<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    Ok(
        idempotency_key::Entity::find_by_id((user_id, key.to_string()))
            .one(conn)
            .await?
            .map(|m| IdempotencyRecord {
                operation: m.operation,
                request_hash: m.request_hash,
                case_id: m.case_id,
                event_id: m.event_id,
            }),
    )
}

/// Stores a record (added to `writes`, the change's); they fail with a unique violation if
/// the key was taken concurrently.
pub fn insert(
    writes: &mut Writes,
    user_id: Uuid,
    key: &str,
    record: &IdempotencyRecord,
    now: DateTime<Utc>,
) {
    let backend = writes.backend();
    writes.one(
        idempotency_key::Entity::insert(idempotency_key::ActiveModel {
            user_id: Set(user_id),
            key: Set(key.to_string()),
            operation: Set(record.operation.clone()),
            request_hash: Set(record.request_hash.clone()),
            case_id: Set(record.case_id),
            event_id: Set(record.event_id),
            created_at: Set(now),
        })
        .build(backend),
    );
}
