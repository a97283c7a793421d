//! Keeps error messages from repeating values a request carried.
//!
//! Some messages quote what the client sent: async-graphql's input coercion ("enumeration type
//! \"DataGroup\" does not contain the value \"...\"", "unknown field \"...\""), or ours naming a
//! transition or fact that does not exist. Such a value may be personal data typed into the
//! wrong place, and error messages travel further than data (client logs, gateways, support
//! tickets). So before a response leaves, every string the request carried (variable values and
//! keys, literals in the query) is looked for in every error message and extension, and replaced
//! by [`WITHHELD`]. Identifiers (`start_screening`, `caseId`, `IDENTITY`) and strings shorter than
//! [`MIN_CHARS`] are left alone: they are vocabulary, not data, and keep messages useful.

use async_graphql::parser::types::{
    Directive, ExecutableDocument, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::{ErrorExtensionValues, Positioned, Request, Response, Value as ConstValue};
use std::collections::HashSet;

/// What replaces a repeated value.
pub const WITHHELD: &str = "[withheld]";
/// Strings shorter than this (in characters) are not looked for.
pub const MIN_CHARS: usize = 3;
/// Longer strings are looked for even when shaped like an identifier: the vocabulary's are
/// shorter.
pub const MAX_IDENTIFIER_CHARS: usize = 64;
/// More distinct strings than this in one request and every error message is replaced whole.
pub const MAX_CANDIDATES: usize = 1000;

/// The message of an error whose text could not be checked.
const GENERIC: &str = "The request was refused; the explanation is withheld because it could \
                       repeat a value sent with the request";

/// The strings of one request that its errors must not repeat.
#[derive(Debug, Default)]
pub struct RequestEcho {
    /// Longest first, so that a value is replaced before any part of it.
    candidates: Vec<String>,
    /// Too many to check: errors are replaced whole.
    overflow: bool,
}

impl RequestEcho {
    /// Collects the strings of `request`: its variables (values and object keys) and the
    /// literals of its query when it has been parsed ([`super::limits::check_request`]).
    pub fn of(request: &mut Request) -> RequestEcho {
        let mut seen = HashSet::new();
        for (name, value) in request.variables.iter() {
            add(&mut seen, name.as_str());
            const_strings(value, &mut seen);
        }
        if let Ok(document) = request.parsed_query() {
            document_strings(document, &mut seen);
        }
        RequestEcho::from_strings(seen)
    }

    fn from_strings(seen: HashSet<String>) -> RequestEcho {
        if seen.len() > MAX_CANDIDATES {
            return RequestEcho {
                candidates: Vec::new(),
                overflow: true,
            };
        }
        let mut candidates: Vec<String> = seen.into_iter().collect();
        candidates.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        RequestEcho {
            candidates,
            overflow: false,
        }
    }

    /// Replaces the request's values in the messages and extensions of `response`'s errors.
    pub fn scrub(&self, response: &mut Response) {
        if self.candidates.is_empty() && !self.overflow {
            return;
        }
        for error in &mut response.errors {
            if self.overflow {
                error.message = GENERIC.to_string();
                let code = error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get("code"))
                    .cloned();
                error.extensions = code.map(|code| {
                    let mut ext = ErrorExtensionValues::default();
                    ext.set("code", code);
                    ext
                });
                continue;
            }
            if let Some(clean) = self.clean(&error.message) {
                error.message = clean;
            }
            if let Some(ext) = &error.extensions
                && let Ok(mut json) = serde_json::to_value(ext)
                && self.clean_json(&mut json)
            {
                error.extensions = serde_json::from_value(json).ok();
            }
        }
    }

    /// `text` with every candidate replaced, or `None` when it holds none.
    fn clean(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for candidate in &self.candidates {
            let current = out.as_deref().unwrap_or(text);
            if candidate.len() <= current.len() && current.contains(candidate.as_str()) {
                out = Some(current.replace(candidate.as_str(), WITHHELD));
            }
        }
        out
    }

    /// Cleans every string of `value` in place (not object keys: the extensions' keys are the
    /// server's own); whether anything changed.
    fn clean_json(&self, value: &mut serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => match self.clean(s) {
                Some(clean) => {
                    *s = clean;
                    true
                }
                None => false,
            },
            serde_json::Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, v| self.clean_json(v) | changed),
            serde_json::Value::Object(map) => map
                .values_mut()
                .fold(false, |changed, v| self.clean_json(v) | changed),
            _ => false,
        }
    }
}

/// Whether `s` is worth looking for: long enough and not an identifier of the schema's or the
/// workflows' vocabulary (`snake_case`, `camelCase` or `SCREAMING_CASE`). A capitalised word
/// (`Maria`) is looked for, and so is anything longer than [`MAX_IDENTIFIER_CHARS`], whatever
/// its shape (a message would otherwise repeat e.g. a 100 kB "transition name").
fn is_candidate(s: &str) -> bool {
    let chars = s.chars().count();
    if chars < MIN_CHARS {
        return false;
    }
    if chars > MAX_IDENTIFIER_CHARS {
        return true;
    }
    let identifier = |first: fn(&char) -> bool, rest: fn(&char) -> bool| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| first(&c)) && chars.all(|c| rest(&c) || c == '_')
    };
    let snake_or_camel = identifier(char::is_ascii_lowercase, char::is_ascii_alphanumeric);
    let screaming = identifier(char::is_ascii_uppercase, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit()
    });
    !(snake_or_camel || screaming)
}

/// Adds `s`, and the forms in which a message could quote it escaped.
fn add(seen: &mut HashSet<String>, s: &str) {
    if !is_candidate(s) || seen.len() > MAX_CANDIDATES {
        return;
    }
    let debug = format!("{s:?}");
    let debug = debug[1..debug.len() - 1].to_string();
    if debug != s {
        seen.insert(debug);
    }
    if let Ok(json) = serde_json::to_string(s) {
        let json = json[1..json.len() - 1].to_string();
        if json != s {
            seen.insert(json);
        }
    }
    seen.insert(s.to_string());
}

fn const_strings(value: &ConstValue, seen: &mut HashSet<String>) {
    match value {
        ConstValue::String(s) => add(seen, s),
        ConstValue::Enum(name) => add(seen, name.as_str()),
        ConstValue::List(items) => items.iter().for_each(|v| const_strings(v, seen)),
        ConstValue::Object(map) => {
            for (k, v) in map {
                add(seen, k.as_str());
                const_strings(v, seen);
            }
        }
        ConstValue::Null
        | ConstValue::Number(_)
        | ConstValue::Boolean(_)
        | ConstValue::Binary(_) => {}
    }
}

/// The strings of a literal of the query (`async_graphql_value::Value`, which async-graphql does
/// not re-export by name); variables in it count as null, their values are collected from the
/// request's variables.
macro_rules! literal_strings {
    ($value:expr, $seen:expr) => {
        let Ok(value) = $value
            .clone()
            .into_const_with(|_| Ok::<_, std::convert::Infallible>(ConstValue::Null));
        const_strings(&value, $seen);
    };
}

fn document_strings(document: &ExecutableDocument, seen: &mut HashSet<String>) {
    for (_, op) in document.operations.iter() {
        variable_strings(&op.node.variable_definitions, seen);
        directive_strings(&op.node.directives, seen);
        selection_strings(&op.node.selection_set.node, seen);
    }
    for fragment in document.fragments.values() {
        directive_strings(&fragment.node.directives, seen);
        selection_strings(&fragment.node.selection_set.node, seen);
    }
}

fn variable_strings(definitions: &[Positioned<VariableDefinition>], seen: &mut HashSet<String>) {
    for definition in definitions {
        if let Some(default) = &definition.node.default_value {
            const_strings(&default.node, seen);
        }
    }
}

fn directive_strings(directives: &[Positioned<Directive>], seen: &mut HashSet<String>) {
    for directive in directives {
        for (_, value) in &directive.node.arguments {
            literal_strings!(value.node, seen);
        }
    }
}

fn selection_strings(set: &SelectionSet, seen: &mut HashSet<String>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    literal_strings!(value.node, seen);
                }
                directive_strings(&field.node.directives, seen);
                selection_strings(&field.node.selection_set.node, seen);
            }
            Selection::FragmentSpread(spread) => directive_strings(&spread.node.directives, seen),
            Selection::InlineFragment(inline) => {
                directive_strings(&inline.node.directives, seen);
                selection_strings(&inline.node.selection_set.node, seen);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;

    fn echo(query: &str, variables: serde_json::Value) -> RequestEcho {
        let mut request =
            Request::new(query).variables(async_graphql::Variables::from_json(variables));
        RequestEcho::of(&mut request)
    }

    fn scrubbed(echo: &RequestEcho, message: &str) -> String {
        let mut response = Response::from_errors(vec![ServerError::new(message, None)]);
        echo.scrub(&mut response);
        response.errors[0].message.clone()
    }

    #[test]
    fn values_from_variables_and_literals_are_withheld() {
        let e = echo(
            "query($g: String) { a(x: \"1999-12-31\") }",
            serde_json::json!({"g": "Canary Zyxwvutsrq", "o": {"Key With Space": 1}}),
        );
        assert_eq!(
            scrubbed(&e, "no value \"Canary Zyxwvutsrq\" here"),
            format!("no value \"{WITHHELD}\" here")
        );
        assert_eq!(scrubbed(&e, "born 1999-12-31"), format!("born {WITHHELD}"));
        assert_eq!(
            scrubbed(&e, "unknown field \"Key With Space\""),
            format!("unknown field \"{WITHHELD}\"")
        );
    }

    #[test]
    fn identifiers_and_escaped_forms() {
        let e = echo(
            "{ a }",
            serde_json::json!({"t": "start_screening", "g": "IDENTITY", "q": "Say \"hi\"",
                "i": {"expectedVersion": 1}}),
        );
        assert_eq!(
            scrubbed(&e, "expectedVersion is stale"),
            "expectedVersion is stale"
        );
        let long = "a".repeat(MAX_IDENTIFIER_CHARS + 1);
        let long_echo = echo("{ a }", serde_json::json!({ "t": long }));
        assert_eq!(
            scrubbed(&long_echo, &format!("no transition `{long}`")),
            format!("no transition `{WITHHELD}`")
        );
        assert_eq!(
            scrubbed(
                &e,
                "transition `start_screening` is not allowed for IDENTITY"
            ),
            "transition `start_screening` is not allowed for IDENTITY"
        );
        assert_eq!(
            scrubbed(&e, "got \"Say \\\"hi\\\"\""),
            format!("got \"{WITHHELD}\"")
        );
    }

    #[test]
    fn extensions_are_cleaned_too() {
        let e = echo("{ a }", serde_json::json!({"d": {"Canary Zyxwvutsrq": 1}}));
        let mut err = ServerError::new("bad", None);
        let mut ext = ErrorExtensionValues::default();
        ext.set("code", "VALIDATION");
        ext.set(
            "problems",
            ConstValue::List(vec![ConstValue::from("data.Canary Zyxwvutsrq")]),
        );
        err.extensions = Some(ext);
        let mut response = Response::from_errors(vec![err]);
        e.scrub(&mut response);
        let json = serde_json::to_string(&response.errors[0]).unwrap_or_default();
        assert!(!json.contains("Canary"), "{json}");
        assert!(json.contains("VALIDATION"), "{json}");
    }
}
