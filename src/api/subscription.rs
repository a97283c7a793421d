//! Subscriptions, served over WebSocket at `/graphql/ws` (`graphql-transport-ws` protocol).
//!
//! A subscription is woken by [`Signal`]s from the bus (ids only) and re-reads everything it
//! sends from the database through the same access-checked path as queries: the caller is
//! re-authenticated and the case (or notification) re-read under their rights before each
//! delivery, so a revoked token or a case that is no longer visible ends the stream with the
//! same error a query would give.
//!
//! Signals may be lost: a subscriber that falls behind by more than the bus's capacity gets
//! `Lagged`, and notifications sent while the PostgreSQL listener reconnects never arrive.
//! - `caseEvents` does not depend on them: it remembers the last sequence number it sent and,
//!   whenever woken (by a signal for its case, by lag or by a reconnect), reads every later
//!   event from the database, so the client misses nothing and sees no duplicates.
//! - `inbox` has no sequence to resume from, so when signals may have been lost it ends with a
//!   `SUBSCRIPTION_LAGGED` error the client sees; the client reads the `inbox` query for what it
//!   missed and subscribes again.

use super::context::{app, principal};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::EventNode;
use crate::access::Principal;
use crate::domain::Notification;
use crate::service::bus::Signal;
use crate::service::{App, ServiceError, auth, cases, inbox};
use async_graphql::{Context, ErrorExtensions, ID, Result, Subscription as GqlSubscription};
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::VecDeque;
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

/// The root of all subscriptions.
pub struct Subscription;

/// The `Authorization` value (`Bearer trm_...`) a WebSocket session authenticated with.
/// Subscriptions re-authenticate with it before each delivery, so a revoked token stops them.
#[derive(Clone)]
pub struct SessionCredentials(pub String);

/// Events read from the database per catch-up step.
const CATCH_UP_PAGE: u64 = 100;

#[GqlSubscription]
impl Subscription {
    /// The events of a case, as they are recorded, in order (by `sequence`), each exactly once.
    ///
    /// A case the caller may not see answers exactly like a case that does not exist
    /// (`NOT_FOUND`) and nothing is streamed. Every event is re-read with the caller's current
    /// rights before it is sent: when the case is no longer visible to them (or their token was
    /// revoked), the stream ends with that error. `afterSequence` (the last `sequence` the client
    /// has) first sends the events it missed, e.g. after a reconnect; without it, only events
    /// recorded from now on are sent.
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        case_id: ID,
        after_sequence: Option<i64>,
    ) -> Result<BoxStream<'static, Result<EventNode>>> {
        let case_id =
            ids::decode_uuid(&case_id, "Case").ok_or_else(|| invalid("malformed case ID"))?;
        if after_sequence.is_some_and(|s| s < 0) {
            return Err(invalid("`afterSequence` must not be negative"));
        }
        // Subscribe before reading the case: whatever commits after the read wakes us.
        let session = Session::open(ctx)?;
        let case = cases::get_case(&session.app, &session.principal, case_id)
            .await
            .gql()?
            .ok_or(ServiceError::NotFound("case"))
            .gql()?;
        let last_seq =
            after_sequence.map_or(case.record().version, |s| s.min(case.record().version));
        let follow = Follow {
            session,
            case_id,
            last_seq,
            pending: VecDeque::new(),
            catch_up: last_seq < case.record().version,
            done: false,
        };
        Ok(stream::unfold(follow, |mut follow| async move {
            let item = follow.next().await?;
            Some((item, follow))
        })
        .boxed())
    }

    /// New notifications in the caller's agency's inbox, as they arrive (each re-read with the
    /// caller's current rights before it is sent; a revoked token ends the stream).
    ///
    /// Notifications have no sequence to resume from: when some may have been lost (the client
    /// fell behind, or this instance's database listener reconnected), the stream ends with
    /// `SUBSCRIPTION_LAGGED`; read `inbox` for what was missed and subscribe again.
    async fn inbox(&self, ctx: &Context<'_>) -> Result<BoxStream<'static, Result<Notification>>> {
        let watch = InboxWatch {
            session: Session::open(ctx)?,
            done: false,
        };
        Ok(stream::unfold(watch, |mut watch| async move {
            let item = watch.next().await?;
            Some((item, watch))
        })
        .boxed())
    }
}

/// What every subscription holds: the caller, the bus, and the credentials to re-check.
struct Session {
    app: App,
    principal: Principal,
    credentials: Option<String>,
    signals: broadcast::Receiver<Signal>,
    resyncs: watch::Receiver<u64>,
    resyncs_open: bool,
}

/// What woke a waiting subscription.
enum Wake {
    /// A signal (for any case or inbox: the subscription filters).
    Signal(Signal),
    /// Nothing to do: wait again.
    Nothing,
    /// Signals may have been lost: this subscriber lagged (more than the bus's capacity arrived
    /// while it was slow) or the PostgreSQL listener reconnected.
    Lost,
    /// The bus is gone (the instance is shutting down).
    Closed,
}

impl Session {
    /// Subscribes to the bus now, so that whatever commits after this call wakes the session.
    fn open(ctx: &Context<'_>) -> Result<Session> {
        let app = app(ctx)?.clone();
        let principal = principal(ctx)?.clone();
        let credentials = ctx.data_opt::<SessionCredentials>().map(|c| c.0.clone());
        Ok(Session {
            signals: app.bus.subscribe(),
            resyncs: app.bus.resyncs(),
            resyncs_open: true,
            app,
            principal,
            credentials,
        })
    }

    /// Waits for the next signal, a possible loss of signals, or the end of the bus.
    async fn wait(&mut self) -> Wake {
        let resyncs_open = self.resyncs_open;
        tokio::select! {
            received = self.signals.recv() => match received {
                Ok(signal) => Wake::Signal(signal),
                Err(broadcast::error::RecvError::Lagged(_)) => Wake::Lost,
                Err(broadcast::error::RecvError::Closed) => Wake::Closed,
            },
            changed = self.resyncs.changed(), if resyncs_open => match changed {
                Ok(()) => Wake::Lost,
                Err(_) => {
                    self.resyncs_open = false;
                    Wake::Nothing
                }
            },
        }
    }

    /// Reloads the caller as the database knows them now (when the session has credentials,
    /// i.e. over WebSocket): a revoked token ends the subscription.
    async fn refresh(&mut self) -> Result<()> {
        if let Some(credentials) = &self.credentials {
            self.principal = auth::authenticate(&self.app, Some(credentials))
                .await
                .gql()?;
        }
        Ok(())
    }
}

/// The state of one `caseEvents` subscription.
struct Follow {
    session: Session,
    case_id: Uuid,
    /// The sequence number of the last event sent (or known to the client).
    last_seq: i64,
    /// Events read but not yet sent.
    pending: VecDeque<EventNode>,
    /// Whether the database may hold events after `last_seq` that were not read yet.
    catch_up: bool,
    /// Set after an error: the stream ends.
    done: bool,
}

impl Follow {
    /// The next item to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Result<EventNode>> {
        loop {
            if let Some(node) = self.pending.pop_front() {
                return Some(Ok(node));
            }
            if self.done {
                return None;
            }
            if self.catch_up {
                match self.read_page().await {
                    Ok(more) => self.catch_up = more,
                    Err(err) => {
                        self.done = true;
                        return Some(Err(err));
                    }
                }
                continue;
            }
            match self.session.wait().await {
                Wake::Signal(Signal::CaseEvent { case_id, .. }) => {
                    self.catch_up = case_id == self.case_id;
                }
                Wake::Signal(_) | Wake::Nothing => {}
                // Catch up from the database: nothing is lost, nothing is sent twice.
                Wake::Lost => self.catch_up = true,
                Wake::Closed => return None,
            }
        }
    }

    /// Reads the next page of events after `last_seq`, as the caller may see them now;
    /// returns whether more may follow.
    async fn read_page(&mut self) -> Result<bool> {
        self.session.refresh().await?;
        let Session { app, principal, .. } = &self.session;
        let case = cases::get_case(app, principal, self.case_id)
            .await
            .gql()?
            .ok_or(ServiceError::NotFound("case"))
            .gql()?;
        let events = cases::history(app, &case, self.last_seq, CATCH_UP_PAGE)
            .await
            .gql()?
            .ok_or_else(|| {
                ServiceError::Forbidden("the case's history is not shared with your agency".into())
            })
            .gql()?;
        let full = events.len() as u64 >= CATCH_UP_PAGE;
        if let Some(last) = events.last() {
            self.last_seq = last.seq;
        }
        self.pending.extend(events.into_iter().map(EventNode));
        Ok(full)
    }
}

/// The state of one `inbox` subscription.
struct InboxWatch {
    session: Session,
    /// Set after an error: the stream ends.
    done: bool,
}

impl InboxWatch {
    /// The next item to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Result<Notification>> {
        loop {
            if self.done {
                return None;
            }
            let id = match self.session.wait().await {
                Wake::Signal(Signal::Inbox {
                    agency_id,
                    notification_id,
                }) if agency_id == self.session.principal.agency_id => notification_id,
                Wake::Signal(_) | Wake::Nothing => continue,
                Wake::Lost => {
                    self.done = true;
                    return Some(Err(lagged()));
                }
                Wake::Closed => return None,
            };
            match self.read(id).await {
                Ok(Some(node)) => return Some(Ok(node)),
                Ok(None) => {}
                Err(err) => {
                    self.done = true;
                    return Some(Err(err));
                }
            }
        }
    }

    /// The notification, if the caller (as they are now) may see it.
    async fn read(&mut self, id: Uuid) -> Result<Option<Notification>> {
        self.session.refresh().await?;
        let Session { app, principal, .. } = &self.session;
        inbox::visible_notification(app, principal, id).await.gql()
    }
}

/// The error that ends an `inbox` subscription whose notifications may have been lost.
fn lagged() -> async_graphql::Error {
    async_graphql::Error::new(
        "this subscription fell behind and was closed: read `inbox` for what you missed, \
         then subscribe again",
    )
    .extend_with(|_, ext| ext.set("code", "SUBSCRIPTION_LAGGED"))
}
