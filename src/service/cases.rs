//! Opening cases, firing transitions, and reading cases within the caller's scope.

use super::bus::Signal;
use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::CaseFilter;
use crate::domain::CaseRecord;
use crate::domain::Event;
use crate::domain::EventKind;
use crate::policy::{Action as PolicyAction, Facts};
use crate::store;
use crate::store::cases::{self as case_store};
use crate::store::events;
use crate::store::idempotency::{self, IdempotencyRecord};
use crate::workflow::engine::{self, Availability, Changes, TrackChange};
use crate::workflow::{Actor, Refusal, Workflow};
use chrono::Datelike;
use sea_orm::DatabaseTransaction;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Longest accepted idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;
/// Longest accepted reason.
pub const MAX_REASON_CHARS: usize = 4000;

/// Input of [`open_case`].
#[derive(Debug, Clone)]
pub struct OpenCase {
    pub workflow_id: String,
    /// `None`: the latest loaded version.
    pub workflow_version: Option<u32>,
    pub idempotency_key: Option<String>,
    /// An earlier case (led by the caller's agency) this case continues, e.g. a child's case
    /// continued under the adult procedure at 18.
    pub follows_case_id: Option<Uuid>,
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    pub origin_country: Option<String>,
}

/// Input of [`fire_transition`].
#[derive(Debug, Clone)]
pub struct FireTransition {
    pub case_id: Uuid,
    pub transition: String,
    pub expected_version: i64,
    pub reason: Option<String>,
    pub data: Map<String, Json>,
    pub idempotency_key: Option<String>,
}

/// A fired transition: the event recorded and the case after it.
#[derive(Debug, Clone)]
pub struct Fired {
    pub case: CaseRecord,
    pub event: Event,
    /// True when an idempotent retry returned the first result without doing the work again.
    pub replayed: bool,
    /// What to deliver to subscribers once committed.
    pub signals: Vec<Signal>,
}

const OPEN_CASE: &str = "openCase";
const FIRE_TRANSITION: &str = "fireTransition";

/// Opens a case under a workflow in the caller's agency and country.
pub async fn open_case(
    app: &App,
    p: &Principal,
    input: OpenCase,
) -> Result<CaseRecord, ServiceError> {
    app.authorize(
        p,
        PolicyAction::OpenCase,
        Facts::default(),
        "your roles do not allow opening cases",
    )?;
    let key = check_key(input.idempotency_key.as_deref())?;
    if let Some(country) = &input.origin_country {
        super::directory::check_country("originCountry", country)?;
    }
    let request_hash = request_hash(&(
        OPEN_CASE,
        &input.workflow_id,
        input.workflow_version,
        input.follows_case_id,
        &input.origin_country,
    ));
    if let Some(key) = key
        && let Some(case_id) = replay_open(app, p, key, &request_hash).await?
    {
        return visible_case(app, p, case_id).await;
    }
    let workflow = app
        .workflows
        .get(&input.workflow_id, input.workflow_version)
        .ok_or(ServiceError::NotFound("workflow"))?;
    let now = app.now();
    let txn = app.store.begin_write().await?;
    if let Some(earlier) = input.follows_case_id {
        let earlier = case_store::find(&txn, p.case_scope(app.now()), earlier)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        app.authorize(
            p,
            PolicyAction::RecordCaseData,
            lead_facts(p, &earlier),
            "only the lead agency of the earlier case can continue it",
        )?;
    }
    let number = store::next_counter(&txn, &p.country, now.year()).await?;
    let (record, event) = opening(
        &workflow,
        Opening {
            reference: format!("{}-{}-{number:06}", p.country, now.year()),
            country: p.country.clone(),
            by: (p.user_id, p.agency_id),
            at: now,
            follows_case_id: input.follows_case_id,
            origin_country: input.origin_country.clone(),
        },
    );
    case_store::insert(&txn, &workflow, &record).await?;
    events::append(&txn, &event).await?;
    let signals = [Signal::case_event(&event)];
    app.bus.stage(&txn, &signals).await?;
    if let Some(key) = key {
        let idem = IdempotencyRecord {
            operation: OPEN_CASE.into(),
            request_hash: request_hash.clone(),
            case_id: record.id,
            event_id: Some(event.id),
        };
        if let Err(e) = idempotency::insert(&txn, p.user_id, key, &idem, now).await {
            let _ = txn.rollback().await;
            if e.is_conflict() {
                // A concurrent retry with the same key won; answer with its result.
                if let Some(case_id) = replay_open(app, p, key, &request_hash).await? {
                    return visible_case(app, p, case_id).await;
                }
            }
            return Err(e.into());
        }
    }
    txn.commit().await?;
    app.bus.committed(&signals);
    Ok(record)
}

async fn replay_open(
    app: &App,
    p: &Principal,
    key: &str,
    hash: &str,
) -> Result<Option<Uuid>, ServiceError> {
    match idempotency::find(app.store.conn(), p.user_id, key).await? {
        Some(r) if r.operation == OPEN_CASE && r.request_hash == hash => Ok(Some(r.case_id)),
        Some(_) => Err(ServiceError::IdempotencyMismatch),
        None => Ok(None),
    }
}

/// Fires a transition: one transaction that checks the version, the guards and the caller's
/// rights, appends the event, updates the current state and records the idempotency key.
pub async fn fire_transition(
    app: &App,
    p: &Principal,
    input: FireTransition,
) -> Result<Fired, ServiceError> {
    let key = check_key(input.idempotency_key.as_deref())?;
    if let Some(reason) = &input.reason
        && reason.chars().count() > MAX_REASON_CHARS
    {
        return Err(ServiceError::validation(format!(
            "reason is longer than {MAX_REASON_CHARS} characters"
        )));
    }
    let data: BTreeMap<&String, &Json> = input.data.iter().collect();
    let request_hash = request_hash(&(
        FIRE_TRANSITION,
        input.case_id,
        &input.transition,
        input.expected_version,
        &input.reason,
        data,
    ));
    if let Some(key) = key
        && let Some(fired) = replay_fire(app, p, key, &request_hash).await?
    {
        return Ok(fired);
    }
    let txn = app.store.begin_write().await?;
    match fire_in(app, &txn, p, &input, key, &request_hash).await {
        Ok(fired) => {
            txn.commit().await?;
            app.bus.committed(&fired.signals);
            Ok(fired)
        }
        Err(err) => {
            let _ = txn.rollback().await;
            // A concurrent request with the same key may have won the race: give its result.
            let lost_race = err.lost_race();
            if let (true, Some(key)) = (lost_race, key)
                && let Some(fired) = replay_fire(app, p, key, &request_hash).await?
            {
                return Ok(fired);
            }
            Err(err)
        }
    }
}

async fn fire_in(
    app: &App,
    txn: &DatabaseTransaction,
    p: &Principal,
    input: &FireTransition,
    key: Option<&str>,
    request_hash: &str,
) -> Result<Fired, ServiceError> {
    // Lock the case row first, so that the case and its tracks are read as one consistent
    // snapshot (PostgreSQL reads each statement at its own moment under READ COMMITTED).
    case_store::lock(txn, input.case_id).await?;
    let case = case_store::find(txn, p.case_scope(app.now()), input.case_id)
        .await?
        .ok_or(ServiceError::NotFound("case"))?;
    let workflow = workflow_of(app, &case)?;
    app.authorize(
        p,
        PolicyAction::FireTransition,
        transition_facts(p, &case, &workflow, &input.transition),
        "only the lead agency's case workers can move this case",
    )?;
    if case.version != input.expected_version {
        return Err(ServiceError::VersionConflict {
            expected: input.expected_version,
            actual: case.version,
        });
    }
    if workflow
        .transition(&input.transition)
        .is_some_and(|t| t.transfer_of_lead)
    {
        return Err(ServiceError::InvalidTransition(format!(
            "`{}` is the workflow's transfer step: offer a transfer of lead (offerTransfer); it \
             fires when the receiving agency accepts",
            input.transition
        )));
    }
    let now = app.now();
    let actor = Actor {
        roles: p.roles.clone(),
        agency_kind: p.agency_kind,
    };
    let outcome = engine::evaluate(
        &workflow,
        &case.state,
        &actor,
        &input.transition,
        &input.data,
        env(app, &case, now),
    )
    .map_err(|r| refusal_error(&workflow, &input.transition, r))?;
    let Some(after) = apply_outcome(txn, &workflow, &case, &outcome, now).await? else {
        let actual = case_store::find(txn, p.case_scope(app.now()), case.id)
            .await?
            .map_or(case.version, |c| c.version);
        return Err(ServiceError::VersionConflict {
            expected: input.expected_version,
            actual,
        });
    };
    let prev_hash = events::last_hash(txn, case.id).await?;
    let event = new_event(
        &after,
        p,
        EventKind::Transition,
        Some((
            &input.transition,
            &outcome.track,
            &outcome.from,
            &outcome.to,
        )),
        input.reason.clone(),
        outcome.changes,
        prev_hash,
    );
    events::append(txn, &event).await?;
    let mut signals = vec![Signal::case_event(&event)];
    let mut after = after;
    if let Some(alert) = workflow.transition(&input.transition).and_then(|t| t.alert) {
        let (alerted, more) = super::alerts::raise(app, txn, after, alert, now).await?;
        after = alerted;
        signals.extend(more);
    }
    app.bus.stage(txn, &signals).await?;
    if let Some(key) = key {
        let idem = IdempotencyRecord {
            operation: FIRE_TRANSITION.into(),
            request_hash: request_hash.to_string(),
            case_id: case.id,
            event_id: Some(event.id),
        };
        idempotency::insert(txn, p.user_id, key, &idem, now).await?;
    }
    Ok(Fired {
        case: after,
        event,
        replayed: false,
        signals,
    })
}

/// Writes an engine outcome to a case still at its version and returns the case after it
/// (the caller appends the event); `None` when another write got there first.
pub(crate) async fn apply_outcome(
    txn: &DatabaseTransaction,
    workflow: &Workflow,
    case: &CaseRecord,
    outcome: &engine::Outcome,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<CaseRecord>, ServiceError> {
    let status = engine::status(workflow, &outcome.state);
    if !case_store::apply_changes(
        txn,
        workflow,
        case,
        &outcome.state,
        status,
        &outcome.changes,
        now,
    )
    .await?
    {
        return Ok(None);
    }
    let mut after = case.clone();
    after.version += 1;
    after.status = status;
    after.updated_at = now;
    for change in &outcome.changes.tracks {
        after.entered_at.insert(change.track.clone(), now);
    }
    after.state = outcome.state.clone();
    Ok(Some(after))
}

async fn replay_fire(
    app: &App,
    p: &Principal,
    key: &str,
    hash: &str,
) -> Result<Option<Fired>, ServiceError> {
    let Some(record) = idempotency::find(app.store.conn(), p.user_id, key).await? else {
        return Ok(None);
    };
    if record.operation != FIRE_TRANSITION || record.request_hash != hash {
        return Err(ServiceError::IdempotencyMismatch);
    }
    let event_id = record.event_id.ok_or(ServiceError::NotFound("event"))?;
    let event = events::by_id(app.store.conn(), event_id)
        .await?
        .ok_or(ServiceError::NotFound("event"))?;
    let case = visible_case(app, p, record.case_id).await?;
    Ok(Some(Fired {
        case,
        event,
        replayed: true,
        signals: Vec::new(),
    }))
}

pub(crate) fn refusal_error(
    workflow: &Workflow,
    transition_id: &str,
    refusal: Refusal,
) -> ServiceError {
    match refusal {
        Refusal::UnknownTransition { transition } => ServiceError::InvalidTransition(format!(
            "workflow {} v{} has no transition `{transition}`",
            workflow.id, workflow.version
        )),
        Refusal::NotFromCurrentState {
            transition,
            track,
            current,
        } => ServiceError::InvalidTransition(match current {
            Some(state) => format!(
                "transition `{transition}` does not leave `{state}`, the current state of track `{track}`"
            ),
            None => format!(
                "transition `{transition}` belongs to track `{track}`, which has not started"
            ),
        }),
        Refusal::InvalidInput(problems) => ServiceError::Validation {
            message: problems
                .iter()
                .map(|p| format!("data.{} {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; "),
            problems,
        },
        Refusal::NotPermitted(unmet) => ServiceError::Forbidden(
            unmet
                .iter()
                .map(|u| u.reason.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Refusal::GuardsUnmet(unmet) => ServiceError::GuardFailed {
            transition: transition_id.to_string(),
            unmet,
        },
    }
}

pub(crate) fn new_event(
    case: &CaseRecord,
    p: &Principal,
    kind: EventKind,
    transition: Option<(&String, &String, &String, &String)>,
    reason: Option<String>,
    changes: Changes,
    prev_hash: String,
) -> Event {
    build_event(
        case,
        (p.user_id, p.agency_id),
        kind,
        transition,
        reason,
        changes,
        prev_hash,
        None,
    )
}

/// Who opens a case, where and when (see [`opening`]).
pub struct Opening {
    pub reference: String,
    pub country: String,
    /// (user, agency): the agency becomes the lead.
    pub by: (Uuid, Uuid),
    pub at: chrono::DateTime<chrono::Utc>,
    pub follows_case_id: Option<Uuid>,
    pub origin_country: Option<String>,
}

/// A new case at its workflow's initial state and its opening event (hashed, `seq` 1): what
/// `openCase` writes, and what bulk seeders must write so that the audit trail verifies.
pub fn opening(workflow: &Workflow, o: Opening) -> (CaseRecord, Event) {
    let state = engine::initial_state(workflow);
    let (user, agency) = o.by;
    let record = CaseRecord {
        id: Uuid::now_v7(),
        reference: o.reference,
        workflow_id: workflow.id.clone(),
        workflow_version: workflow.version,
        country: o.country,
        lead_agency_id: agency,
        status: engine::status(workflow, &state),
        version: 1,
        opened_by: user,
        opened_at: o.at,
        updated_at: o.at,
        entered_at: state.tracks.keys().map(|t| (t.clone(), o.at)).collect(),
        state,
        follows_case_id: o.follows_case_id,
        origin_country: o.origin_country,
        opened_by_agency_id: agency,
    };
    let changes = Changes {
        tracks: record
            .state
            .tracks
            .iter()
            .map(|(track, to)| TrackChange {
                track: track.clone(),
                from: None,
                to: to.clone(),
            })
            .collect(),
        follows_case: o.follows_case_id,
        ..Changes::default()
    };
    // The log alone must rebuild the case (auditors' "as of" view): the origin country too.
    let details = record
        .origin_country
        .as_ref()
        .map(|country| serde_json::json!({ "originCountry": country }));
    let event = build_event(
        &record,
        o.by,
        EventKind::CaseOpened,
        None,
        None,
        changes,
        crate::domain::GENESIS_HASH.into(),
        details,
    );
    (record, event)
}

/// The event after `case`'s current version, by (user, agency), hashed onto `prev_hash`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build_event(
    case: &CaseRecord,
    (actor_user_id, actor_agency_id): (Uuid, Uuid),
    kind: EventKind,
    transition: Option<(&String, &String, &String, &String)>,
    reason: Option<String>,
    changes: Changes,
    prev_hash: String,
    details: Option<Json>,
) -> Event {
    let mut event = Event {
        id: Uuid::now_v7(),
        case_id: case.id,
        seq: case.version,
        kind,
        transition: transition.map(|t| t.0.clone()),
        track: transition.map(|t| t.1.clone()),
        from_state: transition.map(|t| t.2.clone()),
        to_state: transition.map(|t| t.3.clone()),
        reason,
        changes,
        workflow_id: case.workflow_id.clone(),
        workflow_version: case.workflow_version,
        actor_user_id,
        actor_agency_id,
        occurred_at: case.updated_at,
        prev_hash,
        hash: String::new(),
        details,
    };
    event.hash = event.compute_hash();
    event
}

/// An event recorded by the service itself (e.g. a timer elapsing), not by a person.
/// Its actor is the nil UUID; its agency is the case's lead agency.
pub(crate) fn new_system_event(case: &CaseRecord, changes: Changes, prev_hash: String) -> Event {
    let actor = (Uuid::nil(), case.lead_agency_id);
    build_event(
        case,
        actor,
        EventKind::TimerElapsed,
        None,
        None,
        changes,
        prev_hash,
        None,
    )
}

fn check_key(key: Option<&str>) -> Result<Option<&str>, ServiceError> {
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

fn request_hash<T: Serialize>(request: &T) -> String {
    hex::encode(Sha256::digest(crate::domain::event::canonical_json(
        request,
    )))
}

/// The evaluation environment of a case: now, its jurisdiction and that country's calendar.
pub fn env<'a>(
    app: &'a App,
    case: &'a CaseRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> engine::Env<'a> {
    engine::Env {
        now,
        country: &case.country,
        calendar: app.workflows.calendar(&case.country),
    }
}

/// The workflow definition a case is pinned to.
pub fn workflow_of(app: &App, case: &CaseRecord) -> Result<Arc<Workflow>, ServiceError> {
    app.workflows
        .get(&case.workflow_id, Some(case.workflow_version))
        .ok_or_else(|| {
            ServiceError::internal(format!(
                "workflow {} v{} of case {} is not loaded",
                case.workflow_id, case.workflow_version, case.id
            ))
        })
}

async fn visible_case(app: &App, p: &Principal, id: Uuid) -> Result<CaseRecord, ServiceError> {
    case_store::find(app.store.conn(), p.case_scope(app.now()), id)
        .await?
        .ok_or(ServiceError::NotFound("case"))
}

/// A case the caller may see, by id.
pub async fn get_case(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<CaseRecord>, ServiceError> {
    Ok(case_store::find(app.store.conn(), p.case_scope(app.now()), id).await?)
}

/// The cases the caller may see that continue `case` (e.g. under the adult procedure).
pub async fn followers(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
) -> Result<Vec<CaseRecord>, ServiceError> {
    Ok(case_store::followers(app.store.conn(), p.case_scope(app.now()), case.id).await?)
}

/// A case the caller may see, by reference.
pub async fn case_by_reference(
    app: &App,
    p: &Principal,
    reference: &str,
) -> Result<Option<CaseRecord>, ServiceError> {
    Ok(case_store::find_by_reference(app.store.conn(), p.case_scope(app.now()), reference).await?)
}

/// Cases the caller may see, newest first.
pub async fn list_cases(
    app: &App,
    p: &Principal,
    filter: &CaseFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CaseRecord>, ServiceError> {
    Ok(case_store::list(
        app.store.conn(),
        p.case_scope(app.now()),
        filter,
        after,
        limit,
    )
    .await?)
}

/// A page of a case's history, oldest first. The caller has already been shown the case.
pub async fn history(
    app: &App,
    case: &CaseRecord,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<Event>, ServiceError> {
    Ok(events::page(app.store.conn(), case.id, after_seq, limit).await?)
}

/// What the policies need to know about a case the caller's agency may lead.
pub fn lead_facts(p: &Principal, case: &CaseRecord) -> Facts {
    Facts {
        is_lead: case.lead_agency_id == p.agency_id,
        is_party: false,
        has_access: true,
        stage: None,
        group: None,
    }
}

/// [`lead_facts`] plus the SOP stage of the state the transition leaves.
fn transition_facts(
    p: &Principal,
    case: &CaseRecord,
    workflow: &Workflow,
    transition: &str,
) -> Facts {
    let stage = workflow
        .transition(transition)
        .and_then(|t| case.state.tracks.get(&t.track))
        .and_then(|s| workflow.state(s))
        .map(|s| s.stage);
    Facts {
        stage,
        ..lead_facts(p, case)
    }
}

/// A page of a case's history as `p` may see it: `None` when the history is not shared with
/// the caller's agency (participants), cut at the hand-over for a former lead.
pub async fn history_for(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
    after_seq: i64,
    limit: u64,
) -> Result<Option<Vec<Event>>, ServiceError> {
    let view = super::sharing::case_view(app, p, case).await?;
    let Some(until) = view.history_until() else {
        return Ok(None);
    };
    let mut events = history(app, case, after_seq, limit).await?;
    if let Some(until) = until {
        events.retain(|e| e.occurred_at <= until);
    }
    Ok(Some(events))
}

/// Every transition out of the case's current states, judged for the caller now.
pub fn available_transitions<'w>(
    app: &App,
    p: &Principal,
    workflow: &'w Workflow,
    case: &CaseRecord,
) -> Vec<Availability<'w>> {
    available_transitions_memo(app, p, workflow, case, &mut HashMap::new())
}

/// [`available_transitions`], remembering the policy decisions in `decisions`: the caller's
/// verdict depends only on the facts, which repeat across transitions and across cases (the
/// worklist judges many cases for one caller).
pub fn available_transitions_memo<'w>(
    app: &App,
    p: &Principal,
    workflow: &'w Workflow,
    case: &CaseRecord,
    decisions: &mut HashMap<crate::policy::Facts, bool>,
) -> Vec<Availability<'w>> {
    let actor = Actor {
        roles: p.roles.clone(),
        agency_kind: p.agency_kind,
    };
    let mut list = engine::available(workflow, &case.state, &actor, env(app, case, app.now()));
    for a in list.iter_mut().filter(|a| a.transition.transfer_of_lead) {
        a.allowed = false;
        a.unmet.push(crate::workflow::Unmet {
            name: "transfer_of_lead".into(),
            reason: "The transfer step fires when the receiving agency accepts a transfer of lead (offerTransfer)".into(),
            reason_fr: "L'étape de transfert a lieu quand l'organisme destinataire accepte le transfert du dossier (offerTransfer)".into(),
        });
    }
    for a in &mut list {
        let facts = transition_facts(p, case, workflow, &a.transition.id);
        let allowed = *decisions
            .entry(facts)
            .or_insert_with(|| app.decide(p, PolicyAction::FireTransition, facts).allowed);
        if !allowed {
            a.allowed = false;
            a.unmet.insert(
                0,
                crate::workflow::Unmet {
                    name: "lead_agency".into(),
                    reason: "Only the lead agency's case workers can move this case (and guardians outside proceedings)".into(),
                    reason_fr:
                        "Seuls les agents de l'agence responsable peuvent faire avancer ce dossier (et les tuteurs hors procédures judiciaires)"
                            .into(),
                },
            );
        }
    }
    list
}

/// An event the caller may see (its case is visible to them), by id.
pub async fn visible_event(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<Event>, ServiceError> {
    let Some(event) = events::by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    let Some(case) = get_case(app, p, event.case_id).await? else {
        return Ok(None);
    };
    // The same rule as `Case.history`: participants see no events, former leads up to their time.
    let view = super::sharing::case_view(app, p, &case).await?;
    Ok(match view.history_until() {
        Some(None) => Some(event),
        Some(Some(until)) if event.occurred_at <= until => Some(event),
        _ => None,
    })
}
