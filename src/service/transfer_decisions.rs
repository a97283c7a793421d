//! Deciding on a transfer of lead: the receiver accepts or rejects an offer, the lead approves
//! or rejects a request or revokes its offer. Accepting fires the workflow's transfer step and
//! moves the lead in one unit of work, so the transfer record and the workflow can never
//! disagree; the new lead then sends the former lead feedback.

use super::disclosure::{GroundRequest, agency, check_text, with_ground};
use super::transfers::{check_disclosure, transfer_step};
use super::transitions::actor;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::event::TransitionNames;
use crate::domain::{
    DataGroup, EventDraft, EventKind, Feedback, Ground, NotificationKind, TransferRecord,
    TransferStatus,
};
use crate::store::disclosures::{self, TransferDecision};
use crate::store::inbox;
use crate::workflow::Actor;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// What a party does with a transfer.
#[derive(Debug, Clone)]
pub enum TransferAction {
    /// The receiver takes the lead (an offer).
    Accept,
    /// The receiver refuses an offer, or the lead refuses a request (reason required).
    Reject { reason: String },
    /// The lead withdraws an offer (or a suspended one).
    Revoke { reason: Option<String> },
    /// The lead grants a request: sharing `groups` on a ground; the lead moves at once.
    Approve {
        groups: BTreeSet<DataGroup>,
        ground: GroundRequest,
        data: Map<String, Json>,
    },
}

/// Accepts, rejects, revokes or approves a transfer.
pub async fn act_on_transfer(
    app: &App,
    p: &Principal,
    transfer_id: Uuid,
    action: TransferAction,
    expected_version: Option<i64>,
) -> Result<TransferRecord, ServiceError> {
    let t = disclosures::transfer_by_id(app.store.conn(), transfer_id)
        .await?
        .ok_or(ServiceError::NotFound("transfer"))?;
    if p.agency_id != t.to_agency_id && p.agency_id != t.from_agency_id {
        return Err(ServiceError::NotFound("transfer"));
    }
    // Who decides: the receiver for offers, the lead for requests; the lead revokes.
    let decider = match (&action, t.requested_by_receiver) {
        (TransferAction::Accept, false) | (TransferAction::Reject { .. }, false) => t.to_agency_id,
        (TransferAction::Reject { .. }, true) | (TransferAction::Approve { .. }, true) => {
            t.from_agency_id
        }
        (TransferAction::Revoke { .. }, _) => t.from_agency_id,
        (TransferAction::Accept, true) => {
            return Err(ServiceError::InvalidTransition(
                "this transfer was requested by the receiver: the lead approves it (approveTransferRequest)".into(),
            ));
        }
        (TransferAction::Approve { .. }, false) => {
            return Err(ServiceError::InvalidTransition(
                "this transfer was offered by the lead: the receiver accepts it (acceptTransfer)"
                    .into(),
            ));
        }
    };
    let facts = crate::access::policy::Facts {
        is_party: p.agency_id == decider,
        has_access: true,
        is_involved: false,
        ..crate::access::policy::Facts::default()
    };
    app.authorize(
        p,
        crate::access::policy::Action::DecideTransfer,
        facts,
        "only the deciding agency's case workers can do this",
    )?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), t.case_id, expected_version).await?;
    let actor_ids = (p.user_id, p.agency_id);
    let not_now = |status: TransferStatus| {
        ServiceError::InvalidTransition(format!(
            "the transfer is {}; it cannot be {}",
            t.status.as_str(),
            status.as_str()
        ))
    };
    match action {
        TransferAction::Reject { reason } => {
            check_text("reason", Some(&reason), true)?;
            let from = if t.requested_by_receiver {
                TransferStatus::Requested
            } else {
                TransferStatus::Offered
            };
            decide(
                &work,
                &t,
                &[from],
                TransferStatus::Rejected,
                Some(&reason),
                p,
                None,
            )
            .await?
            .then_some(())
            .ok_or_else(|| not_now(TransferStatus::Rejected))?;
            let other = if t.requested_by_receiver {
                t.to_agency_id
            } else {
                t.from_agency_id
            };
            // The reason is the transfer's status reason: shared as its groups, to the other
            // party.
            work.record(
                EventDraft::new(EventKind::Transfer, actor_ids)
                    .reason(Some(reason))
                    .shared(t.groups.clone(), Some(other))
                    .details(json!({ "transfer": t.id, "action": "REJECTED" })),
            )
            .await?;
            work.notify(other, NotificationKind::TransferDecided, None, Some(t.id));
        }
        TransferAction::Revoke { reason } => {
            check_text("reason", reason.as_deref(), false)?;
            decide(
                &work,
                &t,
                &[TransferStatus::Offered, TransferStatus::Suspended],
                TransferStatus::Revoked,
                reason.as_deref(),
                p,
                None,
            )
            .await?
            .then_some(())
            .ok_or_else(|| not_now(TransferStatus::Revoked))?;
            work.record(
                EventDraft::new(EventKind::Transfer, actor_ids)
                    .reason(reason)
                    .shared(t.groups.clone(), Some(t.to_agency_id))
                    .details(json!({ "transfer": t.id, "action": "REVOKED" })),
            )
            .await?;
            work.notify(
                t.to_agency_id,
                NotificationKind::TransferDecided,
                None,
                Some(t.id),
            );
        }
        TransferAction::Accept => {
            if t.status != TransferStatus::Offered {
                return Err(not_now(TransferStatus::Accepted));
            }
            let offerer = Actor {
                roles: t.offerer_roles.clone(),
                agency_kind: agency(work.tx(), t.from_agency_id).await?.kind,
            };
            accept(app, &mut work, &t, &t.data, &offerer, p).await?;
        }
        TransferAction::Approve {
            groups,
            ground,
            data,
        } => {
            if t.status != TransferStatus::Requested {
                return Err(not_now(TransferStatus::Accepted));
            }
            let to = agency(work.tx(), t.to_agency_id).await?;
            let case = work.case().clone();
            let ground = check_disclosure(app, work.tx(), p, &case, &to, &groups, &ground).await?;
            let mut granted = t.clone();
            granted.groups = groups;
            granted.ground = Some(ground);
            granted.status = TransferStatus::Offered;
            accept(app, &mut work, &granted, &data, &actor(p), p).await?;
        }
    }
    work.commit().await?;
    let t = disclosures::transfer_by_id(app.store.conn(), t.id)
        .await?
        .ok_or(ServiceError::NotFound("transfer"))?;
    super::visibility::shown_one(app, p, t, |t| t.case_id).await
}

async fn decide(
    work: &CaseWork<'_>,
    t: &TransferRecord,
    from: &[TransferStatus],
    to: TransferStatus,
    reason: Option<&str>,
    p: &Principal,
    approval: Option<(&Ground, &BTreeSet<DataGroup>)>,
) -> Result<bool, ServiceError> {
    Ok(disclosures::set_transfer_status(
        work.tx(),
        t.id,
        from,
        TransferDecision {
            to,
            reason,
            by: p.user_id,
            now: work.now(),
            ground: approval.map(|a| a.0),
            groups: approval.map(|a| a.1),
        },
    )
    .await?)
}

/// Fires the workflow's transfer step (checked for `step_actor`), moves the lead, and records
/// both as one `TRANSFER_ACCEPTED` event.
async fn accept(
    app: &App,
    work: &mut CaseWork<'_>,
    t: &TransferRecord,
    data: &Map<String, Json>,
    step_actor: &Actor,
    p: &Principal,
) -> Result<(), ServiceError> {
    let approval = t.ground.as_ref().map(|g| (g, &t.groups));
    let open = [t.status, TransferStatus::Requested];
    if !decide(work, t, &open, TransferStatus::Accepted, None, p, approval).await? {
        return Err(ServiceError::InvalidTransition(
            "the transfer is no longer open".into(),
        ));
    }
    let step = transfer_step(app, work.case(), step_actor, data)?;
    let details = json!({
        "transfer": t.id,
        "action": "ACCEPTED",
        "fromAgency": t.from_agency_id,
        "toAgency": t.to_agency_id,
        "groups": t.groups,
    });
    let mut draft = EventDraft::new(EventKind::TransferAccepted, (p.user_id, p.agency_id))
        .details(with_ground(details, t.ground.as_ref()));
    if let Some((id, outcome)) = step {
        draft.transition = Some(TransitionNames {
            transition: id,
            track: outcome.track,
            from: outcome.from,
            to: outcome.to,
        });
        draft.changes = outcome.changes;
    }
    work.hand_lead_to(t.to_agency_id);
    // The former lead keeps read access to what it had.
    work.grant_access(t.from_agency_id, "FORMER_LEAD").await?;
    work.record(draft).await?;
    let other = if p.agency_id == t.to_agency_id {
        t.from_agency_id
    } else {
        t.to_agency_id
    };
    work.notify(other, NotificationKind::TransferDecided, None, Some(t.id));
    Ok(())
}

/// The new lead sends follow-up feedback to the agency that transferred the case to it.
pub async fn send_feedback(
    app: &App,
    p: &Principal,
    transfer_id: Uuid,
    message: String,
) -> Result<Feedback, ServiceError> {
    check_text("message", Some(&message), true)?;
    let t = disclosures::transfer_by_id(app.store.conn(), transfer_id)
        .await?
        .filter(|t| t.to_agency_id == p.agency_id || t.from_agency_id == p.agency_id)
        .ok_or(ServiceError::NotFound("transfer"))?;
    let refusal = "feedback is sent by the agency that accepted the transfer";
    if t.status != TransferStatus::Accepted {
        return Err(ServiceError::Forbidden(refusal.into()));
    }
    let facts = crate::access::policy::Facts {
        is_party: p.agency_id == t.to_agency_id,
        has_access: true,
        is_involved: false,
        ..crate::access::policy::Facts::default()
    };
    app.authorize(
        p,
        crate::access::policy::Action::SendFeedback,
        facts,
        refusal,
    )?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), t.case_id, None).await?;
    let feedback = Feedback {
        id: Uuid::now_v7(),
        case_id: t.case_id,
        transfer_id: t.id,
        from_agency_id: p.agency_id,
        to_agency_id: t.from_agency_id,
        message,
        sent_by: p.user_id,
        sent_at: work.now(),
        withheld: Vec::new(),
    };
    inbox::insert_feedback(work.tx(), &feedback).await?;
    work.record(
        EventDraft::new(EventKind::FeedbackSent, (p.user_id, p.agency_id)).details(
            json!({ "transfer": t.id, "feedback": feedback.id, "toAgency": t.from_agency_id }),
        ),
    )
    .await?;
    work.notify(
        t.from_agency_id,
        NotificationKind::FeedbackReceived,
        None,
        Some(t.id),
    );
    work.commit().await?;
    super::visibility::shown_one(app, p, feedback, |f| f.case_id).await
}
