//! Firing a workflow transition, and judging which transitions a caller may fire now.

use super::unit_of_work::{CaseWork, Changer, Request, check_key};
use super::{App, ServiceError};
use crate::access::policy::{Action as PolicyAction, Facts};
use crate::access::{Field, Principal, VisibleCase};
use crate::domain::event::TransitionNames;
use crate::domain::{CaseRecord, DataGroup, Event, EventDraft, EventKind};
use crate::vocabulary::NotificationKind;
use crate::workflow::engine::{self, Availability};
use crate::workflow::{self, Actor, Refusal, Unmet, Workflow};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

/// Longest accepted reason.
pub const MAX_REASON_CHARS: usize = 4000;

const FIRE_TRANSITION: &str = "fireTransition";

/// Input of [`fire_transition`].
#[derive(Debug, Clone)]
pub struct FireTransition {
    pub case_id: Uuid,
    pub transition: String,
    pub expected_version: i64,
    pub reason: Option<String>,
    /// The data groups the reason is shared as (see [`crate::access::CaseView::sees_text`]).
    pub reason_shared_as: BTreeSet<DataGroup>,
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
    /// The case's sharing history as the transition left it, when read with it (see
    /// [`super::unit_of_work::Committed::sharing`]).
    pub sharing: Option<crate::store::disclosures::Sharing>,
}

/// Fires a transition: checks the caller's rights, the version and the guards, and records the
/// outcome as one event (and any alert the transition raises), in one unit of work.
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
    let request = Request::new(
        FIRE_TRANSITION,
        &(
            FIRE_TRANSITION,
            input.case_id,
            &input.transition,
            input.expected_version,
            &input.reason,
            data,
            &input.reason_shared_as,
        ),
    );
    if let Some(key) = key
        && let Some(fired) = replay(app, p, key, &request, false).await?
    {
        return Ok(fired);
    }
    let err = match fire(app, p, &input, key, &request).await {
        Ok(fired) => return Ok(fired),
        Err(err) => err,
    };
    // A concurrent request with the same key may have won the race: give its result.
    if err.lost_race()
        && let Some(key) = key
        && let Some(fired) = replay(app, p, key, &request, true).await?
    {
        return Ok(fired);
    }
    Err(err)
}

async fn fire(
    app: &App,
    p: &Principal,
    input: &FireTransition,
    key: Option<&str>,
    request: &Request,
) -> Result<Fired, ServiceError> {
    let mut work = CaseWork::begin(app, Changer::Principal(p), input.case_id, None).await?;
    let workflow = work.workflow().clone();
    // Whether the caller's agency takes part in the case (read under the case's lock, so that a
    // referral revoked a moment ago no longer counts); the lead needs no such reading.
    let involved = work.case().lead_agency_id != p.agency_id
        && super::visibility::view(app, work.tx(), p, work.case())
            .await?
            .involved;
    let policy = tracing::info_span!("trm.policy").entered();
    app.authorize(
        p,
        PolicyAction::FireTransition,
        transition_facts(p, work.case(), &workflow, &input.transition, involved),
        &refused_to(&workflow, &input.transition),
    )?;
    drop(policy);
    if work.case().version != input.expected_version {
        return Err(ServiceError::VersionConflict {
            expected: input.expected_version,
            actual: work.case().version,
        });
    }
    let step = workflow.transition(&input.transition);
    if step.is_some_and(|t| t.transfer_of_lead) {
        return Err(ServiceError::InvalidTransition(format!(
            "`{}` is the workflow's transfer step: offer a transfer of lead (offerTransfer); it \
             fires when the receiving agency accepts",
            input.transition
        )));
    }
    let engine_span = tracing::info_span!("trm.engine", trm.workflow = %workflow.id, trm.workflow_version = i64::from(workflow.version), trm.transition = step.map(|t| t.id.as_str())).entered();
    let outcome = engine::evaluate(
        &workflow,
        &work.case().state,
        &actor(p),
        &input.transition,
        &input.data,
        app.env(work.case(), work.now()),
    )
    .map_err(|r| refusal_error(&workflow, &input.transition, r))?;
    drop(engine_span);
    let mut draft = EventDraft::new(EventKind::Transition, (p.user_id, p.agency_id));
    draft.transition = Some(TransitionNames {
        transition: input.transition.clone(),
        track: outcome.track,
        from: outcome.from,
        to: outcome.to,
    });
    draft.reason = input.reason.clone();
    draft.reason_shared_as = input.reason_shared_as.clone();
    let event = match step.and_then(|t| t.continues_under.as_ref()) {
        Some(switch) => {
            let to = app.workflows.get(&switch.workflow, None).ok_or_else(|| {
                ServiceError::internal("a procedure a step continues under is not loaded")
            })?;
            draft.changes = workflow::switch::continue_under(
                &to,
                switch,
                &work.case().state,
                &outcome.changes,
                app.env(work.case(), work.now()),
            )
            .map_err(|conflict| ServiceError::InvalidTransition(conflict.to_string()))?;
            work.continue_under(draft, to).await?.clone()
        }
        None => {
            draft.changes = outcome.changes;
            work.record(draft).await?.clone()
        }
    };
    if let Some(alert) = step.and_then(|t| t.alert) {
        super::alerts::raise(app, &mut work, alert).await?;
    }
    // The lead learns at once that another agency decided on its case.
    if work.case().lead_agency_id != p.agency_id {
        let lead = work.case().lead_agency_id;
        work.notify(lead, NotificationKind::DecisionRecorded, None, None);
    }
    if let Some(key) = key {
        work.remember(p.user_id, key, request);
    }
    work.answer_with_sharing();
    let committed = work.commit().await?;
    Ok(Fired {
        case: committed.case,
        event,
        replayed: false,
        sharing: committed.sharing,
    })
}

/// What an earlier request with the same key produced, as this request's answer; `after_race`:
/// this request lost a race to it (see [`Request::earlier_after_race`]).
async fn replay(
    app: &App,
    p: &Principal,
    key: &str,
    request: &Request,
    after_race: bool,
) -> Result<Option<Fired>, ServiceError> {
    let earlier = if after_race {
        request.earlier_after_race(app, p.user_id, key).await?
    } else {
        request.earlier(app, p.user_id, key).await?
    };
    match earlier {
        Some(record) => replayed(app, p, record).await,
        None => Ok(None),
    }
}

async fn replayed(
    app: &App,
    p: &Principal,
    record: crate::store::idempotency::IdempotencyRecord,
) -> Result<Option<Fired>, ServiceError> {
    let event_id = record.event_id.ok_or(ServiceError::NotFound("event"))?;
    let event = crate::store::events::by_id(app.store.conn(), event_id)
        .await?
        .ok_or(ServiceError::NotFound("event"))?;
    let case = super::cases::visible_case(app, p, record.case_id).await?;
    Ok(Some(Fired {
        case,
        event,
        replayed: true,
        sharing: None,
    }))
}

/// Why a caller the policies refuse may not fire `transition`: who may.
fn refused_to(workflow: &Workflow, transition: &str) -> String {
    match workflow.transition(transition) {
        Some(t) if !t.involved_agency_kinds.is_empty() => format!(
            "`{transition}` is taken by the lead agency's case workers or by an agency the lead \
             involved in the case of kind {}",
            t.involved_agency_kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "only the lead agency's case workers can move this case".to_string(),
    }
}

/// The engine's refusal as the error the API shows.
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

/// The engine's view of a principal: its roles and its agency's kind.
pub fn actor(p: &Principal) -> Actor {
    Actor {
        roles: p.roles.clone(),
        agency_kind: p.agency_kind,
    }
}

/// [`super::cases::lead_facts`] plus the SOP stage of the state the transition leaves, and
/// whether the caller's agency, `involved` in the case, is of a kind the step names.
fn transition_facts(
    p: &Principal,
    case: &CaseRecord,
    workflow: &Workflow,
    transition: &str,
    involved: bool,
) -> Facts {
    let step = workflow.transition(transition);
    let stage = step
        .and_then(|t| case.state.tracks.get(&t.track))
        .and_then(|s| workflow.state(s))
        .map(|s| s.stage);
    Facts {
        stage,
        is_involved: involved
            && step.is_some_and(|t| t.involved_agency_kinds.contains(&p.agency_kind)),
        ..super::cases::lead_facts(p, case)
    }
}

/// Every transition out of the case's current states, judged for its caller now; none where the
/// caller may not see them.
pub fn available_for<'w>(
    app: &App,
    p: &Principal,
    workflow: &'w Workflow,
    case: &VisibleCase,
) -> Vec<Availability<'w>> {
    if !case.sees(Field::AvailableTransitions) {
        return Vec::new();
    }
    let involved = case.view().involved;
    let mut list = available_transitions_memo(
        app,
        p,
        workflow,
        case.record(),
        involved,
        &mut HashMap::new(),
    );
    // An agency the lead involved sees the steps given to its kind and its users' roles, not
    // the lead's.
    if involved {
        list.retain(|a| {
            a.transition.involved_agency_kinds.contains(&p.agency_kind)
                && a.transition.roles.iter().any(|r| p.roles.contains(r))
        });
    }
    list
}

/// Every transition out of the case's current states, judged for the caller now (whose agency
/// is `involved` in the case or not), remembering the policy decisions in `decisions`: the
/// caller's verdict depends only on the facts, which repeat across transitions and across cases
/// (the worklist judges many cases for one caller).
pub fn available_transitions_memo<'w>(
    app: &App,
    p: &Principal,
    workflow: &'w Workflow,
    case: &CaseRecord,
    involved: bool,
    decisions: &mut HashMap<Facts, bool>,
) -> Vec<Availability<'w>> {
    let env = app.env(case, app.now());
    let mut list = engine::available(workflow, &case.state, &actor(p), env);
    for a in list.iter_mut().filter(|a| a.transition.transfer_of_lead) {
        a.allowed = false;
        a.unmet.push(Unmet {
            name: "transfer_of_lead".into(),
            reason: "The transfer step fires when the receiving agency accepts a transfer of lead (offerTransfer)".into(),
            reason_fr: "L'étape de transfert a lieu quand l'organisme destinataire accepte le transfert du dossier (offerTransfer)".into(),
        });
    }
    for a in &mut list {
        let facts = transition_facts(p, case, workflow, &a.transition.id, involved);
        let allowed = *decisions
            .entry(facts)
            .or_insert_with(|| app.decide(p, PolicyAction::FireTransition, facts).allowed);
        if !allowed {
            a.allowed = false;
            a.unmet.insert(
                0,
                if involved {
                    Unmet {
                        name: "involved_agency".into(),
                        reason: "Your role may not take this step for your agency".into(),
                        reason_fr: "Votre rôle ne permet pas de faire cette étape pour votre agence".into(),
                    }
                } else {
                    Unmet {
                        name: "lead_agency".into(),
                        reason: "Only the lead agency's case workers can move this case (and guardians outside proceedings), besides the agencies it involved for the steps the workflow gives them".into(),
                        reason_fr:
                            "Seuls les agents de l'agence responsable peuvent faire avancer ce dossier (et les tuteurs hors procédures judiciaires), ainsi que les agences qu'elle a associées pour les étapes que la procédure leur confie"
                                .into(),
                    }
                },
            );
        }
    }
    list
}
