//! `trm migrate`: applies the database migrations and exits.

use super::error::CliError;
use crate::config::DatabaseConfig;
use crate::store::{Store, StoreOptions};

pub(super) async fn run(db: &DatabaseConfig) -> Result<(), CliError> {
    let store = Store::connect(&StoreOptions::from(db)).await?;
    store.migrate().await?;
    println!("migrations applied");
    Ok(())
}
