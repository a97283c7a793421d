//! Checks made on a GraphQL request before the schema validates or runs anything, over HTTP and
//! WebSocket alike: the length of the query text, its syntax (with a message that never quotes
//! the text back), the number of fields and directives it would run, counting every alias
//! and every use of a fragment, how deeply its fields nest, and the values it carries (no NUL
//! character, no variable nested deeper than [`MAX_VALUE_DEPTH`]).
//!
//! async-graphql's own complexity limit counts aliases too, but it walks fragments inline: a few
//! fragments that each spread the previous one twice make it (and its depth and directive checks)
//! take exponential time before it can refuse. The count here is memoised per fragment, so it is
//! linear in the size of the document, and refuses such a query before async-graphql looks at it.
//!
//! The depth is counted here too, as async-graphql counts it (fields only; fragments and inline
//! fragments add no level), with one exception: inside `__schema` and `__type`, `ofType` adds
//! no level. It unwraps one list or non-null wrapper of a type: a chain of them has no fan-out,
//! and the introspection query every GraphQL tool sends (graphql-js `getIntrospectionQuery`)
//! asks for 9 levels of it, 14 levels of fields in all. Every other introspection field counts,
//! so `types { fields { type { fields ... } } }` is held to the limit like any query; a long
//! `ofType` chain still counts against the field limit, and async-graphql refuses selections
//! nested more than 32 deep (`limit_recursive_depth`).
//!
//! About half of this file is its tests: each check is shown refusing the query that it exists
//! to refuse, next to the code that refuses it.
//! Longer than most modules: one walk over the document counts every limit together; the tests
//! of each limit sit beside it.

use super::parsed::ParsedQueries;
use crate::api::{Mutation, Query, Subscription, TrmSchema};
use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensionValues, Pos, Positioned, Request, ServerError, Value};
use std::collections::{HashMap, HashSet};

/// Query limits and exposure settings. Built from `trm serve`'s configuration
/// ([`crate::config::ServeConfig`]); `Default` gives its defaults.
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Deepest nesting of fields ([`check_request`]; inside `__schema` and `__type`, `ofType`
    /// adds no level).
    pub max_depth: usize,
    /// Highest async-graphql complexity (each field 1 plus its children, aliases included).
    pub max_complexity: usize,
    /// Most fields a query may run, counting every alias, fragment spread and inline fragment,
    /// fragments expanded where they are used ([`check_request`]).
    pub max_fields: usize,
    /// Longest query text, in bytes.
    pub max_query_bytes: usize,
    /// Schema introspection (`__schema`, `__type`).
    pub introspection: bool,
    /// "Did you mean …" suggestions in validation errors.
    pub suggestions: bool,
}

/// The schema with `limits` applied: complexity, directives, recursion, introspection and
/// suggestions. The depth is not async-graphql's to limit: [`check_request`] does it, with the
/// rule for introspection that async-graphql does not have.
pub fn apply(
    builder: async_graphql::SchemaBuilder<Query, Mutation, Subscription>,
    limits: &ApiLimits,
) -> TrmSchema {
    let mut builder = builder
        .limit_complexity(limits.max_complexity)
        .limit_directives(MAX_DIRECTIVES_PER_FIELD)
        .limit_recursive_depth(32);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// Most directives (`@include`, `@skip`, ...) on one field.
pub const MAX_DIRECTIVES_PER_FIELD: usize = 10;
/// Most directives in one query, counted as they would run (fragments expanded).
pub const MAX_DIRECTIVES_PER_QUERY: u64 = 50;
/// Deepest nesting of a variable's value (the variable itself is level 1): no input of the
/// schema comes near it, but a JSON value (a fact, a personal-data group) could nest up to the
/// JSON parser's limit and be stored so.
pub const MAX_VALUE_DEPTH: usize = 32;

/// The kind of operation a request runs, for metrics. A fixed set: never a name from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
    /// Not known: the request was refused before its operation was found.
    Unknown,
}

impl OperationKind {
    /// Every kind, in a stable order.
    pub const ALL: [OperationKind; 4] = [
        OperationKind::Query,
        OperationKind::Mutation,
        OperationKind::Subscription,
        OperationKind::Unknown,
    ];

    /// The label used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
            OperationKind::Unknown => "unknown",
        }
    }
}

/// A `VALIDATION` error raised before the schema saw the request.
pub fn refusal(message: impl Into<String>, pos: Option<Pos>) -> ServerError {
    let mut error = ServerError::new(message, pos);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "VALIDATION");
    error.extensions = Some(ext);
    error
}

/// Checks `request` against `limits` and parses it (the parsed document is kept in the request,
/// so the schema does not parse it again). Returns the kind of operation it would run, or the
/// refusal: nothing has run.
pub fn check_request(
    request: &mut Request,
    limits: &ApiLimits,
) -> Result<OperationKind, ServerError> {
    check_request_with(request, limits, None)
}

/// [`check_request`], taking the document from `parsed` when its text was parsed and checked
/// before (against the same `limits`), and keeping it there when not.
pub fn check_request_with(
    request: &mut Request,
    limits: &ApiLimits,
    parsed: Option<&ParsedQueries>,
) -> Result<OperationKind, ServerError> {
    if request.query.len() > limits.max_query_bytes {
        return Err(refusal(
            format!(
                "The query text is {} bytes long, more than the limit of {} bytes",
                request.query.len(),
                limits.max_query_bytes
            ),
            None,
        ));
    }
    let document = match parsed.and_then(|p| p.get(&request.query)) {
        Some(document) => ExecutableDocument::clone(&document),
        None => {
            let document =
                async_graphql::parser::parse_query(&request.query).map_err(syntax_error)?;
            check_document(&document, limits)?;
            if let Some(parsed) = parsed {
                parsed.keep(&request.query, &document);
            }
            document
        }
    };
    for (_, value) in request.variables.iter() {
        check_value(value, 1)?;
    }
    let kind = operation_kind(&document, request.operation_name.as_deref());
    request.set_parsed_query(document);
    Ok(kind)
}

/// The checks of [`check_request`] that depend on the document alone.
fn check_document(document: &ExecutableDocument, limits: &ApiLimits) -> Result<(), ServerError> {
    let (cost, introspects) = Cost::of_document(document)?;
    if introspects && !limits.introspection {
        // async-graphql would answer `null` without an error; say so instead.
        return Err(refusal(
            "Introspection (__schema, __type) is disabled on this server",
            None,
        ));
    }
    if cost.selections > limits.max_fields as u64 {
        return Err(refusal(
            format!(
                "The query selects too many fields: {}, more than the limit of {} (every alias \
                 and every use of a fragment counts)",
                cost.selections, limits.max_fields
            ),
            None,
        ));
    }
    if cost.depth > limits.max_depth as u64 {
        return Err(refusal(
            format!(
                "The query is nested too deep: its fields nest {} levels deep, more than the \
                 limit of {}",
                cost.depth, limits.max_depth
            ),
            None,
        ));
    }
    if cost.directives > MAX_DIRECTIVES_PER_QUERY {
        return Err(refusal(
            format!(
                "The query uses too many directives: {}, more than the limit of \
                 {MAX_DIRECTIVES_PER_QUERY}",
                cost.directives
            ),
            None,
        ));
    }
    check_literals(document)
}

/// A syntax error without the excerpt of the query text that the parser puts in its message
/// (the text may hold anything the client typed, including personal data): the position and
/// what the parser expected only.
fn syntax_error(err: async_graphql::parser::Error) -> ServerError {
    let positions: Vec<Pos> = err.positions().collect();
    let message = match &err {
        async_graphql::parser::Error::Syntax { message, start, .. } => {
            // pest ends its message with a line "  = expected ..." naming grammar rules only.
            let expected = message
                .lines()
                .rev()
                .find_map(|l| l.trim_start().strip_prefix("= "))
                .map(|e| format!(": {e}"))
                .unwrap_or_default();
            format!(
                "Syntax error at line {}, column {}{expected}",
                start.line, start.column
            )
        }
        // The other parser errors name operations and fragments (names, not values), or
        // nothing from the text at all.
        other => other.to_string(),
    };
    let mut error = refusal(message, None);
    error.locations = positions;
    error
}

/// Refuses a value no field takes: a NUL character in a string or a key (PostgreSQL cannot
/// store one, SQLite would: refused alike, before either sees it), or nesting deeper than
/// [`MAX_VALUE_DEPTH`]. The message names neither the value nor where it is.
fn check_value(value: &Value, depth: usize) -> Result<(), ServerError> {
    if depth > MAX_VALUE_DEPTH {
        return Err(refusal(
            format!("A value of the request is nested more than {MAX_VALUE_DEPTH} levels deep"),
            None,
        ));
    }
    let no_nul = |s: &str| match s.contains('\0') {
        true => Err(refusal(
            "A string of the request contains a NUL character (U+0000), which no field accepts",
            None,
        )),
        false => Ok(()),
    };
    match value {
        Value::String(s) => no_nul(s),
        Value::List(items) => items.iter().try_for_each(|v| check_value(v, depth + 1)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            no_nul(k.as_str())?;
            check_value(v, depth + 1)
        }),
        Value::Enum(_) | Value::Null | Value::Number(_) | Value::Boolean(_) | Value::Binary(_) => {
            Ok(())
        }
    }
}

/// [`check_value`] for a literal of the query (`async_graphql_value::Value`, which async-graphql
/// does not re-export by name); variables in it count as null (their values are checked apart).
macro_rules! check_literal {
    ($value:expr) => {{
        let Ok(value) = $value
            .clone()
            .into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null));
        check_value(&value, 1)
    }};
}

/// [`check_value`] for the literals of the document: arguments, directives, variables' defaults.
fn check_literals(document: &ExecutableDocument) -> Result<(), ServerError> {
    fn directives(list: &[Positioned<Directive>]) -> Result<(), ServerError> {
        list.iter()
            .flat_map(|d| &d.node.arguments)
            .try_for_each(|(_, v)| check_literal!(v.node))
    }
    fn selections(set: &SelectionSet) -> Result<(), ServerError> {
        set.items.iter().try_for_each(|item| match &item.node {
            Selection::Field(field) => {
                for (_, value) in &field.node.arguments {
                    check_literal!(value.node)?;
                }
                directives(&field.node.directives)?;
                selections(&field.node.selection_set.node)
            }
            Selection::FragmentSpread(spread) => directives(&spread.node.directives),
            Selection::InlineFragment(inline) => {
                directives(&inline.node.directives)?;
                selections(&inline.node.selection_set.node)
            }
        })
    }
    for (_, op) in document.operations.iter() {
        for definition in &op.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                check_value(&default.node, 1)?;
            }
        }
        directives(&op.node.directives)?;
        selections(&op.node.selection_set.node)?;
    }
    document.fragments.values().try_for_each(|fragment| {
        directives(&fragment.node.directives)?;
        selections(&fragment.node.selection_set.node)
    })
}

/// Which operation of the document runs (as async-graphql picks it).
fn operation_kind(document: &ExecutableDocument, operation_name: Option<&str>) -> OperationKind {
    let ty = match (&document.operations, operation_name) {
        (DocumentOperations::Single(op), None) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    };
    match ty {
        Some(OperationType::Query) => OperationKind::Query,
        Some(OperationType::Mutation) => OperationKind::Mutation,
        Some(OperationType::Subscription) => OperationKind::Subscription,
        None => OperationKind::Unknown,
    }
}

/// What a document would run: selections (fields, fragment spreads, inline fragments),
/// directives and the depth of its fields, with fragments expanded where they are used.
/// Saturating: the numbers only have to be compared with limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    selections: u64,
    directives: u64,
    depth: u64,
}

/// Two costs side by side (selections of one set, or operations of one document): the counts
/// add up, the depth is the deeper one's.
impl std::ops::Add for Cost {
    type Output = Cost;
    fn add(self, other: Cost) -> Cost {
        Cost {
            selections: self.selections.saturating_add(other.selections),
            directives: self.directives.saturating_add(other.directives),
            depth: self.depth.max(other.depth),
        }
    }
}

impl Cost {
    /// The cost of every operation of the document together; every fragment definition (used or
    /// not) must also stay within the limits of fields and directives, which the sum then shows
    /// (the depth is that of the operations: a fragment's depth depends on where it is spread,
    /// and the schema refuses a fragment spread nowhere). Also whether the document selects
    /// `__schema` or `__type` anywhere.
    fn of_document(document: &ExecutableDocument) -> Result<(Cost, bool), ServerError> {
        let mut counter = Counter {
            document,
            memo: HashMap::new(),
            visiting: HashSet::new(),
            introspects: false,
        };
        let mut total = Cost::default();
        for (_, op) in document.operations.iter() {
            total = total
                + counter.selection_set(&op.node.selection_set.node, false)?
                + directives(&op.node.directives);
        }
        let mut largest_fragment = Cost::default();
        for name in document.fragments.keys() {
            let cost = counter.fragment(name.as_str(), false, None)?;
            largest_fragment = Cost {
                selections: largest_fragment.selections.max(cost.selections),
                directives: largest_fragment.directives.max(cost.directives),
                depth: 0,
            };
        }
        let cost = Cost {
            selections: total.selections.max(largest_fragment.selections),
            directives: total.directives.max(largest_fragment.directives),
            depth: total.depth,
        };
        Ok((cost, counter.introspects))
    }
}

fn directives(list: &[Positioned<Directive>]) -> Cost {
    Cost {
        directives: list.len() as u64,
        ..Cost::default()
    }
}

/// Counts with fragments expanded, each fragment counted once and remembered (twice at most:
/// inside introspection and outside, where its depth may differ).
struct Counter<'a> {
    document: &'a ExecutableDocument,
    memo: HashMap<(&'a str, bool), Cost>,
    visiting: HashSet<&'a str>,
    /// Whether `__schema` or `__type` was seen.
    introspects: bool,
}

impl<'a> Counter<'a> {
    /// The cost of `set`; `introspection`: whether it is inside `__schema` or `__type`.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        introspection: bool,
    ) -> Result<Cost, ServerError> {
        let mut cost = Cost::default();
        for item in &set.items {
            let one = Cost {
                selections: 1,
                ..Cost::default()
            };
            cost = cost
                + one
                + match &item.node {
                    Selection::Field(field) => {
                        let name = field.node.name.node.as_str();
                        let opens = name == "__schema" || name == "__type";
                        self.introspects |= opens;
                        let nested = directives(&field.node.directives)
                            + self.selection_set(
                                &field.node.selection_set.node,
                                introspection || opens,
                            )?;
                        let level = u64::from(!(introspection && name == "ofType"));
                        Cost {
                            depth: nested.depth.saturating_add(level),
                            ..nested
                        }
                    }
                    Selection::InlineFragment(inline) => {
                        directives(&inline.node.directives)
                            + self.selection_set(&inline.node.selection_set.node, introspection)?
                    }
                    Selection::FragmentSpread(spread) => {
                        directives(&spread.node.directives)
                            + self.fragment(
                                spread.node.fragment_name.node.as_str(),
                                introspection,
                                Some(spread.pos),
                            )?
                    }
                };
        }
        Ok(cost)
    }

    fn fragment(
        &mut self,
        name: &str,
        introspection: bool,
        pos: Option<Pos>,
    ) -> Result<Cost, ServerError> {
        // Unknown fragments cost nothing here; the schema's validation names them.
        let Some((key, definition)) = self.document.fragments.get_key_value(name) else {
            return Ok(Cost::default());
        };
        let key = key.as_str();
        if let Some(cost) = self.memo.get(&(key, introspection)) {
            return Ok(*cost);
        }
        if !self.visiting.insert(key) {
            return Err(refusal(
                format!("Fragment \"{key}\" spreads itself (directly or through others)"),
                pos,
            ));
        }
        let cost = directives(&definition.node.directives)
            + self.selection_set(&definition.node.selection_set.node, introspection)?;
        self.visiting.remove(key);
        self.memo.insert((key, introspection), cost);
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<OperationKind, String> {
        let limits = ApiLimits {
            max_fields: 20,
            ..ApiLimits::default()
        };
        check_request(&mut Request::new(query), &limits).map_err(|e| e.message)
    }

    #[test]
    fn counts_aliases_and_expanded_fragments() {
        assert_eq!(check("{ me { roles } }"), Ok(OperationKind::Query));
        assert_eq!(
            check("mutation M { a: __typename } query Q { b: __typename }"),
            Ok(OperationKind::Unknown),
            "several operations and no name: the schema refuses it"
        );
        let aliases: String = (0..21).map(|i| format!("a{i}: __typename ")).collect();
        assert!(
            check(&format!("{{ {aliases} }}"))
                .unwrap_err()
                .contains("too many fields")
        );
        // 4 spreads of a 5-field fragment: 4 * (1 + 5) = 24 > 20.
        let q = "{ ...F ...F ...F ...F } fragment F on Query { a: __typename b: __typename c: __typename d: __typename e: __typename }";
        assert!(check(q).unwrap_err().contains("too many fields"));
    }

    #[test]
    fn a_fragment_bomb_is_refused_at_once() {
        let mut q = String::from("query { ...F60 }\nfragment F0 on Query { __typename }\n");
        for i in 1..=60 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i - 1,
                i - 1
            ));
        }
        let started = std::time::Instant::now();
        assert!(check(&q).unwrap_err().contains("too many fields"));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(check(cycle).unwrap_err().contains("spreads itself"));
    }

    #[test]
    fn syntax_errors_do_not_quote_the_query() {
        let err = check("{ case(id: \"Canary Zyxwvutsrq) { id } }").unwrap_err();
        assert!(!err.contains("Canary"), "{err}");
        assert!(err.starts_with("Syntax error at line 1, column"), "{err}");
    }

    /// The introspection query GraphQL tools send (graphql-js `getIntrospectionQuery`, with its
    /// defaults and with every option on) stays within the default limits, 9 levels of `ofType`
    /// and all.
    #[test]
    fn the_graphql_js_introspection_query_fits_the_default_limits() {
        for query in [
            include_str!("../../tests/fixtures/graphql-js/introspection-default.graphql"),
            include_str!("../../tests/fixtures/graphql-js/introspection-all-options.graphql"),
        ] {
            let mut request = Request::new(query);
            assert_eq!(
                check_request(&mut request, &ApiLimits::default()).map_err(|e| e.message),
                Ok(OperationKind::Query)
            );
        }
    }

    /// The depth of a query: fields only, as async-graphql counts it; `ofType` adds no level
    /// inside `__schema` and `__type` only.
    #[test]
    fn depth_counts_fields_and_spares_of_type_inside_introspection_only() {
        let depth = |query: &str, max_depth: usize| {
            let limits = ApiLimits {
                max_depth,
                ..ApiLimits::default()
            };
            check_request(&mut Request::new(query), &limits).map_err(|e| e.message)
        };
        // `chain` nested `levels` times, then `name`: `nested(&["a", "b"], 2)` is
        // `a { b { a { b { name } } } }`.
        let nested = |chain: &[&str], levels: usize| {
            let fields = chain.repeat(levels);
            format!(
                "{} {{ name{}",
                fields.join(" { "),
                " }".repeat(fields.len())
            )
        };
        // Fragments and inline fragments add no level: 3 fields deep.
        let q = "{ ...F } fragment F on Query { me { ... on User { ...G } } } fragment G on User { agency { name } }";
        assert!(depth(q, 3).is_ok());
        assert!(depth(q, 2).unwrap_err().contains("nested too deep"));
        // Outside introspection, a field named ofType counts like any other.
        let q = format!("{{ a {{ {} }} }}", nested(&["ofType"], 5));
        assert!(depth(&q, 7).is_ok());
        assert!(depth(&q, 6).unwrap_err().contains("nested too deep"));
        // Inside, it does not; the fields around it do.
        let q = format!(
            "{{ __type(name: \"Case\") {{ {} }} }}",
            nested(&["ofType"], 20)
        );
        assert!(depth(&q, 2).is_ok());
        let q = format!(
            "{{ __schema {{ types {{ {} }} }} }}",
            nested(&["fields", "type"], 6)
        );
        let message = depth(&q, 12).unwrap_err();
        assert!(message.contains("nested too deep"), "{message}");
        assert!(message.contains("15 levels"), "{message}");
        // A fragment spread inside and outside introspection has a depth for each.
        let q = "{ __type(name: \"Case\") { ...T } a { ...T } } fragment T on __Type { ofType { ofType { name } } }";
        assert!(depth(q, 4).is_ok());
        assert!(depth(q, 3).unwrap_err().contains("nested too deep"));
    }

    #[test]
    fn introspection_is_refused_when_off() {
        let off = ApiLimits {
            introspection: false,
            ..ApiLimits::default()
        };
        for query in [
            "{ __schema { types { name } } }",
            "{ a: __type(name: \"Case\") { name } }",
            "{ ...F } fragment F on Query { __schema { queryType { name } } }",
        ] {
            let err = check_request(&mut Request::new(query), &off).unwrap_err();
            assert!(err.message.contains("Introspection"), "{query}");
            assert!(check_request(&mut Request::new(query), &ApiLimits::default()).is_ok());
        }
        assert!(check_request(&mut Request::new("{ __typename }"), &off).is_ok());
    }

    #[test]
    fn a_text_checked_before_is_taken_from_the_cache_and_its_variables_still_checked() {
        let parsed = ParsedQueries::default();
        let run = |query: &str, variables: serde_json::Value| {
            let mut request =
                Request::new(query).variables(async_graphql::Variables::from_json(variables));
            check_request_with(&mut request, &ApiLimits::default(), Some(&parsed))
                .map_err(|e| e.message)
        };
        let q = "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { replayed } }";
        assert_eq!(
            run(q, serde_json::json!({"i": {}})),
            Ok(OperationKind::Mutation)
        );
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            run(q, serde_json::json!({"i": {}})),
            Ok(OperationKind::Mutation)
        );
        let err = run(q, serde_json::json!({"i": {"reason": "a\u{0}b"}})).unwrap_err();
        assert!(err.contains("NUL"), "{err}");
        // A refused text is not kept, and stays refused.
        let deep = format!("{{ {}__typename{} }}", "a { ".repeat(40), " }".repeat(40));
        assert!(run(&deep, serde_json::json!({})).is_err());
        assert!(run(&deep, serde_json::json!({})).is_err());
        assert_eq!(parsed.len(), 1);
        // Nor is a text with a string or a comment in it (values written into the text).
        let literal = "{ caseByReference(reference: \"IT-2026-000001\") { id } }";
        assert_eq!(
            run(literal, serde_json::json!({})),
            Ok(OperationKind::Query)
        );
        assert_eq!(
            run("# a note\n{ __typename }", serde_json::json!({})),
            Ok(OperationKind::Query)
        );
        assert_eq!(parsed.len(), 1);
    }

    #[test]
    fn nul_characters_and_deep_values_are_refused_unquoted() {
        let run = |query: &str, variables: serde_json::Value| {
            let mut request =
                Request::new(query).variables(async_graphql::Variables::from_json(variables));
            check_request(&mut request, &ApiLimits::default()).map_err(|e| e.message)
        };
        let q = "mutation($i: FireTransitionInput!) { fireTransition(input: $i) { replayed } }";
        let nul = |v: serde_json::Value| run(q, serde_json::json!({ "i": v }));
        assert!(nul(serde_json::json!({"reason": "ok\ntab\t"})).is_ok());
        for bad in [
            serde_json::json!({"reason": "Canary\u{0}Zyxw"}),
            serde_json::json!({"data": {"Canary\u{0}Zyxw": 1}}),
            serde_json::json!({"data": {"list": [["Canary\u{0}Zyxw"]]}}),
        ] {
            let err = nul(bad).unwrap_err();
            assert!(err.contains("NUL") && !err.contains("Canary"), "{err}");
        }
        let literal = "{ caseByReference(reference: \"IT\\u0000\") { id } }";
        assert!(
            run(literal, serde_json::json!({}))
                .unwrap_err()
                .contains("NUL")
        );
        let deep = (0..MAX_VALUE_DEPTH).fold(serde_json::json!(1), |v, _| serde_json::json!([v]));
        assert!(
            run(q, serde_json::json!({ "i": deep }))
                .unwrap_err()
                .contains("nested")
        );
        let fits = (1..MAX_VALUE_DEPTH).fold(serde_json::json!(1), |v, _| serde_json::json!([v]));
        assert!(run(q, serde_json::json!({ "i": fits })).is_ok());
    }

    #[test]
    fn directives_are_counted_across_fields() {
        let fields: String = (0..6)
            .map(|i| format!("a{i}: __typename @include(if: true) @skip(if: false) "))
            .collect();
        assert!(check(&format!("{{ {fields} }}")).is_ok());
        let limits = ApiLimits::default();
        let fields: String = (0..30)
            .map(|i| format!("a{i}: __typename @include(if: true) @skip(if: false) "))
            .collect();
        let err = check_request(&mut Request::new(format!("{{ {fields} }}")), &limits)
            .unwrap_err()
            .message;
        assert!(err.contains("too many directives"), "{err}");
    }
}
