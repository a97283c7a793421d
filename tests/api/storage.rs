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
