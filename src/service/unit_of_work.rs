//! The one way a case changes. A use case says *what* changes (a transition's outcome, a
//! referral made, a lead handed over, an inbox notice); [`CaseWork`] is the only code that knows
//! *how*: it locks the case row, checks the expected version, applies state changes, seals each
//! event onto the case's hash chain (the previous hash comes with the locked row, not from a
//! query), queues notifications and subscription signals, records the idempotency key,
//! re-checks the case's protections, and commits, all in one database transaction. The rows it
//! writes for the case are sent together at commit, one round trip on SQLite
//! ([`crate::store::batch`]).
//! Acknowledged means committed; a [`CaseWork`] dropped before [`CaseWork::commit`] changes
//! nothing. A change recorded on two cases (a same-person link) locks both in one [`CaseWork`]
//! ([`CaseWork::begin_pair`]).
//!
//! Over the house's 400 lines on purpose: it is the one place that knows how a case changes,
//! and its steps (lock, record, switch of procedure, commit, idempotency) share the transaction.

use super::bus::Signal;
use super::protections;
use super::{App, ServiceError};
use crate::access::{CaseScope, Principal};
use crate::domain::event::{ChainPosition, canonical_json};
use crate::domain::{CaseRecord, Event, EventDraft, EventKind, Notification, NotificationKind};
use crate::store::WriteTxn;
use crate::store::batch::Writes;
use crate::store::cases::{self as case_store, LockedRow};
use crate::store::disclosures::{self, Sharing};
use crate::store::idempotency::{self, IdempotencyRecord};
use crate::store::{events, inbox};
use crate::workflow::{PersonStatus, Workflow, engine};
use chrono::{DateTime, Datelike, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use uuid::Uuid;

/// Who is changing the case: a principal (the case must be in their scope) or the service
/// itself (the scheduler, escalations, break-glass on a case outside the caller's scope).
#[derive(Clone, Copy)]
pub enum Changer<'a> {
    Principal(&'a Principal),
    System,
}

/// A change in progress on one case (see the module documentation).
pub struct CaseWork<'a> {
    app: &'a App,
    txn: WriteTxn,
    /// The rows of the case itself (its row, tracks, timers, events and their leaves) and the
    /// notices and idempotency record, written together at commit (see [`Writes`]).
    writes: Writes,
    /// The case row as it was locked (`None` for a case being opened).
    locked: Option<LockedRow>,
    case: CaseRecord,
    workflow: Arc<Workflow>,
    now: DateTime<Utc>,
    events: Vec<Event>,
    notifications: Vec<Notification>,
    idempotency: Option<(Uuid, String, IdempotencyRecord)>,
    /// Who acts: the principal's (user, agency), or the service on the lead's behalf.
    actor: (Uuid, Uuid),
    /// Where the person stood when the change began (the protections compare).
    before: PersonStatus,
    /// The change shared, withdrew or resumed something: the protections read the case's
    /// sharing again before it commits.
    touched: bool,
    /// The answer shows the case: read its sharing history in the commit's round trip
    /// ([`CaseWork::answer_with_sharing`]).
    answer_sharing: bool,
    /// A second case the change records on too (the earlier case of a same-person link),
    /// locked in the same transaction (see [`CaseWork::begin_pair`]).
    other: Option<OtherCase>,
}

/// The second case of a change that records on two (see [`CaseWork::begin_pair`]): it only
/// receives events without state changes, so its protections do not move.
struct OtherCase {
    locked: LockedRow,
    case: CaseRecord,
    events: Vec<Event>,
}

/// What a committed change produced.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The case after the change.
    pub case: CaseRecord,
    /// The events recorded, in order.
    pub events: Vec<Event>,
    /// What was delivered to subscribers.
    pub signals: Vec<Signal>,
    /// The second case after the change (see [`CaseWork::begin_pair`]).
    pub other: Option<CaseRecord>,
    /// The case's sharing history as the change left it, when asked for
    /// ([`CaseWork::answer_with_sharing`]): read in its transaction (on SQLite in the same
    /// round trip as the writes), so the answer's view of the case needs no read of its own,
    /// and no connection of its own from the pool.
    pub sharing: Option<Sharing>,
}

impl Committed {
    /// The last event recorded.
    pub fn last_event(&self) -> Result<&Event, ServiceError> {
        self.events
            .last()
            .ok_or_else(|| ServiceError::internal("a committed change recorded no event"))
    }
}

impl<'a> CaseWork<'a> {
    /// Locks the case for the rest of the change and checks `expected_version` (when given).
    /// A case outside a principal's scope is `NOT_FOUND`, as on every read path.
    pub async fn begin(
        app: &'a App,
        changer: Changer<'_>,
        case_id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<CaseWork<'a>, ServiceError> {
        CaseWork::begin_with(app, changer, case_id, expected_version, None).await
    }

    /// [`CaseWork::begin`] on `case_id`, also locking `other_id`, a case the service records on
    /// for the changer whether or not it is in the changer's scope (the earlier case of a
    /// same-person link: the changer sees nothing of it through this change). The two rows are
    /// locked in the order of their ids, so that two changes naming the same pair wait for
    /// each other instead of deadlocking. `NOT_FOUND` when either does not exist.
    pub async fn begin_pair(
        app: &'a App,
        changer: Changer<'_>,
        case_id: Uuid,
        other_id: Uuid,
    ) -> Result<CaseWork<'a>, ServiceError> {
        if other_id == case_id {
            return Err(ServiceError::internal(
                "a change on two cases names one case twice",
            ));
        }
        CaseWork::begin_with(app, changer, case_id, None, Some(other_id)).await
    }

    async fn begin_with(
        app: &'a App,
        changer: Changer<'_>,
        case_id: Uuid,
        expected_version: Option<i64>,
        other_id: Option<Uuid>,
    ) -> Result<CaseWork<'a>, ServiceError> {
        let now = app.now();
        let scope = match changer {
            Changer::Principal(p) => p.case_scope(now),
            Changer::System => CaseScope::All,
        };
        let txn = app.store.begin_write().await?;
        let mut other = match other_id {
            Some(id) if id < case_id => Some(lock_other(&txn, id).await?),
            _ => None,
        };
        let case = case_store::lock(&txn, scope, case_id)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        if let Some(id) = other_id
            && other.is_none()
        {
            other = Some(lock_other(&txn, id).await?);
        }
        if let Some(expected) = expected_version
            && expected != case.version
        {
            return Err(ServiceError::VersionConflict {
                expected,
                actual: case.version,
            });
        }
        let workflow = app.workflow_of(&case)?;
        let writes = Writes::new(txn.get_database_backend());
        let actor = match changer {
            Changer::Principal(p) => (p.user_id, p.agency_id),
            Changer::System => (Uuid::nil(), case.lead_agency_id),
        };
        let before = workflow.person_status(&case.state, &case.country);
        Ok(CaseWork {
            app,
            txn,
            writes,
            locked: Some(LockedRow::of(&case)),
            case,
            workflow,
            now,
            events: Vec::new(),
            notifications: Vec::new(),
            idempotency: None,
            actor,
            before,
            touched: false,
            answer_sharing: false,
            other: other.map(|case| OtherCase {
                locked: LockedRow::of(&case),
                case,
                events: Vec::new(),
            }),
        })
    }

    /// A new case in `country`, opened at `at`: `open` is given the case's number in its
    /// country and year (drawn in this transaction, so a change that fails uses none) and
    /// returns the case at version 1 with its opening event (see [`crate::domain::case::opening`]).
    pub async fn create(
        app: &'a App,
        workflow: Arc<Workflow>,
        (country, at): (&str, DateTime<Utc>),
        open: impl FnOnce(i64) -> (CaseRecord, Event),
    ) -> Result<CaseWork<'a>, ServiceError> {
        let txn = app.store.begin_write().await?;
        let number = crate::store::next_counter(&txn, country, at.year()).await?;
        let (case, opening) = open(number);
        let writes = Writes::new(txn.get_database_backend());
        Ok(CaseWork {
            app,
            txn,
            writes,
            locked: None,
            now: at,
            actor: (opening.actor_user_id, opening.actor_agency_id),
            case,
            workflow,
            events: vec![opening],
            notifications: Vec::new(),
            idempotency: None,
            before: PersonStatus::default(),
            touched: false,
            answer_sharing: false,
            other: None,
        })
    }

    /// The case as it stands in this change (events recorded so far included).
    pub fn case(&self) -> &CaseRecord {
        &self.case
    }

    /// The workflow version the case is pinned to (in this change).
    pub fn workflow(&self) -> &Arc<Workflow> {
        &self.workflow
    }

    /// The moment of the change: every event and row it writes carries it.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Who acts in this change, as events record it: (user, agency); the nil user and the lead
    /// agency for the service itself.
    pub fn actor(&self) -> (Uuid, Uuid) {
        self.actor
    }

    /// The transaction, for the records a use case writes beside the case (a referral, a
    /// consent, a transfer's status) so that they commit or roll back with it. The case's own
    /// rows (its row, tracks, timers and events) are written at [`CaseWork::commit`], in one
    /// go: the case as this change leaves it is [`CaseWork::case`], never a read through this.
    pub fn tx(&self) -> &WriteTxn {
        &self.txn
    }

    /// Appends an event to the case's chain. Its `changes` (tracks, facts, timers) are applied
    /// to the case's state in the same transaction; the version moves on by one.
    pub async fn record(&mut self, draft: EventDraft) -> Result<&Event, ServiceError> {
        let workflow = self.workflow.clone();
        self.record_under(draft, workflow).await
    }

    /// Records the step after which the case continues under workflow `to`: the event is the
    /// step's, in the workflow that declares it; its changes (`workflow::switch`) leave the
    /// case in `to`'s states, and the case is pinned to `to` from then on.
    pub async fn continue_under(
        &mut self,
        draft: EventDraft,
        to: Arc<Workflow>,
    ) -> Result<&Event, ServiceError> {
        if draft
            .changes
            .continues_under
            .as_ref()
            .map(|w| (w.id.as_str(), w.version))
            != Some((to.id.as_str(), to.version))
        {
            return Err(ServiceError::internal(
                "a step continuing under another workflow must name it in its changes",
            ));
        }
        self.touched = true;
        self.record_under(draft, to.clone()).await?;
        self.case.workflow_id = to.id.clone();
        self.pin(to);
        self.case.status = engine::status(&self.workflow, &self.case.state);
        self.events
            .last()
            .ok_or_else(|| ServiceError::internal("an event was not kept"))
    }

    /// [`CaseWork::record`], the states the changes enter being states of `states_of`.
    async fn record_under(
        &mut self,
        draft: EventDraft,
        states_of: Arc<Workflow>,
    ) -> Result<&Event, ServiceError> {
        // A change that shares, withdraws or resumes something has its case's sharing read
        // again by the protections before it commits.
        self.touched |= matches!(
            draft.kind,
            EventKind::Referral
                | EventKind::Transfer
                | EventKind::TransferAccepted
                | EventKind::ConsentRecorded
                | EventKind::ConsentWithdrawn
                | EventKind::BreakGlass
                | EventKind::RouteAlerted
                | EventKind::OriginCountrySet
                | EventKind::WorkflowMigrated
        );
        if draft.changes != Default::default() {
            case_store::write_changes(
                &mut self.writes,
                &states_of,
                self.case.id,
                &self.case.state,
                &draft.changes,
                self.now,
            )?;
            engine::apply(&mut self.case.state, &draft.changes);
            self.case.status = engine::status(&states_of, &self.case.state);
            for change in &draft.changes.tracks {
                self.case.entered_at.insert(change.track.clone(), self.now);
            }
        }
        let event = draft.seal(ChainPosition {
            case_id: self.case.id,
            seq: self.case.version + 1,
            workflow_id: &self.case.workflow_id,
            workflow_version: self.case.workflow_version,
            occurred_at: self.now,
            prev_hash: &self.case.last_hash,
        });
        self.case.version = event.seq;
        self.case.last_hash = event.hash.clone();
        self.case.updated_at = self.now;
        self.events.push(event);
        self.events
            .last()
            .ok_or_else(|| ServiceError::internal("an event was not kept"))
    }

    /// The second case of a change begun with [`CaseWork::begin_pair`], as it stands in this
    /// change (unredacted: for the use case, never for an answer to the changer).
    pub fn other_case(&self) -> Option<&CaseRecord> {
        self.other.as_ref().map(|o| &o.case)
    }

    /// Appends an event to the second case's chain (see [`CaseWork::begin_pair`]). It may not
    /// change that case's state: the event only records what happened to it.
    pub async fn record_on_other(&mut self, draft: EventDraft) -> Result<&Event, ServiceError> {
        let Some(other) = self.other.as_mut() else {
            return Err(ServiceError::internal(
                "an event for a second case in a change on one case",
            ));
        };
        if draft.changes != Default::default() {
            return Err(ServiceError::internal(
                "an event on a change's second case may not change its state",
            ));
        }
        let event = draft.seal(ChainPosition {
            case_id: other.case.id,
            seq: other.case.version + 1,
            workflow_id: &other.case.workflow_id,
            workflow_version: other.case.workflow_version,
            occurred_at: self.now,
            prev_hash: &other.case.last_hash,
        });
        other.case.version = event.seq;
        other.case.last_hash = event.hash.clone();
        other.case.updated_at = self.now;
        other.events.push(event);
        other
            .events
            .last()
            .ok_or_else(|| ServiceError::internal("an event was not kept"))
    }

    /// The events recorded in this change so far, in order.
    pub fn pending_events(&self) -> &[Event] {
        &self.events
    }

    /// Hands the lead of the case to `agency` (recorded by the caller's event).
    pub fn hand_lead_to(&mut self, agency: Uuid) {
        self.case.lead_agency_id = agency;
    }

    /// Records the person's country of origin on the case.
    pub fn set_origin_country(&mut self, country: &str) {
        self.case.origin_country = Some(country.to_string());
    }

    /// Pins the case to another version of its workflow (the migration's event follows), or to
    /// the workflow a step continues under. Its tracks' stages follow the states' stages there.
    pub fn pin(&mut self, workflow: Arc<Workflow>) {
        case_store::restage(
            &mut self.writes,
            (&self.workflow, &workflow),
            self.case.id,
            &self.case.state,
        );
        self.case.workflow_version = workflow.version;
        self.workflow = workflow;
    }

    /// Lets `agency` see the case from now on (`reason`: what gave it access).
    pub async fn grant_access(&mut self, agency: Uuid, reason: &str) -> Result<(), ServiceError> {
        case_store::grant_access(&self.txn, self.case.id, agency, reason, self.now).await?;
        Ok(())
    }

    /// Puts a notice in `agency`'s inbox, delivered with the change (ids only, no personal data).
    pub fn notify(
        &mut self,
        agency: Uuid,
        kind: NotificationKind,
        referral: Option<Uuid>,
        transfer: Option<Uuid>,
    ) {
        self.notifications.push(Notification {
            id: Uuid::now_v7(),
            agency_id: agency,
            kind,
            case_id: Some(self.case.id),
            referral_id: referral,
            transfer_id: transfer,
            created_at: self.now,
            read_at: None,
            same_person_link_id: None,
            from_agency_id: None,
        });
    }

    /// Puts a notice about `case_id` (this change's case, its second case, or a case it found)
    /// in `agency`'s inbox, naming the same-person link or the agency whose act it reports;
    /// delivered with the change (ids only, no personal data).
    pub fn notify_about(
        &mut self,
        agency: Uuid,
        kind: NotificationKind,
        case_id: Uuid,
        same_person_link: Option<Uuid>,
        from_agency: Option<Uuid>,
    ) {
        self.notifications.push(Notification {
            id: Uuid::now_v7(),
            agency_id: agency,
            kind,
            case_id: Some(case_id),
            referral_id: None,
            transfer_id: None,
            created_at: self.now,
            read_at: None,
            same_person_link_id: same_person_link,
            from_agency_id: from_agency,
        });
    }

    /// Reads the case's sharing history with the commit, for an answer that shows the case
    /// ([`Committed::sharing`]).
    pub fn answer_with_sharing(&mut self) {
        self.answer_sharing = true;
    }

    /// Remembers the request under `(user, key)` so that a retry returns this change's result:
    /// recorded at commit with the change's last event.
    pub fn remember(&mut self, user: Uuid, key: &str, request: &Request) {
        self.idempotency = Some((
            user,
            key.to_string(),
            IdempotencyRecord {
                operation: request.operation.to_string(),
                request_hash: request.hash.clone(),
                case_id: self.case.id,
                event_id: None,
            },
        ));
    }

    /// Re-checks the case's protections, writes the case, its events, the notices and the
    /// idempotency record, and commits; then delivers the signals.
    #[tracing::instrument(name = "trm.commit", skip_all)]
    pub async fn commit(mut self) -> Result<Committed, ServiceError> {
        let (before, touched) = (self.before, self.touched);
        protections::keep(&mut self, before, touched).await?;
        protections::check_chain(&self.case, &self.events)?;
        // What the change's events wrote to tracks and timers, then the case row.
        let backend = self.writes.backend();
        let mut writes = std::mem::replace(&mut self.writes, Writes::new(backend));
        if let Some(locked) = &self.locked {
            if self.events.is_empty() {
                return Err(ServiceError::internal(
                    "a change to a case recorded no event",
                ));
            }
            // The row is locked for this transaction: it is there at the version locked.
            case_store::update(&mut writes, &self.case, locked)?;
        } else {
            // A new case is stored as it stands; its opening event changes no state, and a
            // change of its state before it is stored would be written twice.
            if !writes.is_empty() {
                return Err(ServiceError::internal(
                    "a case being opened changed its state before it was stored",
                ));
            }
            case_store::insert(&mut writes, &self.workflow, &self.case)?;
        }
        for event in &self.events {
            events::append(&mut writes, event)?;
        }
        let mut signals: Vec<Signal> = self.events.iter().map(Signal::case_event).collect();
        if let Some(other) = self.other.as_ref().filter(|o| !o.events.is_empty()) {
            protections::check_chain(&other.case, &other.events)?;
            case_store::update(&mut writes, &other.case, &other.locked)?;
            for event in &other.events {
                events::append(&mut writes, event)?;
            }
            signals.extend(other.events.iter().map(Signal::case_event));
        }
        for n in &self.notifications {
            inbox::insert(&mut writes, n);
            signals.push(Signal::Inbox {
                agency_id: n.agency_id,
                notification_id: n.id,
            });
        }
        if let Some((user, key, mut record)) = self.idempotency.take() {
            record.event_id = self.events.last().map(|e| e.id);
            idempotency::insert(&mut writes, user, &key, &record, self.now);
        }
        self.app.bus.stage(&mut writes, &signals)?;
        let sharing = if self.answer_sharing {
            let reads = disclosures::sharing_queries(writes.backend(), &[self.case.id]);
            Some(disclosures::sharing_of_rows(
                writes.run_then_read(&self.txn, reads).await?,
            )?)
        } else {
            writes.run(&self.txn).await?;
            None
        };
        self.txn.commit().await?;
        self.app.log_appended();
        self.app.bus.committed(&signals);
        Ok(Committed {
            case: self.case,
            events: self.events,
            signals,
            other: self.other.map(|o| o.case),
            sharing,
        })
    }
}

/// Locks the second case of a change (any scope: see [`CaseWork::begin_pair`]).
async fn lock_other(txn: &WriteTxn, id: Uuid) -> Result<CaseRecord, ServiceError> {
    case_store::lock(txn, CaseScope::All, id)
        .await?
        .ok_or(ServiceError::NotFound("case"))
}

/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// An idempotent request: the operation's name and the hash of its input.
pub struct Request {
    pub operation: &'static str,
    pub hash: String,
}

impl Request {
    /// The request `operation`, hashed as `request` (the operation's name and its input, as a
    /// tuple) in canonical JSON, so that the order of keys in its data does not matter.
    pub fn new<T: Serialize>(operation: &'static str, request: &T) -> Request {
        Request {
            operation,
            hash: hex::encode(Sha256::digest(canonical_json(request))),
        }
    }

    /// [`Request::earlier`] after this request lost a race (a unique key or the case's version)
    /// to a concurrent one: first waits until writes that finished are durable (on SQLite the
    /// winner may still be in a group being committed, which the reading pool cannot see yet).
    pub async fn earlier_after_race(
        &self,
        app: &App,
        user: Uuid,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, ServiceError> {
        app.store.settled().await?;
        self.earlier(app, user, key).await
    }

    /// What an earlier request with the same key produced: `None` when the key is new,
    /// `IDEMPOTENCY_MISMATCH` when it was used for another request.
    pub async fn earlier(
        &self,
        app: &App,
        user: Uuid,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, ServiceError> {
        match idempotency::find(app.store.conn(), user, key).await? {
            Some(r) if r.operation == self.operation && r.request_hash == self.hash => Ok(Some(r)),
            Some(_) => Err(ServiceError::IdempotencyMismatch),
            None => Ok(None),
        }
    }
}

/// Checks an idempotency key: 1 to [`MAX_IDEMPOTENCY_KEY_LEN`] printable ASCII characters.
pub fn check_key(key: Option<&str>) -> Result<Option<&str>, ServiceError> {
    match key {
        Some(k)
            if k.is_empty()
                || k.len() > MAX_IDEMPOTENCY_KEY_LEN
                || !k.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Err(ServiceError::validation(format!(
                "idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} printable ASCII characters"
            )))
        }
        other => Ok(other),
    }
}
