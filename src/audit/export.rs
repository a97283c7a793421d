//! The case file an auditor takes away: a case's events with, for each, what its hash commits
//! to, its position in the audit log and its inclusion proof against a signed checkpoint. Its
//! verification here needs no database and no network: `trm audit verify-file case.json`.
//!
//! What the file proves: the events are the case's whole chain (contiguous, each linked to the
//! previous and matching its hash); each is in the log the checkpoint signs; the checkpoint is
//! signed (by a trusted key, when keys are given). The disclosures and access log it also
//! carries are the service's records, listed for reading; they are not covered by the proofs.

use super::merkle::{self, Hash};
use super::{checkpoint_text, verify_checkpoint};
use crate::domain::GENESIS_HASH;
use crate::domain::audit_log::StoredCheckpoint;
use crate::domain::event::chain_hash;
use crate::domain::event::reason_sha256;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// The format tag of the case file.
pub const FORMAT: &str = "trm-case-file/v1";

/// A case file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CaseFile {
    /// Always [`FORMAT`].
    pub format: String,
    pub exported_at: DateTime<Utc>,
    pub case: CaseSummary,
    /// Every event of the case, by `seq`.
    pub events: Vec<FileEvent>,
    /// The signed checkpoint the proofs are against; `None` when the service has no audit key
    /// (then the file cannot be verified, and says so).
    pub checkpoint: Option<FileCheckpoint>,
    /// What left the lead agency, to whom, on which ground (for reading; not proven).
    pub disclosures: Vec<Value>,
    /// Reads of the person's data (for reading; not proven).
    pub access_log: Vec<Value>,
    /// The cases of the same person linked to this one, by reference (for reading; each link
    /// is also a `SAME_PERSON_LINKED` event of the chain). Absent from files of earlier
    /// versions.
    #[serde(default)]
    pub same_person_links: Vec<Value>,
}

/// The case as it stands at export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CaseSummary {
    pub id: Uuid,
    pub reference: String,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub country: String,
    pub status: String,
    pub version: i64,
    pub lead_agency: String,
    pub opened_at: DateTime<Utc>,
    /// Each started track's current state.
    pub states: Vec<(String, String)>,
}

/// One event, with what it takes to check it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileEvent {
    pub seq: i64,
    /// Exactly what the hash commits to besides `prevHash` (the reason only as its SHA-256).
    pub content: Value,
    /// The reason in clear, when recorded (its SHA-256 is in `content`).
    pub reason: Option<String>,
    pub prev_hash: String,
    /// SHA-256(prevHash, "\n", canonical JSON of `content`), hex.
    pub hash: String,
    /// Its leaf index in the audit log.
    pub position: i64,
    /// The RFC 6962 audit path from its leaf to the checkpoint's root, hex, bottom up.
    pub inclusion_proof: Vec<String>,
    /// For reading: the acting agency's code and the actor's name ("system" for the service).
    pub agency: String,
    pub actor: String,
}

/// A signed checkpoint, as in the `Checkpoint` GraphQL type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileCheckpoint {
    pub tree_size: i64,
    pub root_hash: String,
    pub created_at: DateTime<Utc>,
    pub key_id: String,
    pub public_key: String,
    pub signature: String,
    /// The exact text signed (recomputed by the verifier; informative).
    pub signed_text: String,
}

impl From<StoredCheckpoint> for FileCheckpoint {
    fn from(c: StoredCheckpoint) -> Self {
        FileCheckpoint {
            signed_text: checkpoint_text(c.tree_size, &c.root_hash, c.created_at),
            tree_size: c.tree_size,
            root_hash: c.root_hash,
            created_at: c.created_at,
            key_id: c.key_id,
            public_key: c.public_key,
            signature: c.signature,
        }
    }
}

impl From<&FileCheckpoint> for StoredCheckpoint {
    fn from(c: &FileCheckpoint) -> Self {
        StoredCheckpoint {
            tree_size: c.tree_size,
            root_hash: c.root_hash.clone(),
            created_at: c.created_at,
            key_id: c.key_id.clone(),
            public_key: c.public_key.clone(),
            signature: c.signature.clone(),
        }
    }
}

/// What checking a case file found.
#[derive(Debug, Clone, PartialEq)]
pub struct FileReport {
    /// The first problem, naming the event (`seq`) or the checkpoint; `None`: all verified.
    pub first_problem: Option<String>,
    pub events: usize,
    /// The checkpoint's tree size and key id, when there is one.
    pub anchored_to: Option<(i64, String)>,
}

impl FileReport {
    pub fn ok(&self) -> bool {
        self.first_problem.is_none()
    }
}

fn hash_of(hex_text: &str) -> Option<Hash> {
    hex::decode(hex_text).ok()?.as_slice().try_into().ok()
}

/// Checks a case file offline: the checkpoint's signature (by one of `trusted` when not
/// empty), then each event in order: `seq` contiguous from 1, it belongs to the case, its
/// `prevHash` links to the previous event, its reason matches the committed SHA-256, its hash
/// recomputes from its content, and its inclusion proof leads to the checkpoint's root.
pub fn verify_file(file: &CaseFile, trusted: &[VerifyingKey]) -> FileReport {
    let fail = |problem: String| FileReport {
        first_problem: Some(problem),
        events: file.events.len(),
        anchored_to: file
            .checkpoint
            .as_ref()
            .map(|c| (c.tree_size, c.key_id.clone())),
    };
    if file.format != FORMAT {
        return fail(format!("not a {FORMAT} file (format {:?})", file.format));
    }
    let Some(checkpoint) = &file.checkpoint else {
        return fail("no signed checkpoint: the service that exported it has no audit key".into());
    };
    if let Err(e) = verify_checkpoint(&StoredCheckpoint::from(checkpoint), trusted) {
        return fail(format!("checkpoint of size {}: {e}", checkpoint.tree_size));
    }
    let (Some(root), Ok(size)) = (
        hash_of(&checkpoint.root_hash),
        u64::try_from(checkpoint.tree_size),
    ) else {
        return fail("checkpoint: malformed root or size".into());
    };
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in file.events.iter().enumerate() {
        let at = format!("event seq {}", e.seq);
        if e.seq != i as i64 + 1 {
            return fail(format!(
                "{at}: expected seq {}; an event is missing or reordered",
                i + 1
            ));
        }
        let content_case = e.content.get("case_id").and_then(Value::as_str);
        let content_seq = e.content.get("seq").and_then(Value::as_i64);
        if content_case != Some(file.case.id.to_string().as_str()) || content_seq != Some(e.seq) {
            return fail(format!("{at}: its content is of another case or seq"));
        }
        if e.prev_hash != prev {
            return fail(format!(
                "{at}: prevHash does not link to the previous event"
            ));
        }
        let committed = e.content.get("reason_sha256").and_then(Value::as_str);
        if e.reason.as_deref().map(reason_sha256).as_deref() != committed
            && !(e.reason.is_none() && committed.is_some())
        {
            return fail(format!("{at}: the reason is not the one committed to"));
        }
        if chain_hash(&e.prev_hash, &e.content) != e.hash {
            return fail(format!("{at}: content does not match its hash (edited)"));
        }
        let (Some(data), Ok(index)) = (hash_of(&e.hash), u64::try_from(e.position)) else {
            return fail(format!("{at}: malformed hash or position"));
        };
        let path: Option<Vec<Hash>> = e.inclusion_proof.iter().map(|h| hash_of(h)).collect();
        let leaf = merkle::leaf_hash(&data);
        if !path.is_some_and(|p| merkle::verify_inclusion(&leaf, index, size, &p, &root)) {
            return fail(format!(
                "{at}: its inclusion proof does not lead to the checkpoint's root"
            ));
        }
        prev = e.hash.clone();
    }
    if file.case.version != file.events.len() as i64 {
        return fail(format!(
            "the case is at version {} but the file holds {} events",
            file.case.version,
            file.events.len()
        ));
    }
    FileReport {
        first_problem: None,
        events: file.events.len(),
        anchored_to: Some((checkpoint.tree_size, checkpoint.key_id.clone())),
    }
}
