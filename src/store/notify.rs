//! PostgreSQL `NOTIFY` and `LISTEN`: how a committed change is announced to every instance on
//! the database (the signal bus in `service::bus` decides what is announced).

use super::batch::Writes;
use super::{Store, StoreError};
use sea_orm::{DatabaseBackend, Statement};
use std::time::Duration;

/// Sends `payload` on `channel` with the change's `writes` (PostgreSQL delivers it to every
/// listener if and when their transaction commits, and never otherwise). No-op on SQLite.
pub fn notify(writes: &mut Writes, channel: &str, payload: String) {
    if writes.backend() != DatabaseBackend::Postgres {
        return;
    }
    writes.effect(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ));
}

/// A `LISTEN` on one channel over a connection of its own (not one of the pool's), with the
/// same connection settings as the store's pool. It reconnects by itself when the connection
/// is lost; dropping it sends `UNLISTEN` and releases the connection.
pub struct Listener(sea_orm::sqlx::postgres::PgListener);

/// What a listener received.
pub enum Received {
    /// A notification's payload.
    Payload(String),
    /// The connection was lost and re-established: what was sent meanwhile is lost.
    Reconnected,
}

impl Listener {
    /// Listens on `channel` of the PostgreSQL database behind `store`.
    pub async fn connect(store: &Store, channel: &str) -> Result<Listener, StoreError> {
        use sea_orm::sqlx::postgres::{PgListener, PgPoolOptions};
        let options = store
            .conn()
            .get_postgres_connection_pool()
            .connect_options();
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(10))
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with((*options).clone());
        let mut listener = PgListener::connect_with(&pool)
            .await
            .map_err(listen_error)?;
        listener.listen(channel).await.map_err(listen_error)?;
        Ok(Listener(listener))
    }

    /// The next notification (waiting for it); an error when the connection failed (the next
    /// call reconnects and listens again).
    pub async fn next(&mut self) -> Result<Received, StoreError> {
        match self.0.try_recv().await {
            Ok(Some(n)) => Ok(Received::Payload(n.payload().to_string())),
            Ok(None) => Ok(Received::Reconnected),
            Err(e) => Err(listen_error(e)),
        }
    }
}

fn listen_error(err: sea_orm::sqlx::Error) -> StoreError {
    StoreError::Database(sea_orm::DbErr::Custom(format!(
        "cannot listen for signals: {err}"
    )))
}
