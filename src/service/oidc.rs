//! JWT access tokens from agencies' identity providers (OIDC).
//!
//! Over the house's 600 lines on purpose: every condition a token must meet, the key set that
//! checks it and their tests read as one list; split, a condition could be checked in one place
//! and forgotten in another.
//!
//! One issuer is trusted, with its signing keys from a JWKS (a file read at start, or a URL
//! fetched at start, refreshed periodically and, rate-limited, when a token names a key it does
//! not know). A token is accepted only when all of this holds:
//!
//! - its header names an algorithm of the configured list (`alg: none` and the HMAC algorithms
//!   are never accepted; the list cannot contain them), has a `kid` that is in the JWKS, and
//!   the algorithm fits that key: its type (RSA, EC curve, Ed25519) and its own `alg` when the
//!   JWK has one (so a token "signed" with HS256 using the public key as secret fails); its
//!   `typ`, when present, is `JWT` or `at+jwt`, and it has no `crit` parameters;
//! - the signature verifies (Ed25519 with strict verification);
//! - `exp` is in the future and `nbf` (required unless configured otherwise) in the past, with
//!   a leeway for clock skew; an `iat` in the future is refused too; times are the wall clock's;
//! - `iss` is the configured issuer and `aud` contains the configured audience;
//! - `sub` is a non-empty string;
//! - the agency claim is a UUID and the roles claim names at least one allowed TRM role (unknown
//!   names and roles not allowed for JWTs are ignored).
//!
//! The checks against the database (revocation, the agency exists) are made by
//! [`super::auth::authenticate`].
//!
//! Longer than most modules on purpose: every check on a token is here, in the order it is
//! made, so that a reviewer can read the whole acceptance rule in one place.

use crate::domain::Role;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The algorithms a deployment may allow: asymmetric only (never `none`, never HMAC).
pub const SUPPORTED_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Largest JWT accepted (bytes).
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Largest JWKS document accepted (bytes).
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Largest clock-skew leeway accepted.
const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Least time between two JWKS fetches caused by unknown `kid`s.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// Smallest RSA modulus accepted (bits).
const MIN_RSA_BITS: usize = 2048;

/// Namespace of the user ids derived from (issuer, subject) (UUID v5).
pub const USER_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5d6c_1c8e_7a0b_4f43_9a52_7472_6d6f_6964);

/// Where the issuer's signing keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// Fetched at start, refreshed periodically and on an unknown `kid`.
    Url(String),
    /// Read once at start.
    File(PathBuf),
}

/// The OIDC settings. Built from `trm serve --oidc-...` ([`crate::config::OidcFlags`]), which
/// also gives `OidcConfig::new` its defaults.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected in `aud`.
    pub audience: String,
    pub jwks: JwksSource,
    /// Accepted signature algorithms (see [`SUPPORTED_ALGORITHMS`]).
    pub algorithms: Vec<Algorithm>,
    /// The claim holding the agency's UUID (as in the directory).
    pub agency_claim: String,
    /// The claim holding the TRM role names (an array, or a space-separated string).
    pub roles_claim: String,
    /// Roles a token may grant; other role names in the token are ignored.
    pub allowed_roles: Vec<Role>,
    /// Whether `nbf` must be present (it is checked whenever it is).
    pub require_nbf: bool,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// How often a JWKS URL is fetched again.
    pub refresh_interval: Duration,
    /// Least time between two fetches caused by unknown `kid`s.
    pub min_refresh_interval: Duration,
}

impl OidcConfig {
    /// Checks the settings; with `production`, a JWKS URL must use `https`.
    pub fn check(&self, production: bool) -> Result<(), OidcConfigError> {
        if self.issuer.trim().is_empty() {
            return Err(OidcConfigError::Missing("--oidc-issuer"));
        }
        if self.audience.trim().is_empty() {
            return Err(OidcConfigError::Missing("--oidc-audience"));
        }
        if self.algorithms.is_empty() {
            return Err(OidcConfigError::Missing("--oidc-algorithms"));
        }
        if let Some(a) = self
            .algorithms
            .iter()
            .find(|a| !SUPPORTED_ALGORITHMS.contains(a))
        {
            return Err(OidcConfigError::Algorithm(format!("{a:?}")));
        }
        if self.agency_claim.is_empty() || self.roles_claim.is_empty() {
            return Err(OidcConfigError::Missing("claim names"));
        }
        if self.allowed_roles.is_empty() {
            return Err(OidcConfigError::Missing("--oidc-allowed-roles"));
        }
        if self.leeway > MAX_LEEWAY {
            return Err(OidcConfigError::Leeway);
        }
        if let JwksSource::Url(url) = &self.jwks {
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || (production && !url.starts_with("https://")) {
                return Err(OidcConfigError::JwksUrl(url.clone()));
            }
        }
        Ok(())
    }
}

/// Parses a comma-separated list of algorithm names, refusing `none` and HMAC (`HS*`).
pub fn parse_algorithms(list: &str) -> Result<Vec<Algorithm>, OidcConfigError> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let alg = SUPPORTED_ALGORITHMS
            .iter()
            .copied()
            .find(|a| format!("{a:?}") == name)
            .ok_or_else(|| OidcConfigError::Algorithm(name.to_string()))?;
        if !out.contains(&alg) {
            out.push(alg);
        }
    }
    if out.is_empty() {
        return Err(OidcConfigError::Missing("--oidc-algorithms"));
    }
    Ok(out)
}

/// Why the OIDC settings or the issuer's keys cannot be used (the service refuses to start).
#[derive(Debug, thiserror::Error)]
pub enum OidcConfigError {
    #[error("OIDC: {0} is required")]
    Missing(&'static str),
    #[error(
        "OIDC: algorithm `{0}` is not allowed (allowed: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA; never `none` or HS*)"
    )]
    Algorithm(String),
    #[error("OIDC: the leeway may be at most 300 seconds")]
    Leeway,
    #[error("OIDC: JWKS URL `{0}` must be http(s) (https with --production)")]
    JwksUrl(String),
    #[error("OIDC: cannot read the JWKS file {path}: {source}")]
    JwksFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("OIDC: cannot fetch the JWKS: {0}")]
    JwksFetch(String),
    #[error("OIDC: invalid JWKS: {0}")]
    JwksInvalid(String),
    #[error(
        "OIDC: the JWKS has no key usable for signature verification with the configured algorithms"
    )]
    NoUsableKey,
    #[error("OIDC: console sign-in: the issuer's discovery document cannot be used: {0}")]
    Discovery(String),
}

/// Why a JWT was refused. Logged (at debug level) only; the client always gets the same
/// `UNAUTHENTICATED` answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed token")]
    Malformed,
    #[error("unsigned token (alg: none)")]
    AlgorithmNone,
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    #[error("critical header parameters are not supported")]
    CriticalHeader,
    #[error("unsupported token type")]
    TokenType,
    #[error("no key id (kid)")]
    MissingKeyId,
    #[error("unknown key id (kid)")]
    UnknownKey,
    #[error("algorithm does not fit the key")]
    KeyMismatch,
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("not yet valid (nbf)")]
    NotYetValid,
    #[error("issued in the future (iat)")]
    IssuedInFuture,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("missing claim `{0}`")]
    MissingClaim(String),
    #[error("invalid claim `{0}`")]
    InvalidClaim(String),
    #[error("no allowed TRM role")]
    NoRole,
    #[error("revoked")]
    Revoked,
    #[error("agency not in the directory")]
    UnknownAgency,
}

/// What a valid token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub issuer: String,
    pub subject: String,
    pub jti: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    /// `preferred_username`, else `sub`.
    pub username: String,
    /// `name`, else the username.
    pub display_name: String,
    pub agency_id: Uuid,
    /// Allowed TRM roles named by the token (at least one), without duplicates.
    pub roles: Vec<Role>,
}

impl VerifiedToken {
    /// The stable user id of this subject of this issuer (UUID v5).
    pub fn user_id(&self) -> Uuid {
        user_id(&self.issuer, &self.subject)
    }
}

/// The stable user id of `subject` at `issuer` (UUID v5 in [`USER_ID_NAMESPACE`]).
pub fn user_id(issuer: &str, subject: &str) -> Uuid {
    Uuid::new_v5(
        &USER_ID_NAMESPACE,
        format!("{issuer}\u{0}{subject}").as_bytes(),
    )
}

/// One signing key of the issuer.
struct VerifyKey {
    key: DecodingKey,
    /// The algorithms this key may verify: its type's, narrowed by its own `alg` and by the
    /// configured list.
    algorithms: Vec<Algorithm>,
    /// For Ed25519 keys: verified strictly before anything else.
    ed25519: Option<ed25519_dalek::VerifyingKey>,
}

type KeySet = HashMap<String, Arc<VerifyKey>>;

/// The trusted issuer: its settings and current keys. Cheap to share (`Arc`).
pub struct Oidc {
    config: OidcConfig,
    keys: RwLock<Arc<KeySet>>,
    /// When the JWKS was last fetched because of an unknown `kid` (rate limit); held while
    /// such a fetch runs so that concurrent requests do not fetch too.
    last_on_demand: tokio::sync::Mutex<Option<Instant>>,
    client: Option<reqwest::Client>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("issuer", &self.config.issuer)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// Checks the settings and loads the keys (reads the file, or fetches the URL). For a URL,
    /// also starts the periodic refresh, which stops when the returned value is dropped.
    pub async fn start(config: OidcConfig, production: bool) -> Result<Arc<Oidc>, OidcConfigError> {
        config.check(production)?;
        // Select the pure-Rust provider explicitly (harmless if one is already installed).
        let _ = jsonwebtoken::crypto::CryptoProvider::install_default(
            &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        );
        let (keys, client) = match &config.jwks {
            JwksSource::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| OidcConfigError::JwksFile {
                    path: path.clone(),
                    source,
                })?;
                (parse_jwks(&bytes, &config.algorithms)?, None)
            }
            JwksSource::Url(url) => {
                let client = reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::limited(3))
                    .build()
                    .map_err(|e| OidcConfigError::JwksFetch(e.to_string()))?;
                let bytes = fetch(&client, url).await?;
                (parse_jwks(&bytes, &config.algorithms)?, Some(client))
            }
        };
        let refresh = config.refresh_interval;
        let oidc = Arc::new(Oidc {
            config,
            keys: RwLock::new(Arc::new(keys)),
            last_on_demand: tokio::sync::Mutex::new(None),
            client,
        });
        if oidc.client.is_some() && !refresh.is_zero() {
            tokio::spawn(refresh_periodically(Arc::downgrade(&oidc), refresh));
        }
        Ok(oidc)
    }

    /// The settings.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Fetches the JWKS URL again and, when it holds usable keys, replaces the keys with them.
    /// Keeps the current keys on any failure. No-op for a JWKS file.
    pub async fn refresh(&self) -> Result<(), OidcConfigError> {
        let (Some(client), JwksSource::Url(url)) = (&self.client, &self.config.jwks) else {
            return Ok(());
        };
        let bytes = fetch(client, url).await?;
        let keys = parse_jwks(&bytes, &self.config.algorithms)?;
        if let Ok(mut current) = self.keys.write() {
            *current = Arc::new(keys);
        }
        Ok(())
    }

    fn key(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        self.keys.read().ok().and_then(|k| k.get(kid).cloned())
    }

    /// The key named `kid`; on a miss with a JWKS URL, fetches the JWKS again first, at most
    /// once per [`OidcConfig::min_refresh_interval`].
    async fn key_or_refresh(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        if let Some(key) = self.key(kid) {
            return Some(key);
        }
        self.client.as_ref()?;
        let mut last = self.last_on_demand.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.key(kid) {
            return Some(key);
        }
        if last.is_some_and(|t| t.elapsed() < self.config.min_refresh_interval) {
            return None;
        }
        *last = Some(Instant::now());
        if let Err(err) = self.refresh().await {
            tracing::warn!(error = %err, "OIDC: JWKS refresh for an unknown key id failed");
        }
        self.key(kid)
    }

    /// Verifies a JWT and reads its bearer from it (see the module documentation for the
    /// rules). Does not consult the database.
    pub async fn verify(&self, token: &str) -> Result<VerifiedToken, Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::Malformed);
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return Err(Rejection::Malformed);
        };
        let raw_header: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(Rejection::Malformed)?;
        let alg_name = raw_header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(Rejection::Malformed)?;
        if alg_name.eq_ignore_ascii_case("none") {
            return Err(Rejection::AlgorithmNone);
        }
        let alg = self
            .config
            .algorithms
            .iter()
            .copied()
            .find(|a| format!("{a:?}") == alg_name)
            .ok_or(Rejection::AlgorithmNotAllowed)?;
        if raw_header.contains_key("crit") {
            return Err(Rejection::CriticalHeader);
        }
        if let Some(typ) = raw_header.get("typ") {
            let typ = typ.as_str().ok_or(Rejection::TokenType)?;
            let typ = typ.to_ascii_lowercase();
            let typ = typ.strip_prefix("application/").unwrap_or(&typ);
            if typ != "jwt" && typ != "at+jwt" {
                return Err(Rejection::TokenType);
            }
        }
        let kid = raw_header
            .get("kid")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or(Rejection::MissingKeyId)?;
        let key = self
            .key_or_refresh(kid)
            .await
            .ok_or(Rejection::UnknownKey)?;
        if !key.algorithms.contains(&alg) {
            return Err(Rejection::KeyMismatch);
        }
        if let Some(ed) = &key.ed25519 {
            let signature = URL_SAFE_NO_PAD
                .decode(signature_b64)
                .ok()
                .and_then(|s| ed25519_dalek::Signature::from_slice(&s).ok())
                .ok_or(Rejection::BadSignature)?;
            let message = format!("{header_b64}.{payload_b64}");
            ed.verify_strict(message.as_bytes(), &signature)
                .map_err(|_| Rejection::BadSignature)?;
        }
        let mut validation = Validation::new(alg);
        let mut required = vec!["exp", "iss", "aud", "sub"];
        if self.config.require_nbf {
            required.push("nbf");
        }
        validation.set_required_spec_claims(&required);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.leeway = self.config.leeway.as_secs();
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation)
            .map_err(|e| rejection(e.kind()))?
            .claims;
        self.read_claims(&claims)
    }

    /// Checks the claims the library does not, and maps them to a bearer.
    fn read_claims(&self, claims: &Map<String, Value>) -> Result<VerifiedToken, Rejection> {
        let string = |name: &str| -> Result<Option<&str>, Rejection> {
            match claims.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(Rejection::InvalidClaim(name.to_string())),
            }
        };
        let issuer = string("iss")?.ok_or_else(|| Rejection::MissingClaim("iss".into()))?;
        if issuer != self.config.issuer {
            return Err(Rejection::WrongIssuer);
        }
        let subject = string("sub")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Rejection::MissingClaim("sub".into()))?;
        if subject.len() > 255 {
            return Err(Rejection::InvalidClaim("sub".into()));
        }
        let now = Utc::now().timestamp();
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        let issued_at = match claims.get("iat") {
            None | Some(Value::Null) => None,
            Some(v) => {
                let secs = v
                    .as_i64()
                    .or_else(|| v.as_f64().map(|f| f as i64))
                    .ok_or_else(|| Rejection::InvalidClaim("iat".into()))?;
                if secs > now.saturating_add(leeway) {
                    return Err(Rejection::IssuedInFuture);
                }
                Some(
                    DateTime::from_timestamp(secs, 0)
                        .ok_or_else(|| Rejection::InvalidClaim("iat".into()))?,
                )
            }
        };
        let jti = string("jti")?.map(str::to_string);
        let username = string("preferred_username")?
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(subject);
        let username: String = username.chars().take(100).collect();
        let display_name = string("name")?
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(200).collect())
            .unwrap_or_else(|| username.clone());
        let agency_claim = &self.config.agency_claim;
        let agency_id =
            string(agency_claim)?.ok_or_else(|| Rejection::MissingClaim(agency_claim.clone()))?;
        let agency_id = Uuid::parse_str(agency_id.trim())
            .map_err(|_| Rejection::InvalidClaim(agency_claim.clone()))?;
        let roles_claim = &self.config.roles_claim;
        let names: Vec<&str> = match claims.get(roles_claim) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.split_whitespace().collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| Rejection::InvalidClaim(roles_claim.clone()))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(Rejection::InvalidClaim(roles_claim.clone())),
        };
        let mut roles: Vec<Role> = Vec::new();
        for role in names.iter().filter_map(|n| n.parse::<Role>().ok()) {
            if self.config.allowed_roles.contains(&role) && !roles.contains(&role) {
                roles.push(role);
            }
        }
        if roles.is_empty() {
            return Err(Rejection::NoRole);
        }
        Ok(VerifiedToken {
            issuer: issuer.to_string(),
            subject: subject.to_string(),
            jti,
            issued_at,
            username,
            display_name,
            agency_id,
            roles,
        })
    }
}

/// The reason for a library error.
fn rejection(kind: &ErrorKind) -> Rejection {
    match kind {
        ErrorKind::InvalidSignature => Rejection::BadSignature,
        ErrorKind::ExpiredSignature => Rejection::Expired,
        ErrorKind::ImmatureSignature => Rejection::NotYetValid,
        ErrorKind::InvalidIssuer => Rejection::WrongIssuer,
        ErrorKind::InvalidAudience => Rejection::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) => Rejection::MissingClaim(c.clone()),
        ErrorKind::InvalidClaimFormat(c) => Rejection::InvalidClaim(c.clone()),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => Rejection::AlgorithmNotAllowed,
        ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidKeyFormat => Rejection::KeyMismatch,
        _ => Rejection::Malformed,
    }
}

async fn refresh_periodically(oidc: Weak<Oidc>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(oidc) = oidc.upgrade() else {
            return;
        };
        if let Err(err) = oidc.refresh().await {
            tracing::warn!(error = %err, "OIDC: periodic JWKS refresh failed; keeping the current keys");
        }
    }
}

/// GETs the JWKS (see [`fetch_document`]).
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, OidcConfigError> {
    fetch_document(client, url)
        .await
        .map_err(OidcConfigError::JwksFetch)
}

/// GETs a JSON document of the issuer (its JWKS, its discovery document), refusing
/// non-success answers and documents over [`MAX_JWKS_BYTES`]; the error says why, without the
/// URL's query.
pub(crate) async fn fetch_document(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let failed = |e: reqwest::Error| e.without_url().to_string();
    let mut response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(failed)?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err("document too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads the usable signing keys of a JWKS document. Keys without `kid`, not for signatures,
/// symmetric, of an unsupported type or curve, too weak, or usable with none of `allowed` are
/// left out (logged); a repeated `kid` keeps its first key. Fails when no key is left.
fn parse_jwks(bytes: &[u8], allowed: &[Algorithm]) -> Result<KeySet, OidcConfigError> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| OidcConfigError::JwksInvalid(e.to_string()))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| OidcConfigError::JwksInvalid("no `keys` array".into()))?;
    let mut set = KeySet::new();
    for (index, jwk) in keys.iter().enumerate() {
        match parse_jwk(jwk, allowed) {
            Ok((kid, key)) => {
                if let std::collections::hash_map::Entry::Vacant(entry) = set.entry(kid) {
                    entry.insert(Arc::new(key));
                } else {
                    tracing::warn!(index, "OIDC: JWKS key id repeated; the first key is used");
                }
            }
            Err(why) => tracing::info!(index, reason = why, "OIDC: JWKS key left out"),
        }
    }
    if set.is_empty() {
        return Err(OidcConfigError::NoUsableKey);
    }
    Ok(set)
}

fn b64(jwk: &Value, name: &str) -> Result<Vec<u8>, &'static str> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
        .ok_or("missing or malformed key parameter")
}

/// One JWK as (kid, key), or why it is left out.
fn parse_jwk(jwk: &Value, allowed: &[Algorithm]) -> Result<(String, VerifyKey), &'static str> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let kid = text("kid")
        .filter(|k| !k.is_empty())
        .ok_or("no key id")?
        .to_string();
    if text("use").is_some_and(|u| u != "sig") {
        return Err("not a signature key (use)");
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verify = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|o| o.as_str() == Some("verify")));
        if !verify {
            return Err("not a verification key (key_ops)");
        }
    }
    if jwk.get("d").is_some() {
        return Err("private key material in a JWKS");
    }
    let mut ed25519 = None;
    let (family, key): (&[Algorithm], DecodingKey) = match text("kty") {
        Some("RSA") => {
            let n = b64(jwk, "n")?;
            let e = b64(jwk, "e")?;
            let bits = n
                .iter()
                .position(|b| *b != 0)
                .map_or(0, |first| (n.len() - first) * 8);
            if bits < MIN_RSA_BITS {
                return Err("RSA key shorter than 2048 bits");
            }
            (
                &[
                    Algorithm::RS256,
                    Algorithm::RS384,
                    Algorithm::RS512,
                    Algorithm::PS256,
                    Algorithm::PS384,
                    Algorithm::PS512,
                ],
                DecodingKey::from_rsa_raw_components(&n, &e),
            )
        }
        Some("EC") => {
            let (alg, size): (&[Algorithm], usize) = match text("crv") {
                Some("P-256") => (&[Algorithm::ES256], 32),
                Some("P-384") => (&[Algorithm::ES384], 48),
                _ => return Err("unsupported EC curve"),
            };
            let (x, y) = (b64(jwk, "x")?, b64(jwk, "y")?);
            if x.len() != size || y.len() != size {
                return Err("EC coordinates of the wrong size");
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (alg, DecodingKey::from_ec_der(&point))
        }
        Some("OKP") => {
            if text("crv") != Some("Ed25519") {
                return Err("unsupported OKP curve");
            }
            let x: [u8; 32] = b64(jwk, "x")?
                .try_into()
                .map_err(|_| "Ed25519 key of the wrong size")?;
            let verifying =
                ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|_| "invalid Ed25519 key")?;
            if verifying.is_weak() {
                return Err("weak Ed25519 key");
            }
            ed25519 = Some(verifying);
            (&[Algorithm::EdDSA], DecodingKey::from_ed_der(&x))
        }
        Some("oct") => return Err("symmetric key"),
        _ => return Err("unsupported key type"),
    };
    let own = match text("alg") {
        None => None,
        Some(name) => Some(
            family
                .iter()
                .copied()
                .find(|a| format!("{a:?}") == name)
                .ok_or("key algorithm does not fit its type")?,
        ),
    };
    let algorithms: Vec<Algorithm> = family
        .iter()
        .copied()
        .filter(|a| own.is_none_or(|own| own == *a) && allowed.contains(a))
        .collect();
    if algorithms.is_empty() {
        return Err("no configured algorithm fits the key");
    }
    Ok((
        kid,
        VerifyKey {
            key,
            algorithms,
            ed25519,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_lists_refuse_none_and_hmac() {
        assert_eq!(
            parse_algorithms("RS256, ES256,EdDSA").ok(),
            Some(vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA])
        );
        for bad in ["none", "HS256", "RS256,HS512", "", "rs256"] {
            assert!(parse_algorithms(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwks_keys_that_cannot_be_trusted_are_left_out() {
        let doc = serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "short", "n": URL_SAFE_NO_PAD.encode([0xffu8; 128]), "e": "AQAB"},
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xffu8; 256]), "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": URL_SAFE_NO_PAD.encode([0xffu8; 256]), "e": "AQAB"},
            {"kty": "RSA", "kid": "ps", "alg": "PS256", "n": URL_SAFE_NO_PAD.encode([0xffu8; 256]), "e": "AQAB"},
            {"kty": "OKP", "kid": "weak", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([0u8; 32])},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "good", "n": URL_SAFE_NO_PAD.encode([0xffu8; 256]), "e": "AQAB"},
        ]});
        let bytes = serde_json::to_vec(&doc).unwrap_or_default();
        let set = parse_jwks(&bytes, &[Algorithm::RS256]).unwrap_or_default();
        let mut kids: Vec<&String> = set.keys().collect();
        kids.sort();
        assert_eq!(kids, vec!["good"]);
        assert!(matches!(
            parse_jwks(br#"{"keys": []}"#, &[Algorithm::RS256]),
            Err(OidcConfigError::NoUsableKey)
        ));
    }

    #[test]
    fn unsafe_settings_are_refused_at_start() {
        let url = |u: &str| OidcConfig::new("https://idp", "trm", JwksSource::Url(u.into()));
        assert!(url("https://idp/jwks").check(true).is_ok());
        assert!(url("http://idp/jwks").check(false).is_ok());
        assert!(
            url("http://idp/jwks").check(true).is_err(),
            "https in production"
        );
        assert!(url("file:///etc/jwks").check(false).is_err());
        let mut config = url("https://idp/jwks");
        config.algorithms = vec![Algorithm::HS256];
        assert!(config.check(false).is_err(), "HMAC");
        let mut config = url("https://idp/jwks");
        config.leeway = Duration::from_secs(3600);
        assert!(config.check(false).is_err(), "leeway");
        assert!(
            OidcConfig::new("", "trm", JwksSource::File("x".into()))
                .check(false)
                .is_err()
        );
    }

    #[test]
    fn user_ids_are_stable_per_issuer_and_subject() {
        assert_eq!(user_id("https://a", "x"), user_id("https://a", "x"));
        assert_ne!(user_id("https://a", "x"), user_id("https://b", "x"));
        assert_ne!(user_id("https://a", "xy"), user_id("https://ax", "y"));
    }
}
