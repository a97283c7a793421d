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
    pub justification: String,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the lead agency should have reviewed it.
    pub review_due_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub reviewed_by: Option<Uuid>,
    /// The review's judgement: was it justified?
    pub justified: Option<bool>,
    pub review_note: Option<String>,
}
