//! The signal bus: tells subscriptions that something they may follow has changed.
//!
//! A signal carries ids only (a case and one of its events, an agency and one of its
//! notifications), never personal data: a subscriber that receives one re-reads what it points
//! to through the same access-checked path as queries, so a signal can neither leak data nor
//! grant access.
//!
//! Delivery, per database engine:
//! - **PostgreSQL** (several instances may share the database): a use case calls
//!   [`Bus::stage`] inside its write transaction, which stages the signals as a row committed
//!   with the change or not at all; right after commits, the short transaction that places the
//!   audit log's leaves sends what is staged as `NOTIFY`s on one channel ([`announcement`]; not in
//!   the change's own transaction, where `NOTIFY` would make every commit of the database wait
//!   for the previous one: see `store::notify`). Every listening session receives them when
//!   that transaction commits. Each instance runs one listener ([`Bus::listen`], started with the
//!   server) that forwards what it receives to its in-process broadcast channel, this instance's
//!   own signals included. [`Bus::committed`] does nothing.
//! - **SQLite** (one instance): [`Bus::stage`] does nothing and [`Bus::committed`], called after
//!   the commit, sends the signals to the broadcast channel directly.
//!
//! The broadcast channel is bounded ([`CAPACITY`]). A subscriber that falls behind gets
//! `RecvError::Lagged` and must catch up from the database (signals are hints, the database is
//! the truth). When the PostgreSQL listener loses its connection, notifications sent meanwhile
//! are lost; the listener reconnects and bumps [`Bus::resyncs`], which tells subscribers to
//! catch up the same way.

use crate::domain::Event;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::batch::Writes;
use crate::store::notify::{self, Listener, Received};
use crate::store::pipeline::Piped;
use sea_orm::DatabaseBackend;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};
use uuid::Uuid;

/// How many signals an instance buffers per subscriber before the slowest one lags.
pub const CAPACITY: usize = 1024;

/// The PostgreSQL `NOTIFY` channel of every signal.
pub const CHANNEL: &str = "trm_signals";

/// Largest `NOTIFY` payload sent (PostgreSQL refuses more than 8000 bytes); larger batches are
/// split over several notifications.
const MAX_PAYLOAD_BYTES: usize = 7000;

/// Longest wait between two attempts to re-establish a failed listener.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

/// Something changed that a subscription may follow. Ids only, never personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// An event was appended to a case's history.
    CaseEvent { case_id: Uuid, event_id: Uuid },
    /// A notification arrived in an agency's inbox.
    Inbox {
        agency_id: Uuid,
        notification_id: Uuid,
    },
}

impl Signal {
    /// The signal of an event appended to its case's history.
    pub fn case_event(event: &Event) -> Signal {
        Signal::CaseEvent {
            case_id: event.case_id,
            event_id: event.id,
        }
    }
}

/// How signals travel between instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Within this process only (SQLite: one instance).
    InProcess,
    /// Through PostgreSQL `LISTEN`/`NOTIFY`, to every instance on the database.
    Postgres,
}

/// The statement that sends the signals staged by committed changes (of any instance) to every
/// instance's listener when its transaction commits (PostgreSQL), to send in a pipeline with
/// others.
pub fn announcement() -> Piped {
    Piped::Rows(notify::announcement(CHANNEL))
}

/// This instance's end of the signal bus. Cheap to clone; clones share the channel.
#[derive(Clone, Debug)]
pub struct Bus {
    delivery: Delivery,
    sender: broadcast::Sender<Signal>,
    /// Bumped when signals may have been lost (the listener reconnected).
    resync: Arc<watch::Sender<u64>>,
    /// Whether a listener is running for this bus (at most one forwards notifications).
    listening: Arc<AtomicBool>,
}

impl Bus {
    /// A bus for the database behind `store`: through PostgreSQL when it is PostgreSQL,
    /// in-process otherwise.
    pub fn for_store(store: &Store) -> Bus {
        Bus::new(store.backend() == DatabaseBackend::Postgres)
    }

    /// A bus that delivers through PostgreSQL (`postgres`) or within this process.
    pub fn new(postgres: bool) -> Bus {
        let (sender, _) = broadcast::channel(CAPACITY);
        let (resync, _) = watch::channel(0);
        Bus {
            delivery: if postgres {
                Delivery::Postgres
            } else {
                Delivery::InProcess
            },
            sender,
            resync: Arc::new(resync),
            listening: Arc::new(AtomicBool::new(false)),
        }
    }

    /// With a change's writes: on PostgreSQL the signals staged to be announced to every
    /// instance once the change has committed (and never if it does not). No-op on SQLite.
    pub fn stage(&self, writes: &mut Writes, signals: &[Signal]) -> Result<(), StoreError> {
        if self.delivery != Delivery::Postgres || signals.is_empty() {
            return Ok(());
        }
        for payload in payloads(signals)? {
            notify::stage(writes, payload);
        }
        Ok(())
    }

    /// After commit: on SQLite delivers the signals to this process's subscribers. No-op on
    /// PostgreSQL (the listener delivers).
    pub fn committed(&self, signals: &[Signal]) {
        if self.delivery == Delivery::InProcess {
            for signal in signals {
                // An error only means that nobody is subscribed right now.
                let _ = self.sender.send(*signal);
            }
        }
    }

    /// Every signal from now on (bounded: see [`CAPACITY`] and the module documentation).
    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.sender.subscribe()
    }

    /// Changes whenever signals may have been lost (the PostgreSQL listener reconnected):
    /// subscribers then catch up from the database as they do on `Lagged`.
    pub fn resyncs(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    /// Starts forwarding this database's notifications to the subscribers of this instance
    /// (PostgreSQL; `None` on SQLite, or when a listener already runs for this bus). Returns once
    /// `LISTEN` is in effect, so that every commit after it reaches this instance. The listener
    /// uses a connection of its own (not one of the pool's), reconnects when it is lost, and stops
    /// when the returned handle is stopped or dropped.
    pub async fn listen(&self, store: &Store) -> Result<Option<BusListener>, StoreError> {
        if self.delivery != Delivery::Postgres || store.backend() != DatabaseBackend::Postgres {
            return Ok(None);
        }
        if self
            .listening
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(None);
        }
        let listener = match Listener::connect(store, CHANNEL).await {
            Ok(l) => l,
            Err(e) => {
                self.listening.store(false, Ordering::SeqCst);
                return Err(e);
            }
        };
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(forward(self.clone(), listener, stopped));
        Ok(Some(BusListener {
            stop: Some(stop),
            task: Some(task),
        }))
    }
}

/// A running PostgreSQL listener (see [`Bus::listen`]). Dropping it stops the listener too.
#[derive(Debug)]
pub struct BusListener {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl BusListener {
    /// Stops listening and waits until the listener's connection is released.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BusListener {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The listener's loop: forwards every notification to the broadcast channel until stopped.
async fn forward(bus: Bus, mut listener: Listener, mut stopped: oneshot::Receiver<()>) {
    let mut delay = Duration::from_millis(250);
    loop {
        let received = tokio::select! {
            _ = &mut stopped => break,
            received = listener.next() => received,
        };
        match received {
            Ok(Received::Payload(payload)) => {
                delay = Duration::from_millis(250);
                match serde_json::from_str::<Vec<Signal>>(&payload) {
                    Ok(signals) => {
                        for signal in signals {
                            let _ = bus.sender.send(signal);
                        }
                    }
                    Err(_) => tracing::warn!(
                        bytes = payload.len(),
                        "ignoring a malformed signal notification"
                    ),
                }
            }
            Ok(Received::Reconnected) => {
                // The connection was lost and re-established: what was sent meanwhile is lost.
                tracing::warn!("signal listener reconnected; subscribers catch up");
                bus.resync.send_modify(|n| *n = n.wrapping_add(1));
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?delay, "signal listener failed; retrying");
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(MAX_RETRY_DELAY);
                // The next `try_recv` reconnects (and listens again) if the connection is gone.
                bus.resync.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
    bus.listening.store(false, Ordering::SeqCst);
    // Dropping the listener sends UNLISTEN and releases its connection.
    drop(listener);
}

/// The signals as JSON arrays of at most [`MAX_PAYLOAD_BYTES`] each.
fn payloads(signals: &[Signal]) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for signal in signals {
        let one = serde_json::to_string(signal).map_err(|e| StoreError::corrupt("signal", e))?;
        if !current.is_empty() && size + one.len() + 1 > MAX_PAYLOAD_BYTES {
            out.push(format!("[{}]", current.join(",")));
            current.clear();
            size = 2;
        }
        size += one.len() + 1;
        current.push(one);
    }
    if !current.is_empty() {
        out.push(format!("[{}]", current.join(",")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Signal {
        Signal::CaseEvent {
            case_id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn payloads_round_trip_and_stay_under_the_notify_limit() {
        let signals: Vec<Signal> = (0..500)
            .map(|i| {
                if i % 2 == 0 {
                    event()
                } else {
                    Signal::Inbox {
                        agency_id: Uuid::now_v7(),
                        notification_id: Uuid::now_v7(),
                    }
                }
            })
            .collect();
        let chunks = payloads(&signals).unwrap_or_default();
        assert!(chunks.len() > 1, "500 signals do not fit one notification");
        let mut back = Vec::new();
        for chunk in &chunks {
            assert!(chunk.len() <= MAX_PAYLOAD_BYTES);
            back.extend(serde_json::from_str::<Vec<Signal>>(chunk).unwrap_or_default());
        }
        assert_eq!(back, signals);
        assert!(payloads(&[]).unwrap_or_default().is_empty());
    }

    #[tokio::test]
    async fn in_process_delivery_happens_after_commit_only_and_lag_is_reported() {
        let bus = Bus::new(false);
        let mut rx = bus.subscribe();
        let s = event();
        bus.committed(&[s]);
        assert_eq!(rx.try_recv().ok(), Some(s));
        for _ in 0..CAPACITY + 1 {
            bus.committed(&[s]);
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }

    #[test]
    fn postgres_delivery_does_not_short_cut_through_the_process() {
        let bus = Bus::new(true);
        let mut rx = bus.subscribe();
        bus.committed(&[event()]);
        assert!(rx.try_recv().is_err());
    }
}
