//! Opaque global object IDs (`base64url("Type:key")`) and cursors.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// Encodes a typed global ID.
pub fn encode(kind: &str, key: &str) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{key}")))
}

/// Decodes a global ID into (type, key); `None` for anything malformed.
pub fn decode(id: &str) -> Option<(String, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (kind, key) = text.split_once(':')?;
    Some((kind.to_string(), key.to_string()))
}

/// Decodes a global ID of the expected type whose key is a UUID.
pub fn decode_uuid(id: &str, expected: &str) -> Option<Uuid> {
    let (kind, key) = decode(id)?;
    if kind != expected {
        return None;
    }
    Uuid::parse_str(&key).ok()
}

/// An opaque cursor over a plain value.
pub fn cursor(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(value)
}

/// The value behind a cursor, if well-formed.
pub fn uncursor(cursor: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_other_types() {
        let id = Uuid::now_v7();
        let gid = encode("Case", &id.to_string());
        assert_eq!(decode_uuid(&gid, "Case"), Some(id));
        assert_eq!(decode_uuid(&gid, "Agency"), None);
        assert_eq!(decode_uuid("not base64 !", "Case"), None);
        assert_eq!(
            decode(&encode("Workflow", "trm-adult:1")),
            Some(("Workflow".into(), "trm-adult:1".into()))
        );
    }
}
