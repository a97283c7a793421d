//! `trm audit verify | export | verify-file | invariants`: the tamper-evident audit log,
//! checked and handed to an auditor, and the case's protections checked over the database.

use super::error::CliError;
use super::open::directory_app;
use crate::access::CaseScope;
use crate::audit::AuditKey;
use crate::audit::export::CaseFile;
use crate::clock::SystemClock;
use crate::config::{DatabaseConfig, WorkflowsConfig, default_audit_key_file, public_keys};
use crate::startup;
use crate::store::StoreOptions;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Recompute every case's hash chain, the Merkle log and every checkpoint; print OK or the
    /// first bad record and exit non-zero.
    Verify {
        #[command(flatten)]
        db: DatabaseConfig,
        #[command(flatten)]
        workflows: WorkflowsConfig,
        /// Also require checkpoints to be signed by this key (the `--audit-key-file` of serve).
        #[arg(long, env = "TRM_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        /// Also trust checkpoints signed by this public key (hex; e.g. the key before a
        /// rotation). Repeat for several.
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
    },
    /// Write a case's file for an auditor: JSON with every event, its inclusion proof and the
    /// signed checkpoint they lead to (check it anywhere with `trm audit verify-file`), and
    /// optionally a printable HTML timeline.
    Export {
        #[command(flatten)]
        db: DatabaseConfig,
        #[command(flatten)]
        workflows: WorkflowsConfig,
        /// The case's reference, e.g. IT-2026-000001.
        #[arg(long)]
        case: String,
        /// Where to write the JSON case file.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the printable timeline (HTML).
        #[arg(long)]
        html: Option<PathBuf>,
        /// Key to sign a checkpoint with when none covers the case yet [default: trm-audit.key
        /// next to the SQLite file, if it exists].
        #[arg(long, env = "TRM_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
    },
    /// Check a case file offline (no database): the checkpoint's signature, every event's hash
    /// and chain link, and every inclusion proof. Exit non-zero naming the first problem.
    VerifyFile {
        /// The JSON case file.
        file: PathBuf,
        /// Require the checkpoint to be signed by this public key (hex, as published by the
        /// service operator). Repeat for several.
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
    },
    /// Re-check every case's protections over the whole database (no origin-country authority
    /// with access to an asylum seeker's case; nothing live on a withdrawn consent, a child's
    /// own consent or a guardian's after 18; nothing open on a closed or deceased person's
    /// case...); print OK or the first violating case and exit non-zero.
    Invariants {
        #[command(flatten)]
        db: DatabaseConfig,
        #[command(flatten)]
        workflows: WorkflowsConfig,
    },
}

pub(super) async fn run(command: AuditCommand) -> Result<(), CliError> {
    match command {
        AuditCommand::Verify {
            db,
            workflows,
            audit_key_file,
            trusted_keys,
        } => verify(&db, &workflows, audit_key_file.as_deref(), &trusted_keys).await,
        AuditCommand::Export {
            db,
            workflows,
            case,
            out,
            html,
            audit_key_file,
        } => {
            let key_file = audit_key_file
                .or_else(|| default_audit_key_file(&db.database_url).filter(|p| p.exists()));
            export(&db, &workflows, &case, &out, html.as_deref(), key_file).await
        }
        AuditCommand::VerifyFile { file, trusted_keys } => verify_file(&file, &trusted_keys),
        AuditCommand::Invariants { db, workflows } => invariants(&db, &workflows).await,
    }
}

/// `trm audit invariants`.
async fn invariants(db: &DatabaseConfig, workflows: &WorkflowsConfig) -> Result<(), CliError> {
    let registry = startup::load_workflows(&workflows.path)?;
    let builder = startup::open(&StoreOptions::from(db), registry, Arc::new(SystemClock)).await?;
    let app = builder.build();
    match crate::service::protections::check_all(&app).await? {
        (read, None) => {
            println!("OK: {read} cases, every protection holds");
            Ok(())
        }
        (_, Some(violation)) => Err(CliError::InvariantViolated(violation.to_string())),
    }
}

/// `trm audit verify`.
async fn verify(
    db: &DatabaseConfig,
    workflows: &WorkflowsConfig,
    audit_key_file: Option<&Path>,
    trusted_keys: &[String],
) -> Result<(), CliError> {
    let mut trusted = public_keys(trusted_keys)?;
    if let Some(path) = audit_key_file {
        trusted.push(AuditKey::load(path)?.public());
    }
    let registry = startup::load_workflows(&workflows.path)?;
    let app = directory_app(db).await?;
    let report = crate::service::audit_log::verify(&app.store, &registry, &trusted).await?;
    match report.first_problem {
        None => {
            println!(
                "OK: {} events, log size {}, root {}",
                report.checked_events, report.tree_size, report.root
            );
            Ok(())
        }
        Some(problem) => Err(CliError::AuditVerification(problem)),
    }
}

/// `trm audit export`.
async fn export(
    db: &DatabaseConfig,
    workflows: &WorkflowsConfig,
    case: &str,
    out: &Path,
    html: Option<&Path>,
    key_file: Option<PathBuf>,
) -> Result<(), CliError> {
    let registry = startup::load_workflows(&workflows.path)?;
    let builder = startup::open(&StoreOptions::from(db), registry, Arc::new(SystemClock)).await?;
    let audit_key = match key_file {
        Some(path) => Some(AuditKey::load(&path)?),
        None => None,
    };
    let app = builder.audit_key(audit_key).build();
    let record = crate::store::cases::find_by_reference(app.store.conn(), CaseScope::All, case)
        .await?
        .ok_or_else(|| CliError::NoCase(case.to_string()))?;
    let file = crate::service::audit::build_case_file(&app, &record).await?;
    let json = serde_json::to_string_pretty(&file)?;
    write(out, json)?;
    println!("{} events written to {}", file.events.len(), out.display());
    if file.checkpoint.is_none() {
        println!("WARNING: no signed checkpoint (no audit key): the file cannot be verified");
    }
    if let Some(html_path) = html {
        write(html_path, crate::audit::printable::render(&file))?;
        println!("printable timeline written to {}", html_path.display());
    }
    Ok(())
}

/// `trm audit verify-file`.
fn verify_file(path: &Path, trusted_keys: &[String]) -> Result<(), CliError> {
    let trusted = public_keys(trusted_keys)?;
    let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let case_file: CaseFile =
        serde_json::from_str(&text).map_err(|source| CliError::NotACaseFile {
            path: path.to_path_buf(),
            source,
        })?;
    let report = crate::audit::export::verify_file(&case_file, &trusted);
    match (report.first_problem, report.anchored_to) {
        (None, Some((size, key_id))) => {
            println!(
                "OK: case {}: {} events, each in the audit log of size {size} signed by key {key_id}{}",
                case_file.case.reference,
                report.events,
                if trusted.is_empty() {
                    " (no --trusted-key given: compare the key id with the one the operator published)"
                } else {
                    " (trusted)"
                }
            );
            Ok(())
        }
        (Some(problem), _) => Err(CliError::CaseFileVerification(problem)),
        (None, None) => Err(CliError::CaseFileVerification("not anchored".into())),
    }
}

/// Writes `contents` to `path`, naming the file in the error.
fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), CliError> {
    std::fs::write(path, contents).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        source,
    })
}
