//! The registry of workflow definitions cases were opened under: a definition's text may
//! never change under the same id and version, or running cases would silently change.

use super::StoreError;
use super::entities::workflow_definition;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};

/// A loaded definition whose text differs from the one registered under the same version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDefinition {
    pub workflow_id: String,
    pub version: u32,
}

/// Registers (id, version, hash) triples; returns those whose text changed since registration.
pub async fn register<C: ConnectionTrait>(
    conn: &C,
    definitions: &[(String, u32, String)],
    now: DateTime<Utc>,
) -> Result<Vec<ChangedDefinition>, StoreError> {
    let mut changed = Vec::new();
    for (id, version, hash) in definitions {
        let v = i32::try_from(*version).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match workflow_definition::Entity::find_by_id((id.clone(), v))
            .one(conn)
            .await?
        {
            Some(existing) if &existing.source_hash != hash => {
                changed.push(ChangedDefinition {
                    workflow_id: id.clone(),
                    version: *version,
                });
            }
            Some(_) => {}
            None => {
                let insert =
                    workflow_definition::Entity::insert(workflow_definition::ActiveModel {
                        workflow_id: Set(id.clone()),
                        version: Set(v),
                        source_hash: Set(hash.clone()),
                        registered_at: Set(now),
                    })
                    .exec(conn)
                    .await;
                // Another instance may have registered it at the same moment.
                if let Err(e) = insert.map_err(StoreError::from)
                    && !e.is_conflict()
                {
                    return Err(e);
                }
            }
        }
    }
    Ok(changed)
}

/// Every (id, version) registered in the database.
pub async fn registered<C: ConnectionTrait>(conn: &C) -> Result<Vec<(String, u32)>, StoreError> {
    Ok(workflow_definition::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.workflow_id, u32::try_from(m.version).unwrap_or_default()))
        .collect())
}
