//! Opening cases, firing transitions and migrating cases, at the service level.

use super::{
    decision_workflows, events, fire, firing, main_state, open, opening, principal, stored,
};
use crate::harness::TestServer;
use chrono::{Datelike, Duration};
use serde_json::json;
use std::collections::BTreeMap;
use trm::access::Principal;
use trm::domain::{CaseFilter, CaseStatus, EventKind, GENESIS_HASH};
use trm::service::cases::{self, FireTransition, OpenCase};
use trm::service::migration::{self, MigrateCase};
use trm::service::{App, ServiceError};

#[tokio::test]
async fn open_case_numbers_the_case_in_its_country_and_year_at_version_one() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let first = open(&s.app, &p, "decision").await;
    let prefix = format!("IT-{}-", s.app.now().year());
    let number = first
        .reference
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{} does not start with {prefix}", first.reference));
    assert!(
        number.len() == 6 && number.chars().all(|c| c.is_ascii_digit()),
        "six digits: {}",
        first.reference
    );
    assert_eq!(first.version, 1);
    assert_eq!(
        (first.workflow_id.as_str(), first.workflow_version),
        ("decision", 1)
    );
    assert_eq!(first.country, "IT");
    assert_eq!(first.status, CaseStatus::Active);
    assert_eq!(main_state(&first), Some("received"));
    assert_eq!(
        (
            first.lead_agency_id,
            first.opened_by_agency_id,
            first.opened_by
        ),
        (p.agency_id, p.agency_id, p.user_id)
    );
    assert_eq!(
        stored(&s.app, first.id).await,
        first,
        "what was stored is what was answered"
    );

    // The opening is the first event of the case's chain.
    let opened = events(&s.app, first.id).await;
    assert_eq!(opened.len(), 1);
    assert_eq!((opened[0].kind, opened[0].seq), (EventKind::CaseOpened, 1));
    assert_eq!(opened[0].prev_hash, GENESIS_HASH);
    assert_eq!(opened[0].hash, first.last_hash);

    // The next case in the country takes the next number; another country counts its own.
    let second = open(&s.app, &p, "decision").await;
    let next = number.parse::<u32>().unwrap() + 1;
    assert_eq!(second.reference, format!("{prefix}{next:06}"));
    let bg = open(&s.app, &principal(&s, "bg.shelter").await, "decision").await;
    assert_eq!(bg.country, "BG");
    assert!(
        bg.reference
            .starts_with(&format!("BG-{}-", s.app.now().year())),
        "{}",
        bg.reference
    );
    s.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_case_and_refuses_another_request_with_it() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let keyed = OpenCase {
        idempotency_key: Some("open-once".into()),
        ..opening("decision")
    };
    let first = cases::open_case(&s.app, &p, keyed.clone()).await.unwrap();
    let again = cases::open_case(&s.app, &p, keyed.clone()).await.unwrap();
    assert_eq!(
        (again.id, again.reference.as_str(), again.version),
        (first.id, first.reference.as_str(), 1)
    );
    async fn cases_of(app: &App, p: &Principal) -> usize {
        cases::list_cases(app, p, &CaseFilter::default(), None, 10)
            .await
            .unwrap()
            .len()
    }
    assert_eq!(
        cases_of(&s.app, &p).await,
        1,
        "the retry opened no second case"
    );
    assert_eq!(events(&s.app, first.id).await.len(), 1);

    // The same key for another request is refused, and opens nothing.
    let other = OpenCase {
        origin_country: Some("NG".into()),
        ..keyed.clone()
    };
    let err = cases::open_case(&s.app, &p, other).await.unwrap_err();
    assert!(matches!(err, ServiceError::IdempotencyMismatch), "{err:?}");
    assert_eq!(cases_of(&s.app, &p).await, 1);

    // Keys are each user's own: a colleague's request with the same key is a new one.
    let colleague = principal(&s, "it.shelter.supervisor").await;
    let theirs = cases::open_case(&s.app, &colleague, keyed).await.unwrap();
    assert_ne!(theirs.id, first.id);
    s.stop().await;
}

#[tokio::test]
async fn fire_transition_moves_the_version_by_one_and_numbers_the_event_with_it() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let case = open(&s.app, &p, "decision").await;

    let submitted = fire(&s.app, &p, case.id, "submit", 1).await;
    assert!(!submitted.replayed);
    assert_eq!(submitted.case.version, 2);
    let e = &submitted.event;
    assert_eq!(
        e.seq, submitted.case.version,
        "the event's seq is the version"
    );
    assert_eq!(e.kind, EventKind::Transition);
    assert_eq!(e.transition.as_deref(), Some("submit"));
    assert_eq!(
        (e.from_state.as_deref(), e.to_state.as_deref()),
        (Some("received"), Some("pending"))
    );
    assert_eq!(
        (e.actor_user_id, e.actor_agency_id),
        (p.user_id, p.agency_id)
    );
    assert_eq!(e.prev_hash, case.last_hash, "chained to the opening");
    assert_eq!(submitted.case.last_hash, e.hash);
    assert_eq!(main_state(&submitted.case), Some("pending"));
    let timers = &submitted.case.state.timers;
    assert!(
        timers.contains_key("decision") && timers.contains_key("cooling"),
        "{timers:?}"
    );

    let decided = fire(&s.app, &p, case.id, "decide", 2).await;
    assert_eq!((decided.case.version, decided.event.seq), (3, 3));
    assert_eq!(decided.event.prev_hash, submitted.event.hash);
    assert!(
        decided.case.state.timers["decision"].stopped_at.is_some(),
        "deciding stops the deadline"
    );
    assert_eq!(stored(&s.app, case.id).await, decided.case);
    let all = events(&s.app, case.id).await;
    assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(all[2], decided.event);
    s.stop().await;
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_naming_the_actual_version_and_changes_nothing() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let case = open(&s.app, &p, "decision").await;
    fire(&s.app, &p, case.id, "submit", 1).await;
    let before = stored(&s.app, case.id).await;

    for stale in [1, 7] {
        let err = cases::fire_transition(&s.app, &p, firing(case.id, "decide", stale, json!({})))
            .await
            .unwrap_err();
        match err {
            ServiceError::VersionConflict { expected, actual } => {
                assert_eq!((expected, actual), (stale, 2));
            }
            other => panic!("expected a version conflict, got {other:?}"),
        }
        assert_eq!(stored(&s.app, case.id).await, before, "nothing changed");
        assert_eq!(events(&s.app, case.id).await.len(), 2);
    }
    // At the actual version it goes through.
    let decided = fire(&s.app, &p, case.id, "decide", 2).await;
    assert_eq!(decided.case.version, 3);
    s.stop().await;
}

#[tokio::test]
async fn unmet_guards_refuse_with_guard_failed_and_change_nothing() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let case = open(&s.app, &p, "decision").await;
    fire(&s.app, &p, case.id, "submit", 1).await;
    fire(&s.app, &p, case.id, "decide", 2).await;
    let before = stored(&s.app, case.id).await;

    // The 10-day floor started at submission blocks closing.
    s.clock.advance(Duration::days(9));
    let err = cases::fire_transition(&s.app, &p, firing(case.id, "close", 3, json!({})))
        .await
        .unwrap_err();
    let ServiceError::GuardFailed { transition, unmet } = err else {
        panic!("expected GUARD_FAILED, got {err:?}");
    };
    assert_eq!(transition, "close");
    assert_eq!(
        unmet.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["floor:cooling"]
    );
    assert!(
        unmet
            .iter()
            .all(|u| !u.reason.is_empty() && !u.reason_fr.is_empty()),
        "{unmet:?}"
    );
    assert_eq!(stored(&s.app, case.id).await, before, "nothing changed");
    assert_eq!(events(&s.app, case.id).await.len(), 3);

    // A transition that does not leave the current state is refused too, changing nothing.
    let err = cases::fire_transition(&s.app, &p, firing(case.id, "submit", 3, json!({})))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::InvalidTransition(_)), "{err:?}");
    assert_eq!(stored(&s.app, case.id).await, before);

    // Once the floor has run, the case closes.
    s.clock.advance(Duration::days(1));
    let closed = fire(&s.app, &p, case.id, "close", 3).await;
    assert_eq!(closed.case.version, 4);
    assert_eq!(closed.case.status, CaseStatus::Closed);
    s.stop().await;
}

#[tokio::test]
async fn an_idempotent_retry_returns_replayed_and_the_same_event() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let p = principal(&s, "it.shelter").await;
    let case = open(&s.app, &p, "decision").await;
    let keyed = FireTransition {
        idempotency_key: Some("submit-once".into()),
        ..firing(case.id, "submit", 1, json!({}))
    };
    let first = cases::fire_transition(&s.app, &p, keyed.clone())
        .await
        .unwrap();
    assert!(!first.replayed);
    let retry = cases::fire_transition(&s.app, &p, keyed.clone())
        .await
        .unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.event, first.event, "the same event, not a new one");
    assert_eq!(retry.case.version, 2);
    assert_eq!(events(&s.app, case.id).await.len(), 2);

    // After the case moved on, the retry still answers with the first result.
    fire(&s.app, &p, case.id, "decide", 2).await;
    let late = cases::fire_transition(&s.app, &p, keyed.clone())
        .await
        .unwrap();
    assert!(late.replayed);
    assert_eq!(late.event.id, first.event.id);
    assert_eq!(events(&s.app, case.id).await.len(), 3);

    // The same key for another request is refused and changes nothing.
    let other = FireTransition {
        transition: "close".into(),
        expected_version: 3,
        ..keyed
    };
    let err = cases::fire_transition(&s.app, &p, other).await.unwrap_err();
    assert!(matches!(err, ServiceError::IdempotencyMismatch), "{err:?}");
    assert_eq!(stored(&s.app, case.id).await.version, 3);
    s.stop().await;
}

#[tokio::test]
async fn migrate_case_pins_the_case_to_the_newer_version_with_one_event() {
    let s = TestServer::start().await;
    let worker = principal(&s, "it.shelter").await;
    let supervisor = principal(&s, "it.shelter.supervisor").await;
    let case = cases::open_case(
        &s.app,
        &worker,
        OpenCase {
            workflow_version: Some(1),
            ..opening("trm-adult")
        },
    )
    .await
    .unwrap();
    assert_eq!(case.workflow_version, 1);
    cases::fire_transition(
        &s.app,
        &worker,
        firing(
            case.id,
            "start_screening",
            1,
            json!({"signal_source": "self_report"}),
        ),
    )
    .await
    .unwrap();
    let before = stored(&s.app, case.id).await;
    let input = |expected_version: i64, to_version: u32, reason: &str| MigrateCase {
        case_id: case.id,
        to_version,
        expected_version,
        reason: reason.into(),
        reason_shared_as: Default::default(),
        state_map: BTreeMap::new(),
    };
    let why = "all five SOPs apply from now on";

    // Refusals change nothing: a case worker, a stale version, no way back, no reason.
    let err = migration::migrate_case(&s.app, &worker, input(2, 2, why))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    let err = migration::migrate_case(&s.app, &supervisor, input(1, 2, why))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::VersionConflict {
                expected: 1,
                actual: 2
            }
        ),
        "{err:?}"
    );
    let err = migration::migrate_case(&s.app, &supervisor, input(2, 1, why))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Validation { .. }), "{err:?}");
    let err = migration::migrate_case(&s.app, &supervisor, input(2, 2, "  "))
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Validation { .. }), "{err:?}");
    assert_eq!(stored(&s.app, case.id).await, before, "nothing changed");

    let (migrated, event) = migration::migrate_case(&s.app, &supervisor, input(2, 2, why))
        .await
        .unwrap();
    assert_eq!((migrated.workflow_version, migrated.version), (2, 3));
    assert_eq!(event.kind, EventKind::WorkflowMigrated);
    assert_eq!((event.seq, event.workflow_version), (3, 2));
    assert_eq!(event.changes.migrated_from, Some(1));
    assert_eq!(event.reason.as_deref(), Some(why));
    assert_eq!(event.prev_hash, before.last_hash);
    assert_eq!(
        migrated.state.tracks, before.state.tracks,
        "states that exist in both versions are kept"
    );
    assert_eq!(stored(&s.app, case.id).await, migrated);

    // From now on the case moves under version 2.
    let next = cases::fire_transition(
        &s.app,
        &worker,
        firing(
            case.id,
            "record_presumed_victim",
            3,
            json!({"indicators_found": true, "informed_of_rights": true, "consent_to_referral": true}),
        ),
    )
    .await
    .unwrap();
    assert_eq!((next.event.workflow_version, next.case.version), (2, 4));
    s.stop().await;
}
