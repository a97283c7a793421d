//! What every change to a shared case goes through: the case row lock, one event on the case's
//! hash chain, inbox notifications and their delivery; and what a principal may see of a case.

use super::bus::Signal;
use super::cases::{build_event, workflow_of};
use super::{App, ServiceError};
use crate::access::{
    CaseView, Principal, ReferralShare, SharingRecord, TransferShare, is_origin_authority,
    may_travel,
};
use crate::domain::Agency;
use crate::domain::CaseRecord;
use crate::domain::ConsentRecord;
use crate::domain::Event;
use crate::domain::EventKind;
use crate::domain::Ground;
use crate::domain::Notification;
use crate::domain::NotificationKind;
use crate::domain::{AgencyKind, ConsentPurpose, DataGroup, OverrideBasis};
use crate::store::cases::{self as case_store};
use crate::store::directory;
use crate::store::events;
use crate::store::inbox;
use crate::store::sharing;
use crate::workflow::Changes;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Longest accepted free text (purposes, reasons, feedback).
pub const MAX_TEXT_CHARS: usize = 4000;

/// A change in progress on one case: the locked case, and what to deliver after commit.
pub struct CaseChange {
    pub case: CaseRecord,
    pub now: DateTime<Utc>,
    signals: Vec<Signal>,
}

impl CaseChange {
    /// Locks the case (visible to `p`) for the rest of `txn` and checks `expected_version`.
    pub async fn begin(
        app: &App,
        txn: &DatabaseTransaction,
        p: &Principal,
        case_id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<CaseChange, ServiceError> {
        case_store::lock(txn, case_id).await?;
        let case = case_store::find(txn, p.case_scope(app.now()), case_id)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        if let Some(expected) = expected_version
            && expected != case.version
        {
            return Err(ServiceError::VersionConflict {
                expected,
                actual: case.version,
            });
        }
        Ok(CaseChange {
            case,
            now: app.now(),
            signals: Vec::new(),
        })
    }

    /// Locks a case for the service itself (the scheduler).
    pub async fn begin_system(
        app: &App,
        txn: &DatabaseTransaction,
        case_id: Uuid,
    ) -> Result<Option<CaseChange>, ServiceError> {
        case_store::lock(txn, case_id).await?;
        let Some(case) = case_store::find(txn, crate::access::CaseScope::All, case_id).await?
        else {
            return Ok(None);
        };
        Ok(Some(CaseChange {
            case,
            now: app.now(),
            signals: Vec::new(),
        }))
    }

    /// Continues a change inside a transaction that already holds the case (e.g. after a
    /// transition).
    pub fn continuing(case: CaseRecord, now: DateTime<Utc>) -> CaseChange {
        CaseChange {
            case,
            now,
            signals: Vec::new(),
        }
    }

    /// The case after the change and what to deliver once committed.
    pub fn into_parts(self) -> (CaseRecord, Vec<Signal>) {
        (self.case, self.signals)
    }

    /// Appends one event to the case's chain (moving its version on by one).
    pub async fn record(
        &mut self,
        txn: &DatabaseTransaction,
        actor: (Uuid, Uuid),
        kind: EventKind,
        reason: Option<String>,
        details: Json,
    ) -> Result<Event, ServiceError> {
        if !case_store::bump_version(txn, self.case.id, self.case.version, self.now).await? {
            return Err(ServiceError::VersionConflict {
                expected: self.case.version,
                actual: self.case.version + 1,
            });
        }
        self.case.version += 1;
        self.case.updated_at = self.now;
        let prev = events::last_hash(txn, self.case.id).await?;
        let event = build_event(
            &self.case,
            actor,
            kind,
            None,
            reason,
            Changes::default(),
            prev,
            Some(details),
        );
        events::append(txn, &event).await?;
        self.signals.push(Signal::case_event(&event));
        Ok(event)
    }

    /// Adds an event built elsewhere (a transition) to what is delivered after commit.
    pub fn recorded(&mut self, event: &Event) {
        self.signals.push(Signal::case_event(event));
    }

    /// Puts a notification in `agency`'s inbox (in the same transaction).
    pub async fn notify(
        &mut self,
        txn: &DatabaseTransaction,
        agency: Uuid,
        kind: NotificationKind,
        referral: Option<Uuid>,
        transfer: Option<Uuid>,
    ) -> Result<(), ServiceError> {
        let n = Notification {
            id: Uuid::now_v7(),
            agency_id: agency,
            kind,
            case_id: Some(self.case.id),
            referral_id: referral,
            transfer_id: transfer,
            created_at: self.now,
            read_at: None,
        };
        inbox::insert(txn, &n).await?;
        self.signals.push(Signal::Inbox {
            agency_id: agency,
            notification_id: n.id,
        });
        Ok(())
    }

    /// Commits and delivers the signals (to every instance).
    pub async fn commit(
        self,
        app: &App,
        txn: DatabaseTransaction,
    ) -> Result<CaseRecord, ServiceError> {
        app.bus.stage(&txn, &self.signals).await?;
        txn.commit().await?;
        app.bus.committed(&self.signals);
        Ok(self.case)
    }
}

/// The sharing history of a case, for access decisions.
pub async fn sharing_record<C: ConnectionTrait>(
    conn: &C,
    case: &CaseRecord,
) -> Result<SharingRecord, ServiceError> {
    let referrals = sharing::referrals_of_case(conn, case.id).await?;
    let transfers = sharing::transfers_of_case(conn, case.id).await?;
    Ok(record_of(case, &referrals, &transfers))
}

fn record_of(
    case: &CaseRecord,
    referrals: &[crate::domain::ReferralRecord],
    transfers: &[crate::domain::TransferRecord],
) -> SharingRecord {
    SharingRecord {
        opened_by_agency: case.opened_by_agency_id,
        opened_at: case.opened_at,
        lead_agency: case.lead_agency_id,
        referrals: referrals.iter().map(ReferralShare::from).collect(),
        transfers: transfers.iter().map(TransferShare::from).collect(),
    }
}

/// The data groups `p`'s roles may read at all (the policies' `read_group`).
fn role_groups(app: &App, p: &Principal) -> BTreeSet<DataGroup> {
    app.workflows
        .policies()
        .map(|policies| policies.readable_groups(&p.roles))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// [`view`] for a page of cases in four queries whatever its length (a list would otherwise
/// ask four per case, and again per field that needs the view); `None` where `p` may not
/// see the case.
pub async fn views<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    cases: &[CaseRecord],
) -> Result<Vec<Option<CaseView>>, ServiceError> {
    let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    let mut referrals: std::collections::HashMap<Uuid, Vec<crate::domain::ReferralRecord>> =
        Default::default();
    for r in sharing::referrals_of_cases(conn, &ids).await? {
        referrals.entry(r.case_id).or_default().push(r);
    }
    let mut transfers: std::collections::HashMap<Uuid, Vec<crate::domain::TransferRecord>> =
        Default::default();
    for t in sharing::transfers_of_cases(conn, &ids).await? {
        transfers.entry(t.case_id).or_default().push(t);
    }
    let rows = case_store::with_access(conn, &ids, p.agency_id).await?;
    let glass =
        crate::store::break_glass::active_until_many(conn, &ids, p.user_id, app.now()).await?;
    let groups = role_groups(app, p);
    Ok(cases
        .iter()
        .map(|case| {
            let record = record_of(
                case,
                referrals.get(&case.id).map_or(&[][..], Vec::as_slice),
                transfers.get(&case.id).map_or(&[][..], Vec::as_slice),
            );
            CaseView::of(
                p,
                &record,
                rows.contains(&case.id),
                glass.get(&case.id).copied(),
                groups.clone(),
            )
        })
        .collect())
}

/// What `p` may see of a case it can see (the store already applied the case scope).
pub async fn view<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    case: &CaseRecord,
) -> Result<CaseView, ServiceError> {
    let now = app.now();
    let record = sharing_record(conn, case).await?;
    let has_row = case_store::has_access(conn, case.id, p.agency_id).await?;
    let glass = crate::store::break_glass::active_until(conn, case.id, p.user_id, now).await?;
    CaseView::of(p, &record, has_row, glass, role_groups(app, p))
        .ok_or(ServiceError::NotFound("case"))
}

/// What `p` may see of a case, read through the pool.
pub async fn case_view(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
) -> Result<CaseView, ServiceError> {
    view(app, app.store.conn(), p, case).await
}

/// An agency of the directory, or `NOT_FOUND`.
pub async fn agency<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Agency, ServiceError> {
    directory::agency_by_id(conn, id)
        .await?
        .ok_or(ServiceError::NotFound("agency"))
}

/// Whether the person of `case` is an asylum seeker now (as the case's workflow defines it).
pub fn is_asylum_seeker(app: &App, case: &CaseRecord) -> Result<bool, ServiceError> {
    let workflow = workflow_of(app, case)?;
    let Some(guard) = &workflow.asylum_seeker else {
        return Ok(false);
    };
    let timers = Default::default();
    let params = workflow.parameters_for(&case.country);
    let input = crate::workflow::guard::GuardInput {
        facts: &case.state.facts,
        tracks: &case.state.tracks,
        timers: &timers,
        params: &params,
    };
    // An expression that cannot be evaluated protects the person: it counts as "asylum seeker".
    Ok(guard.holds(&input, &workflow.facts).unwrap_or(true))
}

/// Refuses sending anything about an asylum seeker to the authorities of their country of
/// origin. Where the origin is unknown, every foreign authority and every embassy counts as one.
pub fn check_asylum_ban(app: &App, case: &CaseRecord, to: &Agency) -> Result<(), ServiceError> {
    if is_asylum_seeker(app, case)? && may_be_origin_authority(case, to) {
        return Err(ServiceError::LegalBan(
            "the person is an asylum seeker: nothing may be referred or transferred to the \
             authorities of their country of origin (non-governmental organisations only, with consent)"
                .into(),
        ));
    }
    Ok(())
}

/// Whether `to` is, or may be, an authority of the person's country of origin. Where the origin
/// is unknown, every foreign authority and every embassy counts as one.
pub fn may_be_origin_authority(case: &CaseRecord, to: &Agency) -> bool {
    match &case.origin_country {
        Some(origin) => is_origin_authority(
            to.kind,
            &to.country,
            to.represented_country.as_deref(),
            origin,
        ),
        None => {
            to.kind.is_state_authority()
                && (to.country != case.country || to.kind == AgencyKind::EmbassyConsulate)
        }
    }
}

/// Checks free text: present when `required`, not too long.
pub fn check_text(field: &str, text: Option<&str>, required: bool) -> Result<(), ServiceError> {
    match text {
        None if required => Err(ServiceError::validation(format!("{field} is required"))),
        Some(t) if required && t.trim().is_empty() => {
            Err(ServiceError::validation(format!("{field} is required")))
        }
        Some(t) if t.chars().count() > MAX_TEXT_CHARS => Err(ServiceError::validation(format!(
            "{field} is longer than {MAX_TEXT_CHARS} characters"
        ))),
        _ => Ok(()),
    }
}

/// Whether consent `c` covers sending `groups` to `to` for one of `purposes`. A consent that
/// names no agency and no country covers agencies in the case's own country only.
pub fn covers(
    c: &ConsentRecord,
    purposes: &[ConsentPurpose],
    to: &Agency,
    case_country: &str,
    groups: &BTreeSet<DataGroup>,
) -> bool {
    c.withdrawn_at.is_none()
        && purposes.iter().any(|p| c.purposes.contains(p))
        && groups.is_subset(&c.groups)
        && (c.agency_ids.contains(&to.id)
            || c.countries.contains(&to.country)
            || (c.agency_ids.is_empty() && c.countries.is_empty() && to.country == case_country))
}

/// What the sender asked to rely on: a named consent, an override, or (neither) any consent
/// on the case that covers the disclosure.
#[derive(Debug, Clone)]
pub struct GroundRequest {
    pub consent_id: Option<Uuid>,
    pub override_basis: Option<OverrideBasis>,
    pub override_justification: Option<String>,
}

/// A disclosure to be grounded: for which purposes, to whom, which groups.
pub struct Disclosure<'a> {
    pub purposes: &'a [ConsentPurpose],
    pub to: &'a Agency,
    pub groups: &'a BTreeSet<DataGroup>,
}

/// Finds the legal ground of a disclosure, or refuses it (`CONSENT_REQUIRED`).
pub async fn ground_for<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    case: &CaseRecord,
    request: &GroundRequest,
    disclosure: Disclosure<'_>,
) -> Result<Ground, ServiceError> {
    let Disclosure {
        purposes,
        to,
        groups,
    } = disclosure;
    if let Some(basis) = request.override_basis {
        if request.consent_id.is_some() {
            return Err(ServiceError::validation(
                "give either consentId or an override, not both",
            ));
        }
        app.authorize(
            p,
            crate::policy::Action::OverrideConsent,
            super::cases::lead_facts(p, case),
            "only supervisors and focal points of the lead agency may share without consent",
        )?;
        check_text(
            "overrideJustification",
            request.override_justification.as_deref(),
            true,
        )?;
        return Ok(Ground::Override {
            basis,
            justification: request.override_justification.clone().unwrap_or_default(),
        });
    }
    let purpose_names = purposes
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    let consents = sharing::consents_of_case(conn, case.id).await?;
    match request.consent_id {
        Some(id) => {
            let consent = consents
                .iter()
                .find(|c| c.id == id)
                .ok_or(ServiceError::NotFound("consent"))?;
            if covers(consent, purposes, to, &case.country, groups) {
                Ok(Ground::Consent(id))
            } else {
                Err(ServiceError::ConsentRequired(format!(
                    "the consent does not cover this: it must be in force, allow {purpose_names}, \
                     name the receiving agency or its country, and include every shared data group"
                )))
            }
        }
        None => consents
            .iter()
            .rev()
            .find(|c| covers(c, purposes, to, &case.country, groups))
            .map(|c| Ground::Consent(c.id))
            .ok_or_else(|| {
                ServiceError::ConsentRequired(format!(
                    "no consent in force covers sharing these data groups with this agency for \
                     {purpose_names}; record the person's consent, or a supervisor or focal point \
                     records an override with its legal basis"
                ))
            }),
    }
}

/// Refuses groups the sender may not pass on: perpetrator information outside law enforcement,
/// and groups the sending agency cannot read itself.
pub fn check_groups(
    sender_view: &CaseView,
    from_kind: AgencyKind,
    to: &Agency,
    groups: &BTreeSet<DataGroup>,
) -> Result<(), ServiceError> {
    if !may_travel(groups, from_kind, to.kind) {
        return Err(ServiceError::LegalBan(
            "perpetrator information travels only between law-enforcement agencies".into(),
        ));
    }
    if let Some(g) = groups.iter().find(|g| !sender_view.may_read_group(**g)) {
        return Err(ServiceError::validation(format!(
            "your agency does not hold the {g} data of this case, so it cannot share it"
        )));
    }
    Ok(())
}

/// Adds a disclosure's ground to an event's details (the consent's id, or the override's
/// basis; never the justification's text).
pub fn with_ground(mut details: Json, ground: Option<&Ground>) -> Json {
    if let Some(d) = details.as_object_mut() {
        match ground {
            Some(Ground::Consent(id)) => {
                d.insert("consent".into(), serde_json::json!(id));
            }
            Some(Ground::Override { basis, .. }) => {
                d.insert("override".into(), serde_json::json!(basis));
            }
            None => {}
        }
    }
    details
}
