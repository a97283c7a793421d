//! Auditors' view of the tamper-evident log: verification, checkpoints, inclusion and
//! consistency proofs. Every field here needs the `read_audit` permission (auditors).

use super::error::{IntoGql, invalid};
use super::{app, ids, principal};
use crate::audit::{self, merkle};
use crate::policy::{Action, Facts};
use crate::service::{App, ServiceError};
use crate::store::audit::{self as log, StoredCheckpoint};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use uuid::Uuid;

/// Reads of the audit log (merged into the `Query` root).
#[derive(Default)]
pub struct AuditQuery;

/// Changes to the audit log (merged into the `Mutation` root).
#[derive(Default)]
pub struct AuditMutation;

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

fn auditor<'a>(ctx: &Context<'a>) -> Result<&'a App> {
    let app = app(ctx)?;
    let p = principal(ctx)?;
    app.authorize(
        p,
        Action::ReadAudit,
        Facts::default(),
        "only auditors may read the audit log",
    )
    .gql()?;
    Ok(app)
}

fn failed(e: sea_orm::DbErr) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    ServiceError::from(e).extend()
}

#[Object]
impl AuditQuery {
    /// Recomputes every case's hash chain, the Merkle log and every checkpoint (as
    /// `trm audit verify` does) and names the first bad record.
    async fn audit_verification(&self, ctx: &Context<'_>) -> Result<AuditVerification> {
        let app = auditor(ctx)?;
        let trusted = app.audit_key.as_ref().map(|k| k.public());
        let r = audit::verify::verify(app.store.conn(), trusted.as_ref())
            .await
            .map_err(failed)?;
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
        let c = match size {
            Some(size) => log::checkpoint_at(app.store.conn(), size).await,
            None => log::latest_checkpoint(app.store.conn()).await,
        }
        .map_err(failed)?;
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
        let conn = app.store.conn();
        let size = match tree_size {
            Some(s) => s,
            None => log::size(conn).await.map_err(failed)?,
        };
        let Some(leaf) = log::leaf_of_event(conn, id).await.map_err(failed)? else {
            return Ok(None);
        };
        let Some((position, leaf_hash, path, root)) = audit::inclusion_proof(conn, id, size)
            .await
            .map_err(failed)?
        else {
            return Ok(None);
        };
        Ok(Some(InclusionProof {
            position,
            tree_size: size,
            event_hash: leaf.leaf_hash,
            leaf_hash: hex::encode(leaf_hash),
            path: path.iter().map(hex::encode).collect(),
            root: hex::encode(root),
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
        let proof = audit::consistency_proof(app.store.conn(), from, to)
            .await
            .map_err(failed)?;
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

#[Object]
impl AuditMutation {
    /// Signs a checkpoint of the log as it is now (or returns the existing one of this size).
    async fn create_checkpoint(&self, ctx: &Context<'_>) -> Result<Checkpoint> {
        let app = auditor(ctx)?;
        let key = app
            .audit_key
            .as_ref()
            .ok_or_else(|| invalid("this instance has no audit key (--audit-key-file)"))?;
        let c = audit::create_checkpoint(&app.store, key, app.now())
            .await
            .map_err(failed)?;
        Ok(c.into())
    }
}
