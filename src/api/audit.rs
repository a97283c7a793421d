//! Auditors' view of the tamper-evident log: verification, checkpoints, inclusion and
//! consistency proofs. Every field here needs the `read_audit` permission (auditors).

use super::case::{CaseTimer, CaseTrackState, EventNode, case_timers, event_nodes, track_states};
use super::directory::AgencyNode;
use super::error::{IntoGql, invalid};
use super::sharing::ConsentNode;
use super::workflow::WorkflowNode;
use super::{app, ids, page_size, principal};
use crate::audit::replay::Snapshot;
use crate::audit::{self, merkle};
use crate::domain::EventKind;
use crate::domain::Ground;
use crate::domain::{CaseStatus, DataGroup, OverrideBasis};
use crate::policy::{Action, Facts};
use crate::service::audit::{Disclosure, DisclosureKind};
use crate::service::{App, ServiceError, cases, directory};
use crate::store::audit::{self as log, StoredCheckpoint};
use crate::store::events::EventSearch;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
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

fn failed(e: crate::store::StoreError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    ServiceError::from(e).extend()
}

/// What to search events by (`auditEvents`); every given filter must hold.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Events of this case.
    pub case_id: Option<ID>,
    /// Events recorded by this agency.
    pub agency_id: Option<ID>,
    /// Events recorded by this user.
    pub actor_id: Option<ID>,
    pub kind: Option<EventKind>,
    /// Firings of this workflow transition (its key).
    pub transition: Option<String>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub until: Option<DateTime<Utc>>,
    /// Recorded under this workflow (its key) ...
    pub workflow_key: Option<String>,
    /// ... and this version of it ("decided under version X").
    pub workflow_version: Option<u32>,
}

fn decode(id: &Option<ID>, kind: &str) -> Result<Option<Uuid>> {
    match id {
        None => Ok(None),
        Some(id) => ids::decode_uuid(id, kind)
            .map(Some)
            .ok_or_else(|| invalid(format!("malformed {kind} ID"))),
    }
}

impl AuditEventFilter {
    fn search(&self) -> Result<EventSearch> {
        Ok(EventSearch {
            case_id: decode(&self.case_id, "Case")?,
            agency_id: decode(&self.agency_id, "Agency")?,
            actor_user_id: decode(&self.actor_id, "User")?,
            kind: self.kind,
            transition: self.transition.clone(),
            from: self.from,
            until: self.until,
            workflow_id: self.workflow_key.clone(),
            workflow_version: self.workflow_version,
        })
    }
}

fn event_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    ids::cursor(&format!(
        "ev:{}|{id}",
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    ))
}

fn event_uncursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let value = ids::uncursor(cursor)?;
    let (at, id) = value.strip_prefix("ev:")?.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

/// A case's machine-readable file and its printable timeline.
#[derive(SimpleObject)]
pub struct CaseFileExport {
    /// The case file (format `trm-case-file/v1`): save it as JSON and check it anywhere with
    /// `trm audit verify-file case.json --trusted-key <public key>`.
    pub document: Json<Value>,
    /// The same as one printable HTML page.
    pub printable: String,
    /// The checkpoint it is anchored to (null when the service has no audit key).
    pub checkpoint: Option<Checkpoint>,
}

/// One disclosure of a case: what left to whom, when, under which consent or override.
pub struct DisclosureNode(pub Disclosure);

#[Object(name = "Disclosure")]
impl DisclosureNode {
    async fn kind(&self) -> DisclosureKind {
        self.0.kind
    }
    /// The referral, transfer or break-glass access.
    async fn id(&self) -> ID {
        let kind = match self.0.kind {
            DisclosureKind::Referral => "Referral",
            DisclosureKind::Transfer => "Transfer",
            DisclosureKind::BreakGlass => "BreakGlassAccess",
        };
        ids::encode(kind, &self.0.id.to_string())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The agency that disclosed (the lead then); null for break-glass.
    #[graphql(name = "fromAgency")]
    async fn disclosing_agency(&self, ctx: &Context<'_>) -> Result<Option<AgencyNode>> {
        let Some(id) = self.0.from_agency_id else {
            return Ok(None);
        };
        Ok(directory::agency(app(ctx)?, id)
            .await
            .gql()?
            .map(AgencyNode))
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Option<AgencyNode>> {
        Ok(directory::agency(app(ctx)?, self.0.to_agency_id)
            .await
            .gql()?
            .map(AgencyNode))
    }
    /// Exactly the groups made visible to the receiver.
    async fn shared_groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
    /// The consent it relied on, if any.
    async fn consent(&self, ctx: &Context<'_>) -> Result<Option<ConsentNode>> {
        let Some(Ground::Consent(id)) = &self.0.ground else {
            return Ok(None);
        };
        Ok(crate::service::audit::consent(app(ctx)?, *id)
            .await
            .gql()?
            .map(ConsentNode))
    }
    /// The override's legal basis, when it relied on one instead of a consent.
    async fn override_basis(&self) -> Option<OverrideBasis> {
        match &self.0.ground {
            Some(Ground::Override { basis, .. }) => Some(*basis),
            _ => None,
        }
    }
    async fn override_justification(&self) -> Option<&str> {
        match &self.0.ground {
            Some(Ground::Override { justification, .. }) => Some(justification),
            _ => None,
        }
    }
    /// The referral's or transfer's status now, or ACTIVE / EXPIRED for break-glass.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// The referral's purpose, or the break-glass justification.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// A case as it stood at a moment, rebuilt from its events alone.
pub struct CaseSnapshotNode {
    pub snapshot: Snapshot,
    pub at: DateTime<Utc>,
}

#[Object(name = "CaseSnapshot")]
impl CaseSnapshotNode {
    /// The moment asked for.
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    async fn reference(&self) -> &str {
        &self.snapshot.record.reference
    }
    /// The case's version then (its number of events).
    async fn version(&self) -> i64 {
        self.snapshot.record.version
    }
    /// The workflow version the case was under then.
    async fn workflow(&self, ctx: &Context<'_>) -> Result<WorkflowNode> {
        Ok(WorkflowNode(
            cases::workflow_of(app(ctx)?, &self.snapshot.record).gql()?,
        ))
    }
    async fn status(&self) -> CaseStatus {
        self.snapshot.record.status
    }
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Option<AgencyNode>> {
        Ok(
            directory::agency(app(ctx)?, self.snapshot.record.lead_agency_id)
                .await
                .gql()?
                .map(AgencyNode),
        )
    }
    async fn origin_country(&self) -> Option<&str> {
        self.snapshot.record.origin_country.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.snapshot.record.updated_at
    }
    async fn states(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTrackState>> {
        let workflow = cases::workflow_of(app(ctx)?, &self.snapshot.record).gql()?;
        Ok(track_states(&workflow, &self.snapshot.record, &language))
    }
    async fn facts(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.snapshot.record.state.facts).unwrap_or_default())
    }
    /// The timers as they stood at that moment.
    async fn timers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTimer>> {
        let workflow = cases::workflow_of(app(ctx)?, &self.snapshot.record).gql()?;
        Ok(case_timers(
            &workflow,
            &self.snapshot.record,
            self.at,
            &language,
        ))
    }
    /// The last event recorded by then.
    async fn last_event(&self, ctx: &Context<'_>) -> Result<Option<EventNode>> {
        Ok(
            event_nodes(app(ctx)?, vec![self.snapshot.last_event.clone()])
                .await?
                .pop(),
        )
    }
}

#[Object]
impl AuditQuery {
    /// Events across all cases, in time order: by case, acting agency or user, kind,
    /// transition, time range, and the workflow version they were decided under.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EventNode>> {
        let app = app(ctx)?;
        let limit = page_size(first)?;
        let after = match after {
            None => None,
            Some(c) => Some(
                event_uncursor(&c)
                    .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
            ),
        };
        let search = filter.unwrap_or_default().search()?;
        let mut events =
            crate::service::audit::search_events(app, principal(ctx)?, &search, after, limit + 1)
                .await
                .gql()?;
        let has_next = events.len() as u64 > limit;
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let nodes = event_nodes(app, events).await?;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            nodes
                .into_iter()
                .map(|n| Edge::new(event_cursor(n.event.occurred_at, n.event.id), n)),
        );
        Ok(connection)
    }

    /// A case's file for auditors: every event with its inclusion proof and the signed
    /// checkpoint they lead to (a checkpoint is signed now if none covers the case yet).
    async fn case_file(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CaseFileExport>> {
        let app = auditor(ctx)?;
        let p = principal(ctx)?;
        let Some(case_id) = ids::decode_uuid(&id, "Case") else {
            return Err(invalid("malformed Case ID"));
        };
        let Some(case) = cases::get_case(app, p, case_id).await.gql()? else {
            return Ok(None);
        };
        let file = crate::service::audit::case_file(app, p, &case)
            .await
            .gql()?;
        Ok(Some(CaseFileExport {
            printable: audit::printable::render(&file),
            checkpoint: file
                .checkpoint
                .as_ref()
                .map(|c| Checkpoint::from(StoredCheckpoint::from(c))),
            document: Json(serde_json::to_value(&file).unwrap_or_default()),
        }))
    }

    /// Recomputes every case's hash chain, the Merkle log and every checkpoint (as
    /// `trm audit verify` does) and names the first bad record.
    async fn audit_verification(&self, ctx: &Context<'_>) -> Result<AuditVerification> {
        let app = auditor(ctx)?;
        let r = audit::verify::verify(app.store.conn(), &app.workflows, &app.trusted_audit_keys())
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
            .audit_key()
            .ok_or_else(|| invalid("this instance has no audit key (--audit-key-file)"))?;
        let c = audit::create_checkpoint(&app.store, key, app.now())
            .await
            .map_err(failed)?;
        Ok(c.into())
    }
}
