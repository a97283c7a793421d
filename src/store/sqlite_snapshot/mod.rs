//! One read transaction on a SQLite file through SQLite's C API (`rusqlite`), on a thread of its
//! own: the long reads of the audit verifier (`service::audit_verify`), which read every case,
//! event and log leaf of the database.
//!
//! Why not the pool: sqlx's SQLite driver runs each statement on a worker thread and hands every
//! row over a channel to the async side, copying each column first; at a million events that
//! hand-over, not the checks, was most of the verifier's time (`BENCHMARKS.md`). Here rows are
//! stepped and decoded where they are read, into the same records the store builds from its
//! models (`cases::to_record`, `events::to_event`), and the next page is read while the caller
//! checks the last one.
//!
//! Everything a verification reads goes through the one transaction, so it sees one snapshot
//! (WAL: writers go on meanwhile). Nothing here writes: the connection is `query_only`. Several
//! readers can share one snapshot ([`Snapshot::open_shared`]), each on a thread of its own, to
//! read different parts of the database at once.
//!
//! Over the house's 400 lines (and 600): each query stands beside the decoder of its
//! columns (a decoder read apart from its SQL's column order is how columns get swapped); how a
//! column is read is in `columns.rs`, how several readers are lined up on one snapshot in
//! `shared.rs`.

use super::audit_snapshot::{AuditSnapshot, CasePage, part_ends};
use super::entities::{case, case_event, case_timer, case_track, checkpoint};
use super::{StoreError, audit, cases, events};
use crate::domain::audit_log::{AuditRow, Leaf, LeafWithEvent, PendingLeaf, StoredCheckpoint};
use crate::workflow::Changes;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, params};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

mod columns;
mod shared;
#[cfg(test)]
mod tests;

pub use columns::file_of;
pub(super) use columns::parse_time;
use columns::{failed, json_at, json_opt_at, sql, time_at, time_opt_at, uuid_at, uuid_opt_at};

type Job = Box<dyn FnOnce(&mut Reader) + Send>;

/// How long a reader (or the lock that lines readers up) waits for SQLite's locks (in unit
/// tests, briefly: one of them holds the lock on purpose).
const BUSY: std::time::Duration = if cfg!(test) {
    std::time::Duration::from_millis(300)
} else {
    std::time::Duration::from_secs(10)
};

/// A reader's page cache (KiB). Twice SQLite's default: a reader walks its tables and indexes
/// in order, so a larger cache was measured no faster (32 MiB each: the verification of 1M
/// events took 85 MB more memory, and no less time).
const CACHE_KIB: i64 = 4 * 1024;

/// The upper bound of an unbounded page of cases: after every 16-byte id.
const AFTER_EVERY_ID: [u8; 17] = [0xff; 17];

/// The snapshot: a handle on the reading thread. Dropped, the thread ends and the transaction
/// with it.
pub struct Snapshot {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Snapshot {
    /// Opens `file` and begins the read transaction, which takes its snapshot then.
    pub async fn open(file: &Path) -> Result<Snapshot, StoreError> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let (ready, opened) = tokio::sync::oneshot::channel();
        let file = file.to_path_buf();
        std::thread::Builder::new()
            .name("trm-snapshot".into())
            .spawn(move || match Reader::open(file) {
                Ok(mut reader) => {
                    let _ = ready.send(Ok(()));
                    while let Ok(job) = queue.recv() {
                        job(&mut reader);
                        reader.read_ahead();
                    }
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                }
            })
            .map_err(|e| failed(format!("cannot start the reading thread: {e}")))?;
        opened
            .await
            .map_err(|_| failed("the reading thread ended".into()))??;
        Ok(Snapshot { jobs })
    }

    /// Runs `read` on the reading thread and answers what it returns.
    async fn run<T: Send + 'static>(
        &self,
        read: impl FnOnce(&mut Reader) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |reader| {
                let _ = answer.send(read(reader));
            }))
            .map_err(|_| failed("the reading thread ended".into()))?;
        answered
            .await
            .map_err(|_| failed("the reading thread ended".into()))?
    }

    async fn first_event_where(
        &self,
        condition: &'static str,
    ) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
        self.run(move |r| {
            let sql_text = events::first_event_sql(condition);
            let mut stmt = r.conn.prepare(&sql_text).map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            match rows.next().map_err(sql)? {
                Some(row) => Ok(Some((
                    uuid_at(row, 0).map_err(sql)?,
                    uuid_at(row, 1).map_err(sql)?,
                    row.get(2).map_err(sql)?,
                ))),
                None => Ok(None),
            }
        })
        .await
    }
}

impl AuditSnapshot for Snapshot {
    /// How many events the database holds.
    async fn count_events(&self) -> Result<u64, StoreError> {
        self.run(|r| {
            let n: i64 = r
                .conn
                .query_row("SELECT count(*) FROM case_events", [], |row| row.get(0))
                .map_err(sql)?;
            Ok(u64::try_from(n).unwrap_or_default())
        })
        .await
    }

    async fn case_bounds(&self, parts: u64) -> Result<Vec<Uuid>, StoreError> {
        self.run(move |r| {
            let count: i64 = r
                .conn
                .query_row("SELECT count(*) FROM cases", [], |row| row.get(0))
                .map_err(sql)?;
            let count = u64::try_from(count).unwrap_or_default();
            let mut stmt = r
                .conn
                .prepare("SELECT id FROM cases ORDER BY id LIMIT 1 OFFSET ?1")
                .map_err(sql)?;
            let mut bounds: Vec<Uuid> = Vec::new();
            for offset in part_ends(count, parts) {
                let offset = i64::try_from(offset).unwrap_or(i64::MAX);
                let mut rows = stmt.query(params![offset]).map_err(sql)?;
                if let Some(row) = rows.next().map_err(sql)? {
                    let id = uuid_at(row, 0).map_err(sql)?;
                    bounds.push(id);
                }
            }
            Ok(bounds)
        })
        .await
    }

    /// Up to `limit` cases by id after `after` and up to `upto`, each with its events by `seq`;
    /// the next page is read while the caller checks this one.
    async fn cases_after(
        &self,
        after: Option<Uuid>,
        upto: Option<Uuid>,
        limit: u64,
    ) -> Result<CasePage, StoreError> {
        self.run(move |r| match r.page(Ask::Cases { after, upto, limit }) {
            Page::Cases(page) => page,
            Page::Leaves(_) => Err(failed("a page of leaves for a page of cases".into())),
        })
        .await
    }

    /// Up to `limit` leaves from position `from` on, each with its event; the next page is read
    /// while the caller checks this one.
    async fn leaves_with_events(
        &self,
        from: i64,
        limit: u64,
    ) -> Result<Vec<LeafWithEvent>, StoreError> {
        self.run(move |r| match r.page(Ask::Leaves { from, limit }) {
            Page::Leaves(page) => page,
            Page::Cases(_) => Err(failed("a page of cases for a page of leaves".into())),
        })
        .await
    }

    /// The leaves at positions `from..to`.
    async fn leaves(&self, from: i64, to: i64) -> Result<Vec<Leaf>, StoreError> {
        self.run(move |r| {
            let mut stmt = r
                .conn
                .prepare_cached(
                    "SELECT position, event_id, leaf_hash, appended_at FROM audit_log \
                     WHERE position >= ?1 AND position < ?2 ORDER BY position",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![from, to], |row| {
                    Ok(Leaf {
                        position: row.get(0)?,
                        event_id: uuid_at(row, 1)?,
                        leaf_hash: row.get(2)?,
                        appended_at: time_at(row, 3)?,
                    })
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)
        })
        .await
    }

    /// The first event (by case and `seq`) whose case does not exist.
    async fn first_orphan(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
        self.first_event_where(events::ORPHAN).await
    }

    /// The first event (by case and `seq`) that has no leaf in the log.
    async fn first_not_in_log(&self) -> Result<Option<(Uuid, Uuid, i64)>, StoreError> {
        self.first_event_where(events::NOT_IN_LOG).await
    }

    /// The position of the first leaf whose event already has a leaf at a lower position.
    async fn first_repeated_leaf(&self) -> Result<Option<i64>, StoreError> {
        self.run(|r| {
            let mut stmt = r.conn.prepare(audit::FIRST_REPEATED_LEAF).map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            match rows.next().map_err(sql)? {
                Some(row) => Ok(Some(row.get(0).map_err(sql)?)),
                None => Ok(None),
            }
        })
        .await
    }

    /// The leaves waiting for a position (none on SQLite, unless written by hand).
    async fn pending(&self) -> Result<Vec<PendingLeaf>, StoreError> {
        self.run(|r| {
            let mut stmt = r.conn.prepare(audit::PENDING).map_err(sql)?;
            let rows = stmt
                .query_map([], |row| {
                    let event = match uuid_opt_at(row, 2)? {
                        Some(case_id) => Some((case_id, row.get(3)?, row.get(4)?)),
                        None => None,
                    };
                    Ok(PendingLeaf {
                        event_id: uuid_at(row, 0)?,
                        leaf_hash: row.get(1)?,
                        event,
                        also_at: row.get(5)?,
                    })
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)
        })
        .await
    }

    /// Every checkpoint, smallest first.
    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        self.run(|r| {
            let mut stmt = r
                .conn
                .prepare(
                    "SELECT tree_size, root_hash, created_at, key_id, public_key, signature \
                     FROM checkpoints ORDER BY tree_size",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map([], |row| {
                    Ok(audit::to_checkpoint(checkpoint::Model {
                        tree_size: row.get(0)?,
                        root_hash: row.get(1)?,
                        created_at: time_at(row, 2)?,
                        key_id: row.get(3)?,
                        public_key: row.get(4)?,
                        signature: row.get(5)?,
                    }))
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)
        })
        .await
    }

    /// A case's reference, if the case exists.
    async fn case_reference(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        self.run(move |r| {
            let mut stmt = r
                .conn
                .prepare("SELECT reference FROM cases WHERE id = ?1")
                .map_err(sql)?;
            let mut rows = stmt.query(params![id.as_bytes().as_slice()]).map_err(sql)?;
            match rows.next().map_err(sql)? {
                Some(row) => Ok(Some(row.get(0).map_err(sql)?)),
                None => Ok(None),
            }
        })
        .await
    }
}

/// A question for a page, of cases or of log leaves.
#[derive(Clone, Copy, PartialEq)]
enum Ask {
    Cases {
        after: Option<Uuid>,
        upto: Option<Uuid>,
        limit: u64,
    },
    Leaves {
        from: i64,
        limit: u64,
    },
}

/// A page read, as the question it answers asked for it.
enum Page {
    Cases(Result<CasePage, StoreError>),
    Leaves(Result<Vec<LeafWithEvent>, StoreError>),
}

impl Page {
    /// The question for the page after this one (`None`: this one was the last, or failed).
    fn next(&self, ask: Ask) -> Option<Ask> {
        match (self, ask) {
            (Page::Cases(Ok(page)), Ask::Cases { upto, limit, .. })
                if page.len() as u64 == limit =>
            {
                page.last().map(|(case, _)| Ask::Cases {
                    after: Some(case.id),
                    upto,
                    limit,
                })
            }
            (Page::Leaves(Ok(page)), Ask::Leaves { limit, .. }) if page.len() as u64 == limit => {
                page.last().map(|(leaf, _)| Ask::Leaves {
                    from: leaf.position + 1,
                    limit,
                })
            }
            _ => None,
        }
    }
}

/// The reading thread's side: the connection in its transaction, and the page read ahead.
struct Reader {
    conn: Connection,
    /// The question the last answer leads to, to read once the answer is sent.
    next: Option<Ask>,
    /// The page read for it.
    ahead: Option<(Ask, Page)>,
}

impl Reader {
    fn open(file: PathBuf) -> Result<Reader, StoreError> {
        // Read-write without create: a read-only open of a WAL file fails when its shared-memory
        // file must be created; `query_only` keeps the connection from writing anything.
        let conn = Connection::open_with_flags(
            &file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sql)?;
        conn.busy_timeout(BUSY).map_err(sql)?;
        // (Memory-mapped reads were tried: no faster, and the mapped file counts as the
        // process's memory.)
        conn.execute_batch(&format!(
            "PRAGMA query_only = 1; PRAGMA cache_size = -{CACHE_KIB}; BEGIN"
        ))
        .map_err(sql)?;
        // The snapshot is taken at the transaction's first read: now, not at the first page.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(sql)?;
        Ok(Reader {
            conn,
            next: None,
            ahead: None,
        })
    }

    /// The page `ask` asks for: the one read ahead if it answers it, else read now; the next
    /// one is read once this answer is sent ([`Reader::read_ahead`]).
    fn page(&mut self, ask: Ask) -> Page {
        let page = match self.ahead.take() {
            Some((asked, page)) if asked == ask => page,
            _ => self.read(ask),
        };
        self.next = page.next(ask);
        page
    }

    /// Reads the page the last answer leads to, if any.
    fn read_ahead(&mut self) {
        self.ahead = self.next.take().map(|ask| (ask, self.read(ask)));
    }

    fn read(&mut self, ask: Ask) -> Page {
        match ask {
            Ask::Cases { after, upto, limit } => Page::Cases(self.case_page(after, upto, limit)),
            Ask::Leaves { from, limit } => Page::Leaves(self.leaf_page(from, limit)),
        }
    }

    fn case_page(
        &mut self,
        after: Option<Uuid>,
        upto: Option<Uuid>,
        limit: u64,
    ) -> Result<CasePage, StoreError> {
        let after = after.map(|id| id.as_bytes().to_vec()).unwrap_or_default();
        let upto = upto.map_or(AFTER_EVERY_ID.to_vec(), |id| id.as_bytes().to_vec());
        let rows: Vec<case::Model> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, reference, workflow_id, workflow_version, country, lead_agency_id, \
                            status, facts, version, opened_by, opened_at, updated_at, \
                            follows_case_id, origin_country, opened_by_agency_id, last_hash \
                     FROM cases WHERE id > ?1 AND id <= ?3 ORDER BY id LIMIT ?2",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![after, limit as i64, upto], |row| {
                    Ok(case::Model {
                        id: uuid_at(row, 0)?,
                        reference: row.get(1)?,
                        workflow_id: row.get(2)?,
                        workflow_version: row.get(3)?,
                        country: row.get(4)?,
                        lead_agency_id: uuid_at(row, 5)?,
                        status: row.get(6)?,
                        facts: json_at(row, 7)?,
                        version: row.get(8)?,
                        opened_by: uuid_at(row, 9)?,
                        opened_at: time_at(row, 10)?,
                        updated_at: time_at(row, 11)?,
                        follows_case_id: uuid_opt_at(row, 12)?,
                        origin_country: row.get(13)?,
                        opened_by_agency_id: uuid_opt_at(row, 14)?,
                        last_hash: row.get(15)?,
                    })
                })
                .map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(Vec::new());
        };
        let range = [first.id.as_bytes().to_vec(), last.id.as_bytes().to_vec()];

        let mut tracks: HashMap<Uuid, Vec<case_track::Model>> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT case_id, track, state, stage, entered_at FROM case_tracks \
                     WHERE case_id >= ?1 AND case_id <= ?2",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![range[0], range[1]], |row| {
                    Ok(case_track::Model {
                        case_id: uuid_at(row, 0)?,
                        track: row.get(1)?,
                        state: row.get(2)?,
                        stage: row.get(3)?,
                        entered_at: time_at(row, 4)?,
                    })
                })
                .map_err(sql)?;
            for t in rows {
                let t = t.map_err(sql)?;
                tracks.entry(t.case_id).or_default().push(t);
            }
        }
        let mut timers: HashMap<Uuid, Vec<case_timer::Model>> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT case_id, timer, started_at, due_at, stopped_at, paused_at, kind, \
                            warn_at, fired_at FROM case_timers \
                     WHERE case_id >= ?1 AND case_id <= ?2",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![range[0], range[1]], |row| {
                    Ok(case_timer::Model {
                        case_id: uuid_at(row, 0)?,
                        timer: row.get(1)?,
                        started_at: time_at(row, 2)?,
                        due_at: time_at(row, 3)?,
                        stopped_at: time_opt_at(row, 4)?,
                        paused_at: time_opt_at(row, 5)?,
                        kind: row.get(6)?,
                        warn_at: time_opt_at(row, 7)?,
                        fired_at: time_opt_at(row, 8)?,
                    })
                })
                .map_err(sql)?;
            for t in rows {
                let t = t.map_err(sql)?;
                timers.entry(t.case_id).or_default().push(t);
            }
        }
        let mut events: HashMap<Uuid, Vec<AuditRow>> = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT id, case_id, seq, kind, transition, track, from_state, to_state, \
                            reason, reason_shared_as, reason_to, changes, workflow_id, \
                            workflow_version, actor_user_id, actor_agency_id, occurred_at, \
                            prev_hash, hash, details \
                     FROM case_events WHERE case_id >= ?1 AND case_id <= ?2 \
                     ORDER BY case_id, seq",
                )
                .map_err(sql)?;
            let rows = stmt
                .query_map(params![range[0], range[1]], |row| {
                    let changes = match row.get_ref(11)? {
                        ValueRef::Text(t) | ValueRef::Blob(t) => {
                            serde_json::from_slice::<Changes>(t).map_err(|e| e.to_string())
                        }
                        _ => Err("changes: not JSON text".to_string()),
                    };
                    let model = case_event::Model {
                        id: uuid_at(row, 0)?,
                        case_id: uuid_at(row, 1)?,
                        seq: row.get(2)?,
                        kind: row.get(3)?,
                        transition: row.get(4)?,
                        track: row.get(5)?,
                        from_state: row.get(6)?,
                        to_state: row.get(7)?,
                        reason: row.get(8)?,
                        reason_shared_as: json_opt_at(row, 9)?,
                        reason_to: uuid_opt_at(row, 10)?,
                        // Parsed below, straight into `Changes`.
                        changes: serde_json::Value::Null,
                        workflow_id: row.get(12)?,
                        workflow_version: row.get(13)?,
                        actor_user_id: uuid_at(row, 14)?,
                        actor_agency_id: uuid_at(row, 15)?,
                        occurred_at: time_at(row, 16)?,
                        prev_hash: row.get(17)?,
                        hash: row.get(18)?,
                        details: json_opt_at(row, 19)?,
                    };
                    Ok((model, changes))
                })
                .map_err(sql)?;
            for row in rows {
                let (m, changes) = row.map_err(sql)?;
                let (id, case_id, seq) = (m.id, m.case_id, m.seq);
                let event = changes
                    .map_err(|e| format!("corrupt data: event {id}: {e}"))
                    .and_then(|c| events::to_event_with(m, c).map_err(|e| e.to_string()));
                events
                    .entry(case_id)
                    .or_default()
                    .push((id, case_id, seq, event));
            }
        }
        rows.into_iter()
            .map(|row| {
                let id = row.id;
                let record = cases::to_record(
                    row,
                    tracks.remove(&id).unwrap_or_default(),
                    timers.remove(&id).unwrap_or_default(),
                )?;
                Ok((record, events.remove(&id).unwrap_or_default()))
            })
            .collect()
    }

    fn leaf_page(&mut self, from: i64, limit: u64) -> Result<Vec<LeafWithEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&audit::leaves_with_events_sql("?1", "?2"))
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![from, limit as i64], |row| {
                let leaf = Leaf {
                    position: row.get(0)?,
                    event_id: uuid_at(row, 1)?,
                    leaf_hash: row.get(2)?,
                    appended_at: time_at(row, 3)?,
                };
                let event = match uuid_opt_at(row, 4)? {
                    Some(case_id) => Some((case_id, row.get(5)?, row.get(6)?)),
                    None => None,
                };
                Ok((leaf, event))
            })
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }
}
