//! The tamper-evident log as the service keeps it: checkpoints signed over the log, inclusion
//! and consistency proofs (the whole-database verification is `audit_verify`). The checks themselves are pure
//! (`crate::audit`); this module reads what they need from the store.

use super::{App, ServiceError, bus};
use crate::audit::{AuditKey, merkle, sign_checkpoint, tree_leaves};
use crate::domain::audit_log::StoredCheckpoint;
use crate::store::audit as log;
use crate::store::pipeline::Pipelined;
use crate::store::{LOCK_AUDIT_LOG, Store, StoreError, lock_exclusively};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use std::sync::Arc;
use uuid::Uuid;

/// The Merkle leaf hashes of the first `size` leaves of the log.
async fn leaf_hashes<C: ConnectionTrait>(
    conn: &C,
    size: i64,
) -> Result<Vec<merkle::Hash>, StoreError> {
    let leaves = log::leaves(conn, 0, size).await?;
    tree_leaves(&leaves, size).map_err(StoreError::Corrupt)
}

/// Gives every leaf that waits for its position one (PostgreSQL; nothing to do on SQLite, whose
/// changes append at their position): what the log's readers call first, so that an event
/// committed before they ask is in the log they read. Returns how many leaves were placed.
///
/// The same transaction announces the signals the changes staged ([`bus::announcement`]): it runs
/// after every change on PostgreSQL anyway, holding the log's lock, so that one instance at a
/// time sends them, many changes' at once.
pub async fn settle(store: &Store) -> Result<u64, ServiceError> {
    if store.conn().get_database_backend() != DatabaseBackend::Postgres {
        return Ok(0);
    }
    // The log's lock, the leaves' placing and the signals' sending in one round trip.
    let txn = store.begin_write().await?;
    let mut statements = log::sequencing();
    statements.push(bus::announcement());
    let placed = log::placed(&txn.pipeline(statements).await?)?;
    txn.commit().await?;
    Ok(placed)
}

/// Places waiting leaves, and announces staged signals, soon after the changes that wrote them
/// commit (PostgreSQL), one [`settle`] at a time per instance: a change asks, and if a settle is
/// running it runs once more when done, taking everything that arrived meanwhile. Nobody waits
/// for it: a change is acknowledged once it, its leaf and its signals are committed; the log's
/// readers settle before they read, and subscribers hear the signals when the settle commits.
#[derive(Debug, Default)]
pub struct Sequencer {
    /// 0: idle; 1: running; 2: running, and asked again meanwhile.
    state: std::sync::atomic::AtomicU8,
}

impl Sequencer {
    /// Asks for the waiting leaves of `store` to be placed (in a task of its own).
    pub fn wake(self: &Arc<Self>, store: &Store) {
        use std::sync::atomic::Ordering::AcqRel;
        if store.conn().get_database_backend() != DatabaseBackend::Postgres {
            return;
        }
        // Idle: start. Running: ask once more (2 stays 2).
        if self.state.fetch_add(1, AcqRel) > 0 {
            let _ = self.state.fetch_min(2, AcqRel);
            return;
        }
        let (this, store) = (self.clone(), store.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = settle(&store).await {
                    // The leaves and signals wait, committed; the next wake or reader sends them.
                    tracing::warn!(error = %e, "placing audit-log leaves and announcing signals failed; retrying later");
                }
                // Asked again meanwhile (2): once more. Else (1): idle.
                if this
                    .state
                    .compare_exchange(1, 0, AcqRel, std::sync::atomic::Ordering::Acquire)
                    .is_ok()
                {
                    break;
                }
                this.state.store(1, std::sync::atomic::Ordering::Release);
            }
        });
    }
}

/// Signs and stores a checkpoint of the log as it is now (or returns the stored one when the
/// log has not grown since). Runs in a write transaction holding the audit-log lock so that the
/// size and the leaves read agree.
pub async fn create_checkpoint(
    store: &Store,
    key: &AuditKey,
    now: DateTime<Utc>,
) -> Result<StoredCheckpoint, ServiceError> {
    let txn = store.begin_write().await?;
    lock_exclusively(&txn, LOCK_AUDIT_LOG).await?;
    log::sequence_pending(&txn).await?;
    let size = log::size(&txn).await?;
    if let Some(existing) = log::checkpoint_at(&txn, size).await? {
        txn.rollback().await?;
        return Ok(existing);
    }
    let c = sign_checkpoint(key, &leaf_hashes(&txn, size).await?, now);
    log::insert_checkpoint(&txn, &c).await?;
    txn.commit().await?;
    Ok(c)
}

/// Makes a checkpoint if the log grew since the latest one and that one is at least
/// `min_interval` old (for the scheduler). Returns the new checkpoint, if any.
pub async fn checkpoint_if_due(
    store: &Store,
    key: &AuditKey,
    now: DateTime<Utc>,
    min_interval: chrono::Duration,
) -> Result<Option<StoredCheckpoint>, ServiceError> {
    settle(store).await?;
    let size = log::size(store.conn()).await?;
    let latest = log::latest_checkpoint(store.conn()).await?;
    let due = match &latest {
        None => size > 0,
        Some(c) => size > c.tree_size && now - c.created_at >= min_interval,
    };
    if !due {
        return Ok(None);
    }
    create_checkpoint(store, key, now).await.map(Some)
}

/// The Merkle leaf hashes of the first `size` leaves (for case files).
pub async fn tree(app: &App, size: i64) -> Result<Vec<merkle::Hash>, ServiceError> {
    Ok(leaf_hashes(app.store.conn(), size).await?)
}

/// An inclusion proof of `event_id` in the tree of `tree_size` leaves: (position, the Merkle
/// leaf hash, the audit path, the root). `None` if the event is not in that tree.
pub async fn inclusion_proof<C: ConnectionTrait>(
    conn: &C,
    event_id: Uuid,
    tree_size: i64,
) -> Result<Option<(i64, merkle::Hash, Vec<merkle::Hash>, merkle::Hash)>, ServiceError> {
    let Some(leaf) = log::leaf_of_event(conn, event_id).await? else {
        return Ok(None);
    };
    if leaf.position >= tree_size || tree_size > log::size(conn).await? {
        return Ok(None);
    }
    let tree = merkle::Tree::new(leaf_hashes(conn, tree_size).await?);
    let index = usize::try_from(leaf.position).unwrap_or(usize::MAX);
    let (Some(path), Some(leaf_hash)) = (
        tree.inclusion_proof(index),
        crate::audit::merkle_leaf(&leaf.leaf_hash),
    ) else {
        return Ok(None);
    };
    Ok(Some((leaf.position, leaf_hash, path, tree.root())))
}

/// A consistency proof between the trees of `from` and `to` leaves: (the two roots, the
/// proof). `None` unless `0 <= from <= to <= size`.
pub async fn consistency_proof<C: ConnectionTrait>(
    conn: &C,
    from: i64,
    to: i64,
) -> Result<Option<(merkle::Hash, merkle::Hash, Vec<merkle::Hash>)>, ServiceError> {
    if from < 0 || from > to || to > log::size(conn).await? {
        return Ok(None);
    }
    let leaves = leaf_hashes(conn, to).await?;
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let Some(proof) = merkle::consistency_proof(&leaves, from) else {
        return Ok(None);
    };
    Ok(Some((
        merkle::root(&leaves[..from]),
        merkle::root(&leaves),
        proof,
    )))
}
