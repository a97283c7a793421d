//! Why a configuration cannot be used.

use crate::service::oidc::OidcConfigError;

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
