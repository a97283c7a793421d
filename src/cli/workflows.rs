//! `trm workflows check | permissions | diagram`: the definitions without a database.

use super::error::CliError;
use crate::config::WorkflowsConfig;
use crate::startup;
use crate::workflow::{Registry, diagram};
use clap::Subcommand;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum WorkflowsCommand {
    /// Validate every file in the workflows directory; non-zero exit with file and reason on error.
    /// A declaration that nothing carries out is an error, a warning in the versions shipped
    /// before that check.
    Check {
        #[command(flatten)]
        dir: WorkflowsConfig,
        /// Directory of transition-coverage files written by the test suite
        /// (target/tmp/transition-coverage): report transitions no test exercised.
        #[arg(long)]
        coverage: Option<PathBuf>,
        /// With --coverage: fail when some transition is not exercised.
        #[arg(long, requires = "coverage")]
        require_full_coverage: bool,
    },
    /// Print the permission matrix (Markdown) generated from the access policies
    /// (`<dir>/policies/*.cedar`).
    Permissions {
        #[command(flatten)]
        dir: WorkflowsConfig,
    },
    /// Print a workflow as a Mermaid state diagram.
    Diagram {
        /// Workflow id, e.g. trm-adult.
        id: String,
        /// Version (latest when omitted).
        #[arg(long)]
        version: Option<u32>,
        /// Label language (ISO 639-1).
        #[arg(long, default_value = "en")]
        language: String,
        #[command(flatten)]
        dir: WorkflowsConfig,
    },
}

pub(super) fn run(command: WorkflowsCommand) -> Result<(), CliError> {
    match command {
        WorkflowsCommand::Check {
            dir,
            coverage,
            require_full_coverage,
        } => {
            let registry = startup::load_workflows(&dir.path)?;
            for w in registry.all() {
                println!(
                    "ok  {} v{}  ({}: {} tracks, {} states, {} transitions; every state reachable, no dead ends)",
                    w.id,
                    w.version,
                    w.source_path,
                    w.tracks.len(),
                    w.states.len(),
                    w.transitions.len()
                );
            }
            for warning in registry.warnings() {
                println!(
                    "warn  {warning} (in a version shipped before this check, kept for the \
                     cases pinned to it; refused in any other version)"
                );
            }
            if let Some(dir) = coverage {
                let uncovered = report_coverage(&registry, &dir)?;
                if require_full_coverage && uncovered > 0 {
                    return Err(CliError::Uncovered(uncovered));
                }
            }
            Ok(())
        }
        WorkflowsCommand::Permissions { dir } => {
            let registry = startup::load_workflows(&dir.path)?;
            let policies = registry.policies().ok_or(CliError::NoPolicies)?;
            print!("{}", policies.matrix_markdown());
            Ok(())
        }
        WorkflowsCommand::Diagram {
            id,
            version,
            language,
            dir,
        } => {
            let registry = startup::load_workflows(&dir.path)?;
            let Some(w) = registry.get(&id, version) else {
                return Err(CliError::NoWorkflow { id, dir: dir.path });
            };
            print!("{}", diagram::mermaid(&w, &language));
            Ok(())
        }
    }
}

/// Prints, per workflow, how many transitions the test suite fired and which it never did.
/// Returns the number of transitions not exercised.
fn report_coverage(registry: &Registry, dir: &Path) -> Result<usize, CliError> {
    let mut fired = BTreeSet::new();
    let entries = std::fs::read_dir(dir).map_err(|source| CliError::CannotRead {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.filter_map(Result::ok) {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(w), Some(v), Some(t)) = (parts.next(), parts.next(), parts.next()) {
                fired.insert((w.to_string(), v.to_string(), t.to_string()));
            }
        }
    }
    let mut uncovered = 0;
    for w in registry.all() {
        let missing: Vec<&str> = w
            .transitions
            .iter()
            .filter(|t| !fired.contains(&(w.id.clone(), w.version.to_string(), t.id.clone())))
            .map(|t| t.id.as_str())
            .collect();
        let total = w.transitions.len();
        println!(
            "coverage  {} v{}: {}/{} transitions exercised by tests",
            w.id,
            w.version,
            total - missing.len(),
            total
        );
        if !missing.is_empty() {
            println!("          not exercised: {}", missing.join(", "));
        }
        uncovered += missing.len();
    }
    Ok(uncovered)
}
