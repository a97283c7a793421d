//! Cases and their history as the API shows them.

use super::directory::{AgencyNode, UserNode};
use super::error::{IntoGql, invalid};
use super::workflow::{TransitionInput, WorkflowNode, transition_inputs};
use super::{app, ids, page_size, principal};
use crate::domain::{CaseStatus, Stage};
use crate::service::timers::{self, DeadlineStatus};
use crate::service::{ServiceError, cases, directory};
use crate::store::cases::CaseRecord;
use crate::store::events::{Event, EventKind};
use crate::workflow::definition::TimerKind;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A case: one person's path through a referral workflow, led by one agency at a time.
pub struct CaseNode(pub CaseRecord);

/// The current state of one track of a case.
#[derive(SimpleObject)]
pub struct CaseTrackState {
    pub track: String,
    pub state: String,
    pub stage: Stage,
    pub label: String,
    pub terminal: bool,
    pub entered_at: Option<DateTime<Utc>>,
}

/// Where a timer stands.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum TimerStatus {
    Running,
    /// Not counting (e.g. while the person is missing).
    Paused,
    Elapsed,
    Stopped,
}

/// A timer of a case.
#[derive(SimpleObject)]
pub struct CaseTimer {
    pub timer: String,
    pub kind: TimerKind,
    pub status: TimerStatus,
    pub started_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub citation: String,
    pub label: String,
}

/// A deadline of a case.
#[derive(SimpleObject)]
pub struct CaseDeadline {
    pub timer: String,
    pub status: DeadlineStatus,
    pub due_at: DateTime<Utc>,
    /// When the case becomes due soon (the warning window opens).
    pub due_soon_from: DateTime<Utc>,
    pub citation: String,
    pub label: String,
    /// Roles alerted once it is overdue.
    pub escalate_to: Vec<crate::domain::Role>,
}

/// A reason a transition cannot be fired now.
#[derive(SimpleObject, Clone)]
pub struct UnmetGuard {
    /// Machine name (a guard's name, or `role`, `agency_kind`, `lead_agency`).
    pub name: String,
    pub reason: String,
}

/// A transition out of the case's current states, judged for the caller.
#[derive(SimpleObject)]
pub struct AvailableTransition {
    pub key: String,
    pub label: String,
    pub track: String,
    pub from: String,
    pub to: String,
    /// Whether the caller may fire it now (guards over its own inputs are judged when fired).
    pub allowed: bool,
    pub unmet_guards: Vec<UnmetGuard>,
    pub inputs: Vec<TransitionInput>,
}

#[Object(name = "Case")]
impl CaseNode {
    pub async fn id(&self) -> ID {
        ids::encode("Case", &self.0.id.to_string())
    }
    /// Human reference, unique per country and year, e.g. `IT-2026-000123`.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// The workflow version the case is pinned to.
    async fn workflow(&self, ctx: &Context<'_>) -> Result<WorkflowNode> {
        Ok(WorkflowNode(cases::workflow_of(app(ctx)?, &self.0).gql()?))
    }
    /// ISO 3166-1 alpha-2 country where the case was opened.
    async fn country(&self) -> &str {
        &self.0.country
    }
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        let agency = directory::agency(app(ctx)?, self.0.lead_agency_id)
            .await
            .gql()?;
        agency
            .map(AgencyNode)
            .ok_or_else(|| ServiceError::NotFound("agency"))
            .gql()
    }
    async fn status(&self) -> CaseStatus {
        self.0.status
    }
    /// Optimistic-concurrency token: pass it as `expectedVersion` when firing a transition.
    async fn version(&self) -> i64 {
        self.0.version
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The current state of every started track.
    async fn states(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTrackState>> {
        let workflow = cases::workflow_of(app(ctx)?, &self.0).gql()?;
        Ok(workflow
            .tracks
            .iter()
            .filter_map(|t| {
                let state = workflow.state(self.0.state.tracks.get(&t.id)?)?;
                Some(CaseTrackState {
                    track: t.id.clone(),
                    state: state.id.clone(),
                    stage: state.stage,
                    label: state.label.get(&language).to_string(),
                    terminal: state.terminal,
                    entered_at: self.0.entered_at.get(&t.id).copied(),
                })
            })
            .collect())
    }
    /// Facts recorded so far (procedural information, never personal data).
    async fn facts(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.0.state.facts).unwrap_or_default())
    }
    async fn timers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTimer>> {
        let app = app(ctx)?;
        let workflow = cases::workflow_of(app, &self.0).gql()?;
        let now = app.now();
        Ok(self
            .0
            .state
            .timers
            .iter()
            .filter_map(|(id, t)| {
                let def = workflow.timers.get(id)?;
                let view = t.view(now);
                let status = if view.paused {
                    TimerStatus::Paused
                } else if view.running {
                    TimerStatus::Running
                } else if view.elapsed {
                    TimerStatus::Elapsed
                } else {
                    TimerStatus::Stopped
                };
                Some(CaseTimer {
                    timer: id.clone(),
                    kind: def.kind,
                    status,
                    started_at: t.started_at,
                    due_at: t.due_at,
                    stopped_at: t.stopped_at,
                    citation: def.citation.clone(),
                    label: def.label.get(&language).to_string(),
                })
            })
            .collect())
    }
    /// The earlier case this one continues, if the caller may see it.
    async fn follows_case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        let Some(id) = self.0.follows_case_id else {
            return Ok(None);
        };
        Ok(cases::get_case(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?
            .map(CaseNode))
    }
    /// Later cases that continue this one (e.g. under the adult procedure), as far as the caller may see.
    async fn followed_by(&self, ctx: &Context<'_>) -> Result<Vec<CaseNode>> {
        Ok(cases::followers(app(ctx)?, principal(ctx)?, &self.0)
            .await
            .gql()?
            .into_iter()
            .map(CaseNode)
            .collect())
    }
    /// The case's deadlines (legal and procedural time limits), most urgent first.
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseDeadline>> {
        let app = app(ctx)?;
        let workflow = cases::workflow_of(app, &self.0).gql()?;
        Ok(timers::deadlines(app, &self.0, app.now())
            .into_iter()
            .filter_map(|d| {
                let def = workflow.timers.get(&d.timer)?;
                Some(CaseDeadline {
                    timer: d.timer,
                    status: d.status,
                    due_at: d.due_at,
                    due_soon_from: d.warn_at,
                    citation: def.citation.clone(),
                    label: def.label.get(&language).to_string(),
                    escalate_to: def.escalate_to.clone(),
                })
            })
            .collect())
    }
    /// Every transition from the case's current states, with whether the caller may fire it.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<AvailableTransition>> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let workflow = cases::workflow_of(app, &self.0).gql()?;
        Ok(cases::available_transitions(app, p, &workflow, &self.0)
            .into_iter()
            .map(|a| AvailableTransition {
                key: a.transition.id.clone(),
                label: a.transition.label.get(&language).to_string(),
                track: a.transition.track.clone(),
                from: self
                    .0
                    .state
                    .tracks
                    .get(&a.transition.track)
                    .cloned()
                    .unwrap_or_default(),
                to: a.transition.to.clone(),
                allowed: a.allowed,
                unmet_guards: a
                    .unmet
                    .into_iter()
                    .map(|u| UnmetGuard {
                        name: u.name,
                        reason: if language == "fr" {
                            u.reason_fr
                        } else {
                            u.reason
                        },
                    })
                    .collect(),
                inputs: transition_inputs(&workflow, a.transition, &language),
            })
            .collect())
    }
    /// The case's events, oldest first.
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EventNode>> {
        let app = app(ctx)?;
        let limit = page_size(first)?;
        let after_seq = match after {
            None => 0,
            Some(c) => ids::uncursor(&c)
                .and_then(|v| v.strip_prefix("seq:").and_then(|n| n.parse::<i64>().ok()))
                .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
        };
        let mut events = cases::history(app, &self.0, after_seq, limit + 1)
            .await
            .gql()?;
        let has_next = events.len() as u64 > limit;
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let nodes = event_nodes(app, events).await?;
        let mut connection = Connection::new(after_seq > 0, has_next);
        connection.edges.extend(
            nodes
                .into_iter()
                .map(|n| Edge::new(ids::cursor(&format!("seq:{}", n.event.seq)), n)),
        );
        Ok(connection)
    }
}

/// Loads the actors and agencies of a page of events in two queries.
pub async fn event_nodes(app: &crate::service::App, events: Vec<Event>) -> Result<Vec<EventNode>> {
    let user_ids: Vec<_> = events.iter().map(|e| e.actor_user_id).collect();
    let agency_ids: Vec<_> = events.iter().map(|e| e.actor_agency_id).collect();
    let (agencies, users) = directory::agencies_and_users(app, &agency_ids, &user_ids)
        .await
        .gql()?;
    events
        .into_iter()
        .map(|event| {
            let actor = users.get(&event.actor_user_id).cloned();
            let agency = agencies.get(&event.actor_agency_id).cloned();
            let system = event.actor_user_id.is_nil();
            match (actor, agency) {
                (actor, Some(agency)) if actor.is_some() || system => Ok(EventNode {
                    event,
                    actor,
                    agency,
                }),
                _ => Err(ServiceError::NotFound("event actor")).gql(),
            }
        })
        .collect()
}

/// One recorded change to a case.
pub struct EventNode {
    pub event: Event,
    /// `None` for events the service recorded itself (e.g. a timer elapsing).
    pub actor: Option<crate::store::directory::User>,
    pub agency: crate::store::directory::Agency,
}

#[Object(name = "CaseEvent")]
impl EventNode {
    pub async fn id(&self) -> ID {
        ids::encode("CaseEvent", &self.event.id.to_string())
    }
    /// Position in the case's history, from 1.
    async fn sequence(&self) -> i64 {
        self.event.seq
    }
    async fn kind(&self) -> EventKind {
        self.event.kind
    }
    async fn transition(&self) -> Option<&str> {
        self.event.transition.as_deref()
    }
    async fn track(&self) -> Option<&str> {
        self.event.track.as_deref()
    }
    async fn from_state(&self) -> Option<&str> {
        self.event.from_state.as_deref()
    }
    async fn to_state(&self) -> Option<&str> {
        self.event.to_state.as_deref()
    }
    async fn reason(&self) -> Option<&str> {
        self.event.reason.as_deref()
    }
    /// The facts the event recorded.
    async fn data(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.event.changes.facts).unwrap_or_default())
    }
    /// Every change the event made (track moves, facts, timers), as recorded.
    async fn changes(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.event.changes).unwrap_or_default())
    }
    /// Who did it; null for events recorded by the service itself (`bySystem`).
    async fn actor(&self) -> Option<UserNode> {
        self.actor.clone().map(UserNode)
    }
    /// Recorded by the service (e.g. a timer elapsing), not by a person.
    async fn by_system(&self) -> bool {
        self.actor.is_none()
    }
    /// For `TIMER_ELAPSED` events: the timer.
    async fn timer(&self) -> Option<&str> {
        self.event.changes.timer_elapsed.as_deref()
    }
    async fn agency(&self) -> AgencyNode {
        AgencyNode(self.agency.clone())
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.event.occurred_at
    }
    async fn workflow_key(&self) -> &str {
        &self.event.workflow_id
    }
    async fn workflow_version(&self) -> u32 {
        self.event.workflow_version
    }
    /// Hash of the previous event of the case (zeros for the first).
    async fn prev_hash(&self) -> &str {
        &self.event.prev_hash
    }
    /// SHA-256 over the previous hash and this event's content.
    async fn hash(&self) -> &str {
        &self.event.hash
    }
}
