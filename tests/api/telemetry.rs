//! Traces over OTLP, received by a real OTLP/HTTP endpoint started in the test (protobuf
//! decoded with the OpenTelemetry protocol's own types): a transition's request span and its
//! stages, linked as parent and children, and nothing personal in them; a service whose
//! collector is down starts and answers all the same.

use crate::harness::{TestServer, presumed_victim_data};
use crate::process::{seeded_database, serve, stop};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trm::server::HttpOptions;
use trm::telemetry::{Tracing, TracingOptions};

const CANARY: &str = "Canary Zyxwvutsrq";

/// An OTLP/HTTP endpoint on a free port: the spans it received, and its base URL.
async fn collector() -> (Arc<Mutex<Vec<Span>>>, String) {
    let received: Arc<Mutex<Vec<Span>>> = Arc::default();
    async fn traces(State(received): State<Arc<Mutex<Vec<Span>>>>, body: Bytes) -> Vec<u8> {
        let request = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
        let mut spans = received.lock().unwrap();
        for resource in request.resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.clone());
            assert_eq!(service, Some(AnyValue::StringValue("trm-test".into())));
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        ExportTraceServiceResponse::default().encode_to_vec()
    }
    let router = Router::new()
        .route("/v1/traces", post(traces))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (received, url)
}

fn attribute<'s>(span: &'s Span, key: &str) -> Option<&'s AnyValue> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn text(value: Option<&AnyValue>) -> Option<&str> {
    match value {
        Some(AnyValue::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// Waits (a few seconds at most) until `received` holds a span that `wanted` accepts.
async fn wait_for(received: &Mutex<Vec<Span>>, wanted: impl Fn(&Span) -> bool) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let spans = received.lock().unwrap().clone();
        if spans.iter().any(&wanted) || Instant::now() > deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_transition_is_traced_stage_by_stage_without_personal_data() {
    let (received, url) = collector().await;
    let tracing = Tracing::start(&TracingOptions {
        endpoint: url,
        service_name: "trm-test".into(),
        sample_ratio: 1.0,
    })
    .unwrap();
    let s = TestServer::start_with(HttpOptions {
        tracing: tracing.clone(),
        ..HttpOptions::default()
    })
    .await;
    // A second server in the same process, exporting nothing: it sees none of the first's work.
    let other = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, reference) = s.open_case(lead).await;
    let recorded = s
        .data(
            lead,
            "mutation($id: ID!, $v: JSON!) { recordPersonalData(input: {caseId: $id, group: IDENTITY, value: $v}) { case { version } } }",
            json!({"id": case_id, "v": {"names": CANARY, "dateOfBirth": "1999-12-31", "nationality": "NG"}}),
        )
        .await;
    let version = recorded["recordPersonalData"]["case"]["version"]
        .as_i64()
        .unwrap();
    let body = s
        .fire_input(
            lead,
            json!({"caseId": case_id, "transition": "start_screening", "expectedVersion": version,
                   "data": {"signal_source": "self_report"}, "reason": format!("met {CANARY}")}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let version = body["data"]["fireTransition"]["case"]["version"]
        .as_i64()
        .unwrap();
    let body = s
        .fire(
            lead,
            &case_id,
            "record_presumed_victim",
            version,
            presumed_victim_data(),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    tracing.flush().await;
    let spans = wait_for(&received, |span| span.name == "trm.engine").await;

    // The first transition's trace: its engine span says which step of which procedure.
    let engine = spans
        .iter()
        .find(|span| {
            span.name == "trm.engine"
                && text(attribute(span, "trm.transition")) == Some("start_screening")
        })
        .unwrap_or_else(|| panic!("no engine span for start_screening in {spans:#?}"));
    assert_eq!(
        text(attribute(engine, "trm.workflow")),
        Some("trm-adult"),
        "{engine:?}"
    );
    let trace: Vec<&Span> = spans
        .iter()
        .filter(|span| span.trace_id == engine.trace_id)
        .collect();
    let by_id: HashMap<&[u8], &Span> = trace.iter().map(|s| (&s.span_id[..], *s)).collect();
    let parent = |span: &Span| by_id.get(&span.parent_span_id[..]).copied();
    let roots: Vec<&&Span> = trace
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 1, "one root in the trace: {trace:#?}");
    let request = roots[0];
    assert_eq!(request.name, "trm.request");
    assert_eq!(text(attribute(request, "trm.operation")), Some("mutation"));
    assert_eq!(text(attribute(request, "trm.outcome")), Some("OK"));
    assert_eq!(text(attribute(request, "http.route")), Some("/graphql"));
    assert_eq!(
        attribute(request, "http.response.status_code"),
        Some(&AnyValue::IntValue(200))
    );
    let descends_from_request = |span: &Span| {
        let mut at = parent(span);
        while let Some(p) = at {
            if p.span_id == request.span_id {
                return true;
            }
            at = parent(p);
        }
        false
    };
    // Authentication, parsing and execution are the request's children; the policy decision,
    // the engine, the statements and the commit lie below.
    for stage in ["trm.authenticate", "trm.parse", "trm.execute"] {
        let span = trace
            .iter()
            .find(|s| s.name == stage)
            .unwrap_or_else(|| panic!("no {stage} span in {trace:#?}"));
        assert_eq!(span.parent_span_id, request.span_id, "{stage}");
        assert!(span.start_time_unix_nano >= request.start_time_unix_nano);
        assert!(span.end_time_unix_nano <= request.end_time_unix_nano);
    }
    let execute = trace.iter().find(|s| s.name == "trm.execute").unwrap();
    for stage in ["trm.policy", "trm.engine", "trm.commit"] {
        let span = trace
            .iter()
            .find(|s| s.name == stage)
            .unwrap_or_else(|| panic!("no {stage} span in {trace:#?}"));
        assert!(descends_from_request(span), "{stage} outside the request");
        let mut at = parent(span);
        while at.is_some_and(|p| p.span_id != execute.span_id) {
            at = at.and_then(parent);
        }
        assert!(at.is_some(), "{stage} runs inside trm.execute");
    }
    let commit = trace.iter().find(|s| s.name == "trm.commit").unwrap();
    let statements: Vec<&&Span> = trace
        .iter()
        .filter(|s| attribute(s, "db.query.summary").is_some())
        .collect();
    // On SQLite the change's rows go in one batch, named by the kinds of its statements.
    assert!(
        statements.iter().any(|s| s.parent_span_id == commit.span_id
            && text(attribute(s, "db.query.summary")).is_some_and(|summary| summary == s.name
                && summary.split("; ").any(|kind| kind == "INSERT case_events"))),
        "the event is written within the commit: {statements:#?}"
    );
    assert!(
        statements.iter().any(|s| s.name == "COMMIT"),
        "{statements:#?}"
    );
    assert!(statements.iter().all(|s| descends_from_request(s)));

    // Nothing personal, no statement text, no id of the case, in any span received.
    let case_uuid = case_id.rsplit(':').next().unwrap_or(&case_id).to_string();
    for span in &spans {
        let mut seen = span.name.clone();
        for kv in &span.attributes {
            seen.push_str(&format!(" {}={:?}", kv.key, kv.value));
        }
        for event in &span.events {
            seen.push_str(&format!(" {event:?}"));
        }
        seen.push_str(&format!(" {:?}", span.status));
        for secret in [CANARY, "Zyxwvutsrq", "1999-12-31", reference.as_str()] {
            assert!(!seen.contains(secret), "{secret} in a span: {seen}");
        }
        assert!(
            !seen.contains(&case_uuid),
            "the case's id in a span: {seen}"
        );
        assert!(
            span.attributes.iter().all(|kv| kv.key != "db.statement"),
            "{seen}"
        );
    }

    // The same work in the metrics: statements by kind and commits, of this server only.
    let metrics = |url: String| async move {
        reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let text = metrics(s.url.clone()).await;
    let count = |text: &str, series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(
        count(&text, "trm_commit_duration_seconds_count ") >= 4,
        "{text}"
    );
    // Events are written alone (PostgreSQL) or with the rest of their change (SQLite's batch).
    let event_writes: u64 = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("trm_db_statement_duration_seconds_count{statement=\"")?;
            let (kinds, n) = rest.split_once("\"} ")?;
            kinds
                .split("; ")
                .any(|k| k == "INSERT case_events")
                .then(|| n.trim().parse::<u64>().ok())?
        })
        .sum();
    assert!(event_writes >= 4, "{text}");
    let text = metrics(other.url.clone()).await;
    assert_eq!(
        count(&text, "trm_commit_duration_seconds_count "),
        0,
        "{text}"
    );
    other.stop().await;
    s.stop().await;
}

#[tokio::test]
async fn trm_serve_exports_to_its_collector_and_starts_without_one() {
    let (db, tokens) = seeded_database().await;
    let token = tokens.get("it.shelter").unwrap();
    let (received, url) = collector().await;
    let (child, out) = serve(
        &db,
        &["--otlp-endpoint", &url, "--otlp-service-name", "trm-test"],
        None,
    );
    let base = out.lines().next().unwrap().to_string();
    assert!(
        out.contains(&format!("Traces: exported over OTLP to {url}")),
        "{out}"
    );
    let http = crate::harness::http();
    who_am_i(&http, &base, token).await;
    // Stopping flushes what is queued.
    stop(child);
    let spans = wait_for(&received, |span| span.name == "trm.request").await;
    let request = spans
        .iter()
        .find(|span| span.name == "trm.request")
        .unwrap_or_else(|| panic!("no request span in {spans:#?}"));
    assert_eq!(text(attribute(request, "trm.operation")), Some("query"));

    // A collector that is not there: the service starts and answers at once.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let started = Instant::now();
    let (child, out) = serve(&db, &["--otlp-endpoint", &format!("http://{closed}")], None);
    let base = out.lines().next().unwrap().to_string();
    for _ in 0..20 {
        who_am_i(&http, &base, token).await;
    }
    // Waiting for the collector would cost an export timeout (10 s) per request, 200 s for the
    // twenty: the bound is far below that, and far above a loaded machine's start-up.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "start-up and answers did not wait for the collector"
    );
    stop(child);

    // Settings that cannot work are refused at start.
    let refused =
        crate::process::try_serve_url(&db.url, &["--otlp-endpoint", "collector:4318"], None);
    assert!(
        refused
            .as_ref()
            .is_err_and(|printed| printed.contains("--otlp-endpoint")),
        "{refused:?}"
    );
}

/// `{ me { username } }` as `token`, answered 200.
async fn who_am_i(http: &reqwest::Client, base: &str, token: &str) {
    let me = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": "{ me { username } }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::OK);
}
