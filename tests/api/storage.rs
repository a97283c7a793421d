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
/// joined), a row that is not there fails the change, and a taken key is a conflict. (Signals
/// are staged with the writes and sent after the commit: see the test below.)
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
    if !crate::harness::on_postgres() {
        return; // PostgreSQL only: SQLite delivers within its one process.
    }
    let db = crate::harness::TestDatabase::new().await;
    let (changing, other) = (own_store(&db).await, own_store(&db).await);
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

/// A store of its own on a fresh database (PostgreSQL's tests of the writing connections).
async fn own_store(db: &crate::harness::TestDatabase) -> trm::store::Store {
    let store = trm::store::Store::connect(&trm::store::StoreOptions {
        url: db.url.clone(),
        max_connections: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

/// On PostgreSQL a change is written through connections of its own (`tokio-postgres`), read
/// through the pool (sqlx): every type the entities use reads back the same through either, in
/// the transaction and after it, and a refusal names its constraint as the pool's would.
#[tokio::test]
async fn on_postgres_what_the_writing_connections_write_reads_back_the_same_through_the_pool() {
    use sea_orm::Value;
    use trm::store::{StoreError, execute_sql};
    if !crate::harness::on_postgres() {
        return; // SQLite's writing connection has its own tests (store::group_commit).
    }
    let db = crate::harness::TestDatabase::new().await;
    let store = own_store(&db).await;
    execute_sql(
        store.conn(),
        "CREATE TABLE kinds (id uuid PRIMARY KEY, n int4, big int8, t text, j jsonb, \
         at timestamptz, yes bool, day date, raw bytea, x float8)",
    )
    .await
    .unwrap();
    let id = uuid::Uuid::new_v4();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T19:45:01.123456Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let day = chrono::NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
    let json = serde_json::json!({"stage": "IDENTIFICATION", "n": [1, 2.5, null]});
    let insert = || {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO kinds (id, n, big, t, j, at, yes, day, raw, x) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            [
                Value::from(id),
                Value::from(7_i32),
                Value::from(1_i64 << 40),
                Value::from("Agadez → Tripoli"),
                Value::from(json.clone()),
                Value::from(at),
                Value::from(true),
                Value::from(day),
                Value::from(vec![0_u8, 255, 7]),
                Value::from(0.25_f64),
            ],
        )
    };
    let select = || {
        Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT n, big, t, j, at, yes, day, raw, x, NULL::text AS nothing \
             FROM kinds WHERE id = $1",
            [Value::from(id)],
        )
    };
    let check = |row: sea_orm::QueryResult| {
        assert_eq!(row.try_get::<i32>("", "n").unwrap(), 7);
        assert_eq!(row.try_get::<i64>("", "big").unwrap(), 1_i64 << 40);
        assert_eq!(row.try_get::<String>("", "t").unwrap(), "Agadez → Tripoli");
        assert_eq!(row.try_get::<serde_json::Value>("", "j").unwrap(), json);
        assert_eq!(
            row.try_get::<chrono::DateTime<chrono::Utc>>("", "at")
                .unwrap(),
            at
        );
        assert!(row.try_get::<bool>("", "yes").unwrap());
        assert_eq!(row.try_get::<chrono::NaiveDate>("", "day").unwrap(), day);
        assert_eq!(
            row.try_get::<Vec<u8>>("", "raw").unwrap(),
            vec![0_u8, 255, 7]
        );
        assert_eq!(row.try_get::<f64>("", "x").unwrap(), 0.25);
        assert_eq!(row.try_get::<Option<String>>("", "nothing").unwrap(), None);
    };

    let txn = store.begin_write().await.unwrap();
    assert_eq!(txn.execute_raw(insert()).await.unwrap().rows_affected(), 1);
    check(txn.query_one_raw(select()).await.unwrap().unwrap());
    txn.commit().await.unwrap();
    check(store.conn().query_one_raw(select()).await.unwrap().unwrap());

    // The same key again: refused, named, and nothing of the transaction is kept.
    let txn = store.begin_write().await.unwrap();
    execute_sql(&txn, "UPDATE kinds SET n = 8").await.unwrap();
    let refused: StoreError = txn.execute_raw(insert()).await.unwrap_err().into();
    match &refused {
        StoreError::Conflict { constraint, .. } => assert_eq!(constraint, "kinds_pkey"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    txn.rollback().await.unwrap();
    check(store.conn().query_one_raw(select()).await.unwrap().unwrap());
}

/// A write transaction that ends without a commit keeps nothing, whether rolled back, dropped
/// half-way (a request cancelled) or cut off by the server; the next one gets a working
/// connection and commits.
#[tokio::test]
async fn on_postgres_a_write_dropped_or_cut_off_keeps_nothing_and_the_next_one_commits() {
    use trm::store::execute_sql;
    if !crate::harness::on_postgres() {
        return;
    }
    let db = crate::harness::TestDatabase::new().await;
    let store = own_store(&db).await;
    execute_sql(store.conn(), "CREATE TABLE marks (n int4 PRIMARY KEY)")
        .await
        .unwrap();
    let count = || async {
        let row = store
            .conn()
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT count(*) AS n FROM marks",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };

    let txn = store.begin_write().await.unwrap();
    execute_sql(&txn, "INSERT INTO marks VALUES (1)")
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let txn = store.begin_write().await.unwrap();
    execute_sql(&txn, "INSERT INTO marks VALUES (2)")
        .await
        .unwrap();
    drop(txn);
    assert_eq!(
        count().await,
        0,
        "a transaction that did not commit kept a row"
    );

    // The server ends the writing connections, one of them in a transaction.
    let txn = store.begin_write().await.unwrap();
    execute_sql(&txn, "INSERT INTO marks VALUES (3)")
        .await
        .unwrap();
    let ended = execute_sql(
        store.conn(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'trm-writer' AND datname = current_database()",
    )
    .await
    .unwrap();
    assert!(ended >= 1, "no writing connection to end");
    let cut = execute_sql(&txn, "INSERT INTO marks VALUES (4)").await;
    assert!(cut.is_err(), "a statement on a connection the server ended");
    assert!(
        txn.commit().await.is_err(),
        "a commit on a connection the server ended"
    );
    assert_eq!(count().await, 0);

    for n in [5, 6] {
        let txn = store.begin_write().await.unwrap();
        execute_sql(&txn, &format!("INSERT INTO marks VALUES ({n})"))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    assert_eq!(count().await, 2);
}

/// On PostgreSQL the statements of a pipeline go out together and run in the order sent: the
/// first of a transaction with its `BEGIN`, each answering its rows or its count; the first
/// failure is the error (not the aborted transaction of the ones after it), and nothing of the
/// transaction is kept. A read sent after a `FOR UPDATE` that waits sees what the lock's holder
/// committed: what a case's locking read relies on for its tracks and timers.
#[tokio::test]
async fn on_postgres_statements_sent_together_run_in_order_and_the_first_failure_is_the_error() {
    use trm::store::StoreError;
    use trm::store::execute_sql;
    use trm::store::pipeline::{Answer, Piped, Pipelined};
    if !crate::harness::on_postgres() {
        return; // Elsewhere a pipeline runs its statements one by one.
    }
    let db = crate::harness::TestDatabase::new().await;
    let store = own_store(&db).await;
    for setup in [
        "CREATE TABLE marks (n int4 PRIMARY KEY)",
        "CREATE TABLE notes (n int4 NOT NULL)",
        "INSERT INTO marks VALUES (1)",
    ] {
        execute_sql(store.conn(), setup).await.unwrap();
    }
    let sql = |text: &str| Statement::from_string(DatabaseBackend::Postgres, text);
    let ns = |answer: Answer| {
        answer
            .rows()
            .unwrap()
            .iter()
            .map(|r| r.try_get::<i32>("", "n").unwrap())
            .collect::<Vec<_>>()
    };

    // The transaction's first statements: their BEGIN goes with them.
    let txn = store.begin_write().await.unwrap();
    let answers = txn
        .pipeline(vec![
            Piped::Count(sql("INSERT INTO marks VALUES (2), (3)")),
            Piped::Rows(sql("SELECT n FROM marks ORDER BY n")),
            Piped::Count(sql("DELETE FROM marks WHERE n = 1")),
        ])
        .await
        .unwrap();
    let mut answers = answers.into_iter();
    assert!(matches!(answers.next(), Some(Answer::Count(2))));
    assert_eq!(ns(answers.next().unwrap()), vec![1, 2, 3]);
    assert!(matches!(answers.next(), Some(Answer::Count(1))));
    txn.commit().await.unwrap();

    // A key taken in the middle: that refusal is the error, and the transaction keeps nothing.
    let txn = store.begin_write().await.unwrap();
    let refused: StoreError = txn
        .pipeline(vec![
            Piped::Count(sql("INSERT INTO notes VALUES (9)")),
            Piped::Count(sql("INSERT INTO marks VALUES (2)")),
            Piped::Rows(sql("SELECT n FROM marks")),
        ])
        .await
        .unwrap_err()
        .into();
    match &refused {
        StoreError::Conflict { constraint, .. } => assert_eq!(constraint, "marks_pkey"),
        other => panic!("expected the key's conflict, got {other:?}"),
    }
    txn.rollback().await.unwrap();
    let left = store
        .conn()
        .pipeline(vec![
            Piped::Rows(sql("SELECT n FROM marks ORDER BY n")),
            Piped::Rows(sql("SELECT n FROM notes")),
        ])
        .await
        .unwrap();
    let mut left = left.into_iter();
    assert_eq!(ns(left.next().unwrap()), vec![2, 3]);
    assert_eq!(ns(left.next().unwrap()), Vec::<i32>::new());

    // A read after a lock that waits: it sees what the holder committed meanwhile.
    let holder = store.begin_write().await.unwrap();
    execute_sql(&holder, "SELECT n FROM marks WHERE n = 2 FOR UPDATE")
        .await
        .unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move {
            let txn = store.begin_write().await.unwrap();
            let answers = txn
                .pipeline(vec![
                    Piped::Rows(sql("SELECT n FROM marks WHERE n = 2 FOR UPDATE")),
                    Piped::Rows(sql("SELECT n FROM notes")),
                ])
                .await
                .unwrap();
            txn.rollback().await.unwrap();
            answers
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !waiter.is_finished(),
        "the lock did not make the pipeline wait"
    );
    execute_sql(&holder, "INSERT INTO notes VALUES (7)")
        .await
        .unwrap();
    holder.commit().await.unwrap();
    let mut answers = waiter.await.unwrap().into_iter();
    assert_eq!(ns(answers.next().unwrap()), vec![2]);
    assert_eq!(ns(answers.next().unwrap()), vec![7]);
}
