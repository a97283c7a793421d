//! The `trm` command: serve, migrate, schema, workflows check/diagram, token issue/revoke/
//! revoke-jwt, directory.

use clap::{Parser, Subcommand};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use trm::clock::{Clock, SystemClock};
use trm::config::{
    DatabaseConfig, ServeConfig, WorkflowsConfig, default_audit_key_file, parse_agency_kind,
    parse_role,
};
use trm::domain::{AgencyKind, Role};
use trm::server::{self, HttpOptions};
use trm::service::directory::{self as directory, Actor, NewAgency, NewUser};
use trm::service::oidc::Oidc;
use trm::service::{App, auth, demo};
use trm::startup;
use trm::store::StoreOptions;
use trm::store::identity::JwtRevocation;
use trm::workflow::{Registry, diagram};
use uuid::Uuid;

/// TRM: workflow engine for transnational referral mechanisms.
#[derive(Parser)]
#[command(name = "trm", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GraphQL service.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Write a consistent copy of a SQLite database while the service runs (online backup;
    /// `VACUUM INTO`). For PostgreSQL use `pg_dump -Fc` (see the README's operations section).
    Backup {
        #[command(flatten)]
        db: DatabaseConfig,
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Check or draw workflow definitions.
    Workflows {
        #[command(subcommand)]
        command: WorkflowsCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Read and manage the directory: countries, agencies, focal points, users.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Check the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
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
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// List the countries with their focal points.
    Countries {
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// List agencies: id, country, kind, name (and the country an embassy represents).
    Agencies {
        /// Only agencies in this country (ISO 3166-1 alpha-2, e.g. IT).
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Add an agency and print its id.
    AddAgency {
        /// The agency's name.
        #[arg(long)]
        name: String,
        /// Kind, e.g. NGO, POLICE, NATIONAL_FOCAL_POINT, EMBASSY_CONSULATE.
        #[arg(long, value_parser = parse_agency_kind)]
        kind: AgencyKind,
        /// Where it sits (ISO 3166-1 alpha-2, e.g. IT).
        #[arg(long)]
        country: String,
        /// For an embassy or consulate: the state it represents (ISO 3166-1 alpha-2).
        #[arg(long)]
        represents: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Make an agency of a country that country's national focal point.
    SetFocalPoint {
        /// ISO 3166-1 alpha-2, e.g. IT.
        #[arg(long)]
        country: String,
        /// The agency's id (as printed by `add-agency` and `agencies`).
        #[arg(long)]
        agency: Uuid,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Add a user to an agency and print the user's id (then: `trm token issue --user ...`).
    AddUser {
        /// Unique; lower-case letters, digits, '.', '-' and '_' (e.g. it.shelter).
        #[arg(long)]
        username: String,
        /// The name shown to others.
        #[arg(long)]
        display_name: String,
        /// The agency's id.
        #[arg(long)]
        agency: Uuid,
        /// A role, e.g. CASE_WORKER; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
}

#[derive(Subcommand)]
enum WorkflowsCommand {
    /// Validate every file in the workflows directory; non-zero exit with file and reason on error.
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a fresh bearer token for an existing user.
    Issue {
        /// Username, e.g. it.shelter.
        #[arg(long)]
        user: String,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Revoke TRM tokens: one (--token) or every token of a user (--user). Revoked tokens are
    /// refused at once, on every instance.
    Revoke {
        /// The token to revoke (trm_...).
        #[arg(long, required_unless_present = "user", conflicts_with = "user")]
        token: Option<String>,
        /// Revoke every token of this user (username, e.g. it.shelter).
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Revoke JWT access tokens of the identity provider: one (--jti) or every token of a
    /// subject issued until now (--subject). Revoked tokens are refused at once, on every
    /// instance.
    RevokeJwt {
        /// The token's `jti` claim.
        #[arg(long, required_unless_present = "subject", conflicts_with = "subject")]
        jti: Option<String>,
        /// The subject (`sub` claim) whose tokens issued until now are revoked.
        #[arg(long)]
        subject: Option<String>,
        /// Only tokens of this issuer (`iss`); tokens of any issuer when omitted.
        #[arg(long)]
        issuer: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate { db } => {
            let store = trm::store::Store::connect(&StoreOptions::from(&db))
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            println!("migrations applied");
            Ok(())
        }
        Command::Backup { db, out } => {
            let store = trm::store::Store::connect(&StoreOptions::from(&db))
                .await
                .map_err(|e| e.to_string())?;
            store.backup_to(&out).await.map_err(|e| e.to_string())?;
            store.close().await.ok();
            println!("backup written to {}", out.display());
            Ok(())
        }
        Command::Schema => {
            print!("{}", trm::api::sdl());
            Ok(())
        }
        Command::Workflows {
            command:
                WorkflowsCommand::Check {
                    dir,
                    coverage,
                    require_full_coverage,
                },
        } => {
            let registry = startup::load_workflows(&dir.path).map_err(|e| e.to_string())?;
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
            if let Some(dir) = coverage {
                let uncovered = report_coverage(&registry, &dir)?;
                if require_full_coverage && uncovered > 0 {
                    return Err(format!(
                        "{uncovered} transitions are not exercised by any test"
                    ));
                }
            }
            Ok(())
        }
        Command::Workflows {
            command: WorkflowsCommand::Permissions { dir },
        } => {
            let registry = startup::load_workflows(&dir.path).map_err(|e| e.to_string())?;
            let policies = registry
                .policies()
                .ok_or_else(|| "no access policies could be loaded".to_string())?;
            print!("{}", policies.matrix_markdown());
            Ok(())
        }
        Command::Workflows {
            command:
                WorkflowsCommand::Diagram {
                    id,
                    version,
                    language,
                    dir,
                },
        } => {
            let registry = startup::load_workflows(&dir.path).map_err(|e| e.to_string())?;
            let w = registry
                .get(&id, version)
                .ok_or_else(|| format!("no workflow {id} in {}", dir.path.display()))?;
            print!("{}", diagram::mermaid(&w, &language));
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Issue { user, db },
        } => {
            let app = directory_app(&db).await?;
            let token = auth::issue_token(&app, &user)
                .await
                .map_err(|e| format!("{e}"))?;
            println!("{token}");
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Revoke { token, user, db },
        } => {
            let app = directory_app(&db).await?;
            let failed = |e: trm::service::ServiceError| e.to_string();
            match (token, user) {
                (Some(token), _) => {
                    if !auth::revoke_token(&app, &token).await.map_err(failed)? {
                        return Err("no live token matches (unknown or already revoked)".into());
                    }
                    println!("token revoked");
                }
                (None, Some(user)) => {
                    let n = auth::revoke_user_tokens(&app, &user)
                        .await
                        .map_err(failed)?;
                    println!("{n} token(s) of {user} revoked");
                }
                (None, None) => return Err("give --token or --user".into()),
            }
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::RevokeJwt {
                    jti,
                    subject,
                    issuer,
                    db,
                },
        } => {
            let app = directory_app(&db).await?;
            let revocation = match (jti, subject) {
                (Some(jti), _) => JwtRevocation::Token { jti },
                (None, Some(subject)) => JwtRevocation::Subject {
                    subject,
                    issued_before: chrono::Utc::now(),
                },
                (None, None) => return Err("give --jti or --subject".into()),
            };
            auth::revoke_jwt(&app, issuer.as_deref(), &revocation)
                .await
                .map_err(|e| e.to_string())?;
            match revocation {
                JwtRevocation::Token { .. } => println!("JWT revoked"),
                JwtRevocation::Subject { .. } => {
                    println!("JWTs of the subject issued until now revoked")
                }
            }
            Ok(())
        }
        Command::Directory { command } => run_directory(command).await,
        Command::Audit { command } => run_audit(command).await,
    }
}

/// `trm audit ...`.
async fn run_audit(command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::Verify {
            db,
            workflows,
            audit_key_file,
            trusted_keys,
        } => {
            let mut trusted = trm::config::public_keys(&trusted_keys).map_err(|e| e.to_string())?;
            if let Some(path) = audit_key_file {
                let key = trm::audit::AuditKey::load(&path).map_err(|e| e.to_string())?;
                trusted.push(key.public());
            }
            let registry = startup::load_workflows(&workflows.path).map_err(|e| e.to_string())?;
            let app = directory_app(&db).await?;
            let report = trm::audit::verify::verify(app.store.conn(), &registry, &trusted)
                .await
                .map_err(|e| e.to_string())?;
            match report.first_problem {
                None => {
                    println!(
                        "OK: {} events, log size {}, root {}",
                        report.checked_events, report.tree_size, report.root
                    );
                    Ok(())
                }
                Some(problem) => Err(format!("audit verification FAILED: {problem}")),
            }
        }
        AuditCommand::Export {
            db,
            workflows,
            case,
            out,
            html,
            audit_key_file,
        } => {
            let registry = startup::load_workflows(&workflows.path).map_err(|e| e.to_string())?;
            let key_file = audit_key_file
                .or_else(|| default_audit_key_file(&db.database_url).filter(|p| p.exists()));
            let audit_key = match key_file {
                Some(path) => Some(trm::audit::AuditKey::load(&path).map_err(|e| e.to_string())?),
                None => None,
            };
            let app = open(&db, registry, Arc::new(SystemClock))
                .await?
                .audit_key(audit_key)
                .build();
            let record = trm::store::cases::find_by_reference(
                app.store.conn(),
                trm::access::CaseScope::All,
                &case,
            )
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no case {case}"))?;
            let file = trm::service::audit::build_case_file(&app, &record)
                .await
                .map_err(|e| e.to_string())?;
            let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
            std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))?;
            println!("{} events written to {}", file.events.len(), out.display());
            if file.checkpoint.is_none() {
                println!(
                    "WARNING: no signed checkpoint (no audit key): the file cannot be verified"
                );
            }
            if let Some(html_path) = html {
                std::fs::write(&html_path, trm::audit::printable::render(&file))
                    .map_err(|e| format!("{}: {e}", html_path.display()))?;
                println!("printable timeline written to {}", html_path.display());
            }
            Ok(())
        }
        AuditCommand::VerifyFile { file, trusted_keys } => {
            let trusted = trm::config::public_keys(&trusted_keys).map_err(|e| e.to_string())?;
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let case_file: trm::audit::export::CaseFile = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a case file: {e}", file.display()))?;
            let report = trm::audit::export::verify_file(&case_file, &trusted);
            match (&report.first_problem, &report.anchored_to) {
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
                (Some(problem), _) => Err(format!("case file verification FAILED: {problem}")),
                (None, None) => Err("case file verification FAILED: not anchored".into()),
            }
        }
    }
}

/// The key that signs audit checkpoints. `--audit-key-file` is read, or generated if missing
/// (never with --production, where a missing file is an error). Without it, SQLite uses
/// `trm-audit.key` next to the database file the same way, except that with --production a
/// missing default file only means no checkpoints (with a warning); PostgreSQL, whose instances
/// must share one key, signs no checkpoints without it.
fn audit_key(args: &ServeConfig) -> Result<Option<trm::audit::AuditKey>, String> {
    let (path, required) = match &args.audit_key_file {
        Some(path) => (Some(path.clone()), true),
        None => (default_audit_key_file(&args.db.database_url), false),
    };
    let Some(path) = path else {
        tracing::warn!("no --audit-key-file: this instance signs no audit checkpoints");
        return Ok(None);
    };
    if args.production && !required && !path.exists() {
        tracing::warn!(
            "no --audit-key-file and no {}: this instance signs no audit checkpoints",
            path.display()
        );
        return Ok(None);
    }
    let key = trm::audit::AuditKey::load_or_generate(&path, !args.production)
        .map_err(|e| e.to_string())?;
    println!(
        "Audit checkpoints signed with key {} ({})",
        key.key_id(),
        path.display()
    );
    Ok(Some(key))
}

/// Opens and migrates the database for commands that need the directory only, not the
/// workflows (token issue, directory).
async fn directory_app(db: &DatabaseConfig) -> Result<App, String> {
    let store = trm::store::Store::connect(&StoreOptions::from(db))
        .await
        .map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    Ok(App::builder(store, Registry::default(), Arc::new(SystemClock)).build())
}

/// `trm directory ...`: plain-text listings and changes made as the operator.
async fn run_directory(command: DirectoryCommand) -> Result<(), String> {
    let failed = |e: trm::service::ServiceError| e.to_string();
    match command {
        DirectoryCommand::Countries { db } => {
            let app = directory_app(&db).await?;
            for c in directory::countries(&app).await.map_err(failed)? {
                let focal = match directory::focal_point(&app, &c.code)
                    .await
                    .map_err(failed)?
                {
                    Some(a) => format!("focal point: {} [{}]", a.name, a.id),
                    None => "no focal point".to_string(),
                };
                println!("{}  {}  {focal}", c.code, c.name);
            }
        }
        DirectoryCommand::Agencies { country, db } => {
            let app = directory_app(&db).await?;
            for a in directory::find_agencies(&app, country.as_deref(), None)
                .await
                .map_err(failed)?
            {
                let represents = a
                    .represented_country
                    .map(|c| format!("  (represents {c})"))
                    .unwrap_or_default();
                println!(
                    "{}  {}  {}  {}{represents}",
                    a.id, a.country, a.kind, a.name
                );
            }
        }
        DirectoryCommand::AddAgency {
            name,
            kind,
            country,
            represents,
            db,
        } => {
            let app = directory_app(&db).await?;
            let agency = directory::create_agency(
                &app,
                Actor::Operator,
                NewAgency {
                    name,
                    kind,
                    country,
                    represented_country: represents,
                },
            )
            .await
            .map_err(failed)?;
            println!("{}", agency.id);
        }
        DirectoryCommand::SetFocalPoint {
            country,
            agency,
            db,
        } => {
            let app = directory_app(&db).await?;
            let c = directory::set_focal_point(&app, Actor::Operator, &country, agency)
                .await
                .map_err(failed)?;
            println!("focal point of {} ({}): {agency}", c.code, c.name);
        }
        DirectoryCommand::AddUser {
            username,
            display_name,
            agency,
            roles,
            db,
        } => {
            let app = directory_app(&db).await?;
            let user = directory::create_user(
                &app,
                Actor::Operator,
                NewUser {
                    username,
                    display_name,
                    agency_id: agency,
                    roles,
                },
            )
            .await
            .map_err(failed)?;
            println!("{}", user.id);
        }
    }
    Ok(())
}

/// Prints, per workflow, how many transitions the test suite fired and which it never did.
/// Returns the number of transitions not exercised.
fn report_coverage(registry: &Registry, dir: &std::path::Path) -> Result<usize, String> {
    let mut fired = std::collections::BTreeSet::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
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

/// Writes a file only its owner can read (it holds bearer tokens).
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())
}

async fn open(
    db: &DatabaseConfig,
    registry: Registry,
    clock: Arc<dyn Clock>,
) -> Result<trm::service::AppBuilder, String> {
    startup::open(&StoreOptions::from(db), registry, clock)
        .await
        .map_err(|e| e.to_string())
}

async fn serve(args: ServeConfig) -> Result<(), String> {
    let shutdown = server::shutdown_signal();
    server::survive_file_size_limit();
    let oidc_config = args.oidc_config().map_err(|e| e.to_string())?;
    let registry = startup::load_workflows(&args.workflows.path).map_err(|e| e.to_string())?;
    let clocks = args.clocks().map_err(|e| e.to_string())?;
    let builder = open(&args.db, registry, clocks.clock).await?;
    let audit_key = audit_key(&args)?;
    let trusted_audit_keys = args.trusted_audit_keys().map_err(|e| e.to_string())?;
    let oidc = match oidc_config {
        Some(config) => {
            let issuer = config.issuer.clone();
            let oidc = Oidc::start(config, args.production)
                .await
                .map_err(|e| e.to_string())?;
            println!("OIDC: accepting JWT access tokens of {issuer}");
            Some(oidc)
        }
        None => None,
    };
    let app = builder
        .test_clock(clocks.test_clock)
        .audit_key(audit_key)
        .trusted_audit_keys(trusted_audit_keys)
        .oidc(oidc)
        .build();
    if app.test_clock().is_some() {
        println!("Test clock enabled: the advanceTestClock mutation moves this instance's time");
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|e| format!("cannot bind {}: {e}", args.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if args.demo {
        let tokens = demo::seed(&app)
            .await
            .map_err(|e| format!("cannot seed demo data: {e}"))?;
        println!("Demo tokens (bearer tokens; new ones are issued at every start):");
        for (user, token) in &tokens {
            println!("  {user:<24} {token}");
        }
        if let Some(path) = &args.demo_tokens {
            let map: BTreeMap<&str, &str> = tokens
                .iter()
                .map(|(u, t)| (u.as_str(), t.as_str()))
                .collect();
            let json = serde_json::to_string_pretty(&map).map_err(|e| e.to_string())?;
            write_private(path, &json)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("Demo tokens written to {}", path.display());
        }
    }
    let options = HttpOptions::from(&args);
    if let Some(metrics_bind) = args.metrics_bind() {
        let listener = tokio::net::TcpListener::bind(metrics_bind)
            .await
            .map_err(|e| format!("cannot bind {metrics_bind}: {e}"))?;
        let metrics_addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("Metrics: http://{metrics_addr}/metrics");
        let metrics = options.metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, server::metrics_router(metrics)).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    server::install_panic_hook();
    if options.graphiql {
        println!("GraphiQL: http://{addr}/graphql");
    }
    println!("TRM listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let store = app.store.clone();
    if let Some(interval) = args.scheduler_interval() {
        tokio::spawn(trm::service::timers::run_scheduler(app.clone(), interval));
    }
    server::serve(listener, app, &options, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
