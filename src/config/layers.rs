//! The settings of the layers, built from the flags: the server's ([`HttpOptions`],
//! [`ApiLimits`]), the store's ([`StoreOptions`]), the identity provider's ([`OidcConfig`]),
//! the clocks and the scheduler's. The layers' `Default`s are the flags' defaults.

use super::error::ConfigError;
use super::flags::{DatabaseConfig, OidcFlags, ServeConfig, SqliteSynchronous};
use super::values::{DefaultKey, default_audit_key, default_match_key, parse_role, public_keys};
use crate::clock::{Clock, MovableClock, SystemClock, TestClock};
use crate::console::ConsoleOptions;
use crate::server::{ApiLimits, HttpOptions};
use crate::service::console_sign_in::{CALLBACK_PATH, SignInSettings};
use crate::service::oidc::{self, JwksSource, OidcConfig};
use crate::store::{SqliteSync, StoreOptions};
use crate::telemetry::{Tracing, TracingOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The clocks of an instance (see [`ServeConfig::clocks`]).
pub struct Clocks {
    /// The time the service goes by.
    pub clock: Arc<dyn Clock>,
    /// The same clock, when `advanceTestClock` may move it.
    pub test_clock: Option<Arc<dyn MovableClock>>,
}

/// Where one of an instance's keys comes from (see [`ServeConfig::audit_key_source`],
/// [`ServeConfig::match_key_source`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The key file option: read, or generated unless --production.
    Given(PathBuf),
    /// The database's default key (generated if missing).
    Default(DefaultKey),
}

/// Where the key that signs an instance's audit checkpoints comes from.
pub type AuditKeySource = KeySource;

impl ServeConfig {
    /// Where the instance's audit key comes from: `--audit-key-file`, or the database's
    /// default key in the data directory. Every instance signs; --production requires the
    /// file, so that the operator keeps it and gives it to every instance.
    pub fn audit_key_source(&self) -> Result<AuditKeySource, ConfigError> {
        match &self.audit_key_file {
            Some(path) => Ok(AuditKeySource::Given(path.clone())),
            None if self.production => Err(ConfigError::AuditKeyFileRequired),
            None => default_audit_key(self.data.data_dir.as_deref(), &self.db.database_url)
                .map(AuditKeySource::Default),
        }
    }

    /// Where the instance's person-match key comes from: `--match-key-file`, or the database's
    /// default key in the data directory. --production requires the file: every instance must
    /// derive the same keys, or the same person is not found again.
    pub fn match_key_source(&self) -> Result<KeySource, ConfigError> {
        match &self.match_key_file {
            Some(path) => Ok(KeySource::Given(path.clone())),
            None if self.production => Err(ConfigError::MatchKeyFileRequired),
            None => default_match_key(self.data.data_dir.as_deref(), &self.db.database_url)
                .map(KeySource::Default),
        }
    }

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

    /// The console's sign-in at the identity provider, checked (the client secret read from its
    /// file; with --production, the public URL must be `https`); `None` when it is off.
    pub fn console_sign_in(&self) -> Result<Option<SignInSettings>, ConfigError> {
        let flags = &self.oidc;
        let Some(client_id) = flags.oidc_client_id.clone() else {
            return Ok(None);
        };
        let (Some(issuer), Some(secret_file), Some(public_url)) = (
            &flags.oidc_issuer,
            &flags.oidc_client_secret_file,
            &flags.public_url,
        ) else {
            return Err(ConfigError::OidcClientIncomplete);
        };
        let public_url = public_url.trim().trim_end_matches('/');
        let scheme_ok = public_url.starts_with("https://")
            || (!self.production && public_url.starts_with("http://"));
        if !scheme_ok || public_url.contains(['?', '#']) {
            return Err(ConfigError::PublicUrl(public_url.to_string()));
        }
        let unreadable = |reason: String| ConfigError::OidcClientSecret {
            path: secret_file.clone(),
            reason,
        };
        let client_secret = std::fs::read_to_string(secret_file)
            .map_err(|e| unreadable(e.to_string()))?
            .trim()
            .to_string();
        if client_secret.is_empty() {
            return Err(unreadable("the file is empty".into()));
        }
        let display_name = flags.oidc_display_name.clone().unwrap_or_else(|| {
            let host = issuer.split("://").nth(1).unwrap_or(issuer);
            host.split(['/', ':']).next().unwrap_or(host).to_string()
        });
        Ok(Some(SignInSettings {
            client_id,
            client_secret,
            redirect_url: format!("{public_url}{CALLBACK_PATH}"),
            scopes: flags
                .oidc_scopes
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            display_name,
        }))
    }

    /// The public keys of `--audit-trusted-key`.
    pub fn trusted_audit_keys(&self) -> Result<Vec<ed25519_dalek::VerifyingKey>, ConfigError> {
        public_keys(&self.audit_trusted_keys)
    }

    /// Where to export traces (`--otlp-*`); `None` when export is off.
    pub fn tracing_options(&self) -> Option<TracingOptions> {
        let otlp = &self.otlp;
        otlp.otlp_endpoint.as_ref().map(|endpoint| TracingOptions {
            endpoint: endpoint.clone(),
            service_name: otlp.otlp_service_name.clone(),
            sample_ratio: otlp.otlp_sample_ratio,
        })
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
            // Set by `trm serve` from --otlp-endpoint (starting export is not a conversion).
            tracing: Tracing::off(),
            console: ConsoleOptions {
                enabled: http.console,
                demo_sign_in: config.demo,
                secure_cookies: http.secure_cookies.unwrap_or(config.production),
                idle_timeout: Duration::from_secs(http.session_idle_minutes.max(1) * 60),
                absolute_timeout: Duration::from_secs(http.session_max_hours.max(1) * 3600),
                no_news_days: http.no_news_days,
                // Set by `trm serve` once the provider's endpoints are discovered.
                oidc_sign_in: None,
            },
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
            Err(e) => panic!("the default OIDC settings do not parse (src/config/flags.rs): {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

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
        assert!(
            options.console.secure_cookies,
            "production: session cookies only over TLS"
        );
        config.http.secure_cookies = Some(false);
        assert!(!HttpOptions::from(&config).console.secure_cookies);
        let mut local = ServeConfig::default();
        assert!(!HttpOptions::from(&local).console.secure_cookies);
        local.http.secure_cookies = Some(true);
        assert!(HttpOptions::from(&local).console.secure_cookies, "the flag");
        config.http.graphiql = Some(true);
        config.http.introspection = Some(true);
        let options = HttpOptions::from(&config);
        assert!(options.graphiql && options.limits.introspection);
        config.test_clock = true;
        assert!(matches!(
            config.clocks(),
            Err(ConfigError::TestClockInProduction)
        ));
        assert!(matches!(
            config.audit_key_source(),
            Err(ConfigError::AuditKeyFileRequired)
        ));
        config.audit_key_file = Some("/etc/trm/audit.key".into());
        assert_eq!(
            config.audit_key_source().ok(),
            Some(AuditKeySource::Given("/etc/trm/audit.key".into()))
        );
        assert!(matches!(
            config.match_key_source(),
            Err(ConfigError::MatchKeyFileRequired)
        ));
        config.match_key_file = Some("/etc/trm/match.key".into());
        assert_eq!(
            config.match_key_source().ok(),
            Some(KeySource::Given("/etc/trm/match.key".into()))
        );
    }

    #[test]
    fn console_sign_in_needs_its_client_secret_file_and_a_public_url() {
        let dir = std::env::temp_dir().join(format!("trm-sign-in-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let secret = dir.join("client-secret");
        let _ = std::fs::write(&secret, "s3cret\n");
        let mut config = ServeConfig::default();
        assert!(
            matches!(config.console_sign_in(), Ok(None)),
            "off by default"
        );
        config.oidc.oidc_client_id = Some("trm-console".into());
        assert!(matches!(
            config.console_sign_in(),
            Err(ConfigError::OidcClientIncomplete)
        ));
        config.oidc.oidc_issuer = Some("https://idp.example.org/realms/a".into());
        config.oidc.oidc_client_secret_file = Some(secret.clone());
        config.oidc.public_url = Some("http://trm.example.org/".into());
        let settings = config.console_sign_in().ok().flatten();
        let settings = settings.as_ref();
        assert_eq!(settings.map(|s| s.client_secret.as_str()), Some("s3cret"));
        assert_eq!(
            settings.map(|s| s.redirect_url.as_str()),
            Some("http://trm.example.org/sign-in/oidc/callback")
        );
        assert_eq!(
            settings.map(|s| s.display_name.as_str()),
            Some("idp.example.org")
        );
        assert_eq!(
            settings.map(|s| s.scopes.clone()),
            Some(vec!["openid".into()])
        );
        config.production = true;
        assert!(matches!(
            config.console_sign_in(),
            Err(ConfigError::PublicUrl(_))
        ));
        config.oidc.public_url = Some("https://trm.example.org?x=1".into());
        assert!(matches!(
            config.console_sign_in(),
            Err(ConfigError::PublicUrl(_))
        ));
        config.oidc.public_url = Some("https://trm.example.org".into());
        assert!(config.console_sign_in().is_ok());
        config.oidc.oidc_client_secret_file = Some(dir.join("missing"));
        assert!(matches!(
            config.console_sign_in(),
            Err(ConfigError::OidcClientSecret { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
