//! The person behind a case: personal data by sensitivity group, the route, and the log of
//! who read what.

use crate::vocabulary::{AccessKind, DataGroup, ExportPurpose, MovementSource};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as Json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// One recorded version of one group of a case's personal data.
#[derive(Debug, Clone, PartialEq)]
pub struct DataVersion {
    pub id: Uuid,
    pub case_id: Uuid,
    pub group: DataGroup,
    /// A JSON object.
    pub value: Json,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: Uuid,
    /// The agency of the user who recorded it.
    pub agency_id: Uuid,
}

/// A movement of the person: a country (and place) on a date.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
#[graphql(name = "Movement", complex)]
pub struct Movement {
    #[graphql(skip)]
    pub id: Uuid,
    #[graphql(skip)]
    pub case_id: Uuid,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Town, border post, camp ... Null unless the caller may read the CONTACT group.
    pub place: Option<String>,
    pub moved_on: NaiveDate,
    pub source: MovementSource,
    #[graphql(skip)]
    pub recorded_by: Uuid,
    pub recorded_at: DateTime<Utc>,
}

/// One entry of the access log: a read of a case's personal data, or an export of its case
/// file (a disclosure outside the service).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalDataRead {
    pub id: Uuid,
    pub case_id: Uuid,
    pub kind: AccessKind,
    /// The reader; nil for an export by the operator (`trm audit export`).
    pub user_id: Uuid,
    /// The reader's agency; for an export by the operator, the lead agency (the controller).
    pub agency_id: Uuid,
    pub read_at: DateTime<Utc>,
    /// Why, as the reader stated it (required for sensitive groups and for an export).
    pub purpose: Option<String>,
    /// The purpose's category (exports).
    pub purpose_category: Option<ExportPurpose>,
    /// Who the data went to beyond the reader, as stated (exports; `None` for a read: the
    /// reader and their agency received it).
    pub recipient: Option<String>,
    /// The personal-data groups returned (empty for an export: the case file holds none).
    pub groups: BTreeSet<DataGroup>,
}
