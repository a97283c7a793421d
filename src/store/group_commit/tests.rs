//! The group's members: what a rollback, a drop or a failed statement undoes, and when a
//! member commits alone.

use super::super::{Store, StoreOptions, WriteTxn};
use super::only_reads;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

async fn store(dir: &tempfile::TempDir) -> Store {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
    let store = Store::connect(&StoreOptions {
        url,
        ..StoreOptions::default()
    })
    .await
    .unwrap();
    let txn = store.begin_write().await.unwrap();
    txn.execute_unprepared("CREATE TABLE t (v TEXT PRIMARY KEY)")
        .await
        .unwrap();
    txn.commit().await.unwrap();
    store
}

fn insert(v: &str) -> Statement {
    Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "INSERT INTO t VALUES (?)",
        [v.into()],
    )
}

fn read() -> Statement {
    Statement::from_string(DatabaseBackend::Sqlite, "SELECT v FROM t ORDER BY v")
}

async fn committed(store: &Store) -> Vec<String> {
    let rows = store.conn().query_all_raw(read()).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "v").unwrap())
        .collect()
}

/// Runs `second` as the member after `first` in the same group: `first` has written "a"
/// and finished (committing) while `second` waited for its turn.
async fn after_a_member<F, Fut>(store: &Store, second: F)
where
    F: FnOnce(WriteTxn) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let first = store.begin_write().await.unwrap();
    first.execute_raw(insert("a")).await.unwrap();
    let s = store.clone();
    let waiting = tokio::spawn(async move { second(s.begin_write().await.unwrap()).await });
    // The second member is queued for the turn before the first finishes (the turn is
    // first come, first served), so both are in one group.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (done, ()) = tokio::join!(first.commit(), async { waiting.await.unwrap() });
    done.unwrap();
    store.settled().await.unwrap();
}

#[tokio::test]
async fn a_member_rolled_back_takes_only_its_own_work_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    after_a_member(&store, |txn| async move {
        // Read first: its savepoint opens at the end of the read.
        assert_eq!(txn.query_all_raw(read()).await.unwrap().len(), 1);
        txn.execute_raw(insert("b")).await.unwrap();
        txn.rollback().await.unwrap();
    })
    .await;
    assert_eq!(committed(&store).await, ["a"]);
    let (groups, members, largest) = store.group_stats().unwrap();
    assert!(
        largest >= 1 && members >= groups,
        "{groups} {members} {largest}"
    );
}

#[tokio::test]
async fn a_member_commits_alone_only_when_no_writer_waits_behind_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let (groups, members, _) = store.group_stats().unwrap();
    // Nobody waiting: the member commits itself, a group of one, visible when answered.
    let alone = store.begin_write().await.unwrap();
    alone.execute_raw(insert("a")).await.unwrap();
    alone.commit().await.unwrap();
    assert_eq!(committed(&store).await, ["a"]);
    let after = store.group_stats().unwrap();
    assert_eq!((after.0 - groups, after.1 - members), (1, 1));
    // A writer queued behind it: both commit in one group.
    let first = store.begin_write().await.unwrap();
    first.execute_raw(insert("b")).await.unwrap();
    let s = store.clone();
    let second = tokio::spawn(async move {
        let txn = s.begin_write().await.unwrap();
        txn.execute_raw(insert("c")).await.unwrap();
        txn.commit().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (done, joined) = tokio::join!(first.commit(), second);
    done.unwrap();
    joined.unwrap();
    let together = store.group_stats().unwrap();
    assert_eq!(
        (together.0 - after.0, together.1 - after.1),
        (1, 2),
        "the first member committed without the writer queued behind it"
    );
    assert_eq!(committed(&store).await, ["a", "b", "c"]);
}

#[tokio::test]
async fn a_member_dropped_unfinished_is_undone_before_the_next_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    after_a_member(&store, |txn| async move {
        txn.query_one_raw(read()).await.unwrap();
        txn.execute_raw(insert("b")).await.unwrap();
        drop(txn);
    })
    .await;
    let third = store.begin_write().await.unwrap();
    third.execute_raw(insert("c")).await.unwrap();
    third.commit().await.unwrap();
    assert_eq!(committed(&store).await, ["a", "c"]);
}

#[tokio::test]
async fn a_member_whose_first_read_fails_undoes_nothing_of_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    after_a_member(&store, |txn| async move {
        // No savepoint of its own was opened: rolling back must not reach the one before.
        let bad = Statement::from_string(DatabaseBackend::Sqlite, "SELECT nothing FROM t");
        assert!(txn.query_all_raw(bad).await.is_err());
        txn.rollback().await.unwrap();
    })
    .await;
    assert_eq!(committed(&store).await, ["a"]);
}

#[tokio::test]
async fn a_member_that_only_read_and_a_conflict_leave_the_group_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    after_a_member(&store, |txn| async move {
        txn.query_all_raw(read()).await.unwrap();
        txn.execute_raw(insert("b")).await.unwrap();
        // A taken key: the statement fails, the member goes on and commits what it wrote.
        assert!(txn.execute_raw(insert("a")).await.is_err());
        txn.commit().await.unwrap();
    })
    .await;
    assert_eq!(committed(&store).await, ["a", "b"]);
}

#[tokio::test]
async fn the_first_member_of_a_group_is_undone_with_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    // Alone in its group, rolled back: no savepoint, the transaction goes.
    let first = store.begin_write().await.unwrap();
    first.query_all_raw(read()).await.unwrap();
    first.execute_raw(insert("x")).await.unwrap();
    first.rollback().await.unwrap();
    // Alone again, dropped midway: the same, when the next member begins.
    let dropped = store.begin_write().await.unwrap();
    dropped.execute_raw(insert("y")).await.unwrap();
    drop(dropped);
    let next = store.begin_write().await.unwrap();
    assert_eq!(next.query_all_raw(read()).await.unwrap().len(), 0);
    next.execute_raw(insert("z")).await.unwrap();
    next.commit().await.unwrap();
    assert_eq!(committed(&store).await, ["z"]);
}

#[tokio::test]
async fn a_taken_key_is_a_conflict_and_rows_read_the_same_from_either_connection() {
    use super::super::StoreError;
    use super::super::entities::workflow_definition as wd;
    use sea_orm::{ActiveValue::Set, EntityTrait};
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    store.migrate().await.unwrap();
    let row = wd::ActiveModel {
        workflow_id: Set("w".into()),
        version: Set(3),
        source_hash: Set("h".into()),
        registered_at: Set(chrono::DateTime::from_timestamp(1_800_000_000, 123_000).unwrap()),
    };
    let txn = store.begin_write().await.unwrap();
    wd::Entity::insert(row.clone()).exec(&txn).await.unwrap();
    // Read back through the writing connection, inside the write: the entity's own types
    // (a 32-bit version, a timestamp).
    let inside = wd::Entity::find().all(&txn).await.unwrap();
    let again = wd::Entity::insert(row)
        .exec(&txn)
        .await
        .map_err(StoreError::from);
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    txn.commit().await.unwrap();
    let outside = wd::Entity::find().all(store.conn()).await.unwrap();
    assert_eq!(inside, outside);
    assert_eq!(outside.len(), 1);
    assert_eq!(outside[0].version, 3);
}

#[tokio::test]
async fn an_in_memory_database_is_refused_with_a_clear_message() {
    // The pool and the writing connection would each open a database of their own.
    for url in ["sqlite::memory:", "sqlite://x.db?mode=memory"] {
        let refused = Store::connect(&StoreOptions {
            url: url.into(),
            ..StoreOptions::default()
        })
        .await
        .map(drop)
        .map_err(|e| e.to_string());
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("in-memory")),
            "{url}: {refused:?}"
        );
    }
}

#[test]
fn what_counts_as_only_reading() {
    assert!(only_reads("SELECT 1"));
    assert!(only_reads("select a FROM t;\n SELECT b FROM u"));
    assert!(!only_reads(
        "SELECT total_changes();\nINSERT INTO t VALUES (?)"
    ));
    assert!(!only_reads("INSERT INTO t SELECT 1"));
    assert!(!only_reads("WITH x AS (SELECT 1) DELETE FROM t"));
    assert!(!only_reads("SELECT 1;"));
    assert!(!only_reads("/* SELECT */ DELETE FROM t"));
    assert!(!only_reads("UPDATE t SET v = 'x; SELECT y'"));
    assert!(!only_reads(""));
}
