//! PostgreSQL `NOTIFY` and `LISTEN`: how a committed change is announced to every instance on
//! the database (the signal bus in `service::bus` decides what is announced).
//!
//! A change does not `NOTIFY` in its own transaction. PostgreSQL serialises the commits of all
//! transactions that notify (a database-wide lock taken before the commit and held until after
//! it, so that the queue is in commit order): every change would wait for the previous one's
//! fsync, and changes could not commit together (measured: a one-row update at 32 clients fell
//! from about 10,700 to 3,800 commits/s with a `pg_notify` beside it). Instead the change
//! [`stage`]s its signals as a row of `signals_pending`, committed with it or not at all, and
//! [`announcement`] sends what is waiting, many changes at a time, from the short transaction that
//! runs after commits anyway (`service::audit_log::settle`). A signal staged by an instance that
//! stops before announcing it is announced by the next settle of any instance.

use super::batch::Writes;
use super::{Store, StoreError};
use sea_orm::{DatabaseBackend, Statement};
use std::time::Duration;

/// Stages `payload` with the change's `writes`, to be sent on the bus's channel once the change
/// has committed (see the module documentation). No-op on SQLite.
pub fn stage(writes: &mut Writes, payload: String) {
    if writes.backend() != DatabaseBackend::Postgres {
        return;
    }
    writes.one(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO signals_pending (payload) VALUES ($1)",
        [payload.into()],
    ));
}

/// The statement that sends every staged payload on `channel`, in the order they were staged,
/// and removes them (PostgreSQL), one row a payload sent; to send in a pipeline with others
/// ([`crate::store::pipeline`]) inside a write transaction: listeners receive them when it
/// commits, and if it does not, they stay staged for the next one. Two transactions do not send
/// the same payload twice (the second waits for the first's rows and finds them gone).
pub fn announcement(channel: &str) -> Statement {
    Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "WITH sent AS (DELETE FROM signals_pending RETURNING arrival, payload) \
         SELECT pg_notify($1, payload) FROM sent ORDER BY arrival",
        [channel.into()],
    )
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
