//! `trm audit verify | export | verify-file | invariants`: the tamper-evident audit log,
//! checked and handed to an auditor, and the case's protections checked over the database.

use super::error::CliError;
use super::open::directory_app;
use crate::access::CaseScope;
use crate::audit::AuditKey;
use crate::audit::export::CaseFile;
use crate::clock::SystemClock;
use crate::config::{
    DataDirConfig, DatabaseConfig, DefaultAuditKey, WorkflowsConfig, default_audit_key,
    parse_export_purpose, public_keys,
};
use crate::domain::ExportPurpose;
use crate::service::case_file::{ExportRequest, Exporter};
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
        /// Also require checkpoints to be signed by this key (the `--audit-key-file` of serve)
        /// [default: the database's default key in --data-dir, if it exists; otherwise any
        /// valid signature passes unless --trusted-key is given].
        #[arg(long, env = "TRM_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        #[command(flatten)]
        data: DataDirConfig,
        /// Also trust checkpoints signed by this public key (hex; e.g. the key before a
        /// rotation). Repeat for several.
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
    },
    /// Write a case's file for an auditor: JSON with every event, its inclusion proof and the
    /// signed checkpoint they lead to (check it anywhere with `trm audit verify-file`), and
    /// optionally a printable HTML timeline. An export is a disclosure: it needs a purpose, and
    /// is recorded in the case's access log and as a CASE_FILE_EXPORTED event by the service
    /// (the operator has no user in the directory).
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
        /// Why the file is exported, by category: audit, oversight, legal-proceedings,
        /// data-subject-request or other (recorded on the case's event).
        #[arg(long, value_parser = parse_export_purpose)]
        purpose_category: ExportPurpose,
        /// Why, in words (recorded in the case's access log).
        #[arg(long)]
        purpose: String,
        /// Who the file is for (recorded in the case's access log).
        #[arg(long)]
        recipient: Option<String>,
        /// Key to sign a checkpoint with when none covers the case yet [default: the
        /// database's default key in --data-dir, if it exists; a key is never generated here].
        #[arg(long, env = "TRM_AUDIT_KEY_FILE")]
        audit_key_file: Option<PathBuf>,
        #[command(flatten)]
        data: DataDirConfig,
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
            data,
            trusted_keys,
        } => {
            let key_file = match audit_key_file {
                Some(path) => Some(path),
                None => existing_default_key(&data, &db)?,
            };
            verify(&db, &workflows, key_file.as_deref(), &trusted_keys).await
        }
        AuditCommand::Export {
            db,
            workflows,
            case,
            out,
            html,
            purpose_category,
            purpose,
            recipient,
            audit_key_file,
            data,
        } => {
            let key_file = match audit_key_file {
                Some(path) => Some(path),
                None => existing_default_key(&data, &db)?,
            };
            let request = ExportRequest {
                category: purpose_category,
                purpose,
                recipient,
            };
            let files = (out.as_path(), html.as_deref());
            export(&db, &workflows, &case, &request, files, key_file).await
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
            let cases = if read == 1 { "case" } else { "cases" };
            println!("OK: {read} {cases}, every protection holds");
            Ok(())
        }
        (_, Some(violation)) => Err(CliError::InvariantViolated(violation.to_string())),
    }
}

/// The database's default audit key (the one `trm serve` uses without `--audit-key-file`),
/// when it exists.
fn existing_default_key(
    data: &DataDirConfig,
    db: &DatabaseConfig,
) -> Result<Option<PathBuf>, CliError> {
    Ok(
        match default_audit_key(data.data_dir.as_deref(), &db.database_url)? {
            DefaultAuditKey::File(path) if path.exists() => Some(path),
            _ => None,
        },
    )
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
        let key = AuditKey::load(path)?;
        println!(
            "Checkpoints must be signed by key {} ({}){}",
            key.key_id(),
            path.display(),
            if trusted.is_empty() {
                ""
            } else {
                " or a --trusted-key"
            }
        );
        trusted.push(key.public());
    }
    let registry = std::sync::Arc::new(startup::load_workflows(&workflows.path)?);
    let app = directory_app(db).await?;
    let report = crate::service::audit_verify::verify(&app.store, &registry, &trusted).await?;
    match report.first_problem {
        None => {
            println!(
                "OK: {} events, log size {}, root {}",
                report.checked_events, report.tree_size, report.root
            );
            if report.pending > 0 {
                // Changes committed while the verification ran: checked, not yet in the tree.
                println!(
                    "{} leaves were still waiting for their position in the log",
                    report.pending
                );
            }
            Ok(())
        }
        Some(problem) => Err(CliError::AuditVerification(problem)),
    }
}

/// `trm audit export`: records the export (access log and case event, as the service), then
/// writes the file and the printable timeline (`files`: JSON, HTML).
async fn export(
    db: &DatabaseConfig,
    workflows: &WorkflowsConfig,
    case: &str,
    request: &ExportRequest,
    (out, html): (&Path, Option<&Path>),
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
    // The files are created first: an export that cannot be written is not recorded.
    let mut out_file = create(out)?;
    let mut html_file = html
        .map(|path| create(path).map(|f| (path, f)))
        .transpose()?;
    let exported =
        crate::service::case_file::export(&app, Exporter::Operator, record.id, request).await?;
    let file = exported.file;
    let json = serde_json::to_string_pretty(&file)?;
    write(out, &mut out_file, json)?;
    println!(
        "{} events written to {} (the export is recorded on the case and in its access log)",
        file.events.len(),
        out.display()
    );
    if file.checkpoint.is_none() {
        println!(
            "WARNING: no signed checkpoint (no audit key: give the --audit-key-file of serve): \
             the file cannot be verified"
        );
    }
    if let Some((html_path, html_file)) = &mut html_file {
        let page = crate::audit::printable::render(&file, &exported.verification);
        write(html_path, html_file, page)?;
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

/// Creates (or truncates) the file at `path`, naming it in the error.
fn create(path: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::create(path).map_err(|source| CliError::File {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `contents` to `file` (created at `path`), naming the file in the error.
fn write(
    path: &Path,
    file: &mut std::fs::File,
    contents: impl AsRef<[u8]>,
) -> Result<(), CliError> {
    use std::io::Write;
    file.write_all(contents.as_ref())
        .and_then(|()| file.sync_all())
        .map_err(|source| CliError::File {
            path: path.to_path_buf(),
            source,
        })
}
