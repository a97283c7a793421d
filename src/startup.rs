//! Bringing the service up: load and check workflows, open and migrate the database, make sure
//! no definition changed under a version that cases are pinned to.

use crate::clock::Clock;
use crate::service::{App, AppBuilder, DbFault};
use crate::store::{Store, StoreOptions, cases, workflows};
use crate::workflow::{LoadError, Registry};
use std::path::Path;
use std::sync::Arc;

/// Why the service refused to start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid workflow definitions:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Workflows(Vec<LoadError>),
    #[error("cannot open the database: {0}")]
    Database(#[source] crate::store::StoreError),
    #[error(
        "cannot open the database for writing: the file or its directory is read-only (or \
         not writable by this user); TRM needs to write its database: {0}"
    )]
    NotWritable(#[source] crate::store::StoreError),
    #[error("cannot apply migrations: {0}")]
    Migrations(#[source] crate::store::StoreError),
    #[error(
        "workflow {0} version {1} differs from the definition cases were opened under; \
         definitions never change under the same version: give the change a new version"
    )]
    DefinitionChanged(String, u32),
    #[error(
        "cases are pinned to workflow {0} version {1}, which is not in the workflows directory"
    )]
    PinnedWorkflowMissing(String, u32),
    #[error(
        "refusing to start: the database is set up so that it can lose writes TRM acknowledges:\n{}\n\
         fix the settings, or start with --accept-durability-risk to run anyway",
        .0.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n")
    )]
    DurabilityRisk(Vec<String>),
}

/// Loads the workflow definitions from `dir`, refusing on any invalid file.
pub fn load_workflows(dir: &Path) -> Result<Registry, StartupError> {
    Registry::load(dir).map_err(StartupError::Workflows)
}

/// Opens the database, migrates it and checks it against the loaded workflows: an [`App`] with
/// no test clock, identity provider or audit key.
pub async fn prepare(
    store_options: &StoreOptions,
    workflows: Registry,
    clock: Arc<dyn Clock>,
) -> Result<App, StartupError> {
    open(store_options, workflows, clock)
        .await
        .map(AppBuilder::build)
}

/// [`prepare`], leaving the app to be completed with the instance's settings (test clock,
/// identity provider, audit keys) and built.
pub async fn open(
    store_options: &StoreOptions,
    workflows: Registry,
    clock: Arc<dyn Clock>,
) -> Result<AppBuilder, StartupError> {
    let store = Store::connect(store_options)
        .await
        .map_err(|e| match e.fault() {
            Some(DbFault::ReadOnly) | Some(DbFault::CannotOpen) => StartupError::NotWritable(e),
            _ => StartupError::Database(e),
        })?;
    let risks = store
        .durability_risks()
        .await
        .map_err(StartupError::Database)?;
    if !risks.is_empty() {
        if !store_options.accept_durability_risk {
            store.close().await.ok();
            return Err(StartupError::DurabilityRisk(risks));
        }
        for risk in &risks {
            tracing::warn!(risk = %risk, "running on a durability risk (--accept-durability-risk)");
        }
    }
    store.migrate().await.map_err(StartupError::Migrations)?;
    let definitions: Vec<(String, u32, String)> = workflows
        .all()
        .map(|w| (w.id.clone(), w.version, w.source_hash.clone()))
        .collect();
    let changed = workflows::register(store.conn(), &definitions, clock.now())
        .await
        .map_err(StartupError::Database)?;
    if let Some(c) = changed.into_iter().next() {
        return Err(StartupError::DefinitionChanged(c.workflow_id, c.version));
    }
    for (id, version) in cases::pinned_workflows(store.conn())
        .await
        .map_err(StartupError::Database)?
    {
        if workflows.get(&id, Some(version)).is_none() {
            return Err(StartupError::PinnedWorkflowMissing(id, version));
        }
    }
    Ok(App::builder(store, workflows, clock))
}
