//! Group commit on SQLite: many write transactions, one `fsync`.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` each commit waits for the disk
//! (about 0.3 ms here, and far more on a slow disk): a writer that commits alone spends most of
//! its time waiting for it. So writes on SQLite run as *members* of a group: the first member
//! opens the group's transaction (`BEGIN IMMEDIATE`) on the one writing connection, each member
//! runs in its own savepoint inside it (a refusal or a conflict rolls back only that member's
//! work, `ROLLBACK TO`), and a member that finishes releases its savepoint and waits. The group
//! commits when every writer that was queued behind its members has had its turn: a flush,
//! queued in the same fair (first come, first served) line as the members, commits the
//! transaction, one `fsync` for all, and tells every member the outcome. A member is answered —
//! its request acknowledged — only after the commit that holds it: nothing acknowledged can be
//! lost. When the commit fails, every member of the group fails with it, and none was
//! acknowledged.
//!
//! What members must keep to (and the use cases do, through the unit of work): everything a
//! member reads to decide goes through its own transaction, which sees the work of the members
//! before it in the group; the reading pool sees a group's work only once it has committed
//! (see [`super::Store::settled`]).
//!
//! PostgreSQL needs none of this: each write transaction commits on its own, and the server
//! groups the flushes of concurrent commits itself.

use super::StoreError;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

/// How long a writer waits for its turn before the database is reported unavailable (as the
/// writing pool's acquire timeout did).
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// The outcome of a group's commit, as its members see it.
type Outcome = Option<Result<(), Arc<DbErr>>>;

/// The writing connection and the group gathering on it.
#[derive(Debug)]
pub(super) struct GroupCommit {
    writer: DatabaseConnection,
    state: Arc<Mutex<Gathering>>,
    stats: Arc<GroupStats>,
}

/// How many groups committed and how many members they held (for `/metrics` and the drills).
#[derive(Debug, Default)]
pub struct GroupStats {
    groups: AtomicU64,
    members: AtomicU64,
    largest: AtomicU64,
}

impl GroupStats {
    /// (groups committed, members committed in them, the largest group).
    pub fn snapshot(&self) -> (u64, u64, u64) {
        (
            self.groups.load(Ordering::Relaxed),
            self.members.load(Ordering::Relaxed),
            self.largest.load(Ordering::Relaxed),
        )
    }
}

/// The group being gathered: its open transaction, its members so far, and where they wait.
#[derive(Debug, Default)]
struct Gathering {
    txn: Option<DatabaseTransaction>,
    members: u64,
    /// Whether a flush is queued for this group.
    flush_queued: bool,
    outcome: Option<watch::Sender<Outcome>>,
}

impl GroupCommit {
    pub(super) fn new(writer: DatabaseConnection) -> GroupCommit {
        GroupCommit {
            writer,
            state: Arc::new(Mutex::new(Gathering::default())),
            stats: Arc::new(GroupStats::default()),
        }
    }

    pub(super) fn stats(&self) -> &GroupStats {
        &self.stats
    }

    /// The writing connection itself (for what must run outside any group: start-up pragmas).
    pub(super) fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Waits for the writer's turn and starts a member: a savepoint in the group's transaction
    /// (opened by the first member).
    pub(super) async fn begin(&self) -> Result<Member, StoreError> {
        let guard = tokio::time::timeout(TURN_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::Database(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
            })?;
        // Held as a turn from here: whatever fails below gives it back with a flush queued, so
        // that a transaction opened here does not keep the write lock.
        let turn = Turn {
            guard: Some(guard),
            group: GroupHandle {
                state: self.state.clone(),
                stats: self.stats.clone(),
            },
        };
        let Some(gathering) = turn.guard.as_ref() else {
            return Err(StoreError::Corrupt("a member without its turn".into()));
        };
        let savepoint = match gathering.txn.as_ref() {
            Some(txn) => txn.begin().await?,
            None => {
                let txn = self
                    .writer
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await?;
                let savepoint = txn.begin().await;
                let mut turn = turn;
                if let Some(gathering) = turn.guard.as_mut() {
                    gathering.txn = Some(txn);
                    gathering.members = 0;
                    gathering.outcome = Some(watch::channel(None).0);
                }
                return Ok(Member {
                    savepoint: savepoint?,
                    turn,
                });
            }
        };
        Ok(Member { savepoint, turn })
    }
}

/// What a member needs to queue the group's flush.
#[derive(Debug, Clone)]
struct GroupHandle {
    state: Arc<Mutex<Gathering>>,
    stats: Arc<GroupStats>,
}

/// A write in a group: its savepoint, and the writer's turn, held until it finishes. Dropped
/// unfinished, its savepoint is rolled back, a flush is queued (so that a group whose members
/// all failed does not keep SQLite's write lock), and the turn passes on.
#[derive(Debug)]
pub(super) struct Member {
    // Declared before the turn, so dropped first: its rollback is queued on the connection
    // before the next member can use it.
    savepoint: DatabaseTransaction,
    turn: Turn,
}

/// The writer's turn, held by a member; given back with a flush queued when dropped.
#[derive(Debug)]
struct Turn {
    guard: Option<OwnedMutexGuard<Gathering>>,
    group: GroupHandle,
}

impl Drop for Turn {
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            queue_flush(&mut guard, &self.group);
        }
    }
}

impl Member {
    pub(super) fn tx(&self) -> &DatabaseTransaction {
        &self.savepoint
    }

    /// Releases the savepoint into the group, gives the turn to the next writer, and waits for
    /// the group's commit.
    pub(super) async fn commit(self) -> Result<(), StoreError> {
        let Member {
            savepoint,
            mut turn,
        } = self;
        savepoint.commit().await?;
        let Some(mut guard) = turn.guard.take() else {
            return Err(StoreError::Corrupt("a member without its turn".into()));
        };
        guard.members += 1;
        let outcome = guard.outcome.as_ref().map(watch::Sender::subscribe);
        queue_flush(&mut guard, &turn.group);
        drop(guard);
        let Some(mut outcome) = outcome else {
            return Err(StoreError::Corrupt("the group has no outcome".into()));
        };
        let settled = outcome.wait_for(Option::is_some).await.map_err(|_| {
            StoreError::Database(DbErr::Custom("the group commit was abandoned".into()))
        })?;
        match settled.as_ref() {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(StoreError::Group(e.clone())),
            None => Err(StoreError::Corrupt(
                "a group settled without an outcome".into(),
            )),
        }
    }

    /// Rolls the member's work back (the group goes on without it).
    pub(super) async fn rollback(self) -> Result<(), StoreError> {
        let Member { savepoint, turn } = self;
        savepoint.rollback().await?;
        drop(turn);
        Ok(())
    }
}

/// Queues the flush of the group being gathered, unless one is queued.
fn queue_flush(turn: &mut Gathering, group: &GroupHandle) {
    if !turn.flush_queued
        && turn.txn.is_some()
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        turn.flush_queued = true;
        runtime.spawn(flush(group.clone()));
    }
}

/// Commits the group once every writer queued before this flush has had its turn, and tells
/// its members.
async fn flush(group: GroupHandle) {
    let mut turn = group.state.lock_owned().await;
    turn.flush_queued = false;
    let members = std::mem::take(&mut turn.members);
    let sender = turn.outcome.take();
    let outcome = match turn.txn.take() {
        Some(txn) => txn.commit().await.map_err(Arc::new),
        None => Ok(()),
    };
    drop(turn);
    if outcome.is_ok() && members > 0 {
        group.stats.groups.fetch_add(1, Ordering::Relaxed);
        group.stats.members.fetch_add(members, Ordering::Relaxed);
        group.stats.largest.fetch_max(members, Ordering::Relaxed);
    }
    if let Some(sender) = sender {
        sender.send_replace(Some(outcome));
    }
}

/// Runs `sql` on the writing connection between groups (start-up and maintenance pragmas).
pub(super) async fn between_groups(group: &GroupCommit, sql: &str) -> Result<(), StoreError> {
    let member = group.begin().await?;
    member.tx().execute_unprepared(sql).await?;
    member.commit().await
}
