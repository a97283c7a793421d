//! The schema contract and the API's limits.

use crate::harness::{TestServer, error_code};
use serde_json::json;
use trm::server::ApiLimits;
use trm::server::HttpOptions;

#[test]
fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == trm::api::sdl(),
        "schema/schema.graphql is out of date with the code; regenerate it with:\n    cargo run -- schema > schema/schema.graphql"
    );
}

#[tokio::test]
async fn queries_over_the_limits_are_refused_before_running() {
    let limits = ApiLimits {
        max_depth: 5,
        max_complexity: 60,
        ..ApiLimits::default()
    };
    let s = TestServer::start_with(HttpOptions {
        limits,
        ..HttpOptions::default()
    })
    .await;
    let body = s
        .gql(
            "it.shelter",
            "{ cases { edges { node { leadAgency { id } } } } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "depth 5 passes: {body}");
    // Depth 6 > 5: refused as a whole; the mutation in it never runs.
    let deep = "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { history { edges { node { actor { id } } } } } } }";
    let body = s.gql("it.shelter", deep, json!({})).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{body}"
    );
    let data = s
        .data("auditor", "{ cases { edges { node { id } } } }", json!({}))
        .await;
    assert!(
        data["cases"]["edges"].as_array().unwrap().is_empty(),
        "the refused mutation did not run"
    );

    // Too complex: many aliases.
    let wide: String = (0..40).map(|i| format!("c{i}: me {{ roles }} ")).collect();
    let body = s
        .gql("it.shelter", &format!("{{ {wide} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );

    // Batches are not accepted.
    let res = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("Authorization", format!("Bearer {}", s.token("it.shelter")))
        .json(&json!([{"query": "{ me { roles } }"}, {"query": "{ me { roles } }"}]))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());

    // Bodies over the limit are refused.
    let big = "x".repeat(2 * 1024 * 1024);
    let res = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("Authorization", format!("Bearer {}", s.token("it.shelter")))
        .json(&json!({"query": format!("{{ me {{ roles }} }} # {big}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
    s.stop().await;
}

#[tokio::test]
async fn workflows_are_readable_with_their_diagram() {
    let s = TestServer::start().await;
    let data = s
        .data(
            "it.shelter",
            "{ workflows { key version } workflow(id: \"trm-adult\", version: 1) {
                id key label(language: \"fr\") tracks { key initialState startsOnOpen }
                states { key stage terminal } transitions { key roles guards { name expression } }
                timers { key kind days citation } diagram
            } }",
            json!({}),
        )
        .await;
    let listed = data["workflows"].as_array().unwrap();
    assert!(
        listed.contains(&json!({"key": "trm-adult", "version": 1})),
        "{listed:?}"
    );
    let on_disk = std::fs::read_dir(crate::harness::workflows_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count();
    assert_eq!(listed.len(), on_disk, "every file in workflows/ is served");
    let w = &data["workflow"];
    assert!(w["label"].as_str().unwrap().starts_with("Référencement"));
    assert_eq!(
        w["tracks"][1],
        json!({"key": "assistance", "initialState": "needs_assessment", "startsOnOpen": false})
    );
    assert_eq!(w["timers"][0]["days"], 30);
    let diagram = w["diagram"].as_str().unwrap();
    assert!(diagram.starts_with("stateDiagram-v2"));
    assert!(diagram.contains("screening --> presumed_victim"));
    let node = s
        .data(
            "it.shelter",
            "query($id: ID!) { node(id: $id) { ... on Workflow { key } } }",
            json!({"id": w["id"]}),
        )
        .await;
    assert_eq!(node["node"]["key"], "trm-adult");
    let none = s
        .data(
            "it.shelter",
            "{ workflow(id: \"trm-adult\", version: 7) { key } }",
            json!({}),
        )
        .await;
    assert_eq!(none["workflow"], json!(null));
    s.stop().await;
}

#[tokio::test]
async fn enum_inputs_carry_a_label_for_each_value_in_the_language_asked() {
    let s = TestServer::start().await;
    let q = "query($lang: String!) { workflow(id: \"trm-adult\", version: 1) {
        transitions(language: $lang) { key inputs { fact values valueLabels { value label } } } } }";
    for lang in ["en", "fr"] {
        let data = s.data("it.shelter", q, json!({"lang": lang})).await;
        let step = data["workflow"]["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["key"] == "start_screening")
            .unwrap()
            .clone();
        let input = &step["inputs"][0];
        assert_eq!(input["fact"], "signal_source");
        let labels = input["valueLabels"].as_array().unwrap();
        assert_eq!(labels.len(), input["values"].as_array().unwrap().len());
        // Version 1 labels none of its values: each reads as itself.
        assert_eq!(
            labels[0],
            json!({"value": "front_line_indicators", "label": "front line indicators"}),
            "{lang}"
        );
    }
    s.stop().await;
}
