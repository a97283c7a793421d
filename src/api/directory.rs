//! Directory types: countries, agencies, users and the caller (`me`), and the inputs and
//! payloads of the directory mutations.

use super::error::{IntoGql, invalid};
use super::{app, ids};
use crate::access::Principal;
use crate::domain::Agency;
use crate::domain::Country;
use crate::domain::User;
use crate::domain::{AgencyKind, Role};
use crate::service::directory;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use uuid::Uuid;

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
    /// Where the agency sits (ISO 3166-1 alpha-2).
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// The state an embassy or consulate represents (ISO 3166-1 alpha-2); null for every other
    /// kind of agency.
    async fn represented_country(&self) -> Option<&str> {
        self.0.represented_country.as_deref()
    }
}

/// A country of the directory (ISO 3166-1) with its agencies and national focal point.
pub struct CountryNode(pub Country);

#[Object(name = "Country")]
impl CountryNode {
    /// ISO 3166-1 alpha-2, e.g. `IT`.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// ISO 3166-1 English short name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The agency that is the country's national focal point (null until one is set).
    async fn focal_point(&self, ctx: &Context<'_>) -> Result<Option<AgencyNode>> {
        if self.0.focal_point_agency_id.is_none() {
            return Ok(None);
        }
        Ok(directory::focal_point(app(ctx)?, &self.0.code)
            .await
            .gql()?
            .map(AgencyNode))
    }
    /// The agencies in this country, by name.
    async fn agencies(&self, ctx: &Context<'_>) -> Result<Vec<AgencyNode>> {
        Ok(
            directory::find_agencies(app(ctx)?, Some(&self.0.code), None)
                .await
                .gql()?
                .into_iter()
                .map(AgencyNode)
                .collect(),
        )
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
    async fn agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        // The principal carries the agency's name, kind and country; the rest is read.
        let represented_country = directory::agency(app(ctx)?, self.0.agency_id)
            .await
            .gql()?
            .and_then(|a| a.represented_country);
        Ok(AgencyNode(Agency {
            id: self.0.agency_id,
            name: self.0.agency_name.clone(),
            kind: self.0.agency_kind,
            country: self.0.country.clone(),
            represented_country,
        }))
    }
    async fn roles(&self) -> &[Role] {
        &self.0.roles
    }
}

/// Decodes an agency's global ID.
pub fn agency_id(id: &ID, field: &str) -> Result<Uuid> {
    ids::decode_uuid(id, "Agency").ok_or_else(|| invalid(format!("malformed {field}")))
}

/// Input of `createAgency`.
#[derive(InputObject)]
pub struct CreateAgencyInput {
    pub name: String,
    pub kind: AgencyKind,
    /// Where the agency sits (ISO 3166-1 alpha-2, upper case, e.g. `IT`).
    pub country: String,
    /// For an embassy or consulate (`EMBASSY_CONSULATE`), the state it represents (required);
    /// empty for every other kind.
    pub represented_country: Option<String>,
}

/// Result of `createAgency`.
#[derive(SimpleObject)]
pub struct CreateAgencyPayload {
    pub agency: AgencyNode,
}

/// Input of `updateAgency`: omitted fields keep their value. The country never changes.
#[derive(InputObject)]
pub struct UpdateAgencyInput {
    pub agency_id: ID,
    pub name: Option<String>,
    pub kind: Option<AgencyKind>,
    /// The state an embassy or consulate represents; `null` clears it.
    pub represented_country: MaybeUndefined<String>,
}

/// Result of `updateAgency`.
#[derive(SimpleObject)]
pub struct UpdateAgencyPayload {
    pub agency: AgencyNode,
}

/// Input of `setFocalPoint`.
#[derive(InputObject)]
pub struct SetFocalPointInput {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// An agency in that country.
    pub agency_id: ID,
}

/// Result of `setFocalPoint`.
#[derive(SimpleObject)]
pub struct SetFocalPointPayload {
    /// The country with its new focal point.
    pub country: CountryNode,
}

/// Input of `createUser`.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Unique; lower-case letters, digits, `.`, `-` and `_`, e.g. `it.shelter`.
    pub username: String,
    pub display_name: String,
    /// The user's agency.
    pub agency_id: ID,
    /// At least one.
    pub roles: Vec<Role>,
}

/// Result of `createUser`. The user has no token yet (`trm token issue --user ...`).
#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub user: UserNode,
    /// The user's agency.
    pub agency: AgencyNode,
}
