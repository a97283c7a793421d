//! `trm serve`: checks the configuration, brings the service up (workflows, database, keys,
//! identity provider, demo data), serves until Ctrl-C or SIGTERM, and closes the database.

use super::error::CliError;
use crate::audit::AuditKey;
use crate::config::{AuditKeySource, DefaultAuditKey, KeySource, ServeConfig};
use crate::domain::person_match::MatchSecret;
use crate::server::{self, HttpOptions};
use crate::service::console_sign_in::SignInClient;
use crate::service::oidc::Oidc;
use crate::service::{App, demo};
use crate::startup;
use crate::store::StoreOptions;
use crate::telemetry::Tracing;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub(super) async fn run(config: ServeConfig) -> Result<(), CliError> {
    let shutdown = server::shutdown_signal();
    server::survive_file_size_limit();
    let oidc_config = config.oidc_config()?;
    let sign_in_settings = config.console_sign_in()?;
    let tracing = match config.tracing_options() {
        Some(options) => Tracing::start(&options)?,
        None => Tracing::off(),
    };
    let registry = startup::load_workflows(&config.workflows.path)?;
    for warning in registry.warnings() {
        tracing::warn!(%warning, "a workflow version shipped before the check declares something nothing carries out (kept for the cases pinned to it)");
    }
    let clocks = config.clocks()?;
    let key_source = config.audit_key_source()?;
    let match_source = config.match_key_source()?;
    let builder = startup::open(&StoreOptions::from(&config.db), registry, clocks.clock).await?;
    let audit_key = audit_key(&key_source, config.production)?;
    let trusted_audit_keys = config.trusted_audit_keys()?;
    let match_secret = match_key(&match_source, config.production)?;
    let mut sign_in = None;
    let oidc = match oidc_config {
        Some(oidc_config) => {
            let issuer = oidc_config.issuer.clone();
            let oidc = Oidc::start(oidc_config, config.production).await?;
            println!("OIDC: accepting JWT access tokens of {issuer}");
            if let Some(settings) = sign_in_settings {
                let redirect = settings.redirect_url.clone();
                let client = SignInClient::discover(&issuer, settings, config.production).await?;
                println!("OIDC: console sign-in at {issuer} (redirect URI {redirect})");
                sign_in = Some(Arc::new(client));
            }
            Some(oidc)
        }
        None => None,
    };
    let app = builder
        .test_clock(clocks.test_clock)
        .audit_key(Some(audit_key))
        .trusted_audit_keys(trusted_audit_keys)
        .match_key(Some(match_secret))
        .oidc(oidc)
        .auth_recheck(std::time::Duration::from_millis(config.auth_recheck_ms))
        .build();
    if app.test_clock().is_some() {
        println!("Test clock enabled: the advanceTestClock mutation moves this instance's time");
    }
    let listener = bind(config.bind).await?;
    let addr = listener.local_addr()?;
    if config.demo {
        seed_demo(&app, config.demo_tokens.as_deref()).await?;
    }
    let mut options = HttpOptions::from(&config);
    options.console.oidc_sign_in = sign_in;
    if let Some(otlp) = &config.otlp.otlp_endpoint {
        println!("Traces: exported over OTLP to {otlp}");
    }
    options.tracing = tracing;
    if let Some(metrics_bind) = config.metrics_bind() {
        let listener = bind(metrics_bind).await?;
        let metrics_addr = listener.local_addr()?;
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
    if options.console.enabled {
        let who = if options.console.demo_sign_in {
            " (sign in as any demo user)"
        } else {
            ""
        };
        println!("Console: http://{addr}/{who}");
    }
    println!("TRM listening on http://{addr}");
    tracing::info!(%addr, "listening");
    let store = app.store.clone();
    if let Some(interval) = config.scheduler_interval() {
        tokio::spawn(crate::service::timers::run_scheduler(app.clone(), interval));
    }
    server::serve(listener, app, &options, shutdown).await?;
    store.close().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn bind(addr: std::net::SocketAddr) -> Result<tokio::net::TcpListener, CliError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CliError::Bind { addr, source })
}

/// Seeds the demo network (once) and prints a fresh token per demo user; also writes them to
/// `tokens_file` when given.
async fn seed_demo(app: &App, tokens_file: Option<&Path>) -> Result<(), CliError> {
    let tokens = demo::seed(app).await.map_err(CliError::DemoSeed)?;
    println!("Demo tokens (bearer tokens; new ones are issued at every start):");
    for (user, token) in &tokens {
        println!("  {user:<24} {token}");
    }
    if let Some(path) = tokens_file {
        let map: BTreeMap<&str, &str> = tokens
            .iter()
            .map(|(u, t)| (u.as_str(), t.as_str()))
            .collect();
        let json = serde_json::to_string_pretty(&map)?;
        write_private(path, &json).map_err(|source| CliError::CannotWrite {
            path: path.to_path_buf(),
            source,
        })?;
        println!("Demo tokens written to {}", path.display());
    }
    Ok(())
}

/// The key that signs audit checkpoints: every instance has one. `--audit-key-file` is read,
/// or generated if missing (never with --production, where a missing file is an error);
/// without it, the database's default key in the data directory is read or generated (see
/// [`crate::config::default_audit_key`]), and an in-memory database gets a key of its own.
fn audit_key(source: &AuditKeySource, production: bool) -> Result<AuditKey, CliError> {
    let (path, generate) = match source {
        AuditKeySource::Given(path) => (path, !production),
        AuditKeySource::Default(DefaultAuditKey::File(path)) => (path, true),
        AuditKeySource::Default(DefaultAuditKey::Ephemeral) => {
            let key = AuditKey::generate();
            println!(
                "Audit checkpoints signed with key {} (in-memory database: a key of this process \
                 only)",
                key.key_id()
            );
            return Ok(key);
        }
    };
    let existed = path.exists();
    let key = AuditKey::load_or_generate(path, generate)?;
    println!(
        "Audit checkpoints signed with key {} ({}{})",
        key.key_id(),
        path.display(),
        if existed { "" } else { ", generated now" }
    );
    Ok(key)
}

/// The secret person-match keys are derived under: every instance has one, kept like the
/// audit key (`--match-key-file`, or the database's default key in the data directory; an
/// in-memory database gets one of its own). Only its key id is printed.
fn match_key(source: &KeySource, production: bool) -> Result<MatchSecret, CliError> {
    let (path, generate) = match source {
        KeySource::Given(path) => (path, !production),
        KeySource::Default(DefaultAuditKey::File(path)) => (path, true),
        KeySource::Default(DefaultAuditKey::Ephemeral) => {
            let secret = MatchSecret::generate();
            println!(
                "Person-match key {} (in-memory database: a key of this process only)",
                secret.key_id()
            );
            return Ok(secret);
        }
    };
    let existed = path.exists();
    let secret = MatchSecret::from_seed(crate::audit::load_or_generate_seed(path, generate)?);
    println!(
        "Person-match key {} ({}{})",
        secret.key_id(),
        path.display(),
        if existed { "" } else { ", generated now" }
    );
    Ok(secret)
}

/// Writes a file only its owner can read (it holds bearer tokens).
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
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
