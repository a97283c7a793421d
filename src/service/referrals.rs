//! Service referrals: the lead agency asks another agency (same or another country) for a
//! service, sharing exactly the data groups it names. The lead does not change.

use super::disclosure::{GroundRequest, check_text, with_ground};
use super::sharing::{Act, Proposal};
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{Principal, VisibleCase};
use crate::domain::NotificationKind;
use crate::domain::ReferralRecord;
use crate::domain::{DataGroup, ReferralStatus, ServiceKind};
use crate::domain::{EventDraft, EventKind};
use crate::store::disclosures;
use chrono::Duration;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Days the receiver has to answer when the sender does not say (no binding time exists; a
/// service level, warned and escalated to the receiver's focal point when missed).
pub const DEFAULT_RESPONSE_DAYS: u32 = 5;
/// Longest response time a sender may give.
pub const MAX_RESPONSE_DAYS: u32 = 90;

/// Input of [`make_referral`].
#[derive(Debug, Clone)]
pub struct NewReferral {
    pub case_id: Uuid,
    pub to_agency_id: Uuid,
    pub service: ServiceKind,
    pub purpose: String,
    pub groups: BTreeSet<DataGroup>,
    pub ground: GroundRequest,
    pub respond_within_days: Option<u32>,
    pub expected_version: Option<i64>,
}

/// Refers a case to another agency for a service, after the checks of
/// [`super::sharing::check`] (the ones `previewReferral` reports).
pub async fn make_referral(
    app: &App,
    p: &Principal,
    input: NewReferral,
) -> Result<ReferralRecord, ServiceError> {
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
            act: Act::Referral {
                purpose: &input.purpose,
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
    let (to, ground, days) = (approved.to, approved.ground, approved.respond_within_days);
    let referral = ReferralRecord {
        id: Uuid::now_v7(),
        case_id: case.id,
        from_agency_id: p.agency_id,
        to_agency_id: to.id,
        service: input.service,
        purpose: input.purpose,
        groups: input.groups,
        ground,
        status: ReferralStatus::Pending,
        status_reason: None,
        outcome_successful: None,
        response_due_at: work.now() + Duration::days(i64::from(days)),
        escalated_at: None,
        lead_agency_id: case.lead_agency_id,
        created_by: p.user_id,
        created_at: work.now(),
        updated_at: work.now(),
        withheld: Vec::new(),
    };
    disclosures::insert_referral(work.tx(), &referral).await?;
    work.grant_access(to.id, "REFERRAL").await?;
    let details = json!({
        "referral": referral.id,
        "action": "MADE",
        "toAgency": to.id,
        "service": referral.service,
        "groups": referral.groups,
    });
    let details = with_ground(details, Some(&referral.ground));
    work.record(EventDraft::new(EventKind::Referral, (p.user_id, p.agency_id)).details(details))
        .await?;
    work.notify(
        to.id,
        NotificationKind::ReferralReceived,
        Some(referral.id),
        None,
    );
    work.commit().await?;
    super::visibility::shown_one(app, p, referral, |r| r.case_id).await
}

/// What the receiver or the sender does with a referral.
#[derive(Debug, Clone)]
pub enum ReferralAction {
    /// The receiver will provide the service.
    Accept,
    /// The receiver will not (reason required).
    Decline { reason: String },
    /// The receiver ends an accepted referral (reason required when unsuccessful).
    Complete {
        successful: bool,
        reason: Option<String>,
    },
    /// The sender withdraws it.
    Revoke { reason: Option<String> },
}

/// Answers, completes or revokes a referral.
pub async fn act_on_referral(
    app: &App,
    p: &Principal,
    referral_id: Uuid,
    action: ReferralAction,
) -> Result<ReferralRecord, ServiceError> {
    let referral = disclosures::referral_by_id(app.store.conn(), referral_id)
        .await?
        .ok_or(ServiceError::NotFound("referral"))?;
    // Neither party: answer as if it did not exist.
    if p.agency_id != referral.to_agency_id && p.agency_id != referral.from_agency_id {
        return Err(ServiceError::NotFound("referral"));
    }
    let (from, to, reason, outcome, by_receiver, name, notice) = match &action {
        ReferralAction::Accept => (
            vec![ReferralStatus::Pending],
            ReferralStatus::Accepted,
            None,
            None,
            true,
            "ACCEPTED",
            NotificationKind::ReferralAnswered,
        ),
        ReferralAction::Decline { reason } => {
            check_text("reason", Some(reason), true)?;
            (
                vec![ReferralStatus::Pending],
                ReferralStatus::Declined,
                Some(reason.clone()),
                None,
                true,
                "DECLINED",
                NotificationKind::ReferralAnswered,
            )
        }
        ReferralAction::Complete { successful, reason } => {
            check_text("reason", reason.as_deref(), !successful)?;
            (
                vec![ReferralStatus::Accepted],
                ReferralStatus::Completed,
                reason.clone(),
                Some(*successful),
                true,
                "COMPLETED",
                NotificationKind::ReferralAnswered,
            )
        }
        ReferralAction::Revoke { reason } => {
            check_text("reason", reason.as_deref(), false)?;
            (
                vec![
                    ReferralStatus::Pending,
                    ReferralStatus::Accepted,
                    ReferralStatus::Suspended,
                ],
                ReferralStatus::Revoked,
                reason.clone(),
                None,
                false,
                "REVOKED",
                NotificationKind::ReferralRevoked,
            )
        }
    };
    let party = if by_receiver {
        referral.to_agency_id
    } else {
        referral.from_agency_id
    };
    let facts = crate::access::policy::Facts {
        is_party: p.agency_id == party,
        has_access: true,
        is_involved: false,
        ..crate::access::policy::Facts::default()
    };
    app.authorize(
        p,
        crate::access::policy::Action::AnswerReferral,
        facts,
        if by_receiver {
            "only the receiving agency's case workers can answer or complete this referral"
        } else {
            "only the referring agency's case workers can revoke this referral"
        },
    )?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), referral.case_id, None).await?;
    if !disclosures::set_referral_status(
        work.tx(),
        referral.id,
        &from,
        to,
        reason.as_deref(),
        outcome,
        work.now(),
    )
    .await?
    {
        return Err(ServiceError::InvalidTransition(format!(
            "the referral is {}; it cannot become {}",
            referral.status.as_str(),
            to.as_str()
        )));
    }
    let mut details = json!({ "referral": referral.id, "action": name });
    if let (Some(ok), Some(d)) = (outcome, details.as_object_mut()) {
        d.insert("successful".into(), ok.into());
    }
    let other = if by_receiver {
        referral.from_agency_id
    } else {
        referral.to_agency_id
    };
    // The reason is the referral's status reason: shared as its groups, to the other party.
    work.record(
        EventDraft::new(EventKind::Referral, (p.user_id, p.agency_id))
            .reason(reason)
            .shared(referral.groups.clone(), Some(other))
            .details(details),
    )
    .await?;
    work.notify(other, notice, Some(referral.id), None);
    work.commit().await?;
    let referral = disclosures::referral_by_id(app.store.conn(), referral.id)
        .await?
        .ok_or(ServiceError::NotFound("referral"))?;
    super::visibility::shown_one(app, p, referral, |r| r.case_id).await
}

/// A referral the caller's agency is party to (or any, for auditors).
pub async fn referral(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<ReferralRecord>, ServiceError> {
    let r = disclosures::referral_by_id(app.store.conn(), id).await?;
    let Some(r) = r.filter(|r| {
        p.has(crate::domain::Role::Auditor)
            || r.to_agency_id == p.agency_id
            || r.from_agency_id == p.agency_id
    }) else {
        return Ok(None);
    };
    Ok(Some(
        super::visibility::shown_one(app, p, r, |r| r.case_id).await?,
    ))
}

/// The referral an inbox entry of the caller's agency points to (e.g. an escalation to a focal
/// point that is not party to it): its metadata, never the case's personal data, and its free
/// texts as the caller's view of the case allows.
pub async fn referral_of_notification(
    app: &App,
    p: &Principal,
    n: &crate::domain::Notification,
) -> Result<Option<ReferralRecord>, ServiceError> {
    let Some(id) = n.referral_id.filter(|_| n.agency_id == p.agency_id) else {
        return Ok(None);
    };
    let Some(r) = disclosures::referral_by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    Ok(Some(
        super::visibility::shown_one(app, p, r, |r| r.case_id).await?,
    ))
}

/// The referrals of a case its caller may see (see [`crate::access::CaseView::sees_referral`]).
pub async fn of_case(app: &App, case: &VisibleCase) -> Result<Vec<ReferralRecord>, ServiceError> {
    let all = disclosures::referrals_of_case(app.store.conn(), case.record().id).await?;
    Ok(all
        .into_iter()
        .filter(|r| case.view().sees_referral(r))
        .map(|r| case.view().texts(r))
        .collect())
}

/// Referrals addressed to the caller's agency, newest first.
pub async fn incoming(
    app: &App,
    p: &Principal,
    statuses: &[ReferralStatus],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<ReferralRecord>, ServiceError> {
    let list =
        disclosures::referrals_to(app.store.conn(), p.agency_id, statuses, after, limit).await?;
    super::visibility::shown(app, p, list, |r| r.case_id).await
}
