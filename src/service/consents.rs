//! Consents: the lead agency records what the person (or a child's guardian) gave, and its
//! withdrawal, which suspends everything grounded on it.

use super::directory::check_country;
use super::disclosure::check_text;
use super::person::lead_only;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{Field, Principal, VisibleCase};
use crate::domain::{
    ConsentGiver, ConsentPurpose, ConsentRecord, DataGroup, EventDraft, EventKind,
};
use crate::store::disclosures;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Input of [`record_consent`].
#[derive(Debug, Clone)]
pub struct NewConsent {
    pub case_id: Uuid,
    pub given_by: ConsentGiver,
    pub child_assent: Option<bool>,
    pub assent_missing_reason: Option<String>,
    pub purposes: BTreeSet<ConsentPurpose>,
    pub agency_ids: BTreeSet<Uuid>,
    pub countries: BTreeSet<String>,
    pub groups: BTreeSet<DataGroup>,
    pub given_at: DateTime<Utc>,
}

/// Records a consent (the lead agency records what the person or guardian gave).
pub async fn record_consent(
    app: &App,
    p: &Principal,
    input: NewConsent,
) -> Result<ConsentRecord, ServiceError> {
    if input.purposes.is_empty() {
        return Err(ServiceError::validation(
            "purposes: name at least one purpose",
        ));
    }
    for c in &input.countries {
        check_country("countries", c)?;
    }
    check_text(
        "assentMissingReason",
        input.assent_missing_reason.as_deref(),
        false,
    )?;
    if input.given_by == ConsentGiver::Guardian
        && input.child_assent != Some(true)
        && input
            .assent_missing_reason
            .as_deref()
            .is_none_or(|r| r.trim().is_empty())
    {
        return Err(ServiceError::validation(
            "a guardian's consent records the child's assent (childAssent: true) or why it is missing (assentMissingReason)",
        ));
    }
    let mut work = CaseWork::begin(app, Changer::Principal(p), input.case_id, None).await?;
    lead_only(app, p, work.case(), "record consents")?;
    if app.person_status(work.case())?.consent_withdrawn {
        return Err(ServiceError::InvalidTransition(
            "the case records that the person withdrew consent (workflow step): record that she \
             gives it again (step renew_consent) before recording a new consent"
                .into(),
        ));
    }
    if input.given_at > work.now() {
        return Err(ServiceError::validation("givenAt is in the future"));
    }
    for a in &input.agency_ids {
        super::disclosure::agency(work.tx(), *a).await?;
    }
    let consent = ConsentRecord {
        id: Uuid::now_v7(),
        case_id: input.case_id,
        given_by: input.given_by,
        child_assent: input.child_assent,
        assent_missing_reason: input.assent_missing_reason,
        purposes: input.purposes,
        agency_ids: input.agency_ids,
        countries: input.countries,
        groups: input.groups,
        given_at: input.given_at,
        recorded_by: p.user_id,
        recorded_by_agency: p.agency_id,
        recorded_at: work.now(),
        withdrawn_at: None,
        withdrawn_by: None,
        withheld: Vec::new(),
    };
    disclosures::insert_consent(work.tx(), &consent).await?;
    work.record(
        EventDraft::new(EventKind::ConsentRecorded, (p.user_id, p.agency_id)).details(json!({
            "consent": consent.id,
            "givenBy": consent.given_by,
            "purposes": consent.purposes,
            "agencies": consent.agency_ids,
            "countries": consent.countries,
            "groups": consent.groups,
        })),
    )
    .await?;
    work.commit().await?;
    super::visibility::shown_one(app, p, consent, |c| c.case_id).await
}

/// Withdraws a consent: every pending or active referral and every pending transfer that
/// relies on it is suspended, each with its own event, and the receivers are told (by the
/// case's protections, see [`super::protections`]).
pub async fn withdraw_consent(
    app: &App,
    p: &Principal,
    consent_id: Uuid,
    reason: Option<String>,
) -> Result<ConsentRecord, ServiceError> {
    check_text("reason", reason.as_deref(), false)?;
    let consent = disclosures::consent_by_id(app.store.conn(), consent_id)
        .await?
        .ok_or(ServiceError::NotFound("consent"))?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), consent.case_id, None).await?;
    lead_only(app, p, work.case(), "withdraw consents")?;
    if !disclosures::withdraw_consent(work.tx(), consent_id, p.user_id, work.now()).await? {
        return Err(ServiceError::InvalidTransition(
            "the consent is already withdrawn".into(),
        ));
    }
    let actor = (p.user_id, p.agency_id);
    work.record(
        EventDraft::new(EventKind::ConsentWithdrawn, actor)
            .reason(reason)
            .details(json!({ "consent": consent_id })),
    )
    .await?;
    // Everything grounded on the consent is suspended by the case's protections, in this
    // change, as for a withdrawal recorded by the workflow's own step.
    work.commit().await?;
    let consent = disclosures::consent_by_id(app.store.conn(), consent_id)
        .await?
        .ok_or(ServiceError::NotFound("consent"))?;
    super::visibility::shown_one(app, p, consent, |c| c.case_id).await
}

/// A case's consents (lead agency and auditors only; others get none).
pub async fn consents(app: &App, case: &VisibleCase) -> Result<Vec<ConsentRecord>, ServiceError> {
    if !case.sees(Field::Consents) {
        return Ok(Vec::new());
    }
    Ok(
        disclosures::consents_of_case(app.store.conn(), case.record().id)
            .await?
            .into_iter()
            .map(|c| case.view().texts(c))
            .collect(),
    )
}

/// A consent by id, if the caller may see its case's consents (lead agency and auditors).
pub async fn visible_consent(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<ConsentRecord>, ServiceError> {
    let Some(consent) = disclosures::consent_by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    let Some(case) = super::cases::get_case(app, p, consent.case_id).await? else {
        return Ok(None);
    };
    Ok(case
        .sees(Field::Consents)
        .then(|| case.view().texts(consent)))
}
