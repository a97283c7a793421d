//! The configuration of `trm serve`, and the database and workflow options that the other
//! commands share: every setting a flag and an environment variable (the flag wins), with its
//! default and its meaning, in the clap definitions of [`flags`] and nowhere else.
//!
//! The settings of the layers are built from them ([`layers`]): [`HttpOptions`] and
//! [`ApiLimits`] (the server), [`StoreOptions`] (the store), [`OidcConfig`] (the identity
//! provider), the clocks and the scheduler's interval. Their `Default`s are these definitions'
//! defaults, read from clap with no command line and no environment, so a default changed in
//! [`flags`] changes everywhere. `docs/configuration.md` is rendered from the same definitions
//! (`trm config-reference`, see [`crate::cli::reference`]).
//!
//! [`HttpOptions`]: crate::server::HttpOptions
//! [`ApiLimits`]: crate::server::ApiLimits
//! [`StoreOptions`]: crate::store::StoreOptions
//! [`OidcConfig`]: crate::service::oidc::OidcConfig

mod error;
pub mod flags;
pub mod layers;
mod values;

pub use error::ConfigError;
pub use flags::{
    DataDirConfig, DatabaseConfig, HttpConfig, LOG_DEFAULT, LOG_ENV, LOG_HELP, OidcFlags,
    OtlpFlags, ServeConfig, SqliteSynchronous, WorkflowsConfig,
};
pub use layers::{AuditKeySource, Clocks, KeySource};
pub use values::{
    DefaultAuditKey, DefaultKey, database_identity, default_audit_key, default_data_dir,
    default_match_key, parse_agency_kind, parse_export_purpose, parse_role, public_keys,
};
