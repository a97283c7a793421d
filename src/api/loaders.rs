//! The request's DataLoaders: agencies, users and cases, each loaded in one query for however
//! many fields of a response ask for them (a list of 100 referrals needs one query for their
//! agencies, not 200). Built per request (and per WebSocket session) for the caller, because
//! which cases load, and how much of them, depends on who asks. They keep no cache across
//! requests, so nothing read by one caller is served to another.

use crate::access::{Principal, VisibleCase};
use crate::domain::{Agency, User};
use crate::service::{App, ServiceError, cases, directory};
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
