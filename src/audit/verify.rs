//! The verifier behind `trm audit verify` and the `auditVerification` query: recomputes every
//! case's hash chain, the Merkle log and every checkpoint, and names the first bad record.

use super::replay::replay;
use super::{merkle, merkle_leaf, verify_checkpoint};
use crate::domain::CaseRecord;
use crate::domain::GENESIS_HASH;
use crate::store::StoreError;
use crate::store::audit as log;
use crate::store::cases;
use crate::store::events;
use crate::workflow::Registry;
use ed25519_dalek::VerifyingKey;
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseBackend, DatabaseConnection, IsolationLevel,
    TransactionTrait,
};
use std::collections::HashMap;
use uuid::Uuid;

/// What the verifier found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Whether everything checked out.
    pub ok: bool,
    /// The first bad record, described (case reference and id with seq, log position, or
    /// checkpoint size).
    pub first_problem: Option<String>,
    /// How many events were checked.
    pub checked_events: u64,
    /// The log's size (leaves stored).
    pub tree_size: u64,
    /// The root of the log as stored, hex (empty-tree root when empty).
    pub root: String,
}

/// Cases per page of the chain pass (their events are read with them).
const CASE_PAGE: u64 = 500;
/// Leaves per page of the log pass.
const LEAF_PAGE: u64 = 20_000;

/// Checks, in this order, stopping at the first problem: (1) every case, in id order: its chain
/// (events by `seq`, contiguous from 1, `prev_hash` links, the content matches its hash, the
/// case's version is its last `seq`), and that replaying its events gives the stored case
/// (states, facts, timers, status, lead agency, origin country, workflow version); then that no
/// event belongs to a case that does not exist; (2) the log (positions contiguous from 0, each
/// leaf its event's hash, every event exactly once); (3) every checkpoint, smallest first (its
/// signature, by one of `trusted` when not empty; its root recomputed from the leaves;
/// consistent with the previous one by an RFC 6962 consistency proof).
///
/// It reads the database in pages: memory holds one page of cases with their events, and the
/// log's leaf hashes (32 bytes a leaf, for the checkpoints' roots).
///
/// Everything is read in one snapshot (a read-only repeatable-read transaction on PostgreSQL,
/// one read transaction on SQLite): on a live database, a case read on one page and its events
/// read by the next query must not straddle a transition committed in between.
pub async fn verify(
    db: &DatabaseConnection,
    workflows: &Registry,
    trusted: &[VerifyingKey],
) -> Result<Report, StoreError> {
    let txn = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        _ => db.begin().await?,
    };
    let report = verify_in(&txn, workflows, trusted).await;
    // Read only: nothing to keep.
    txn.rollback().await?;
    report
}

async fn verify_in<C: ConnectionTrait>(
    conn: &C,
    workflows: &Registry,
    trusted: &[VerifyingKey],
) -> Result<Report, StoreError> {
    let checked_events = events::count_all(conn).await?;
    let mut hashes: Vec<merkle::Hash> = Vec::new();
    let mut from = 0i64;
    loop {
        let page = log::leaves(conn, from, from + LEAF_PAGE as i64).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        hashes.extend(
            page.iter()
                .map(|l| merkle_leaf(&l.leaf_hash).unwrap_or([0; 32])),
        );
    }
    let report = |problem: Option<String>, hashes: &[merkle::Hash]| Report {
        ok: problem.is_none(),
        first_problem: problem,
        checked_events,
        tree_size: hashes.len() as u64,
        root: hex::encode(merkle::root(hashes)),
    };

    // 1. Chains, and the stored cases are what their events say.
    let mut after = None;
    loop {
        let page = cases::page_by_id(conn, after, CASE_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let ids: Vec<Uuid> = page.iter().map(|c| c.id).collect();
        let mut by_case: HashMap<Uuid, Vec<events::AuditRow>> = HashMap::new();
        for row in events::of_cases_for_audit(conn, &ids).await? {
            by_case.entry(row.1).or_default().push(row);
        }
        for case in &page {
            let rows = by_case.remove(&case.id).unwrap_or_default();
            let name = format!("case {} ({})", case.reference, case.id);
            let problem = match check_chain(&name, Some(case.version), &rows) {
                Some(problem) => Some(problem),
                None => {
                    let events: Vec<crate::domain::Event> =
                        rows.into_iter().filter_map(|row| row.3.ok()).collect();
                    replay_mismatch(workflows, case, &events).map(|p| format!("{name}: {p}"))
                }
            };
            if problem.is_some() {
                return Ok(report(problem, &hashes));
            }
        }
    }
    if let Some((id, case_id, seq)) = events::first_orphan(conn).await? {
        return Ok(report(
            Some(format!(
                "case {case_id} (no such case) seq {seq} (event {id}): its case does not exist"
            )),
            &hashes,
        ));
    }

    // 2. The log.
    let repeated = log::first_repeated_leaf(conn).await?;
    let mut position = 0i64;
    loop {
        let page = log::leaves_with_events(conn, position, LEAF_PAGE).await?;
        if page.is_empty() {
            break;
        }
        for (leaf, event) in page {
            let at = format!("audit log position {position}");
            if leaf.position != position {
                return Ok(report(
                    Some(format!(
                        "{at}: missing (the next stored is {})",
                        leaf.position
                    )),
                    &hashes,
                ));
            }
            let Some((case_id, seq, hash)) = event else {
                return Ok(report(
                    Some(format!("{at}: its event {} does not exist", leaf.event_id)),
                    &hashes,
                ));
            };
            if hash != leaf.leaf_hash || merkle_leaf(&leaf.leaf_hash).is_none() {
                let name = case_name(conn, case_id).await?;
                return Ok(report(
                    Some(format!(
                        "{at}: leaf does not match the hash of {name} seq {seq}"
                    )),
                    &hashes,
                ));
            }
            if repeated == Some(position) {
                return Ok(report(
                    Some(format!("{at}: event {} appears twice", leaf.event_id)),
                    &hashes,
                ));
            }
            position += 1;
        }
    }
    if let Some((id, case_id, seq)) = events::first_not_in_log(conn).await? {
        let name = case_name(conn, case_id).await?;
        return Ok(report(
            Some(format!(
                "{name} seq {seq} (event {id}): not in the audit log"
            )),
            &hashes,
        ));
    }

    // 3. Checkpoints.
    let mut previous: Option<(i64, merkle::Hash)> = None;
    for c in log::checkpoints(conn).await? {
        let at = format!("checkpoint of size {}", c.tree_size);
        if let Err(e) = verify_checkpoint(&c, trusted) {
            return Ok(report(Some(format!("{at}: {e}")), &hashes));
        }
        let size = usize::try_from(c.tree_size).unwrap_or(usize::MAX);
        if size > hashes.len() {
            return Ok(report(
                Some(format!(
                    "{at}: covers more leaves than the log holds ({}); the log was truncated",
                    hashes.len()
                )),
                &hashes,
            ));
        }
        let root = merkle::root(&hashes[..size]);
        if hex::encode(root) != c.root_hash {
            return Ok(report(
                Some(format!(
                    "{at}: its root does not match the log; the log was rewritten"
                )),
                &hashes,
            ));
        }
        if let Some((m, m_root)) = previous {
            let m = m as usize;
            let proof = merkle::consistency_proof(&hashes[..size], m).unwrap_or_default();
            if !merkle::verify_consistency(m as u64, size as u64, &m_root, &root, &proof) {
                return Ok(report(
                    Some(format!(
                        "{at}: not consistent with the checkpoint of size {m}"
                    )),
                    &hashes,
                ));
            }
        }
        previous = Some((c.tree_size, root));
    }
    Ok(report(None, &hashes))
}

/// The first problem of one case's chain, if any: `rows` are its events by `seq`; `version`
/// the stored case's version.
fn check_chain(name: &str, version: Option<i64>, rows: &[events::AuditRow]) -> Option<String> {
    let mut prev = GENESIS_HASH;
    let mut expected = 1i64;
    for (id, _, seq, parsed) in rows {
        let at = format!("{name} seq {seq} (event {id})");
        if *seq != expected {
            return Some(format!(
                "{at}: expected seq {expected}; an event is missing or reordered"
            ));
        }
        let event = match parsed {
            Ok(e) => e,
            Err(e) => return Some(format!("{at}: unreadable: {e}")),
        };
        if event.prev_hash != prev {
            return Some(format!(
                "{at}: prev_hash does not link to the previous event"
            ));
        }
        if event.compute_hash() != event.hash {
            return Some(format!("{at}: content does not match its hash (edited)"));
        }
        prev = &event.hash;
        expected += 1;
    }
    match version {
        Some(version) if version != expected - 1 => Some(format!(
            "{name}: version {version} but its last event is seq {}; events are missing",
            expected - 1
        )),
        _ => None,
    }
}

/// "case REF (id)", for naming a case in a problem.
async fn case_name<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<String, StoreError> {
    Ok(match log::case_reference(conn, id).await? {
        Some(reference) => format!("case {reference} ({id})"),
        None => format!("case {id} (no such case)"),
    })
}

/// How the stored case differs from what its events say, if it does.
fn replay_mismatch(
    workflows: &Registry,
    case: &CaseRecord,
    events: &[crate::domain::Event],
) -> Option<String> {
    let unloaded = std::iter::once((&case.workflow_id, case.workflow_version))
        .chain(events.iter().map(|e| (&e.workflow_id, e.workflow_version)))
        .find(|(id, version)| workflows.get(id, Some(*version)).is_none());
    if let Some((id, version)) = unloaded {
        return Some(format!(
            "cannot be rebuilt: workflow {id} v{version} is not loaded"
        ));
    }
    let Some(rebuilt) = replay(workflows, case, events) else {
        return Some("has no events to rebuild it from".into());
    };
    let r = &rebuilt.record;
    let differs = [
        ("track states", r.state.tracks != case.state.tracks),
        ("facts", r.state.facts != case.state.facts),
        ("timers", r.state.timers != case.state.timers),
        ("status", r.status != case.status),
        ("lead agency", r.lead_agency_id != case.lead_agency_id),
        ("origin country", r.origin_country != case.origin_country),
        (
            "workflow version",
            r.workflow_version != case.workflow_version,
        ),
    ];
    differs
        .iter()
        .find(|(_, d)| *d)
        .map(|(what, _)| format!("its stored {what} differ from what its events say (edited)"))
}
