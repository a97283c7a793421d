//! `trm backup`: a consistent copy of a SQLite database, made while the service runs.

use super::error::CliError;
use crate::config::DatabaseConfig;
use crate::store::{Store, StoreOptions};
use std::path::Path;

pub(super) async fn run(db: &DatabaseConfig, out: &Path) -> Result<(), CliError> {
    let store = Store::connect(&StoreOptions::from(db)).await?;
    store.backup_to(out).await?;
    store.close().await.ok();
    println!("backup written to {}", out.display());
    Ok(())
}
