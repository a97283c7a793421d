//! The focal point's page over HTTP: its escalations and alerts, and the board of the children
//! on the move its country is concerned with; a child is never on an unconcerned country's
//! board, and no one but a focal point has the page.

use super::Session;
use crate::children_on_the_move::{child_from_niger, goes_missing};
use crate::harness::TestServer;
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_focal_point_accounts_for_the_children_its_country_is_concerned_with() {
    let s = TestServer::start_console().await;
    let mut c = child_from_niger(&s).await;
    let (id, reference) = (c.id.clone(), c.reference.clone());
    let mali = Session::sign_in(&s, "ml.focal").await;
    let senegal = Session::sign_in(&s, "sn.focal").await;

    // On Mali's board, not shared with it yet: the reference and where the child stands, no
    // link to a case it may not open.
    let board = mali.get("/focal-point").await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    let text = board.text();
    assert!(text.contains(&reference), "{text}");
    assert!(text.contains("In care"), "{text}");
    assert!(text.contains("Not shared with your agency"), "{text}");
    assert!(!board.body.contains(&format!("/cases/{id}")));
    assert!(
        board.body.contains("aria-current=\"page\""),
        "the menu marks the page"
    );
    // Not on Senegal's.
    let other = senegal.get("/focal-point").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.text().contains(&reference));
    assert!(
        other
            .text()
            .contains("No child on the move concerns your country")
    );

    // Missing: the alert reaches Mali, which may now open the case from its board.
    c.presume().await;
    c.appoint_guardian().await;
    goes_missing(&mut c).await;
    let board = mali.get("/focal-point").await;
    let text = board.text();
    assert!(text.contains("Person missing"), "the alert: {text}");
    assert!(board.body.contains(">Missing</span>"), "{text}");
    assert!(board.body.contains(&format!("href=\"/cases/{id}\"")));
    assert!(!text.contains("No news for"), "{text}");
    assert!(
        !senegal
            .get("/focal-point")
            .await
            .text()
            .contains(&reference)
    );

    // Fifteen days without news (the console flags after 14); the session has ended by then.
    s.clock.advance(Duration::days(15));
    let mali = Session::sign_in(&s, "ml.focal").await;
    let board = mali.get("/focal-point").await;
    assert!(
        board.text().contains("No news for 14 days"),
        "{}",
        board.text()
    );

    // In French too.
    mali.post("/language", &[("lang", "fr")]).await;
    let board = mali.get("/focal-point").await;
    assert!(board.text().contains("Disparu"), "{}", board.text());
    assert!(
        board.text().contains("Sans nouvelles depuis 14 jours"),
        "{}",
        board.text()
    );
}

#[tokio::test]
async fn the_focal_point_page_is_for_focal_points_only() {
    let s = TestServer::start_console().await;
    child_from_niger(&s).await;
    for user in ["it.shelter", "it.childprotection", "auditor"] {
        let session = Session::sign_in(&s, user).await;
        let r = session.get("/focal-point").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{user}");
        assert!(
            !session
                .get("/")
                .await
                .body
                .contains("href=\"/focal-point\"")
        );
    }
    let it = Session::sign_in(&s, "it.focal").await;
    assert!(it.get("/").await.body.contains("href=\"/focal-point\""));
    assert_eq!(it.get("/focal-point").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_answer_overdue_in_its_country_reaches_the_focal_points_page_with_its_case() {
    let s = TestServer::start_console().await;
    let (id, reference) = s.open_case("it.shelter").await;
    s.consent_for("it.shelter", &id, "ng.shelter", &["IDENTITY"])
        .await;
    s.data(
        "it.shelter",
        "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
        json!({"input": {"caseId": id, "toAgencyId": s.agency_id("ng.shelter").await,
            "service": "FAMILY_TRACING", "purpose": "trace the family",
            "sharedGroups": ["IDENTITY"], "respondWithinDays": 2}}),
    )
    .await;
    s.clock.advance(Duration::days(3));
    trm::service::timers::fire_due(&s.app).await.unwrap();
    let nigeria = Session::sign_in(&s, "ng.focal").await;
    let page = nigeria.get("/focal-point").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(text.contains("Answer overdue"), "{text}");
    assert!(text.contains(&reference), "{text}");
    assert!(page.body.contains(&format!("href=\"/cases/{id}\"")));
    // An adult's case: an escalation, not a child on the move.
    assert!(
        text.contains("No child on the move concerns your country"),
        "{text}"
    );
}
