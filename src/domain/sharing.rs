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

/// A consent as recorded. Immutable except for its withdrawal.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub given_by: ConsentGiver,
    /// For a child: whether the child assented.
    pub child_assent: Option<bool>,
    /// For a child without assent: why.
    pub assent_missing_reason: Option<String>,
    pub purposes: BTreeSet<ConsentPurpose>,
    /// Named agencies data may go to.
    pub agency_ids: BTreeSet<Uuid>,
    /// Countries whose agencies data may go to.
    pub countries: BTreeSet<String>,
    pub groups: BTreeSet<DataGroup>,
    pub given_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<Uuid>,
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

/// A service referral.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub service: ServiceKind,
    pub purpose: String,
    /// The disclosure manifest: exactly the groups shared.
    pub groups: BTreeSet<DataGroup>,
    pub ground: Ground,
    pub status: ReferralStatus,
    /// Why it was declined, revoked, suspended, or completed without success.
    pub status_reason: Option<String>,
    pub outcome_successful: Option<bool>,
    pub response_due_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    /// Snapshot: the agency that led the case when the referral was made.
    pub lead_agency_id: Uuid,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A transfer of lead.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    /// True when the receiver asked for the case (the lead decides).
    pub requested_by_receiver: bool,
    /// The workflow's transfer step that accepting fires.
    pub transition: Option<String>,
    /// Facts recorded with the transfer step.
    pub data: Map<String, Json>,
    pub groups: BTreeSet<DataGroup>,
    /// `None` for a request the lead has not decided yet.
    pub ground: Option<Ground>,
    pub status: TransferStatus,
    pub status_reason: Option<String>,
    pub response_due_at: DateTime<Utc>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    /// Snapshot of the offering user's roles (the transfer step is checked against them).
    pub offerer_roles: Vec<Role>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
}
