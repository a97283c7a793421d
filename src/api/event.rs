//! The `CaseEvent` object: one recorded change to a case. An event reaches this module only
//! through a service that has applied the caller's view of its case (which events, and whose
//! reasons, are shown).

use super::context::loaders;
use super::ids;
use super::nodes::{CaseNode, EventNode};
use crate::domain::{Agency, DataGroup, EventKind, User};
use async_graphql::{Context, ID, Json, Object, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

#[Object(name = "CaseEvent")]
impl EventNode {
    pub async fn id(&self) -> ID {
        ids::encode("CaseEvent", &self.0.id.to_string())
    }
    /// Position in the case's history, from 1.
    async fn sequence(&self) -> i64 {
        self.0.seq
    }
    async fn kind(&self) -> EventKind {
        self.0.kind
    }
    async fn transition(&self) -> Option<&str> {
        self.0.transition.as_deref()
    }
    async fn track(&self) -> Option<&str> {
        self.0.track.as_deref()
    }
    async fn from_state(&self) -> Option<&str> {
        self.0.from_state.as_deref()
    }
    async fn to_state(&self) -> Option<&str> {
        self.0.to_state.as_deref()
    }
    /// Why, in the actor's words: shown to auditors, to the agency that wrote it, to the agency
    /// it is addressed to (the other party of a referral or transfer, the lead for a break-glass
    /// justification), and to an agency that may read every group in `reasonSharedAs` as the
    /// writer recorded them then; null otherwise, and listed in `redactedFields`.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// The personal-data groups the reason is shared as (empty: it stays with the agency that
    /// wrote it, its addressee and the auditors). Given with `fireTransition` and `migrateCase`
    /// (`reasonSharedAs`); a referral's or transfer's reason is shared as its groups.
    async fn reason_shared_as(&self) -> Vec<DataGroup> {
        self.0.reason_shared_as.iter().copied().collect()
    }
    /// The free texts withheld from the caller (shown as null): `reason`.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.0.withheld.clone()
    }
    /// The facts the event recorded.
    async fn data(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.0.changes.facts).unwrap_or_default())
    }
    /// Every change the event made (track moves, facts, timers), as recorded.
    /// What a non-transition event touched (referral, transfer, consent, groups ...): ids and
    /// names only, never personal data.
    async fn details(&self) -> Option<Json<Value>> {
        self.0.details.clone().map(Json)
    }
    async fn changes(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.0.changes).unwrap_or_default())
    }
    /// Who did it; null for events recorded by the service itself (`bySystem`).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        if self.0.actor_user_id.is_nil() {
            return Ok(None);
        }
        loaders(ctx)?.user(self.0.actor_user_id).await
    }
    /// Recorded by the service (e.g. a timer elapsing), not by a person.
    async fn by_system(&self) -> bool {
        self.0.actor_user_id.is_nil()
    }
    /// For `TIMER_ELAPSED` events: the timer.
    async fn timer(&self) -> Option<&str> {
        self.0.changes.timer_elapsed.as_deref()
    }
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.0.actor_agency_id).await
    }
    /// The case it belongs to, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(loaders(ctx)?.case(self.0.case_id).await?.map(CaseNode))
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    async fn workflow_key(&self) -> &str {
        &self.0.workflow_id
    }
    async fn workflow_version(&self) -> u32 {
        self.0.workflow_version
    }
    /// Hash of the previous event of the case (zeros for the first).
    async fn prev_hash(&self) -> &str {
        &self.0.prev_hash
    }
    /// SHA-256 over the previous hash and this event's content.
    async fn hash(&self) -> &str {
        &self.0.hash
    }
}
