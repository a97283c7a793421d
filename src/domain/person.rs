//! The person behind a case: personal data by sensitivity group, the route, and the log of
//! who read what.

use crate::vocabulary::{DataGroup, MovementSource};
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

/// One read of a case's personal data (the access log).
#[derive(Debug, Clone, PartialEq)]
pub struct PersonalDataRead {
    pub id: Uuid,
    pub case_id: Uuid,
    pub user_id: Uuid,
    pub agency_id: Uuid,
    pub read_at: DateTime<Utc>,
    pub purpose: Option<String>,
    pub groups: BTreeSet<DataGroup>,
}
