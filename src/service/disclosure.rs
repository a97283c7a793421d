//! What a principal may see of a case, and the rules every disclosure to another agency goes
//! through: the legal ground (a consent or an override), the groups that may travel, the ban
//! on contacting an asylum seeker's country of origin.

use super::{App, ServiceError};
pub use crate::access::protections::may_be_origin_authority;
use crate::access::protections::{self, Rule};
use crate::access::{CaseView, Principal, may_travel};
use crate::domain::Agency;
use crate::domain::CaseRecord;
use crate::domain::ConsentRecord;
use crate::domain::Ground;
use crate::domain::{AgencyKind, ConsentPurpose, DataGroup, OverrideBasis};
use crate::store::directory;
use crate::store::disclosures;
use sea_orm::ConnectionTrait;
use serde_json::Value as Json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Longest accepted free text (purposes, reasons, feedback).
pub const MAX_TEXT_CHARS: usize = 4000;

/// An agency of the directory, or `NOT_FOUND`.
pub async fn agency<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Agency, ServiceError> {
    directory::agency_by_id(conn, id)
        .await?
        .ok_or(ServiceError::NotFound("agency"))
}

/// Whether the person of `case` is an asylum seeker now (as the case's workflow defines it).
pub fn is_asylum_seeker(app: &App, case: &CaseRecord) -> Result<bool, ServiceError> {
    Ok(app.person_status(case)?.asylum_seeker)
}

/// Refuses sending anything about an asylum seeker to the authorities of their country of
/// origin (where the origin is unknown, every foreign authority and every embassy counts as
/// one), whatever the ground and whoever asks.
pub fn check_asylum_ban(app: &App, case: &CaseRecord, to: &Agency) -> Result<(), ServiceError> {
    let status = app.person_status(case)?;
    if status.asylum_seeker && may_be_origin_authority(case, to) {
        return Err(refused(Rule::OriginAuthority));
    }
    Ok(())
}

/// Refuses handing the case's lead to `to` where a protection forbids it (an asylum seeker's
/// origin authorities; anyone but a child-protection agency for a child; a person who died).
pub fn check_lead(app: &App, case: &CaseRecord, to: &Agency) -> Result<(), ServiceError> {
    let status = app.person_status(case)?;
    protections::may_take_lead(case, &status, to).map_err(refused)
}

/// The typed error of a sharing act that `rule` refuses: a legal ban where no consent can lift
/// it, a missing consent where the right one would.
pub fn refused(rule: Rule) -> ServiceError {
    match rule {
        Rule::OriginAuthority | Rule::ChildToChildProtection => {
            ServiceError::LegalBan(rule.refusal().into())
        }
        Rule::CaseEnded => ServiceError::InvalidTransition(rule.refusal().into()),
        Rule::OriginCountryNeedsConsent
        | Rule::ConsentWithdrawn
        | Rule::ConsentNotTheirs
        | Rule::ChildWithoutGuardian => ServiceError::ConsentRequired(rule.refusal().into()),
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
    let status = app.person_status(case)?;
    let consents = disclosures::consents_of_case(conn, case.id).await?;
    let holds = |ground: &Ground| protections::ground_holds(case, &status, &consents, ground, to);
    if let Some(basis) = request.override_basis {
        if request.consent_id.is_some() {
            return Err(ServiceError::validation(
                "give either consentId or an override, not both",
            ));
        }
        app.authorize(
            p,
            crate::access::policy::Action::OverrideConsent,
            super::cases::lead_facts(p, case),
            "only supervisors and focal points of the lead agency may share without consent",
        )?;
        check_text(
            "overrideJustification",
            request.override_justification.as_deref(),
            true,
        )?;
        let ground = Ground::Override {
            basis,
            justification: request.override_justification.clone().unwrap_or_default(),
        };
        holds(&ground).map_err(refused)?;
        return Ok(ground);
    }
    let purpose_names = purposes
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    match request.consent_id {
        Some(id) => {
            let consent = consents
                .iter()
                .find(|c| c.id == id)
                .ok_or(ServiceError::NotFound("consent"))?;
            if covers(consent, purposes, to, &case.country, groups) {
                let ground = Ground::Consent(id);
                holds(&ground).map_err(refused)?;
                Ok(ground)
            } else {
                Err(ServiceError::ConsentRequired(format!(
                    "the consent does not cover this: it must be in force, allow {purpose_names}, \
                     name the receiving agency or its country, and include every shared data group"
                )))
            }
        }
        None => {
            let covering: Vec<Ground> = consents
                .iter()
                .rev()
                .filter(|c| covers(c, purposes, to, &case.country, groups))
                .map(|c| Ground::Consent(c.id))
                .collect();
            // A covering consent that the protections refuse (a child's own, say) is no ground:
            // say why rather than only that none covers it.
            match covering.iter().find(|g| holds(g).is_ok()) {
                Some(g) => return Ok(g.clone()),
                None => {
                    if let Some(g) = covering.first() {
                        holds(g).map_err(refused)?;
                    }
                }
            }
            Err(ServiceError::ConsentRequired(format!(
                "no consent in force covers sharing these data groups with this agency for \
                 {purpose_names}; record the person's consent, or a supervisor or focal point \
                 records an override with its legal basis"
            )))
        }
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
