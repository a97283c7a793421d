//! Finding the same person again without learning who she is: the match keys of an identity.
//!
//! An identity (her names, and the years she may have been born in) is normalised so that the
//! ways one name is written in different countries meet: other scripts transliterated to Latin,
//! diacritics, case and punctuation removed, common transliteration variants folded (`ou`/`u`,
//! `ph`/`f`, `kh`/`h`, `y`/`i`, `dj`/`j`, doubled letters ...), the order of the names ignored
//! (given and family names come in either order), one name more or less tolerated. Each
//! normalised name and each birth year of the range makes one key: HMAC-SHA256 under a secret
//! that only the service holds ([`MatchSecret`]). The database keeps the keys, never the
//! normalised names; without the secret a key cannot be tested against a guessed name. Two
//! identities match when they share a key.
//!
//! Pure: no I/O; the secret comes in as an argument. Its tests (over half of the file) are the
//! normalisation's specification.

use hmac::{Hmac, Mac};
use serde_json::Value as Json;
use sha2::Sha256;
use std::collections::BTreeSet;

/// The widest birth-year range that is matched: `to − from` at most this many years (one key
/// per year). An estimate wider than this says too little to match on.
pub const MAX_RANGE_YEARS: i32 = 10;
/// The earliest birth year accepted.
pub const MIN_BIRTH_YEAR: i32 = 1900;
/// Names of more tokens are cut to their first this many (sorted) tokens.
pub const MAX_NAME_TOKENS: usize = 6;
/// At most this many names (the name and its aliases) make keys.
pub const MAX_NAMES: usize = 6;

/// What the keys commit to besides the name and the year: the scheme's version, so that a
/// change of normalisation cannot meet keys made the old way.
const DOMAIN: &[u8] = b"trm-person-match/v1";

/// The secret the match keys are derived with. It lives in a key file of the service (like the
/// audit key) and never leaves it: not in the database, not in a log, not in an answer.
#[derive(Clone)]
pub struct MatchSecret([u8; 32]);

impl std::fmt::Debug for MatchSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MatchSecret({})", self.key_id())
    }
}

impl MatchSecret {
    /// The secret of a 32-byte seed (the key file's content).
    pub fn from_seed(seed: [u8; 32]) -> MatchSecret {
        MatchSecret(seed)
    }

    /// A fresh random secret (an instance on an in-memory database, tests).
    pub fn generate() -> MatchSecret {
        MatchSecret(rand::random())
    }

    /// Names the secret without revealing it: the first 8 bytes of its HMAC of a fixed label,
    /// hex. Stored with every key, so that keys made under another secret are never compared.
    pub fn key_id(&self) -> String {
        hex::encode(&self.mac(&[b"key-id"])[..8])
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts a key of any length: this cannot fail.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            return [0; 32];
        };
        mac.update(DOMAIN);
        for part in parts {
            mac.update(&[0]);
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

/// The years a person may have been born in, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BirthYears {
    pub from: i32,
    pub to: i32,
}

impl BirthYears {
    /// One year (an exact date of birth).
    pub fn exact(year: i32) -> BirthYears {
        BirthYears {
            from: year,
            to: year,
        }
    }

    /// Whether the range can be matched on: ordered, from [`MIN_BIRTH_YEAR`] on, at most
    /// [`MAX_RANGE_YEARS`] wide.
    pub fn is_matchable(&self) -> bool {
        self.from >= MIN_BIRTH_YEAR
            && self.from <= self.to
            && self.to - self.from <= MAX_RANGE_YEARS
    }
}

/// What the match looks at: the names she is known by and the years she may have been born in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchIdentity {
    /// Each a whole name as written (given and family names, in any order and script).
    pub names: Vec<String>,
    pub born: BirthYears,
}

impl MatchIdentity {
    /// The identity an IDENTITY group records, if it says enough to match on: a name
    /// (`names`, or `givenNames` and `familyName`; more in `aliases`) and a year of birth
    /// (`dateOfBirth`, a date or a year, or an estimate `dateOfBirthEstimate: {from, to}` of
    /// years or dates, at most [`MAX_RANGE_YEARS`] wide). `None` otherwise: no keys.
    pub fn of_identity_group(value: &Json) -> Option<MatchIdentity> {
        let text = |v: &Json| -> Vec<String> {
            match v {
                Json::String(s) => vec![s.clone()],
                Json::Array(items) => items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut names = Vec::new();
        if let Some(v) = value.get("names") {
            names.push(text(v).join(" "));
        }
        let parts: Vec<String> = ["givenNames", "givenName", "familyName", "familyNames"]
            .iter()
            .filter_map(|k| value.get(*k))
            .flat_map(text)
            .collect();
        if !parts.is_empty() {
            names.push(parts.join(" "));
        }
        if let Some(v) = value.get("aliases") {
            names.extend(text(v));
        }
        names.retain(|n| !n.trim().is_empty());
        let born = match value.get("dateOfBirth").and_then(year_of) {
            Some(year) => BirthYears::exact(year),
            None => {
                let estimate = value.get("dateOfBirthEstimate")?;
                BirthYears {
                    from: estimate.get("from").and_then(year_of)?,
                    to: estimate.get("to").and_then(year_of)?,
                }
            }
        };
        (!names.is_empty() && born.is_matchable()).then_some(MatchIdentity { names, born })
    }

    /// The identity's match keys under `secret` (hex): one per normalised name variant and
    /// birth year. Empty when no name has a letter or the years cannot be matched on.
    pub fn keys(&self, secret: &MatchSecret) -> BTreeSet<String> {
        if !self.born.is_matchable() {
            return BTreeSet::new();
        }
        let variants: BTreeSet<String> = self
            .names
            .iter()
            .take(MAX_NAMES)
            .flat_map(|n| name_variants(&normalise_name(n)))
            .collect();
        let mut keys = BTreeSet::new();
        for name in &variants {
            for year in self.born.from..=self.born.to {
                let year = year.to_string();
                keys.insert(hex::encode(secret.mac(&[name.as_bytes(), year.as_bytes()])));
            }
        }
        keys
    }
}

/// The year of a date (`1999-03-02`, `1999-03`), of a year (`"1999"`, `1999`); `None` for
/// anything else.
fn year_of(v: &Json) -> Option<i32> {
    match v {
        Json::Number(n) => n.as_i64().and_then(|y| i32::try_from(y).ok()),
        Json::String(s) => {
            let year = s.trim().get(..4)?;
            let rest = &s.trim()[4..];
            if !year.bytes().all(|b| b.is_ascii_digit())
                || !(rest.is_empty() || rest.starts_with('-'))
            {
                return None;
            }
            year.parse().ok()
        }
        _ => None,
    }
}

/// A name's normalised tokens, sorted: transliterated to ASCII, lower case, apostrophes
/// dropped (`N'Diaye` is `ndiaye`), split at everything else that is not a letter, each token
/// folded ([`fold_token`]), initials (one letter) left out, at most [`MAX_NAME_TOKENS`].
pub fn normalise_name(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode(name).to_ascii_lowercase();
    let mut tokens: Vec<String> = ascii
        .replace(['\'', '`'], "")
        .split(|c: char| !c.is_ascii_lowercase())
        .map(fold_token)
        .filter(|t| t.len() > 1)
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens.truncate(MAX_NAME_TOKENS);
    tokens
}

/// Spellings of one sound across transliteration conventions, folded to one (longest first:
/// they are tried in this order at each position).
const FOLDS: &[(&str, &str)] = &[
    ("sch", "sh"),
    ("tch", "sh"),
    ("dzh", "j"),
    ("ch", "sh"),
    ("dj", "j"),
    ("zh", "j"),
    ("ph", "f"),
    ("kh", "h"),
    ("gh", "g"),
    ("th", "t"),
    ("dh", "d"),
    ("ck", "k"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("q", "k"),
    ("x", "ks"),
    ("y", "i"),
    ("w", "v"),
];

/// One lower-case ASCII token with transliteration variants folded (`ou`→`u`, `ph`→`f`,
/// `kh`→`h`, `y`→`i`, `dj`→`j`, `ch`→`sh` ...; see `FOLDS`) and doubled letters made single:
/// `aissatou` and `aisatu` are one token, `mariya` and `mariia` are `maria`.
pub fn fold_token(token: &str) -> String {
    let mut folded = String::with_capacity(token.len());
    let mut rest = token;
    'outer: while !rest.is_empty() {
        for (from, to) in FOLDS {
            if let Some(after) = rest.strip_prefix(from) {
                folded.push_str(to);
                rest = after;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            folded.push(c);
        }
        rest = chars.as_str();
    }
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// The ways one normalised name is matched: the whole name, and for three tokens or more the
/// name less any one of them (a middle name given in one country and not in the other), each
/// as its sorted tokens joined by spaces. None for a single name: it says too little.
pub fn name_variants(tokens: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if tokens.len() < 2 {
        return out;
    }
    out.insert(tokens.join(" "));
    if tokens.len() >= 3 {
        for skip in 0..tokens.len() {
            let less: Vec<&str> = tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, t)| t.as_str())
                .collect();
            out.insert(less.join(" "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret() -> MatchSecret {
        MatchSecret::from_seed([7; 32])
    }

    fn identity(name: &str, from: i32, to: i32) -> MatchIdentity {
        MatchIdentity {
            names: vec![name.to_string()],
            born: BirthYears { from, to },
        }
    }

    fn meet(a: &MatchIdentity, b: &MatchIdentity) -> bool {
        !a.keys(&secret()).is_disjoint(&b.keys(&secret()))
    }

    #[test]
    fn diacritics_case_punctuation_and_order_do_not_matter() {
        let recorded = normalise_name("Aïssatou Diallo");
        assert_eq!(recorded, ["aisatu", "dialo"]);
        for same in [
            "DIALLO Aissatou",
            "diallo, aïssatou",
            "Aissatou  DIALLO.",
            "Aisatu Dialo",
        ] {
            assert_eq!(normalise_name(same), recorded, "{same}");
        }
        assert_eq!(
            normalise_name("N'Diaye Fatou"),
            normalise_name("Fatou Ndiaye")
        );
        assert_eq!(
            normalise_name("Marie-Claire A. Dubois"),
            ["claire", "dubois", "marie"]
        );
    }

    #[test]
    fn other_scripts_are_transliterated_and_variants_folded() {
        assert_eq!(
            normalise_name("Мария Иванова"),
            normalise_name("Maria Ivanova")
        );
        assert_eq!(
            normalise_name("Mariya Iwanowa"),
            normalise_name("Maria Ivanova")
        );
        assert_eq!(
            normalise_name("Марія Іванова"),
            normalise_name("Maria Ivanova")
        );
        assert_eq!(
            normalise_name("Μαρία Παπαδοπούλου"),
            normalise_name("Maria Papadopulu")
        );
        assert_eq!(fold_token("moustapha"), fold_token("mustafa"));
        assert_eq!(fold_token("khadija"), fold_token("hadija"));
        assert_eq!(fold_token("djibril"), fold_token("jibril"));
        assert_eq!(fold_token("aicha"), fold_token("aisha"));
        assert_eq!(fold_token("youssouf"), fold_token("yusuf"));
        assert_ne!(fold_token("maria"), fold_token("mario"));
    }

    #[test]
    fn a_middle_name_more_or_less_still_meets() {
        let recorded = identity("Aïssatou Binta Diallo", 1999, 1999);
        assert!(meet(&recorded, &identity("Diallo Aissatou", 1999, 1999)));
        assert!(meet(&identity("Aissatou Diallo", 1999, 1999), &recorded));
        // One name is never enough.
        assert!(!meet(&recorded, &identity("Aissatou", 1999, 1999)));
        assert!(!meet(
            &identity("Aissatou Diallo", 1999, 1999),
            &identity("Aissatou Bah", 1999, 1999)
        ));
    }

    #[test]
    fn birth_years_meet_only_within_the_range() {
        let recorded = identity("Aïssatou Diallo", 1999, 1999);
        assert!(meet(&recorded, &identity("DIALLO Aissatou", 1998, 2000)));
        assert!(!meet(&recorded, &identity("DIALLO Aissatou", 2001, 2004)));
        assert!(!meet(
            &identity("Aïssatou Diallo", 1990, 1990),
            &identity("Aissatou Diallo", 1998, 2000)
        ));
        // Too wide a range says too little: no keys at all.
        assert!(
            identity("Aissatou Diallo", 1980, 2000)
                .keys(&secret())
                .is_empty()
        );
        assert!(
            identity("Aissatou Diallo", 2000, 1999)
                .keys(&secret())
                .is_empty()
        );
    }

    #[test]
    fn keys_depend_on_the_secret_and_reveal_no_name() {
        let person = identity("Aïssatou Diallo", 1999, 1999);
        let keys = person.keys(&secret());
        assert_eq!(keys.len(), 1);
        let other = person.keys(&MatchSecret::from_seed([8; 32]));
        assert!(keys.is_disjoint(&other));
        for k in &keys {
            assert_eq!(k.len(), 64);
            assert!(!k.contains("dialo") && !k.contains("1999"));
        }
        assert_ne!(secret().key_id(), MatchSecret::from_seed([8; 32]).key_id());
        assert!(!format!("{:?}", secret()).contains("0707"));
    }

    #[test]
    fn the_identity_group_is_read_for_names_and_birth() {
        let exact =
            json!({"names": "Aïssatou Diallo", "dateOfBirth": "1999-03-02", "nationality": "GN"});
        assert_eq!(
            MatchIdentity::of_identity_group(&exact),
            Some(identity("Aïssatou Diallo", 1999, 1999))
        );
        let estimate = json!({"givenNames": "Aissatou", "familyName": "DIALLO",
            "aliases": ["Aicha Diallo"], "dateOfBirthEstimate": {"from": 1998, "to": "2000"}});
        let read = MatchIdentity::of_identity_group(&estimate);
        assert_eq!(
            read.as_ref().map(|i| (i.names.clone(), i.born)),
            Some((
                vec!["Aissatou DIALLO".to_string(), "Aicha Diallo".to_string()],
                BirthYears {
                    from: 1998,
                    to: 2000
                }
            ))
        );
        for says_too_little in [
            json!({"names": "Aïssatou Diallo"}),
            json!({"dateOfBirth": "1999-03-02"}),
            json!({"names": "A", "dateOfBirth": "spring 1999"}),
            json!({"names": "Aïssatou Diallo", "dateOfBirthEstimate": {"from": 1970, "to": 2000}}),
        ] {
            let keys = MatchIdentity::of_identity_group(&says_too_little)
                .map(|i| i.keys(&secret()))
                .unwrap_or_default();
            assert!(keys.is_empty(), "{says_too_little}");
        }
    }
}
