//! The storage settings the service promises.

use crate::harness::TestServer;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let s = TestServer::start().await;
    let conn = s.app.store.conn();
    if s.app.store.backend() == DatabaseBackend::Sqlite {
        let pragma = |name: &str| {
            let sql = format!("PRAGMA {name}");
            async move {
                let row = conn
                    .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                    .unwrap()
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "2", "2 = FULL");
        assert_eq!(pragma("foreign_keys").await, "1");
    } else {
        let row = conn
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SHOW fsync".to_string(),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "on");
    }
    s.stop().await;
}

#[tokio::test]
async fn instances_starting_together_on_a_fresh_database_take_turns() {
    use std::sync::Arc;
    use trm::clock::SystemClock;
    use trm::store::StoreOptions;
    let db = crate::harness::TestDatabase::new().await;
    // Loaded once: loading is CPU work that would hold this test's one runtime thread while
    // the other instances wait (with a time limit) for their database connections.
    let registry = trm::startup::load_workflows(&crate::harness::workflows_dir()).unwrap();
    let start = || {
        let url = db.url.clone();
        let registry = registry.clone();
        async move {
            let app = trm::startup::prepare(
                &StoreOptions {
                    url,
                    max_connections: 2,
                    ..Default::default()
                },
                registry,
                Arc::new(SystemClock),
            )
            .await
            .map_err(|e| e.to_string())?;
            trm::service::demo::seed(&app)
                .await
                .map_err(|e| e.to_string())?;
            app.store.clone().close().await.map_err(|e| e.to_string())
        }
    };
    let results = futures::future::join_all((0..4).map(|_| tokio::spawn(start()))).await;
    for r in results {
        assert_eq!(r.unwrap(), Ok(()));
    }
}

/// A change's writes sent together (`store::batch`) mean what they meant one by one, on both
/// databases: each sees the ones before it (on PostgreSQL, statements that could not are never
/// joined), a row that is not there fails the change, a taken key is a conflict, and a NOTIFY
/// sent with them is delivered only with the commit.
#[tokio::test]
async fn a_changes_writes_sent_together_keep_their_order_and_their_failures() {
    use sea_orm::{Database, TransactionTrait, Value};
    use trm::store::StoreError;
    use trm::store::batch::Writes;
    let db = crate::harness::TestDatabase::new().await;
    let url = if crate::harness::on_postgres() {
        db.url.clone()
    } else {
        format!("{}?mode=rwc", db.url)
    };
    let conn = Database::connect(&url).await.unwrap();
    let backend = conn.get_database_backend();
    // `?` placeholders as the backend numbers them.
    let stmt = |text: &str, values: Vec<Value>| {
        let mut sql = String::new();
        let mut n = 0;
        for c in text.chars() {
            if c == '?' && backend == DatabaseBackend::Postgres {
                n += 1;
                sql.push_str(&format!("${n}"));
            } else {
                sql.push(c);
            }
        }
        Statement::from_sql_and_values(backend, sql, values)
    };
    conn.execute_unprepared(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); \
         CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER NOT NULL REFERENCES t (id)); \
         INSERT INTO t (id, v) VALUES (1, 'one')",
    )
    .await
    .unwrap();
    let rows = || async {
        conn.query_all_raw(Statement::from_string(
            backend,
            "SELECT id, v FROM t ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get::<i32>("", "id").unwrap(),
                r.try_get::<String>("", "v").unwrap(),
            )
        })
        .collect::<Vec<_>>()
    };

    let txn = conn.begin().await.unwrap();
    let mut w = Writes::new(backend);
    w.one(stmt(
        "INSERT INTO t (id, v) VALUES (?, ?)",
        vec![2.into(), "two".into()],
    ));
    // A row referring to one inserted beside it.
    w.one(stmt(
        "INSERT INTO u (id, t_id) VALUES (?, ?)",
        vec![1.into(), 2.into()],
    ));
    w.one(stmt(
        "UPDATE t SET v = ? WHERE id = ?",
        vec!["uno".into(), 1.into()],
    ));
    // Reads what the statements before it wrote (one of them its own row).
    w.one(stmt(
        "UPDATE t SET v = v || ? WHERE id = ?",
        vec!["!".into(), 2.into()],
    ));
    w.one(stmt(
        "INSERT INTO t (id, v) VALUES (?, ?)",
        vec![3.into(), "three".into()],
    ));
    w.run(&txn).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        rows().await,
        vec![(1, "uno".into()), (2, "two!".into()), (3, "three".into())]
    );

    // Writes that fail, in a transaction then rolled back: the error.
    let failing = |writes: Vec<(&'static str, i32, i32)>| {
        let (conn, stmt) = (&conn, &stmt);
        async move {
            let txn = conn.begin().await.unwrap();
            let mut w = Writes::new(backend);
            for (sql, a, b) in writes {
                w.one(stmt(sql, vec![a.into(), b.into()]));
            }
            let err = w.run(&txn).await.unwrap_err();
            txn.rollback().await.unwrap();
            err
        }
    };
    const SET: &str = "UPDATE t SET v = CAST(? AS TEXT) WHERE id = ?";
    const REFER: &str = "INSERT INTO u (id, t_id) VALUES (?, ?)";
    // A locked row that is not there: the change fails.
    let err = failing(vec![(SET, 5, 1), (REFER, 2, 1), (SET, 6, 9)]).await;
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    // A key taken is a conflict (the lost-race path of idempotent requests needs it).
    let err = failing(vec![(SET, 7, 1), (REFER, 1, 1)]).await;
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(
        rows().await,
        vec![(1, "uno".into()), (2, "two!".into()), (3, "three".into())]
    );

    // On PostgreSQL a NOTIFY goes with the writes, and reaches a listener only at the commit.
    if backend == DatabaseBackend::Postgres {
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect(&db.url)
            .await
            .unwrap();
        listener.listen("trm_batch_test").await.unwrap();
        let txn = conn.begin().await.unwrap();
        let mut w = Writes::new(backend);
        w.one(stmt(
            "UPDATE t SET v = ? WHERE id = ?",
            vec!["z".into(), 3.into()],
        ));
        w.effect(stmt(
            "SELECT pg_notify(?, ?)",
            vec!["trm_batch_test".into(), "[]".into()],
        ));
        w.run(&txn).await.unwrap();
        let early =
            tokio::time::timeout(std::time::Duration::from_millis(200), listener.recv()).await;
        assert!(early.is_err(), "a notice before the commit");
        txn.commit().await.unwrap();
        let notice = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(notice.payload(), "[]");
    }
    conn.close().await.unwrap();
}

/// On PostgreSQL a change stages its signals instead of sending a `NOTIFY` in its own
/// transaction (which would make every commit of the database wait for the one before): a
/// staged signal is sent only by a later announce (any instance's: one that stops after its
/// commit loses nothing), once, in the order staged; one staged by a change that did not commit
/// is never sent.
#[tokio::test]
async fn signals_staged_with_a_change_are_announced_after_it_commits_once_and_in_order() {
    use trm::service::audit_log::settle;
    use trm::store::batch::Writes;
    use trm::store::notify::stage;
    use trm::store::{Store, StoreOptions};
    if !crate::harness::on_postgres() {
        return; // PostgreSQL only: SQLite delivers within its one process.
    }
    let db = crate::harness::TestDatabase::new().await;
    let open = || async {
        let store = Store::connect(&StoreOptions {
            url: db.url.clone(),
            max_connections: 2,
            ..Default::default()
        })
        .await
        .unwrap();
        store.migrate().await.unwrap();
        store
    };
    // The instance that makes the changes, and another that announces them.
    let (changing, other) = (open().await, open().await);
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect(&db.url)
        .await
        .unwrap();
    listener.listen(trm::service::bus::CHANNEL).await.unwrap();
    let change = |payload: &'static str, commit: bool| {
        let changing = &changing;
        async move {
            let txn = changing.begin_write().await.unwrap();
            let mut writes = Writes::new(DatabaseBackend::Postgres);
            stage(&mut writes, payload.into());
            writes.run(&txn).await.unwrap();
            if commit {
                txn.commit().await.unwrap();
            } else {
                txn.rollback().await.unwrap();
            }
        }
    };
    change("[1]", true).await;
    change("[2]", false).await;
    change("[3]", true).await;
    assert!(quiet(&mut listener).await, "sent with the change's commit");

    settle(&other).await.unwrap();
    let mut heard = Vec::new();
    for _ in 0..2 {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
            .await
            .unwrap()
            .unwrap();
        heard.push(n.payload().to_string());
    }
    assert_eq!(heard, ["[1]", "[3]"]);
    // Sent once: nothing is left for the next announce, by either instance.
    settle(&changing).await.unwrap();
    settle(&other).await.unwrap();
    assert!(quiet(&mut listener).await, "a signal sent twice");
    let left = trm::store::execute_sql(changing.conn(), "DELETE FROM signals_pending")
        .await
        .unwrap();
    assert_eq!(left, 0);
    changing.close().await.ok();
    other.close().await.ok();
}

/// Whether `listener` hears nothing for a while.
async fn quiet(listener: &mut sea_orm::sqlx::postgres::PgListener) -> bool {
    tokio::time::timeout(std::time::Duration::from_millis(300), listener.recv())
        .await
        .is_err()
}
