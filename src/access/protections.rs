//! The protections of a case as invariants: given where the person stands ([`PersonStatus`],
//! declared by the case's workflow) and what the case shares now ([`Sharing`]), what may not
//! stand and must end at once ([`review`]), and whether a legal ground may carry a disclosure
//! at all ([`ground_holds`], the same rule the door of every sharing act asks). Pure; no I/O.
//!
//! The rules (docs/protections.md; `sop-reference.md`, data protection and children):
//! - an asylum seeker's case: no authority of the country of origin (its agencies, and embassies
//!   or consulates representing it, wherever they sit; where the origin is unknown, any foreign
//!   authority) holds any access; anyone else there only on the person's own consent;
//! - a withdrawn consent grounds nothing; a consent withdrawn through the workflow's own step is
//!   every consent in force withdrawn;
//! - a child's (or presumed child's) consent is the guardian's, with the child's assent or the
//!   reason it is missing; before a guardian is appointed only a child-protection override
//!   grounds a disclosure; a child's case is handed only to a child-protection agency;
//! - once the person is no longer a child, a guardian's consent grounds nothing until the person
//!   gives her own;
//! - the person's death, or the case's closing, ends every open referral and transfer.

use super::disclosure::is_origin_authority;
use crate::domain::{
    Agency, AgencyKind, BreakGlass, CaseRecord, ConsentGiver, ConsentRecord, Ground, OverrideBasis,
    ReferralRecord, TransferRecord, TransferStatus,
};
use crate::workflow::PersonStatus;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Which protection asks for a remedy (its name is recorded in events and access rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// No authority of an asylum seeker's country of origin holds any access.
    OriginAuthority,
    /// Anyone else in an asylum seeker's country of origin only on the person's own consent.
    OriginCountryNeedsConsent,
    /// The consent the disclosure rests on is withdrawn.
    ConsentWithdrawn,
    /// The consent was not given by the one who speaks for the person now (a child's own
    /// consent; a guardian's after the person is no longer a child).
    ConsentNotTheirs,
    /// A child without a guardian: only a child-protection override grounds a disclosure.
    ChildWithoutGuardian,
    /// A child's case is handed only to a child-protection agency.
    ChildToChildProtection,
    /// The person died or the case is closed: nothing is open any more.
    CaseEnded,
}

impl Rule {
    /// The rule's name in events and access rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OriginAuthority => "ORIGIN_AUTHORITY",
            Rule::OriginCountryNeedsConsent => "ORIGIN_COUNTRY_NEEDS_CONSENT",
            Rule::ConsentWithdrawn => "CONSENT_WITHDRAWN",
            Rule::ConsentNotTheirs => "CONSENT_NOT_THEIRS",
            Rule::ChildWithoutGuardian => "CHILD_WITHOUT_GUARDIAN",
            Rule::ChildToChildProtection => "CHILD_TO_CHILD_PROTECTION",
            Rule::CaseEnded => "CASE_ENDED",
        }
    }

    /// The reason shown to the receiver of what ended: it reveals nothing about the person's
    /// situation (in particular, never an asylum application to the country of origin).
    pub fn receiver_reason(self) -> &'static str {
        match self {
            Rule::ConsentWithdrawn => "consent withdrawn",
            Rule::CaseEnded => "the case ended",
            _ => "ended by a protection rule of the case",
        }
    }

    /// Whether what it touches is suspended (it may resume on a new ground) rather than ended.
    pub fn suspends(self) -> bool {
        matches!(
            self,
            Rule::OriginCountryNeedsConsent
                | Rule::ConsentWithdrawn
                | Rule::ConsentNotTheirs
                | Rule::ChildWithoutGuardian
        )
    }

    /// The message of the typed error a sharing act gets when this rule refuses it.
    pub fn refusal(self) -> &'static str {
        match self {
            Rule::OriginAuthority => {
                "the person is an asylum seeker: nothing may be referred or transferred to the \
                 authorities of their country of origin (non-governmental organisations only, \
                 with consent)"
            }
            Rule::OriginCountryNeedsConsent => {
                "the person is an asylum seeker: contact with anyone in their country of origin \
                 needs the person's own consent; an override does not replace it"
            }
            Rule::ConsentWithdrawn => "the consent is withdrawn",
            Rule::ConsentNotTheirs => {
                "the consent was not given by the one who speaks for the person now: for a \
                 child, the guardian (with the child's assent or the reason it is missing); \
                 for an adult, the person"
            }
            Rule::ChildWithoutGuardian => {
                "no guardian is appointed for the child yet: nothing leaves the lead agency \
                 except under a child-protection override by a supervisor or focal point"
            }
            Rule::ChildToChildProtection => {
                "a child's case is handed only to a child-protection agency"
            }
            Rule::CaseEnded => "the case has ended (the person died or the case is closed)",
        }
    }
}

/// Something that may not stand, and what the unit of work does about it before committing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Withdraw a consent in force (the person withdrew consent through a workflow step).
    WithdrawConsent { consent: Uuid },
    /// Suspend (the rule allows resuming on a new ground) or end a live referral.
    Referral {
        referral: Uuid,
        to: Uuid,
        rule: Rule,
    },
    /// Suspend or end an open transfer.
    Transfer {
        transfer: Uuid,
        to: Uuid,
        rule: Rule,
    },
    /// End an agency's access to the case.
    EndAccess { agency: Uuid, rule: Rule },
    /// End a break-glass access now.
    EndBreakGlass { id: Uuid, rule: Rule },
}

/// What a case shares now, as the review needs it.
#[derive(Debug, Clone, Default)]
pub struct Sharing {
    pub consents: Vec<ConsentRecord>,
    pub referrals: Vec<ReferralRecord>,
    pub transfers: Vec<TransferRecord>,
    /// Agencies with a live access row.
    pub access: BTreeSet<Uuid>,
    /// Break-glass accesses still open.
    pub break_glass: Vec<BreakGlass>,
    /// Every agency named above, by id.
    pub agencies: BTreeMap<Uuid, Agency>,
}

/// Whether the review of a case can find anything to mend at all: a case whose person is in
/// none of these situations, and whose sharing did not change, is not read again.
pub fn needs_review(status: &PersonStatus, closed: bool) -> bool {
    status.asylum_seeker || status.consent_withdrawn || status.deceased || status.child || closed
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

/// Whether `to` sits in, or speaks for, the person's (known) country of origin.
fn in_origin_country(case: &CaseRecord, to: &Agency) -> bool {
    case.origin_country
        .as_deref()
        .is_some_and(|o| to.country == o || to.represented_country.as_deref() == Some(o))
}

/// Whether consent `c` is given by the one who speaks for the person now.
pub fn consent_is_theirs(c: &ConsentRecord, status: &PersonStatus) -> Result<(), Rule> {
    if status.child {
        if !status.guardian {
            return Err(Rule::ChildWithoutGuardian);
        }
        let assent = c.child_assent == Some(true)
            || c.assent_missing_reason
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty());
        if c.given_by != ConsentGiver::Guardian || !assent {
            return Err(Rule::ConsentNotTheirs);
        }
    } else if c.given_by == ConsentGiver::Guardian && !status.age_undeclared {
        return Err(Rule::ConsentNotTheirs);
    }
    Ok(())
}

/// Whether `ground` may carry a disclosure to `to` on this case now (the consent it names is
/// looked up in `consents`; a consent withdrawn through the workflow's step counts as withdrawn).
pub fn ground_holds(
    case: &CaseRecord,
    status: &PersonStatus,
    consents: &[ConsentRecord],
    ground: &Ground,
    to: &Agency,
) -> Result<(), Rule> {
    if status.deceased {
        return Err(Rule::CaseEnded);
    }
    if status.asylum_seeker && may_be_origin_authority(case, to) {
        return Err(Rule::OriginAuthority);
    }
    match ground {
        Ground::Consent(id) => {
            let Some(c) = consents.iter().find(|c| c.id == *id) else {
                return Err(Rule::ConsentWithdrawn);
            };
            if c.withdrawn_at.is_some() || status.consent_withdrawn {
                return Err(Rule::ConsentWithdrawn);
            }
            consent_is_theirs(c, status)
        }
        Ground::Override { basis, .. } => {
            if status.asylum_seeker && in_origin_country(case, to) {
                Err(Rule::OriginCountryNeedsConsent)
            } else if status.child && !status.guardian && *basis != OverrideBasis::ChildProtection {
                Err(Rule::ChildWithoutGuardian)
            } else {
                Ok(())
            }
        }
    }
}

/// Whether the case may be handed to `to` at all (whatever the ground).
pub fn may_take_lead(case: &CaseRecord, status: &PersonStatus, to: &Agency) -> Result<(), Rule> {
    if status.deceased {
        Err(Rule::CaseEnded)
    } else if status.asylum_seeker && may_be_origin_authority(case, to) {
        Err(Rule::OriginAuthority)
    } else if status.child && to.kind != AgencyKind::ChildProtection {
        Err(Rule::ChildToChildProtection)
    } else {
        Ok(())
    }
}

/// What may not stand on `case` (its person in `status`, `closed` when every track ended) given
/// what it shares now, in the order the unit of work mends it: consents first, then referrals
/// and transfers, then access. Empty when every protection holds.
pub fn review(
    case: &CaseRecord,
    status: &PersonStatus,
    closed: bool,
    now: &Sharing,
) -> Vec<Remedy> {
    let mut out = Vec::new();
    if status.consent_withdrawn {
        out.extend(
            now.consents
                .iter()
                .filter(|c| c.withdrawn_at.is_none())
                .map(|c| Remedy::WithdrawConsent { consent: c.id }),
        );
    }
    let ended = status.deceased || closed;
    let origin_authority = |agency: &Uuid| {
        status.asylum_seeker
            && now
                .agencies
                .get(agency)
                .is_some_and(|a| may_be_origin_authority(case, a))
    };
    let check = |ground: Option<&Ground>, to: &Uuid| -> Option<Rule> {
        if ended {
            return Some(Rule::CaseEnded);
        }
        if origin_authority(to) {
            return Some(Rule::OriginAuthority);
        }
        let agency = now.agencies.get(to)?;
        ground.and_then(|g| ground_holds(case, status, &now.consents, g, agency).err())
    };
    for r in &now.referrals {
        if r.status.is_live()
            && let Some(rule) = check(Some(&r.ground), &r.to_agency_id)
        {
            out.push(Remedy::Referral {
                referral: r.id,
                to: r.to_agency_id,
                rule,
            });
        }
    }
    for t in &now.transfers {
        let open = match t.status {
            TransferStatus::Offered | TransferStatus::Requested => true,
            // A suspended transfer may still resume: one to an authority of the country of
            // origin, or on a case that ended, may not.
            TransferStatus::Suspended => ended || origin_authority(&t.to_agency_id),
            _ => false,
        };
        if !open {
            continue;
        }
        let lead_rule = now
            .agencies
            .get(&t.to_agency_id)
            .and_then(|a| may_take_lead(case, status, a).err());
        let ground = (t.status == TransferStatus::Offered)
            .then_some(t.ground.as_ref())
            .flatten();
        if let Some(rule) = check(ground, &t.to_agency_id).or(lead_rule) {
            if t.status == TransferStatus::Suspended && rule.suspends() {
                continue;
            }
            out.push(Remedy::Transfer {
                transfer: t.id,
                to: t.to_agency_id,
                rule,
            });
        }
    }
    out.extend(
        now.access
            .iter()
            .filter(|a| origin_authority(a))
            .map(|a| Remedy::EndAccess {
                agency: *a,
                rule: Rule::OriginAuthority,
            }),
    );
    out.extend(
        now.break_glass
            .iter()
            .filter(|b| origin_authority(&b.agency_id))
            .map(|b| Remedy::EndBreakGlass {
                id: b.id,
                rule: Rule::OriginAuthority,
            }),
    );
    out
}

#[cfg(test)]
#[path = "protections_tests.rs"]
mod tests;
