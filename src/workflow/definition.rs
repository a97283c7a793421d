//! The validated, in-memory form of a workflow definition.
//!
//! Files in `workflows/` are parsed into the raw form (`load.rs`), checked, and turned into these
//! types; nothing here can be built in an invalid state by the rest of the program.

pub use super::facts::{Fact, FactType, Labels, MAX_STRING_FACT_CHARS};
use super::guard::Guard;
use crate::vocabulary::{AgencyKind, Role, Stage};
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// A versioned state machine for one procedure (e.g. the adult TRM procedure).
#[derive(Debug)]
pub struct Workflow {
    /// Stable identifier, e.g. `trm-adult`.
    pub id: String,
    /// Version; cases stay pinned to the version they were opened under.
    pub version: u32,
    pub label: Labels,
    pub description: Labels,
    /// Hex SHA-256 of the file's bytes: a definition may never change under the same version.
    pub source_hash: String,
    /// The file it was loaded from (for messages).
    pub source_path: String,
    /// The facts a case under this workflow can record, by name.
    pub facts: BTreeMap<String, Fact>,
    /// Parallel regions, in file order.
    pub tracks: Vec<Track>,
    /// All states of all tracks, by id (ids are unique across tracks).
    pub states: BTreeMap<String, State>,
    /// All transitions, in file order.
    pub transitions: Vec<Transition>,
    /// Legal and procedural timers, by id.
    pub timers: BTreeMap<String, Timer>,
    /// Jurisdiction parameters (e.g. when the reflection period starts), with their defaults.
    pub parameters: BTreeMap<String, Parameter>,
    /// Per-country overrides of parameters and timer lengths, by ISO 3166-1 alpha-2 code.
    pub jurisdictions: BTreeMap<String, Jurisdiction>,
    /// The person's situation as the service's protections read it (`[protections]`).
    pub protections: Protections,
}

/// Expressions over a case's facts and tracks that say where the person stands, for the rules
/// the service keeps true at every moment (`src/service/protections.rs`). An undeclared one
/// never holds, except [`Protections::child`] which a child procedure declares.
#[derive(Debug, Default)]
pub struct Protections {
    /// An asylum seeker or refugee: no authority of the country of origin holds any access.
    pub asylum_seeker: Option<Guard>,
    /// Consent withdrawn through the workflow's own step.
    pub consent_withdrawn: Option<Guard>,
    /// The person died.
    pub deceased: Option<Guard>,
    /// A child or a presumed child: the guardian speaks for the child.
    pub child: Option<Guard>,
    /// A guardian is appointed (read only while [`Protections::child`] holds).
    pub guardian: Option<Guard>,
    /// The file has no `[protections]` table (a version written before it): it does not say
    /// who is a child.
    pub predates_table: bool,
}

impl Protections {
    /// Each declared expression with its name, in a fixed order.
    pub fn declared(&self) -> impl Iterator<Item = (&'static str, &Guard)> {
        [
            ("asylum_seeker", &self.asylum_seeker),
            ("consent_withdrawn", &self.consent_withdrawn),
            ("deceased", &self.deceased),
            ("child", &self.child),
            ("guardian", &self.guardian),
        ]
        .into_iter()
        .filter_map(|(name, g)| g.as_ref().map(|g| (name, g)))
    }
}

impl Workflow {
    /// The transition with this id.
    pub fn transition(&self, id: &str) -> Option<&Transition> {
        self.transitions.iter().find(|t| t.id == id)
    }

    /// The state with this id.
    pub fn state(&self, id: &str) -> Option<&State> {
        self.states.get(id)
    }

    /// The track with this id.
    pub fn track(&self, id: &str) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == id)
    }

    /// Whether `timer` belongs to the return (SOP 4): some transition starts it, and every one
    /// that does leads into a state of the `RETURN` stage. A return deadline that lapses
    /// concerns both ends of the return, so its escalation to focal points reaches both.
    pub fn is_return_timer(&self, timer: &str) -> bool {
        let mut starters = self
            .transitions
            .iter()
            .filter(|t| t.effects.start_timers.iter().any(|s| s.timer == timer))
            .peekable();
        starters.peek().is_some()
            && starters.all(|t| self.state(&t.to).is_some_and(|s| s.stage == Stage::Return))
    }

    /// The parameter values in force in `country`: defaults overridden by the jurisdiction.
    pub fn parameters_for(&self, country: &str) -> BTreeMap<String, Json> {
        let mut values: BTreeMap<String, Json> = self
            .parameters
            .iter()
            .map(|(k, p)| (k.clone(), p.default.clone()))
            .collect();
        if let Some(j) = self.jurisdictions.get(country) {
            values.extend(j.parameters.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        values
    }

    /// The length of `timer` in `country`.
    pub fn timer_duration(&self, timer: &Timer, country: &str) -> TimerDuration {
        self.jurisdictions
            .get(country)
            .and_then(|j| j.timers.get(&timer.id))
            .cloned()
            .unwrap_or_else(|| timer.duration.clone())
    }
}

/// A jurisdiction parameter: a typed value with a default that a country may override.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub fact: Fact,
    pub default: Json,
}

/// What differs in one country.
#[derive(Debug, Clone, Default)]
pub struct Jurisdiction {
    pub label: Labels,
    pub parameters: BTreeMap<String, Json>,
    /// Timer lengths that differ from the workflow's defaults.
    pub timers: BTreeMap<String, TimerDuration>,
}

/// A parallel region of the procedure (e.g. assistance runs beside proceedings).
#[derive(Debug, Clone)]
pub struct Track {
    pub id: String,
    pub label: Labels,
    /// The state the track enters when it starts.
    pub initial: String,
    /// Whether the track starts when a case is opened (otherwise a transition starts it).
    pub start_on_open: bool,
}

/// A step of the procedure.
#[derive(Debug, Clone)]
pub struct State {
    pub id: String,
    pub track: String,
    /// The SOP group this step belongs to.
    pub stage: Stage,
    pub label: Labels,
    /// No transition leaves a terminal state; a track that reaches one is finished.
    pub terminal: bool,
    /// While a track is in this state (e.g. the person is missing), no other track moves.
    pub suspends_case: bool,
}

/// A move from one state to another within a track, with who may make it and under which guards.
#[derive(Debug)]
pub struct Transition {
    pub id: String,
    pub track: String,
    /// The states it may be fired from (already expanded from `"*"`).
    pub from: Vec<String>,
    pub to: String,
    pub label: Labels,
    /// The caller needs at least one of these roles.
    pub roles: Vec<Role>,
    /// If not empty, the caller's agency must be of one of these kinds.
    pub agency_kinds: Vec<AgencyKind>,
    /// Besides the lead, an agency of one of these kinds that takes part in the case (the lead
    /// involved it by a live referral, e.g. for a decision) may fire it, in its own name, within
    /// `roles` and `agency_kinds`: the decisions and requests of other bodies are recorded by them.
    pub involved_agency_kinds: Vec<AgencyKind>,
    /// Facts the caller records with the transition.
    pub inputs: Vec<Input>,
    pub guards: Vec<Guard>,
    pub effects: Effects,
    /// The workflow's transfer step: fired when the receiving agency accepts a transfer of lead
    /// (the transfer object and this transition are one record), never by `fireTransition`.
    pub transfer_of_lead: bool,
    /// Who is alerted when it is fired.
    pub alert: Option<Alert>,
    /// The case continues under another procedure from this step (`continues_under`).
    pub continues_under: Option<ProcedureSwitch>,
}

/// A step after which the case continues under another workflow (e.g. the child procedure when
/// an adult's age is disputed, the adult procedure when a child turns 18): the same case, its
/// states mapped, its timers re-timed, in the step's one event (`engine::switch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureSwitch {
    /// The workflow id the case continues under (its latest version).
    pub workflow: String,
    /// State of this workflow → the states of that one it means (one per track: e.g. a
    /// presumed victim is a presumed child victim whose protection tracks have started). A state
    /// not listed keeps its id where that workflow has it and ends with its track where it does
    /// not; the tracks of that workflow no state reaches start where its cases start.
    pub states: BTreeMap<String, Vec<String>>,
}

/// Alerts a transition raises beyond the case's own agencies (`alert = "..."`), through the
/// inboxes of focal points (`src/service/alerts.rs`). Never to an authority of an asylum
/// seeker's country of origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Alert {
    /// The person (a child) is missing: the focal points of every country on the route (and of
    /// the case's own country) are told.
    Missing,
    /// The missing person was found: the same focal points are told.
    Found,
    /// The person was not received on arrival after a return: the focal points of both ends of
    /// the return (the case's country and the person's country of origin) are told; for a child
    /// it is the missing-child protocol, so those of every country on the route too.
    NotReceived,
}

/// A fact recorded by a transition.
#[derive(Debug, Clone)]
pub struct Input {
    pub fact: String,
    pub required: bool,
}

/// What a transition does beyond moving its own track.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// Facts set to fixed values.
    pub set: BTreeMap<String, Json>,
    /// Tracks (re)started at their initial state.
    pub start_tracks: Vec<String>,
    /// Tracks moved to the given terminal state.
    pub end_tracks: BTreeMap<String, String>,
    pub start_timers: Vec<TimerStart>,
    pub stop_timers: Vec<String>,
    /// Timers that stop counting (e.g. while the person is missing) ...
    pub pause_timers: Vec<String>,
    /// ... and count on from where they were.
    pub resume_timers: Vec<String>,
}

/// A timer a transition starts, possibly only when a condition holds.
#[derive(Debug, Clone)]
pub struct TimerStart {
    pub timer: String,
    /// Starts the timer only when this holds (e.g. a jurisdiction parameter).
    pub when: Option<std::sync::Arc<Guard>>,
}

/// Whether a timer marks the earliest or the latest moment for something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum TimerKind {
    /// Something may not happen before it elapses (e.g. the reflection period: no removal).
    Floor,
    /// Something should happen before it elapses (warned, escalated).
    Deadline,
}

/// How long a timer runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerDuration {
    Days(u32),
    /// Working days of the jurisdiction's calendar (weekends and public holidays skipped).
    WorkingDays(u32),
    /// Calendar months: the same day of the month so many months on (the month's last day when
    /// it has no such day), e.g. 12 for a year.
    Months(u32),
    /// Until the date held by a `date` fact (e.g. a residence permit's expiry).
    UntilFact(String),
}

/// A legal or procedural time limit.
#[derive(Debug, Clone)]
pub struct Timer {
    pub id: String,
    pub kind: TimerKind,
    pub duration: TimerDuration,
    /// A `date` fact the timer counts from (e.g. the date of the final act), where recorded;
    /// otherwise it counts from the moment it starts.
    pub from_fact: Option<String>,
    pub label: Labels,
    /// The legal source, e.g. "CoE CETS 197 Art. 13".
    pub citation: String,
    /// For floors: transitions refused until the timer has elapsed.
    pub blocks: Vec<String>,
    /// For deadlines: how many days before the due date the case is "due soon".
    pub warn_days: u32,
    /// For deadlines: whose inboxes are told when it lapses (one of [`ESCALATION_ROLES`]).
    pub escalate_to: Vec<Role>,
}

/// The roles a lapsed deadline can reach (`escalate_to`): case workers, supervisors and guardians
/// through the agencies that hold those roles for the case, focal points through their country's
/// focal point agency. Any other role is refused at load: an escalation to it would reach no one.
pub const ESCALATION_ROLES: &[Role] = &[
    Role::CaseWorker,
    Role::Supervisor,
    Role::Guardian,
    Role::FocalPoint,
];
