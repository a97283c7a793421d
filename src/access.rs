//! Who may see what: the caller, the cases it may read, and the personal-data groups of a case
//! it may read. Pure functions; no I/O. What a caller may *do* is decided by [`crate::policy`].

use crate::domain::{AgencyKind, DataGroup, ReferralStatus, Role, TransferStatus};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The authenticated caller: a user of an agency in a country, with roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub agency_id: Uuid,
    pub agency_name: String,
    pub agency_kind: AgencyKind,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Which cases this principal may read at `now` (break-glass access expires).
    pub fn case_scope(&self, now: DateTime<Utc>) -> CaseScope {
        if self.has(Role::Auditor) {
            CaseScope::All
        } else {
            CaseScope::Agency {
                agency: self.agency_id,
                user: self.user_id,
                now,
            }
        }
    }
}

/// The set of cases a principal may read; applied by the store to every case query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseScope {
    /// Auditors: every case.
    All,
    /// Cases this agency leads or has been given access to (by a referral, a transfer or an
    /// alert), and cases this user opened by break-glass until it expires; what they may see
    /// of them is decided by [`CaseView`].
    Agency {
        agency: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
    },
    /// Only cases this agency leads (worklists).
    LeadAgency(Uuid),
}

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
}

/// What a referral shares, with whom, and where it stands.
#[derive(Debug, Clone)]
pub struct ReferralShare {
    pub to_agency: Uuid,
    pub groups: BTreeSet<DataGroup>,
    pub status: ReferralStatus,
    /// When the status last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&crate::domain::ReferralRecord> for ReferralShare {
    fn from(r: &crate::domain::ReferralRecord) -> Self {
        ReferralShare {
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
            from_agency: t.from_agency_id,
            to_agency: t.to_agency_id,
            groups: t.groups.clone(),
            status: t.status,
            decided_at: t.decided_at,
        }
    }
}

/// What a principal may see of one case: the relation and the personal-data grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseView {
    pub relation: Relation,
    pub agency: Uuid,
    pub grants: Vec<Grant>,
    /// The groups the caller's roles may read at all (by policy), whatever the agency holds.
    pub role_groups: BTreeSet<DataGroup>,
}

impl CaseView {
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
        Some(CaseView {
            relation,
            agency: p.agency_id,
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

/// Whether `groups` may travel from an agency of kind `from` to one of kind `to`:
/// perpetrator information only between law-enforcement agencies.
pub fn may_travel(groups: &BTreeSet<DataGroup>, from: AgencyKind, to: AgencyKind) -> bool {
    !groups.contains(&DataGroup::Perpetrator)
        || (from.is_law_enforcement() && to.is_law_enforcement())
}

/// Whether sending to an agency of kind `kind` in `country` (representing `represents`) would
/// contact the authorities of the person's country of origin.
pub fn is_origin_authority(
    kind: AgencyKind,
    country: &str,
    represents: Option<&str>,
    origin: &str,
) -> bool {
    kind.is_state_authority() && (country == origin || represents == Some(origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: Vec<Role>) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            username: "u".into(),
            display_name: "U".into(),
            agency_id: Uuid::from_u128(1),
            agency_name: "A".into(),
            agency_kind: AgencyKind::Ngo,
            country: "IT".into(),
            roles,
        }
    }

    #[test]
    fn case_workers_see_the_cases_their_agency_is_involved_in() {
        let p = principal(vec![Role::CaseWorker]);
        assert!(matches!(
            p.case_scope(at(1)),
            CaseScope::Agency { agency, .. } if agency == Uuid::from_u128(1)
        ));
    }

    #[test]
    fn auditors_see_every_case() {
        let p = principal(vec![Role::Auditor]);
        assert_eq!(p.case_scope(at(1)), CaseScope::All);
    }

    fn at(day: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn groups(list: &[DataGroup]) -> BTreeSet<DataGroup> {
        list.iter().copied().collect()
    }

    /// IT opened the case on day 1 and transferred it to NG on day 10 with identity only; an
    /// NGO got a referral (health) that completed on day 5.
    fn record() -> SharingRecord {
        SharingRecord {
            opened_by_agency: Uuid::from_u128(1),
            opened_at: at(1),
            lead_agency: Uuid::from_u128(2),
            referrals: vec![ReferralShare {
                to_agency: Uuid::from_u128(3),
                groups: groups(&[DataGroup::Health]),
                status: ReferralStatus::Completed,
                updated_at: at(5),
            }],
            transfers: vec![TransferShare {
                from_agency: Uuid::from_u128(1),
                to_agency: Uuid::from_u128(2),
                groups: groups(&[DataGroup::Identity]),
                status: TransferStatus::Accepted,
                decided_at: Some(at(10)),
            }],
        }
    }

    fn view_of(agency: u128) -> Option<CaseView> {
        let mut p = principal(vec![Role::CaseWorker]);
        p.agency_id = Uuid::from_u128(agency);
        CaseView::of(
            &p,
            &record(),
            false,
            None,
            DataGroup::ALL.iter().copied().collect(),
        )
    }

    #[test]
    fn the_new_lead_sees_only_the_transferred_groups_and_its_own_records() {
        let Some(v) = view_of(2) else {
            panic!("the new lead has a view")
        };
        assert_eq!(v.relation, Relation::Lead);
        assert!(v.may_read(DataGroup::Identity, at(3), Uuid::from_u128(1)));
        assert!(!v.may_read(DataGroup::Health, at(3), Uuid::from_u128(1)));
        assert!(v.may_read(DataGroup::Health, at(12), Uuid::from_u128(2)));
    }

    #[test]
    fn the_former_lead_keeps_what_it_had_at_the_transfer() {
        let Some(v) = view_of(1) else {
            panic!("the former lead has a view")
        };
        assert_eq!(v.relation, Relation::FormerLead { until: at(10) });
        assert!(v.may_read(DataGroup::Health, at(9), Uuid::from_u128(3)));
        assert!(!v.may_read(DataGroup::Identity, at(11), Uuid::from_u128(2)));
        assert!(!v.sees_facts());
    }

    #[test]
    fn a_completed_referral_keeps_its_groups_up_to_completion_and_strangers_see_nothing() {
        let Some(v) = view_of(3) else {
            panic!("the referral receiver has a view")
        };
        assert_eq!(v.relation, Relation::Participant);
        assert!(v.may_read(DataGroup::Health, at(4), Uuid::from_u128(1)));
        assert!(!v.may_read(DataGroup::Health, at(6), Uuid::from_u128(1)));
        assert!(!v.may_read(DataGroup::Identity, at(4), Uuid::from_u128(1)));
        assert_eq!(view_of(9), None);
    }

    #[test]
    fn perpetrator_data_travels_only_between_law_enforcement() {
        let p = groups(&[DataGroup::Perpetrator]);
        assert!(may_travel(&p, AgencyKind::Police, AgencyKind::Prosecutor));
        assert!(!may_travel(&p, AgencyKind::Police, AgencyKind::Ngo));
        assert!(may_travel(
            &groups(&[DataGroup::Identity]),
            AgencyKind::Ngo,
            AgencyKind::Ngo
        ));
    }

    #[test]
    fn embassies_of_the_origin_country_are_its_authorities() {
        assert!(is_origin_authority(
            AgencyKind::EmbassyConsulate,
            "IT",
            Some("NG"),
            "NG"
        ));
        assert!(is_origin_authority(
            AgencyKind::NationalFocalPoint,
            "NG",
            None,
            "NG"
        ));
        assert!(!is_origin_authority(AgencyKind::Ngo, "NG", None, "NG"));
        assert!(!is_origin_authority(AgencyKind::Police, "IT", None, "NG"));
    }
}
