//! Tamper evidence: the RFC 6962 Merkle tree over every case event, signed checkpoints and
//! the verifier behind `trm audit verify`.

pub mod export;
pub mod merkle;
pub mod printable;
pub mod replay;
pub mod verify;

use crate::domain::audit_log::{Leaf, StoredCheckpoint};
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use merkle::Hash;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The scheduler signs a checkpoint when the log grew and the latest checkpoint is at least
/// this many minutes old.
pub const CHECKPOINT_EVERY_MINUTES: i64 = 10;

/// Why a key file (the audit key, the person-match key) could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key file {0}: {1}")]
    Read(String, #[source] std::io::Error),
    #[error("cannot write the key file {0}: {1}")]
    Write(String, #[source] std::io::Error),
    #[error("the key file {0} must hold a 32-byte seed, raw or hex")]
    Format(String),
    #[error("the key file {0} does not exist (it is generated only without --production)")]
    Missing(String),
}

/// The Ed25519 key that signs checkpoints.
#[derive(Clone)]
pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.key_id())
    }
}

impl AuditKey {
    /// The key of a 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> AuditKey {
        AuditKey {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// A fresh random key.
    pub fn generate() -> AuditKey {
        AuditKey::from_seed(rand::random())
    }

    /// Reads a key file: 32 raw bytes, or 64 hex digits (surrounding whitespace ignored).
    pub fn load(path: &Path) -> Result<AuditKey, KeyError> {
        load_seed(path).map(AuditKey::from_seed)
    }

    /// Reads the key file, or, when it does not exist and `generate` is set, writes a new key
    /// there (see [`load_or_generate_seed`]) and returns it.
    pub fn load_or_generate(path: &Path, generate: bool) -> Result<AuditKey, KeyError> {
        load_or_generate_seed(path, generate).map(AuditKey::from_seed)
    }

    /// The public key.
    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// The key id: the first 8 bytes of SHA-256 of the public key, hex.
    pub fn key_id(&self) -> String {
        key_id(&self.public())
    }
}

/// Reads a 32-byte secret from a key file (the audit key's seed, the person-match key): 32 raw
/// bytes, or 64 hex digits (surrounding whitespace ignored).
pub fn load_seed(path: &Path) -> Result<[u8; 32], KeyError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| KeyError::Read(name.clone(), e))?;
    let seed: Option<[u8; 32]> = if bytes.len() == 32 {
        bytes.as_slice().try_into().ok()
    } else {
        std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| hex::decode(s.trim()).ok())
            .and_then(|b| b.as_slice().try_into().ok())
    };
    seed.ok_or(KeyError::Format(name))
}

/// Reads the key file, or, when it does not exist and `generate` is set, writes a new random
/// secret there (hex, readable by the owner only, in a directory created readable by the owner
/// only) and returns it. Instances starting at once all end up with the same secret: the new
/// file is linked into place only if none is there yet, and otherwise the one there is read.
pub fn load_or_generate_seed(path: &Path, generate: bool) -> Result<[u8; 32], KeyError> {
    if path.exists() {
        return load_seed(path);
    }
    let name = path.display().to_string();
    if !generate {
        return Err(KeyError::Missing(name));
    }
    let seed: [u8; 32] = rand::random();
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        create_private_dir(dir).map_err(|e| KeyError::Write(name.clone(), e))?;
    }
    let text = hex::encode(seed);
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    let draft = dir.unwrap_or(Path::new("")).join(format!(
        ".{file_name}.{}.new",
        uuid::Uuid::now_v7().simple()
    ));
    write_private(&draft, &text).map_err(|e| KeyError::Write(name.clone(), e))?;
    let linked = std::fs::hard_link(&draft, path);
    std::fs::remove_file(&draft).ok();
    match linked {
        Ok(()) => Ok(seed),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_seed(path),
        // A file system without hard links: create the file in place, never over another.
        Err(_) => match write_private(path, &text) {
            Ok(()) => Ok(seed),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_seed(path),
            Err(e) => Err(KeyError::Write(name, e)),
        },
    }
}

/// Creates a new file with `text`, readable by its owner only, and flushes it to disk.
#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Creates `dir` and its missing parents, readable by their owner only.
#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Reads a public key written as 64 hex digits (as `Checkpoint.publicKey` shows it).
pub fn parse_public_key(hex_text: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_text.trim())
        .ok()
        .and_then(|b| b.as_slice().try_into().ok())
        .ok_or_else(|| "a public key is 64 hex digits".to_string())?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid Ed25519 public key".to_string())
}

/// The key id of a public key: the first 8 bytes of its SHA-256, hex.
pub fn key_id(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

/// The text a checkpoint's signature covers.
pub fn checkpoint_text(tree_size: i64, root: &str, time: DateTime<Utc>) -> String {
    format!(
        "trm-checkpoint/v1\n{tree_size}\n{root}\n{}\n",
        time.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// Checks a checkpoint's signature (`verify_strict`) and that its key id is its key's; when
/// `trusted` is not empty, also that it was signed by one of those keys (a list, so that
/// checkpoints signed before a key rotation stay trusted).
pub fn verify_checkpoint(c: &StoredCheckpoint, trusted: &[VerifyingKey]) -> Result<(), String> {
    let public = parse_public_key(&c.public_key)?;
    if key_id(&public) != c.key_id {
        return Err("key id does not match its public key".into());
    }
    if !trusted.is_empty() && !trusted.contains(&public) {
        return Err(format!("signed by key {}, which is not trusted", c.key_id));
    }
    let signature: [u8; 64] = hex::decode(&c.signature)
        .ok()
        .and_then(|b| b.as_slice().try_into().ok())
        .ok_or("malformed signature")?;
    public
        .verify_strict(
            checkpoint_text(c.tree_size, &c.root_hash, c.created_at).as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| "bad signature".to_string())
}

/// The Merkle leaf hash of a stored leaf (an event's chain hash, hex), or `None` if malformed.
pub fn merkle_leaf(leaf_hash_hex: &str) -> Option<Hash> {
    let bytes: [u8; 32] = hex::decode(leaf_hash_hex)
        .ok()?
        .as_slice()
        .try_into()
        .ok()?;
    Some(merkle::leaf_hash(&bytes))
}

/// The Merkle leaf hashes of the first `size` leaves of the log (`leaves` in position order),
/// or what is wrong with them (a position missing, a malformed hash, too few).
pub fn tree_leaves(leaves: &[Leaf], size: i64) -> Result<Vec<Hash>, String> {
    let mut out = Vec::with_capacity(leaves.len());
    for (i, l) in leaves.iter().enumerate() {
        if l.position != i as i64 {
            return Err(format!("audit log position {i} is missing"));
        }
        out.push(
            merkle_leaf(&l.leaf_hash)
                .ok_or_else(|| format!("audit log position {i} is malformed"))?,
        );
    }
    if out.len() as i64 != size {
        return Err(format!("audit log has fewer than {size} leaves"));
    }
    Ok(out)
}

/// A checkpoint of the log whose Merkle leaf hashes are `leaves`, signed with `key` at `now`.
pub fn sign_checkpoint(key: &AuditKey, leaves: &[Hash], now: DateTime<Utc>) -> StoredCheckpoint {
    let size = leaves.len() as i64;
    let root = hex::encode(merkle::root(leaves));
    let signature = key
        .signing
        .sign(checkpoint_text(size, &root, now).as_bytes());
    StoredCheckpoint {
        tree_size: size,
        root_hash: root,
        created_at: now,
        key_id: key.key_id(),
        public_key: hex::encode(key.public().as_bytes()),
        signature: hex::encode(signature.to_bytes()),
    }
}
