//! Directory types: agencies, users and the caller (`me`).

use super::ids;
use crate::access::Principal;
use crate::domain::{AgencyKind, Role};
use crate::store::directory::{Agency, User};
use async_graphql::{ID, Object};

/// An agency of the referral network.
pub struct AgencyNode(pub Agency);

#[Object(name = "Agency")]
impl AgencyNode {
    pub async fn id(&self) -> ID {
        ids::encode("Agency", &self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> AgencyKind {
        self.0.kind
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> &str {
        &self.0.country
    }
}

/// A user of an agency.
pub struct UserNode(pub User);

#[Object(name = "User")]
impl UserNode {
    pub async fn id(&self) -> ID {
        ids::encode("User", &self.0.id.to_string())
    }
    async fn username(&self) -> &str {
        &self.0.username
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn roles(&self) -> &[Role] {
        &self.0.roles
    }
}

/// The authenticated caller.
pub struct Me(pub Principal);

#[Object]
impl Me {
    async fn user(&self) -> UserNode {
        UserNode(User {
            id: self.0.user_id,
            username: self.0.username.clone(),
            display_name: self.0.display_name.clone(),
            agency_id: self.0.agency_id,
            roles: self.0.roles.clone(),
        })
    }
    async fn agency(&self) -> AgencyNode {
        AgencyNode(Agency {
            id: self.0.agency_id,
            name: self.0.agency_name.clone(),
            kind: self.0.agency_kind,
            country: self.0.country.clone(),
        })
    }
    async fn roles(&self) -> &[Role] {
        &self.0.roles
    }
}
