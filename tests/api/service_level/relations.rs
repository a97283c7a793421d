//! Who leads and who may look, at the service level: a transfer of lead accepted, and
//! break-glass access by a focal point, as `cases::get_case` decides it afterwards.

use super::{
    consent, decision_workflows, events, fire, firing, on_consent, open, principal, readable,
    seen_by, stored,
};
use crate::harness::TestServer;
use chrono::Duration;
use serde_json::{Map, json};
use std::collections::BTreeSet;
use trm::access::Relation;
use trm::domain::{ConsentPurpose, DataGroup, EventKind, TransferStatus};
use trm::service::transfer_decisions::{self, TransferAction};
use trm::service::transfers::{self, NewTransfer};
use trm::service::{ServiceError, break_glass, cases};

#[tokio::test]
async fn after_an_accepted_transfer_the_receiver_leads_and_the_former_lead_keeps_its_time() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let (lead, origin) = (
        principal(&s, "it.shelter").await,
        principal(&s, "bg.shelter").await,
    );
    let case = open(app, &lead, "decision").await;
    let shared = BTreeSet::from([DataGroup::Identity, DataGroup::LegalStatus]);
    consent(
        app,
        &lead,
        case.id,
        ConsentPurpose::Return,
        &origin,
        &shared,
    )
    .await;
    let offered = transfers::offer_transfer(
        app,
        &lead,
        NewTransfer {
            case_id: case.id,
            to_agency_id: origin.agency_id,
            groups: shared.clone(),
            ground: on_consent(None),
            data: Map::new(),
            reason: None,
            respond_within_days: None,
            expected_version: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(offered.status, TransferStatus::Offered);
    // While it is offered, the receiver sees what it would receive, to decide.
    let seen = seen_by(app, &origin, case.id).await.unwrap();
    assert_eq!(seen.relation(), Relation::Participant);
    assert_eq!(readable(&seen), shared);

    // Only the receiver accepts an offer.
    let err =
        transfer_decisions::act_on_transfer(app, &lead, offered.id, TransferAction::Accept, None)
            .await
            .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    let accepted =
        transfer_decisions::act_on_transfer(app, &origin, offered.id, TransferAction::Accept, None)
            .await
            .unwrap();
    assert_eq!(accepted.status, TransferStatus::Accepted);
    assert_eq!(accepted.decided_by, Some(origin.user_id));
    let handed_over = accepted.decided_at.expect("decided at");
    let row = stored(app, case.id).await;
    assert_eq!(row.lead_agency_id, origin.agency_id);
    let last = events(app, case.id).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.seq),
        (EventKind::TransferAccepted, row.version)
    );

    let new_lead = seen_by(app, &origin, case.id).await.unwrap();
    assert_eq!(new_lead.relation(), Relation::Lead);
    let former = seen_by(app, &lead, case.id).await.unwrap();
    assert_eq!(
        former.relation(),
        Relation::FormerLead { until: handed_over }
    );

    // The new lead moves the case; the former lead no longer does, nor sees what follows.
    s.clock.advance(Duration::minutes(5));
    let err = cases::fire_transition(
        app,
        &lead,
        firing(case.id, "submit", row.version, json!({})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    let submitted = fire(app, &origin, case.id, "submit", row.version).await;
    let former = seen_by(app, &lead, case.id).await.unwrap();
    let history = cases::history(app, &former, 0, 100)
        .await
        .unwrap()
        .expect("a former lead sees the history of its time");
    assert!(
        history
            .iter()
            .any(|e| e.kind == EventKind::TransferAccepted)
    );
    assert!(
        history.iter().all(|e| e.id != submitted.event.id),
        "nothing after the hand-over"
    );
    assert!(former.facts().is_none());
    s.stop().await;
}

#[tokio::test]
async fn break_glass_lets_a_focal_point_see_a_case_until_it_expires() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let lead = principal(&s, "bg.shelter").await;
    let (focal, worker) = (
        principal(&s, "it.focal").await,
        principal(&s, "it.shelter").await,
    );
    let case = open(app, &lead, "decision").await;
    assert!(seen_by(app, &focal, case.id).await.is_none());
    let why = "she called the hotline from a locked flat";

    // Not for case workers; a justification of a few words at least; a limited time.
    for (p, justification, minutes, forbidden) in [
        (&worker, why, None, true),
        (&focal, "urgent", None, false),
        (&focal, why, Some(0), false),
        (&focal, why, Some(break_glass::MAX_MINUTES + 1), false),
    ] {
        let err = break_glass::break_glass(app, p, &case.reference, justification, minutes)
            .await
            .unwrap_err();
        if forbidden {
            assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
        } else {
            assert!(matches!(err, ServiceError::Validation { .. }), "{err:?}");
        }
    }
    assert_eq!(stored(app, case.id).await, case, "refusals change nothing");

    let (opened, access) = break_glass::break_glass(app, &focal, &case.reference, why, Some(30))
        .await
        .unwrap();
    assert_eq!(access.expires_at, app.now() + Duration::minutes(30));
    assert_eq!((access.case_id, access.user_id), (case.id, focal.user_id));
    assert_eq!(opened.version, case.version + 1);
    let last = events(app, case.id).await.pop().unwrap();
    assert_eq!(
        (last.kind, last.actor_user_id),
        (EventKind::BreakGlass, focal.user_id)
    );
    let seen = seen_by(app, &focal, case.id).await.expect("opened");
    assert_eq!(
        seen.relation(),
        Relation::BreakGlass {
            until: access.expires_at
        }
    );
    assert!(seen.facts().is_some(), "the case's facts are shown");
    // While it lasts, a second one is refused: the case is already open to them.
    let err = break_glass::break_glass(app, &focal, &case.reference, why, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");

    s.clock.advance(Duration::minutes(29));
    assert!(seen_by(app, &focal, case.id).await.is_some());
    s.clock.advance(Duration::minutes(1));
    assert!(
        seen_by(app, &focal, case.id).await.is_none(),
        "expired at {}",
        access.expires_at
    );
    s.stop().await;
}
