//! Break-glass: a case opened outside one's access, for a limited time, and its review.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A break-glass access to a case.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "BreakGlassAccess", complex)]
pub struct BreakGlass {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    #[graphql(skip)]
    pub user_id: Uuid,
    #[graphql(skip)]
    pub agency_id: Uuid,
    /// The agency that led the case when it was opened (told at once; the justification is
    /// addressed to it).
    #[graphql(skip)]
    pub lead_agency_id: Uuid,
    /// Shown through the `justification` field (null where withheld).
    #[graphql(skip)]
    pub justification: String,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the lead agency should have reviewed it.
    pub review_due_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub reviewed_by: Option<Uuid>,
    /// The reviewer's agency (the note is its words).
    #[graphql(skip)]
    pub reviewed_by_agency: Option<Uuid>,
    /// The review's judgement: was it justified?
    pub justified: Option<bool>,
    /// The reviewer's note: the reviewing agency's words to the agency that broke the glass
    /// (null otherwise, except for auditors, and listed in `redactedFields`).
    pub review_note: Option<String>,
    /// The API names of the free texts withheld from the caller (filled in by the access model
    /// as the record leaves the services; never stored).
    #[graphql(skip)]
    pub withheld: Vec<&'static str>,
}
