//! The directory: the `Agency`, `User` and `Country` objects, the caller (`me`), and the
//! administrators' changes to it.

use super::context::{app, loaders, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use crate::access::Principal;
use crate::domain::{Agency, AgencyKind, Country, Role, User};
use crate::service::directory::{self as directory, Actor, AgencyChanges, NewAgency, NewUser};
use async_graphql::{
    ComplexObject, Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
};

#[ComplexObject]
impl Agency {
    pub async fn id(&self) -> ID {
        ids::encode("Agency", &self.id.to_string())
    }
    /// The agency's users, by username (administrators only; anyone else is refused with
    /// `FORBIDDEN`).
    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        loaders(ctx)?.users_of_agency(self.id).await
    }
}

#[ComplexObject]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode("User", &self.id.to_string())
    }
}

#[ComplexObject]
impl Country {
    /// The agency that is the country's national focal point (null until one is set).
    async fn focal_point(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.focal_point_agency_id {
            Some(id) => loaders(ctx)?.agency(id).await.map(Some),
            None => Ok(None),
        }
    }
    /// The agencies in this country, by name.
    async fn agencies(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        loaders(ctx)?.agencies_in(&self.code).await
    }
}

/// The authenticated caller.
pub struct Me(pub Principal);

#[Object]
impl Me {
    async fn user(&self) -> User {
        User {
            id: self.0.user_id,
            username: self.0.username.clone(),
            display_name: self.0.display_name.clone(),
            agency_id: self.0.agency_id,
            roles: self.0.roles.clone(),
        }
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        // The principal carries the agency's name, kind and country; the rest is read.
        let represented_country = directory::agency(app(ctx)?, self.0.agency_id)
            .await
            .gql()?
            .and_then(|a| a.represented_country);
        Ok(Agency {
            id: self.0.agency_id,
            name: self.0.agency_name.clone(),
            kind: self.0.agency_kind,
            country: self.0.country.clone(),
            represented_country,
        })
    }
    async fn roles(&self) -> &[Role] {
        &self.0.roles
    }
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
    pub agency: Agency,
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
    pub agency: Agency,
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
    pub country: Country,
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
    pub user: User,
    /// The user's agency.
    pub agency: Agency,
}
/// Reads of the directory and of the caller (merged into the `Query` root).
#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The authenticated caller: user, agency (with country and kind) and roles.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        Ok(Me(principal(ctx)?.clone()))
    }

    /// The directory of agencies, by country then name; only those in `country` (ISO 3166-1
    /// alpha-2) and of `kind` when given.
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        country: Option<String>,
        kind: Option<crate::domain::AgencyKind>,
    ) -> Result<Vec<Agency>> {
        principal(ctx)?;
        directory::find_agencies(app(ctx)?, country.as_deref(), kind)
            .await
            .gql()
    }

    /// The countries of the directory (every country with an agency), by code.
    async fn countries(&self, ctx: &Context<'_>) -> Result<Vec<Country>> {
        principal(ctx)?;
        directory::countries(app(ctx)?).await.gql()
    }

    /// A country of the directory by ISO 3166-1 alpha-2 code (e.g. `IT`); null when the
    /// directory has no agency there.
    async fn country(&self, ctx: &Context<'_>, code: String) -> Result<Option<Country>> {
        principal(ctx)?;
        directory::country(app(ctx)?, &code).await.gql()
    }
}

/// Changes to the directory (merged into the `Mutation` root).
#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Adds an agency to the directory (administrators only). Its country is listed from then on.
    async fn create_agency(
        &self,
        ctx: &Context<'_>,
        input: CreateAgencyInput,
    ) -> Result<CreateAgencyPayload> {
        let agency = directory::create_agency(
            app(ctx)?,
            Actor::User(principal(ctx)?),
            NewAgency {
                name: input.name,
                kind: input.kind,
                country: input.country,
                represented_country: input.represented_country,
            },
        )
        .await
        .gql()?;
        Ok(CreateAgencyPayload { agency })
    }

    /// Changes an agency's name, kind or represented country (administrators only).
    async fn update_agency(
        &self,
        ctx: &Context<'_>,
        input: UpdateAgencyInput,
    ) -> Result<UpdateAgencyPayload> {
        let p = principal(ctx)?;
        let id = uuid_of(&input.agency_id, "Agency", "agencyId")?;
        let represented_country = match input.represented_country {
            async_graphql::MaybeUndefined::Undefined => None,
            async_graphql::MaybeUndefined::Null => Some(None),
            async_graphql::MaybeUndefined::Value(code) => Some(Some(code)),
        };
        let agency = directory::update_agency(
            app(ctx)?,
            Actor::User(p),
            id,
            AgencyChanges {
                name: input.name,
                kind: input.kind,
                represented_country,
            },
        )
        .await
        .gql()?;
        Ok(UpdateAgencyPayload { agency })
    }

    /// Makes an agency of a country that country's national focal point (administrators only).
    async fn set_focal_point(
        &self,
        ctx: &Context<'_>,
        input: SetFocalPointInput,
    ) -> Result<SetFocalPointPayload> {
        let p = principal(ctx)?;
        let id = uuid_of(&input.agency_id, "Agency", "agencyId")?;
        let country = directory::set_focal_point(app(ctx)?, Actor::User(p), &input.country, id)
            .await
            .gql()?;
        Ok(SetFocalPointPayload { country })
    }

    /// Adds a user to an agency with the given roles (administrators only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let id = uuid_of(&input.agency_id, "Agency", "agencyId")?;
        let user = directory::create_user(
            app,
            Actor::User(p),
            NewUser {
                username: input.username,
                display_name: input.display_name,
                agency_id: id,
                roles: input.roles,
            },
        )
        .await
        .gql()?;
        let agency = loaders(ctx)?.agency(user.agency_id).await?;
        Ok(CreateUserPayload { user, agency })
    }
}
