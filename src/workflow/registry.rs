//! The set of loaded workflow definitions, by id and version.

use super::definition::Workflow;
use super::load::{LoadError, load_dir};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// All loaded definitions. Cases name (id, version); the latest version serves new cases.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    by_id: BTreeMap<String, BTreeMap<u32, Arc<Workflow>>>,
}

impl Registry {
    /// Loads and checks every definition in `dir`.
    pub fn load(dir: &Path) -> Result<Registry, Vec<LoadError>> {
        Ok(Registry::from_workflows(load_dir(dir)?))
    }

    /// A registry of already checked definitions.
    pub fn from_workflows(workflows: Vec<Workflow>) -> Registry {
        let mut by_id: BTreeMap<String, BTreeMap<u32, Arc<Workflow>>> = BTreeMap::new();
        for w in workflows {
            by_id
                .entry(w.id.clone())
                .or_default()
                .insert(w.version, Arc::new(w));
        }
        Registry { by_id }
    }

    /// A definition by id and version, or the latest version of `id` when `version` is `None`.
    pub fn get(&self, id: &str, version: Option<u32>) -> Option<Arc<Workflow>> {
        let versions = self.by_id.get(id)?;
        match version {
            Some(v) => versions.get(&v).cloned(),
            None => versions.values().next_back().cloned(),
        }
    }

    /// Every definition, by id then version.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.by_id.values().flat_map(|v| v.values())
    }
}
