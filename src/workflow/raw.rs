//! The file format of workflow definitions as read from TOML, before any checking.
//! `load.rs` turns these into the checked types of `definition.rs`.

use super::definition::{Alert, FactType, Labels, TimerKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkflow {
    pub(super) id: String,
    pub(super) version: u32,
    pub(super) label: Labels,
    #[serde(default)]
    pub(super) description: Labels,
    #[serde(default)]
    pub(super) facts: BTreeMap<String, Spanned<RawFact>>,
    pub(super) tracks: BTreeMap<String, Spanned<RawTrack>>,
    pub(super) states: BTreeMap<String, Spanned<RawState>>,
    pub(super) transitions: BTreeMap<String, Spanned<RawTransition>>,
    #[serde(default)]
    pub(super) timers: BTreeMap<String, Spanned<RawTimer>>,
    #[serde(default)]
    pub(super) parameters: BTreeMap<String, Spanned<RawParameter>>,
    #[serde(default)]
    pub(super) jurisdictions: BTreeMap<String, Spanned<RawJurisdiction>>,
    /// CEL over facts: whether the person is an asylum seeker (no contact with the authorities
    /// of the country of origin while it holds). The form of versions written before
    /// `[protections]`; a file gives one or the other.
    pub(super) asylum_seeker: Option<Spanned<String>>,
    /// The person's situation for the service's protections, each CEL over facts and tracks.
    pub(super) protections: Option<Spanned<RawProtections>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProtections {
    pub(super) asylum_seeker: Option<String>,
    pub(super) consent_withdrawn: Option<String>,
    pub(super) deceased: Option<String>,
    pub(super) child: Option<String>,
    pub(super) guardian: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawParameter {
    #[serde(rename = "type")]
    pub(super) kind: FactType,
    #[serde(default)]
    pub(super) values: Vec<String>,
    pub(super) default: toml::Value,
    pub(super) label: Labels,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawJurisdiction {
    pub(super) label: Labels,
    #[serde(default)]
    pub(super) parameters: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(super) timers: BTreeMap<String, RawTimerLength>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTimerLength {
    pub(super) days: Option<u32>,
    pub(super) working_days: Option<u32>,
    pub(super) months: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFact {
    #[serde(rename = "type")]
    pub(super) kind: FactType,
    #[serde(default)]
    pub(super) values: Vec<String>,
    pub(super) label: Labels,
    /// For `enum` facts: labels of (some of) the values, `values_label.<value>.<language>`.
    #[serde(default)]
    pub(super) values_label: BTreeMap<String, Labels>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrack {
    pub(super) label: Labels,
    pub(super) initial: String,
    #[serde(default)]
    pub(super) start_on_open: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub(super) track: String,
    pub(super) stage: String,
    pub(super) label: Labels,
    #[serde(default)]
    pub(super) terminal: bool,
    #[serde(default)]
    pub(super) suspends_case: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawFrom {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransition {
    pub(super) from: RawFrom,
    pub(super) to: String,
    /// Required when `from = "*"` (any non-terminal state of this track).
    pub(super) track: Option<String>,
    pub(super) label: Labels,
    pub(super) roles: Vec<String>,
    #[serde(default)]
    pub(super) agency_kinds: Vec<String>,
    /// Agencies of these kinds that take part in the case (a live referral from it) may fire it
    /// too, in their own name.
    #[serde(default)]
    pub(super) involved_agency_kinds: Vec<String>,
    #[serde(default)]
    pub(super) inputs: Vec<RawInput>,
    #[serde(default)]
    pub(super) guards: Vec<RawGuard>,
    #[serde(default)]
    pub(super) effects: RawEffects,
    /// Fired by accepting a transfer of lead, never directly.
    #[serde(default)]
    pub(super) transfer_of_lead: bool,
    /// Who is alerted when the transition is fired.
    pub(super) alert: Option<Spanned<Alert>>,
    /// The case continues under another workflow from this step.
    pub(super) continues_under: Option<RawSwitch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSwitch {
    pub(super) workflow: String,
    #[serde(default)]
    pub(super) states: std::collections::BTreeMap<String, RawFrom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInput {
    pub(super) fact: String,
    #[serde(default)]
    pub(super) required: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGuard {
    pub(super) name: String,
    pub(super) expr: String,
    pub(super) reason: Labels,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEffects {
    #[serde(default)]
    pub(super) set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(super) start_tracks: Vec<String>,
    #[serde(default)]
    pub(super) end_tracks: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) start_timers: Vec<RawTimerStart>,
    #[serde(default)]
    pub(super) stop_timers: Vec<String>,
    #[serde(default)]
    pub(super) pause_timers: Vec<String>,
    #[serde(default)]
    pub(super) resume_timers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum RawTimerStart {
    Always(String),
    When { timer: String, when: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTimer {
    pub(super) kind: TimerKind,
    pub(super) days: Option<u32>,
    pub(super) working_days: Option<u32>,
    /// Calendar months (a year is 12): the same day of the month, or the month's last day
    /// when it has no such day.
    pub(super) months: Option<u32>,
    /// A `date` fact holding the due date.
    pub(super) until_fact: Option<String>,
    /// A `date` fact the timer counts from (e.g. the final act), instead of the moment it starts.
    pub(super) from_fact: Option<String>,
    pub(super) label: Labels,
    pub(super) citation: String,
    #[serde(default)]
    pub(super) blocks: Vec<String>,
    pub(super) warn_days: Option<Spanned<u32>>,
    pub(super) escalate_to: Option<Spanned<Vec<String>>>,
}
