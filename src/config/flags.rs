//! The flags of the commands that more than one command shares, and all of `trm serve`'s: for
//! each its flag, environment variable, default and help text (the meaning in
//! `docs/configuration.md`).

use clap::{ArgAction, Args, FromArgMatches};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The environment variable holding the log filter (not a flag: logging starts before the
/// command line is read).
pub const LOG_ENV: &str = "TRM_LOG";
/// The log filter when [`LOG_ENV`] is not set.
pub const LOG_DEFAULT: &str = "info";
/// What [`LOG_ENV`] means, for the configuration reference.
pub const LOG_HELP: &str = "Log filter ([`tracing` `EnvFilter`](https://docs.rs/tracing-subscriber/latest/tracing_subscriber/filter/struct.EnvFilter.html) \
     syntax, e.g. `trm=debug,info`). Logs go to stderr.";

/// The database: where it is and how it is opened (every command that opens it).
#[derive(Args, Debug, Clone)]
pub struct DatabaseConfig {
    /// The database: `sqlite://FILE`, a bare SQLite file path, or
    /// `postgres://user@host:port/db`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://trm.db")]
    pub database_url: String,
    /// Database connection pool size. On PostgreSQL it is the size of each of two pools, the
    /// readers' and the writers' (write transactions run on connections of their own,
    /// `application_name` `trm-writer`): an instance opens up to twice this many connections, each
    /// only when needed. A reading connection idle for more than a second is pinged before it is
    /// used (one cut by a restart or a firewall is replaced, not handed to a request); a writing
    /// connection the server closed is seen closed and replaced. The writers' connections have no
    /// TLS: they are used when the URL says `sslmode=disable` or the server is on this machine;
    /// otherwise (TLS required, or offered by a server elsewhere) writes go through the readers'
    /// pool, with TLS as before.
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

/// Where TRM keeps the files it generates for itself (every command that looks for a default
/// audit key).
#[derive(Args, Debug, Clone)]
pub struct DataDirConfig {
    /// Directory of the files TRM generates for itself: the databases' default audit and
    /// person-match keys (created readable by its owner only). Never a working tree: keys do not belong in a
    /// repository [default: `$XDG_DATA_HOME/trm`, or `~/.local/share/trm`].
    #[arg(long, env = "TRM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
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
    /// Production configuration: refuses settings meant for testing (--test-clock), requires
    /// --audit-key-file and --match-key-file, and switches GraphiQL and introspection off unless `--graphiql true` /
    /// `--introspection true` are given.
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
    #[command(flatten)]
    pub otlp: OtlpFlags,
    /// Seconds between scheduler passes that record the timers that fell due (`0`: no
    /// scheduler). Every instance may run it; each timer is recorded once.
    #[arg(long, env = "TRM_SCHEDULER_INTERVAL_SECS", default_value_t = 30)]
    pub scheduler_interval_secs: u64,
    /// How long a revoked token (TRM or JWT), a changed user or agency can still be used on this
    /// instance, at most: the principal behind a token is remembered and the directory's change
    /// counter read again this often (milliseconds; `0` reads the directory on every request).
    /// Changes made through this instance apply on it at once.
    #[arg(long, env = "TRM_AUTH_RECHECK_MS", default_value_t = 1000)]
    pub auth_recheck_ms: u64,
    /// Ed25519 key that signs audit checkpoints: a 32-byte seed, raw or hex. A missing file is
    /// generated (readable by its owner only), except with --production, where it must exist.
    /// Without this option the instance signs with its database's default key,
    /// `audit-<id>.key` in --data-dir (`<id>`: a hash of the database URL without user,
    /// password and parameters), generated there (mode 0600) at the first start, so that every
    /// instance on this machine serving the same database signs with the same key.
    /// --production refuses to start without this option. Instances on several machines must all be given the same
    /// file [default: the database's key in --data-dir; required with --production].
    #[arg(long, env = "TRM_AUDIT_KEY_FILE", value_name = "FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// Secret under which the person-match keys are derived (finding an earlier case of the
    /// same person without revealing her): 32 bytes, raw or hex. It never leaves the service.
    /// A missing file is generated (readable by its owner only), except with --production,
    /// where it must exist. Without this option: `match-<id>.key` in --data-dir, generated there
    /// at the first start, like the default audit key. Every instance must be given the same
    /// file: keys derived under another secret find nothing [default: the database's key in
    /// --data-dir; required with --production].
    #[arg(long, env = "TRM_MATCH_KEY_FILE", value_name = "FILE")]
    pub match_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub data: DataDirConfig,
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
    /// Maximum query depth (fields nested in fields); deeper queries are refused before anything
    /// runs. Inside introspection (`__schema`, `__type`) `ofType` adds no level, so that the
    /// introspection query of GraphQL tools fits.
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
    /// Serve the web console at `/` (sign-in, worklist, cases, referrals, audit).
    #[arg(long, env = "TRM_CONSOLE", default_value_t = true, action = ArgAction::Set)]
    pub console: bool,
    /// Mark the console's cookies `Secure` (the service is reached over HTTPS, e.g. behind a
    /// TLS-terminating proxy) [default: `true` with --production, else `false`].
    #[arg(long, env = "TRM_SECURE_COOKIES", action = ArgAction::Set)]
    pub secure_cookies: Option<bool>,
    /// A console session ends after this many minutes without a request.
    #[arg(long, env = "TRM_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u64,
    /// A console session ends this many hours after sign-in, whatever happens.
    #[arg(long, env = "TRM_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Days without news after which a child on the move is flagged on the focal point's board.
    #[arg(long, env = "TRM_NO_NEWS_DAYS", default_value_t = 14)]
    pub no_news_days: u32,
}

/// Exporting traces (a span per request and its stages) over OTLP to a collector. Off unless
/// --otlp-endpoint is given.
#[derive(Args, Debug, Clone)]
pub struct OtlpFlags {
    /// Export traces over OTLP/HTTP (protobuf) to the collector at this base URL, e.g.
    /// `http://127.0.0.1:4318` (spans go to `<URL>/v1/traces`): a span per request and its
    /// stages (authentication, parsing, policy, engine, each database statement, commit), with
    /// no personal data. Spans are sent in batches in the background; when the collector is
    /// down they are dropped, and requests never wait for it [default: none, no export].
    #[arg(long, env = "TRM_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// The service name the exported traces carry (`service.name`).
    #[arg(long, env = "TRM_OTLP_SERVICE_NAME", default_value = "trm")]
    pub otlp_service_name: String,
    /// The share of requests traced, from `0` to `1` (a request's stages follow its decision).
    #[arg(
        long,
        env = "TRM_OTLP_SAMPLE_RATIO",
        value_name = "RATIO",
        default_value_t = 1.0
    )]
    pub otlp_sample_ratio: f64,
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
    /// The client id TRM is registered under at the identity provider: turns on signing in to
    /// the web console there (authorization code flow with PKCE). Needs --oidc-issuer (whose
    /// discovery document, `<issuer>/.well-known/openid-configuration`, is read at start),
    /// --oidc-client-secret-file and --public-url [default: none, no sign-in at the provider].
    #[arg(long, env = "TRM_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// File holding the client secret (read at start; surrounding whitespace is ignored). A
    /// file, never the secret itself: a command line is visible to every user of the machine.
    #[arg(long, env = "TRM_OIDC_CLIENT_SECRET_FILE", value_name = "FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Scopes asked for at sign-in, separated by spaces. The access token the provider returns
    /// must be one TRM accepts (--oidc-audience, the agency and roles claims): add the scope
    /// under which the provider issues such tokens, if it needs one.
    #[arg(long, env = "TRM_OIDC_SCOPES", default_value = "openid")]
    pub oidc_scopes: String,
    /// The provider's name on the sign-in page ("Sign in with ...") [default: the issuer's
    /// host].
    #[arg(long, env = "TRM_OIDC_DISPLAY_NAME")]
    pub oidc_display_name: Option<String>,
    /// The address browsers reach this service at, e.g. `https://trm.example.org` (scheme, host,
    /// port and path, no query): the console's redirect URI at the identity provider is this
    /// followed by `/sign-in/oidc/callback`. `https` required with --production.
    #[arg(long, env = "TRM_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
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
        Err(e) => panic!("the configuration's defaults do not parse (src/config/flags.rs): {e}"),
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
