//! Break-glass: a case opened outside one's access, for a limited time, and its review.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One break-glass access.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakGlass {
    pub id: Uuid,
    pub case_id: Uuid,
    pub user_id: Uuid,
    pub agency_id: Uuid,
    pub justification: String,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub review_due_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reviewed_by: Option<Uuid>,
    /// The lead agency's judgement: was it justified?
    pub justified: Option<bool>,
    pub review_note: Option<String>,
}
