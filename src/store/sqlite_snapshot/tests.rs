//! Readers that share one snapshot, on a real SQLite file that a writer keeps changing.

use super::{Snapshot, sql};
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

type Fallible = Result<(), Box<dyn std::error::Error>>;

/// How many rows of `t` `reader` sees.
async fn rows_seen(reader: &Snapshot) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(reader
        .run(|r| {
            r.conn
                .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .map_err(sql)
        })
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_opened_together_see_one_snapshot_while_a_writer_commits() -> Fallible {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("snapshot.db");
    Connection::open(&file)?
        .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL)")?;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (file, stop) = (file.clone(), stop.clone());
        std::thread::spawn(move || -> rusqlite::Result<u64> {
            let conn = Connection::open(file)?;
            conn.busy_timeout(std::time::Duration::from_secs(10))?;
            conn.execute_batch("PRAGMA synchronous = OFF")?;
            let mut commits = 0;
            while !stop.load(Ordering::Relaxed) {
                conn.execute("INSERT INTO t VALUES (1)", [])?;
                commits += 1;
            }
            Ok(commits)
        })
    };
    let mut seen = Vec::new();
    for _ in 0..20 {
        let readers = Snapshot::open_shared(&file, 3).await?;
        let mut counts = Vec::new();
        for reader in &readers {
            counts.push(rows_seen(reader).await?);
        }
        assert!(
            counts.iter().all(|c| *c == counts[0]),
            "the readers see different commits: {counts:?}"
        );
        // The writer is not held up by the readers once they are open.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(rows_seen(&readers[0]).await?, counts[0], "a snapshot moved");
        seen.push(counts[0]);
    }
    stop.store(true, Ordering::Relaxed);
    let commits = writer.join().map_err(|_| "the writer panicked")??;
    assert!(commits > 0 && seen.windows(2).all(|w| w[0] <= w[1]));
    assert!(seen.first() < seen.last(), "the writer went on: {seen:?}");
    Ok(())
}

#[tokio::test]
async fn one_reader_is_a_snapshot_of_its_own() -> Fallible {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("one.db");
    Connection::open(&file)?.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL); INSERT INTO t VALUES (1)",
    )?;
    let readers = Snapshot::open_shared(&file, 1).await?;
    assert_eq!(readers.len(), 1);
    assert_eq!(rows_seen(&readers[0]).await?, 1);
    Ok(())
}

#[tokio::test]
async fn without_the_write_lock_one_reader_verifies_alone() -> Fallible {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("locked.db");
    let writer = Connection::open(&file)?;
    writer.execute_batch(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER NOT NULL); INSERT INTO t VALUES (1)",
    )?;
    // A writer holds the lock past the readers' wait.
    writer.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2)")?;
    let readers = Snapshot::open_shared(&file, 3).await?;
    assert_eq!(readers.len(), 1, "one reader when the lock cannot be had");
    assert_eq!(
        rows_seen(&readers[0]).await?,
        1,
        "what was committed, no more"
    );
    writer.execute_batch("COMMIT")?;
    assert_eq!(rows_seen(&readers[0]).await?, 1, "its snapshot stays");
    Ok(())
}
