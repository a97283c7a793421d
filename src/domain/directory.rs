//! The directory as the rest of the program sees it: countries, agencies and users.

use crate::vocabulary::{AgencyKind, Role};
use uuid::Uuid;

/// An agency as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    pub id: Uuid,
    pub name: String,
    pub kind: AgencyKind,
    /// Where the agency sits (ISO 3166-1 alpha-2).
    pub country: String,
    /// The state an embassy or consulate represents (ISO 3166-1 alpha-2); `None` for every
    /// other kind.
    pub represented_country: Option<String>,
}

/// A country of the directory (one exists for the country of every agency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// ISO 3166-1 English short name.
    pub name: String,
    /// The agency that is the country's national focal point, once one is set.
    pub focal_point_agency_id: Option<Uuid>,
}

/// A user as the rest of the program sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub agency_id: Uuid,
    pub roles: Vec<Role>,
}
