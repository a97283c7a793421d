//! The tamper-evident log for auditors: verification, signed checkpoints, inclusion and
//! consistency proofs. Every field here needs the `read_audit` permission (auditors).

use super::context::auditor;
use super::error::{IntoGql, invalid};
use super::ids;
use crate::audit;
use crate::audit::merkle;
use crate::service::audit::{self as audit_service, StoredCheckpoint};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use uuid::Uuid;

/// What `trm audit verify` found.
#[derive(SimpleObject)]
pub struct AuditVerification {
    /// Whether every chain, the log and every checkpoint checked out.
    pub ok: bool,
    /// The first bad record (case reference and seq, log position, or checkpoint), if any.
    pub first_problem: Option<String>,
    /// How many events were checked.
    pub checked_events: i64,
    /// The log's size.
    pub tree_size: i64,
    /// The log's Merkle root, hex.
    pub root: String,
}

/// A signed checkpoint (tree head) of the audit log.
#[derive(SimpleObject)]
pub struct Checkpoint {
    /// How many leaves (events) it covers.
    pub tree_size: i64,
    /// The RFC 6962 Merkle root, hex.
    pub root_hash: String,
    /// When it was signed.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// First 8 bytes of SHA-256 of the public key, hex.
    pub key_id: String,
    /// The Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature over `signedText`, hex.
    pub signature: String,
    /// The exact text signed: `trm-checkpoint/v1\n<size>\n<root hex>\n<RFC 3339 time>\n`.
    pub signed_text: String,
}

impl From<StoredCheckpoint> for Checkpoint {
    fn from(c: StoredCheckpoint) -> Self {
        Checkpoint {
            signed_text: audit::checkpoint_text(c.tree_size, &c.root_hash, c.created_at),
            tree_size: c.tree_size,
            root_hash: c.root_hash,
            created_at: c.created_at,
            key_id: c.key_id,
            public_key: c.public_key,
            signature: c.signature,
        }
    }
}

/// Proof that an event is in the log of a given size (RFC 6962 audit path).
#[derive(SimpleObject)]
pub struct InclusionProof {
    /// The event's position (leaf index) in the log.
    pub position: i64,
    /// The size of the tree the proof is for.
    pub tree_size: i64,
    /// The event's chain hash, hex: the leaf's data.
    pub event_hash: String,
    /// The Merkle leaf hash, SHA-256(0x00 || event hash bytes), hex.
    pub leaf_hash: String,
    /// The audit path, hex, bottom up.
    pub path: Vec<String>,
    /// The root of the tree of `treeSize` leaves, hex.
    pub root: String,
}

/// Proof that the log of `fromSize` leaves is a prefix of the log of `toSize` leaves.
#[derive(SimpleObject)]
pub struct ConsistencyProof {
    pub from_size: i64,
    pub to_size: i64,
    /// Root of the smaller tree, hex.
    pub from_root: String,
    /// Root of the larger tree, hex.
    pub to_root: String,
    /// The RFC 6962 consistency proof, hex.
    pub proof: Vec<String>,
}

/// Reads of the audit log (merged into the `Query` root).
#[derive(Default)]
pub struct AuditLogQuery;

#[Object]
impl AuditLogQuery {
    /// Recomputes every case's hash chain, the Merkle log and every checkpoint (as
    /// `trm audit verify` does) and names the first bad record.
    async fn audit_verification(&self, ctx: &Context<'_>) -> Result<AuditVerification> {
        let app = auditor(ctx)?;
        let r = audit_service::verify(app).await.gql()?;
        Ok(AuditVerification {
            ok: r.ok,
            first_problem: r.first_problem,
            checked_events: i64::try_from(r.checked_events).unwrap_or(i64::MAX),
            tree_size: i64::try_from(r.tree_size).unwrap_or(i64::MAX),
            root: r.root,
        })
    }

    /// The checkpoint of tree size `size`, or the latest one when `size` is not given.
    async fn audit_checkpoint(
        &self,
        ctx: &Context<'_>,
        size: Option<i64>,
    ) -> Result<Option<Checkpoint>> {
        let app = auditor(ctx)?;
        let c = audit_service::checkpoint(app, size).await.gql()?;
        Ok(c.map(Checkpoint::from))
    }

    /// Proof that an event (its `CaseEvent` ID or UUID) is in the log of `treeSize` leaves (the
    /// current size when not given). Null when it is not in that tree.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        tree_size: Option<i64>,
    ) -> Result<Option<InclusionProof>> {
        let app = auditor(ctx)?;
        let id = ids::decode_uuid(&event_id, "CaseEvent")
            .or_else(|| Uuid::parse_str(&event_id).ok())
            .ok_or_else(|| invalid("malformed event ID"))?;
        let Some(p) = audit_service::inclusion_proof(app, id, tree_size)
            .await
            .gql()?
        else {
            return Ok(None);
        };
        Ok(Some(InclusionProof {
            position: p.position,
            tree_size: p.tree_size,
            event_hash: p.event_hash,
            leaf_hash: hex::encode(p.leaf_hash),
            path: p.path.iter().map(hex::encode).collect(),
            root: hex::encode(p.root),
        }))
    }

    /// Proof that the log of `from` leaves is a prefix of the log of `to` leaves. Null unless
    /// `0 <= from <= to <= size`.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from: i64,
        to: i64,
    ) -> Result<Option<ConsistencyProof>> {
        let app = auditor(ctx)?;
        let proof = audit_service::consistency_proof(app, from, to)
            .await
            .gql()?;
        Ok(proof.map(
            |(a, b, p): (merkle::Hash, merkle::Hash, Vec<merkle::Hash>)| ConsistencyProof {
                from_size: from,
                to_size: to,
                from_root: hex::encode(a),
                to_root: hex::encode(b),
                proof: p.iter().map(hex::encode).collect(),
            },
        ))
    }
}

/// Changes to the audit log (merged into the `Mutation` root).
#[derive(Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Signs a checkpoint of the log as it is now (or returns the existing one of this size).
    async fn create_checkpoint(&self, ctx: &Context<'_>) -> Result<Checkpoint> {
        let app = auditor(ctx)?;
        let key = app
            .audit_key()
            .ok_or_else(|| invalid("this instance has no audit key (--audit-key-file)"))?;
        let c = audit_service::create_checkpoint(app, key).await.gql()?;
        Ok(c.into())
    }
}
