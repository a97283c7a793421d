//! The `trm` command: serve, migrate, schema, workflows check/diagram, token issue/revoke/
//! revoke-jwt, directory.

use clap::{Args, Parser, Subcommand};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use trm::clock::{Clock, MovableClock, SystemClock, TestClock};
use trm::domain::{AgencyKind, Role};
use trm::server::ApiLimits;
use trm::server::{self, HttpOptions};
use trm::service::directory::{self as directory, Actor, NewAgency, NewUser};
use trm::service::oidc::{self, JwksSource, Oidc, OidcConfig};
use trm::service::{App, auth, demo};
use trm::startup;
use trm::store::identity::JwtRevocation;
use trm::store::{SqliteSync, StoreOptions};
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
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write a consistent copy of a SQLite database while the service runs (online backup;
    /// `VACUUM INTO`). For PostgreSQL use `pg_dump -Fc` (see the README's operations section).
    Backup {
        #[command(flatten)]
        db: DbArgs,
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
        db: DbArgs,
        #[command(flatten)]
        workflows: WorkflowDir,
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
        db: DbArgs,
        #[command(flatten)]
        workflows: WorkflowDir,
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
        db: DbArgs,
    },
    /// List agencies: id, country, kind, name (and the country an embassy represents).
    Agencies {
        /// Only agencies in this country (ISO 3166-1 alpha-2, e.g. IT).
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        db: DbArgs,
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
        db: DbArgs,
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
        db: DbArgs,
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
        db: DbArgs,
    },
}

/// Parses an agency kind (`NGO`, `national-focal-point`, ...).
fn parse_agency_kind(value: &str) -> Result<AgencyKind, String> {
    vocabulary_value(value, AgencyKind::ALL)
}

/// Parses a role (`CASE_WORKER`, `case-worker`, ...).
fn parse_role(value: &str) -> Result<Role, String> {
    vocabulary_value(value, Role::ALL)
}

fn vocabulary_value<T>(value: &str, all: &[T]) -> Result<T, String>
where
    T: Copy + std::str::FromStr + std::fmt::Display,
{
    value
        .to_ascii_uppercase()
        .replace('-', "_")
        .parse()
        .map_err(|_| {
            let names: Vec<String> = all.iter().map(ToString::to_string).collect();
            format!("expected one of {}", names.join(", "))
        })
}

#[derive(Subcommand)]
enum WorkflowsCommand {
    /// Validate every file in the workflows directory; non-zero exit with file and reason on error.
    Check {
        #[command(flatten)]
        dir: WorkflowDir,
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
        dir: WorkflowDir,
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
        dir: WorkflowDir,
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
        db: DbArgs,
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
        db: DbArgs,
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
        db: DbArgs,
    },
}

/// Accepting JWT access tokens from an agency identity provider (OIDC), besides TRM tokens.
/// Off unless --oidc-issuer is given.
#[derive(Args)]
struct OidcArgs {
    /// The issuer whose JWT access tokens are accepted (exact `iss`); turns OIDC on and then
    /// needs --oidc-audience and one of --oidc-jwks-url / --oidc-jwks-file.
    #[arg(long, env = "TRM_OIDC_ISSUER")]
    oidc_issuer: Option<String>,
    /// The audience tokens must name in `aud`.
    #[arg(long, env = "TRM_OIDC_AUDIENCE")]
    oidc_audience: Option<String>,
    /// URL of the issuer's JWKS: fetched at start, refreshed periodically and (rate-limited)
    /// when a token names an unknown key id.
    #[arg(long, env = "TRM_OIDC_JWKS_URL")]
    oidc_jwks_url: Option<String>,
    /// File with the issuer's JWKS, read at start.
    #[arg(long, env = "TRM_OIDC_JWKS_FILE")]
    oidc_jwks_file: Option<PathBuf>,
    /// Accepted signature algorithms, comma-separated (RS256, RS384, RS512, PS256, PS384,
    /// PS512, ES256, ES384, EdDSA; `none` and HS* are refused).
    #[arg(long, env = "TRM_OIDC_ALGORITHMS", default_value = "RS256")]
    oidc_algorithms: String,
    /// The claim holding the agency's id (its UUID in the directory).
    #[arg(long, env = "TRM_OIDC_AGENCY_CLAIM", default_value = "trm_agency")]
    oidc_agency_claim: String,
    /// The claim holding the TRM role names (an array of names).
    #[arg(long, env = "TRM_OIDC_ROLES_CLAIM", default_value = "trm_roles")]
    oidc_roles_claim: String,
    /// Roles a JWT may grant, comma-separated; other names in the roles claim are ignored.
    /// ADMINISTRATOR is left out unless listed here.
    #[arg(
        long,
        env = "TRM_OIDC_ALLOWED_ROLES",
        default_value = "CASE_WORKER,SUPERVISOR,FOCAL_POINT,COMPETENT_AUTHORITY,GUARDIAN,AUDITOR"
    )]
    oidc_allowed_roles: String,
    /// Whether tokens must carry `nbf` (it is checked whenever present).
    #[arg(long, env = "TRM_OIDC_REQUIRE_NBF", default_value_t = true, action = clap::ArgAction::Set)]
    oidc_require_nbf: bool,
    /// Tolerated clock skew on `exp`, `nbf` and `iat`, in seconds (at most 300).
    #[arg(long, env = "TRM_OIDC_LEEWAY_SECS", default_value_t = 30)]
    oidc_leeway_secs: u64,
    /// Seconds between fetches of the JWKS URL (0: only at start and on unknown key ids).
    #[arg(long, env = "TRM_OIDC_JWKS_REFRESH_SECS", default_value_t = 300)]
    oidc_jwks_refresh_secs: u64,
}

impl OidcArgs {
    /// The OIDC settings, `None` when OIDC is off; an error for an incomplete or unsafe set.
    fn config(&self) -> Result<Option<OidcConfig>, String> {
        let Some(issuer) = self.oidc_issuer.clone() else {
            if self.oidc_audience.is_some()
                || self.oidc_jwks_url.is_some()
                || self.oidc_jwks_file.is_some()
            {
                return Err(
                    "OIDC: --oidc-issuer is required with the other --oidc-... options".into(),
                );
            }
            return Ok(None);
        };
        let audience = self
            .oidc_audience
            .clone()
            .ok_or("OIDC: --oidc-audience is required with --oidc-issuer")?;
        let jwks = match (&self.oidc_jwks_url, &self.oidc_jwks_file) {
            (Some(url), None) => JwksSource::Url(url.clone()),
            (None, Some(path)) => JwksSource::File(path.clone()),
            _ => {
                return Err(
                    "OIDC: give exactly one of --oidc-jwks-url and --oidc-jwks-file".into(),
                );
            }
        };
        let mut config = OidcConfig::new(issuer, audience, jwks);
        config.algorithms =
            oidc::parse_algorithms(&self.oidc_algorithms).map_err(|e| e.to_string())?;
        config.agency_claim = self.oidc_agency_claim.clone();
        config.roles_claim = self.oidc_roles_claim.clone();
        config.allowed_roles = self
            .oidc_allowed_roles
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| parse_role(r).map_err(|e| format!("OIDC: --oidc-allowed-roles: {r}: {e}")))
            .collect::<Result<_, _>>()?;
        config.require_nbf = self.oidc_require_nbf;
        config.leeway = Duration::from_secs(self.oidc_leeway_secs);
        config.refresh_interval = Duration::from_secs(self.oidc_jwks_refresh_secs);
        Ok(Some(config))
    }
}

#[derive(Args)]
struct WorkflowDir {
    /// Directory of workflow definitions.
    #[arg(long = "workflows", env = "TRM_WORKFLOWS", default_value = "workflows")]
    path: PathBuf,
}

#[derive(Args)]
struct DbArgs {
    /// `sqlite://FILE`, a bare SQLite file path, or `postgres://...`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://trm.db")]
    database_url: String,
    /// Database connection pool size.
    #[arg(long, env = "TRM_DB_POOL", default_value_t = 8)]
    db_pool: u32,
    /// SQLite `synchronous` level. Below `full`, a power loss can lose acknowledged writes,
    /// and TRM refuses to start unless --accept-durability-risk is given.
    #[arg(
        long,
        env = "TRM_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    sqlite_synchronous: SqliteSyncArg,
    /// Start even when the database's settings can lose acknowledged writes (SQLite
    /// `synchronous` below FULL; PostgreSQL `fsync`, `synchronous_commit` or
    /// `full_page_writes` off). For throw-away test databases only.
    #[arg(long, env = "TRM_ACCEPT_DURABILITY_RISK")]
    accept_durability_risk: bool,
}

/// `--sqlite-synchronous` values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum SqliteSyncArg {
    Off,
    Normal,
    Full,
    Extra,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TRM_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    workflows: WorkflowDir,
    /// Seed the demo network (once) and print a token per demo user.
    #[arg(long, env = "TRM_DEMO")]
    demo: bool,
    /// Also write the demo tokens as JSON ({"username": "token"}) to this file.
    #[arg(long, env = "TRM_DEMO_TOKENS", requires = "demo")]
    demo_tokens: Option<PathBuf>,
    /// Serve GraphiQL at GET /graphql [default: true, false with --production].
    #[arg(long, env = "TRM_GRAPHIQL", action = clap::ArgAction::Set)]
    graphiql: Option<bool>,
    /// Allow schema introspection [default: true, false with --production].
    #[arg(long, env = "TRM_INTROSPECTION", action = clap::ArgAction::Set)]
    introspection: Option<bool>,
    /// Maximum query depth.
    #[arg(long, env = "TRM_MAX_DEPTH", default_value_t = 12)]
    max_depth: usize,
    /// Maximum query complexity.
    #[arg(long, env = "TRM_MAX_COMPLEXITY", default_value_t = 2000)]
    max_complexity: usize,
    /// Maximum request time in seconds.
    #[arg(long, env = "TRM_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Let `advanceTestClock` move this instance's time forward (for playing cases through;
    /// refused with --production).
    #[arg(long, env = "TRM_TEST_CLOCK")]
    test_clock: bool,
    /// Start the test clock this many days ahead of the wall clock (for drills of timers that
    /// fell due while the service was down).
    #[arg(
        long,
        env = "TRM_TEST_CLOCK_OFFSET_DAYS",
        requires = "test_clock",
        default_value_t = 0
    )]
    test_clock_offset_days: u32,
    /// Production configuration: refuses settings meant for testing (such as --test-clock) and
    /// switches GraphiQL and introspection off unless they are set explicitly.
    #[arg(long, env = "TRM_PRODUCTION")]
    production: bool,
    /// Seconds between scheduler passes that record elapsed timers (0: no scheduler).
    #[arg(long, env = "TRM_SCHEDULER_INTERVAL_SECS", default_value_t = 30)]
    scheduler_interval_secs: u64,
    /// Ed25519 key that signs audit checkpoints: a 32-byte seed, raw or hex [default:
    /// trm-audit.key next to the SQLite file, or in the working directory; generated there if
    /// missing, except with --production, where the file must exist].
    #[arg(long, env = "TRM_AUDIT_KEY_FILE")]
    audit_key_file: Option<PathBuf>,
    /// After rotating the audit key: the earlier public keys (hex, as `Checkpoint.publicKey`
    /// shows them) whose checkpoints stay trusted. Repeat, or separate with commas.
    #[arg(
        long = "audit-trusted-key",
        env = "TRM_AUDIT_TRUSTED_KEYS",
        value_delimiter = ','
    )]
    audit_trusted_keys: Vec<String>,
    /// Maximum request body size in bytes.
    #[arg(long, env = "TRM_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    #[command(flatten)]
    hardening: HardeningArgs,
    #[command(flatten)]
    oidc: OidcArgs,
}

/// More limits of `trm serve`, and where `/metrics` is served.
#[derive(Args)]
struct HardeningArgs {
    /// Maximum fields in a query, counting every alias and every use of a fragment.
    #[arg(long, env = "TRM_MAX_FIELDS", default_value_t = 500)]
    max_fields: usize,
    /// Maximum length of the query text in bytes.
    #[arg(long, env = "TRM_MAX_QUERY_BYTES", default_value_t = 32 * 1024)]
    max_query_bytes: usize,
    /// "Did you mean ...?" suggestions in validation errors.
    #[arg(long, env = "TRM_SUGGESTIONS", default_value_t = false, action = clap::ArgAction::Set)]
    suggestions: bool,
    /// GraphQL requests per minute per user, per instance (0: no limit).
    #[arg(long, env = "TRM_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    rate_limit_per_minute: u32,
    /// Serve Prometheus metrics at GET /metrics.
    #[arg(long, env = "TRM_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    metrics: bool,
    /// Serve /metrics on this address only (not on --bind).
    #[arg(long, env = "TRM_METRICS_BIND")]
    metrics_bind: Option<SocketAddr>,
}

impl DbArgs {
    fn options(&self) -> StoreOptions {
        StoreOptions {
            url: self.database_url.clone(),
            max_connections: self.db_pool,
            sqlite_synchronous: match self.sqlite_synchronous {
                SqliteSyncArg::Off => SqliteSync::Off,
                SqliteSyncArg::Normal => SqliteSync::Normal,
                SqliteSyncArg::Full => SqliteSync::Full,
                SqliteSyncArg::Extra => SqliteSync::Extra,
            },
            accept_durability_risk: self.accept_durability_risk,
        }
    }
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
            let store = trm::store::Store::connect(&db.options())
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            println!("migrations applied");
            Ok(())
        }
        Command::Backup { db, out } => {
            let store = trm::store::Store::connect(&db.options())
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
            let mut trusted = public_keys(&trusted_keys)?;
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
            let trusted = public_keys(&trusted_keys)?;
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

/// Parses `--audit-trusted-key` / `--trusted-key` values.
fn public_keys(hex_keys: &[String]) -> Result<Vec<ed25519_dalek::VerifyingKey>, String> {
    hex_keys
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| trm::audit::parse_public_key(k).map_err(|e| format!("trusted key {k}: {e}")))
        .collect()
}

/// The key that signs audit checkpoints. `--audit-key-file` is read, or generated if missing
/// (never with --production, where a missing file is an error). Without it, SQLite uses
/// `trm-audit.key` next to the database file the same way, except that with --production a
/// missing default file only means no checkpoints (with a warning); PostgreSQL, whose instances
/// must share one key, signs no checkpoints without it.
fn audit_key(args: &ServeArgs) -> Result<Option<trm::audit::AuditKey>, String> {
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

/// `trm-audit.key` next to a SQLite database file; `None` for PostgreSQL or in-memory SQLite.
fn default_audit_key_file(database_url: &str) -> Option<PathBuf> {
    let url = trm::store::normalise_url(database_url);
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    let dir = PathBuf::from(path)
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    Some(dir.join("trm-audit.key"))
}

/// Opens and migrates the database for commands that need the directory only, not the
/// workflows (token issue, directory).
async fn directory_app(db: &DbArgs) -> Result<App, String> {
    let store = trm::store::Store::connect(&db.options())
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
    db: &DbArgs,
    registry: Registry,
    clock: Arc<dyn Clock>,
) -> Result<trm::service::AppBuilder, String> {
    startup::open(&db.options(), registry, clock)
        .await
        .map_err(|e| e.to_string())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let shutdown = server::shutdown_signal();
    server::survive_file_size_limit();
    let oidc_config = args.oidc.config()?;
    if let Some(config) = &oidc_config {
        config.check(args.production).map_err(|e| e.to_string())?;
    }
    let registry = startup::load_workflows(&args.workflows.path).map_err(|e| e.to_string())?;
    let (clock, test_clock): (Arc<dyn Clock>, Option<Arc<dyn MovableClock>>) = if args.test_clock {
        if args.production {
            return Err(
                "--test-clock is refused in production configuration (--production)".into(),
            );
        }
        let clock = Arc::new(TestClock::default());
        clock.advance(chrono::Duration::days(i64::from(
            args.test_clock_offset_days,
        )));
        (clock.clone(), Some(clock))
    } else {
        (Arc::new(SystemClock), None)
    };
    let builder = open(&args.db, registry, clock).await?;
    let audit_key = audit_key(&args)?;
    let trusted_audit_keys = public_keys(&args.audit_trusted_keys)?;
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
        .test_clock(test_clock)
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
    // GraphiQL and introspection are on unless switched off, and off in production unless
    // switched on.
    let graphiql = args.graphiql.unwrap_or(!args.production);
    let hardening = &args.hardening;
    let metrics = Arc::new(server::Metrics::default());
    let options = HttpOptions {
        graphiql,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        max_body_bytes: args.max_body_bytes,
        limits: ApiLimits {
            max_depth: args.max_depth,
            max_complexity: args.max_complexity,
            max_fields: hardening.max_fields,
            max_query_bytes: hardening.max_query_bytes,
            introspection: args.introspection.unwrap_or(!args.production),
            suggestions: hardening.suggestions,
        },
        rate_limit_per_minute: hardening.rate_limit_per_minute,
        metrics_route: hardening.metrics && hardening.metrics_bind.is_none(),
        metrics: metrics.clone(),
    };
    if let (true, Some(metrics_bind)) = (hardening.metrics, hardening.metrics_bind) {
        let listener = tokio::net::TcpListener::bind(metrics_bind)
            .await
            .map_err(|e| format!("cannot bind {metrics_bind}: {e}"))?;
        let metrics_addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("Metrics: http://{metrics_addr}/metrics");
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, server::metrics_router(metrics)).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    server::install_panic_hook();
    if graphiql {
        println!("GraphiQL: http://{addr}/graphql");
    }
    println!("TRM listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let store = app.store.clone();
    if args.scheduler_interval_secs > 0 {
        let interval = Duration::from_secs(args.scheduler_interval_secs);
        tokio::spawn(trm::service::timers::run_scheduler(app.clone(), interval));
    }
    server::serve(listener, app, &options, shutdown)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}
