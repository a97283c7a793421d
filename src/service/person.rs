//! The person behind a case: personal data by sensitivity group, consents, the country of
//! origin and the route. Only the lead agency records them; what others read is decided by
//! their [`CaseView`](crate::access::CaseView).

use super::directory::check_country;
use super::disclosure::check_text;
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::{Field, Principal, VisibleCase};
use crate::domain::CaseRecord;
use crate::domain::DataVersion;
use crate::domain::Movement;
use crate::domain::{AccessKind, DataGroup, MovementSource};
use crate::domain::{EventDraft, EventKind};
use crate::store::person;
use chrono::NaiveDate;
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Largest accepted personal-data group, serialised.
pub const MAX_GROUP_BYTES: usize = 16 * 1024;

pub(super) fn lead_only(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
    what: &str,
) -> Result<(), ServiceError> {
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
    if group == DataGroup::Identity {
        // The identity's match keys are replaced with it (keyed values only: see same_person).
        super::same_person::replace_keys(app, work.tx(), case_id, &value, work.now()).await?;
    }
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
    log_read(app, p, case.id, purpose, read).await?;
    Ok(out)
}

/// Records in the access log that `p` was given `groups` of the case's personal data (nothing
/// when no group was given).
async fn log_read(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    purpose: Option<&str>,
    groups: std::collections::BTreeSet<DataGroup>,
) -> Result<(), ServiceError> {
    if groups.is_empty() {
        return Ok(());
    }
    let txn = app.store.begin_write().await?;
    crate::store::access_log::insert(
        &txn,
        &crate::domain::PersonalDataRead {
            id: Uuid::now_v7(),
            case_id,
            kind: AccessKind::Read,
            user_id: p.user_id,
            agency_id: p.agency_id,
            read_at: app.now(),
            purpose: purpose.map(str::to_string),
            purpose_category: None,
            recipient: None,
            groups,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The access log of a case (reads and exports), newest first (auditors only).
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
/// CONTACT group. Places are personal data (CONTACT): a route that gives any is recorded in
/// the access log as a read of that group.
pub async fn route(
    app: &App,
    p: &Principal,
    case: &VisibleCase,
) -> Result<Vec<Movement>, ServiceError> {
    let places = case.sees(Field::RoutePlaces);
    let mut route = person::route(app.store.conn(), case.record().id).await?;
    if !places {
        for m in &mut route {
            m.place = None;
        }
    }
    if route.iter().any(|m| m.place.is_some()) {
        log_read(
            app,
            p,
            case.record().id,
            None,
            [DataGroup::Contact].into_iter().collect(),
        )
        .await?;
    }
    Ok(route)
}
