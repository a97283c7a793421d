//! The global audit log's records: one leaf per case event, and signed checkpoints (tree
//! heads) over it.

use super::event::Event;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One leaf of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// 0-based position.
    pub position: i64,
    /// The event whose chain hash this leaf is.
    pub event_id: Uuid,
    /// The event's chain hash, hex.
    pub leaf_hash: String,
    /// When it was appended.
    pub appended_at: DateTime<Utc>,
}

/// A stored checkpoint (signed tree head).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    /// Number of leaves covered.
    pub tree_size: i64,
    /// Merkle root, hex.
    pub root_hash: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Key id, hex.
    pub key_id: String,
    /// Ed25519 public key, hex.
    pub public_key: String,
    /// Signature, hex.
    pub signature: String,
}

/// A leaf with what its event says, for the verifier: the event's case, `seq` and stored
/// chain hash, or `None` when no event has the leaf's event id.
pub type LeafWithEvent = (Leaf, Option<(Uuid, i64, String)>);

/// A stored event as the audit verifier reads it: its id, case and `seq` as stored, and the
/// parsed event (or why it cannot be parsed).
pub type AuditRow = (Uuid, Uuid, i64, Result<Event, String>);

/// A leaf still waiting for its position (PostgreSQL, see `store::audit::sequence_pending`), for
/// the verifier: what [`LeafWithEvent`] says of a placed leaf, and the position at which the
/// same event also has a placed leaf, if it has one (it must not).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLeaf {
    /// The event whose chain hash this leaf is.
    pub event_id: Uuid,
    /// The event's chain hash, hex.
    pub leaf_hash: String,
    /// The event's case, `seq` and stored chain hash, or `None` when no such event exists.
    pub event: Option<(Uuid, i64, String)>,
    /// The position of a placed leaf of the same event.
    pub also_at: Option<i64>,
}
