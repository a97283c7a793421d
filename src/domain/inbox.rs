//! Agencies' inboxes: notifications (ids and kinds only, never personal data) and the
//! follow-up feedback a new lead sends back.

use crate::vocabulary::NotificationKind;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One inbox entry.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Notification", complex)]
pub struct Notification {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub agency_id: Uuid,
    pub kind: NotificationKind,
    #[graphql(skip)]
    pub case_id: Option<Uuid>,
    #[graphql(skip)]
    pub referral_id: Option<Uuid>,
    #[graphql(skip)]
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    /// The same-person link the entry reports (`SAME_PERSON_LINKED`).
    #[graphql(skip)]
    pub same_person_link_id: Option<Uuid>,
    /// The agency whose act the entry reports, where it is not the case's lead (the agency
    /// whose search found the case, `SAME_PERSON_MATCHED`).
    #[graphql(skip)]
    pub from_agency_id: Option<Uuid>,
}

/// Follow-up feedback on a transferred case.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Feedback", complex)]
pub struct Feedback {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    #[graphql(skip)]
    pub transfer_id: Uuid,
    #[graphql(skip)]
    pub from_agency_id: Uuid,
    #[graphql(skip)]
    pub to_agency_id: Uuid,
    /// Shown through the `message` field (null where withheld).
    #[graphql(skip)]
    pub message: String,
    #[graphql(skip)]
    pub sent_by: Uuid,
    pub sent_at: DateTime<Utc>,
    /// The API names of the free texts withheld from the caller (filled in by the access model
    /// as the record leaves the services; never stored).
    #[graphql(skip)]
    pub withheld: Vec<&'static str>,
}
