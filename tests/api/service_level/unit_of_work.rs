//! The unit of work every change to a case goes through (`CaseWork`), and the scheduler that
//! records due timers with it.

use super::{decision_workflows, events, fire, main_state, open, principal, stored};
use crate::harness::TestServer;
use chrono::Duration;
use serde_json::Map;
use trm::access::Principal;
use trm::domain::event::TransitionNames;
use trm::domain::{Event, EventDraft, EventKind, GENESIS_HASH};
use trm::service::unit_of_work::{CaseWork, Changer};
use trm::service::{App, ServiceError, timers};
use trm::workflow::engine;
use uuid::Uuid;

/// Records `transition` in `work` as `p` would fire it (the engine's outcome as one event).
async fn record_transition(
    app: &App,
    work: &mut CaseWork<'_>,
    p: &Principal,
    transition: &str,
) -> Event {
    let workflow = work.workflow().clone();
    let outcome = engine::evaluate(
        &workflow,
        &work.case().state,
        &trm::service::transitions::actor(p),
        transition,
        &Map::new(),
        app.env(work.case(), work.now()),
    )
    .unwrap_or_else(|refusal| panic!("{transition}: {refusal:?}"));
    let mut draft = EventDraft::new(EventKind::Transition, (p.user_id, p.agency_id));
    draft.transition = Some(TransitionNames {
        transition: transition.into(),
        track: outcome.track,
        from: outcome.from,
        to: outcome.to,
    });
    draft.changes = outcome.changes;
    work.record(draft).await.expect("record").clone()
}

#[tokio::test]
async fn a_change_of_several_events_moves_the_version_by_that_many_on_one_chain() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let p = principal(&s, "it.shelter").await;
    let case = open(app, &p, "decision").await;

    let mut work = CaseWork::begin(app, Changer::Principal(&p), case.id, Some(1))
        .await
        .unwrap();
    let submit = record_transition(app, &mut work, &p, "submit").await;
    let decide = record_transition(app, &mut work, &p, "decide").await;
    assert_eq!(work.case().version, 3);
    assert_eq!(work.pending_events(), [submit.clone(), decide.clone()]);
    let committed = work.commit().await.unwrap();

    assert_eq!(committed.case.version, case.version + 2);
    assert_eq!(committed.events, [submit, decide]);
    let [first, second] = committed.events.as_slice() else {
        panic!("two events: {:?}", committed.events);
    };
    assert_eq!((first.seq, second.seq), (2, 3));
    assert_eq!(first.prev_hash, case.last_hash);
    assert_eq!(second.prev_hash, first.hash);
    assert_eq!(committed.last_event().unwrap(), second);

    // The stored case and its chain agree: the row's last hash is its last event's.
    let row = stored(app, case.id).await;
    assert_eq!(row, committed.case);
    assert_eq!(main_state(&row), Some("decided"));
    let chain = events(app, case.id).await;
    assert_eq!(chain.len(), 3);
    assert_eq!(chain[0].prev_hash, GENESIS_HASH);
    for pair in chain.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert!(chain.iter().all(|e| e.hash == e.compute_hash()));
    assert_eq!(row.last_hash, chain[2].hash);
    assert_eq!(row.version, chain[2].seq);
    s.stop().await;
}

#[tokio::test]
async fn a_case_work_dropped_without_commit_changes_nothing() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let p = principal(&s, "it.shelter").await;
    let case = open(app, &p, "decision").await;
    fire(app, &p, case.id, "submit", 1).await;
    let before = stored(app, case.id).await;
    let chain = events(app, case.id).await;

    {
        let mut work = CaseWork::begin(app, Changer::Principal(&p), case.id, Some(2))
            .await
            .unwrap();
        record_transition(app, &mut work, &p, "decide").await;
        assert_eq!(work.case().version, 3);
        assert_eq!(main_state(work.case()), Some("decided"));
    }
    assert_eq!(stored(app, case.id).await, before, "the row is unchanged");
    assert_eq!(events(app, case.id).await, chain, "no event was kept");

    // A change that records no event is refused at commit, and changes nothing either.
    let work = CaseWork::begin(app, Changer::Principal(&p), case.id, Some(2))
        .await
        .unwrap();
    assert!(matches!(
        work.commit().await.unwrap_err(),
        ServiceError::Internal(_)
    ));
    assert_eq!(stored(app, case.id).await, before);

    // The case was not left locked: the next change goes through, chained to the last event.
    let decided = fire(app, &p, case.id, "decide", 2).await;
    assert_eq!(decided.case.version, 3);
    assert_eq!(decided.event.prev_hash, before.last_hash);
    s.stop().await;
}

#[tokio::test]
async fn a_case_work_begins_only_at_the_expected_version_and_within_the_callers_scope() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let p = principal(&s, "it.shelter").await;
    let case = open(app, &p, "decision").await;
    let err = CaseWork::begin(app, Changer::Principal(&p), case.id, Some(2))
        .await
        .err()
        .expect("a stale version");
    assert!(
        matches!(
            err,
            ServiceError::VersionConflict {
                expected: 2,
                actual: 1
            }
        ),
        "{err:?}"
    );
    // Outside the caller's scope the case does not exist; the service itself reaches it.
    let stranger = principal(&s, "bg.shelter").await;
    let err = CaseWork::begin(app, Changer::Principal(&stranger), case.id, None)
        .await
        .err()
        .expect("out of scope");
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let err = CaseWork::begin(app, Changer::System, Uuid::now_v7(), None)
        .await
        .err()
        .expect("no such case");
    assert!(matches!(err, ServiceError::NotFound(_)), "{err:?}");
    let work = CaseWork::begin(app, Changer::System, case.id, Some(1))
        .await
        .unwrap();
    assert_eq!(work.case().id, case.id);
    drop(work);
    assert_eq!(stored(app, case.id).await, case);
    s.stop().await;
}

#[tokio::test]
async fn fire_due_records_a_due_timer_once_and_never_a_stopped_one() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let p = principal(&s, "it.shelter").await;
    let (a, b) = (
        open(app, &p, "decision").await,
        open(app, &p, "decision").await,
    );
    fire(app, &p, a.id, "submit", 1).await;
    fire(app, &p, b.id, "submit", 1).await;
    // b's decision is made in time: its deadline stops.
    fire(app, &p, b.id, "decide", 2).await;
    assert_eq!(
        timers::fire_due(app).await.unwrap(),
        0,
        "nothing is due yet"
    );

    s.clock.advance(Duration::days(5));
    assert_eq!(
        timers::fire_due(app).await.unwrap(),
        1,
        "a's decision deadline"
    );
    assert_eq!(timers::fire_due(app).await.unwrap(), 0, "recorded once");
    let a_now = stored(app, a.id).await;
    assert_eq!(a_now.version, 4, "the lapse and its escalation");
    let mut recorded = events(app, a.id).await;
    let escalated = recorded.pop().unwrap();
    assert_eq!(
        (escalated.kind, escalated.seq),
        (EventKind::DeadlineEscalated, 4)
    );
    let elapsed = recorded.pop().unwrap();
    assert_eq!((elapsed.kind, elapsed.seq), (EventKind::TimerElapsed, 3));
    assert_eq!(elapsed.changes.timer_elapsed.as_deref(), Some("decision"));
    assert_eq!(
        (elapsed.actor_user_id, elapsed.actor_agency_id),
        (Uuid::nil(), a.lead_agency_id),
        "recorded by the service for the lead agency"
    );
    assert!(a_now.state.timers["decision"].view(app.now()).elapsed);
    assert_eq!(
        stored(app, b.id).await.version,
        3,
        "b's stopped deadline is not fired"
    );

    // Day 10: both cooling-off floors run out, each recorded once on its own case.
    s.clock.advance(Duration::days(5));
    assert_eq!(timers::fire_due(app).await.unwrap(), 2);
    assert_eq!(timers::fire_due(app).await.unwrap(), 0);
    assert_eq!(stored(app, a.id).await.version, 5);
    assert_eq!(stored(app, b.id).await.version, 4);
    s.stop().await;
}
