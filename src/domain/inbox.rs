//! Agencies' inboxes: notifications (ids and kinds only, never personal data) and the
//! follow-up feedback a new lead sends back.

use crate::vocabulary::NotificationKind;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One inbox entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub kind: NotificationKind,
    pub case_id: Option<Uuid>,
    pub referral_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Follow-up feedback on a transferred case.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub id: Uuid,
    pub case_id: Uuid,
    pub transfer_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub message: String,
    pub sent_by: Uuid,
    pub sent_at: DateTime<Utc>,
}
