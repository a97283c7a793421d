//! Cases and their history as the API shows them.

use super::directory::{AgencyNode, UserNode};
use super::error::{IntoGql, invalid};
use super::sharing::{ConsentNode, MovementNode, ReferralNode, TransferNode};
use super::workflow::{TransitionInput, WorkflowNode, transition_inputs};
use super::{app, ids, page_size, principal};
use crate::access::{CaseView, Relation};
use crate::domain::CaseRecord;
use crate::domain::Event;
use crate::domain::EventKind;
use crate::domain::{CaseStatus, DataGroup, Stage};
use crate::service::timers::{self, DeadlineStatus};
use crate::service::{ServiceError, cases, directory};
use crate::service::{person, referrals, transfers};
use crate::workflow::Workflow;
use crate::workflow::definition::TimerKind;
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// A case: one person's path through a referral workflow, led by one agency at a time. What
/// the caller may see of it is worked out once per node (and for a whole page at once by the
/// list queries), however many fields ask.
#[derive(Clone)]
pub struct CaseNode(pub CaseRecord, Arc<OnceCell<CaseView>>);

/// How the caller's agency stands towards a case.
#[derive(async_graphql::Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum CaseAccess {
    /// Leads the case: sees everything it holds and moves the case.
    Lead,
    /// Led it until a transfer: sees what it had then, and the feedback.
    FormerLead,
    /// Receives a referral, a transfer offer or an alert: sees the procedural state and the
    /// data groups shared with it.
    Participant,
    /// Oversight: reads everything, changes nothing.
    Auditor,
    /// Opened by break-glass: reads the case for a limited time; recorded and reviewed.
    BreakGlass,
}

/// Whether the caller may do an action, and which policies decided it (none: default deny).
#[derive(SimpleObject)]
pub struct Permission {
    /// The policy action, e.g. `fire_transition`, `refer`, `override_consent`.
    pub action: String,
    pub allowed: bool,
    /// The `@id`s of the deciding policies.
    pub policies: Vec<String>,
    /// Their reasons.
    pub reasons: Vec<String>,
}

/// One read of a case's personal data.
#[derive(SimpleObject)]
pub struct AccessLogEntry {
    pub reader: Option<UserNode>,
    pub agency: Option<AgencyNode>,
    pub read_at: DateTime<Utc>,
    /// Why, as the reader stated it (required for sensitive groups).
    pub purpose: Option<String>,
    /// The groups that were returned.
    pub groups: Vec<DataGroup>,
}

/// One sensitivity group of the person's data.
#[derive(SimpleObject)]
pub struct PersonalDataGroup {
    pub group: DataGroup,
    /// The latest version the caller may read (a JSON object); null when redacted or never recorded.
    pub value: Option<Json<Value>>,
    /// True when the caller may not read this group.
    pub redacted: bool,
    /// True when the caller may read this sensitive group but gave no `purpose`.
    pub purpose_required: bool,
    pub recorded_at: Option<DateTime<Utc>>,
}

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

impl CaseNode {
    /// A case whose view is worked out when a field first needs it.
    pub fn new(case: CaseRecord) -> CaseNode {
        CaseNode(case, Arc::new(OnceCell::new()))
    }

    /// The cases of a page (already scoped to the caller), in order, with their views worked
    /// out together: four queries for the page.
    pub async fn page(ctx: &Context<'_>, cases: Vec<CaseRecord>) -> Result<Vec<CaseNode>> {
        let app = app(ctx)?;
        let views = crate::service::sharing::views(app, app.store.conn(), principal(ctx)?, &cases)
            .await
            .gql()?;
        Ok(cases
            .into_iter()
            .zip(views)
            // A case without a view keeps asking on its own, and answers as `case(id)` does.
            .map(|(case, view)| CaseNode(case, Arc::new(OnceCell::new_with(view))))
            .collect())
    }

    /// What the caller may see of this case.
    async fn view(&self, ctx: &Context<'_>) -> Result<CaseView> {
        self.1
            .get_or_try_init(|| async {
                crate::service::sharing::case_view(app(ctx)?, principal(ctx)?, &self.0)
                    .await
                    .gql()
            })
            .await
            .cloned()
    }
}

#[Object(name = "Case")]
impl CaseNode {
    /// How the caller's agency stands towards the case; it decides what is shown.
    async fn access(&self, ctx: &Context<'_>) -> Result<CaseAccess> {
        Ok(match self.view(ctx).await?.relation {
            Relation::Auditor => CaseAccess::Auditor,
            Relation::Lead => CaseAccess::Lead,
            Relation::FormerLead { .. } => CaseAccess::FormerLead,
            Relation::Participant => CaseAccess::Participant,
            Relation::BreakGlass { .. } => CaseAccess::BreakGlass,
        })
    }
    /// The fields shown to the caller as null or empty because it may not see them (personal
    /// data groups as `personalData.<GROUP>`).
    async fn redacted_fields(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let view = self.view(ctx).await?;
        let mut out = Vec::new();
        if !view.sees_facts() {
            for f in [
                "facts",
                "timers",
                "deadlines",
                "availableTransitions",
                "consents",
            ] {
                out.push(f.to_string());
            }
        }
        if view.history_until().is_none() {
            out.push("history".into());
        }
        for g in DataGroup::ALL {
            if !view.may_read_group(*g) {
                out.push(format!("personalData.{}", g.as_str()));
            }
        }
        if !view.may_read_group(DataGroup::Contact) {
            out.push("route.place".into());
        }
        Ok(out)
    }
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    async fn origin_country(&self) -> Option<&str> {
        self.0.origin_country.as_deref()
    }
    /// The person's data by sensitivity group: every group is listed; those the caller may not
    /// read have a null value and `redacted: true`. Health data, the exploitation narrative and
    /// perpetrator information are given only with a `purpose` (otherwise `purposeRequired`).
    /// Every read that returns data is recorded in the case's access log with its purpose.
    async fn personal_data(
        &self,
        ctx: &Context<'_>,
        purpose: Option<String>,
    ) -> Result<Vec<PersonalDataGroup>> {
        let view = self.view(ctx).await?;
        let data = person::personal_data(
            app(ctx)?,
            principal(ctx)?,
            &self.0,
            &view,
            purpose.as_deref(),
        )
        .await
        .gql()?;
        Ok(data
            .into_iter()
            .map(|(group, read)| PersonalDataGroup {
                group,
                redacted: !view.may_read_group(group),
                purpose_required: read.withheld_for_purpose,
                recorded_at: read.version.as_ref().map(|v| v.recorded_at),
                value: read.version.map(|v| Json(v.value)),
            })
            .collect())
    }
    /// Every read of the case's personal data, newest first: who, which agency, when, why and
    /// which groups (auditors only).
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<AccessLogEntry>> {
        let app = app(ctx)?;
        let limit = page_size(Some(first))?;
        let reads = person::access_log(app, principal(ctx)?, &self.0, limit)
            .await
            .gql()?;
        let users: Vec<_> = reads.iter().map(|r| r.user_id).collect();
        let agencies: Vec<_> = reads.iter().map(|r| r.agency_id).collect();
        let (agencies, users) = directory::agencies_and_users(app, &agencies, &users)
            .await
            .gql()?;
        Ok(reads
            .into_iter()
            .map(|r| AccessLogEntry {
                reader: users.get(&r.user_id).cloned().map(UserNode),
                agency: agencies.get(&r.agency_id).cloned().map(AgencyNode),
                read_at: r.read_at,
                purpose: r.purpose,
                groups: r.groups.into_iter().collect(),
            })
            .collect())
    }
    /// Where the person has been, in date order. Places are shown only to agencies that may
    /// read the CONTACT group.
    async fn route(&self, ctx: &Context<'_>) -> Result<Vec<MovementNode>> {
        let view = self.view(ctx).await?;
        let places = view.may_read_group(DataGroup::Contact);
        Ok(person::route(app(ctx)?, &self.0)
            .await
            .gql()?
            .into_iter()
            .map(|mut m| {
                if !places {
                    m.place = None;
                }
                MovementNode(m)
            })
            .collect())
    }
    /// Service referrals: all of them for the lead agency, the caller's own otherwise.
    async fn referrals(&self, ctx: &Context<'_>) -> Result<Vec<ReferralNode>> {
        Ok(
            referrals::referrals_of_case(app(ctx)?, principal(ctx)?, &self.0)
                .await
                .gql()?
                .into_iter()
                .map(ReferralNode)
                .collect(),
        )
    }
    /// Transfers of lead: all of them for the lead agency, the caller's own otherwise.
    async fn transfers(&self, ctx: &Context<'_>) -> Result<Vec<TransferNode>> {
        Ok(
            transfers::transfers_of_case(app(ctx)?, principal(ctx)?, &self.0)
                .await
                .gql()?
                .into_iter()
                .map(TransferNode)
                .collect(),
        )
    }
    /// Break-glass accesses to the case (the lead agency and auditors see all; a user who opened
    /// one sees their own).
    async fn break_glass_accesses(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<super::sharing::BreakGlassNode>> {
        let view = self.view(ctx).await?;
        Ok(crate::service::break_glass::of_case(
            app(ctx)?,
            principal(ctx)?,
            &self.0,
            view.sees_facts(),
        )
        .await
        .gql()?
        .into_iter()
        .map(super::sharing::BreakGlassNode)
        .collect())
    }
    /// What the caller may do on this case, each with the policies that decided it.
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let view = self.view(ctx).await?;
        let facts = crate::policy::Facts {
            is_lead: self.0.lead_agency_id == p.agency_id,
            is_party: false,
            has_access: !matches!(view.relation, Relation::BreakGlass { .. }),
            stage: None,
            group: None,
        };
        use crate::policy::Action as A;
        Ok([
            A::FireTransition,
            A::RecordCaseData,
            A::Refer,
            A::OfferTransfer,
            A::RequestTransfer,
            A::OverrideConsent,
            A::MigrateCase,
            A::ReviewBreakGlass,
            A::BreakGlass,
            A::ReadAudit,
        ]
        .into_iter()
        .map(|action| {
            let v = app.decide(p, action, facts);
            Permission {
                action: action.name().to_string(),
                allowed: v.allowed,
                policies: v.policies,
                reasons: v.reasons,
            }
        })
        .collect())
    }
    /// Consents, oldest first (lead agency and auditors only).
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<ConsentNode>> {
        let view = self.view(ctx).await?;
        Ok(person::consents(app(ctx)?, &self.0, &view)
            .await
            .gql()?
            .into_iter()
            .map(ConsentNode)
            .collect())
    }
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
        Ok(track_states(&workflow, &self.0, &language))
    }
    /// Facts recorded so far (procedural information, never personal data).
    /// Null (and listed in `redactedFields`) for agencies that do not lead the case.
    async fn facts(&self, ctx: &Context<'_>) -> Result<Option<Json<Value>>> {
        if !self.view(ctx).await?.sees_facts() {
            return Ok(None);
        }
        Ok(Some(Json(
            serde_json::to_value(&self.0.state.facts).unwrap_or_default(),
        )))
    }
    /// Empty (and listed in `redactedFields`) for agencies that do not lead the case.
    async fn timers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTimer>> {
        if !self.view(ctx).await?.sees_facts() {
            return Ok(Vec::new());
        }
        let app = app(ctx)?;
        let workflow = cases::workflow_of(app, &self.0).gql()?;
        Ok(case_timers(&workflow, &self.0, app.now(), &language))
    }
    /// The earlier case this one continues, if the caller may see it.
    async fn follows_case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        let Some(id) = self.0.follows_case_id else {
            return Ok(None);
        };
        Ok(cases::get_case(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?
            .map(CaseNode::new))
    }
    /// Later cases that continue this one (e.g. under the adult procedure), as far as the caller may see.
    async fn followed_by(&self, ctx: &Context<'_>) -> Result<Vec<CaseNode>> {
        Ok(cases::followers(app(ctx)?, principal(ctx)?, &self.0)
            .await
            .gql()?
            .into_iter()
            .map(CaseNode::new)
            .collect())
    }
    /// The case's deadlines (legal and procedural time limits), most urgent first.
    async fn deadlines(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseDeadline>> {
        if !self.view(ctx).await?.sees_facts() {
            return Ok(Vec::new());
        }
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
        if !self.view(ctx).await?.sees_facts() {
            return Ok(Vec::new());
        }
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let workflow = cases::workflow_of(app, &self.0).gql()?;
        Ok(
            crate::service::transitions::available_transitions(app, p, &workflow, &self.0)
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
                .collect(),
        )
    }
    /// Auditors only: the case as it stood at `at`, rebuilt from its events (null before it
    /// was opened).
    async fn as_of(
        &self,
        ctx: &Context<'_>,
        at: DateTime<Utc>,
    ) -> Result<Option<super::audit::CaseSnapshotNode>> {
        let snapshot = crate::service::audit::as_of(app(ctx)?, principal(ctx)?, &self.0, at)
            .await
            .gql()?;
        Ok(snapshot.map(|snapshot| super::audit::CaseSnapshotNode { snapshot, at }))
    }
    /// Auditors only: every disclosure of the case (referrals, transfers, break-glass), oldest
    /// first: what left to whom, when, under which consent or override.
    async fn disclosures(&self, ctx: &Context<'_>) -> Result<Vec<super::audit::DisclosureNode>> {
        Ok(
            crate::service::audit::disclosures(app(ctx)?, principal(ctx)?, &self.0)
                .await
                .gql()?
                .into_iter()
                .map(super::audit::DisclosureNode)
                .collect(),
        )
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
        // Participants see no history; a former lead sees it up to its hand-over.
        let Some(mut events) =
            cases::history_for(app, principal(ctx)?, &self.0, after_seq, limit + 1)
                .await
                .gql()?
        else {
            return Ok(Connection::new(false, false));
        };
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

/// The state of every started track of `case`.
pub fn track_states(workflow: &Workflow, case: &CaseRecord, language: &str) -> Vec<CaseTrackState> {
    workflow
        .tracks
        .iter()
        .filter_map(|t| {
            let state = workflow.state(case.state.tracks.get(&t.id)?)?;
            Some(CaseTrackState {
                track: t.id.clone(),
                state: state.id.clone(),
                stage: state.stage,
                label: state.label.get(language).to_string(),
                terminal: state.terminal,
                entered_at: case.entered_at.get(&t.id).copied(),
            })
        })
        .collect()
}

/// The timers of `case` as they stand at `now`.
pub fn case_timers(
    workflow: &Workflow,
    case: &CaseRecord,
    now: DateTime<Utc>,
    language: &str,
) -> Vec<CaseTimer> {
    case.state
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
                label: def.label.get(language).to_string(),
            })
        })
        .collect()
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
    pub actor: Option<crate::domain::User>,
    pub agency: crate::domain::Agency,
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
    async fn reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        // Free text stays with the agency that wrote it (and auditors): a new lead or a partner
        // sees what happened, not another agency's words.
        let p = principal(ctx)?;
        let shown =
            p.has(crate::domain::Role::Auditor) || p.agency_id == self.event.actor_agency_id;
        Ok(self.event.reason.as_deref().filter(|_| shown))
    }
    /// The facts the event recorded.
    async fn data(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.event.changes.facts).unwrap_or_default())
    }
    /// Every change the event made (track moves, facts, timers), as recorded.
    /// What a non-transition event touched (referral, transfer, consent, groups ...): ids and
    /// names only, never personal data.
    async fn details(&self) -> Option<Json<Value>> {
        self.event.details.clone().map(Json)
    }
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
    /// The case it belongs to, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(
            cases::get_case(app(ctx)?, principal(ctx)?, self.event.case_id)
                .await
                .gql()?
                .map(CaseNode::new),
        )
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
