//! A decision of another body taken in the console, in that body's own name: the migration
//! authority an NGO involved ends the reflection period from the case page (adult v5), seeing only
//! the steps given to its kind, and the NGO sees the decision in the authority's name.

use super::{Session, input_value};
use crate::decisions::{ADULT, to_crisis};
use crate::driver::CaseDriver;
use crate::harness::TestServer;
use reqwest::StatusCode;

const LEAD: &str = "it.shelter.supervisor";
const AUTHORITY: &str = "it.migration";

#[tokio::test]
async fn an_involved_migration_authority_ends_the_reflection_period_from_the_console() {
    let s = TestServer::start_console().await;
    let mut c = CaseDriver::open(&s, LEAD, ADULT, Some(5)).await;
    to_crisis(&mut c, LEAD).await;
    let case_path = format!("/cases/{}", c.id);

    // Before the NGO involves it, the authority's console knows no such case.
    let authority = Session::sign_in(&s, AUTHORITY).await;
    assert_eq!(
        authority.get(&case_path).await.status,
        StatusCode::NOT_FOUND
    );

    let referral = s
        .involve(LEAD, &c.id, AUTHORITY, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    // The authority finds the request among the referrals it received, accepts it and follows
    // it to the case.
    let received = authority.get("/referrals").await;
    assert!(
        received.body.contains(&format!("/referrals/{referral}")),
        "{}",
        received.text()
    );
    let accepted = authority
        .post(
            &format!("/referrals/{referral}/answer"),
            &[("answer", "accept")],
        )
        .await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "{}",
        accepted.text()
    );
    let referral_page = authority.get(&format!("/referrals/{referral}")).await;
    assert!(
        referral_page
            .body
            .contains(&format!("href=\"{case_path}\"")),
        "{}",
        referral_page.text()
    );

    // The case page offers it the decisions of its kind and none of the lead's steps.
    let page = authority.get(&case_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    assert!(
        text.contains("Terminate the reflection period"),
        "the authority's decision is offered: {text}"
    );
    assert!(
        page.body
            .contains("value=\"renewed_contact_with_perpetrators\""),
        "its ground is asked for"
    );
    for lead_step in [
        "decide_to_cooperate",
        "move_to_long_term_assistance",
        "refuse_assistance",
    ] {
        assert!(
            !page.body.contains(&format!("value=\"{lead_step}\"")),
            "the lead's step {lead_step} is not offered to the authority"
        );
    }

    // It decides, in its own name.
    let version = input_value(&page.body, "version").expect("the page carries the version");
    let fired = authority
        .post(
            &format!("{case_path}/fire"),
            &[
                ("transition", "terminate_reflection_period"),
                ("version", &version),
                ("idempotency", "ma-console-1"),
                (
                    "f.reflection_termination_ground",
                    "renewed_contact_with_perpetrators",
                ),
            ],
        )
        .await;
    assert_eq!(fired.status, StatusCode::SEE_OTHER, "{}", fired.text());
    let after = authority.get(fired.location.as_deref().unwrap()).await;
    assert!(
        after
            .text()
            .contains("Recorded: Terminate the reflection period"),
        "{}",
        after.text()
    );

    // The NGO that leads the case sees the decision in the authority's name, and is told.
    let lead = Session::sign_in(&s, LEAD).await;
    let page = lead.get(&case_path).await;
    let history = super::text(&page.body[page.body.find("id=\"history\"").unwrap()..]);
    let entry = &history[history
        .find("Terminate the reflection period")
        .expect("the decision is in the history")..];
    let entry = &entry[..entry.find(" #").unwrap_or(entry.len())];
    assert!(
        entry.contains("Demo Questura – Immigration Office (IT)"),
        "the history names the authority as the decider: {entry}"
    );
    let inbox = lead.get("/inbox").await;
    assert!(
        inbox.text().contains("Decision recorded"),
        "{}",
        inbox.text()
    );
    s.stop().await;
}
