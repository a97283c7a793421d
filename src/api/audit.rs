//! Auditors' view of the tamper-evident log: verification, checkpoints, inclusion and
//! consistency proofs. Every field here needs the `read_audit` permission (auditors).

use super::case::state::{CaseTimer, CaseTrackState, case_timers, track_states};
use super::context::{app, loaders, page_size, principal};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::EventNode;
use super::workflow::WorkflowNode;
use crate::audit::replay::Snapshot;
use crate::domain::{
    Agency, CaseStatus, ConsentRecord, DataGroup, EventKind, Ground, OverrideBasis,
};
use crate::service::audit::{self as audit_service, Disclosure, DisclosureKind, EventSearch};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use uuid::Uuid;

/// Reads of the audit log (merged into the `Query` root).
#[derive(Default)]
pub struct AuditQuery;

/// What to search events by (`auditEvents`); every given filter must hold.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Events of this case.
    pub case_id: Option<ID>,
    /// Events recorded by this agency.
    pub agency_id: Option<ID>,
    /// Events recorded by this user.
    pub actor_id: Option<ID>,
    pub kind: Option<EventKind>,
    /// Firings of this workflow transition (its key).
    pub transition: Option<String>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub until: Option<DateTime<Utc>>,
    /// Recorded under this workflow (its key) ...
    pub workflow_key: Option<String>,
    /// ... and this version of it ("decided under version X").
    pub workflow_version: Option<u32>,
    /// Events of the case with this human reference (e.g. `IT-2026-000123`).
    pub case_reference: Option<String>,
    /// Events of cases opened in this country (ISO 3166-1 alpha-2).
    pub case_country: Option<String>,
}

fn decode(id: &Option<ID>, kind: &str) -> Result<Option<Uuid>> {
    match id {
        None => Ok(None),
        Some(id) => ids::decode_uuid(id, kind)
            .map(Some)
            .ok_or_else(|| invalid(format!("malformed {kind} ID"))),
    }
}

impl AuditEventFilter {
    fn search(&self) -> Result<EventSearch> {
        Ok(EventSearch {
            case_id: decode(&self.case_id, "Case")?,
            agency_id: decode(&self.agency_id, "Agency")?,
            actor_user_id: decode(&self.actor_id, "User")?,
            kind: self.kind,
            transition: self.transition.clone(),
            from: self.from,
            until: self.until,
            workflow_id: self.workflow_key.clone(),
            workflow_version: self.workflow_version,
            case_reference: self
                .case_reference
                .as_deref()
                .map(str::trim)
                .map(str::to_string),
            case_country: self
                .case_country
                .as_deref()
                .map(|c| c.trim().to_ascii_uppercase()),
        })
    }
}

fn event_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    ids::cursor(&format!(
        "ev:{}|{id}",
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    ))
}

fn event_uncursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let value = ids::uncursor(cursor)?;
    let (at, id) = value.strip_prefix("ev:")?.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        Uuid::parse_str(id).ok()?,
    ))
}

/// One disclosure of a case: what left to whom, when, under which consent or override.
pub struct DisclosureNode(pub Disclosure);

#[Object(name = "Disclosure")]
impl DisclosureNode {
    async fn kind(&self) -> DisclosureKind {
        self.0.kind
    }
    /// The referral, transfer or break-glass access (for a match, its access-log entry).
    async fn id(&self) -> ID {
        let kind = match self.0.kind {
            DisclosureKind::Referral => "Referral",
            DisclosureKind::Transfer => "Transfer",
            DisclosureKind::BreakGlass => "BreakGlassAccess",
            DisclosureKind::Match => "AccessLogEntry",
        };
        ids::encode(kind, &self.0.id.to_string())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The agency that disclosed (the lead then); null for break-glass and a match.
    #[graphql(name = "fromAgency")]
    async fn disclosing_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.0.from_agency_id {
            Some(id) => loaders(ctx)?.agency(id).await.map(Some),
            None => Ok(None),
        }
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        loaders(ctx)?.agency(self.0.to_agency_id).await.map(Some)
    }
    /// Exactly the groups made visible to the receiver.
    async fn shared_groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
    /// The consent it relied on, if any.
    async fn consent(&self, ctx: &Context<'_>) -> Result<Option<ConsentRecord>> {
        let Some(Ground::Consent(id)) = &self.0.ground else {
            return Ok(None);
        };
        audit_service::consent(app(ctx)?, *id).await.gql()
    }
    /// The override's legal basis, when it relied on one instead of a consent.
    async fn override_basis(&self) -> Option<OverrideBasis> {
        match &self.0.ground {
            Some(Ground::Override { basis, .. }) => Some(*basis),
            _ => None,
        }
    }
    async fn override_justification(&self) -> Option<&str> {
        match &self.0.ground {
            Some(Ground::Override { justification, .. }) => Some(justification),
            _ => None,
        }
    }
    /// The referral's or transfer's status now, or ACTIVE / EXPIRED for break-glass.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// The referral's purpose, or the break-glass justification.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// A case as it stood at a moment, rebuilt from its events alone.
pub struct CaseSnapshotNode {
    pub snapshot: Snapshot,
    pub at: DateTime<Utc>,
}

#[Object(name = "CaseSnapshot")]
impl CaseSnapshotNode {
    /// The moment asked for.
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    async fn reference(&self) -> &str {
        &self.snapshot.record.reference
    }
    /// The case's version then (its number of events).
    async fn version(&self) -> i64 {
        self.snapshot.record.version
    }
    /// The workflow version the case was under then.
    async fn workflow(&self, ctx: &Context<'_>) -> Result<WorkflowNode> {
        Ok(WorkflowNode(
            app(ctx)?.workflow_of(&self.snapshot.record).gql()?,
        ))
    }
    async fn status(&self) -> CaseStatus {
        self.snapshot.record.status
    }
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        loaders(ctx)?
            .agency(self.snapshot.record.lead_agency_id)
            .await
            .map(Some)
    }
    async fn origin_country(&self) -> Option<&str> {
        self.snapshot.record.origin_country.as_deref()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.snapshot.record.updated_at
    }
    async fn states(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTrackState>> {
        let workflow = app(ctx)?.workflow_of(&self.snapshot.record).gql()?;
        Ok(track_states(&workflow, &self.snapshot.record, &language))
    }
    async fn facts(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.snapshot.record.state.facts).unwrap_or_default())
    }
    /// The timers as they stood at that moment.
    async fn timers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTimer>> {
        let workflow = app(ctx)?.workflow_of(&self.snapshot.record).gql()?;
        Ok(case_timers(
            &workflow,
            &self.snapshot.record,
            self.at,
            &language,
        ))
    }
    /// The last event recorded by then.
    async fn last_event(&self) -> Option<EventNode> {
        Some(EventNode(self.snapshot.last_event.clone()))
    }
}

#[Object]
impl AuditQuery {
    /// Events across all cases, in time order: by case, acting agency or user, kind,
    /// transition, time range, and the workflow version they were decided under.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditEventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, EventNode>> {
        let app = app(ctx)?;
        let limit = page_size(first)?;
        let after = match after {
            None => None,
            Some(c) => Some(
                event_uncursor(&c)
                    .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
            ),
        };
        let search = filter.unwrap_or_default().search()?;
        let mut events =
            crate::service::audit::search_events(app, principal(ctx)?, &search, after, limit + 1)
                .await
                .gql()?;
        let has_next = events.len() as u64 > limit;
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            events
                .into_iter()
                .map(|e| Edge::new(event_cursor(e.occurred_at, e.id), EventNode(e))),
        );
        Ok(connection)
    }
}
