//! Group commit on SQLite: many write transactions, one `fsync`.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` each commit waits for the disk
//! (about 0.3 ms here, and far more on a slow disk): a writer that commits alone spends most of
//! its time waiting for it. So writes on SQLite run as *members* of a group: the first member
//! opens the group's transaction (`BEGIN IMMEDIATE`) on the one writing connection, each member
//! runs in its own savepoint inside it (a refusal or a conflict rolls back only that member's
//! work, `ROLLBACK TO`), and a member that finishes waits (its savepoint is not released: the
//! group's commit releases them all, one statement fewer a member). The group
//! commits when every writer that was queued behind its members has had its turn: a flush,
//! queued in the same fair (first come, first served) line as the members, commits the
//! transaction, one `fsync` for all, and tells every member the outcome (a member alone in its
//! group with no writer queued behind it commits itself, without a flush). A member is answered —
//! its request acknowledged — only after the commit that holds it: nothing acknowledged can be
//! lost. When the commit fails, every member of the group fails with it, and none was
//! acknowledged.
//!
//! What members must keep to (and the use cases do, through the unit of work): everything a
//! member reads to decide goes through its own transaction, which sees the work of the members
//! before it in the group; the reading pool sees a group's work only once it has committed
//! (see [`super::Store::settled`]).
//!
//! The writing connection is SQLite's C API, run where the member runs ([`direct`]): a
//! statement of a transition takes microseconds there, where handing it to a driver's thread
//! and back cost more than SQLite's work. A member's statements run while it holds the turn,
//! so nothing else uses the connection meanwhile.
//!
//! PostgreSQL needs none of this: each write transaction commits on its own, and the server
//! groups the flushes of concurrent commits itself.

use super::StoreError;
use direct::Direct;
use sea_orm::{DbErr, ExecResult, QueryResult, Statement};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};
use tracing::Instrument;

/// How long a writer waits for its turn before the database is reported unavailable (as the
/// writing pool's acquire timeout did).
const TURN_TIMEOUT: Duration = Duration::from_secs(30);

/// The outcome of a group's commit, as its members see it.
type Outcome = Option<Result<(), Arc<DbErr>>>;

mod direct;
mod txn;
mod values;

use txn::GroupTxn;

/// The writing connection and the group gathering on it.
#[derive(Debug)]
pub(super) struct GroupCommit {
    writer: Arc<Direct>,
    state: Arc<Mutex<Gathering>>,
    stats: Arc<GroupStats>,
    /// How many writers are waiting for their turn (see [`Member::commit`]).
    waiting: Arc<AtomicUsize>,
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

    /// Counts a group committed with `members` members.
    fn add(&self, members: u64) {
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.members.fetch_add(members, Ordering::Relaxed);
        self.largest.fetch_max(members, Ordering::Relaxed);
    }
}

/// The group being gathered: its open transaction, its members so far, and where they wait.
#[derive(Debug, Default)]
struct Gathering {
    txn: Option<GroupTxn>,
    members: u64,
    /// Whether a flush is queued for this group.
    flush_queued: bool,
    outcome: Option<watch::Sender<Outcome>>,
    /// A member ended (dropped) with its savepoint open and not rolled back: its work is undone
    /// (`ROLLBACK TO`) before anything else runs in the group.
    undo: bool,
}

/// Opens a member's savepoint. Every member's has the one name, so that the statements that open and roll
/// back a savepoint are the same texts for every member (prepared once); `ROLLBACK TO` finds
/// the newest savepoint of that name, which is the member's own while it holds the turn.
const OPEN_SAVEPOINT: &str = "SAVEPOINT trm_member";
/// Undoes the work of the member holding the turn (its savepoint stays, empty).
const UNDO_MEMBER: &str = "ROLLBACK TO trm_member";

/// Where a member's savepoint stands. It is opened before the member's first write, not
/// before its first read: what a member only read needs nothing undone. When the member's
/// first statement is a read through [`Member::query_all`], the savepoint is opened at the end
/// of that statement (`SELECT …; SAVEPOINT trm_member`), in its round trip.
const NOT_YET: u8 = 0;
const OPEN: u8 = 1;
/// The first member of a group needs none: no other member's work is in the transaction yet,
/// so undoing its work is rolling the transaction back (at one client, every member).
const WHOLE: u8 = 2;

impl GroupCommit {
    pub(super) fn new(writer: Direct) -> GroupCommit {
        GroupCommit {
            writer: Arc::new(writer),
            state: Arc::new(Mutex::new(Gathering::default())),
            stats: Arc::new(GroupStats::default()),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(super) fn stats(&self) -> &GroupStats {
        &self.stats
    }

    /// A `PRAGMA`'s value on the writing connection, as text, read between groups.
    pub(super) async fn pragma(&self, name: &str) -> Result<String, StoreError> {
        let member = self.begin().await?;
        let rows = member
            .query_all(Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                format!("PRAGMA {name}"),
            ))
            .await?;
        member.commit().await?;
        super::pragma_value(rows.into_iter().next(), name)
    }

    /// Waits for the writer's turn, first come, first served.
    async fn turn(&self) -> Result<OwnedMutexGuard<Gathering>, StoreError> {
        tokio::time::timeout(TURN_TIMEOUT, self.state.clone().lock_owned())
            .await
            .map_err(|_| {
                StoreError::Database(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
            })
    }

    /// Waits for the writer's turn and starts a member in the group's transaction (opened by
    /// the first member); its savepoint is opened with its first write.
    pub(super) async fn begin(&self) -> Result<Member, StoreError> {
        let queued = Waiting::new(&self.waiting);
        let guard = self.turn().await?;
        drop(queued);
        // Held as a turn from here: whatever fails below gives it back with a flush queued, so
        // that a transaction opened here does not keep the write lock.
        let mut turn = Turn {
            guard: Some(guard),
            group: GroupHandle {
                state: self.state.clone(),
                stats: self.stats.clone(),
                waiting: self.waiting.clone(),
            },
        };
        let Some(gathering) = turn.guard.as_mut() else {
            return Err(StoreError::Corrupt("a member without its turn".into()));
        };
        if gathering.undo {
            // Taken back with the rest of the group if it cannot be undone alone.
            let Some(txn) = gathering.txn.as_ref() else {
                return Err(StoreError::Corrupt("work to undo without a group".into()));
            };
            txn.execute_unprepared(UNDO_MEMBER)?;
            gathering.undo = false;
        }
        let txn = match gathering.txn.take() {
            Some(txn) => txn,
            None => {
                let txn = GroupTxn::begin(&self.writer).await?;
                gathering.members = 0;
                gathering.outcome = Some(watch::channel(None).0);
                txn
            }
        };
        // No member has finished in this group: whatever the transaction holds is undone work.
        let first = gathering.members == 0;
        Ok(Member {
            txn: Some(txn),
            savepoint: AtomicU8::new(if first { WHOLE } else { NOT_YET }),
            turn,
        })
    }
}

/// What a member needs to queue the group's flush.
#[derive(Debug, Clone)]
struct GroupHandle {
    state: Arc<Mutex<Gathering>>,
    stats: Arc<GroupStats>,
    waiting: Arc<AtomicUsize>,
}

/// Counts a writer as waiting for its turn while it lives (cancelled or not).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Waiting<'a> {
        count.fetch_add(1, Ordering::SeqCst);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A write in a group: the group's transaction, held for the member's turn, and where its
/// savepoint stands. Dropped unfinished, its work is undone before anything else runs in the
/// group, a flush is queued (so that a group whose members all failed does not keep SQLite's
/// write lock), and the turn passes on.
#[derive(Debug)]
pub(super) struct Member {
    /// The group's transaction, given back when the member ends (`None` once given back).
    txn: Option<GroupTxn>,
    savepoint: AtomicU8,
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

impl Drop for Member {
    fn drop(&mut self) {
        // Unfinished (a failed or cancelled request): give the transaction back, its work to be
        // undone first (statements run to their end where they are sent, so none is midway).
        if let Some(txn) = self.txn.take()
            && let Some(gathering) = self.turn.guard.as_mut()
        {
            match self.savepoint.load(Ordering::Acquire) {
                // Dropped, the transaction is rolled back (the connection runs it next); the
                // next member begins another.
                WHOLE => drop(txn),
                state => {
                    gathering.undo |= state == OPEN;
                    gathering.txn = Some(txn);
                }
            }
        }
    }
}

impl Member {
    fn tx(&self) -> Result<&GroupTxn, DbErr> {
        self.txn
            .as_ref()
            .ok_or_else(|| DbErr::Custom("a member that has ended".into()))
    }

    /// Opens the member's savepoint, unless it is open: before the member's first write.
    fn opened(&self) -> Result<&GroupTxn, DbErr> {
        let txn = self.tx()?;
        if self.savepoint.load(Ordering::Acquire) == NOT_YET {
            txn.execute_unprepared(OPEN_SAVEPOINT)?;
            self.savepoint.store(OPEN, Ordering::Release);
        }
        Ok(txn)
    }

    /// Runs a statement that may write.
    pub(super) async fn execute(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.opened()?.execute(&stmt)
    }

    /// Runs statements text that may write.
    pub(super) async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.opened()?.execute_unprepared(sql)
    }

    /// The first row of a query: a read runs before the savepoint is open.
    pub(super) async fn query_one(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let rows = if only_reads(&stmt.sql) {
            self.tx()?.query_all(&stmt)?
        } else {
            self.opened()?.query_all(&stmt)?
        };
        Ok(rows.into_iter().next())
    }

    /// The rows of a query. A read that comes before the savepoint opens it at its end, in
    /// its round trip: if the statement fails, SQLite stopped before the savepoint (or at it),
    /// so none is open; if it answers, the savepoint is open. (Cancelled midway, the savepoint
    /// may be open with nothing after it: harmless, since the member wrote nothing.)
    pub(super) async fn query_all(&self, mut stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let txn = self.tx()?;
        if self.savepoint.load(Ordering::Acquire) != NOT_YET {
            return txn.query_all(&stmt);
        }
        if !only_reads(&stmt.sql) {
            return self.opened()?.query_all(&stmt);
        }
        stmt.sql = format!("{};\n{OPEN_SAVEPOINT}", stmt.sql);
        let rows = txn.query_all(&stmt)?;
        self.savepoint.store(OPEN, Ordering::Release);
        Ok(rows)
    }

    /// Gives the turn to the next writer and waits for the group's commit (the member's
    /// savepoint is released by it). A member alone in its group with no writer waiting behind
    /// it commits at once, itself: a flush task would find nobody to wait for, and handing the
    /// commit to it costs two wake-ups of another thread (at one client, every transition).
    pub(super) async fn commit(mut self) -> Result<(), StoreError> {
        let txn = self.txn.take();
        let Some(mut guard) = self.turn.guard.take() else {
            return Err(StoreError::Corrupt("a member without its turn".into()));
        };
        let alone = self.savepoint.load(Ordering::Acquire) == WHOLE
            && !guard.flush_queued
            && self.turn.group.waiting.load(Ordering::SeqCst) == 0;
        if alone && let Some(txn) = txn {
            // Nobody subscribed to this group's outcome but this member; the next member
            // begins another group. Cancelled during the commit, only this request's outcome
            // is unknown (its client has gone), as for any request cancelled midway.
            guard.outcome = None;
            guard.members = 0;
            txn.commit().map_err(|e| StoreError::Group(Arc::new(e)))?;
            drop(guard);
            self.turn.group.stats.add(1);
            return Ok(());
        }
        guard.txn = txn;
        guard.members += 1;
        let outcome = guard.outcome.as_ref().map(watch::Sender::subscribe);
        queue_flush(&mut guard, &self.turn.group);
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
    pub(super) async fn rollback(mut self) -> Result<(), StoreError> {
        match self.savepoint.load(Ordering::Acquire) {
            OPEN => {
                self.tx()?.execute_unprepared(UNDO_MEMBER)?;
                self.savepoint.store(NOT_YET, Ordering::Release);
            }
            WHOLE => {
                if let Some(txn) = self.txn.take() {
                    txn.rollback()?;
                }
            }
            _ => {}
        }
        // Dropped: the transaction (if any is left) goes back to the group, and the turn
        // passes on.
        Ok(())
    }
}

/// Whether `sql` only reads: each of its statements a `SELECT`. Conservative (a `;` inside a
/// quoted text makes a piece that is not one, so the statement counts as writing); a statement
/// that writes starts after a `;`, so it cannot pass for a read.
fn only_reads(sql: &str) -> bool {
    sql.split(';').all(|piece| {
        let mut words = piece.split_whitespace();
        words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("SELECT"))
    })
}

/// Queues the flush of the group being gathered, unless one is queued.
fn queue_flush(turn: &mut Gathering, group: &GroupHandle) {
    if !turn.flush_queued
        && turn.txn.is_some()
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        turn.flush_queued = true;
        // Traced as part of the request whose member queued it (its `COMMIT` statement in
        // that request's trace; the others wait for it within their own commit stage).
        runtime.spawn(flush(group.clone()).instrument(tracing::Span::current()));
    }
}

/// Commits the group once every writer queued before this flush has had its turn, and tells
/// its members.
async fn flush(group: GroupHandle) {
    let mut turn = group.state.lock_owned().await;
    turn.flush_queued = false;
    let settled = settle(&mut turn).await;
    drop(turn);
    settled.tell(&group.stats);
}

/// A group's commit, done, to be told to its members.
struct Settled {
    members: u64,
    sender: Option<watch::Sender<Outcome>>,
    outcome: Result<(), Arc<DbErr>>,
}

impl Settled {
    fn tell(self, stats: &GroupStats) {
        if self.outcome.is_ok() && self.members > 0 {
            stats.add(self.members);
        }
        if let Some(sender) = self.sender {
            sender.send_replace(Some(self.outcome));
        }
    }
}

/// Commits the group gathered so far, if any (the turn is held), on a thread of the runtime's
/// blocking pool: its members wait for the `fsync` anyway, and the runtime's workers go on
/// serving other requests meanwhile (a member alone in its group commits where it runs:
/// nobody else waits for that commit, and handing it over would cost two wake-ups).
async fn settle(turn: &mut Gathering) -> Settled {
    let members = std::mem::take(&mut turn.members);
    let sender = turn.outcome.take();
    let undo = std::mem::take(&mut turn.undo);
    let outcome = match turn.txn.take() {
        Some(txn) => {
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || span.in_scope(|| commit(txn, undo)))
                .await
                // The transaction was dropped (rolled back) with the thread's stack.
                .unwrap_or_else(|_| Err(DbErr::Custom("the group's commit failed midway".into())))
                .map_err(Arc::new)
        }
        None => Ok(()),
    };
    Settled {
        members,
        sender,
        outcome,
    }
}

/// Commits the group, after undoing the work of a member dropped last (`undo`); if that cannot
/// be undone alone, the whole group rolls back and fails.
fn commit(txn: GroupTxn, undo: bool) -> Result<(), DbErr> {
    if undo && let Err(e) = txn.execute_unprepared(UNDO_MEMBER) {
        txn.rollback()?;
        return Err(e);
    }
    txn.commit()
}

/// Opens the writing connection on `file` (see [`direct`]).
pub(super) fn open_writer(
    file: &std::path::Path,
    sync: super::SqliteSync,
) -> Result<GroupCommit, StoreError> {
    Ok(GroupCommit::new(Direct::open(file, sync)?))
}

/// The writer's turn with no group open (see [`GroupCommit::exclusive`]).
pub(super) struct Exclusive {
    _turn: OwnedMutexGuard<Gathering>,
}

impl GroupCommit {
    /// Takes the writer's turn once whatever group was gathering has committed (its members
    /// are told), and holds it while the result lives: for what writes the file through
    /// another connection (the migrator).
    pub(super) async fn exclusive(&self) -> Result<Exclusive, StoreError> {
        // Work left by a member dropped last is undone by the group's commit.
        let mut turn = self.turn().await?;
        let settled = settle(&mut turn).await;
        let failed = settled.outcome.clone();
        settled.tell(&self.stats);
        failed.map_err(StoreError::Group)?;
        Ok(Exclusive { _turn: turn })
    }

    /// Commits whatever group is gathering and closes the writing connection; writes fail
    /// after it.
    pub(super) async fn close(&self) -> Result<(), StoreError> {
        let _alone = self.exclusive().await?;
        Ok(self.writer.close()?)
    }
}

/// Runs `sql` on the writing connection between groups (start-up and maintenance pragmas).
pub(super) async fn between_groups(group: &GroupCommit, sql: &str) -> Result<(), StoreError> {
    let member = group.begin().await?;
    member.execute_unprepared(sql).await?;
    member.commit().await
}

#[cfg(test)]
mod tests;
