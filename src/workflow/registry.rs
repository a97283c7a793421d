//! The set of loaded workflow definitions, by id and version.

use super::calendar::{Calendar, RawCalendar};
use super::definition::Workflow;
use super::load::{LoadError, load_dir};
use crate::access::policy::Policies;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

/// All loaded definitions. Cases name (id, version); the latest version serves new cases.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    by_id: BTreeMap<String, BTreeMap<u32, Arc<Workflow>>>,
    calendars: BTreeMap<String, Calendar>,
    default_calendar: Calendar,
    /// The access policies of `dir/policies`; the built-in ones when the directory has none.
    policies: Option<Arc<Policies>>,
    /// Declarations nothing executes in versions shipped before that check (refused elsewhere).
    warnings: Vec<LoadError>,
}

/// The policies shipped with TRM (`workflows/policies/access.cedar`), for workflow directories
/// without their own.
static BUILTIN_POLICIES: LazyLock<Option<Policies>> = LazyLock::new(|| {
    Policies::parse(
        "built-in access.cedar",
        include_str!("../../workflows/policies/access.cedar"),
    )
    .ok()
});

impl Registry {
    /// Loads and checks every definition in `dir`, the calendars in `dir/calendars` and the
    /// access policies in `dir/policies`.
    pub fn load(dir: &Path) -> Result<Registry, Vec<LoadError>> {
        let workflows = load_dir(dir);
        let calendars = load_calendars(&dir.join("calendars"));
        let policy_dir = dir.join("policies");
        let policies = if policy_dir.is_dir() {
            Policies::load(&policy_dir)
                .map(|p| Some(Arc::new(p)))
                .map_err(|e| {
                    vec![LoadError {
                        file: e.file,
                        line: None,
                        message: e.message,
                    }]
                })
        } else {
            Ok(None)
        };
        match (workflows, calendars, policies) {
            (Ok(w), Ok(c), Ok(p)) => {
                let mut registry = Registry::from_workflows(w.workflows);
                registry.calendars = c;
                registry.policies = p;
                registry.warnings = w.warnings;
                Ok(registry)
            }
            (w, c, p) => Err(w
                .err()
                .unwrap_or_default()
                .into_iter()
                .chain(c.err().unwrap_or_default())
                .chain(p.err().unwrap_or_default())
                .collect()),
        }
    }

    /// The access policies in force (`None` only if the built-in ones failed to parse, which
    /// a unit test rules out; callers then refuse everything).
    pub fn policies(&self) -> Option<&Policies> {
        self.policies.as_deref().or(BUILTIN_POLICIES.as_ref())
    }

    /// Declarations that nothing executes in the versions shipped before that check, which stay
    /// loaded for the cases pinned to them (the same in any other version is refused).
    pub fn warnings(&self) -> &[LoadError] {
        &self.warnings
    }

    /// The working-day calendar of `country` (weekends only where the country has none).
    pub fn calendar(&self, country: &str) -> &Calendar {
        self.calendars
            .get(country)
            .unwrap_or(&self.default_calendar)
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
        Registry {
            by_id,
            ..Registry::default()
        }
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

/// Loads `<dir>/*.toml` calendars; a missing directory means no calendars.
fn load_calendars(dir: &Path) -> Result<BTreeMap<String, Calendar>, Vec<LoadError>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(BTreeMap::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    let mut calendars = BTreeMap::new();
    let mut errors = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str::<RawCalendar>(&text).map_err(|e| e.to_string()))
            .and_then(RawCalendar::build);
        match parsed {
            Ok((country, calendar)) => {
                calendars.insert(country, calendar);
            }
            Err(message) => errors.push(LoadError {
                file,
                line: None,
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(calendars)
    } else {
        Err(errors)
    }
}
