//! The caller and the set of cases it may read.

use crate::domain::{AgencyKind, Role};
use chrono::{DateTime, Utc};
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
    /// of them is decided by [`CaseView`](crate::access::CaseView).
    Agency {
        agency: Uuid,
        user: Uuid,
        now: DateTime<Utc>,
    },
    /// Only cases this agency leads (worklists).
    LeadAgency(Uuid),
}
