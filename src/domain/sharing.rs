//! What travels between agencies: consents, service referrals and transfers of lead, each
//! with the legal ground of its disclosure.

use crate::vocabulary::{
    ConsentGiver, ConsentPurpose, DataGroup, OverrideBasis, ReferralStatus, Role, ServiceKind,
    TransferStatus,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// A consent: who gave it, for what, to whom, which data; it can be withdrawn. Immutable
/// except for its withdrawal.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Consent", complex)]
pub struct ConsentRecord {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    pub given_by: ConsentGiver,
    /// For a child's consent given by the guardian: whether the child assented.
    pub child_assent: Option<bool>,
    /// For a child without assent: why (a free text: shown to the agency that recorded it and
    /// to auditors; null and listed in `redactedFields` for others).
    pub assent_missing_reason: Option<String>,
    pub purposes: BTreeSet<ConsentPurpose>,
    /// Named agencies data may go to.
    #[graphql(skip)]
    pub agency_ids: BTreeSet<Uuid>,
    /// Countries whose agencies are covered (ISO 3166-1 alpha-2).
    pub countries: BTreeSet<String>,
    #[graphql(name = "dataGroups")]
    pub groups: BTreeSet<DataGroup>,
    pub given_at: DateTime<Utc>,
    #[graphql(skip)]
    pub recorded_by: Uuid,
    /// The agency that recorded it (the lead then): its notes are that agency's words.
    #[graphql(skip)]
    pub recorded_by_agency: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub withdrawn_by: Option<Uuid>,
    /// The API names of the free texts withheld from the caller (filled in by the access model
    /// as the record leaves the services; never stored).
    #[graphql(skip)]
    pub withheld: Vec<&'static str>,
}

/// The legal ground of a disclosure: a consent, or an override with its basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ground {
    Consent(Uuid),
    Override {
        basis: OverrideBasis,
        justification: String,
    },
}

/// A service referral: one agency asks another for a service; the lead does not change.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Referral", complex)]
pub struct ReferralRecord {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    #[graphql(skip)]
    pub from_agency_id: Uuid,
    #[graphql(skip)]
    pub to_agency_id: Uuid,
    pub service: ServiceKind,
    /// What the service is for (shown through the `purpose` field, null where withheld).
    #[graphql(skip)]
    pub purpose: String,
    /// The disclosure manifest: exactly the data groups shared with the receiver.
    #[graphql(name = "sharedGroups")]
    pub groups: BTreeSet<DataGroup>,
    #[graphql(skip)]
    pub ground: Ground,
    pub status: ReferralStatus,
    /// Why it was declined, revoked, suspended, or completed: the receiver's words (declined,
    /// completed) or the sender's (revoked; suspended by the service), shown like `purpose`.
    pub status_reason: Option<String>,
    /// For completed referrals: whether the service succeeded.
    #[graphql(name = "successful")]
    pub outcome_successful: Option<bool>,
    #[graphql(name = "respondBy")]
    pub response_due_at: DateTime<Utc>,
    /// When the overdue answer was escalated to the receiver's focal point.
    pub escalated_at: Option<DateTime<Utc>>,
    /// Snapshot: the agency that led the case when the referral was made.
    #[graphql(skip)]
    pub lead_agency_id: Uuid,
    #[graphql(skip)]
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The API names of the free texts withheld from the caller (filled in by the access model
    /// as the record leaves the services; never stored).
    #[graphql(skip)]
    pub withheld: Vec<&'static str>,
}

/// A transfer of a case's lead to an agency in another country.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Transfer", complex)]
pub struct TransferRecord {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    #[graphql(skip)]
    pub from_agency_id: Uuid,
    #[graphql(skip)]
    pub to_agency_id: Uuid,
    /// True when the receiving agency asked for the case (the lead decides).
    pub requested_by_receiver: bool,
    /// The workflow's transfer step that accepting fires (and fired, once accepted).
    pub transition: Option<String>,
    /// Facts recorded with the transfer step.
    #[graphql(skip)]
    pub data: Map<String, Json>,
    /// The disclosure manifest: exactly the data groups the new lead receives.
    #[graphql(name = "sharedGroups")]
    pub groups: BTreeSet<DataGroup>,
    /// `None` for a request the lead has not decided yet.
    #[graphql(skip)]
    pub ground: Option<Ground>,
    pub status: TransferStatus,
    /// Why it was rejected (the decider's words), revoked (the lead's) or suspended (the
    /// service's, for the lead): shown to the two parties, to auditors and to whoever may read
    /// every group the transfer shares (null otherwise, and listed in `redactedFields`).
    pub status_reason: Option<String>,
    #[graphql(name = "respondBy")]
    pub response_due_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub created_by: Uuid,
    /// Snapshot of the offering user's roles (the transfer step is checked against them).
    #[graphql(skip)]
    pub offerer_roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The API names of the free texts withheld from the caller (filled in by the access model
    /// as the record leaves the services; never stored).
    #[graphql(skip)]
    pub withheld: Vec<&'static str>,
}
