//! Who may see and do what. Pure functions over the authenticated principal; no I/O.

use crate::domain::{AgencyKind, Role};
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

    /// Which cases this principal may read.
    pub fn case_scope(&self) -> CaseScope {
        if self.has(Role::Auditor) {
            CaseScope::All
        } else {
            CaseScope::LeadAgency(self.agency_id)
        }
    }

    /// Whether the principal may open cases (auditors and administrators change no cases).
    pub fn may_open_cases(&self) -> bool {
        self.roles.iter().any(|r| CASE_ROLES.contains(r))
    }

    /// Whether the principal may move a case led by `lead_agency`.
    pub fn may_act_on(&self, lead_agency: Uuid) -> bool {
        self.agency_id == lead_agency && self.may_open_cases()
    }
}

/// Roles that work on cases (as opposed to reading them or administering the directory).
pub const CASE_ROLES: &[Role] = &[
    Role::CaseWorker,
    Role::Supervisor,
    Role::FocalPoint,
    Role::CompetentAuthority,
    Role::Guardian,
];

/// The set of cases a principal may read; applied by the store to every case query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseScope {
    /// Auditors: every case.
    All,
    /// Cases led by this agency.
    LeadAgency(Uuid),
}

impl CaseScope {
    /// Whether a case led by `lead_agency` is in scope.
    pub fn includes(&self, lead_agency: Uuid) -> bool {
        match self {
            CaseScope::All => true,
            CaseScope::LeadAgency(agency) => *agency == lead_agency,
        }
    }
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
    fn case_workers_see_and_act_on_their_agency_cases_only() {
        let p = principal(vec![Role::CaseWorker]);
        assert!(p.case_scope().includes(Uuid::from_u128(1)));
        assert!(!p.case_scope().includes(Uuid::from_u128(2)));
        assert!(p.may_act_on(Uuid::from_u128(1)));
        assert!(!p.may_act_on(Uuid::from_u128(2)));
    }

    #[test]
    fn auditors_see_everything_and_change_nothing() {
        let p = principal(vec![Role::Auditor]);
        assert!(p.case_scope().includes(Uuid::from_u128(2)));
        assert!(!p.may_open_cases());
        assert!(!p.may_act_on(Uuid::from_u128(1)));
    }
}
