//! An agency's inbox (notifications) and the escalation of overdue answers to the focal point
//! of the receiving agency's country.

use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::Notification;
use crate::domain::NotificationKind;
use crate::domain::{EventDraft, EventKind};
use crate::store::directory;
use crate::store::disclosures;
use crate::store::inbox;
use serde_json::json;
use uuid::Uuid;

/// How many overdue answers one scheduler pass escalates at most.
pub const ESCALATION_BATCH: u64 = 200;

/// Which notifications to read.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub unread_only: bool,
    /// Only these kinds (all when empty).
    pub kinds: Vec<NotificationKind>,
}

/// The caller's agency's notifications, newest first.
pub async fn notifications(
    app: &App,
    p: &Principal,
    filter: &InboxFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Notification>, ServiceError> {
    let page = inbox::Page {
        agency: p.agency_id,
        unread_only: filter.unread_only,
        kinds: &filter.kinds,
        after,
        limit,
    };
    Ok(inbox::page(app.store.conn(), &page).await?)
}

/// A notification of the caller's agency by id (`None` for another agency's).
pub async fn visible_notification(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<Notification>, ServiceError> {
    Ok(inbox::by_id(app.store.conn(), p.agency_id, id).await?)
}

/// Marks a notification of the caller's agency read.
pub async fn mark_read(app: &App, p: &Principal, id: Uuid) -> Result<Notification, ServiceError> {
    let txn = app.store.begin_write().await?;
    if !inbox::mark_read(&txn, p.agency_id, id, app.now()).await? {
        let _ = txn.rollback().await;
        return Err(ServiceError::NotFound("notification"));
    }
    txn.commit().await?;
    visible_notification(app, p, id)
        .await?
        .ok_or(ServiceError::NotFound("notification"))
}

/// Escalates every referral and transfer whose answer is overdue to the focal point of the
/// receiving (deciding) agency's country, once each (several instances may run this at once:
/// the conditional update lets exactly one of them record it). Returns how many it escalated.
pub async fn escalate_overdue(app: &App) -> Result<usize, ServiceError> {
    let now = app.now();
    let (referrals, transfers) =
        disclosures::overdue(app.store.conn(), now, ESCALATION_BATCH).await?;
    let mut done = 0;
    for r in referrals {
        let ids = Target {
            case_id: r.case_id,
            deciding_agency: r.to_agency_id,
            referral: Some(r.id),
            transfer: None,
        };
        if escalate(app, ids).await? {
            done += 1;
        }
    }
    for t in transfers {
        let deciding_agency = if t.requested_by_receiver {
            t.from_agency_id
        } else {
            t.to_agency_id
        };
        let ids = Target {
            case_id: t.case_id,
            deciding_agency,
            referral: None,
            transfer: Some(t.id),
        };
        if escalate(app, ids).await? {
            done += 1;
        }
    }
    Ok(done)
}

struct Target {
    case_id: Uuid,
    deciding_agency: Uuid,
    referral: Option<Uuid>,
    transfer: Option<Uuid>,
}

async fn escalate(app: &App, t: Target) -> Result<bool, ServiceError> {
    let mut work = match CaseWork::begin(app, Changer::System, t.case_id, None).await {
        Ok(work) => work,
        Err(ServiceError::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    let marked = match (t.referral, t.transfer) {
        (Some(id), _) => disclosures::mark_referral_escalated(work.tx(), id, work.now()).await?,
        (_, Some(id)) => disclosures::mark_transfer_escalated(work.tx(), id, work.now()).await?,
        _ => false,
    };
    if !marked {
        return Ok(false);
    }
    let deciding = super::disclosure::agency(work.tx(), t.deciding_agency).await?;
    // An asylum seeker's country of origin is not contacted, not even to chase an answer.
    let asylum = app.person_status(work.case())?.asylum_seeker;
    let focal = directory::focal_point(work.tx(), &deciding.country)
        .await?
        .filter(|f| !(asylum && super::disclosure::may_be_origin_authority(work.case(), f)));
    let (kind, details) = match (t.referral, t.transfer) {
        (Some(id), _) => (
            EventKind::Referral,
            json!({ "referral": id, "action": "ESCALATED", "focalPoint": focal.as_ref().map(|f| f.id) }),
        ),
        (_, id) => (
            EventKind::Transfer,
            json!({ "transfer": id, "action": "ESCALATED", "focalPoint": focal.as_ref().map(|f| f.id) }),
        ),
    };
    let system = (Uuid::nil(), work.case().lead_agency_id);
    work.record(EventDraft::new(kind, system).details(details))
        .await?;
    if let Some(focal) = focal {
        work.grant_access(focal.id, "ESCALATION").await?;
        work.notify(
            focal.id,
            NotificationKind::ResponseOverdue,
            t.referral,
            t.transfer,
        );
    }
    work.commit().await?;
    Ok(true)
}
