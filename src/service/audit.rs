//! Auditors' use cases: searching events across cases, the case as it stood at a moment,
//! what was disclosed to whom, the audit log's checkpoints and proofs. All are reads; all need
//! the `read_audit` permission. The case file, which leaves the service, is in
//! [`super::case_file`].

use super::{App, ServiceError};
use crate::access::Principal;
use crate::access::policy::{Action, Facts};
use crate::audit::replay::{Snapshot, replay};
use crate::audit::{self, merkle};
use crate::domain::CaseRecord;
use crate::domain::DataGroup;
use crate::domain::Event;
use crate::domain::Ground;
pub use crate::domain::audit_log::StoredCheckpoint;
use crate::store::audit as log;
use crate::store::disclosures;
use crate::store::events;
pub use crate::store::events::EventSearch;
use crate::store::{break_glass, directory};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Refuses anyone who may not read the audit trail.
pub fn require_auditor(app: &App, p: &Principal) -> Result<(), ServiceError> {
    app.authorize(
        p,
        Action::ReadAudit,
        Facts::default(),
        "only auditors may read the audit trail",
    )
}

/// Events of every case matching `search`, in time order, after the keyset position `after`.
pub async fn search_events(
    app: &App,
    p: &Principal,
    search: &EventSearch,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Event>, ServiceError> {
    require_auditor(app, p)?;
    Ok(events::search(app.store.conn(), search, after, limit).await?)
}

/// A case as it stood at `at` (after every event up to then), or `None` if it did not exist
/// yet. The case must be one the auditor can see.
pub async fn as_of(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
    at: DateTime<Utc>,
) -> Result<Option<Snapshot>, ServiceError> {
    require_auditor(app, p)?;
    let events = events::up_to(app.store.conn(), case.id, at).await?;
    Ok(replay(&app.workflows, case, &events))
}

/// How data left the lead agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DisclosureKind {
    /// A service referral: the receiver sees the shared groups.
    Referral,
    /// A transfer of lead: the receiver sees the shared groups from the offer on.
    Transfer,
    /// Someone opened the case by break-glass.
    BreakGlass,
    /// Another agency's search for the same person was told that the case exists and who leads
    /// it (no data; the purpose is in `reason`).
    Match,
}

/// One disclosure: what left to whom, when, under which consent or override.
#[derive(Debug, Clone)]
pub struct Disclosure {
    pub kind: DisclosureKind,
    /// The referral, transfer or break-glass access; for a match, its access-log entry.
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The agency that disclosed (the lead at the time); `None` for break-glass and a match.
    pub from_agency_id: Option<Uuid>,
    pub to_agency_id: Uuid,
    pub groups: BTreeSet<DataGroup>,
    /// The consent or override; `None` for break-glass (its justification is in `reason`) and
    /// for a transfer request the lead has not decided.
    pub ground: Option<Ground>,
    /// The referral's or transfer's status, or `ACTIVE`/`EXPIRED` for break-glass.
    pub status: String,
    /// The referral's purpose, the break-glass justification, or the search's purpose.
    pub reason: Option<String>,
}

/// Every disclosure of a case, oldest first.
pub async fn disclosures(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
) -> Result<Vec<Disclosure>, ServiceError> {
    require_auditor(app, p)?;
    disclosures_of(app, case).await
}

pub(super) async fn disclosures_of(
    app: &App,
    case: &CaseRecord,
) -> Result<Vec<Disclosure>, ServiceError> {
    let conn = app.store.conn();
    let mut out = Vec::new();
    for r in disclosures::referrals_of_case(conn, case.id).await? {
        out.push(Disclosure {
            kind: DisclosureKind::Referral,
            id: r.id,
            at: r.created_at,
            from_agency_id: Some(r.from_agency_id),
            to_agency_id: r.to_agency_id,
            groups: r.groups,
            ground: Some(r.ground),
            status: r.status.as_str().to_string(),
            reason: Some(r.purpose),
        });
    }
    for t in disclosures::transfers_of_case(conn, case.id).await? {
        out.push(Disclosure {
            kind: DisclosureKind::Transfer,
            id: t.id,
            at: t.created_at,
            from_agency_id: Some(t.from_agency_id),
            to_agency_id: t.to_agency_id,
            groups: t.groups,
            ground: t.ground,
            status: t.status.as_str().to_string(),
            reason: None,
        });
    }
    let now = app.now();
    for b in break_glass::of_case(conn, case.id).await? {
        let law_enforcement = directory::agency_by_id(conn, b.agency_id)
            .await?
            .is_some_and(|a| a.kind.is_law_enforcement());
        out.push(Disclosure {
            kind: DisclosureKind::BreakGlass,
            id: b.id,
            at: b.opened_at,
            from_agency_id: None,
            to_agency_id: b.agency_id,
            groups: DataGroup::ALL
                .iter()
                .copied()
                .filter(|g| *g != DataGroup::Perpetrator || law_enforcement)
                .collect(),
            ground: None,
            status: if b.expires_at > now {
                "ACTIVE"
            } else {
                "EXPIRED"
            }
            .to_string(),
            reason: Some(b.justification),
        });
    }
    for m in crate::store::access_log::of_case(conn, case.id, 10_000)
        .await?
        .into_iter()
        .filter(|r| r.kind == crate::domain::AccessKind::Match)
    {
        out.push(Disclosure {
            kind: DisclosureKind::Match,
            id: m.id,
            at: m.read_at,
            from_agency_id: None,
            to_agency_id: m.agency_id,
            groups: BTreeSet::new(),
            ground: None,
            status: "DISCLOSED".to_string(),
            reason: m.purpose,
        });
    }
    out.sort_by_key(|d| (d.at, d.id));
    Ok(out)
}

/// A consent a disclosure relied on (for auditors' disclosure view, already authorised).
pub async fn consent(
    app: &App,
    id: Uuid,
) -> Result<Option<crate::domain::ConsentRecord>, ServiceError> {
    Ok(disclosures::consent_by_id(app.store.conn(), id).await?)
}

/// Recomputes every case's hash chain, the Merkle log and every checkpoint (as `trm audit
/// verify` does) and names the first bad record.
pub async fn verify(app: &App) -> Result<audit::verify::Report, ServiceError> {
    super::audit_verify::verify(&app.store, &app.workflows, &app.trusted_audit_keys()).await
}

/// The checkpoint of tree size `size`, or the latest one.
pub async fn checkpoint(
    app: &App,
    size: Option<i64>,
) -> Result<Option<StoredCheckpoint>, ServiceError> {
    Ok(match size {
        Some(size) => log::checkpoint_at(app.store.conn(), size).await?,
        None => log::latest_checkpoint(app.store.conn()).await?,
    })
}

/// Signs a checkpoint of the log as it is now (or returns the existing one of this size).
pub async fn create_checkpoint(
    app: &App,
    key: &audit::AuditKey,
) -> Result<StoredCheckpoint, ServiceError> {
    super::audit_log::create_checkpoint(&app.store, key, app.now()).await
}

/// An event's place in the log and the proof that it is there.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub position: i64,
    pub tree_size: i64,
    /// The event's chain hash, hex: the leaf's data.
    pub event_hash: String,
    pub leaf_hash: merkle::Hash,
    pub path: Vec<merkle::Hash>,
    pub root: merkle::Hash,
}

/// Proof that event `id` is in the log of `tree_size` leaves (the current size when not
/// given); `None` when it is not in that tree.
pub async fn inclusion_proof(
    app: &App,
    id: Uuid,
    tree_size: Option<i64>,
) -> Result<Option<Inclusion>, ServiceError> {
    super::audit_log::settle(&app.store).await?;
    let conn = app.store.conn();
    let size = match tree_size {
        Some(s) => s,
        None => log::size(conn).await?,
    };
    let Some(leaf) = log::leaf_of_event(conn, id).await? else {
        return Ok(None);
    };
    let Some((position, leaf_hash, path, root)) =
        super::audit_log::inclusion_proof(conn, id, size).await?
    else {
        return Ok(None);
    };
    Ok(Some(Inclusion {
        position,
        tree_size: size,
        event_hash: leaf.leaf_hash,
        leaf_hash,
        path,
        root,
    }))
}

/// Proof that the log of `from` leaves is a prefix of the log of `to` leaves.
pub async fn consistency_proof(
    app: &App,
    from: i64,
    to: i64,
) -> Result<Option<(merkle::Hash, merkle::Hash, Vec<merkle::Hash>)>, ServiceError> {
    super::audit_log::settle(&app.store).await?;
    super::audit_log::consistency_proof(app.store.conn(), from, to).await
}
