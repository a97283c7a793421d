//! Several readers of one SQLite file that see one snapshot of it ([`Snapshot::open_shared`]).

use super::columns::failed;
use super::{BUSY, Snapshot};
use crate::store::StoreError;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

impl Snapshot {
    /// `parts` readers of `file` that see one snapshot of it (at least one).
    ///
    /// A read transaction's snapshot is the last commit before it first reads. The readers
    /// begin theirs while another connection holds the write lock (`BEGIN IMMEDIATE`, waiting
    /// for a writer to finish as a writer would): nothing can commit in between, so all see the
    /// same commit. The lock is let go as soon as they have; writers then go on as before.
    /// (SQLite's `sqlite3_snapshot_open` would do it without the lock; the bundled SQLite is
    /// not built with it.) Without the lock (a file that cannot be written, a writer holding
    /// the lock past the busy timeout), one reader.
    pub async fn open_shared(file: &Path, parts: usize) -> Result<Vec<Snapshot>, StoreError> {
        if parts <= 1 {
            return Ok(vec![Snapshot::open(file).await?]);
        }
        let path = file.to_path_buf();
        let gate = tokio::task::spawn_blocking(move || {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY)?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
            Ok::<_, rusqlite::Error>(conn)
        })
        .await
        .map_err(|e| failed(format!("cannot take the write lock: {e}")))?;
        let gate = match gate {
            Ok(gate) => gate,
            Err(e) => {
                // A file that cannot be written (a restored copy on read-only storage), or a
                // writer that held the lock too long: one reader, which needs no lining up.
                tracing::info!(error = %e, "verifying with one reader: the write lock was not had");
                return Ok(vec![Snapshot::open(file).await?]);
            }
        };
        let mut readers = Vec::with_capacity(parts);
        for _ in 0..parts {
            readers.push(Snapshot::open(file).await);
        }
        // Let go of the lock before anything else can fail. Nothing was written; if the
        // rollback fails, closing the connection lets go of the lock all the same.
        tokio::task::spawn_blocking(move || {
            let _ = gate.execute_batch("ROLLBACK");
        })
        .await
        .map_err(|e| failed(format!("cannot let go of the write lock: {e}")))?;
        readers.into_iter().collect()
    }
}
