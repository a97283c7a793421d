//! Reading the directory of agencies and users (readable by every authenticated principal).

use super::{App, ServiceError};
use crate::store::directory::{self, Agency, User};
use std::collections::HashMap;
use uuid::Uuid;

/// An agency by id.
pub async fn agency(app: &App, id: Uuid) -> Result<Option<Agency>, ServiceError> {
    Ok(directory::agency_by_id(app.store.conn(), id).await?)
}

/// A user by id.
pub async fn user(app: &App, id: Uuid) -> Result<Option<User>, ServiceError> {
    Ok(directory::user_by_id(app.store.conn(), id).await?)
}

/// Agencies and users by id, for a page of results.
pub async fn agencies_and_users(
    app: &App,
    agency_ids: &[Uuid],
    user_ids: &[Uuid],
) -> Result<(HashMap<Uuid, Agency>, HashMap<Uuid, User>), ServiceError> {
    let agencies = directory::agencies_by_ids(app.store.conn(), agency_ids).await?;
    let users = directory::users_by_ids(app.store.conn(), user_ids).await?;
    Ok((agencies, users))
}

/// Every agency.
pub async fn agencies(app: &App) -> Result<Vec<Agency>, ServiceError> {
    Ok(directory::all_agencies(app.store.conn()).await?)
}
