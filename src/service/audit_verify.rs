//! The whole-database verification (`trm audit verify`, the `auditVerification` query): reads
//! what the pure checks of [`crate::audit::verify`] need, page by page, from one snapshot of the
//! database. On SQLite the snapshot is read through SQLite's C API on a thread of its own, which
//! reads the next page while this one is checked ([`crate::store::sqlite_snapshot`]); on
//! PostgreSQL through the pool, in a read-only repeatable-read transaction.

use super::ServiceError;
use super::audit_log::settle;
use crate::audit::verify::{LogProblem, Report, Verifier, case_name};
use crate::store::audit_snapshot::{AuditSnapshot, InTransaction};
use crate::store::sqlite_snapshot::Snapshot;
use crate::store::{Store, StoreError};
use crate::workflow::Registry;
use ed25519_dalek::VerifyingKey;
use sea_orm::{AccessMode, DatabaseBackend, IsolationLevel, TransactionTrait};

/// Cases per page of the chain pass (their events are read with them).
const CASE_PAGE: u64 = 500;
/// Leaves per page of the log pass.
const LEAF_PAGE: u64 = 20_000;

/// Verifies the whole database (see [`crate::audit::verify`]): it reads the database in pages
/// (memory holds two pages of cases with their events, and the log's leaf hashes, 32 bytes a
/// leaf), all in one snapshot: on a live database, a case read on one page and its events read
/// by the next query must not straddle a transition committed in between.
pub async fn verify(
    store: &Store,
    workflows: &Registry,
    trusted: &[VerifyingKey],
) -> Result<Report, ServiceError> {
    // Leaves committed after this wait in the snapshot for their position: checked, not placed.
    // If they cannot be placed (a leaf someone wrote by hand, say), the verification says why.
    if let Err(e) = settle(store).await {
        tracing::warn!(error = %e, "placing audit-log leaves before verifying failed");
    }
    if let Some(file) = store.sqlite_file() {
        let snapshot = Snapshot::open(file).await?;
        return Ok(verify_in(&snapshot, workflows, trusted).await?);
    }
    let db = store.conn();
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
    let report = verify_in(&InTransaction(&txn), workflows, trusted).await;
    // Read only: nothing to keep.
    txn.rollback().await?;
    Ok(report?)
}

async fn verify_in(
    source: &impl AuditSnapshot,
    workflows: &Registry,
    trusted: &[VerifyingKey],
) -> Result<Report, StoreError> {
    let mut v = Verifier::new(workflows, trusted, source.count_events().await?);
    let report = match check_all(source, &mut v).await? {
        Ok(()) => v.report(None),
        Err(problem) => {
            // The report gives the whole log's size and root even when it stops early.
            loop {
                let from = v.leaves_taken();
                let page = source.leaves(from, from + LEAF_PAGE as i64).await?;
                if page.is_empty() {
                    break;
                }
                v.add_leaves(&page);
            }
            v.report(Some(problem))
        }
    };
    Ok(report)
}

/// The three steps of the verification; the first problem found. The log's leaf hashes are
/// read once, in step 2, as its pages are checked.
async fn check_all(
    source: &impl AuditSnapshot,
    v: &mut Verifier<'_>,
) -> Result<Result<(), String>, StoreError> {
    // 1. Chains, and the stored cases are what their events say.
    let mut after = None;
    loop {
        let page = source.cases_after(after, CASE_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.id);
        for (case, rows) in page {
            if let Some(problem) = v.check_case(&case, rows) {
                return Ok(Err(problem));
            }
        }
    }
    if let Some(orphan) = source.first_orphan().await? {
        return Ok(Err(v.orphan(orphan)));
    }

    // 2. The log.
    let repeated = source.first_repeated_leaf().await?;
    let mut position = 0i64;
    loop {
        let page = source.leaves_with_events(position, LEAF_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        position = last.position + 1;
        if let Err(problem) = v.check_log_page(&page, repeated) {
            return Ok(Err(described(source, problem).await?));
        }
    }
    if let Err(problem) = v.check_pending(&source.pending().await?) {
        return Ok(Err(described(source, problem).await?));
    }
    if let Some(missing) = source.first_not_in_log().await? {
        return Ok(Err(described(source, v.not_in_log(missing)).await?));
    }

    // 3. Checkpoints.
    for c in source.checkpoints().await? {
        if let Some(problem) = v.check_checkpoint(&c) {
            return Ok(Err(problem));
        }
    }
    Ok(Ok(()))
}

/// A log problem in words, with the case it names looked up.
async fn described(source: &impl AuditSnapshot, problem: LogProblem) -> Result<String, StoreError> {
    Ok(match problem {
        LogProblem::Found(text) => text,
        LogProblem::OfCase { case_id, text } => {
            let reference = source.case_reference(case_id).await?;
            text.replace("{case name}", &case_name(case_id, reference.as_deref()))
        }
    })
}
