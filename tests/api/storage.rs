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
