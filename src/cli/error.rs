//! Why a command failed: the message `main` prints after `error: `.

use crate::audit::KeyError;
use crate::config::ConfigError;
use crate::service::ServiceError;
use crate::service::oidc::OidcConfigError;
use crate::startup::StartupError;
use crate::store::StoreError;
use crate::telemetry::TracingError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a command failed. Every variant means exit code 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The flags or environment variables cannot be used together.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The workflows or the database refused the start.
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The identity provider's settings or keys cannot be used.
    #[error(transparent)]
    Oidc(#[from] OidcConfigError),
    #[error(transparent)]
    AuditKey(#[from] KeyError),
    /// The trace export settings cannot be used.
    #[error(transparent)]
    Tracing(#[from] TracingError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error("cannot bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A file named on the command line cannot be read or written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    CannotRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    CannotWrite {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot seed demo data: {0}")]
    DemoSeed(#[source] ServiceError),
    #[error("{0} transitions are not exercised by any test")]
    Uncovered(usize),
    #[error("no access policies could be loaded")]
    NoPolicies,
    #[error("no workflow {id} in {}", dir.display())]
    NoWorkflow { id: String, dir: PathBuf },
    #[error("no live token matches (unknown or already revoked)")]
    NoLiveToken,
    /// One of two options is needed (clap normally says so first).
    #[error("give {0}")]
    Missing(&'static str),
    #[error("no case {0}")]
    NoCase(String),
    #[error("audit verification FAILED: {0}")]
    AuditVerification(String),
    #[error("a protection does not hold: {0}")]
    InvariantViolated(String),
    #[error("{} is not a case file: {source}", path.display())]
    NotACaseFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("case file verification FAILED: {0}")]
    CaseFileVerification(String),
}
