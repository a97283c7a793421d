//! Authentication: no or bad token means nothing executes.

use crate::harness::{TestServer, error_code};
use reqwest::StatusCode;
use serde_json::json;

const OPEN: &str = "mutation { openCase(input: {workflowId: \"trm-adult\"}) { case { id } } }";

#[tokio::test]
async fn requests_without_a_valid_token_are_refused_and_change_nothing() {
    let s = TestServer::start().await;
    let forged = format!("Bearer trm_{}", "A".repeat(43));
    let other_scheme = format!("Basic {}", s.token("it.shelter"));
    for auth in [
        None,
        Some("Bearer"),
        Some("Bearer not-a-token"),
        Some(forged.as_str()),
        Some(other_scheme.as_str()),
    ] {
        let (status, body) = s.post(auth, OPEN, json!({})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}: {body}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        assert!(body.get("data").is_none());
    }
    // Nothing was opened: the shelter (and the auditor, who sees every case) see no case.
    let data = s
        .data("auditor", "{ cases { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(data["cases"]["edges"].as_array().unwrap().len(), 0);
    s.stop().await;
}

#[tokio::test]
async fn me_describes_the_principal_and_issued_tokens_work() {
    let s = TestServer::start().await;
    let data = s
        .data(
            "it.prosecutor",
            "{ me { user { username displayName } agency { name kind country } roles } }",
            json!({}),
        )
        .await;
    assert_eq!(data["me"]["user"]["username"], "it.prosecutor");
    assert_eq!(data["me"]["agency"]["country"], "IT");
    assert_eq!(data["me"]["agency"]["kind"], "PROSECUTOR");
    assert_eq!(
        data["me"]["roles"],
        json!(["COMPETENT_AUTHORITY", "CASE_WORKER"])
    );

    let token = trm::service::auth::issue_token(&s.app, "ng.focal")
        .await
        .unwrap();
    let (status, body) = s
        .post(
            Some(&format!("Bearer {token}")),
            "{ me { agency { country } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["me"]["agency"]["country"], "NG");
    // Tokens are stored only as hashes.
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use trm::store::entities::api_token;
    let count = |value: String| {
        api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(value))
            .count(s.app.store.conn())
    };
    assert_eq!(count(token.clone()).await.unwrap(), 0);
    assert_eq!(
        count(trm::service::auth::token_hash(&token)).await.unwrap(),
        1
    );
    s.stop().await;
}

/// The principal behind a token is remembered for a moment (no directory read per request): a
/// token revoked, or a user changed, through one instance applies there at once, and on
/// every other instance (or behind the service's back) within the stated bound.
#[tokio::test]
async fn a_revoked_token_stops_at_once_here_and_within_the_bound_elsewhere() {
    let s = TestServer::start().await;
    let other = s.start_instance().await;
    let bound = s.app.auth_cache().recheck();
    assert!(
        bound <= std::time::Duration::from_secs(1),
        "the documented default bound is 1 s"
    );
    const ME: &str = "{ me { roles } }";
    let token = s.token("it.shelter").to_string();
    for server in [&s, &other] {
        let (status, _) = server
            .post(Some(&format!("Bearer {token}")), ME, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
    }

    // Revoked through the first instance: refused there at once, on the other within the
    // bound.
    assert!(
        trm::service::auth::revoke_token(&s.app, &token)
            .await
            .unwrap()
    );
    let (status, body) = s
        .post(Some(&format!("Bearer {token}")), OPEN, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    tokio::time::sleep(bound + std::time::Duration::from_millis(100)).await;
    let (status, body) = other
        .post(Some(&format!("Bearer {token}")), OPEN, json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // A user's roles changed behind the service's back (an operator's SQL): the cached
    // principal is dropped within the bound on every instance.
    let police = s.token("it.police").to_string();
    let before = s.data("it.police", ME, json!({})).await;
    assert_ne!(before["me"]["roles"], json!(["AUDITOR"]));
    trm::store::execute_sql(
        s.app.store.conn(),
        "UPDATE users SET roles = '[\"AUDITOR\"]' WHERE username = 'it.police'",
    )
    .await
    .unwrap();
    tokio::time::sleep(bound + std::time::Duration::from_millis(100)).await;
    for server in [&s, &other] {
        let (status, body) = server
            .post(Some(&format!("Bearer {police}")), ME, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["me"]["roles"], json!(["AUDITOR"]), "{body}");
    }
    // Nothing was opened by the revoked token.
    let data = s
        .data("auditor", "{ cases { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(data["cases"]["edges"].as_array().unwrap().len(), 0);
    other.stop().await;
    s.stop().await;
}
