//! What one principal may see of one case, decided from the case's sharing history: the
//! relation (lead, former lead, participant, break-glass, auditor), the personal-data grants,
//! and from them every other read decision (facts, timers, history, event reasons, consents,
//! which referrals and transfers, the route's places, the policy facts behind permissions),
//! and the one rule for every free text an agency writes ([`CaseView::sees_text`]).
//! Pure; no I/O.
//!
//! Over the house's 400 lines on purpose: the one decision and every read derived from it
//! belong together, so that none can drift from it (its tests are in `view_tests.rs`).

use super::free_text::{FreeText, FreeTexts};
use super::policy::Facts;
use super::principal::Principal;
use crate::domain::{
    BreakGlass, DataGroup, Event, ReferralRecord, ReferralStatus, Role, TransferRecord,
    TransferStatus,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// How an agency stands towards a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Reads everything (oversight); changes nothing.
    Auditor,
    /// Leads the case now.
    Lead,
    /// Led the case until it was transferred: keeps what it had at that moment.
    FormerLead { until: DateTime<Utc> },
    /// Receives or received a referral or transfer, or an alert: sees the case's procedural
    /// state and the personal data shared with it.
    Participant,
    /// Opened the case by break-glass: reads it (except what a legal ban withholds) until then.
    BreakGlass { until: DateTime<Utc> },
}

/// A right to read some groups of a case's personal data, up to a moment (or live).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub groups: BTreeSet<DataGroup>,
    /// Versions recorded from this moment on are not covered; `None`: live.
    pub until: Option<DateTime<Utc>>,
}

/// The sharing history of a case that decides who sees what (read from the store).
#[derive(Debug, Clone)]
pub struct SharingRecord {
    /// The agency that opened the case (its first lead) and when.
    pub opened_by_agency: Uuid,
    pub opened_at: DateTime<Utc>,
    pub lead_agency: Uuid,
    pub referrals: Vec<ReferralShare>,
    pub transfers: Vec<TransferShare>,
    /// Agencies whose access a protection of the case ended (e.g. an authority of an asylum
    /// seeker's country of origin): they see nothing of the case, whatever else they had.
    pub ended: BTreeSet<Uuid>,
}

/// What a referral shares, with whom, and where it stands.
#[derive(Debug, Clone)]
pub struct ReferralShare {
    /// The agency that made it (the case's lead at that moment).
    pub from_agency: Uuid,
    pub to_agency: Uuid,
    pub groups: BTreeSet<DataGroup>,
    pub status: ReferralStatus,
    /// When the status last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&crate::domain::ReferralRecord> for ReferralShare {
    fn from(r: &crate::domain::ReferralRecord) -> Self {
        ReferralShare {
            from_agency: r.from_agency_id,
            to_agency: r.to_agency_id,
            groups: r.groups.clone(),
            status: r.status,
            updated_at: r.updated_at,
        }
    }
}

/// What a transfer shares, between whom, and where it stands.
#[derive(Debug, Clone)]
pub struct TransferShare {
    /// True when the receiver asked for the case (it had access before).
    pub requested_by_receiver: bool,
    pub from_agency: Uuid,
    pub to_agency: Uuid,
    pub groups: BTreeSet<DataGroup>,
    pub status: TransferStatus,
    /// When it was accepted (for accepted transfers).
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<&crate::domain::TransferRecord> for TransferShare {
    fn from(t: &crate::domain::TransferRecord) -> Self {
        TransferShare {
            requested_by_receiver: t.requested_by_receiver,
            from_agency: t.from_agency_id,
            to_agency: t.to_agency_id,
            groups: t.groups.clone(),
            status: t.status,
            decided_at: t.decided_at,
        }
    }
}

/// What a principal may see of one case: the relation and the personal-data grants, and
/// every read decision derived from them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseView {
    pub relation: Relation,
    /// The caller's agency.
    pub agency: Uuid,
    /// The caller.
    pub user: Uuid,
    /// The agency that leads the case now.
    pub lead_agency: Uuid,
    pub grants: Vec<Grant>,
    /// The groups the caller's roles may read at all (by policy), whatever the agency holds.
    pub role_groups: BTreeSet<DataGroup>,
    /// The caller's agency, not leading the case, takes part in it through a live referral
    /// (pending or accepted; e.g. one for a decision) from the case's current lead: it may fire
    /// the steps the workflow gives to involved agencies of its kind, and sees which.
    pub involved: bool,
}

/// A part of a case that is shown whole or not at all (personal data is decided per group and
/// per version, by [`CaseView::may_read`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The facts recorded by transitions (procedural information).
    Facts,
    Timers,
    Deadlines,
    AvailableTransitions,
    Consents,
    /// The case's events.
    History,
    /// The places on the person's route (countries are always shown).
    RoutePlaces,
}

impl Field {
    /// Every field, in the order `redactedFields` lists them.
    pub const ALL: &'static [Field] = &[
        Field::Facts,
        Field::Timers,
        Field::Deadlines,
        Field::AvailableTransitions,
        Field::Consents,
        Field::History,
        Field::RoutePlaces,
    ];

    /// The field's name in the API.
    pub fn api_name(self) -> &'static str {
        match self {
            Field::Facts => "facts",
            Field::Timers => "timers",
            Field::Deadlines => "deadlines",
            Field::AvailableTransitions => "availableTransitions",
            Field::Consents => "consents",
            Field::History => "history",
            Field::RoutePlaces => "route.place",
        }
    }
}

impl CaseView {
    /// Whether `p`'s access row and break-glass can change its view of a case led by `lead`
    /// (see [`CaseView::of`]): not for an auditor, nor for the lead agency, whose relation is
    /// decided before them. Where they cannot, a caller need not read them.
    pub fn depends_on_rows(p: &Principal, lead: Uuid) -> bool {
        !(p.has(Role::Auditor) || lead == p.agency_id)
    }

    /// Decides the view of `p` on a case with sharing history `record`; `None` when the
    /// principal's agency has no relation to the case (and is no auditor).
    pub fn of(
        p: &Principal,
        record: &SharingRecord,
        has_access_row: bool,
        break_glass_until: Option<DateTime<Utc>>,
        role_groups: BTreeSet<DataGroup>,
    ) -> Option<CaseView> {
        let mut grants = grants(p.agency_id, record);
        let relation = if p.has(Role::Auditor) {
            Relation::Auditor
        } else if record.lead_agency == p.agency_id {
            Relation::Lead
        } else if record.ended.contains(&p.agency_id) {
            return None;
        } else if let Some(until) = lead_until(p.agency_id, record) {
            Relation::FormerLead { until }
        } else if let Some(until) = break_glass_until {
            // Everything, live while it lasts; perpetrator data only for law enforcement.
            let groups = DataGroup::ALL
                .iter()
                .copied()
                .filter(|g| *g != DataGroup::Perpetrator || p.agency_kind.is_law_enforcement())
                .collect();
            grants.push(Grant {
                groups,
                until: None,
            });
            Relation::BreakGlass { until }
        } else if has_access_row || !grants.is_empty() {
            Relation::Participant
        } else {
            return None;
        };
        // Only the current lead involves: a referral a former lead made stays live for what it
        // shares, but its receiver decides nothing on the case until the lead that holds it now
        // involves it (it alone can end the involvement, by revoking its own referral).
        let involved = !matches!(relation, Relation::Auditor | Relation::Lead)
            && record.referrals.iter().any(|r| {
                r.to_agency == p.agency_id
                    && r.from_agency == record.lead_agency
                    && r.status.is_live()
            });
        Some(CaseView {
            relation,
            agency: p.agency_id,
            user: p.user_id,
            lead_agency: record.lead_agency,
            involved,
            grants: if relation == Relation::Auditor {
                vec![Grant {
                    groups: DataGroup::ALL.iter().copied().collect(),
                    until: None,
                }]
            } else {
                grants
            },
            role_groups,
        })
    }

    /// Whether a version of `group` recorded at `at` by `agency` may be read.
    pub fn may_read(&self, group: DataGroup, at: DateTime<Utc>, agency: Uuid) -> bool {
        if !self.role_groups.contains(&group) {
            return false;
        }
        agency == self.agency
            || self
                .grants
                .iter()
                .any(|g| g.groups.contains(&group) && g.until.is_none_or(|u| at < u))
    }

    /// Whether any version of `group` may be read at all.
    pub fn may_read_group(&self, group: DataGroup) -> bool {
        self.role_groups.contains(&group) && self.grants.iter().any(|g| g.groups.contains(&group))
    }

    /// Whether the case's facts, timers and full procedural detail are shown.
    pub fn sees_facts(&self) -> bool {
        matches!(
            self.relation,
            Relation::Lead | Relation::Auditor | Relation::BreakGlass { .. }
        )
    }

    /// Events up to which moment are shown (`None`: none; the former lead sees its own time).
    pub fn history_until(&self) -> Option<Option<DateTime<Utc>>> {
        match self.relation {
            Relation::Lead | Relation::Auditor | Relation::BreakGlass { .. } => Some(None),
            Relation::FormerLead { until } => Some(Some(until)),
            Relation::Participant => None,
        }
    }

    /// Whether `field` is shown.
    pub fn sees(&self, field: Field) -> bool {
        match field {
            Field::Facts | Field::Timers | Field::Deadlines | Field::Consents => self.sees_facts(),
            // An involved agency sees the steps it may take itself (and why one is refused),
            // not the facts behind them.
            Field::AvailableTransitions => self.sees_facts() || self.involved,
            Field::History => self.history_until().is_some(),
            Field::RoutePlaces => self.may_read_group(DataGroup::Contact),
        }
    }

    /// The fields shown as null or empty because the caller may not see them, by their API
    /// names (personal-data groups as `personalData.<GROUP>`).
    pub fn redacted_fields(&self) -> Vec<String> {
        let hidden = |f: &&Field| !self.sees(**f);
        let mut out: Vec<String> = Field::ALL
            .iter()
            .filter(|f| **f != Field::RoutePlaces)
            .filter(hidden)
            .map(|f| f.api_name().to_string())
            .collect();
        out.extend(
            DataGroup::ALL
                .iter()
                .filter(|g| !self.may_read_group(**g))
                .map(|g| format!("personalData.{}", g.as_str())),
        );
        if !self.sees(Field::RoutePlaces) {
            out.push(Field::RoutePlaces.api_name().to_string());
        }
        out
    }

    /// Whether the event is shown (participants see none; a former lead up to its hand-over).
    pub fn sees_event(&self, event: &Event) -> bool {
        match self.history_until() {
            Some(None) => true,
            Some(Some(until)) => event.occurred_at <= until,
            None => false,
        }
    }

    /// Whether a free text is shown: the one rule for every text an agency writes (event
    /// reasons, referral purposes, decline and completion reasons, feedback, consent notes,
    /// break-glass justifications ...). A text may reveal health or the exploitation, so it is
    /// shown to auditors, to the agency that wrote it, to the agency it is addressed to, and to
    /// an agency that may read every data group it was shared as, as the writer recorded them
    /// when it wrote it ([`Self::may_read`]); to no one else. A text shared as no group stays
    /// with its writer, its addressee and the auditors.
    pub fn sees_text(&self, text: &FreeText) -> bool {
        Self::text_shown(Some(self), self.agency, text)
    }

    /// [`Self::sees_text`] for `agency`, whose view of the case is `view`; without a view (a
    /// protection ended its access) it holds no grants, so only the texts it wrote or that are
    /// addressed to it are shown (e.g. why its referral ended).
    fn text_shown(view: Option<&CaseView>, agency: Uuid, text: &FreeText) -> bool {
        text.writer == agency
            || text.addressee == Some(agency)
            || view.is_some_and(|v| {
                v.relation == Relation::Auditor
                    || (!text.shared_as.is_empty()
                        && text
                            .shared_as
                            .iter()
                            .all(|g| v.may_read(*g, text.at, text.writer)))
            })
    }

    /// `record` as the caller may see it: every free text in it that [`Self::sees_text`]
    /// refuses is removed and named in its `withheld`.
    pub fn texts<T: FreeTexts>(&self, record: T) -> T {
        Self::shown(Some(self), self.agency, record)
    }

    /// [`Self::texts`] for a caller of `agency` who may have no view of the record's case at
    /// all (an agency whose access a protection ended still reaches its own referrals).
    pub fn shown<T: FreeTexts>(view: Option<&CaseView>, agency: Uuid, mut record: T) -> T {
        let hidden: Vec<&'static str> = record
            .texts()
            .into_iter()
            .filter(|(_, text)| !Self::text_shown(view, agency, text))
            .map(|(name, _)| name)
            .collect();
        for name in hidden {
            record.withhold(name);
        }
        record
    }

    /// `event` as the caller sees it (its reason withheld where [`Self::sees_text`] says so);
    /// `None` when the event is not shown at all.
    pub fn event(&self, event: Event) -> Option<Event> {
        if !self.sees_event(&event) {
            return None;
        }
        Some(self.texts(event))
    }

    fn leads_or_audits(&self) -> bool {
        self.relation == Relation::Auditor || self.lead_agency == self.agency
    }

    /// Whether a referral of the case is shown: all of them to the lead and auditors, the
    /// caller's own (sent or received) otherwise.
    pub fn sees_referral(&self, r: &ReferralRecord) -> bool {
        self.leads_or_audits() || r.to_agency_id == self.agency || r.from_agency_id == self.agency
    }

    /// Whether a transfer of the case is shown: all of them to the lead and auditors, the
    /// caller's own (given or taken) otherwise.
    pub fn sees_transfer(&self, t: &TransferRecord) -> bool {
        self.leads_or_audits() || t.to_agency_id == self.agency || t.from_agency_id == self.agency
    }

    /// Whether a break-glass access is shown: all of them to the lead and auditors (who see the
    /// case's facts), and to the user who opened it.
    pub fn sees_break_glass(&self, b: &BreakGlass) -> bool {
        (self.leads_or_audits() && self.sees_facts()) || b.user_id == self.user
    }

    /// Whether the case's same-person links are shown (the references of the cases linked to
    /// it): to its lead, auditors and a break-glass reader, as its facts are. A link gives no
    /// access to the other case; an agency that sees this one only by a referral or an alert
    /// is not told which other cases are hers.
    pub fn sees_same_person_links(&self) -> bool {
        self.sees_facts()
    }

    /// What the policies are told about the caller and this case when `permissions` are asked.
    pub fn policy_facts(&self) -> Facts {
        Facts {
            is_lead: self.lead_agency == self.agency,
            is_party: false,
            has_access: !matches!(self.relation, Relation::BreakGlass { .. }),
            is_involved: self.involved,
            stage: None,
            group: None,
        }
    }
}

/// The periods in which each agency led the case: (agency, groups it held, until).
fn lead_periods(record: &SharingRecord) -> Vec<(Uuid, BTreeSet<DataGroup>, Option<DateTime<Utc>>)> {
    let mut accepted: Vec<&TransferShare> = record
        .transfers
        .iter()
        .filter(|t| t.status == TransferStatus::Accepted)
        .collect();
    accepted.sort_by_key(|t| t.decided_at);
    let mut periods = vec![(
        record.opened_by_agency,
        DataGroup::ALL.iter().copied().collect::<BTreeSet<_>>(),
        None,
    )];
    for t in accepted {
        if let Some(last) = periods.last_mut() {
            last.2 = t.decided_at.or(Some(record.opened_at));
        }
        periods.push((t.to_agency, t.groups.clone(), None));
    }
    periods
}

fn lead_until(agency: Uuid, record: &SharingRecord) -> Option<DateTime<Utc>> {
    lead_periods(record)
        .into_iter()
        .filter(|(a, _, _)| *a == agency)
        .filter_map(|(_, _, until)| until)
        .max()
}

/// The agencies other than the lead to which the case's sharing history itself gave access:
/// every receiver of a referral (whatever became of it), every receiver of a transfer the lead
/// offered, every former lead, less those whose access a protection ended. With the focal points alerted or escalated to, these are exactly
/// the store's access rows of the case (proven by a test over generated histories): the SQL
/// scope and this model come from one rule.
pub fn participants(record: &SharingRecord) -> BTreeSet<Uuid> {
    let mut out: BTreeSet<Uuid> = record.referrals.iter().map(|r| r.to_agency).collect();
    out.extend(
        record
            .transfers
            .iter()
            .filter(|t| !t.requested_by_receiver)
            .map(|t| t.to_agency),
    );
    out.extend(
        lead_periods(record)
            .into_iter()
            .filter(|(_, _, until)| until.is_some())
            .map(|(agency, _, _)| agency),
    );
    out.remove(&record.lead_agency);
    out.retain(|a| !record.ended.contains(a));
    out
}

/// Every grant `agency` holds on the case.
pub fn grants(agency: Uuid, record: &SharingRecord) -> Vec<Grant> {
    let mut out: Vec<Grant> = lead_periods(record)
        .into_iter()
        .filter(|(a, _, _)| *a == agency)
        .map(|(_, groups, until)| Grant { groups, until })
        .collect();
    for r in record.referrals.iter().filter(|r| r.to_agency == agency) {
        let until = match r.status {
            ReferralStatus::Pending | ReferralStatus::Accepted => None,
            ReferralStatus::Completed => Some(r.updated_at),
            _ => continue,
        };
        out.push(Grant {
            groups: r.groups.clone(),
            until,
        });
    }
    for t in record.transfers.iter().filter(|t| t.to_agency == agency) {
        // An offer shows the receiver what it would receive, so that it can decide.
        if t.status == TransferStatus::Offered {
            out.push(Grant {
                groups: t.groups.clone(),
                until: None,
            });
        }
    }
    out.retain(|g| !g.groups.is_empty());
    out
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
