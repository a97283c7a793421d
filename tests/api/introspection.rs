//! The introspection query that GraphQL tools send (graphql-js `getIntrospectionQuery`, as code
//! generators, Postman, Insomnia, Apollo and GraphiQL send it) passes the default limits and
//! describes exactly the committed schema, `schema/schema.graphql`; over-deep queries, inside
//! introspection or not, are still refused.

use crate::harness::{TestServer, error_code};
use async_graphql::parser::types::{
    BaseType, DirectiveLocation, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// The graphql-js queries of `tests/fixtures/graphql-js` (see its README), by file name.
const QUERIES: [(&str, &str); 2] = [
    (
        "introspection-default.graphql",
        include_str!("../fixtures/graphql-js/introspection-default.graphql"),
    ),
    (
        "introspection-all-options.graphql",
        include_str!("../fixtures/graphql-js/introspection-all-options.graphql"),
    ),
];

/// The scalars every GraphQL schema has: introspection lists them, SDL does not print them.
const BUILT_IN_SCALARS: [&str; 5] = ["Boolean", "Float", "ID", "Int", "String"];
/// The directives of the GraphQL specification: SDL may leave them out (async-graphql prints
/// those it uses).
const BUILT_IN_DIRECTIVES: [&str; 5] = ["deprecated", "include", "oneOf", "skip", "specifiedBy"];

#[tokio::test]
async fn graphql_tools_introspect_the_whole_schema_within_the_default_limits() {
    let s = TestServer::start().await;
    let sdl = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    let expected = facts_of_sdl(&sdl);
    for (file, query) in QUERIES {
        let data = s.data("it.shelter", query, json!({})).await;
        let mut answered = facts_of_introspection(&data["__schema"]);
        answered.retain(|fact| {
            let Some(directive) = fact.strip_prefix("directive @") else {
                return true;
            };
            let name = directive.split([' ', '(']).next().unwrap_or_default();
            !BUILT_IN_DIRECTIVES.contains(&name)
                || expected.contains(&format!("directive @{name} declared"))
        });
        let missing: Vec<_> = expected.difference(&answered).collect();
        let extra: Vec<_> = answered.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{file}: the introspection answer differs from schema/schema.graphql\n\
             in the SDL only: {missing:#?}\nin the answer only: {extra:#?}"
        );
    }
    // What the comparison covers, so that it cannot pass by comparing two empty sets.
    for fact in [
        "schema query: Query",
        "Case implements Node",
        "Query.case: Case",
        "Query.case(id): ID!",
        "Workflow.diagram(format): DiagramFormat! = MERMAID",
        "input WithdrawConsentInput.consentId: ID!",
        "enum WorkReason.ACTION_AVAILABLE",
        "directive @skip(if): Boolean!",
    ] {
        assert!(expected.contains(fact), "{fact}");
    }
    s.stop().await;
}

#[tokio::test]
async fn over_deep_queries_are_still_refused_inside_introspection_or_not() {
    let s = TestServer::start().await;
    // cases, edges, node, `follows` times followsCase, id: the default limit is 12 levels.
    let cases = |follows: usize| {
        format!(
            "{{ cases(first: 1) {{ edges {{ node {{ {}id{} }} }} }} }}",
            "followsCase { ".repeat(follows),
            " }".repeat(follows)
        )
    };
    let body = s.gql("it.shelter", &cases(8), json!({})).await;
    assert!(body.get("errors").is_none(), "12 levels pass: {body}");
    assert_too_deep(
        "13 levels",
        &s.gql("it.shelter", &cases(9), json!({})).await,
    );

    // Inside introspection every field but ofType counts, so a chain of types and their fields
    // is held to the same 12 levels: `levels` times fields, type (and an ofType that adds
    // none), then name.
    let chain = |levels: usize| {
        format!(
            "{}name{}",
            "fields { type { ofType { ".repeat(levels),
            " } } }".repeat(levels)
        )
    };
    let q = format!("{{ __type(name: \"Case\") {{ {} }} }}", chain(5));
    let body = s.gql("it.shelter", &q, json!({})).await;
    assert!(body.get("errors").is_none(), "12 levels pass: {body}");
    let q = format!("{{ __schema {{ types {{ {} }} }} }}", chain(5));
    assert_too_deep("13 levels", &s.gql("it.shelter", &q, json!({})).await);
    s.stop().await;
}

fn assert_too_deep(what: &str, body: &Value) {
    assert_eq!(error_code(body), "VALIDATION", "{what}: {body}");
    assert!(body["data"].is_null(), "{what}: {body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("nested too deep"), "{what}: {message}");
}

/// What the SDL declares, one fact a line: every type with its kind, description, interfaces
/// and members; every field, argument, input field and enum value with its type, default value,
/// description and deprecation; the directives and the root types.
fn facts_of_sdl(sdl: &str) -> BTreeSet<String> {
    let document = async_graphql::parser::parse_schema(sdl).unwrap();
    let mut facts = BTreeSet::new();
    for definition in &document.definitions {
        match definition {
            TypeSystemDefinition::Schema(schema) => {
                let schema = &schema.node;
                for (root, name) in [
                    ("query", &schema.query),
                    ("mutation", &schema.mutation),
                    ("subscription", &schema.subscription),
                ] {
                    if let Some(name) = name {
                        facts.insert(format!("schema {root}: {}", name.node));
                    }
                }
            }
            TypeSystemDefinition::Type(ty) => {
                let ty = &ty.node;
                let name = ty.name.node.as_str();
                described(&mut facts, name, ty.description.as_ref().map(|d| &d.node));
                let kind = match &ty.kind {
                    TypeKind::Scalar => "SCALAR",
                    TypeKind::Object(object) => {
                        implements(&mut facts, name, &object.implements);
                        fields_of_sdl(&mut facts, name, &object.fields);
                        "OBJECT"
                    }
                    TypeKind::Interface(interface) => {
                        implements(&mut facts, name, &interface.implements);
                        fields_of_sdl(&mut facts, name, &interface.fields);
                        "INTERFACE"
                    }
                    TypeKind::Union(union) => {
                        for member in &union.members {
                            facts.insert(format!("union {name} = {}", member.node));
                        }
                        "UNION"
                    }
                    TypeKind::Enum(values) => {
                        for value in &values.values {
                            let value = &value.node;
                            let path = format!("enum {name}.{}", value.value.node);
                            facts.insert(path.clone());
                            described(
                                &mut facts,
                                &path,
                                value.description.as_ref().map(|d| &d.node),
                            );
                            deprecated(&mut facts, &path, &value.directives);
                        }
                        "ENUM"
                    }
                    TypeKind::InputObject(input) => {
                        for field in &input.fields {
                            input_value(
                                &mut facts,
                                &format!("input {name}.{}", field.node.name.node),
                                &field.node,
                            );
                        }
                        "INPUT_OBJECT"
                    }
                };
                facts.insert(format!("type {name}: {kind}"));
            }
            TypeSystemDefinition::Directive(directive) => {
                let directive = &directive.node;
                let path = format!("directive @{}", directive.name.node);
                facts.insert(format!("{path} declared"));
                described(
                    &mut facts,
                    &path,
                    directive.description.as_ref().map(|d| &d.node),
                );
                for location in &directive.locations {
                    facts.insert(format!("{path} on {}", location_name(location.node)));
                }
                // async-graphql-parser 7.2.1 sets `is_repeatable` on every directive (its rule
                // `repeatable = { "repeatable"? }` always matches): read the line instead.
                let line = sdl
                    .lines()
                    .nth(directive.name.pos.line - 1)
                    .unwrap_or_default();
                if line.contains(" repeatable on ") {
                    facts.insert(format!("{path} repeatable"));
                }
                // Only the types of a directive's arguments: async-graphql's SDL leaves out
                // their descriptions and default values.
                for arg in &directive.arguments {
                    let arg = &arg.node;
                    let path = format!("{path}({})", arg.name.node);
                    facts.insert(format!("{path}: {}", type_of_sdl(&arg.ty.node)));
                }
            }
        }
    }
    facts
}

fn fields_of_sdl(
    facts: &mut BTreeSet<String>,
    ty: &str,
    fields: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>],
) {
    for field in fields {
        let field = &field.node;
        let path = format!("{ty}.{}", field.name.node);
        facts.insert(format!("{path}: {}", type_of_sdl(&field.ty.node)));
        described(facts, &path, field.description.as_ref().map(|d| &d.node));
        deprecated(facts, &path, &field.directives);
        for arg in &field.arguments {
            input_value(facts, &format!("{path}({})", arg.node.name.node), &arg.node);
        }
    }
}

fn input_value(facts: &mut BTreeSet<String>, path: &str, value: &InputValueDefinition) {
    let default = match &value.default_value {
        Some(default) => format!(" = {}", default.node),
        None => String::new(),
    };
    facts.insert(format!("{path}: {}{default}", type_of_sdl(&value.ty.node)));
    described(facts, path, value.description.as_ref().map(|d| &d.node));
    deprecated(facts, path, &value.directives);
}

fn implements(
    facts: &mut BTreeSet<String>,
    ty: &str,
    interfaces: &[async_graphql::Positioned<async_graphql::Name>],
) {
    for interface in interfaces {
        facts.insert(format!("{ty} implements {}", interface.node));
    }
}

fn described(facts: &mut BTreeSet<String>, path: &str, description: Option<&String>) {
    if let Some(description) = description {
        facts.insert(format!("{path} described: {description}"));
    }
}

fn deprecated(
    facts: &mut BTreeSet<String>,
    path: &str,
    directives: &[async_graphql::Positioned<async_graphql::parser::types::ConstDirective>],
) {
    for directive in directives {
        if directive.node.name.node == "deprecated" {
            let reason = directive
                .node
                .get_argument("reason")
                .map(|r| r.node.to_string())
                .unwrap_or_default();
            facts.insert(format!("{path} deprecated: {reason}"));
        }
    }
}

/// A type reference as SDL writes it: `[String!]!`.
fn type_of_sdl(ty: &Type) -> String {
    let base = match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => format!("[{}]", type_of_sdl(inner)),
    };
    match ty.nullable {
        true => base,
        false => format!("{base}!"),
    }
}

/// `FRAGMENT_SPREAD` for `DirectiveLocation::FragmentSpread`, as introspection names it.
fn location_name(location: DirectiveLocation) -> String {
    let mut name = String::new();
    for (i, c) in format!("{location:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// [`facts_of_sdl`] of an introspection answer (`__schema`), leaving out the introspection
/// types and the built-in scalars, which SDL does not print.
fn facts_of_introspection(schema: &Value) -> BTreeSet<String> {
    let mut facts = BTreeSet::new();
    for (root, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = schema[key]["name"].as_str() {
            facts.insert(format!("schema {root}: {name}"));
        }
    }
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        let kind = ty["kind"].as_str().unwrap();
        facts.insert(format!("type {name}: {kind}"));
        described_in(&mut facts, name, ty);
        for interface in list(&ty["interfaces"]) {
            facts.insert(format!(
                "{name} implements {}",
                interface["name"].as_str().unwrap()
            ));
        }
        if kind == "UNION" {
            for member in list(&ty["possibleTypes"]) {
                facts.insert(format!(
                    "union {name} = {}",
                    member["name"].as_str().unwrap()
                ));
            }
        }
        for field in list(&ty["fields"]) {
            let path = format!("{name}.{}", field["name"].as_str().unwrap());
            facts.insert(format!("{path}: {}", type_of_introspection(&field["type"])));
            described_in(&mut facts, &path, field);
            deprecated_in(&mut facts, &path, field);
            for arg in list(&field["args"]) {
                input_value_in(
                    &mut facts,
                    &format!("{path}({})", arg["name"].as_str().unwrap()),
                    arg,
                );
            }
        }
        for field in list(&ty["inputFields"]) {
            input_value_in(
                &mut facts,
                &format!("input {name}.{}", field["name"].as_str().unwrap()),
                field,
            );
        }
        for value in list(&ty["enumValues"]) {
            let path = format!("enum {name}.{}", value["name"].as_str().unwrap());
            facts.insert(path.clone());
            described_in(&mut facts, &path, value);
            deprecated_in(&mut facts, &path, value);
        }
    }
    for directive in schema["directives"].as_array().unwrap() {
        let path = format!("directive @{}", directive["name"].as_str().unwrap());
        facts.insert(format!("{path} declared"));
        described_in(&mut facts, &path, directive);
        for location in list(&directive["locations"]) {
            facts.insert(format!("{path} on {}", location.as_str().unwrap()));
        }
        if directive["isRepeatable"] == json!(true) {
            facts.insert(format!("{path} repeatable"));
        }
        for arg in list(&directive["args"]) {
            let path = format!("{path}({})", arg["name"].as_str().unwrap());
            facts.insert(format!("{path}: {}", type_of_introspection(&arg["type"])));
        }
    }
    facts
}

fn list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn input_value_in(facts: &mut BTreeSet<String>, path: &str, value: &Value) {
    let default = match value["defaultValue"].as_str() {
        Some(default) => format!(" = {default}"),
        None => String::new(),
    };
    facts.insert(format!(
        "{path}: {}{default}",
        type_of_introspection(&value["type"])
    ));
    described_in(facts, path, value);
    deprecated_in(facts, path, value);
}

fn described_in(facts: &mut BTreeSet<String>, path: &str, item: &Value) {
    if let Some(description) = item["description"].as_str() {
        facts.insert(format!("{path} described: {description}"));
    }
}

fn deprecated_in(facts: &mut BTreeSet<String>, path: &str, item: &Value) {
    if item["isDeprecated"] == json!(true) {
        let reason = match &item["deprecationReason"] {
            Value::String(reason) => json!(reason).to_string(),
            _ => String::new(),
        };
        facts.insert(format!("{path} deprecated: {reason}"));
    }
}

/// A type reference of an introspection answer as SDL writes it.
fn type_of_introspection(ty: &Value) -> String {
    match ty["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_of_introspection(&ty["ofType"])),
        "LIST" => format!("[{}]", type_of_introspection(&ty["ofType"])),
        _ => ty["name"].as_str().unwrap().to_string(),
    }
}
