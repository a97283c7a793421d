//! The `Case` object. Every field reads the case through its [`VisibleCase`]: what the caller
//! may not see has already been removed by the access model, and the sub-resources (history,
//! referrals, transfers, consents, personal data, route) come from services that apply the
//! same decision. No field here consults roles or views.

pub mod operations;
pub mod state;

pub use operations::{CaseMutation, CaseQuery};

use super::context::{app, loaders, page_size, principal};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::{CaseNode, EventNode};
use super::person::{AccessLogEntry, PersonalDataGroup};
use super::same_person::SamePersonLinkNode;
use super::workflow::WorkflowNode;
use crate::access::Relation;
use crate::domain::{
    Agency, BreakGlass, CaseStatus, ConsentRecord, Movement, ReferralRecord, TransferRecord,
};
use crate::service::{break_glass, cases, consents, person, referrals, timers, transfers};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use serde_json::Value;
use state::{AvailableTransition, CaseDeadline, CaseTimer, CaseTrackState};

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

#[Object(name = "Case")]
impl CaseNode {
    /// How the caller's agency stands towards the case; it decides what is shown.
    async fn access(&self) -> CaseAccess {
        match self.0.relation() {
            Relation::Auditor => CaseAccess::Auditor,
            Relation::Lead => CaseAccess::Lead,
            Relation::FormerLead { .. } => CaseAccess::FormerLead,
            Relation::Participant => CaseAccess::Participant,
            Relation::BreakGlass { .. } => CaseAccess::BreakGlass,
        }
    }
    /// The fields shown to the caller as null or empty because it may not see them (personal
    /// data groups as `personalData.<GROUP>`).
    async fn redacted_fields(&self) -> Vec<String> {
        self.0.redacted_fields()
    }
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    async fn origin_country(&self) -> Option<&str> {
        self.0.record().origin_country.as_deref()
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
        let data = person::personal_data(app(ctx)?, principal(ctx)?, &self.0, purpose.as_deref())
            .await
            .gql()?;
        Ok(data
            .into_iter()
            .map(|(group, read)| PersonalDataGroup::from((group, read)))
            .collect())
    }
    /// Every read of the case's personal data and every export of its case file, newest first:
    /// who, which agency, when, why, to whom and which groups (auditors only).
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 100)] first: i32,
    ) -> Result<Vec<AccessLogEntry>> {
        let limit = page_size(Some(first))?;
        let reads = person::access_log(app(ctx)?, principal(ctx)?, self.0.record(), limit)
            .await
            .gql()?;
        Ok(reads.into_iter().map(AccessLogEntry).collect())
    }
    /// Where the person has been, in date order. Places are shown only to agencies that may
    /// read the CONTACT group, and a route that shows any is recorded in the access log.
    async fn route(&self, ctx: &Context<'_>) -> Result<Vec<Movement>> {
        person::route(app(ctx)?, principal(ctx)?, &self.0)
            .await
            .gql()
    }
    /// Service referrals: all of them for the lead agency, the caller's own otherwise.
    async fn referrals(&self, ctx: &Context<'_>) -> Result<Vec<ReferralRecord>> {
        referrals::of_case(app(ctx)?, &self.0).await.gql()
    }
    /// Transfers of lead: all of them for the lead agency, the caller's own otherwise.
    async fn transfers(&self, ctx: &Context<'_>) -> Result<Vec<TransferRecord>> {
        transfers::of_case(app(ctx)?, &self.0).await.gql()
    }
    /// Break-glass accesses to the case (the lead agency and auditors see all; a user who opened
    /// one sees their own).
    async fn break_glass_accesses(&self, ctx: &Context<'_>) -> Result<Vec<BreakGlass>> {
        break_glass::of_case(app(ctx)?, &self.0).await.gql()
    }
    /// What the caller may do on this case, each with the policies that decided it.
    async fn permissions(&self, ctx: &Context<'_>) -> Result<Vec<Permission>> {
        Ok(cases::permissions(app(ctx)?, principal(ctx)?, &self.0)
            .into_iter()
            .map(|(action, v)| Permission {
                action: action.name().to_string(),
                allowed: v.allowed,
                policies: v.policies,
                reasons: v.reasons,
            })
            .collect())
    }
    /// Consents, oldest first (lead agency and auditors only).
    async fn consents(&self, ctx: &Context<'_>) -> Result<Vec<ConsentRecord>> {
        consents::consents(app(ctx)?, &self.0).await.gql()
    }
    pub async fn id(&self) -> ID {
        ids::encode("Case", &self.0.record().id.to_string())
    }
    /// Human reference, unique per country and year, e.g. `IT-2026-000123`.
    async fn reference(&self) -> &str {
        &self.0.record().reference
    }
    /// The workflow version the case is pinned to.
    async fn workflow(&self, ctx: &Context<'_>) -> Result<WorkflowNode> {
        Ok(WorkflowNode(app(ctx)?.workflow_of(self.0.record()).gql()?))
    }
    /// ISO 3166-1 alpha-2 country where the case was opened.
    async fn country(&self) -> &str {
        &self.0.record().country
    }
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.0.record().lead_agency_id).await
    }
    async fn status(&self) -> CaseStatus {
        self.0.record().status
    }
    /// Optimistic-concurrency token: pass it as `expectedVersion` when firing a transition.
    async fn version(&self) -> i64 {
        self.0.record().version
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.record().opened_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.record().updated_at
    }
    /// The current state of every started track.
    async fn states(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTrackState>> {
        let workflow = app(ctx)?.workflow_of(self.0.record()).gql()?;
        Ok(state::track_states(&workflow, self.0.record(), &language))
    }
    /// Facts recorded so far (procedural information, never personal data).
    /// Null (and listed in `redactedFields`) for agencies that do not lead the case.
    async fn facts(&self) -> Option<Json<Value>> {
        self.0
            .facts()
            .map(|f| Json(serde_json::to_value(f).unwrap_or_default()))
    }
    /// Empty (and listed in `redactedFields`) for agencies that do not lead the case.
    async fn timers(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<CaseTimer>> {
        let app = app(ctx)?;
        let workflow = app.workflow_of(self.0.record()).gql()?;
        Ok(state::case_timers(
            &workflow,
            self.0.record(),
            app.now(),
            &language,
        ))
    }
    /// The earlier case this one continues, if the caller may see it.
    async fn follows_case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        match self.0.record().follows_case_id {
            Some(id) => Ok(loaders(ctx)?.case(id).await?.map(CaseNode)),
            None => Ok(None),
        }
    }
    /// Cases of the same person linked to this one by an agency that found her again (by this
    /// case's agency, or by another to this case), oldest first: each names both cases by
    /// reference, and gives a case only where the caller may see it. Shown to the lead and to
    /// auditors (empty for others).
    async fn same_person_links(&self, ctx: &Context<'_>) -> Result<Vec<SamePersonLinkNode>> {
        Ok(crate::service::same_person::links_of(app(ctx)?, &self.0)
            .await
            .gql()?
            .into_iter()
            .map(SamePersonLinkNode)
            .collect())
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
        let workflow = app.workflow_of(self.0.record()).gql()?;
        Ok(state::case_deadlines(
            &workflow,
            timers::deadlines(app, self.0.record(), app.now()),
            &language,
        ))
    }
    /// Every transition from the case's current states, with whether the caller may fire it.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = "en")] language: String,
    ) -> Result<Vec<AvailableTransition>> {
        let app = app(ctx)?;
        let workflow = app.workflow_of(self.0.record()).gql()?;
        let available =
            crate::service::transitions::available_for(app, principal(ctx)?, &workflow, &self.0);
        Ok(state::available_transitions(
            &workflow,
            self.0.record(),
            available,
            &language,
        ))
    }
    /// Auditors only: the case as it stood at `at`, rebuilt from its events (null before it
    /// was opened).
    async fn as_of(
        &self,
        ctx: &Context<'_>,
        at: DateTime<Utc>,
    ) -> Result<Option<super::audit::CaseSnapshotNode>> {
        let snapshot =
            crate::service::audit::as_of(app(ctx)?, principal(ctx)?, self.0.record(), at)
                .await
                .gql()?;
        Ok(snapshot.map(|snapshot| super::audit::CaseSnapshotNode { snapshot, at }))
    }
    /// Auditors only: every disclosure of the case (referrals, transfers, break-glass), oldest
    /// first: what left to whom, when, under which consent or override.
    async fn disclosures(&self, ctx: &Context<'_>) -> Result<Vec<super::audit::DisclosureNode>> {
        Ok(
            crate::service::audit::disclosures(app(ctx)?, principal(ctx)?, self.0.record())
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
        let limit = page_size(first)?;
        let after_seq = match after {
            None => 0,
            Some(c) => ids::uncursor(&c)
                .and_then(|v| v.strip_prefix("seq:").and_then(|n| n.parse::<i64>().ok()))
                .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
        };
        // Participants see no history; a former lead sees it up to its hand-over.
        let Some(mut events) = cases::history(app(ctx)?, &self.0, after_seq, limit + 1)
            .await
            .gql()?
        else {
            return Ok(Connection::new(false, false));
        };
        let has_next = events.len() as u64 > limit;
        events.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after_seq > 0, has_next);
        connection.edges.extend(
            events
                .into_iter()
                .map(|e| Edge::new(ids::cursor(&format!("seq:{}", e.seq)), EventNode(e))),
        );
        Ok(connection)
    }
}
