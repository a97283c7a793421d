//! The same person found again: a link from an agency's case to an earlier case of hers,
//! recorded by reference. A link shares nothing: it says that the two cases are of one person,
//! on both cases, to their leads and to auditors.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A case linked to an earlier case of the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct SamePersonLink {
    pub id: Uuid,
    /// The case of the agency that found her again.
    pub case_id: Uuid,
    pub case_reference: String,
    /// The earlier case it names.
    pub earlier_case_id: Uuid,
    pub earlier_reference: String,
    /// The agency that recorded the link (the lead of `case_id` then) and its user.
    pub agency_id: Uuid,
    pub linked_by: Uuid,
    pub linked_at: DateTime<Utc>,
}

impl SamePersonLink {
    /// The case at the other end of the link, seen from `case` (one of its two).
    pub fn other_end(&self, case: Uuid) -> (Uuid, &str) {
        if case == self.case_id {
            (self.earlier_case_id, &self.earlier_reference)
        } else {
            (self.case_id, &self.case_reference)
        }
    }
}
