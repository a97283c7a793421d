//! One snapshot of the database as the audit verifier reads it (`service::audit_verify`): the
//! questions it asks, answered by a transaction on the pool ([`InTransaction`], PostgreSQL) or
//! by SQLite's C API on a thread of its own ([`super::sqlite_snapshot::Snapshot`]).

use super::{StoreError, audit as log, cases, events};
use crate::domain::CaseRecord;
use crate::domain::audit_log::{AuditRow, Leaf, LeafWithEvent, PendingLeaf, StoredCheckpoint};
use sea_orm::ConnectionTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// A page of cases, each with its events by `seq`.
pub type CasePage = Vec<(CaseRecord, Vec<AuditRow>)>;

/// One snapshot of the database, as the verification reads it.
pub(crate) trait AuditSnapshot {
    /// How many events the database holds.
    async fn count_events(&self) -> Result<u64, StoreError>;
    /// Up to `limit` cases after `after` by id, each with its events by `seq`.
    async fn cases_after(&self, after: Option<Uuid>, limit: u64) -> Result<CasePage, StoreError>;
    /// The first event whose case does not exist.
    async fn first_orphan(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError>;
    /// The first leaf whose event already has a leaf at a lower position.
    async fn first_repeated_leaf(&self) -> Result<Option<i64>, StoreError>;
    /// Up to `limit` leaves from `from` on, each with its event.
    async fn leaves_with_events(
        &self,
        from: i64,
        limit: u64,
    ) -> Result<Vec<LeafWithEvent>, StoreError>;
    /// The leaves at positions `from..to`.
    async fn leaves(&self, from: i64, to: i64) -> Result<Vec<Leaf>, StoreError>;
    /// The leaves waiting for a position.
    async fn pending(&self) -> Result<Vec<PendingLeaf>, StoreError>;
    /// The first event with no leaf.
    async fn first_not_in_log(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError>;
    /// Every checkpoint, smallest first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError>;
    /// A case's reference, if it exists.
    async fn case_reference(&self, id: Uuid) -> Result<Option<String>, StoreError>;
}

/// The snapshot of a transaction on the pool (PostgreSQL).
pub(crate) struct InTransaction<'c, C>(pub &'c C);

impl<C: ConnectionTrait> AuditSnapshot for InTransaction<'_, C> {
    async fn count_events(&self) -> Result<u64, StoreError> {
        events::count_all(self.0).await
    }

    async fn cases_after(&self, after: Option<Uuid>, limit: u64) -> Result<CasePage, StoreError> {
        let page = cases::page_by_id(self.0, after, limit).await?;
        let ids: Vec<Uuid> = page.iter().map(|c| c.id).collect();
        let mut by_case: HashMap<Uuid, Vec<_>> = HashMap::new();
        for row in events::of_cases_for_audit(self.0, &ids).await? {
            by_case.entry(row.1).or_default().push(row);
        }
        Ok(page
            .into_iter()
            .map(|case| {
                let rows = by_case.remove(&case.id).unwrap_or_default();
                (case, rows)
            })
            .collect())
    }

    async fn first_orphan(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
        events::first_orphan(self.0).await
    }

    async fn first_repeated_leaf(&self) -> Result<Option<i64>, StoreError> {
        log::first_repeated_leaf(self.0).await
    }

    async fn leaves_with_events(
        &self,
        from: i64,
        limit: u64,
    ) -> Result<Vec<LeafWithEvent>, StoreError> {
        log::leaves_with_events(self.0, from, limit).await
    }

    async fn leaves(&self, from: i64, to: i64) -> Result<Vec<Leaf>, StoreError> {
        log::leaves(self.0, from, to).await
    }

    async fn pending(&self) -> Result<Vec<PendingLeaf>, StoreError> {
        log::pending(self.0).await
    }

    async fn first_not_in_log(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
        events::first_not_in_log(self.0).await
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        log::checkpoints(self.0).await
    }

    async fn case_reference(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        log::case_reference(self.0, id).await
    }
}
