//! The verifier behind `trm audit verify` and the `auditVerification` query: recomputes every
//! case's hash chain, the Merkle log and every checkpoint, and names the first bad record.

use super::replay::replay;
use super::{merkle, merkle_leaf, verify_checkpoint};
use crate::store::audit as log;
use crate::store::cases::{self, CaseRecord};
use crate::store::events::{self, GENESIS_HASH};
use crate::workflow::Registry;
use ed25519_dalek::VerifyingKey;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::{BTreeMap, HashMap, HashSet};
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

/// Checks, in this order, stopping at the first problem: (1) every case's chain, cases by
/// reference, events by `seq` (contiguous from 1, `prev_hash` links, the content matches its
/// hash, the case's version is its last `seq`), and that replaying its events gives the stored
/// case (states, facts, timers, status, lead agency, origin country, workflow version); (2) the log (positions contiguous from 0, each
/// leaf its event's hash, every event exactly once); (3) every checkpoint, smallest first (its
/// signature, by one of `trusted` when not empty; its root recomputed from the leaves; consistent with the
/// previous one by an RFC 6962 consistency proof).
pub async fn verify<C: ConnectionTrait>(
    conn: &C,
    workflows: &Registry,
    trusted: &[VerifyingKey],
) -> Result<Report, DbErr> {
    let rows = events::all_for_audit(conn).await?;
    let checked_events = rows.len() as u64;
    let mut cases: BTreeMap<(String, Uuid), i64> = BTreeMap::new();
    let mut reference_of: HashMap<Uuid, String> = HashMap::new();
    for (id, reference, version) in log::case_heads(conn).await? {
        reference_of.insert(id, reference.clone());
        cases.insert((reference, id), version);
    }
    let mut by_case: HashMap<Uuid, Vec<&events::AuditRow>> = HashMap::new();
    for row in &rows {
        by_case.entry(row.1).or_default().push(row);
    }
    let name = |case_id: &Uuid| match reference_of.get(case_id) {
        Some(r) => format!("case {r} ({case_id})"),
        None => format!("case {case_id} (no such case)"),
    };

    let leaves = log::leaves(conn, 0, i64::MAX).await?;
    let mut hashes: Vec<merkle::Hash> = Vec::with_capacity(leaves.len());
    let stored_root = |hashes: &[merkle::Hash]| hex::encode(merkle::root(hashes));
    let report = |problem: Option<String>, hashes: &[merkle::Hash]| Report {
        ok: problem.is_none(),
        first_problem: problem,
        checked_events,
        tree_size: leaves.len() as u64,
        root: stored_root(hashes),
    };
    for l in &leaves {
        hashes.push(merkle_leaf(&l.leaf_hash).unwrap_or([0; 32]));
    }

    // 1. Chains: cases in reference order, then events of cases that do not exist.
    let mut order: Vec<Uuid> = cases.keys().map(|(_, id)| *id).collect();
    let mut orphans: Vec<Uuid> = by_case
        .keys()
        .filter(|id| !reference_of.contains_key(id))
        .copied()
        .collect();
    orphans.sort();
    order.extend(orphans);
    for case_id in order {
        let mut prev = GENESIS_HASH.to_string();
        let mut expected = 1i64;
        for (id, _, seq, parsed) in by_case.get(&case_id).into_iter().flatten().copied() {
            let at = format!("{} seq {seq} (event {id})", name(&case_id));
            if *seq != expected {
                return Ok(report(
                    Some(format!(
                        "{at}: expected seq {expected}; an event is missing or reordered"
                    )),
                    &hashes,
                ));
            }
            let event = match parsed {
                Ok(e) => e,
                Err(e) => return Ok(report(Some(format!("{at}: unreadable: {e}")), &hashes)),
            };
            if event.prev_hash != prev {
                return Ok(report(
                    Some(format!(
                        "{at}: prev_hash does not link to the previous event"
                    )),
                    &hashes,
                ));
            }
            if event.compute_hash() != event.hash {
                return Ok(report(
                    Some(format!("{at}: content does not match its hash (edited)")),
                    &hashes,
                ));
            }
            prev = event.hash.clone();
            expected += 1;
        }
        if let Some(version) = reference_of
            .get(&case_id)
            .and_then(|r| cases.get(&(r.clone(), case_id)))
            && *version != expected - 1
        {
            return Ok(report(
                Some(format!(
                    "{}: version {version} but its last event is seq {}; events are missing",
                    name(&case_id),
                    expected - 1
                )),
                &hashes,
            ));
        }
    }

    // 1b. The stored cases are what their events say.
    let mut after = None;
    loop {
        let page = cases::page_by_id(conn, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for case in &page {
            let events: Vec<events::Event> = by_case
                .get(&case.id)
                .into_iter()
                .flatten()
                .filter_map(|row| row.3.as_ref().ok().cloned())
                .collect();
            if let Some(problem) = replay_mismatch(workflows, case, &events) {
                return Ok(report(
                    Some(format!("{}: {problem}", name(&case.id))),
                    &hashes,
                ));
            }
        }
    }

    // 2. The log.
    let hash_of: HashMap<Uuid, (&Uuid, i64, &str)> = rows
        .iter()
        .map(|(id, case_id, seq, parsed)| {
            let hash = parsed.as_ref().map(|e| e.hash.as_str()).unwrap_or("");
            (*id, (case_id, *seq, hash))
        })
        .collect();
    let mut seen: HashSet<Uuid> = HashSet::new();
    for (i, l) in leaves.iter().enumerate() {
        let at = format!("audit log position {i}");
        if l.position != i as i64 {
            return Ok(report(
                Some(format!("{at}: missing (the next stored is {})", l.position)),
                &hashes,
            ));
        }
        let Some((case_id, seq, hash)) = hash_of.get(&l.event_id) else {
            return Ok(report(
                Some(format!("{at}: its event {} does not exist", l.event_id)),
                &hashes,
            ));
        };
        if *hash != l.leaf_hash || merkle_leaf(&l.leaf_hash).is_none() {
            return Ok(report(
                Some(format!(
                    "{at}: leaf does not match the hash of {} seq {seq}",
                    name(case_id)
                )),
                &hashes,
            ));
        }
        if !seen.insert(l.event_id) {
            return Ok(report(
                Some(format!("{at}: event {} appears twice", l.event_id)),
                &hashes,
            ));
        }
    }
    if let Some((id, case_id, seq, _)) = rows.iter().find(|r| !seen.contains(&r.0)) {
        return Ok(report(
            Some(format!(
                "{} seq {seq} (event {id}): not in the audit log",
                name(case_id)
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

/// How the stored case differs from what its events say, if it does.
fn replay_mismatch(
    workflows: &Registry,
    case: &CaseRecord,
    events: &[events::Event],
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
