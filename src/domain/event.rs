//! Events: every change to a case, numbered and chained by hash. Pure: building an event and
//! computing its hash need no database, so the unit of work, the bulk seeders and the audit
//! verifier all use the same construction.
//!
//! Each event's hash commits to the previous event's hash and to the event's content, so that
//! an edited, deleted or reordered event breaks the chain of its case. Free-text reasons enter
//! the hash only as their own SHA-256, so that erasing a reason later leaves the chain checkable.

use crate::vocabulary::DataGroup;
pub use crate::vocabulary::EventKind;
use crate::workflow::Changes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use uuid::Uuid;

/// The events that are news of a case: what an agency did on it. Not the service's own records
/// (timers, escalations, alerts, protections), nor oversight (break-glass and its review,
/// exports of the case file, searches for the same person), nor a change of procedure version.
/// Only those recorded by a person count (the service records some of these kinds too, e.g. a
/// referral suspended when a consent is withdrawn).
pub const NEWS: &[EventKind] = &[
    EventKind::CaseOpened,
    EventKind::Transition,
    EventKind::PersonalDataRecorded,
    EventKind::OriginCountrySet,
    EventKind::MovementRecorded,
    EventKind::ConsentRecorded,
    EventKind::ConsentWithdrawn,
    EventKind::Referral,
    EventKind::Transfer,
    EventKind::TransferAccepted,
    EventKind::FeedbackSent,
    EventKind::SamePersonLinked,
];

/// The hash that precedes a case's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One recorded change to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub case_id: Uuid,
    /// 1 for the opening event; equals the case's version after the event.
    pub seq: i64,
    pub kind: EventKind,
    pub transition: Option<String>,
    pub track: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    /// The personal-data groups the reason is shared as: it is shown to whoever may read all
    /// of them as recorded then by the acting agency (see [`crate::access::CaseView::sees_text`]).
    pub reason_shared_as: BTreeSet<DataGroup>,
    /// The agency the reason is addressed to (the other party of a referral or transfer, the
    /// lead for a break-glass justification), if any.
    pub reason_to: Option<Uuid>,
    pub changes: Changes,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub actor_user_id: Uuid,
    pub actor_agency_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
    /// Ids and names of what the event touched (referral, transfer, consent, agencies, groups);
    /// never personal data.
    pub details: Option<serde_json::Value>,
    /// The API names of the free texts withheld from the caller (filled in by the access
    /// model as the event leaves the services; never stored).
    pub withheld: Vec<&'static str>,
}

#[derive(Serialize)]
struct HashedContent<'a> {
    id: Uuid,
    case_id: Uuid,
    seq: i64,
    kind: &'static str,
    transition: &'a Option<String>,
    track: &'a Option<String>,
    from_state: &'a Option<String>,
    to_state: &'a Option<String>,
    reason_sha256: Option<String>,
    // Absent when empty, so that events recorded before reasons could be shared verify as
    // they were hashed.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    reason_shared_as: &'a BTreeSet<DataGroup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason_to: Option<Uuid>,
    changes: &'a Changes,
    workflow_id: &'a str,
    workflow_version: u32,
    actor_user_id: Uuid,
    actor_agency_id: Uuid,
    occurred_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: &'a Option<serde_json::Value>,
}

impl Event {
    /// The hash of this event's content chained to `prev_hash`.
    pub fn compute_hash(&self) -> String {
        chain_hash(&self.prev_hash, &self.content())
    }

    /// Exactly what the hash commits to (besides `prev_hash`), as JSON: the content with the
    /// reason replaced by its SHA-256. Exports carry it so that anyone can recompute the hash.
    pub fn hashed_content(&self) -> serde_json::Value {
        serde_json::to_value(self.content()).unwrap_or_default()
    }

    fn content(&self) -> HashedContent<'_> {
        HashedContent {
            id: self.id,
            case_id: self.case_id,
            seq: self.seq,
            kind: self.kind.as_str(),
            transition: &self.transition,
            track: &self.track,
            from_state: &self.from_state,
            to_state: &self.to_state,
            reason_sha256: self.reason.as_deref().map(reason_sha256),
            reason_shared_as: &self.reason_shared_as,
            reason_to: self.reason_to,
            changes: &self.changes,
            workflow_id: &self.workflow_id,
            workflow_version: self.workflow_version,
            actor_user_id: self.actor_user_id,
            actor_agency_id: self.actor_agency_id,
            occurred_at: self
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            details: &self.details,
        }
    }
}

/// An event's chain hash: SHA-256 of `prev_hash`, a newline and the canonical JSON of its
/// hashed content (see [`Event::hashed_content`]), hex.
pub fn chain_hash<T: Serialize>(prev_hash: &str, content: &T) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(content));
    hex::encode(hasher.finalize())
}

/// SHA-256 of a free-text reason, hex: what the chain commits to instead of the text.
pub fn reason_sha256(reason: &str) -> String {
    hex::encode(Sha256::digest(reason.as_bytes()))
}

/// `value` as JSON with every object's keys sorted, at every depth: the same bytes whatever
/// order a map was built or stored in (PostgreSQL `jsonb` reorders keys; a dependency may switch
/// serde_json to insertion order).
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    if super::canonical::write(value, &mut out).is_ok() {
        return out;
    }
    // What the direct writer leaves (see its module) goes through the value tree.
    out.clear();
    canonical_json_through_value(value, out)
}

/// [`canonical_json`] through a `serde_json::Value` (what the direct writer must equal).
fn canonical_json_through_value<T: Serialize>(value: &T, mut out: Vec<u8>) -> Vec<u8> {
    match serde_json::to_value(value) {
        Ok(v) if write_canonical(&v, &mut out).is_ok() => out,
        _ => Vec::new(),
    }
}

/// Writes `v` compactly with every object's keys in byte order, walking the tree as it is
/// (sorting references to the keys, not rebuilding the maps): the verifier hashes every event
/// of the database this way.
fn write_canonical(v: &serde_json::Value, out: &mut Vec<u8>) -> serde_json::Result<()> {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_canonical(value, out)?;
            }
            out.push(b'}');
        }
        serde_json::Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

/// The names of a fired transition, as an event records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionNames {
    pub transition: String,
    pub track: String,
    pub from: String,
    pub to: String,
}

/// What a new event says, before it is numbered and hashed onto its case's chain (see
/// [`EventDraft::seal`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub kind: EventKind,
    /// The nil UUID for events the service records itself.
    pub actor_user_id: Uuid,
    pub actor_agency_id: Uuid,
    pub transition: Option<TransitionNames>,
    pub reason: Option<String>,
    /// The groups the reason is shared as (see [`Event::reason_shared_as`]).
    pub reason_shared_as: BTreeSet<DataGroup>,
    /// The agency the reason is addressed to (see [`Event::reason_to`]).
    pub reason_to: Option<Uuid>,
    pub changes: Changes,
    /// Ids and names of what the event touched; never personal data.
    pub details: Option<serde_json::Value>,
}

/// Where a sealed event goes: its case, its place on the chain, and the moment.
#[derive(Debug, Clone, Copy)]
pub struct ChainPosition<'a> {
    pub case_id: Uuid,
    /// The case's version after the event.
    pub seq: i64,
    pub workflow_id: &'a str,
    pub workflow_version: u32,
    pub occurred_at: DateTime<Utc>,
    pub prev_hash: &'a str,
}

impl EventDraft {
    /// A draft with nothing but its kind and actor (user, agency).
    pub fn new(kind: EventKind, (actor_user_id, actor_agency_id): (Uuid, Uuid)) -> EventDraft {
        EventDraft {
            kind,
            actor_user_id,
            actor_agency_id,
            transition: None,
            reason: None,
            reason_shared_as: BTreeSet::new(),
            reason_to: None,
            changes: Changes::default(),
            details: None,
        }
    }

    /// With a free-text reason (shown outside the acting agency only as [`Self::shared`] says).
    pub fn reason(mut self, reason: Option<String>) -> EventDraft {
        self.reason = reason;
        self
    }

    /// With the groups the reason is shared as and the agency it is addressed to (both kept
    /// only when there is a reason).
    pub fn shared(mut self, groups: BTreeSet<DataGroup>, to: Option<Uuid>) -> EventDraft {
        self.reason_shared_as = groups;
        self.reason_to = to;
        self
    }

    /// With the ids and names of what the event touched (never personal data).
    pub fn details(mut self, details: serde_json::Value) -> EventDraft {
        self.details = Some(details);
        self
    }

    /// With the changes to the case's state the event records.
    pub fn changes(mut self, changes: Changes) -> EventDraft {
        self.changes = changes;
        self
    }

    /// The event at `at`, with its id and hash.
    pub fn seal(self, at: ChainPosition<'_>) -> Event {
        let (transition, track, from_state, to_state) = match self.transition {
            Some(t) => (Some(t.transition), Some(t.track), Some(t.from), Some(t.to)),
            None => (None, None, None, None),
        };
        // Whom a reason is shared with means nothing without a reason.
        let (reason_shared_as, reason_to) = match self.reason {
            Some(_) => (self.reason_shared_as, self.reason_to),
            None => (BTreeSet::new(), None),
        };
        let mut event = Event {
            id: Uuid::now_v7(),
            case_id: at.case_id,
            seq: at.seq,
            kind: self.kind,
            transition,
            track,
            from_state,
            to_state,
            reason: self.reason,
            reason_shared_as,
            reason_to,
            changes: self.changes,
            workflow_id: at.workflow_id.to_string(),
            workflow_version: at.workflow_version,
            actor_user_id: self.actor_user_id,
            actor_agency_id: self.actor_agency_id,
            occurred_at: at.occurred_at,
            prev_hash: at.prev_hash.to_string(),
            hash: String::new(),
            details: self.details,
            withheld: Vec::new(),
        };
        event.hash = event.compute_hash();
        event
    }
}

#[cfg(test)]
mod tests {
    use super::{ChainPosition, EventDraft, EventKind, GENESIS_HASH, canonical_json};
    use crate::vocabulary::DataGroup;
    use serde_json::json;
    use std::collections::BTreeSet;
    use uuid::Uuid;

    fn sealed(draft: EventDraft) -> super::Event {
        draft.seal(ChainPosition {
            case_id: Uuid::from_u128(1),
            seq: 2,
            workflow_id: "trm-adult",
            workflow_version: 1,
            occurred_at: chrono::DateTime::default(),
            prev_hash: GENESIS_HASH,
        })
    }

    #[test]
    fn whom_a_reason_is_shared_with_is_hashed_and_absent_from_events_that_share_it_with_no_one() {
        let actor = (Uuid::from_u128(2), Uuid::from_u128(3));
        let private =
            sealed(EventDraft::new(EventKind::Transition, actor).reason(Some("why".into())));
        // The content an event without sharing commits to is the one events had before
        // reasons could be shared: their hashes still verify.
        let keys: Vec<String> = private
            .hashed_content()
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        assert!(
            !keys
                .iter()
                .any(|k| k.starts_with("reason_") && k != "reason_sha256")
        );
        let shared = sealed(
            EventDraft::new(EventKind::Transition, actor)
                .reason(Some("why".into()))
                .shared(
                    BTreeSet::from([DataGroup::LegalStatus]),
                    Some(Uuid::from_u128(4)),
                ),
        );
        let content = shared.hashed_content();
        assert_eq!(content["reason_shared_as"], json!(["LEGAL_STATUS"]));
        assert_eq!(content["reason_to"], json!(Uuid::from_u128(4)));
        // Changing whom it is shared with breaks the hash.
        let mut edited = shared.clone();
        edited.reason_shared_as.insert(DataGroup::Health);
        assert_ne!(edited.compute_hash(), shared.hash);
        // Without a reason there is nothing to share.
        let none = sealed(EventDraft::new(EventKind::Transition, actor).shared(
            BTreeSet::from([DataGroup::Health]),
            Some(Uuid::from_u128(4)),
        ));
        assert!(none.reason_shared_as.is_empty() && none.reason_to.is_none());
    }

    #[test]
    fn canonical_json_does_not_depend_on_key_order() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": null}}"#)
                .unwrap_or_default();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": {"x": null, "y": [1, {"p": 3, "q": 2}]}, "b": 1}"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&json!({"b": 1, "a": 2})),
            br#"{"a":2,"b":1}"#.to_vec()
        );
    }

    /// The bytes every stored hash was computed over must never change: the writer gives
    /// exactly what sorting a rebuilt tree and serialising it gave (escapes, unicode, numbers,
    /// empty and nested containers).
    #[test]
    fn canonical_json_is_byte_for_byte_what_hashes_were_computed_over() {
        fn rebuilt(v: serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(map) => {
                    let mut entries: Vec<_> = map.into_iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    serde_json::Value::Object(
                        entries.into_iter().map(|(k, v)| (k, rebuilt(v))).collect(),
                    )
                }
                serde_json::Value::Array(items) => {
                    serde_json::Value::Array(items.into_iter().map(rebuilt).collect())
                }
                other => other,
            }
        }
        let value = json!({
            "zeta": "quote \" backslash \\ newline \n tab \t nul \u{0} é 日本 😀",
            "Alpha": [1, -2, 3.5, 1e300, 0.1, u64::MAX, i64::MIN, true, false, null],
            "émoji": {"b": {}, "a": [], "c": [{"y": 1, "x": {"k": "v"}}]},
            "a b": "",
            "A": {"10": 1, "9": 2, "_": 3, "~": 4}
        });
        let old = serde_json::to_vec(&rebuilt(value.clone())).unwrap_or_default();
        assert_eq!(canonical_json(&value), old);
        assert_eq!(
            super::canonical_json_through_value(&value, Vec::new()),
            old,
            "the value tree's path gives the same bytes"
        );
    }

    /// The direct writer gives exactly the bytes of the value tree's path for what events and
    /// requests are made of: structs with optional and skipped fields, sets, maps, every shape of
    /// enum, numbers that are not finite; and it leaves what it does not write to that path.
    #[test]
    fn the_direct_writer_and_the_value_tree_write_the_same_bytes() {
        use super::canonical_json_through_value as through_value;
        use serde::Serialize;
        use std::collections::BTreeMap;

        #[derive(Serialize)]
        enum Shape {
            Unit,
            Newtype(u8),
            Tuple(i32, String),
            Struct { z: bool, a: Option<f64> },
        }
        #[derive(Serialize)]
        struct Content {
            zulu: Vec<Shape>,
            alpha: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            skipped: Option<u8>,
            groups: BTreeSet<DataGroup>,
            facts: BTreeMap<String, serde_json::Value>,
            #[serde(flatten)]
            more: BTreeMap<String, i64>,
            nan: f64,
            unit: (),
            tuple: (u8, &'static str),
        }
        let content = Content {
            zulu: vec![
                Shape::Unit,
                Shape::Newtype(7),
                Shape::Tuple(-1, "é\"".into()),
                Shape::Struct {
                    z: true,
                    a: Some(2.5),
                },
                Shape::Struct { z: false, a: None },
            ],
            alpha: None,
            skipped: None,
            groups: [DataGroup::Health, DataGroup::Identity].into(),
            facts: [
                (
                    "b".to_string(),
                    json!({"y": [1, {"q": 2, "p": 3}], "x": 1.5}),
                ),
                ("a".to_string(), json!(null)),
            ]
            .into(),
            more: [("m".to_string(), 1), ("c".to_string(), -3)].into(),
            nan: f64::NAN,
            unit: (),
            tuple: (1, "x"),
        };
        let mut direct = Vec::new();
        assert!(
            super::super::canonical::write(&content, &mut direct).is_ok(),
            "written directly, not left to the value tree"
        );
        assert_eq!(direct, through_value(&content, Vec::new()));
        let event = EventDraft::new(EventKind::Transition, (Uuid::nil(), Uuid::nil()))
            .reason(Some("a reason".into()))
            .shared([DataGroup::LegalStatus].into(), Some(Uuid::nil()))
            .details(json!({"referral": "r-1", "byStep": true}))
            .seal(ChainPosition {
                case_id: Uuid::nil(),
                seq: 1,
                workflow_id: "trm-adult",
                workflow_version: 5,
                occurred_at: chrono::DateTime::UNIX_EPOCH,
                prev_hash: GENESIS_HASH,
            });
        let mut direct = Vec::new();
        assert!(super::super::canonical::write(&event.content(), &mut direct).is_ok());
        assert_eq!(direct, through_value(&event.content(), Vec::new()));
        // A map with keys that are not strings: left to the value tree, same bytes.
        let numbered: BTreeMap<u32, &str> = [(10, "a"), (9, "b")].into();
        assert!(super::super::canonical::write(&numbered, &mut Vec::new()).is_err());
        assert_eq!(
            canonical_json(&numbered),
            through_value(&numbered, Vec::new())
        );
    }
}
