//! Workflow definitions as the API shows them.

use super::context::app;
use super::ids;
use crate::domain::{AgencyKind, Role, Stage};
use crate::workflow::definition::{self, FactType, TimerDuration, TimerKind};
use crate::workflow::{Workflow, diagram};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use std::sync::Arc;

/// How to draw a workflow.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum DiagramFormat {
    /// A Mermaid `stateDiagram-v2`.
    Mermaid,
}

/// The type of a fact.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum FactKind {
    Bool,
    String,
    Int,
    Enum,
    Date,
}

impl From<FactType> for FactKind {
    fn from(t: FactType) -> Self {
        match t {
            FactType::Bool => FactKind::Bool,
            FactType::String => FactKind::String,
            FactType::Int => FactKind::Int,
            FactType::Enum => FactKind::Enum,
            FactType::Date => FactKind::Date,
        }
    }
}

/// A versioned workflow definition.
pub struct WorkflowNode(pub Arc<Workflow>);

#[Object(name = "Workflow")]
impl WorkflowNode {
    pub async fn id(&self) -> ID {
        ids::encode("Workflow", &format!("{}:{}", self.0.id, self.0.version))
    }
    /// The workflow's stable identifier, e.g. `trm-adult`.
    async fn key(&self) -> &str {
        &self.0.id
    }
    async fn version(&self) -> u32 {
        self.0.version
    }
    /// Label in an ISO 639-1 language (English when missing).
    async fn label(&self, #[graphql(default = "en")] language: String) -> &str {
        self.0.label.get(&language)
    }
    async fn description(&self, #[graphql(default = "en")] language: String) -> &str {
        self.0.description.get(&language)
    }
    /// SHA-256 of the definition file: the exact text cases under this version follow.
    async fn source_hash(&self) -> &str {
        &self.0.source_hash
    }
    async fn tracks(&self, #[graphql(default = "en")] language: String) -> Vec<WorkflowTrack> {
        self.0
            .tracks
            .iter()
            .map(|t| WorkflowTrack {
                key: t.id.clone(),
                label: t.label.get(&language).to_string(),
                initial_state: t.initial.clone(),
                starts_on_open: t.start_on_open,
            })
            .collect()
    }
    async fn states(&self, #[graphql(default = "en")] language: String) -> Vec<WorkflowState> {
        self.0
            .states
            .values()
            .map(|s| WorkflowState {
                key: s.id.clone(),
                track: s.track.clone(),
                stage: s.stage,
                label: s.label.get(&language).to_string(),
                terminal: s.terminal,
            })
            .collect()
    }
    async fn transitions(
        &self,
        #[graphql(default = "en")] language: String,
    ) -> Vec<WorkflowTransition> {
        self.0
            .transitions
            .iter()
            .map(|t| WorkflowTransition::new(&self.0, t, &language))
            .collect()
    }
    async fn facts(&self, #[graphql(default = "en")] language: String) -> Vec<WorkflowFact> {
        self.0
            .facts
            .values()
            .map(|f| WorkflowFact {
                key: f.name.clone(),
                r#type: f.kind.into(),
                values: f.values.clone(),
                value_labels: value_labels(f, &language),
                label: f.label.get(&language).to_string(),
            })
            .collect()
    }
    async fn timers(&self, #[graphql(default = "en")] language: String) -> Vec<WorkflowTimer> {
        self.0
            .timers
            .values()
            .map(|t| WorkflowTimer::new(t, &language))
            .collect()
    }
    /// The definition drawn as a diagram.
    async fn diagram(
        &self,
        #[graphql(default_with = "DiagramFormat::Mermaid")] format: DiagramFormat,
        #[graphql(default = "en")] language: String,
    ) -> String {
        match format {
            DiagramFormat::Mermaid => diagram::mermaid(&self.0, &language),
        }
    }
}

/// A parallel region of a workflow.
#[derive(SimpleObject)]
pub struct WorkflowTrack {
    pub key: String,
    pub label: String,
    pub initial_state: String,
    pub starts_on_open: bool,
}

/// A step of a workflow.
#[derive(SimpleObject)]
pub struct WorkflowState {
    pub key: String,
    pub track: String,
    pub stage: Stage,
    pub label: String,
    pub terminal: bool,
}

/// A fact a case can record.
#[derive(SimpleObject)]
pub struct WorkflowFact {
    pub key: String,
    pub r#type: FactKind,
    /// For ENUM facts: the allowed values.
    pub values: Vec<String>,
    /// For ENUM facts: each value with its label in the requested language.
    pub value_labels: Vec<EnumValueLabel>,
    pub label: String,
}

/// A value of an ENUM fact and how it reads: the definition's label (`values_label`), else the
/// value with `_` as spaces.
#[derive(SimpleObject, Clone)]
pub struct EnumValueLabel {
    pub value: String,
    pub label: String,
}

/// Each value of `fact` with its label in `language`.
pub fn value_labels(fact: &crate::workflow::facts::Fact, language: &str) -> Vec<EnumValueLabel> {
    fact.values
        .iter()
        .map(|v| EnumValueLabel {
            value: v.clone(),
            label: fact.value_label(v, language),
        })
        .collect()
}

/// A fact a transition records.
#[derive(SimpleObject, Clone)]
pub struct TransitionInput {
    pub fact: String,
    pub required: bool,
    pub r#type: FactKind,
    pub values: Vec<String>,
    /// For ENUM facts: each value with its label in the requested language.
    pub value_labels: Vec<EnumValueLabel>,
    pub label: String,
}

/// A named condition of a transition.
#[derive(SimpleObject)]
pub struct WorkflowGuard {
    pub name: String,
    /// The CEL expression.
    pub expression: String,
    pub reason: String,
}

/// A legal or procedural timer.
#[derive(SimpleObject)]
pub struct WorkflowTimer {
    pub key: String,
    pub kind: TimerKind,
    /// Length in calendar days (default; a jurisdiction may differ).
    pub days: Option<u32>,
    /// Length in working days of the jurisdiction's calendar.
    pub working_days: Option<u32>,
    /// Length in calendar months (12 for a year): the same day of the month, or the month's
    /// last day when it has no such day.
    pub months: Option<u32>,
    /// Runs until the date recorded in this fact.
    pub until_fact: Option<String>,
    pub citation: String,
    pub label: String,
    /// For floors: transitions refused until it has elapsed.
    pub blocks: Vec<String>,
    /// For deadlines: days before the due date when the case becomes due soon.
    pub warn_days: u32,
    /// For deadlines: roles alerted when it is overdue.
    pub escalate_to: Vec<Role>,
}

impl WorkflowTimer {
    fn new(t: &definition::Timer, language: &str) -> Self {
        let (mut days, mut working_days, mut months, mut until_fact) = (None, None, None, None);
        match &t.duration {
            TimerDuration::Days(d) => days = Some(*d),
            TimerDuration::WorkingDays(d) => working_days = Some(*d),
            TimerDuration::Months(m) => months = Some(*m),
            TimerDuration::UntilFact(f) => until_fact = Some(f.clone()),
        }
        WorkflowTimer {
            key: t.id.clone(),
            kind: t.kind,
            days,
            working_days,
            months,
            until_fact,
            citation: t.citation.clone(),
            label: t.label.get(language).to_string(),
            blocks: t.blocks.clone(),
            warn_days: t.warn_days,
            escalate_to: t.escalate_to.clone(),
        }
    }
}

/// A transition of a workflow.
#[derive(SimpleObject)]
pub struct WorkflowTransition {
    pub key: String,
    pub track: String,
    pub from: Vec<String>,
    pub to: String,
    pub label: String,
    pub roles: Vec<Role>,
    /// Empty: any kind of agency.
    pub agency_kinds: Vec<AgencyKind>,
    /// Besides the lead, agencies of these kinds that take part in the case (a live referral
    /// from its lead, e.g. for a decision) take this step themselves, in their own name.
    pub involved_agency_kinds: Vec<AgencyKind>,
    pub inputs: Vec<TransitionInput>,
    pub guards: Vec<WorkflowGuard>,
    pub starts_tracks: Vec<String>,
    pub starts_timers: Vec<String>,
    pub stops_timers: Vec<String>,
}

impl WorkflowTransition {
    fn new(w: &Workflow, t: &definition::Transition, language: &str) -> Self {
        WorkflowTransition {
            key: t.id.clone(),
            track: t.track.clone(),
            from: t.from.clone(),
            to: t.to.clone(),
            label: t.label.get(language).to_string(),
            roles: t.roles.clone(),
            agency_kinds: t.agency_kinds.clone(),
            involved_agency_kinds: t.involved_agency_kinds.clone(),
            inputs: transition_inputs(w, t, language),
            guards: t
                .guards
                .iter()
                .map(|g| WorkflowGuard {
                    name: g.name.clone(),
                    expression: g.expr.clone(),
                    reason: g.reason.get(language).to_string(),
                })
                .collect(),
            starts_tracks: t.effects.start_tracks.clone(),
            starts_timers: t
                .effects
                .start_timers
                .iter()
                .map(|s| s.timer.clone())
                .collect(),
            stops_timers: t.effects.stop_timers.clone(),
        }
    }
}

/// The inputs of a transition with their fact types.
pub fn transition_inputs(
    w: &Workflow,
    t: &definition::Transition,
    language: &str,
) -> Vec<TransitionInput> {
    t.inputs
        .iter()
        .filter_map(|i| {
            let fact = w.facts.get(&i.fact)?;
            Some(TransitionInput {
                fact: i.fact.clone(),
                required: i.required,
                r#type: fact.kind.into(),
                values: fact.values.clone(),
                value_labels: value_labels(fact, language),
                label: fact.label.get(language).to_string(),
            })
        })
        .collect()
}

/// Reads of the workflow definitions (merged into the `Query` root).
#[derive(Default)]
pub struct WorkflowQuery;

#[Object]
impl WorkflowQuery {
    /// Every loaded workflow definition (all versions).
    async fn workflows(&self, ctx: &Context<'_>) -> Result<Vec<WorkflowNode>> {
        Ok(app(ctx)?
            .workflows
            .all()
            .cloned()
            .map(WorkflowNode)
            .collect())
    }

    /// A workflow definition by key (e.g. `trm-adult`) and version (latest when omitted).
    async fn workflow(
        &self,
        ctx: &Context<'_>,
        id: String,
        version: Option<u32>,
    ) -> Result<Option<WorkflowNode>> {
        Ok(app(ctx)?.workflows.get(&id, version).map(WorkflowNode))
    }
}
