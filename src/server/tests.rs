//! The server's layers on a router of their own.

use super::router::HttpOptions;
use super::router::with_layers;
use axum::Router;
use axum::routing::post;
use tokio::net::TcpListener;

/// Serves `router` on a free port; returns its base URL.
async fn serve_on_free_port(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    url
}

#[tokio::test]
async fn a_panicking_request_answers_500_internal_without_details() {
    let options = HttpOptions::default();
    let router = with_layers(
        Router::new().route(
            "/graphql",
            post(|| async {
                let name = "Canary Zyxwvutsrq";
                if !name.is_empty() {
                    panic!("could not handle {name}");
                }
                "not reached"
            }),
        ),
        &options,
    );
    let url = serve_on_free_port(router).await;
    let res = reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(res.status(), reqwest::StatusCode::INTERNAL_SERVER_ERROR);
    let body = res.text().await.unwrap_or_default();
    assert!(body.contains("\"code\":\"INTERNAL\""), "{body}");
    assert!(!body.contains("Canary"), "{body}");
    assert!(
        options
            .metrics
            .render()
            .contains("trm_graphql_requests_total{operation=\"unknown\",outcome=\"INTERNAL\"} 1")
    );
}
