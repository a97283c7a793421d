//! The configuration of `trm serve`, and the database and workflow options that the other
//! commands share: every setting a flag and an environment variable (the flag wins), with its
//! default and its meaning, in the clap definitions below and nowhere else.
//!
//! The settings of the layers are built from it: [`HttpOptions`] and [`ApiLimits`] (the server),
//! [`StoreOptions`] (the store), [`OidcConfig`] (the identity provider), the clocks and the
//! scheduler's interval. Their `Default`s are this definition's defaults, read from clap with
//! no command line and no environment, so a default changed here changes everywhere.
//! `docs/configuration.md` is rendered from the same definition (`trm config-reference`).

use crate::clock::{Clock, MovableClock, SystemClock, TestClock};
use crate::domain::{AgencyKind, Role};
use crate::server::{ApiLimits, HttpOptions};
use crate::service::oidc::{self, JwksSource, OidcConfig, OidcConfigError};
use crate::store::{SqliteSync, StoreOptions};
use clap::{ArgAction, Args, FromArgMatches};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable holding the log filter (not a flag: logging starts before the
/// command line is read).
pub const LOG_ENV: &str = "TRM_LOG";
/// The log filter when [`LOG_ENV`] is not set.
pub const LOG_DEFAULT: &str = "info";
/// What [`LOG_ENV`] means, for the configuration reference.
pub const LOG_HELP: &str = "Log filter ([`tracing` `EnvFilter`](https://docs.rs/tracing-subscriber/latest/tracing_subscriber/filter/struct.EnvFilter.html) \
     syntax, e.g. `trm=debug,info`). Logs go to stderr.";

/// Why a configuration cannot be used (the command refuses to start).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--test-clock is refused in production configuration (--production)")]
    TestClockInProduction,
    #[error("OIDC: --oidc-issuer is required with the other --oidc-... options")]
    OidcIssuerMissing,
    #[error("OIDC: --oidc-audience is required with --oidc-issuer")]
    OidcAudienceMissing,
    #[error("OIDC: give exactly one of --oidc-jwks-url and --oidc-jwks-file")]
    OidcJwksSource,
    #[error("OIDC: --oidc-allowed-roles: {role}: {reason}")]
    OidcAllowedRole { role: String, reason: String },
    #[error(transparent)]
    Oidc(#[from] OidcConfigError),
    #[error("trusted key {key}: {reason}")]
    TrustedKey { key: String, reason: String },
}

/// The database: where it is and how it is opened (every command that opens it).
#[derive(Args, Debug, Clone)]
pub struct DatabaseConfig {
    /// The database: `sqlite://FILE`, a bare SQLite file path, or
    /// `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://trm.db")]
    pub database_url: String,
    /// Database connection pool size.
    #[arg(long, env = "TRM_DB_POOL", default_value_t = 8)]
    pub db_pool: u32,
    /// SQLite's `synchronous` setting. Below `full` a power loss can lose acknowledged writes,
    /// and TRM refuses to start unless --accept-durability-risk is given.
    #[arg(
        long,
        env = "TRM_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteSynchronous,
    /// Start even on database settings that can lose acknowledged writes (SQLite `synchronous`
    /// below FULL or a journal other than WAL; PostgreSQL `fsync`, `synchronous_commit` or
    /// `full_page_writes` off); logged as a warning at start. For throw-away databases only.
    #[arg(long, env = "TRM_ACCEPT_DURABILITY_RISK")]
    pub accept_durability_risk: bool,
}

/// `--sqlite-synchronous` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SqliteSynchronous {
    Off,
    Normal,
    Full,
    Extra,
}

/// Where the workflow definitions are (every command that loads them).
#[derive(Args, Debug, Clone)]
pub struct WorkflowsConfig {
    /// Directory of workflow definitions (`*.toml`) and access policies (`policies/*.cedar`).
    #[arg(long = "workflows", env = "TRM_WORKFLOWS", default_value = "workflows")]
    pub path: PathBuf,
}

/// The clocks of an instance (see [`ServeConfig::clocks`]).
pub struct Clocks {
    /// The time the service goes by.
    pub clock: Arc<dyn Clock>,
    /// The same clock, when `advanceTestClock` may move it.
    pub test_clock: Option<Arc<dyn MovableClock>>,
}

/// Everything `trm serve` can be told.
#[derive(Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (port `0` picks a free port).
    #[arg(long, env = "TRM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseConfig,
    #[command(flatten)]
    pub workflows: WorkflowsConfig,
    /// Production configuration: refuses settings meant for testing (--test-clock), and
    /// switches GraphiQL and introspection off unless `--graphiql true` / `--introspection true`
    /// are given.
    #[arg(long, env = "TRM_PRODUCTION")]
    pub production: bool,
    /// Seed the demo network (once) and print a bearer token per demo user (new ones at every
    /// start).
    #[arg(long, env = "TRM_DEMO")]
    pub demo: bool,
    /// Also write the demo tokens as JSON, `{"username": "token"}`, to this file (readable by
    /// its owner only; needs --demo).
    #[arg(long, env = "TRM_DEMO_TOKENS", value_name = "FILE", requires = "demo")]
    pub demo_tokens: Option<PathBuf>,
    /// Enable the `advanceTestClock` mutation, which moves this instance's time forward (for
    /// playing cases through). Never for real cases; refused with --production.
    #[arg(long, env = "TRM_TEST_CLOCK")]
    pub test_clock: bool,
    /// Start the test clock this many days ahead of the wall clock (needs --test-clock; for
    /// drills of timers that fell due while the service was down).
    #[arg(
        long,
        env = "TRM_TEST_CLOCK_OFFSET_DAYS",
        value_name = "DAYS",
        requires = "test_clock",
        default_value_t = 0
    )]
    pub test_clock_offset_days: u32,
    #[command(flatten)]
    pub http: HttpConfig,
    /// Seconds between scheduler passes that record the timers that fell due (`0`: no
    /// scheduler). Every instance may run it; each timer is recorded once.
    #[arg(long, env = "TRM_SCHEDULER_INTERVAL_SECS", default_value_t = 30)]
    pub scheduler_interval_secs: u64,
    /// Ed25519 key that signs audit checkpoints: a 32-byte seed, raw or hex; generated if
    /// missing, except with --production, where the file must exist [default: `trm-audit.key`
    /// next to the SQLite file, or in the working directory].
    #[arg(long, env = "TRM_AUDIT_KEY_FILE", value_name = "FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// After rotating the audit key: the earlier public keys (hex, as `Checkpoint.publicKey`
    /// shows them) whose checkpoints stay trusted. Repeat, or separate with commas.
    #[arg(
        long = "audit-trusted-key",
        env = "TRM_AUDIT_TRUSTED_KEYS",
        value_name = "HEX",
        value_delimiter = ','
    )]
    pub audit_trusted_keys: Vec<String>,
    #[command(flatten)]
    pub oidc: OidcFlags,
}

/// The HTTP side of `trm serve`: what is exposed, the limits on requests, and `/metrics`.
#[derive(Args, Debug, Clone)]
pub struct HttpConfig {
    /// Serve GraphiQL at `GET /graphql` [default: `true`; `false` with --production].
    #[arg(long, env = "TRM_GRAPHIQL", action = ArgAction::Set)]
    pub graphiql: Option<bool>,
    /// Allow schema introspection (`__schema`, `__type`); when off, a query using it is refused
    /// with `VALIDATION` [default: `true`; `false` with --production].
    #[arg(long, env = "TRM_INTROSPECTION", action = ArgAction::Set)]
    pub introspection: Option<bool>,
    /// "Did you mean ...?" suggestions in validation errors (they reveal parts of the schema).
    #[arg(long, env = "TRM_SUGGESTIONS", default_value_t = false, action = ArgAction::Set)]
    pub suggestions: bool,
    /// Maximum query depth; deeper queries are refused before anything runs.
    #[arg(long, env = "TRM_MAX_DEPTH", default_value_t = 12)]
    pub max_depth: usize,
    /// Maximum query complexity (each field 1 plus its children, aliases included).
    #[arg(long, env = "TRM_MAX_COMPLEXITY", default_value_t = 2000)]
    pub max_complexity: usize,
    /// Maximum fields a query runs, counting every alias and every use of a fragment
    /// (fragments expanded).
    #[arg(long, env = "TRM_MAX_FIELDS", default_value_t = 500)]
    pub max_fields: usize,
    /// Maximum length of the query text, in bytes.
    #[arg(long, env = "TRM_MAX_QUERY_BYTES", default_value_t = 32 * 1024)]
    pub max_query_bytes: usize,
    /// Maximum time for one request, in seconds (then `408 TIMEOUT`).
    #[arg(long, env = "TRM_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Maximum request body size in bytes (then `413 PAYLOAD_TOO_LARGE`); also the largest
    /// WebSocket message.
    #[arg(long, env = "TRM_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// GraphQL requests (and subscriptions) per minute per user, per instance (`0`: no limit);
    /// beyond it, `429 RATE_LIMITED` with `Retry-After`.
    #[arg(long, env = "TRM_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,
    /// Serve Prometheus metrics at `GET /metrics` (not authenticated: expose it only where
    /// monitoring can reach it).
    #[arg(long, env = "TRM_METRICS", default_value_t = true, action = ArgAction::Set)]
    pub metrics: bool,
    /// Serve `/metrics` on this address only, not on --bind (e.g. an address only the
    /// monitoring network reaches).
    #[arg(long, env = "TRM_METRICS_BIND")]
    pub metrics_bind: Option<SocketAddr>,
}

/// Accepting JWT access tokens from an agency identity provider (OIDC), besides TRM tokens.
/// Off unless --oidc-issuer is given.
#[derive(Args, Debug, Clone)]
pub struct OidcFlags {
    /// Also accept JWT access tokens of this issuer (exact `iss`); turns OIDC on and then needs
    /// --oidc-audience and one of --oidc-jwks-url / --oidc-jwks-file [default: none, OIDC off].
    #[arg(long, env = "TRM_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The audience tokens must name in `aud`.
    #[arg(long, env = "TRM_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// URL of the issuer's JWKS (its signing keys): fetched at start (TRM refuses to start
    /// without usable keys), then refreshed periodically and when a token names an unknown key
    /// id (at most every 30 s). `https` required with --production.
    #[arg(long, env = "TRM_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<String>,
    /// File with the issuer's JWKS, read at start (instead of --oidc-jwks-url).
    #[arg(long, env = "TRM_OIDC_JWKS_FILE", value_name = "FILE")]
    pub oidc_jwks_file: Option<PathBuf>,
    /// Accepted signature algorithms, comma-separated: RS256, RS384, RS512, PS256, PS384,
    /// PS512, ES256, ES384, EdDSA. `none` and HS* are refused at start.
    #[arg(long, env = "TRM_OIDC_ALGORITHMS", default_value = "RS256")]
    pub oidc_algorithms: String,
    /// The claim holding the agency's id (its UUID in the directory, as `trm directory
    /// agencies` prints it).
    #[arg(long, env = "TRM_OIDC_AGENCY_CLAIM", default_value = "trm_agency")]
    pub oidc_agency_claim: String,
    /// The claim holding the TRM role names (an array, or a space-separated string).
    #[arg(long, env = "TRM_OIDC_ROLES_CLAIM", default_value = "trm_roles")]
    pub oidc_roles_claim: String,
    /// Roles a JWT may grant, comma-separated; other names in the roles claim are ignored.
    /// ADMINISTRATOR is left out unless listed here.
    #[arg(
        long,
        env = "TRM_OIDC_ALLOWED_ROLES",
        default_value = "CASE_WORKER,SUPERVISOR,FOCAL_POINT,COMPETENT_AUTHORITY,GUARDIAN,AUDITOR"
    )]
    pub oidc_allowed_roles: String,
    /// Whether tokens must carry `nbf` (it is checked whenever present; some providers omit
    /// it).
    #[arg(long, env = "TRM_OIDC_REQUIRE_NBF", default_value_t = true, action = ArgAction::Set)]
    pub oidc_require_nbf: bool,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (at most 300).
    #[arg(long, env = "TRM_OIDC_LEEWAY_SECS", default_value_t = 30)]
    pub oidc_leeway_secs: u64,
    /// Seconds between fetches of the JWKS URL (`0`: only at start and on unknown key ids).
    #[arg(long, env = "TRM_OIDC_JWKS_REFRESH_SECS", default_value_t = 300)]
    pub oidc_jwks_refresh_secs: u64,
}

/// `T` as clap builds it from an empty command line, ignoring the environment: the defaults.
///
/// Panics only if the definitions above cannot give their own defaults (a required flag, a
/// default its parser refuses): a bug that every test building a default shows at once.
fn defaults<T: Args + FromArgMatches>() -> T {
    let mut command = T::augment_args(clap::Command::new("trm")).mut_args(|arg| arg.env(None));
    let parsed = command
        .try_get_matches_from_mut(["trm"])
        .and_then(|matches| T::from_arg_matches(&matches));
    match parsed {
        Ok(value) => value,
        Err(e) => panic!("the configuration's defaults do not parse (src/config.rs): {e}"),
    }
}

impl Default for ServeConfig {
    /// `trm serve` with no flags and no environment.
    fn default() -> Self {
        defaults()
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        defaults()
    }
}

impl Default for OidcFlags {
    fn default() -> Self {
        defaults()
    }
}

impl ServeConfig {
    /// The service's clocks: the wall clock, or with --test-clock a clock `advanceTestClock`
    /// moves (started --test-clock-offset-days ahead), which --production refuses.
    pub fn clocks(&self) -> Result<Clocks, ConfigError> {
        if !self.test_clock {
            return Ok(Clocks {
                clock: Arc::new(SystemClock),
                test_clock: None,
            });
        }
        if self.production {
            return Err(ConfigError::TestClockInProduction);
        }
        let clock = Arc::new(TestClock::default());
        clock.advance(chrono::Duration::days(i64::from(
            self.test_clock_offset_days,
        )));
        Ok(Clocks {
            clock: clock.clone(),
            test_clock: Some(clock),
        })
    }

    /// How often the scheduler runs; `None` when it is off.
    pub fn scheduler_interval(&self) -> Option<Duration> {
        (self.scheduler_interval_secs > 0)
            .then(|| Duration::from_secs(self.scheduler_interval_secs))
    }

    /// The identity provider's settings, checked (with --production, a JWKS URL must be
    /// `https`); `None` when OIDC is off.
    pub fn oidc_config(&self) -> Result<Option<OidcConfig>, ConfigError> {
        let config = self.oidc.config()?;
        if let Some(config) = &config {
            config.check(self.production)?;
        }
        Ok(config)
    }

    /// The public keys of `--audit-trusted-key`.
    pub fn trusted_audit_keys(&self) -> Result<Vec<ed25519_dalek::VerifyingKey>, ConfigError> {
        public_keys(&self.audit_trusted_keys)
    }

    /// Whether `/metrics` is served on an address of its own (`--metrics-bind`).
    pub fn metrics_bind(&self) -> Option<SocketAddr> {
        self.http
            .metrics
            .then_some(self.http.metrics_bind)
            .flatten()
    }
}

impl From<&ServeConfig> for HttpOptions {
    fn from(config: &ServeConfig) -> Self {
        let http = &config.http;
        HttpOptions {
            graphiql: http.graphiql.unwrap_or(!config.production),
            request_timeout: Duration::from_secs(http.request_timeout_secs),
            max_body_bytes: http.max_body_bytes,
            limits: ApiLimits::from(config),
            rate_limit_per_minute: http.rate_limit_per_minute,
            metrics_route: http.metrics && http.metrics_bind.is_none(),
            metrics: Arc::default(),
        }
    }
}

impl From<&ServeConfig> for ApiLimits {
    fn from(config: &ServeConfig) -> Self {
        let http = &config.http;
        ApiLimits {
            max_depth: http.max_depth,
            max_complexity: http.max_complexity,
            max_fields: http.max_fields,
            max_query_bytes: http.max_query_bytes,
            introspection: http.introspection.unwrap_or(!config.production),
            suggestions: http.suggestions,
        }
    }
}

impl Default for HttpOptions {
    /// `trm serve`'s defaults, except that there is no rate limit: a server embedded in a test
    /// or a benchmark is not shared between users, and its clients may send many requests.
    fn default() -> Self {
        HttpOptions {
            rate_limit_per_minute: 0,
            ..HttpOptions::from(&ServeConfig::default())
        }
    }
}

impl Default for ApiLimits {
    /// `trm serve`'s defaults.
    fn default() -> Self {
        ApiLimits::from(&ServeConfig::default())
    }
}

impl From<&DatabaseConfig> for StoreOptions {
    fn from(config: &DatabaseConfig) -> Self {
        StoreOptions {
            url: config.database_url.clone(),
            max_connections: config.db_pool,
            sqlite_synchronous: match config.sqlite_synchronous {
                SqliteSynchronous::Off => SqliteSync::Off,
                SqliteSynchronous::Normal => SqliteSync::Normal,
                SqliteSynchronous::Full => SqliteSync::Full,
                SqliteSynchronous::Extra => SqliteSync::Extra,
            },
            accept_durability_risk: config.accept_durability_risk,
        }
    }
}

impl Default for StoreOptions {
    /// The defaults of the database flags (`sqlite://trm.db`, ...).
    fn default() -> Self {
        StoreOptions::from(&DatabaseConfig::default())
    }
}

impl OidcFlags {
    /// The OIDC settings, `None` when OIDC is off; an error for an incomplete set or a value
    /// that does not parse (see [`OidcConfig::check`] for the rest).
    pub fn config(&self) -> Result<Option<OidcConfig>, ConfigError> {
        let Some(issuer) = self.oidc_issuer.clone() else {
            if self.oidc_audience.is_some()
                || self.oidc_jwks_url.is_some()
                || self.oidc_jwks_file.is_some()
            {
                return Err(ConfigError::OidcIssuerMissing);
            }
            return Ok(None);
        };
        let audience = self
            .oidc_audience
            .clone()
            .ok_or(ConfigError::OidcAudienceMissing)?;
        let jwks = match (&self.oidc_jwks_url, &self.oidc_jwks_file) {
            (Some(url), None) => JwksSource::Url(url.clone()),
            (None, Some(path)) => JwksSource::File(path.clone()),
            _ => return Err(ConfigError::OidcJwksSource),
        };
        self.settings(issuer, audience, jwks).map(Some)
    }

    /// These settings for an issuer, audience and key source given apart.
    fn settings(
        &self,
        issuer: String,
        audience: String,
        jwks: JwksSource,
    ) -> Result<OidcConfig, ConfigError> {
        Ok(OidcConfig {
            issuer,
            audience,
            jwks,
            algorithms: oidc::parse_algorithms(&self.oidc_algorithms)?,
            agency_claim: self.oidc_agency_claim.clone(),
            roles_claim: self.oidc_roles_claim.clone(),
            allowed_roles: self
                .oidc_allowed_roles
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(|r| {
                    parse_role(r).map_err(|reason| ConfigError::OidcAllowedRole {
                        role: r.to_string(),
                        reason,
                    })
                })
                .collect::<Result<_, _>>()?,
            require_nbf: self.oidc_require_nbf,
            leeway: Duration::from_secs(self.oidc_leeway_secs),
            refresh_interval: Duration::from_secs(self.oidc_jwks_refresh_secs),
            min_refresh_interval: oidc::MIN_REFRESH_INTERVAL,
        })
    }
}

impl OidcConfig {
    /// `trm serve`'s OIDC defaults (see [`OidcFlags`]: RS256, claims `trm_agency` and
    /// `trm_roles`, every role but `ADMINISTRATOR`, `nbf` required, 30 s leeway, JWKS refreshed
    /// every 5 minutes) for this issuer, audience and key source.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, jwks: JwksSource) -> Self {
        match OidcFlags::default().settings(issuer.into(), audience.into(), jwks) {
            Ok(config) => config,
            Err(e) => panic!("the default OIDC settings do not parse (src/config.rs): {e}"),
        }
    }
}

/// Parses public keys given in hex (`--audit-trusted-key`, `--trusted-key`); blanks are skipped.
pub fn public_keys(hex_keys: &[String]) -> Result<Vec<ed25519_dalek::VerifyingKey>, ConfigError> {
    hex_keys
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            crate::audit::parse_public_key(k).map_err(|reason| ConfigError::TrustedKey {
                key: k.clone(),
                reason,
            })
        })
        .collect()
}

/// `trm-audit.key` next to a SQLite database file; `None` for PostgreSQL or in-memory SQLite.
pub fn default_audit_key_file(database_url: &str) -> Option<PathBuf> {
    let url = crate::store::normalise_url(database_url);
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

/// Parses a role (`CASE_WORKER`, `case-worker`, ...).
pub fn parse_role(value: &str) -> Result<Role, String> {
    vocabulary_value(value, Role::ALL)
}

/// Parses an agency kind (`NGO`, `national-focal-point`, ...).
pub fn parse_agency_kind(value: &str) -> Result<AgencyKind, String> {
    vocabulary_value(value, AgencyKind::ALL)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_those_of_trm_serve() {
        let serve = ServeConfig::default();
        assert_eq!(serve.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(serve.db.database_url, "sqlite://trm.db");
        assert!(!serve.production && !serve.test_clock && !serve.demo);
        let http = HttpOptions::default();
        assert!(http.graphiql && http.metrics_route);
        assert_eq!(http.rate_limit_per_minute, 0, "no rate limit when embedded");
        assert_eq!(HttpOptions::from(&serve).rate_limit_per_minute, 600);
        let limits = ApiLimits::default();
        assert_eq!((limits.max_depth, limits.max_fields), (12, 500));
        assert!(limits.introspection && !limits.suggestions);
        let store = StoreOptions::default();
        assert_eq!(
            (store.max_connections, store.sqlite_synchronous),
            (8, SqliteSync::Full)
        );
        let oidc = OidcConfig::new(
            "https://idp",
            "trm",
            JwksSource::Url("https://idp/k".into()),
        );
        assert!(oidc.check(true).is_ok());
        assert!(!oidc.allowed_roles.contains(&Role::Administrator));
    }

    #[test]
    fn production_switches_graphiql_and_introspection_off_unless_asked() {
        let mut config = ServeConfig {
            production: true,
            ..ServeConfig::default()
        };
        let options = HttpOptions::from(&config);
        assert!(!options.graphiql && !options.limits.introspection);
        config.http.graphiql = Some(true);
        config.http.introspection = Some(true);
        let options = HttpOptions::from(&config);
        assert!(options.graphiql && options.limits.introspection);
        config.test_clock = true;
        assert!(matches!(
            config.clocks(),
            Err(ConfigError::TestClockInProduction)
        ));
    }
}
