//! Why a configuration cannot be used.

use crate::service::oidc::OidcConfigError;
use std::path::{Path, PathBuf};

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
    #[error(
        "OIDC: console sign-in (--oidc-client-id) needs --oidc-issuer, --oidc-client-secret-file \
         and --public-url"
    )]
    OidcClientIncomplete,
    #[error("OIDC: cannot read the client secret file {path}: {reason}")]
    OidcClientSecret { path: PathBuf, reason: String },
    #[error(
        "--public-url `{0}` must be an http(s) URL without query or fragment (https with \
         --production)"
    )]
    PublicUrl(String),
    #[error("trusted key {key}: {reason}")]
    TrustedKey { key: String, reason: String },
    #[error(
        "--production needs --audit-key-file (TRM_AUDIT_KEY_FILE): the key that signs the audit \
         checkpoints must be a file the operator keeps, backs up and gives to every instance of \
         the deployment. Create one with `openssl rand -hex 32 > FILE && chmod 600 FILE`"
    )]
    AuditKeyFileRequired,
    #[error(
        "--production needs --match-key-file (TRM_MATCH_KEY_FILE): the secret under which the \
         person-match keys are derived must be a file the operator keeps, backs up and gives to \
         every instance of the deployment (another secret finds no earlier case). Create one \
         with `openssl rand -hex 32 > FILE && chmod 600 FILE`"
    )]
    MatchKeyFileRequired,
    #[error(
        "no directory for the default keys: neither HOME nor XDG_DATA_HOME is set; give \
         --data-dir (TRM_DATA_DIR), or --audit-key-file and --match-key-file"
    )]
    NoDataDir,
    #[error("{}", legacy_key_message(.old, .new))]
    LegacyAuditKey { old: PathBuf, new: PathBuf },
}

fn legacy_key_message(old: &Path, new: &Path) -> String {
    let (old, dir, new) = (
        old.display(),
        new.parent().unwrap_or(new).display(),
        new.display(),
    );
    format!(
        "the audit key an earlier TRM generated is at {old}, next to the database; default keys \
         are no longer kept there (a key must not sit in a working tree). Move it to its new \
         place to keep signing with it (`mkdir -p {dir} && mv {old} {new}`), or give it with \
         --audit-key-file"
    )
}
