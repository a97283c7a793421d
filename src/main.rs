//! The `trm` command: serve, migrate, schema, workflows check/diagram, token issue.

use clap::{Args, Parser, Subcommand};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use trm::api::ApiLimits;
use trm::clock::{Clock, MovableClock, SystemClock, TestClock};
use trm::server::{self, HttpOptions};
use trm::service::{App, auth, demo};
use trm::startup;
use trm::store::StoreOptions;
use trm::workflow::{Registry, diagram};

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
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
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
    /// Serve GraphiQL at GET /graphql.
    #[arg(long, env = "TRM_GRAPHIQL", default_value_t = true, action = clap::ArgAction::Set)]
    graphiql: bool,
    /// Allow schema introspection.
    #[arg(long, env = "TRM_INTROSPECTION", default_value_t = true, action = clap::ArgAction::Set)]
    introspection: bool,
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
    /// Production configuration: refuses settings meant for testing (such as --test-clock).
    #[arg(long, env = "TRM_PRODUCTION")]
    production: bool,
    /// Seconds between scheduler passes that record elapsed timers (0: no scheduler).
    #[arg(long, env = "TRM_SCHEDULER_INTERVAL_SECS", default_value_t = 30)]
    scheduler_interval_secs: u64,
    /// Maximum request body size in bytes.
    #[arg(long, env = "TRM_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
}

impl DbArgs {
    fn options(&self) -> StoreOptions {
        StoreOptions {
            url: self.database_url.clone(),
            max_connections: self.db_pool,
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
        Command::Serve(args) => serve(args).await,
        Command::Migrate { db } => {
            let store = trm::store::Store::connect(&db.options())
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            println!("migrations applied");
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
            // Tokens need the directory only, not the workflows.
            let store = trm::store::Store::connect(&db.options())
                .await
                .map_err(|e| e.to_string())?;
            store.migrate().await.map_err(|e| e.to_string())?;
            let app = App {
                store,
                workflows: Arc::new(Registry::default()),
                clock: Arc::new(SystemClock),
                test_clock: None,
            };
            let token = auth::issue_token(&app, &user)
                .await
                .map_err(|e| format!("{e}"))?;
            println!("{token}");
            Ok(())
        }
    }
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

async fn open(db: &DbArgs, registry: Registry, clock: Arc<dyn Clock>) -> Result<App, String> {
    startup::prepare(&db.options(), registry, clock)
        .await
        .map_err(|e| e.to_string())
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let shutdown = server::shutdown_signal();
    let registry = startup::load_workflows(&args.workflows.path).map_err(|e| e.to_string())?;
    let (clock, test_clock): (Arc<dyn Clock>, Option<Arc<dyn MovableClock>>) = if args.test_clock {
        if args.production {
            return Err(
                "--test-clock is refused in production configuration (--production)".into(),
            );
        }
        let clock = Arc::new(TestClock::default());
        (clock.clone(), Some(clock))
    } else {
        (Arc::new(SystemClock), None)
    };
    let mut app = open(&args.db, registry, clock).await?;
    app.test_clock = test_clock;
    if app.test_clock.is_some() {
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
    let options = HttpOptions {
        graphiql: args.graphiql,
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        max_body_bytes: args.max_body_bytes,
        limits: ApiLimits {
            max_depth: args.max_depth,
            max_complexity: args.max_complexity,
            introspection: args.introspection,
            suggestions: false,
        },
    };
    if args.graphiql {
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
