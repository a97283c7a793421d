//! The whole-database verification (`trm audit verify`, the `auditVerification` query): reads
//! what the pure checks of [`crate::audit::verify`] need, page by page, from one snapshot of the
//! database. On SQLite the snapshot is read through SQLite's C API by readers on threads of their
//! own, one a core, each reading a part of the cases and the next page of it while this one is
//! checked ([`crate::store::sqlite_snapshot`]); on PostgreSQL through the pool, in a read-only
//! repeatable-read transaction. The cases' checks need nothing but the page and the workflows,
//! so each page is checked on a blocking thread of its own, beside the others.

use super::ServiceError;
use super::audit_log::settle;
use crate::audit::verify::{
    LogProblem, Report, Verifier, case_name, check_case, not_in_log, orphan,
};
use crate::store::audit_snapshot::{AuditSnapshot, InTransaction};
use crate::store::sqlite_snapshot::Snapshot;
use crate::store::{Store, StoreError};
use crate::workflow::Registry;
use ed25519_dalek::VerifyingKey;
use sea_orm::{AccessMode, DatabaseBackend, DbErr, IsolationLevel, TransactionTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

/// Cases per page of the chain pass (their events are read with them).
const CASE_PAGE: u64 = 500;
/// Leaves per page of the log pass.
const LEAF_PAGE: u64 = 20_000;
/// The most parts the cases are cut into on SQLite (one reader and one checker each).
const MOST_PARTS: usize = 4;

/// Verifies the whole database (see [`crate::audit::verify`]): it reads the database in pages
/// (memory holds two pages of cases with their events a part, and the log's leaf hashes, 32
/// bytes a leaf), all in one snapshot: on a live database, a case read on one page and its
/// events read by the next query must not straddle a transition committed in between. On
/// SQLite the cases are cut into one part a core (up to `MOST_PARTS`), each with a reader of
/// its own.
pub async fn verify(
    store: &Store,
    workflows: &Arc<Registry>,
    trusted: &[VerifyingKey],
) -> Result<Report, ServiceError> {
    // Leaves committed after this wait in the snapshot for their position: checked, not placed.
    // If they cannot be placed (a leaf someone wrote by hand, say), the verification says why.
    if let Err(e) = settle(store).await {
        tracing::warn!(error = %e, "placing audit-log leaves before verifying failed");
    }
    if let Some(file) = store.sqlite_file() {
        let parts = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MOST_PARTS);
        let readers = Snapshot::open_shared(file, parts).await?;
        return Ok(verify_in(&readers, workflows, trusted).await?);
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
    let report = verify_in(&[InTransaction(&txn)], workflows, trusted).await;
    // Read only: nothing to keep.
    txn.rollback().await?;
    Ok(report?)
}

/// The verification over `sources`: readers of one snapshot (at least one; see [`check_all`]
/// for what each reads).
async fn verify_in(
    sources: &[impl AuditSnapshot],
    workflows: &Arc<Registry>,
    trusted: &[VerifyingKey],
) -> Result<Report, StoreError> {
    let Some(source) = sources.first() else {
        return Err(StoreError::Database(DbErr::Custom(
            "nothing to read the database with".into(),
        )));
    };
    let mut v = Verifier::new(trusted, source.count_events().await?);
    let report = match check_all(source, sources, workflows, &mut v).await? {
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
/// read once, in step 2, as its pages are checked. Step 1 reads the cases through all the
/// `sources` at once ([`check_cases`]); the rest goes through `first`, the first of them.
/// (Reading the log on a reader of its own while the cases are checked was tried: slower on two
/// cores, the log's reader taking the cases' time.)
async fn check_all<S: AuditSnapshot>(
    first: &S,
    sources: &[S],
    workflows: &Arc<Registry>,
    v: &mut Verifier<'_>,
) -> Result<Result<(), String>, StoreError> {
    // 1. Chains, and the stored cases are what their events say; then no event without its case.
    if let Some(problem) = check_cases(sources, workflows).await? {
        return Ok(Err(problem));
    }
    if let Some(event) = first.first_orphan().await? {
        return Ok(Err(orphan(event)));
    }
    // 2. The log.
    if let Some(problem) = check_log(first, v).await? {
        return Ok(Err(described(first, problem).await?));
    }

    // 3. Checkpoints.
    for c in first.checkpoints().await? {
        if let Some(problem) = v.check_checkpoint(&c) {
            return Ok(Err(problem));
        }
    }
    Ok(Ok(()))
}

/// Step 2 over the whole log: its first problem.
async fn check_log(
    source: &impl AuditSnapshot,
    v: &mut Verifier<'_>,
) -> Result<Option<LogProblem>, StoreError> {
    let repeated = source.first_repeated_leaf().await?;
    let mut position = 0i64;
    loop {
        let page = source.leaves_with_events(position, LEAF_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        position = last.position + 1;
        if let Err(problem) = v.check_log_page(&page, repeated) {
            return Ok(Some(problem));
        }
    }
    if let Err(problem) = v.check_pending(&source.pending().await?) {
        return Ok(Some(problem));
    }
    Ok(source.first_not_in_log().await?.map(not_in_log))
}

/// Step 1 over every case: the first problem by case id. The cases are cut by id into one part
/// per source; the parts are read and checked at once.
async fn check_cases<S: AuditSnapshot>(
    sources: &[S],
    workflows: &Arc<Registry>,
) -> Result<Option<String>, StoreError> {
    let bounds = match sources {
        [] | [_] => Vec::new(),
        [first, ..] => first.case_bounds(sources.len() as u64).await?,
    };
    // The first part (by id) that found a problem: the parts after it stop, theirs come later.
    let found = AtomicUsize::new(usize::MAX);
    let parts = sources
        .iter()
        .take(bounds.len() + 1)
        .enumerate()
        .map(|(part, source)| {
            let after = part.checked_sub(1).and_then(|i| bounds.get(i)).copied();
            let upto = bounds.get(part).copied();
            check_part(source, (after, upto), workflows, part, &found)
        });
    let problems = futures::future::try_join_all(parts).await?;
    Ok(problems.into_iter().flatten().next())
}

/// Step 1 over the cases of one part (by id, after `.0` and up to `.1`): its first problem.
async fn check_part(
    source: &impl AuditSnapshot,
    (mut after, upto): (Option<Uuid>, Option<Uuid>),
    workflows: &Arc<Registry>,
    part: usize,
    found: &AtomicUsize,
) -> Result<Option<String>, StoreError> {
    while found.load(Ordering::Relaxed) > part {
        let page = source.cases_after(after, upto, CASE_PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.id);
        let workflows = Arc::clone(workflows);
        let checked = tokio::task::spawn_blocking(move || {
            page.into_iter()
                .find_map(|(case, rows)| check_case(&workflows, &case, rows))
        })
        .await;
        let problem = match checked {
            Ok(problem) => problem,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => {
                return Err(StoreError::Database(DbErr::Custom(format!(
                    "the check of a page of cases did not finish: {e}"
                ))));
            }
        };
        if problem.is_some() {
            found.fetch_min(part, Ordering::Relaxed);
            return Ok(problem);
        }
    }
    Ok(None)
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
