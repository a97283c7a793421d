//! The checks behind `trm audit verify` and the `auditVerification` query: every case's hash
//! chain, the Merkle log and every checkpoint, naming the first bad record. Pure: the
//! [`Verifier`] is fed what the database holds, a page at a time, by whoever reads it
//! (`service::audit_verify`), and keeps only the log's leaf hashes between pages.
//!
//! The checks, in this order, stopping at the first problem: (1) every case, in id order: its
//! chain (events by `seq`, contiguous from 1, `prev_hash` links, the content matches its hash,
//! the case's version is its last `seq` and its last hash that event's hash), and that
//! replaying its events gives the stored case (states, facts, timers, status, lead agency,
//! origin country, workflow version); then that no event belongs to a case that does not exist;
//! (2) the log (positions contiguous from 0, each leaf its event's hash, every event exactly
//! once, at a position or, on PostgreSQL, waiting for one); (3) every checkpoint, smallest first (its signature, by one of the trusted keys when
//! any are given; its root recomputed from the leaves; consistent with the previous one by an
//! RFC 6962 consistency proof).

use super::replay::replay;
use super::{merkle, merkle_leaf, verify_checkpoint};
use crate::domain::audit_log::{AuditRow, Leaf, LeafWithEvent, PendingLeaf, StoredCheckpoint};
use crate::domain::{CaseRecord, Event, GENESIS_HASH};
use crate::workflow::Registry;
use ed25519_dalek::VerifyingKey;
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
    /// Leaves checked that were still waiting for their position (PostgreSQL; see
    /// `store::audit::sequence_pending`): not yet in the tree, so not in `tree_size`.
    pub pending: u64,
}

/// A problem of the log that names a case: the reader looks its reference up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogProblem {
    /// Described in full.
    Found(String),
    /// `{case name}` in the text is to be replaced by the case's name (see [`case_name`]).
    OfCase { case_id: Uuid, text: String },
}

/// "case REF (id)", for naming a case in a problem (`None`: no such case).
pub fn case_name(id: Uuid, reference: Option<&str>) -> String {
    match reference {
        Some(reference) => format!("case {reference} ({id})"),
        None => format!("case {id} (no such case)"),
    }
}

/// The verification in progress (see the module documentation). Step 1 needs nothing of it
/// ([`check_case`]), so that cases can be checked on several threads at once.
pub struct Verifier<'a> {
    trusted: &'a [VerifyingKey],
    checked_events: u64,
    hashes: Vec<merkle::Hash>,
    /// The next log position expected.
    position: i64,
    previous_checkpoint: Option<(i64, merkle::Hash)>,
    pending: u64,
}

impl<'a> Verifier<'a> {
    /// A verification of a log of `checked_events` events.
    pub fn new(trusted: &'a [VerifyingKey], checked_events: u64) -> Self {
        Verifier {
            trusted,
            checked_events,
            hashes: Vec::new(),
            position: 0,
            previous_checkpoint: None,
            pending: 0,
        }
    }

    /// The position from which the log's leaf hashes are still to be taken (see
    /// [`Verifier::add_leaves`]).
    pub fn leaves_taken(&self) -> i64 {
        self.position
    }

    /// Takes the next page of the log's leaves (in position order) for the checkpoints' roots
    /// and the report. Step 2 takes them as it checks them; after a problem, the rest of the
    /// log is taken with this, so that the report's size and root are the whole log's.
    pub fn add_leaves(&mut self, page: &[Leaf]) {
        if let Some(last) = page.last() {
            self.position = last.position + 1;
        }
        self.hashes.extend(
            page.iter()
                .map(|l| merkle_leaf(&l.leaf_hash).unwrap_or([0; 32])),
        );
    }

    /// The report, with `problem` (`None`: everything checked out).
    pub fn report(&self, problem: Option<String>) -> Report {
        Report {
            ok: problem.is_none(),
            first_problem: problem,
            checked_events: self.checked_events,
            tree_size: self.hashes.len() as u64,
            root: hex::encode(merkle::root(&self.hashes)),
            pending: self.pending,
        }
    }

    /// Step 2, for the next page of leaves with their events; `repeated` is the first position
    /// whose event already has a leaf at a lower one.
    pub fn check_log_page(
        &mut self,
        page: &[LeafWithEvent],
        repeated: Option<i64>,
    ) -> Result<(), LogProblem> {
        for (leaf, event) in page {
            let position = self.position;
            let at = || format!("audit log position {position}");
            if leaf.position != self.position {
                return Err(LogProblem::Found(format!(
                    "{}: missing (the next stored is {})",
                    at(),
                    leaf.position
                )));
            }
            let Some((case_id, seq, hash)) = event else {
                return Err(LogProblem::Found(format!(
                    "{}: its event {} does not exist",
                    at(),
                    leaf.event_id
                )));
            };
            // The leaf is its event's hash, and a well-formed one (its Merkle leaf, kept).
            let leaf_hash = merkle_leaf(&leaf.leaf_hash).filter(|_| *hash == leaf.leaf_hash);
            let Some(leaf_hash) = leaf_hash else {
                return Err(LogProblem::OfCase {
                    case_id: *case_id,
                    text: format!(
                        "{}: leaf does not match the hash of {{case name}} seq {seq}",
                        at()
                    ),
                });
            };
            if repeated == Some(self.position) {
                return Err(LogProblem::Found(format!(
                    "{}: event {} appears twice",
                    at(),
                    leaf.event_id
                )));
            }
            self.hashes.push(leaf_hash);
            self.position += 1;
        }
        Ok(())
    }

    /// Step 2, the leaves still waiting for a position (PostgreSQL): each must be the hash of an
    /// existing event that has no placed leaf. They are not in the tree yet, so no checkpoint
    /// covers them; their events' chains were checked in step 1.
    pub fn check_pending(&mut self, pending: &[PendingLeaf]) -> Result<(), LogProblem> {
        for leaf in pending {
            let at = format!(
                "audit log leaf waiting for a position (event {})",
                leaf.event_id
            );
            let Some((case_id, seq, hash)) = &leaf.event else {
                return Err(LogProblem::Found(format!("{at}: its event does not exist")));
            };
            if let Some(position) = leaf.also_at {
                return Err(LogProblem::Found(format!(
                    "{at}: the event appears twice (also at audit log position {position})"
                )));
            }
            if *hash != leaf.leaf_hash || merkle_leaf(&leaf.leaf_hash).is_none() {
                return Err(LogProblem::OfCase {
                    case_id: *case_id,
                    text: format!("{at}: leaf does not match the hash of {{case name}} seq {seq}"),
                });
            }
        }
        self.pending = pending.len() as u64;
        Ok(())
    }

    /// Step 3, for the next checkpoint (smallest first).
    pub fn check_checkpoint(&mut self, c: &StoredCheckpoint) -> Option<String> {
        let at = format!("checkpoint of size {}", c.tree_size);
        if let Err(e) = verify_checkpoint(c, self.trusted) {
            return Some(format!("{at}: {e}"));
        }
        let size = usize::try_from(c.tree_size).unwrap_or(usize::MAX);
        if size > self.hashes.len() {
            return Some(format!(
                "{at}: covers more leaves than the log holds ({}); the log was truncated",
                self.hashes.len()
            ));
        }
        let root = merkle::root(&self.hashes[..size]);
        if hex::encode(root) != c.root_hash {
            return Some(format!(
                "{at}: its root does not match the log; the log was rewritten"
            ));
        }
        if let Some((m, m_root)) = self.previous_checkpoint {
            let m = usize::try_from(m).unwrap_or(usize::MAX);
            let proof = merkle::consistency_proof(&self.hashes[..size], m).unwrap_or_default();
            if !merkle::verify_consistency(m as u64, size as u64, &m_root, &root, &proof) {
                return Some(format!(
                    "{at}: not consistent with the checkpoint of size {m}"
                ));
            }
        }
        self.previous_checkpoint = Some((c.tree_size, root));
        None
    }
}

/// Step 1's end: an event `(id, case, seq)` whose case does not exist.
pub fn orphan((id, case_id, seq): (Uuid, Uuid, i64)) -> String {
    format!("case {case_id} (no such case) seq {seq} (event {id}): its case does not exist")
}

/// Step 2's end: an event `(id, case, seq)` that is not in the log.
pub fn not_in_log((id, case_id, seq): (Uuid, Uuid, i64)) -> LogProblem {
    LogProblem::OfCase {
        case_id,
        text: format!("{{case name}} seq {seq} (event {id}): not in the audit log"),
    }
}

/// Step 1, for one case and its events (by `seq`): the first problem, if any.
pub fn check_case(workflows: &Registry, case: &CaseRecord, rows: Vec<AuditRow>) -> Option<String> {
    let name = case_name(case.id, Some(&case.reference));
    if let Some(problem) = check_chain(&name, case, &rows) {
        return Some(problem);
    }
    let events: Vec<Event> = rows.into_iter().filter_map(|row| row.3.ok()).collect();
    replay_mismatch(workflows, case, &events).map(|p| format!("{name}: {p}"))
}

/// The first problem of one case's chain, if any: `rows` are its events by `seq`.
fn check_chain(name: &str, case: &CaseRecord, rows: &[AuditRow]) -> Option<String> {
    let mut prev = GENESIS_HASH;
    let mut expected = 1i64;
    for (id, _, seq, parsed) in rows {
        // Formatted only for a problem: this runs for every event of the database.
        let at = || format!("{name} seq {seq} (event {id})");
        if *seq != expected {
            return Some(format!(
                "{}: expected seq {expected}; an event is missing or reordered",
                at()
            ));
        }
        let event = match parsed {
            Ok(e) => e,
            Err(e) => return Some(format!("{}: unreadable: {e}", at())),
        };
        if event.prev_hash != prev {
            return Some(format!(
                "{}: prev_hash does not link to the previous event",
                at()
            ));
        }
        if event.compute_hash() != event.hash {
            return Some(format!(
                "{}: content does not match its hash (edited)",
                at()
            ));
        }
        prev = &event.hash;
        expected += 1;
    }
    if case.version != expected - 1 {
        return Some(format!(
            "{name}: version {} but its last event is seq {}; events are missing",
            case.version,
            expected - 1
        ));
    }
    if case.last_hash != prev {
        return Some(format!(
            "{name}: its last hash is not the hash of its last event (edited)"
        ));
    }
    None
}

/// How the stored case differs from what its events say, if it does.
fn replay_mismatch(workflows: &Registry, case: &CaseRecord, events: &[Event]) -> Option<String> {
    let unloaded = std::iter::once((&case.workflow_id, case.workflow_version))
        .chain(events.iter().map(|e| (&e.workflow_id, e.workflow_version)))
        .chain(events.iter().filter_map(|e| {
            e.changes
                .continues_under
                .as_ref()
                .map(|w| (&w.id, w.version))
        }))
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
            "workflow",
            r.workflow_id != case.workflow_id || r.workflow_version != case.workflow_version,
        ),
    ];
    differs
        .iter()
        .find(|(_, d)| *d)
        .map(|(what, _)| format!("its stored {what} differ from what its events say (edited)"))
}
