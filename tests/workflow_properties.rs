//! Property tests of the workflow engine and its loader (reliability drills).
//!
//! - **Random walks** through every shipped workflow (`workflows/*.toml`): a case is opened the
//!   way `openCase` opens it, then each step fires a transition the engine lists (or one it does
//!   not: wrong state, missing or ill-typed inputs, failing guards, wrong role, unknown name, a
//!   closed case) with generated data, or lets time pass until a timer falls due. At every step:
//!   replaying the recorded events (the engine's replay and the auditors' replay) rebuilds
//!   exactly the current case; a refusal changes nothing and is the refusal the first unmet
//!   precondition calls for; an accepted transition was listed as allowed, respects floors and
//!   suspensions and changes what its outcome says; a closed case offers and accepts nothing;
//!   nothing panics.
//! - **Loader fuzzing**: each shipped file is mutated (lines deleted or duplicated, values
//!   replaced, bytes truncated or inserted, states swapped, unknown targets, invalid CEL, huge
//!   timer lengths) and loaded from a temporary directory: loading never panics, refuses with
//!   messages that name the file, and a file that still loads survives a random walk.
//!
//! The default run is kept short for CI. A long run (any number of cases):
//!
//! ```sh
//! PROPTEST_CASES=5000 cargo test --test workflow_properties
//! ```
//!
//! A failure prints the walk (the transitions fired, with actor, data and the engine's answer)
//! or the mutations applied to the file.

// Tests and their helpers may panic: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value as Json, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use trm::audit::replay as audit_replay;
use trm::domain::CaseRecord;
use trm::domain::Event;
use trm::domain::EventKind;
use trm::domain::case::{Opening, opening};
use trm::domain::{AgencyKind, CaseStatus, Role};
use trm::workflow::definition::{Fact, FactType, TimerKind, Transition};
use trm::workflow::engine::{self, Actor, Env, Refusal, TrackChange};
use trm::workflow::{Registry, Workflow};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

/// The shipped workflows, each walked by its own property below.
const WALKED: &[(&str, u32)] = &[
    ("trm-adult", 1),
    ("trm-adult", 2),
    ("trm-adult", 3),
    ("trm-adult", 4),
    ("trm-adult", 5),
    ("trm-child", 1),
    ("trm-child", 2),
    ("trm-child", 3),
    ("trm-child", 4),
    ("trm-uk-nrm", 1),
    ("trm-uk-nrm", 2),
];

/// The shipped files, mutated by the loader fuzzer.
const FILES: &[(&str, &str)] = &[
    (
        "trm-adult.v1.toml",
        include_str!("../workflows/trm-adult.v1.toml"),
    ),
    (
        "trm-adult.v2.toml",
        include_str!("../workflows/trm-adult.v2.toml"),
    ),
    (
        "trm-adult.v3.toml",
        include_str!("../workflows/trm-adult.v3.toml"),
    ),
    (
        "trm-adult.v4.toml",
        include_str!("../workflows/trm-adult.v4.toml"),
    ),
    (
        "trm-adult.v5.toml",
        include_str!("../workflows/trm-adult.v5.toml"),
    ),
    (
        "trm-child.v1.toml",
        include_str!("../workflows/trm-child.v1.toml"),
    ),
    (
        "trm-child.v2.toml",
        include_str!("../workflows/trm-child.v2.toml"),
    ),
    (
        "trm-child.v3.toml",
        include_str!("../workflows/trm-child.v3.toml"),
    ),
    (
        "trm-child.v4.toml",
        include_str!("../workflows/trm-child.v4.toml"),
    ),
    (
        "trm-uk-nrm.v1.toml",
        include_str!("../workflows/trm-uk-nrm.v1.toml"),
    ),
    (
        "trm-uk-nrm.v2.toml",
        include_str!("../workflows/trm-uk-nrm.v2.toml"),
    ),
];

/// Jurisdictions a walk runs in: with and without overrides and calendars.
const COUNTRIES: &[&str] = &["IT", "BG", "GB", "NG"];

fn workflows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows")
}

static SHIPPED: LazyLock<Registry> = LazyLock::new(|| {
    trm::startup::load_workflows(&workflows_dir()).expect("the shipped workflows load")
});

/// A fixed moment, so that deterministic walks are reproducible.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

/// `cases` unless `PROPTEST_CASES` is set (an explicit count would otherwise hide it).
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        // A failing walk shrinks; bound the time it may take.
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".into())
}

/// A choice among however many things exist when it is read (shrinks towards the first).
#[derive(Debug, Clone, Copy)]
struct Pick(u64);

impl Pick {
    /// An index below `len` (which must not be 0).
    fn index(self, len: usize) -> usize {
        assert!(len > 0, "a pick among nothing");
        ((len as u128 * u128::from(self.0)) >> 64) as usize
    }
}

fn pick() -> impl Strategy<Value = Pick> {
    any::<u64>().prop_map(Pick)
}

// ---------------------------------------------------------------------------------------------
// Plans: what proptest generates. They are read against the case as it stands, so that a plan
// always means something (an index picks among what exists at that moment).
// ---------------------------------------------------------------------------------------------

/// One step of a walk.
#[derive(Debug, Clone)]
enum Step {
    /// Fire a transition chosen among `choice`.
    Fire {
        choice: Choice,
        pick: Pick,
        actor: ActorPlan,
        data: DataPlan,
    },
    /// Fire a transition name the workflow may not have.
    Unknown(String),
    /// Let time pass.
    Wait { hours: u32 },
    /// Jump to the due date of a running timer; the scheduler records it as elapsed.
    Elapse(Pick),
}

#[derive(Debug, Clone, Copy)]
enum Choice {
    /// Hopeful, and neither into a terminal state nor ending tracks (so that walks go deep).
    Onward,
    /// Listed, and no guard over the case's facts, floor or suspension is unmet.
    Hopeful,
    /// Listed by the engine for the current states.
    Listed,
    /// Any transition of the workflow (mostly not from a current state).
    Any,
}

#[derive(Debug, Clone)]
enum ActorPlan {
    /// One of the roles the transition names, in an agency of a kind it accepts.
    Entitled { role: Pick, kind: Pick },
    /// Any set of roles (bit i: `Role::ALL[i]`), any agency kind.
    Anyone { roles: u8, kind: Pick },
}

#[derive(Debug, Clone)]
struct DataPlan {
    /// For the transition's inputs, in order (missing ones get a plausible value).
    values: Vec<ValuePlan>,
    /// A further fact of the workflow, usually not an input of the transition.
    extra: Option<(Pick, ValuePlan)>,
}

/// A value for a fact: `mode` (0..100) chooses omitted, ill-typed or plausible.
#[derive(Debug, Clone)]
struct ValuePlan {
    mode: u8,
    pick: Pick,
    int: i64,
    text: String,
}

/// Dates a guard or a timer might choke on: the edges of what parses, and what does not.
const ODD_DATES: &[&str] = &[
    "-262143-01-01",
    "+262142-12-31",
    "-2026-01-01",
    "2026-02-30",
    "2026-1-1",
    " 2026-01-01",
    "26-01-01",
    "2026-13-01",
];

impl ValuePlan {
    fn plausible() -> ValuePlan {
        ValuePlan {
            mode: 51,
            pick: Pick(0),
            int: 7,
            text: "noted".into(),
        }
    }

    /// The value to send for `fact` (`None`: leave it out).
    fn value(&self, fact: Option<&Fact>) -> Option<Json> {
        let p = self.pick.index(1000);
        match self.mode {
            0..6 => None,
            6..14 => Some(match p % 7 {
                0 => Json::Null,
                1 => Json::Bool(p.is_multiple_of(2)),
                2 => json!(self.int),
                3 => json!(1.5),
                4 => json!(self.text),
                5 => json!([self.int]),
                _ => json!({ "value": self.text }),
            }),
            mode => Some(match fact.map(|f| f.kind) {
                Some(FactType::Bool) => Json::Bool(mode % 5 != 0),
                Some(FactType::Enum) => {
                    let values = &fact.map(|f| f.values.clone()).unwrap_or_default();
                    if values.is_empty() {
                        json!(self.text)
                    } else {
                        json!(values[self.pick.index(values.len())])
                    }
                }
                Some(FactType::Int) => json!(self.int),
                Some(FactType::Date) if mode >= 90 => {
                    json!(ODD_DATES[self.pick.index(ODD_DATES.len())])
                }
                Some(FactType::Date) => {
                    let base = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
                    let date = base + Duration::days(self.int.rem_euclid(7300));
                    json!(date.format("%Y-%m-%d").to_string())
                }
                Some(FactType::String) if mode == 99 => json!("x".repeat(2001)),
                Some(FactType::String) | None => json!(self.text),
            }),
        }
    }
}

fn value_plan() -> impl Strategy<Value = ValuePlan> {
    (
        0u8..100,
        pick(),
        prop_oneof![9 => 0i64..40, 1 => any::<i64>()],
        prop_oneof![9 => "[a-z ]{0,12}", 1 => any::<String>()],
    )
        .prop_map(|(mode, pick, int, text)| ValuePlan {
            mode,
            pick,
            int,
            text,
        })
}

fn data_plan() -> impl Strategy<Value = DataPlan> {
    (
        prop::collection::vec(value_plan(), 0..6),
        prop::option::weighted(0.05, (pick(), value_plan())),
    )
        .prop_map(|(values, extra)| DataPlan { values, extra })
}

fn actor_plan() -> impl Strategy<Value = ActorPlan> {
    prop_oneof![
        17 => (pick(), pick())
            .prop_map(|(role, kind)| ActorPlan::Entitled { role, kind }),
        3 => (any::<u8>(), pick())
            .prop_map(|(roles, kind)| ActorPlan::Anyone { roles, kind }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let fire = |choice: Choice| {
        (pick(), actor_plan(), data_plan()).prop_map(move |(pick, actor, data)| Step::Fire {
            choice,
            pick,
            actor,
            data,
        })
    };
    prop_oneof![
        12 => fire(Choice::Onward),
        2 => fire(Choice::Hopeful),
        3 => fire(Choice::Listed),
        2 => fire(Choice::Any),
        1 => "[a-z_]{1,16}".prop_map(Step::Unknown),
        2 => (1u32..24 * 45).prop_map(|hours| Step::Wait { hours }),
        3 => pick().prop_map(Step::Elapse),
    ]
}

/// When a walk starts: any day of a few years, at 09:00 UTC.
fn start() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..1500)
        .prop_map(|days| Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap() + Duration::days(days))
}

// ---------------------------------------------------------------------------------------------
// The walk: a case driven through the pure engine exactly as the service drives it.
// ---------------------------------------------------------------------------------------------

/// Which refusal the first unmet precondition calls for (the order `evaluate` documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Unknown,
    NotFromCurrentState,
    InvalidInput,
    NotPermitted,
    /// Accepted, or refused by guards (which this oracle does not judge).
    Guards,
}

struct Walk<'r> {
    registry: &'r Registry,
    workflow: Arc<Workflow>,
    country: String,
    now: DateTime<Utc>,
    /// The case as opened (what replay never changes).
    opened: CaseRecord,
    /// The case now, as the store would hold it.
    case: CaseRecord,
    events: Vec<Event>,
    log: Vec<String>,
}

/// An actor with every role (which transitions exist for the case does not depend on it).
fn anyone_at_all() -> Actor {
    Actor {
        roles: Role::ALL.to_vec(),
        agency_kind: AgencyKind::NationalFocalPoint,
    }
}

fn describe_actor(actor: &Actor) -> String {
    let roles: Vec<&str> = actor.roles.iter().map(|r| r.as_str()).collect();
    format!("{}@{}", roles.join("+"), actor.agency_kind.as_str())
}

fn describe_refusal(r: &Refusal) -> String {
    match r {
        Refusal::UnknownTransition { .. } => "refused: unknown transition".into(),
        Refusal::NotFromCurrentState { track, current, .. } => {
            format!("refused: not from `{track}` at {current:?}")
        }
        Refusal::InvalidInput(p) => {
            let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
            format!("refused: invalid input {fields:?}")
        }
        Refusal::NotPermitted(u) | Refusal::GuardsUnmet(u) => {
            let kind = if matches!(r, Refusal::NotPermitted(_)) {
                "not permitted"
            } else {
                "guards unmet"
            };
            let names: Vec<&str> = u.iter().map(|u| u.name.as_str()).collect();
            format!("refused: {kind} {names:?}")
        }
    }
}

macro_rules! ensure {
    ($walk:expr, $cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err($walk.fail(format!($($msg)+)));
        }
    };
}

impl<'r> Walk<'r> {
    /// Opens a case the way `openCase` does: the workflow's initial state and its opening event.
    fn open(
        registry: &'r Registry,
        workflow: Arc<Workflow>,
        country: &str,
        at: DateTime<Utc>,
    ) -> Walk<'r> {
        let (case, event) = opening(
            &workflow,
            Opening {
                reference: format!("{country}-PROP-000001"),
                country: country.to_string(),
                by: (Uuid::now_v7(), Uuid::now_v7()),
                at,
                follows_case_id: None,
                origin_country: None,
            },
        );
        let log = vec![format!(
            "opened under {} v{} in {country} at {at}: {:?}",
            workflow.id, workflow.version, case.state.tracks
        )];
        Walk {
            registry,
            workflow,
            country: country.to_string(),
            now: at,
            opened: case.clone(),
            case,
            events: vec![event],
            log,
        }
    }

    fn fail(&self, message: String) -> TestCaseError {
        TestCaseError::fail(format!(
            "{message}\n\nworkflow {} v{} in {}; the walk:\n  {}\n\ncase now: {:#?}",
            self.workflow.id,
            self.workflow.version,
            self.country,
            self.log.join("\n  "),
            self.case.state,
        ))
    }

    /// Runs engine code, turning a panic into a failure that shows the walk.
    fn guarded<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
        catch_unwind(AssertUnwindSafe(f))
            .map_err(|p| self.fail(format!("{what} panicked: {}", panic_message(p.as_ref()))))
    }

    fn env(&self) -> Env<'_> {
        Env {
            now: self.now,
            country: &self.country,
            calendar: self.registry.calendar(&self.country),
        }
    }

    fn run(&mut self, steps: &[Step]) -> Result<(), TestCaseError> {
        self.check_replay()?;
        for (n, step) in steps.iter().enumerate() {
            self.step(n + 1, step)?;
            self.check_replay()?;
        }
        self.listing().map(|_| ())
    }

    fn step(&mut self, n: usize, step: &Step) -> Result<(), TestCaseError> {
        let workflow = Arc::clone(&self.workflow);
        match step {
            Step::Fire {
                choice,
                pick,
                actor,
                data,
            } => {
                let listing = self.listing()?;
                let hopeful: Vec<&str> = listing
                    .iter()
                    .filter(|(_, unmet)| unmet.iter().all(|u| u == "agency_kind"))
                    .map(|(t, _)| t.as_str())
                    .collect();
                let onward: Vec<&str> = hopeful
                    .iter()
                    .copied()
                    .filter(|id| {
                        workflow.transition(id).is_some_and(|t| {
                            t.effects.end_tracks.is_empty()
                                && !workflow.state(&t.to).is_some_and(|s| s.terminal)
                        })
                    })
                    .collect();
                let listed: Vec<&str> = listing.iter().map(|(t, _)| t.as_str()).collect();
                let all: Vec<&str> = workflow.transitions.iter().map(|t| t.id.as_str()).collect();
                let candidates = match choice {
                    Choice::Onward if !onward.is_empty() => onward,
                    Choice::Onward | Choice::Hopeful if !hopeful.is_empty() => hopeful,
                    Choice::Onward | Choice::Hopeful | Choice::Listed if !listed.is_empty() => {
                        listed
                    }
                    _ => all,
                };
                let id = candidates[pick.index(candidates.len())];
                let transition = workflow
                    .transition(id)
                    .expect("a transition of the workflow");
                let actor = build_actor(transition, actor);
                let data = build_data(&workflow, transition, data);
                self.fire(n, &transition.id, &actor, &data)
            }
            Step::Unknown(name) => {
                let actor = anyone_at_all();
                self.fire(n, name, &actor, &Map::new())
            }
            Step::Wait { hours } => {
                self.now += Duration::hours(i64::from(*hours));
                self.log
                    .push(format!("{n:>2}. wait {hours} h → {}", self.now));
                Ok(())
            }
            Step::Elapse(pick) => self.elapse(n, pick),
        }
    }

    /// The transitions the engine lists for the case, with the names of what is unmet for an
    /// actor with every role; checks that none leaves a terminal state and that a closed case
    /// lists and accepts nothing.
    fn listing(&self) -> Result<Vec<(String, Vec<String>)>, TestCaseError> {
        let actor = anyone_at_all();
        let state = &self.case.state;
        let workflow: &Workflow = &self.workflow;
        let listed = self.guarded("available", || {
            engine::available(workflow, state, &actor, self.env())
        })?;
        for t in listed.iter().map(|a| a.transition) {
            let current = state.tracks.get(&t.track);
            ensure!(
                self,
                current.is_some_and(|c| t.from.contains(c)),
                "`{}` is listed but does not leave `{}` at {current:?}",
                t.id,
                t.track
            );
            ensure!(
                self,
                !current
                    .and_then(|c| workflow.state(c))
                    .is_some_and(|s| s.terminal),
                "`{}` is listed out of the terminal state {current:?}",
                t.id
            );
        }
        if self.case.status == CaseStatus::Closed {
            ensure!(
                self,
                listed.is_empty(),
                "the case is closed but the engine lists {:?}",
                listed.iter().map(|a| &a.transition.id).collect::<Vec<_>>()
            );
            for t in &workflow.transitions {
                let actor = Actor {
                    roles: Role::ALL.to_vec(),
                    agency_kind: t.agency_kinds.first().copied().unwrap_or(AgencyKind::Ngo),
                };
                let result = self.guarded("evaluate", || {
                    engine::evaluate(workflow, state, &actor, &t.id, &Map::new(), self.env())
                })?;
                ensure!(
                    self,
                    matches!(result, Err(Refusal::NotFromCurrentState { .. })),
                    "the case is closed but `{}` gives {:?}",
                    t.id,
                    result.map(|o| o.changes)
                );
            }
        }
        Ok(listed
            .iter()
            .map(|a| {
                let unmet = a.unmet.iter().map(|u| u.name.clone()).collect();
                (a.transition.id.clone(), unmet)
            })
            .collect())
    }

    /// The refusal the first unmet precondition calls for, judged independently of the engine.
    fn gate(&self, id: &str, actor: &Actor, data: &Map<String, Json>) -> Gate {
        let Some(t) = self.workflow.transition(id) else {
            return Gate::Unknown;
        };
        if !self
            .case
            .state
            .tracks
            .get(&t.track)
            .is_some_and(|c| t.from.contains(c))
        {
            return Gate::NotFromCurrentState;
        }
        let declared = data.iter().all(|(k, v)| {
            t.inputs.iter().any(|i| &i.fact == k)
                && self.workflow.facts.get(k).is_none_or(|f| valid_value(f, v))
        });
        let complete = t
            .inputs
            .iter()
            .all(|i| !i.required || data.contains_key(&i.fact));
        if !declared || !complete {
            return Gate::InvalidInput;
        }
        let role = t.roles.iter().any(|r| actor.roles.contains(r));
        let kind = t.agency_kinds.is_empty() || t.agency_kinds.contains(&actor.agency_kind);
        if !role || !kind {
            return Gate::NotPermitted;
        }
        Gate::Guards
    }

    /// Fires a transition through the engine and checks the answer against the oracle; an
    /// accepted one is recorded as an event and applied.
    fn fire(
        &mut self,
        n: usize,
        id: &str,
        actor: &Actor,
        data: &Map<String, Json>,
    ) -> Result<(), TestCaseError> {
        let workflow = Arc::clone(&self.workflow);
        let before = self.case.state.clone();
        let result = self.guarded("evaluate", || {
            engine::evaluate(&workflow, &self.case.state, actor, id, data, self.env())
        })?;
        let gate = self.gate(id, actor, data);
        let answer = match &result {
            Ok(o) => format!("ok: {} {} → {}", o.track, o.from, o.to),
            Err(r) => describe_refusal(r),
        };
        self.log.push(format!(
            "{n:>2}. {id} as {} with {} → {answer}",
            describe_actor(actor),
            Json::Object(data.clone())
        ));
        ensure!(
            self,
            self.case.state == before,
            "evaluating `{id}` changed the case"
        );
        let outcome = match result {
            Err(refusal) => {
                let fits = match (&refusal, gate) {
                    (Refusal::UnknownTransition { transition }, Gate::Unknown) => transition == id,
                    (
                        Refusal::NotFromCurrentState { track, current, .. },
                        Gate::NotFromCurrentState,
                    ) => current.as_ref() == before.tracks.get(track),
                    (Refusal::InvalidInput(p), Gate::InvalidInput) => !p.is_empty(),
                    (Refusal::NotPermitted(u), Gate::NotPermitted)
                    | (Refusal::GuardsUnmet(u), Gate::Guards) => !u.is_empty(),
                    _ => false,
                };
                ensure!(
                    self,
                    fits,
                    "`{id}` refused with {refusal:?}; expected {gate:?}"
                );
                return self.check_listing_agrees(id, actor, data, false);
            }
            Ok(outcome) => outcome,
        };
        ensure!(
            self,
            gate == Gate::Guards,
            "`{id}` accepted, but it should have been refused ({gate:?})"
        );
        let t = workflow
            .transition(id)
            .expect("an accepted transition exists");
        let from = before.tracks.get(&t.track).cloned();
        ensure!(
            self,
            outcome.track == t.track && Some(&outcome.from) == from.as_ref() && outcome.to == t.to,
            "`{id}` outcome says {} {} → {}",
            outcome.track,
            outcome.from,
            outcome.to
        );
        ensure!(
            self,
            outcome.changes.tracks.first()
                == Some(&TrackChange {
                    track: t.track.clone(),
                    from: from.clone(),
                    to: t.to.clone(),
                }),
            "`{id}` records track changes {:?}",
            outcome.changes.tracks
        );
        let mut applied = before.clone();
        engine::apply(&mut applied, &outcome.changes);
        ensure!(
            self,
            applied == outcome.state,
            "`{id}`: applying its changes gives {applied:?}, its outcome says {:?}",
            outcome.state
        );
        for (k, v) in data {
            ensure!(
                self,
                t.effects.set.contains_key(k) || outcome.changes.facts.get(k) == Some(v),
                "`{id}` did not record its input `{k}`"
            );
        }
        for (name, timer) in &outcome.changes.timers_started {
            // A timer counts from now, or from the recorded date it counts from (`from_fact`).
            let from = workflow
                .timers
                .get(name)
                .and_then(|def| def.from_fact.as_ref())
                .and_then(|fact| outcome.state.facts.get(fact))
                .and_then(|date| date.as_str())
                .and_then(|date| chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|start| start.and_utc());
            ensure!(
                self,
                workflow.timers.contains_key(name) && timer.started_at == from.unwrap_or(self.now),
                "`{id}` started timer `{name}` as {timer:?}"
            );
        }
        // Floors and suspensions hold whatever the guards say.
        for floor in workflow
            .timers
            .values()
            .filter(|f| f.kind == TimerKind::Floor && f.blocks.contains(&t.id))
        {
            let view = before.timers.get(&floor.id).map(|s| s.view(self.now));
            ensure!(
                self,
                !view.is_some_and(|v| v.running || v.paused),
                "`{id}` fired while floor `{}` runs ({view:?})",
                floor.id
            );
        }
        for (track, current) in &before.tracks {
            ensure!(
                self,
                track == &t.track || !workflow.state(current).is_some_and(|s| s.suspends_case),
                "`{id}` fired while track `{track}` suspends the case in `{current}`"
            );
        }
        self.check_listing_agrees(id, actor, data, true)?;

        self.case.version += 1;
        self.case.status = engine::status(&workflow, &outcome.state);
        self.case.updated_at = self.now;
        for change in &outcome.changes.tracks {
            self.case.entered_at.insert(change.track.clone(), self.now);
        }
        self.case.state = outcome.state;
        if self.case.status == CaseStatus::Closed {
            self.log.push("    (the case is closed)".into());
        }
        self.record(
            EventKind::Transition,
            Some([id.to_string(), outcome.track, outcome.from, outcome.to]),
            outcome.changes,
        );
        Ok(())
    }

    /// An accepted transition is listed as allowed for the same actor; a transition without
    /// inputs fired without data is accepted exactly when it is listed as allowed.
    fn check_listing_agrees(
        &self,
        id: &str,
        actor: &Actor,
        data: &Map<String, Json>,
        accepted: bool,
    ) -> Result<(), TestCaseError> {
        let Some(t) = self.workflow.transition(id) else {
            return Ok(());
        };
        // A refusal says something about the listing only for a transition without inputs.
        if !(accepted || t.inputs.is_empty() && data.is_empty()) {
            return Ok(());
        }
        let workflow: &Workflow = &self.workflow;
        let listed = self.guarded("available", || {
            engine::available(workflow, &self.case.state, actor, self.env())
                .iter()
                .find(|a| a.transition.id == id)
                .map(|a| (a.allowed, a.unmet.clone()))
        })?;
        if accepted {
            ensure!(
                self,
                listed.as_ref().is_some_and(|(allowed, _)| *allowed),
                "`{id}` was accepted but is listed as {listed:?}"
            );
        } else if self.gate(id, actor, data) == Gate::Guards {
            ensure!(
                self,
                !listed.as_ref().is_some_and(|(allowed, _)| *allowed),
                "`{id}` (no inputs) was refused but is listed as allowed"
            );
        }
        Ok(())
    }

    /// Moves the clock to the due date of a running timer and records it as the scheduler does.
    fn elapse(&mut self, n: usize, pick: &Pick) -> Result<(), TestCaseError> {
        let running: Vec<(String, DateTime<Utc>)> = self
            .case
            .state
            .timers
            .iter()
            .filter(|(_, t)| t.view(self.now).running)
            .map(|(name, t)| (name.clone(), t.due_at))
            .collect();
        if running.is_empty() {
            self.log.push(format!("{n:>2}. (no timer running)"));
            return Ok(());
        }
        let (name, due) = running[pick.index(running.len())].clone();
        if due.year() > 2200 {
            // A date fact far in the future: the walk does not wait for it.
            self.log
                .push(format!("{n:>2}. (timer `{name}` falls due only on {due})"));
            return Ok(());
        }
        self.now = self.now.max(due) + Duration::minutes(1);
        let view = self.case.state.timers[&name].view(self.now);
        ensure!(
            self,
            view.elapsed && !view.running,
            "timer `{name}` due {due} is {view:?} at {}",
            self.now
        );
        self.log
            .push(format!("{n:>2}. timer `{name}` elapsed → {}", self.now));
        self.case.version += 1;
        self.case.updated_at = self.now;
        let changes = engine::Changes {
            timer_elapsed: Some(name),
            ..engine::Changes::default()
        };
        self.record(EventKind::TimerElapsed, None, changes);
        Ok(())
    }

    /// Appends the event the service would write (hash-chained, `seq` = the case's version).
    fn record(
        &mut self,
        kind: EventKind,
        transition: Option<[String; 4]>,
        changes: engine::Changes,
    ) {
        let prev = self.events.last().cloned().expect("the opening event");
        let [name, track, from, to] = transition.map_or([None, None, None, None], |t| t.map(Some));
        let mut event = Event {
            id: Uuid::now_v7(),
            seq: self.case.version,
            kind,
            transition: name,
            track,
            from_state: from,
            to_state: to,
            reason: None,
            reason_shared_as: Default::default(),
            reason_to: None,
            changes,
            occurred_at: self.now,
            prev_hash: prev.hash.clone(),
            hash: String::new(),
            details: None,
            ..prev
        };
        event.hash = event.compute_hash();
        self.events.push(event);
    }

    /// Replaying the events rebuilds the case exactly (the engine's replay and the auditors'),
    /// and what the case holds is what its workflow declares.
    fn check_replay(&self) -> Result<(), TestCaseError> {
        let workflow: &Workflow = &self.workflow;
        let state = &self.case.state;
        let replayed = self.guarded("engine::replay", || {
            engine::replay(workflow, self.events.iter().map(|e| &e.changes))
        })?;
        ensure!(
            self,
            &replayed == state,
            "engine::replay gives {replayed:#?}"
        );
        let snapshot = self.guarded("audit replay", || {
            audit_replay::replay(self.registry, &self.opened, &self.events)
        })?;
        let Some(snapshot) = snapshot else {
            return Err(self.fail("the audit replay rebuilt nothing".into()));
        };
        ensure!(
            self,
            snapshot.record == self.case,
            "the audit replay gives {:#?}",
            snapshot.record
        );
        ensure!(
            self,
            self.case.status == engine::status(workflow, state),
            "status {:?} disagrees with the state",
            self.case.status
        );
        for (track, current) in &state.tracks {
            ensure!(
                self,
                workflow.state(current).is_some_and(|s| &s.track == track),
                "track `{track}` is in `{current}`, not one of its states"
            );
        }
        for (name, value) in &state.facts {
            ensure!(
                self,
                workflow
                    .facts
                    .get(name)
                    .is_some_and(|f| valid_value(f, value)),
                "fact `{name}` = {value} is not a valid value of a declared fact"
            );
        }
        for name in state.timers.keys() {
            ensure!(
                self,
                workflow.timers.contains_key(name),
                "timer `{name}` is not declared"
            );
        }
        Ok(())
    }
}

/// Whether `value` is a value of `fact`, judged here rather than by the engine: a date is
/// exactly `YYYY-MM-DD` (what the API documents), not whatever chrono's parser tolerates.
fn valid_value(fact: &Fact, value: &Json) -> bool {
    match (fact.kind, value) {
        (FactType::Bool, Json::Bool(_)) => true,
        (FactType::Int, Json::Number(n)) => n.is_i64(),
        (FactType::Enum, Json::String(s)) => fact.values.contains(s),
        (FactType::String, Json::String(s)) => s.chars().count() <= 2000,
        (FactType::Date, Json::String(s)) => {
            let shape = s.len() == 10
                && s.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            shape && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }
        _ => false,
    }
}

fn build_actor(t: &Transition, plan: &ActorPlan) -> Actor {
    match plan {
        ActorPlan::Entitled { role, kind } => Actor {
            roles: vec![t.roles[role.index(t.roles.len())]],
            agency_kind: if t.agency_kinds.is_empty() {
                AgencyKind::ALL[kind.index(AgencyKind::ALL.len())]
            } else {
                t.agency_kinds[kind.index(t.agency_kinds.len())]
            },
        },
        ActorPlan::Anyone { roles, kind } => Actor {
            roles: Role::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| roles & (1 << i) != 0)
                .map(|(_, r)| *r)
                .collect(),
            agency_kind: AgencyKind::ALL[kind.index(AgencyKind::ALL.len())],
        },
    }
}

fn build_data(w: &Workflow, t: &Transition, plan: &DataPlan) -> Map<String, Json> {
    let mut data = Map::new();
    for (i, input) in t.inputs.iter().enumerate() {
        let value = plan
            .values
            .get(i)
            .cloned()
            .unwrap_or_else(ValuePlan::plausible)
            .value(w.facts.get(&input.fact));
        if let Some(value) = value {
            data.insert(input.fact.clone(), value);
        }
    }
    if let Some((pick, plan)) = &plan.extra
        && !w.facts.is_empty()
    {
        let (name, fact) = w
            .facts
            .iter()
            .nth(pick.index(w.facts.len()))
            .expect("an index below the length");
        if let Some(value) = plan.value(Some(fact)) {
            data.insert(name.clone(), value);
        }
    }
    data
}

fn walk(
    registry: &Registry,
    id: &str,
    version: u32,
    country: &Pick,
    at: DateTime<Utc>,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let workflow = registry
        .get(id, Some(version))
        .ok_or_else(|| TestCaseError::fail(format!("{id} v{version} is not loaded")))?;
    let country = COUNTRIES[country.index(COUNTRIES.len())];
    Walk::open(registry, workflow, country, at).run(steps)
}

// ---------------------------------------------------------------------------------------------
// Walk properties, one per shipped workflow.
// ---------------------------------------------------------------------------------------------

const WALK_CASES: u32 = 64;
const WALK_STEPS: std::ops::Range<usize> = 1..96;

proptest! {
    #![proptest_config(config(WALK_CASES))]

    #[test]
    fn random_walks_through_adult_v1(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-adult", 1, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_adult_v2(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-adult", 2, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_adult_v3(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-adult", 3, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_adult_v4(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-adult", 4, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_adult_v5(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-adult", 5, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_child_v4(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-child", 4, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_child_v3(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-child", 3, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_child_v2(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-child", 2, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_child_v1(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-child", 1, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_uk_nrm_v1(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-uk-nrm", 1, &country, at, &steps)?;
    }

    #[test]
    fn random_walks_through_uk_nrm_v2(
        country in pick(),
        at in start(),
        steps in prop::collection::vec(step(), WALK_STEPS),
    ) {
        walk(&SHIPPED, "trm-uk-nrm", 2, &country, at, &steps)?;
    }
}

#[test]
fn every_shipped_workflow_is_walked() {
    let loaded: Vec<(String, u32)> = SHIPPED.all().map(|w| (w.id.clone(), w.version)).collect();
    let walked: Vec<(String, u32)> = WALKED.iter().map(|(id, v)| (id.to_string(), *v)).collect();
    assert_eq!(
        loaded, walked,
        "add a random walk for every workflow in workflows/"
    );
    let files: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
    let mut on_disk: Vec<String> = std::fs::read_dir(workflows_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    assert_eq!(on_disk, files, "fuzz the loader on every workflow file");
}

/// A deterministic walk: always the first hopeful transition with plausible data, timers
/// allowed to elapse in between.
fn steady_walk(len: usize) -> Vec<Step> {
    (0..len)
        .map(|i| {
            if i % 4 == 3 {
                Step::Elapse(Pick(0))
            } else {
                Step::Fire {
                    choice: Choice::Hopeful,
                    pick: Pick(0),
                    actor: ActorPlan::Entitled {
                        role: Pick(0),
                        kind: Pick(0),
                    },
                    data: DataPlan {
                        values: Vec::new(),
                        extra: None,
                    },
                }
            }
        })
        .collect()
}

#[test]
fn date_facts_take_exactly_yyyy_mm_dd() {
    let valid = ["2026-03-02", "0000-01-01", "9999-12-31", "2028-02-29"];
    for w in SHIPPED.all() {
        for fact in w.facts.values().filter(|f| f.kind == FactType::Date) {
            for date in valid {
                assert!(fact.accepts(&json!(date)), "{}: {date}", fact.name);
            }
            for date in ODD_DATES
                .iter()
                .chain(&["2026-03-02T00:00:00", "20260302", ""])
            {
                assert!(!fact.accepts(&json!(date)), "{} takes {date:?}", fact.name);
            }
        }
    }
}

#[test]
fn steady_walks_get_somewhere() {
    for (id, version) in WALKED {
        let workflow = SHIPPED.get(id, Some(*version)).unwrap();
        let mut walk = Walk::open(&SHIPPED, workflow, "IT", t0());
        walk.run(&steady_walk(24)).unwrap();
        let fired = walk
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Transition)
            .count();
        assert!(
            fired >= 3,
            "{id} v{version}: the walk harness fires too little to test anything:\n{}",
            walk.log.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Loader fuzzing.
// ---------------------------------------------------------------------------------------------

/// One change to a workflow file's text.
#[derive(Debug, Clone)]
enum Mutation {
    DeleteLine(Pick),
    DuplicateLine(Pick),
    /// The value of a `key = value` line.
    ReplaceValue(Pick, Replacement),
    /// Cut the file at a byte (possibly inside a UTF-8 sequence).
    Truncate(Pick),
    /// Insert text (any Unicode, control characters included) at a character boundary.
    Insert(Pick, String),
    /// Insert raw bytes anywhere (possibly making the file invalid UTF-8).
    InsertBytes(Pick, Vec<u8>),
    /// Exchange two state names everywhere.
    SwapStates(Pick, Pick),
    /// A transition's `to` names a state that does not exist.
    UnknownTarget(Pick, String),
    /// A guard's expression becomes text that is not valid CEL.
    BadGuard(Pick, String),
    /// A timer length or warning becomes a huge number.
    HugeLength(Pick, u64),
}

#[derive(Debug, Clone)]
enum Replacement {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Not a TOML value at all.
    Raw(String),
}

impl Replacement {
    fn render(&self) -> String {
        match self {
            Replacement::Text(s) => toml::Value::String(s.clone()).to_string(),
            Replacement::Int(i) => i.to_string(),
            Replacement::Float(f) => toml::Value::Float(*f).to_string(),
            Replacement::Bool(b) => b.to_string(),
            Replacement::Raw(s) => s.clone(),
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let replacement = prop_oneof![
        any::<String>().prop_map(Replacement::Text),
        "[a-z_]{0,12}".prop_map(Replacement::Text),
        any::<i64>().prop_map(Replacement::Int),
        any::<f64>().prop_map(Replacement::Float),
        any::<bool>().prop_map(Replacement::Bool),
        "[^\n]{0,12}".prop_map(Replacement::Raw),
    ];
    let huge = prop_oneof![
        Just(0u64),
        Just(36_526),
        Just(100_000_000),
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) + 1),
        Just(u64::MAX),
        any::<u64>(),
    ];
    prop_oneof![
        pick().prop_map(Mutation::DeleteLine),
        pick().prop_map(Mutation::DuplicateLine),
        (pick(), replacement).prop_map(|(i, r)| Mutation::ReplaceValue(i, r)),
        pick().prop_map(Mutation::Truncate),
        (pick(), any::<String>()).prop_map(|(i, s)| Mutation::Insert(i, s)),
        (pick(), prop::collection::vec(any::<u8>(), 1..4))
            .prop_map(|(i, b)| Mutation::InsertBytes(i, b)),
        (pick(), pick()).prop_map(|(a, b)| Mutation::SwapStates(a, b)),
        (pick(), "[a-z]{1,8}")
            .prop_map(|(i, s)| Mutation::UnknownTarget(i, format!("nowhere_{s}"))),
        (pick(), "[^\n]{0,16}").prop_map(|(i, s)| Mutation::BadGuard(i, format!("{s} && (("))),
        (pick(), huge).prop_map(|(i, n)| Mutation::HugeLength(i, n)),
    ]
}

/// Line indices of `text` whose trimmed form satisfies `keep`.
fn lines_where(text: &str, keep: impl Fn(&str) -> bool) -> Vec<usize> {
    text.split('\n')
        .enumerate()
        .filter(|(_, l)| keep(l.trim_start()))
        .map(|(i, _)| i)
        .collect()
}

/// Replaces line `i` of `text` by `f(line)`.
fn edit_line(text: &str, i: usize, f: impl FnOnce(&str) -> String) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    lines[i] = f(&lines[i]);
    lines.join("\n")
}

/// Replaces `from` by `to` where it stands as a whole name (not inside a longer name).
fn replace_name(text: &str, from: &str, to: &str) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before_ok = !rest[..at].chars().next_back().is_some_and(is_name);
        let after_ok = !rest[at + from.len()..].chars().next().is_some_and(is_name);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

fn state_names(text: &str) -> Vec<String> {
    text.split('\n')
        .filter_map(|l| l.trim().strip_prefix("[states.")?.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

/// Where the quoted expression of each `expr = "..."` starts and ends (quotes included).
fn guard_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    for (at, _) in text.match_indices("expr = \"") {
        let open = at + "expr = ".len();
        let body = &text[open + 1..];
        let mut escaped = false;
        let end = body.char_indices().find(|(_, c)| {
            let closes = *c == '"' && !escaped;
            escaped = *c == '\\' && !escaped;
            closes
        });
        if let Some((end, _)) = end {
            spans.push(open..open + 1 + end + 1);
        }
    }
    spans
}

fn apply(bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    if let Mutation::Truncate(i) = m {
        let mut bytes = bytes;
        bytes.truncate(i.index(bytes.len() + 1));
        return bytes;
    }
    if let Mutation::InsertBytes(i, inserted) = m {
        let mut bytes = bytes;
        let at = i.index(bytes.len() + 1);
        bytes.splice(at..at, inserted.iter().copied());
        return bytes;
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let line_count = text.split('\n').count();
    let pick = |i: &Pick, among: &[usize]| among.get(i.index(among.len().max(1))).copied();
    let text = match m {
        Mutation::DeleteLine(i) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            lines.remove(i.index(line_count));
            lines.join("\n")
        }
        Mutation::DuplicateLine(i) => {
            let mut lines: Vec<&str> = text.split('\n').collect();
            let at = i.index(line_count);
            lines.insert(at, lines[at]);
            lines.join("\n")
        }
        Mutation::ReplaceValue(i, r) => {
            match pick(
                i,
                &lines_where(&text, |l| !l.starts_with('#') && l.contains(" = ")),
            ) {
                Some(line) => edit_line(&text, line, |l| {
                    let key = l.split(" = ").next().unwrap_or_default();
                    format!("{key} = {}", r.render())
                }),
                None => text,
            }
        }
        Mutation::Insert(i, s) => {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(b, _)| b)
                .chain([text.len()])
                .collect();
            let at = boundaries[i.index(boundaries.len())];
            format!("{}{s}{}", &text[..at], &text[at..])
        }
        Mutation::SwapStates(a, b) => {
            let states = state_names(&text);
            if states.len() < 2 {
                text
            } else {
                let (a, b) = (
                    &states[a.index(states.len())],
                    &states[b.index(states.len())],
                );
                let placeholder = "zz_swapped_state_zz";
                let text = replace_name(&text, a, placeholder);
                let text = replace_name(&text, b, a);
                replace_name(&text, placeholder, b)
            }
        }
        Mutation::UnknownTarget(i, name) => {
            match pick(i, &lines_where(&text, |l| l.starts_with("to = "))) {
                Some(line) => edit_line(&text, line, |_| format!("to = \"{name}\"")),
                None => text,
            }
        }
        Mutation::BadGuard(i, expr) => {
            let spans = guard_spans(&text);
            match spans.get(i.index(spans.len().max(1))) {
                Some(span) => format!(
                    "{}{}{}",
                    &text[..span.start],
                    toml::Value::String(expr.clone()),
                    &text[span.end..]
                ),
                None => text,
            }
        }
        Mutation::HugeLength(i, n) => {
            let lengths = lines_where(&text, |l| {
                ["days = ", "working_days = ", "warn_days = "]
                    .iter()
                    .any(|k| l.starts_with(k))
            });
            match pick(i, &lengths) {
                Some(line) => edit_line(&text, line, |l| {
                    let key = l.split(" = ").next().unwrap_or_default();
                    format!("{key} = {n}")
                }),
                None => text,
            }
        }
        Mutation::Truncate(_) | Mutation::InsertBytes(..) => text,
    };
    text.into_bytes()
}

/// Writes `bytes` as `name` alone in a fresh directory and loads that directory.
fn load_alone(name: &str, bytes: &[u8]) -> (tempfile::TempDir, Result<Registry, Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    let partners = partners(name, bytes);
    for (partner, source) in &partners {
        std::fs::write(dir.path().join(partner), source).unwrap();
    }
    let result = Registry::load(dir.path()).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                assert!(!e.message.trim().is_empty(), "an empty message: {e:?}");
                // A partner is named only where its mapping no longer fits the edited file.
                let about_partner = partners.iter().any(|(p, _)| e.file.contains(p))
                    && e.message.contains("continues");
                assert!(
                    e.file.contains(name) || about_partner,
                    "the error does not name {name}: {e:?}"
                );
                let shown = e.to_string();
                assert!(shown.contains(name), "`{shown}` does not name {name}");
                let lines = bytes.split(|b| *b == b'\n').count();
                assert!(
                    e.line.is_none_or(|l| (1..=lines).contains(&l)),
                    "line {:?} is not in the file ({lines} lines)",
                    e.line
                );
                shown
            })
            .collect()
    });
    (dir, result)
}

/// The shipped files a file's steps continue under (`continues_under`: the latest version of
/// each other workflow it names), which load beside it.
fn partners(name: &str, bytes: &[u8]) -> Vec<(&'static str, &'static str)> {
    let text = String::from_utf8_lossy(bytes);
    let own = name.split(".v").next().unwrap_or_default();
    let mut ids: Vec<&str> = text
        .split("continues_under = { workflow = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| *id != own)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| {
            FILES
                .iter()
                .filter(|(n, _)| n.split(".v").next() == Some(id))
                .max_by_key(|(n, _)| *n)
                .copied()
        })
        .collect()
}

const FUZZ_CASES: u32 = 96;

proptest! {
    #![proptest_config(config(FUZZ_CASES))]

    #[test]
    fn mutated_workflow_files_are_refused_cleanly_or_run_safely(
        file in pick(),
        mutations in prop::collection::vec(mutation(), 1..4),
        steps in prop::collection::vec(step(), 0..16),
    ) {
        let (name, source) = FILES[file.index(FILES.len())];
        let bytes = mutations.iter().fold(source.as_bytes().to_vec(), apply);
        let loaded = catch_unwind(AssertUnwindSafe(|| load_alone(name, &bytes)));
        let (_dir, result) = match loaded {
            Ok(loaded) => loaded,
            Err(p) => {
                return Err(TestCaseError::fail(format!(
                    "loading {name} after {mutations:#?} panicked or gave a malformed error: {}",
                    panic_message(p.as_ref())
                )));
            }
        };
        match result {
            Err(errors) => prop_assert!(!errors.is_empty(), "refused without a reason"),
            Ok(registry) => {
                let mut loaded = 0;
                for w in registry.all().filter(|w| w.source_path.ends_with(name)) {
                    loaded += 1;
                    Walk::open(&registry, Arc::clone(w), "GB", t0())
                        .run(&steps)
                        .map_err(|e| {
                            TestCaseError::fail(format!("{name} after {mutations:#?}:\n{e}"))
                        })?;
                }
                prop_assert_eq!(loaded, 1);
            }
        }
    }
}

/// Loads `name` with `edit` applied to its text; the errors, if any.
fn load_edited(name: &str, source: &str, edit: impl FnOnce(&str) -> String) -> Vec<String> {
    let (_dir, result) = load_alone(name, edit(source).as_bytes());
    result.err().unwrap_or_default()
}

#[test]
fn shipped_files_load_alone_from_a_temporary_directory() {
    for (name, source) in FILES {
        assert_eq!(
            load_edited(name, source, str::to_string),
            Vec::<String>::new()
        );
    }
}

#[test]
fn a_transition_to_an_unknown_state_is_refused() {
    for (name, source) in FILES {
        let line = lines_where(source, |l| l.starts_with("to = "))[0];
        let errors = load_edited(name, source, |s| {
            edit_line(s, line, |_| "to = \"nowhere_at_all\"".into())
        });
        assert!(
            errors
                .iter()
                .any(|e| e.contains("unknown state `nowhere_at_all`")),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn invalid_or_unknown_guards_are_refused() {
    for (name, source) in FILES {
        let span = guard_spans(source)[0].clone();
        let with_guard = |expr: &str| {
            load_edited(name, source, |s| {
                format!("{}\"{expr}\"{}", &s[..span.start], &s[span.end..])
            })
        };
        let errors = with_guard("indicators_found == ((");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("guard") && e.contains("does not parse")),
            "{name}: {errors:?}"
        );
        let errors = with_guard("no_such_fact_at_all == true");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("guard") && e.contains("no_such_fact_at_all")),
            "{name}: {errors:?}"
        );
        let errors = with_guard("tracks.no_such_track == 'x'");
        assert!(
            errors.iter().any(|e| e.contains("no_such_track")),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn files_that_are_not_utf8_are_refused() {
    for (name, source) in FILES {
        let mut bytes = source.as_bytes().to_vec();
        bytes.insert(bytes.len() / 2, 0xFF);
        let (_dir, result) = load_alone(name, &bytes);
        assert!(result.is_err(), "{name} loaded with an invalid byte");
    }
}

#[test]
fn swapping_a_track_with_another_tracks_state_is_refused() {
    // The initial state of the first track, renamed to a state of another track.
    for (name, source) in FILES {
        let errors = load_edited(name, source, |s| {
            let line = lines_where(s, |l| l.starts_with("initial = "))[0];
            let other = lines_where(s, |l| l.starts_with("initial = "))
                .into_iter()
                .map(|i| s.split('\n').nth(i).unwrap().to_string())
                .find(|l| *l != s.split('\n').nth(line).unwrap());
            match other {
                Some(other) => edit_line(s, line, |_| other),
                None => edit_line(s, line, |_| "initial = \"nowhere_at_all\"".into()),
            }
        });
        assert!(
            errors.iter().any(|e| e.contains("track `")),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn huge_timer_lengths_are_refused() {
    for (name, source) in FILES {
        for line in lines_where(source, |l| {
            ["days = ", "working_days = ", "warn_days = "]
                .iter()
                .any(|k| l.starts_with(k))
        }) {
            for huge in [100_000_000u64, u64::from(u32::MAX)] {
                let errors = load_edited(name, source, |s| {
                    edit_line(s, line, |l| {
                        format!("{} = {huge}", l.split(" = ").next().unwrap())
                    })
                });
                assert!(
                    errors.iter().any(|e| e.contains("timer")),
                    "{name} line {}: {huge} days loads: {errors:?}",
                    line + 1
                );
            }
        }
    }
}

#[test]
fn the_longest_timer_lengths_allowed_run_safely() {
    let longest = trm::workflow::load::MAX_TIMER_DAYS;
    for (name, source) in FILES {
        let edited = source
            .split('\n')
            .map(|l| {
                let key = l.split(" = ").next().unwrap_or_default();
                if ["days", "working_days"].contains(&key) {
                    format!("{key} = {longest}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let (_dir, result) = load_alone(name, edited.as_bytes());
        let registry = result.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        for w in registry.all() {
            let mut walk = Walk::open(&registry, Arc::clone(w), "GB", t0());
            walk.run(&steady_walk(16)).unwrap();
        }
    }
}
