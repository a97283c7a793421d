//! One snapshot of the database as the audit verifier reads it (`service::audit_verify`): the
//! questions it asks, answered by a transaction on the pool (`InTransaction`, PostgreSQL) or
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
    /// The ids that cut the cases, by id, into `parts` parts of about the same size: the last id
    /// of each part but the last (fewer when there are fewer cases than parts, or when the
    /// reader reads one part at a time anyway).
    async fn case_bounds(&self, parts: u64) -> Result<Vec<Uuid>, StoreError>;
    /// Up to `limit` cases by id after `after` and up to `upto`, each with its events by `seq`.
    async fn cases_after(
        &self,
        after: Option<Uuid>,
        upto: Option<Uuid>,
        limit: u64,
    ) -> Result<CasePage, StoreError>;
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

/// Where the cases, by id, are cut into `parts` parts of about the same size: the offsets of
/// the last case of each part but the last, for `count` cases (none of a part that would be
/// empty).
pub(crate) fn part_ends(count: u64, parts: u64) -> Vec<u64> {
    let mut ends: Vec<u64> = (1..parts)
        .filter_map(|k| (count * k / parts).checked_sub(1))
        .collect();
    ends.dedup();
    ends
}

/// The snapshot of a transaction on the pool (PostgreSQL).
pub(crate) struct InTransaction<'c, C>(pub &'c C);

impl<C: ConnectionTrait> AuditSnapshot for InTransaction<'_, C> {
    async fn count_events(&self) -> Result<u64, StoreError> {
        events::count_all(self.0).await
    }

    async fn case_bounds(&self, _parts: u64) -> Result<Vec<Uuid>, StoreError> {
        // One transaction answers one query at a time: one part.
        Ok(Vec::new())
    }

    async fn cases_after(
        &self,
        after: Option<Uuid>,
        upto: Option<Uuid>,
        limit: u64,
    ) -> Result<CasePage, StoreError> {
        let page = cases::page_by_id(self.0, after, upto, limit).await?;
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

#[cfg(test)]
mod tests {
    use super::part_ends;

    #[test]
    fn parts_are_cut_evenly_and_none_is_empty() {
        let ends = part_ends;
        assert_eq!(ends(1_000_000, 2), [499_999]);
        assert_eq!(ends(10, 4), [1, 4, 6]);
        // Fewer cases than parts: fewer parts, none empty.
        assert_eq!(ends(3, 4), [0, 1]);
        assert_eq!(ends(2, 4), [0]);
        assert_eq!(ends(1, 2), Vec::<u64>::new());
        assert_eq!(ends(0, 4), Vec::<u64>::new());
        assert_eq!(ends(5, 1), Vec::<u64>::new());
    }
}
