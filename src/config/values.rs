//! Values of flags that need more than clap's parsers: roles and agency kinds, public keys,
//! and the audit key file's default place.

use super::error::ConfigError;
use crate::domain::{AgencyKind, Role};
use std::path::PathBuf;

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
