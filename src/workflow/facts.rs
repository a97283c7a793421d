//! The vocabulary of a workflow definition that guards are checked against: typed facts and
//! their labels.

use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Human labels by ISO 639-1 language code. Every label has at least `en` and `fr`
/// (West and Central African partners work in French).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Labels(pub BTreeMap<String, String>);

impl Labels {
    /// The label in `language`, falling back to English.
    pub fn get(&self, language: &str) -> &str {
        self.0
            .get(language)
            .or_else(|| self.0.get("en"))
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// The type of a fact; values recorded by transitions are checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactType {
    Bool,
    String,
    Int,
    /// One of a fixed list of values.
    Enum,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

/// A named, typed piece of procedural information about a case (not personal data).
#[derive(Debug, Clone)]
pub struct Fact {
    pub name: String,
    pub kind: FactType,
    /// For `enum` facts: the allowed values.
    pub values: Vec<String>,
    pub label: Labels,
    /// For `enum` facts: the labels the definition gives its values (any may be missing).
    pub value_labels: BTreeMap<String, Labels>,
}

impl Fact {
    /// How a value of this fact reads in `language`: its label in the definition (in English
    /// when the language has none), else the value with `_` as spaces.
    pub fn value_label(&self, value: &str, language: &str) -> String {
        match self.value_labels.get(value).map(|l| l.get(language)) {
            Some(label) if !label.is_empty() => label.to_string(),
            _ => value.replace('_', " "),
        }
    }

    /// Whether `value` is a valid value of this fact (`null` never is).
    pub fn accepts(&self, value: &Json) -> bool {
        match (self.kind, value) {
            (FactType::Bool, Json::Bool(_)) => true,
            (FactType::String, Json::String(s)) => s.chars().count() <= MAX_STRING_FACT_CHARS,
            (FactType::Int, Json::Number(n)) => n.is_i64(),
            (FactType::Enum, Json::String(s)) => self.values.iter().any(|v| v == s),
            (FactType::Date, Json::String(s)) => is_date(s),
            _ => false,
        }
    }

    /// A human description of the accepted values, for error messages.
    pub fn expected(&self) -> String {
        match self.kind {
            FactType::Bool => "true or false".into(),
            FactType::String => format!("a string of at most {MAX_STRING_FACT_CHARS} characters"),
            FactType::Int => "an integer".into(),
            FactType::Enum => format!("one of {}", self.values.join(", ")),
            FactType::Date => "a date as YYYY-MM-DD".into(),
        }
    }
}

/// Whether `s` is exactly `YYYY-MM-DD` and a real date. chrono's `%Y` alone also takes signs,
/// other widths and padding (` 2026-1-1`, `-262143-01-01`), and due dates computed from the
/// edges of its range overflow later date arithmetic.
fn is_date(s: &str) -> bool {
    let shape = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shape && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Longest string a `string` fact may hold. Facts are procedural notes, not files.
pub const MAX_STRING_FACT_CHARS: usize = 2000;
