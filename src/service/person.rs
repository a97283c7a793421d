//! The person behind a case: personal data by sensitivity group, consents, the country of
//! origin and the route. Only the lead agency records them; what others read is decided by
//! their [`CaseView`](crate::access::CaseView).

use super::directory::check_country;
use super::disclosure::check_text;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{Field, Principal, VisibleCase};
use crate::domain::CaseRecord;
use crate::domain::ConsentRecord;
use crate::domain::DataVersion;
use crate::domain::Ground;
use crate::domain::Movement;
use crate::domain::NotificationKind;
use crate::domain::ReferralStatus;
use crate::domain::{ConsentGiver, ConsentPurpose, DataGroup, MovementSource, TransferStatus};
use crate::domain::{EventDraft, EventKind};
use crate::store::person;
use crate::store::sharing::{self, TransferDecision};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Largest accepted personal-data group, serialised.
pub const MAX_GROUP_BYTES: usize = 16 * 1024;

fn lead_only(app: &App, p: &Principal, case: &CaseRecord, what: &str) -> Result<(), ServiceError> {
    app.authorize(
        p,
        crate::access::policy::Action::RecordCaseData,
        super::cases::lead_facts(p, case),
        &format!("only the lead agency's case workers can {what}"),
    )
}

/// Records a new version of one group of the person's data (a JSON object). The event on the
/// case's chain holds the group and a hash of the value, never the value.
pub async fn record_personal_data(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    group: DataGroup,
    value: Json,
) -> Result<CaseRecord, ServiceError> {
    if !value.is_object() {
        return Err(ServiceError::validation("value must be a JSON object"));
    }
    let bytes = crate::domain::event::canonical_json(&value);
    if bytes.len() > MAX_GROUP_BYTES {
        return Err(ServiceError::validation(format!(
            "value is larger than {MAX_GROUP_BYTES} bytes"
        )));
    }
    let mut work = CaseWork::begin(app, Changer::Principal(p), case_id, None).await?;
    lead_only(app, p, work.case(), "record personal data")?;
    person::insert_version(
        work.tx(),
        &DataVersion {
            id: Uuid::now_v7(),
            case_id,
            group,
            value,
            recorded_at: work.now(),
            recorded_by: p.user_id,
            agency_id: p.agency_id,
        },
    )
    .await?;
    work.record(
        EventDraft::new(EventKind::PersonalDataRecorded, (p.user_id, p.agency_id))
            .details(json!({ "group": group, "valueSha256": hex::encode(Sha256::digest(&bytes)) })),
    )
    .await?;
    Ok(work.commit().await?.case)
}

/// What a reader gets of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRead {
    /// The latest version the reader may read (`None`: redacted, withheld or never recorded).
    pub version: Option<DataVersion>,
    /// The reader may not read this group at all.
    pub redacted: bool,
    /// A sensitive group the reader may read, withheld because no purpose was given.
    pub withheld_for_purpose: bool,
}

/// Longest accepted purpose of a read.
pub const MAX_PURPOSE_CHARS: usize = 500;

/// The personal data `view` may read: per group, the latest version it may read. Sensitive
/// groups ([`DataGroup::needs_purpose`]) are given only with a `purpose`. Every read that
/// returns data is recorded in the access log (who, agency, when, purpose, groups).
pub async fn personal_data(
    app: &App,
    p: &Principal,
    case: &VisibleCase,
    purpose: Option<&str>,
) -> Result<BTreeMap<DataGroup, GroupRead>, ServiceError> {
    let view = case.view();
    let case = case.record();
    let purpose = purpose.map(str::trim).filter(|s| !s.is_empty());
    if purpose.is_some_and(|s| s.chars().count() > MAX_PURPOSE_CHARS) {
        return Err(ServiceError::validation(format!(
            "purpose is longer than {MAX_PURPOSE_CHARS} characters"
        )));
    }
    let versions = person::versions(app.store.conn(), case.id).await?;
    let mut out: BTreeMap<DataGroup, GroupRead> = BTreeMap::new();
    for group in DataGroup::ALL {
        let latest = versions
            .iter()
            .rfind(|v| v.group == *group && view.may_read(v.group, v.recorded_at, v.agency_id))
            .cloned();
        let withheld = latest.is_some() && group.needs_purpose() && purpose.is_none();
        out.insert(
            *group,
            GroupRead {
                version: latest.filter(|_| !withheld),
                redacted: !view.may_read_group(*group),
                withheld_for_purpose: withheld,
            },
        );
    }
    let read: std::collections::BTreeSet<DataGroup> = out
        .iter()
        .filter(|(_, r)| r.version.is_some())
        .map(|(g, _)| *g)
        .collect();
    if !read.is_empty() {
        crate::store::access_log::insert(
            app.store.conn(),
            &crate::domain::PersonalDataRead {
                id: Uuid::now_v7(),
                case_id: case.id,
                user_id: p.user_id,
                agency_id: p.agency_id,
                read_at: app.now(),
                purpose: purpose.map(str::to_string),
                groups: read,
            },
        )
        .await?;
    }
    Ok(out)
}

/// The access log of a case, newest first (auditors only).
pub async fn access_log(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
    limit: u64,
) -> Result<Vec<crate::domain::PersonalDataRead>, ServiceError> {
    app.authorize(
        p,
        crate::access::policy::Action::ReadAudit,
        crate::access::policy::Facts::default(),
        "only auditors read the access log",
    )?;
    Ok(crate::store::access_log::of_case(app.store.conn(), case.id, limit).await?)
}

/// Records the person's country of origin.
pub async fn set_origin_country(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    country: &str,
) -> Result<CaseRecord, ServiceError> {
    check_country("country", country)?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), case_id, None).await?;
    lead_only(app, p, work.case(), "record the country of origin")?;
    work.set_origin_country(country);
    work.record(
        EventDraft::new(EventKind::OriginCountrySet, (p.user_id, p.agency_id))
            .details(json!({ "country": country })),
    )
    .await?;
    Ok(work.commit().await?.case)
}

/// Input of [`record_movement`].
#[derive(Debug, Clone)]
pub struct NewMovement {
    pub case_id: Uuid,
    pub country: String,
    pub place: Option<String>,
    pub moved_on: NaiveDate,
    pub source: MovementSource,
}

/// Records a movement of the person (a country on the route).
pub async fn record_movement(
    app: &App,
    p: &Principal,
    input: NewMovement,
) -> Result<Movement, ServiceError> {
    check_country("country", &input.country)?;
    check_text("place", input.place.as_deref(), false)?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), input.case_id, None).await?;
    lead_only(app, p, work.case(), "record movements")?;
    if input.moved_on > work.now().date_naive() {
        return Err(ServiceError::validation("movedOn is in the future"));
    }
    let movement = Movement {
        id: Uuid::now_v7(),
        case_id: input.case_id,
        country: input.country,
        place: input.place,
        moved_on: input.moved_on,
        source: input.source,
        recorded_by: p.user_id,
        recorded_at: work.now(),
    };
    person::insert_movement(work.tx(), &movement).await?;
    work.record(
        EventDraft::new(EventKind::MovementRecorded, (p.user_id, p.agency_id))
            .details(json!({ "movement": movement.id, "country": movement.country })),
    )
    .await?;
    work.commit().await?;
    Ok(movement)
}

/// The route of a case, in date order; places are withheld from callers who may not read the
/// CONTACT group.
pub async fn route(app: &App, case: &VisibleCase) -> Result<Vec<Movement>, ServiceError> {
    let places = case.sees(Field::RoutePlaces);
    let mut route = person::route(app.store.conn(), case.record().id).await?;
    if !places {
        for m in &mut route {
            m.place = None;
        }
    }
    Ok(route)
}

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
        recorded_at: work.now(),
        withdrawn_at: None,
        withdrawn_by: None,
    };
    sharing::insert_consent(work.tx(), &consent).await?;
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
    Ok(consent)
}

/// Withdraws a consent: every pending or active referral and every pending transfer that
/// relies on it is suspended, each with its own event, and the receivers are told.
pub async fn withdraw_consent(
    app: &App,
    p: &Principal,
    consent_id: Uuid,
    reason: Option<String>,
) -> Result<ConsentRecord, ServiceError> {
    check_text("reason", reason.as_deref(), false)?;
    let consent = sharing::consent_by_id(app.store.conn(), consent_id)
        .await?
        .ok_or(ServiceError::NotFound("consent"))?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), consent.case_id, None).await?;
    lead_only(app, p, work.case(), "withdraw consents")?;
    if !sharing::withdraw_consent(work.tx(), consent_id, p.user_id, work.now()).await? {
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
    let depends = |g: &Ground| *g == Ground::Consent(consent_id);
    for r in sharing::referrals_of_case(work.tx(), consent.case_id).await? {
        if depends(&r.ground)
            && sharing::set_referral_status(
                work.tx(),
                r.id,
                &[ReferralStatus::Pending, ReferralStatus::Accepted],
                ReferralStatus::Suspended,
                Some("consent withdrawn"),
                None,
                work.now(),
            )
            .await?
        {
            work.record(EventDraft::new(EventKind::Referral, actor).details(
                json!({ "referral": r.id, "action": "SUSPENDED", "consent": consent_id }),
            ))
            .await?;
            work.notify(
                r.to_agency_id,
                NotificationKind::ReferralSuspended,
                Some(r.id),
                None,
            );
        }
    }
    for t in sharing::transfers_of_case(work.tx(), consent.case_id).await? {
        if t.ground.as_ref().is_some_and(depends)
            && sharing::set_transfer_status(
                work.tx(),
                t.id,
                &[TransferStatus::Offered],
                TransferDecision {
                    to: TransferStatus::Suspended,
                    reason: Some("consent withdrawn"),
                    by: p.user_id,
                    now: work.now(),
                    ground: None,
                    groups: None,
                },
            )
            .await?
        {
            work.record(EventDraft::new(EventKind::Transfer, actor).details(
                json!({ "transfer": t.id, "action": "SUSPENDED", "consent": consent_id }),
            ))
            .await?;
            work.notify(
                t.to_agency_id,
                NotificationKind::TransferSuspended,
                None,
                Some(t.id),
            );
        }
    }
    work.commit().await?;
    sharing::consent_by_id(app.store.conn(), consent_id)
        .await?
        .ok_or(ServiceError::NotFound("consent"))
}

/// A case's consents (lead agency and auditors only; others get none).
pub async fn consents(app: &App, case: &VisibleCase) -> Result<Vec<ConsentRecord>, ServiceError> {
    if !case.sees(Field::Consents) {
        return Ok(Vec::new());
    }
    Ok(sharing::consents_of_case(app.store.conn(), case.record().id).await?)
}

/// A consent by id, if the caller may see its case's consents (lead agency and auditors).
pub async fn visible_consent(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<ConsentRecord>, ServiceError> {
    let Some(consent) = sharing::consent_by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    let Some(case) = super::cases::get_case(app, p, consent.case_id).await? else {
        return Ok(None);
    };
    Ok(case.sees(Field::Consents).then_some(consent))
}
