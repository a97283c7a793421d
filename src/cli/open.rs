//! Opening the database for the commands that work on it as the operator.

use super::error::CliError;
use crate::clock::SystemClock;
use crate::config::DatabaseConfig;
use crate::service::App;
use crate::store::{Store, StoreOptions};
use crate::workflow::Registry;
use std::sync::Arc;

/// Opens and migrates the database for commands that need the directory only, not the
/// workflows (token, directory, audit verify).
pub(super) async fn directory_app(db: &DatabaseConfig) -> Result<App, CliError> {
    let store = Store::connect(&StoreOptions::from(db)).await?;
    store.migrate().await?;
    Ok(App::builder(store, Registry::default(), Arc::new(SystemClock)).build())
}
