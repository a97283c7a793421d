//! Micro-benchmarks of the engine's hot paths on the real definitions in `workflows/`: guard
//! evaluation, deciding a transition and listing the available ones, event and Merkle hashing,
//! and rebuilding a case from its events.
//!
//! `cargo bench --bench engine` (append `-- --quick` for a fast pass, or a name filter).

// Start-up code of a benchmark: a fixture that cannot be built is a broken benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use trm::audit::{merkle, replay};
use trm::domain::CaseRecord;
use trm::domain::Event;
use trm::domain::EventKind;
use trm::domain::{AgencyKind, Role};
use trm::workflow::engine::{self, Actor, Env, TrackChange};
use trm::workflow::guard::{Guard, GuardInput, TimerView, json_to_cel};
use trm::workflow::{CaseState, Changes, Registry, Workflow};
use uuid::Uuid;

/// The jurisdiction of the benchmark case (default parameters: the reflection period starts
/// at reasonable grounds).
const COUNTRY: &str = "IT";

/// The adult procedure, version 2, loaded the way the service loads it.
struct Fixture {
    registry: Registry,
    adult: Arc<Workflow>,
}

impl Fixture {
    fn load() -> Fixture {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
        let registry = trm::startup::load_workflows(&dir).expect("the shipped workflows load");
        let adult = registry
            .get("trm-adult", Some(2))
            .expect("trm-adult v2 is shipped");
        Fixture { registry, adult }
    }

    fn env(&self, now: DateTime<Utc>) -> Env<'_> {
        Env {
            now,
            country: COUNTRY,
            calendar: self.registry.calendar(COUNTRY),
        }
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn actor(role: Role, agency_kind: AgencyKind) -> Actor {
    Actor {
        roles: vec![role],
        agency_kind,
    }
}

fn data(v: Json) -> Map<String, Json> {
    v.as_object().cloned().unwrap_or_default()
}

/// The transitions of a ~20-event case (19 transitions after the opening event): screening,
/// first assistance, formal identification, cooperation and proceedings, long-term assistance,
/// a missing-and-found episode, judgment and compensation.
fn procedure() -> Vec<(Role, &'static str, Json)> {
    use Role::{CaseWorker, CompetentAuthority};
    vec![
        (
            CaseWorker,
            "start_screening",
            json!({"signal_source": "hotline"}),
        ),
        (
            CaseWorker,
            "record_presumed_victim",
            json!({"indicators_found": true, "informed_of_rights": true,
                   "consent_to_referral": true, "risk_level": "medium"}),
        ),
        (
            CaseWorker,
            "record_assessment",
            json!({"risk_level": "high", "immediate_needs_assessed": true}),
        ),
        (
            CaseWorker,
            "adopt_safety_plan",
            json!({"safety_plan_adopted": true, "secure_shelter": true}),
        ),
        (
            CompetentAuthority,
            "identify_formally",
            json!({"evidence_reviewed": true}),
        ),
        (
            CaseWorker,
            "decide_to_cooperate",
            json!({"legal_counselling_given": true}),
        ),
        (
            CaseWorker,
            "bring_charges",
            json!({"victim_informed_of_proceedings": true}),
        ),
        (CaseWorker, "move_to_long_term_assistance", json!({})),
        (
            CaseWorker,
            "grant_residence_permit",
            json!({"permit_ground": "cooperation", "permit_months": 12,
                   "permit_expiry": "2027-04-30"}),
        ),
        (
            CaseWorker,
            "adopt_support_plan",
            json!({"support_plan_adopted": true, "risk_level": "medium"}),
        ),
        (CaseWorker, "open_trial", json!({})),
        (
            CaseWorker,
            "review_support_plan",
            json!({"risk_level": "low"}),
        ),
        (
            CaseWorker,
            "report_missing",
            json!({"missing_circumstance": "absconded", "police_alerted": true}),
        ),
        (CaseWorker, "found", json!({})),
        (
            CaseWorker,
            "review_support_plan",
            json!({"risk_level": "low"}),
        ),
        (
            CaseWorker,
            "record_judgment",
            json!({"judgment_outcome": "conviction"}),
        ),
        (
            CaseWorker,
            "file_compensation_claim",
            json!({"compensation_route": "criminal_proceedings"}),
        ),
        (
            CaseWorker,
            "record_compensation_decision",
            json!({"compensation_awarded": true}),
        ),
        (
            CaseWorker,
            "renew_residence_permit",
            json!({"permit_months": 12, "permit_expiry": "2028-04-30"}),
        ),
    ]
}

/// A recorded case: its events (hash-chained as the service records them), the state after
/// each of them, and the case row as the service would have stored it.
struct RecordedCase {
    events: Vec<Event>,
    states: Vec<CaseState>,
    record: CaseRecord,
}

/// Fires `procedure()` through the engine, three days apart, recording each outcome as an
/// event the way `service::cases` does.
fn record_case(f: &Fixture) -> RecordedCase {
    let w = &f.adult;
    let mut log = EventLog {
        workflow: w,
        case_id: Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_0001),
        user: Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_00b1),
        agency: Uuid::from_u128(0x0199_0000_0000_7000_8000_0000_0000_00a1),
        events: Vec::new(),
    };
    let mut state = engine::initial_state(w);
    let opened = Changes {
        tracks: state
            .tracks
            .iter()
            .map(|(track, to)| TrackChange {
                track: track.clone(),
                from: None,
                to: to.clone(),
            })
            .collect(),
        ..Changes::default()
    };
    let mut now = t0();
    log.append(now, EventKind::CaseOpened, opened, None).details =
        Some(json!({"originCountry": "NG"}));
    let mut states = vec![state.clone()];
    for (role, transition, input) in procedure() {
        now += Duration::days(3);
        let outcome = engine::evaluate(
            w,
            &state,
            &actor(role, AgencyKind::Ngo),
            transition,
            &data(input),
            f.env(now),
        )
        .unwrap_or_else(|r| panic!("{transition} is refused: {r:?}"));
        let changes = outcome.changes.clone();
        log.append(
            now,
            EventKind::Transition,
            changes,
            Some((transition, &outcome)),
        );
        state = outcome.state;
        states.push(state.clone());
    }
    let events = log.seal();
    let record = CaseRecord {
        id: log.case_id,
        reference: "IT-2026-000001".into(),
        workflow_id: w.id.clone(),
        workflow_version: w.version,
        country: COUNTRY.into(),
        lead_agency_id: log.agency,
        status: engine::status(w, &state),
        version: events.len() as i64,
        opened_by: log.user,
        opened_at: t0(),
        updated_at: now,
        state,
        entered_at: BTreeMap::new(),
        follows_case_id: None,
        origin_country: Some("NG".into()),
        opened_by_agency_id: log.agency,
        last_hash: events
            .last()
            .map_or_else(|| trm::domain::GENESIS_HASH.to_string(), |e| e.hash.clone()),
    };
    RecordedCase {
        events,
        states,
        record,
    }
}

/// The events of one case, one user of one agency acting.
struct EventLog<'w> {
    workflow: &'w Workflow,
    case_id: Uuid,
    user: Uuid,
    agency: Uuid,
    events: Vec<Event>,
}

impl EventLog<'_> {
    /// Adds the next event (hash not yet computed) and returns it for further detail.
    fn append(
        &mut self,
        at: DateTime<Utc>,
        kind: EventKind,
        changes: Changes,
        fired: Option<(&str, &engine::Outcome)>,
    ) -> &mut Event {
        let seq = self.events.len() as i64 + 1;
        self.events.push(Event {
            id: Uuid::from_u128(0x0199_0000_0000_7000_9000_0000_0000_0000 + seq as u128),
            case_id: self.case_id,
            seq,
            kind,
            transition: fired.map(|(t, _)| t.to_string()),
            track: fired.map(|(_, o)| o.track.clone()),
            from_state: fired.map(|(_, o)| o.from.clone()),
            to_state: fired.map(|(_, o)| o.to.clone()),
            reason: None,
            reason_shared_as: Default::default(),
            reason_to: None,
            changes,
            workflow_id: self.workflow.id.clone(),
            workflow_version: self.workflow.version,
            actor_user_id: self.user,
            actor_agency_id: self.agency,
            occurred_at: at,
            prev_hash: String::new(),
            hash: String::new(),
            details: None,
            withheld: Vec::new(),
        });
        let last = self.events.len() - 1;
        &mut self.events[last]
    }

    /// Chains the events' hashes from the genesis hash, as the service does one by one.
    fn seal(&mut self) -> Vec<Event> {
        let mut prev = trm::domain::GENESIS_HASH.to_string();
        for e in &mut self.events {
            e.prev_hash = prev;
            e.hash = e.compute_hash();
            prev = e.hash.clone();
        }
        std::mem::take(&mut self.events)
    }
}

fn guard<'w>(w: &'w Workflow, transition: &str, name: &str) -> &'w Guard {
    w.transition(transition)
        .and_then(|t| t.guards.iter().find(|g| g.name == name))
        .unwrap_or_else(|| panic!("{transition} has a guard {name}"))
}

/// Timer views as the engine builds them for guards: every declared timer, unstarted ones
/// at their default.
fn timer_views(w: &Workflow, state: &CaseState, now: DateTime<Utc>) -> BTreeMap<String, TimerView> {
    w.timers
        .keys()
        .map(|id| {
            let view = state
                .timers
                .get(id)
                .map(|t| t.view(now))
                .unwrap_or_default();
            (id.clone(), view)
        })
        .collect()
}

/// Binds what `Guard::holds` binds (every declared fact, `tracks`, `timers`, `params`).
fn bind_like_holds<'c>(
    mut ctx: cel::Context<'c, 'c>,
    w: &Workflow,
    input: &GuardInput<'_>,
) -> cel::Context<'c, 'c> {
    use std::collections::HashMap;
    for name in w.facts.keys() {
        let value = input.facts.get(name).map_or(cel::Value::Null, json_to_cel);
        ctx.add_variable_from_value(name.as_str(), value);
    }
    let tracks: HashMap<String, cel::Value> = input
        .tracks
        .iter()
        .map(|(k, v)| (k.clone(), cel::Value::from(v.as_str())))
        .collect();
    ctx.add_variable_from_value("tracks", tracks);
    let timers: HashMap<String, cel::Value> = input
        .timers
        .iter()
        .map(|(k, v)| {
            let fields: HashMap<String, cel::Value> = [
                ("started", v.started),
                ("running", v.running),
                ("elapsed", v.elapsed),
                ("stopped", v.stopped),
                ("paused", v.paused),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), cel::Value::Bool(v)))
            .collect();
            (k.clone(), cel::Value::from(fields))
        })
        .collect();
    ctx.add_variable_from_value("timers", timers);
    let params: HashMap<String, cel::Value> = input
        .params
        .iter()
        .map(|(k, v)| (k.clone(), json_to_cel(v)))
        .collect();
    ctx.add_variable_from_value("params", params);
    ctx
}

fn bench_guards(c: &mut Criterion, f: &Fixture, case: &RecordedCase) {
    let w = &f.adult;
    // After `adopt_safety_plan`: crisis intervention, reflection period running.
    let state = &case.states[4];
    let now = t0() + Duration::days(13);
    let timers = timer_views(w, state, now);
    let params = w.parameters_for(COUNTRY);
    let input = GuardInput {
        facts: &state.facts,
        tracks: &state.tracks,
        timers: &timers,
        params: &params,
    };
    let mut g = c.benchmark_group("guard");
    let shelter = guard(w, "adopt_safety_plan", "high_risk_needs_secure_shelter");
    assert_eq!(shelter.holds(&input, &w.facts), Ok(true));
    g.bench_function("holds/high_risk_needs_secure_shelter", |b| {
        b.iter(|| black_box(shelter).holds(black_box(&input), &w.facts));
    });
    let over = guard(w, "move_to_long_term_assistance", "reflection_period_over");
    assert_eq!(over.holds(&input, &w.facts), Ok(false));
    g.bench_function("holds/reflection_period_over", |b| {
        b.iter(|| black_box(over).holds(black_box(&input), &w.facts));
    });
    // Where the time of `holds` goes. It builds a fresh `cel::Context::default()`, that is
    // the whole CEL standard library (`cel::Env::stdlib()`), on every call ...
    g.bench_function("cel/context_default", |b| {
        b.iter(cel::Context::default);
    });
    // ... then binds every declared fact, the tracks, the timers and the parameters; the
    // expression itself, over a standard library built once and the two facts it reads, is
    // the floor.
    let program = cel::Program::compile(&shelter.expr).unwrap();
    let stdlib = Arc::new(cel::Env::stdlib());
    g.bench_function(
        "cel/shared_stdlib_two_vars/high_risk_needs_secure_shelter",
        |b| {
            b.iter(|| {
                let mut ctx = cel::Context::with_env(stdlib.clone());
                ctx.add_variable_from_value("risk_level", "high");
                ctx.add_variable_from_value("secure_shelter", true);
                black_box(&program).execute(&ctx)
            });
        },
    );
    // The bindings of `holds` over a shared standard library: `holds` without the first cost.
    g.bench_function(
        "cel/shared_stdlib_all_vars/high_risk_needs_secure_shelter",
        |b| {
            b.iter(|| {
                let ctx = bind_like_holds(cel::Context::with_env(stdlib.clone()), w, &input);
                black_box(&program).execute(&ctx)
            });
        },
    );
    g.finish();
}

fn bench_transitions(c: &mut Criterion, f: &Fixture, case: &RecordedCase) {
    let w = &f.adult;
    let worker = actor(Role::CaseWorker, AgencyKind::Ngo);
    let mut g = c.benchmark_group("transition");
    let opened = &case.states[0];
    let screening = data(json!({"signal_source": "hotline"}));
    g.bench_function("evaluate/start_screening_on_new_case", |b| {
        b.iter(|| {
            engine::evaluate(
                w,
                black_box(opened),
                &worker,
                "start_screening",
                black_box(&screening),
                f.env(t0()),
            )
        });
    });
    let screened = &case.states[1];
    let grounds = data(json!({"indicators_found": true, "informed_of_rights": true,
                              "consent_to_referral": true, "risk_level": "medium"}));
    g.bench_function("evaluate/record_presumed_victim_3_guards", |b| {
        b.iter(|| {
            engine::evaluate(
                w,
                black_box(screened),
                &worker,
                "record_presumed_victim",
                black_box(&grounds),
                f.env(t0()),
            )
        });
    });
    // Mid-procedure: presumed victim, crisis intervention, reflection period running.
    let mid = &case.states[4];
    let now = t0() + Duration::days(13);
    let listed = engine::available(w, mid, &worker, f.env(now));
    let guards: usize = listed.iter().map(|a| a.transition.guards.len()).sum();
    println!(
        "transition/available: {} transitions from the mid-procedure case, {} guards declared",
        listed.len(),
        guards
    );
    g.bench_function("available/mid_procedure", |b| {
        b.iter(|| engine::available(w, black_box(mid), &worker, f.env(now)));
    });
    g.finish();
}

/// A typical event: `record_presumed_victim` with its facts, the tracks and the timer it
/// starts, a free-text reason, and details naming the consent and the groups disclosed.
fn typical_event(case: &RecordedCase) -> Event {
    let mut e = case.events[2].clone();
    e.reason = Some("Screening interview at the shelter; the person consented in writing.".into());
    e.details = Some(json!({
        "consent": "0199a1b2-0000-7000-8000-00000000c0de",
        "action": "MADE",
        "toAgency": "0199a1b2-0000-7000-8000-0000000000a2",
        "service": "SHELTER",
        "groups": ["IDENTITY", "CONTACT", "HEALTH"],
    }));
    e.hash = e.compute_hash();
    e
}

fn bench_hashing(c: &mut Criterion, case: &RecordedCase) {
    let e = typical_event(case);
    let content = e.hashed_content();
    let bytes = trm::domain::event::canonical_json(&content);
    println!(
        "hash: the typical event's canonical JSON is {} bytes",
        bytes.len()
    );
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("event_compute_hash", |b| {
        b.iter(|| black_box(&e).compute_hash());
    });
    g.bench_function("canonical_json/hashed_content", |b| {
        b.iter(|| trm::domain::event::canonical_json(black_box(&content)));
    });
    g.bench_function("sha256_raw_same_bytes", |b| {
        b.iter(|| Sha256::digest(black_box(&bytes)));
    });
    g.finish();

    let mut g = c.benchmark_group("merkle");
    for n in [1_000usize, 100_000] {
        let leaves: Vec<merkle::Hash> = (0..n as u64)
            .map(|i| merkle::leaf_hash(&Sha256::digest(i.to_be_bytes())))
            .collect();
        let index = n * 2 / 3;
        let root = merkle::root(&leaves);
        let proof = merkle::inclusion_proof(&leaves, index).unwrap();
        assert!(merkle::verify_inclusion(
            &leaves[index],
            index as u64,
            n as u64,
            &proof,
            &root
        ));
        if n >= 100_000 {
            // About 10 ms per iteration: fewer samples keep the group short.
            g.sample_size(10);
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("root", n), &leaves, |b, l| {
            b.iter(|| merkle::root(black_box(l)));
        });
        g.bench_with_input(BenchmarkId::new("inclusion_proof", n), &leaves, |b, l| {
            b.iter(|| merkle::inclusion_proof(black_box(l), black_box(index)));
        });
        // A verifier hashes one node per step of the audit path, whatever the tree's size.
        g.throughput(Throughput::Elements(proof.len() as u64));
        g.bench_with_input(BenchmarkId::new("verify_inclusion", n), &proof, |b, p| {
            b.iter(|| {
                merkle::verify_inclusion(
                    black_box(&leaves[index]),
                    index as u64,
                    n as u64,
                    black_box(p),
                    &root,
                )
            });
        });
    }
    g.finish();
}

fn bench_replay(c: &mut Criterion, f: &Fixture, case: &RecordedCase) {
    let n = case.events.len();
    let changes: Vec<&Changes> = case.events.iter().map(|e| &e.changes).collect();
    assert_eq!(
        engine::replay(&f.adult, changes.iter().copied()),
        case.record.state
    );
    let snapshot = replay::replay(&f.registry, &case.record, &case.events).unwrap();
    assert_eq!(snapshot.record.state, case.record.state);
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("engine_replay", n), |b| {
        b.iter(|| engine::replay(&f.adult, black_box(&changes).iter().copied()));
    });
    g.bench_function(BenchmarkId::new("audit_replay", n), |b| {
        b.iter(|| {
            replay::replay(
                &f.registry,
                black_box(&case.record),
                black_box(&case.events),
            )
        });
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let f = Fixture::load();
    let case = record_case(&f);
    bench_guards(c, &f, &case);
    bench_transitions(c, &f, &case);
    bench_hashing(c, &case);
    bench_replay(c, &f, &case);
}

fn config() -> Criterion {
    // Short runs and no plots: the whole suite stays within about two minutes on a small
    // machine.
    Criterion::default()
        .without_plots()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(2))
}

criterion_group! {
    name = engine_benches;
    config = config();
    targets = benches
}
criterion_main!(engine_benches);
