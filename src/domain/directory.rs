//! The directory as the rest of the program sees it: countries, agencies and users.

use crate::vocabulary::{AgencyKind, Role};
use uuid::Uuid;

/// An agency of the referral network.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
#[graphql(name = "Agency", complex)]
pub struct Agency {
    #[graphql(skip)]
    pub id: Uuid,
    pub name: String,
    pub kind: AgencyKind,
    /// Where the agency sits (ISO 3166-1 alpha-2).
    pub country: String,
    /// The state an embassy or consulate represents (ISO 3166-1 alpha-2); null for every other
    /// kind of agency.
    pub represented_country: Option<String>,
}

/// A country of the directory (ISO 3166-1) with its agencies and national focal point.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
#[graphql(name = "Country", complex)]
pub struct Country {
    /// ISO 3166-1 alpha-2, e.g. `IT`.
    pub code: String,
    /// ISO 3166-1 English short name.
    pub name: String,
    /// The agency that is the country's national focal point, once one is set.
    #[graphql(skip)]
    pub focal_point_agency_id: Option<Uuid>,
}

/// A user of an agency.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
#[graphql(name = "User", complex)]
pub struct User {
    #[graphql(skip)]
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    #[graphql(skip)]
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
}
