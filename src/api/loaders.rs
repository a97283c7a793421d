//! The request's DataLoaders: agencies, users, cases, the users of agencies and the agencies
//! of countries, each loaded in one query for however many fields of a response ask for them
//! (a list of 100 referrals needs one query for their agencies, not 200). Built per request
//! (and per WebSocket session) for the caller, because which cases load, and how much of them,
//! depends on who asks. They keep no cache across requests, so nothing read by one caller is
//! served to another.

use crate::access::{Principal, VisibleCase};
use crate::domain::{Agency, User};
use crate::service::directory::{self, Actor};
use crate::service::{App, ServiceError, cases};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ErrorExtensions, Result};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The loaders of one request.
pub struct Loaders {
    agencies: DataLoader<AgencyLoader>,
    users: DataLoader<UserLoader>,
    cases: DataLoader<CaseLoader>,
    /// The users of agencies, and the agencies of countries: a directory page lists many.
    agency_users: DataLoader<AgencyUsersLoader>,
    country_agencies: DataLoader<CountryAgenciesLoader>,
}

impl Loaders {
    /// Loaders for `principal`'s request.
    pub fn new(app: &App, principal: &Principal) -> Loaders {
        let spawn = |f| {
            tokio::spawn(f);
        };
        Loaders {
            agencies: DataLoader::new(AgencyLoader(app.clone()), spawn).delay(Duration::ZERO),
            users: DataLoader::new(UserLoader(app.clone()), spawn).delay(Duration::ZERO),
            cases: DataLoader::new(
                CaseLoader {
                    app: app.clone(),
                    principal: principal.clone(),
                },
                spawn,
            )
            .delay(Duration::ZERO),
            agency_users: DataLoader::new(
                AgencyUsersLoader {
                    app: app.clone(),
                    principal: principal.clone(),
                },
                spawn,
            )
            .delay(Duration::ZERO),
            country_agencies: DataLoader::new(CountryAgenciesLoader(app.clone()), spawn)
                .delay(Duration::ZERO),
        }
    }

    /// An agency of the directory (`NOT_FOUND` when it is not there).
    pub async fn agency(&self, id: Uuid) -> Result<Agency> {
        self.agencies
            .load_one(id)
            .await
            .map_err(|e| e.extend())?
            .ok_or_else(|| ServiceError::NotFound("agency").extend())
    }

    /// A user of the directory, if there is one.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>> {
        self.users.load_one(id).await.map_err(|e| e.extend())
    }

    /// The users of an agency, by username (administrators only: `FORBIDDEN` otherwise).
    pub async fn users_of_agency(&self, agency_id: Uuid) -> Result<Vec<User>> {
        Ok(self
            .agency_users
            .load_one(agency_id)
            .await
            .map_err(|e| e.extend())?
            .unwrap_or_default())
    }

    /// The agencies of a country, by name.
    pub async fn agencies_in(&self, country: &str) -> Result<Vec<Agency>> {
        Ok(self
            .country_agencies
            .load_one(country.to_string())
            .await
            .map_err(|e| e.extend())?
            .unwrap_or_default())
    }

    /// A case as the caller may see it; `None` when the caller may not see it.
    pub async fn case(&self, id: Uuid) -> Result<Option<VisibleCase>> {
        self.cases.load_one(id).await.map_err(|e| e.extend())
    }
}

/// Why a batch failed; shared by every field that waited on it.
#[derive(Clone)]
pub struct LoadError(Arc<ServiceError>);

impl ErrorExtensions for LoadError {
    fn extend(&self) -> async_graphql::Error {
        self.0.extend()
    }
}

impl From<ServiceError> for LoadError {
    fn from(e: ServiceError) -> Self {
        LoadError(Arc::new(e))
    }
}

struct AgencyLoader(App);

impl Loader<Uuid> for AgencyLoader {
    type Value = Agency;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Agency>, LoadError> {
        Ok(directory::agencies_by_ids(&self.0, keys).await?)
    }
}

struct UserLoader(App);

impl Loader<Uuid> for UserLoader {
    type Value = User;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, User>, LoadError> {
        Ok(directory::users_by_ids(&self.0, keys).await?)
    }
}

struct AgencyUsersLoader {
    app: App,
    principal: Principal,
}

impl Loader<Uuid> for AgencyUsersLoader {
    type Value = Vec<User>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<User>>, LoadError> {
        Ok(directory::users_of_agencies(&self.app, Actor::User(&self.principal), keys).await?)
    }
}

struct CountryAgenciesLoader(App);

impl Loader<String> for CountryAgenciesLoader {
    type Value = Vec<Agency>;
    type Error = LoadError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Vec<Agency>>, LoadError> {
        Ok(directory::agencies_in_countries(&self.0, keys).await?)
    }
}

struct CaseLoader {
    app: App,
    principal: Principal,
}

impl Loader<Uuid> for CaseLoader {
    type Value = VisibleCase;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, VisibleCase>, LoadError> {
        Ok(cases::get_cases(&self.app, &self.principal, keys)
            .await?
            .into_iter()
            .map(|c| (c.record().id, c))
            .collect())
    }
}
