//! Transfers of lead: the lead agency offers the case to an agency in another country (on
//! return, typically the origin country's focal point or partner); accepting fires the
//! workflow's transfer step and moves the lead in one transaction, so the transfer record and
//! the workflow can never disagree. The former lead keeps what it had and receives feedback.

use super::disclosure::{
    Disclosure, GroundRequest, agency, check_groups, check_text, ground_for, with_ground,
};
use super::sharing::{Act, Proposal};
use super::transitions::refusal_error;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{Principal, VisibleCase};
use crate::domain::{
    CaseRecord, ConsentPurpose, DataGroup, EventDraft, EventKind, Feedback, Ground,
    NotificationKind, Role, TransferRecord, TransferStatus,
};
use crate::store::WriteTxn;
use crate::store::disclosures::{self};
use crate::store::inbox;
use crate::workflow::{Actor, engine};
use chrono::Duration;
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Days the receiver has to answer when the lead does not say.
pub const DEFAULT_RESPONSE_DAYS: u32 = 14;

/// Input of [`offer_transfer`].
#[derive(Debug, Clone)]
pub struct NewTransfer {
    pub case_id: Uuid,
    pub to_agency_id: Uuid,
    pub groups: BTreeSet<DataGroup>,
    pub ground: GroundRequest,
    /// Facts the workflow's transfer step records (its inputs).
    pub data: Map<String, Json>,
    pub reason: Option<String>,
    pub respond_within_days: Option<u32>,
    pub expected_version: Option<i64>,
}

const OPEN: &[TransferStatus] = &[
    TransferStatus::Requested,
    TransferStatus::Offered,
    TransferStatus::Suspended,
];

/// The transfer step that can fire from the case's current state for `actor` with `data`:
/// `Ok(Some(id))`, or the refusal of the first candidate; `Ok(None)` if the workflow has none.
pub(super) fn transfer_step(
    app: &App,
    case: &CaseRecord,
    actor: &Actor,
    data: &Map<String, Json>,
) -> Result<Option<(String, engine::Outcome)>, ServiceError> {
    let workflow = app.workflow_of(case)?;
    let steps: Vec<&str> = workflow
        .transitions
        .iter()
        .filter(|t| t.transfer_of_lead)
        .map(|t| t.id.as_str())
        .collect();
    if steps.is_empty() {
        return Ok(None);
    }
    let mut first_refusal = None;
    for id in &steps {
        match engine::evaluate(
            &workflow,
            &case.state,
            actor,
            id,
            data,
            app.env(case, app.now()),
        ) {
            Ok(outcome) => return Ok(Some((id.to_string(), outcome))),
            Err(refusal) => {
                if first_refusal.is_none()
                    || !matches!(
                        refusal,
                        crate::workflow::Refusal::NotFromCurrentState { .. }
                    )
                {
                    first_refusal = Some((id.to_string(), refusal));
                }
            }
        }
    }
    match first_refusal {
        Some((id, refusal)) => Err(refusal_error(&workflow, &id, refusal)),
        None => Ok(None),
    }
}

/// Checks a disclosure to `to` for a transfer and finds its ground.
pub(super) async fn check_disclosure(
    app: &App,
    txn: &WriteTxn,
    p: &Principal,
    case: &CaseRecord,
    to: &crate::domain::Agency,
    groups: &BTreeSet<DataGroup>,
    ground: &GroundRequest,
) -> Result<Ground, ServiceError> {
    if to.country == case_store_country(case, p) {
        return Err(ServiceError::validation(
            "a transfer of lead goes to an agency in another country; within the country, refer the case",
        ));
    }
    // The protections on who may lead (an asylum seeker's origin authorities, child protection
    // only for a child, nobody after death).
    super::disclosure::check_lead(app, case, to)?;
    let sender_view = super::visibility::view(app, txn, p, case).await?;
    check_groups(&sender_view, p.agency_kind, to, groups)?;
    ground_for(
        app,
        txn,
        p,
        case,
        ground,
        Disclosure {
            purposes: &[ConsentPurpose::Return, ConsentPurpose::Sharing],
            to,
            groups,
        },
    )
    .await
}

/// The country the lead agency works in (the caller's, since only the lead transfers).
fn case_store_country(_case: &CaseRecord, p: &Principal) -> String {
    p.country.clone()
}

/// Offers the lead of a case to an agency in another country, after the checks of
/// [`super::sharing::check`] (the ones `previewTransfer` reports).
pub async fn offer_transfer(
    app: &App,
    p: &Principal,
    input: NewTransfer,
) -> Result<TransferRecord, ServiceError> {
    let mut work = CaseWork::begin(
        app,
        Changer::Principal(p),
        input.case_id,
        input.expected_version,
    )
    .await?;
    let case = work.case().clone();
    let approved = super::sharing::check(
        app,
        work.tx(),
        p,
        &case,
        Proposal {
            act: Act::Transfer {
                data: &input.data,
                reason: input.reason.as_deref(),
            },
            to_agency_id: input.to_agency_id,
            groups: &input.groups,
            ground: &input.ground,
            respond_within_days: input.respond_within_days,
            expected_version: None,
        },
    )
    .await?
    .approved()?;
    let (to, ground, transition, days) = (
        approved.to,
        approved.ground,
        approved.transition,
        approved.respond_within_days,
    );
    let now = work.now();
    let transfer = TransferRecord {
        id: Uuid::now_v7(),
        case_id: case.id,
        from_agency_id: p.agency_id,
        to_agency_id: to.id,
        requested_by_receiver: false,
        transition,
        data: input.data,
        groups: input.groups,
        ground: Some(ground),
        status: TransferStatus::Offered,
        status_reason: None,
        response_due_at: now + Duration::days(i64::from(days)),
        escalated_at: None,
        created_by: p.user_id,
        offerer_roles: p.roles.clone(),
        created_at: now,
        updated_at: now,
        decided_by: None,
        decided_at: None,
        withheld: Vec::new(),
    };
    disclosures::insert_transfer(work.tx(), &transfer).await?;
    work.grant_access(to.id, "TRANSFER").await?;
    let details = json!({
        "transfer": transfer.id,
        "action": "OFFERED",
        "toAgency": to.id,
        "groups": transfer.groups,
        "transition": transfer.transition,
    });
    let details = with_ground(details, transfer.ground.as_ref());
    // The reason goes with the offer: shared as its groups, to the receiver.
    work.record(
        EventDraft::new(EventKind::Transfer, (p.user_id, p.agency_id))
            .reason(input.reason)
            .shared(transfer.groups.clone(), Some(to.id))
            .details(details),
    )
    .await?;
    work.notify(
        to.id,
        NotificationKind::TransferOffered,
        None,
        Some(transfer.id),
    );
    work.commit().await?;
    super::visibility::shown_one(app, p, transfer, |t| t.case_id).await
}

/// Refuses (`INVALID_TRANSITION`, saying `refusal`) when a transfer of the case is still open.
async fn refuse_if_open(work: &CaseWork<'_>, refusal: &str) -> Result<(), ServiceError> {
    if disclosures::transfers_of_case(work.tx(), work.case().id)
        .await?
        .iter()
        .any(|t| OPEN.contains(&t.status))
    {
        return Err(ServiceError::InvalidTransition(refusal.into()));
    }
    Ok(())
}

/// An agency that can see a case asks its lead for it; the lead decides.
pub async fn request_transfer(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    reason: String,
) -> Result<TransferRecord, ServiceError> {
    check_text("reason", Some(&reason), true)?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), case_id, None).await?;
    let case = work.case().clone();
    if case.lead_agency_id == p.agency_id {
        return Err(ServiceError::validation(
            "your agency already leads this case",
        ));
    }
    app.authorize(
        p,
        crate::access::policy::Action::RequestTransfer,
        super::cases::lead_facts(p, &case),
        "your roles do not allow taking over cases",
    )?;
    refuse_if_open(&work, "a transfer of this case is already open").await?;
    let requester = agency(work.tx(), p.agency_id).await?;
    super::disclosure::check_lead(app, &case, &requester)?;
    let now = work.now();
    let transfer = TransferRecord {
        id: Uuid::now_v7(),
        case_id,
        from_agency_id: case.lead_agency_id,
        to_agency_id: p.agency_id,
        requested_by_receiver: true,
        transition: None,
        data: Map::new(),
        groups: BTreeSet::new(),
        ground: None,
        status: TransferStatus::Requested,
        status_reason: None,
        response_due_at: now + Duration::days(i64::from(DEFAULT_RESPONSE_DAYS)),
        escalated_at: None,
        created_by: p.user_id,
        offerer_roles: Vec::new(),
        created_at: now,
        updated_at: now,
        decided_by: None,
        decided_at: None,
        withheld: Vec::new(),
    };
    disclosures::insert_transfer(work.tx(), &transfer).await?;
    // The request's reason is addressed to the lead (nothing is shared yet).
    work.record(
        EventDraft::new(EventKind::Transfer, (p.user_id, p.agency_id))
            .reason(Some(reason))
            .shared(BTreeSet::new(), Some(case.lead_agency_id))
            .details(
                json!({ "transfer": transfer.id, "action": "REQUESTED", "toAgency": p.agency_id }),
            ),
    )
    .await?;
    work.notify(
        case.lead_agency_id,
        NotificationKind::TransferRequested,
        None,
        Some(transfer.id),
    );
    work.commit().await?;
    super::visibility::shown_one(app, p, transfer, |t| t.case_id).await
}

/// A transfer the caller's agency is party to (or any, for auditors).
pub async fn transfer(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<TransferRecord>, ServiceError> {
    let t = disclosures::transfer_by_id(app.store.conn(), id).await?;
    let Some(t) = t.filter(|t| {
        p.has(Role::Auditor) || t.to_agency_id == p.agency_id || t.from_agency_id == p.agency_id
    }) else {
        return Ok(None);
    };
    Ok(Some(
        super::visibility::shown_one(app, p, t, |t| t.case_id).await?,
    ))
}

/// The transfer an inbox entry of the caller's agency points to.
pub async fn transfer_of_notification(
    app: &App,
    p: &Principal,
    n: &crate::domain::Notification,
) -> Result<Option<TransferRecord>, ServiceError> {
    let Some(id) = n.transfer_id.filter(|_| n.agency_id == p.agency_id) else {
        return Ok(None);
    };
    let Some(t) = disclosures::transfer_by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    Ok(Some(
        super::visibility::shown_one(app, p, t, |t| t.case_id).await?,
    ))
}

/// The transfers of a case its caller may see (see [`crate::access::CaseView::sees_transfer`]).
pub async fn of_case(app: &App, case: &VisibleCase) -> Result<Vec<TransferRecord>, ServiceError> {
    let all = disclosures::transfers_of_case(app.store.conn(), case.record().id).await?;
    Ok(all
        .into_iter()
        .filter(|t| case.view().sees_transfer(t))
        .map(|t| case.view().texts(t))
        .collect())
}

/// Feedback on a transfer the caller sees, its messages as the caller's view of the case allows
/// (the two parties and auditors read them).
pub async fn feedback(
    app: &App,
    p: &Principal,
    t: &TransferRecord,
) -> Result<Vec<Feedback>, ServiceError> {
    let list = inbox::feedback_of_transfer(app.store.conn(), t.id).await?;
    super::visibility::shown(app, p, list, |f| f.case_id).await
}

/// Transfers awaiting the caller's agency's decision.
pub async fn awaiting(
    app: &App,
    p: &Principal,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<TransferRecord>, ServiceError> {
    let list = disclosures::transfers_awaiting(app.store.conn(), p.agency_id, after, limit).await?;
    super::visibility::shown(app, p, list, |t| t.case_id).await
}
