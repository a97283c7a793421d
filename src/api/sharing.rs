//! Cases across agencies and borders: referrals, transfers of lead, consents, the person's data
//! and route, and agencies' inboxes.

use super::case::CaseNode;
use super::directory::AgencyNode;
use super::error::{IntoGql, invalid};
use super::{app, ids, page_size, principal};
use crate::domain::ConsentRecord;
use crate::domain::Feedback;
use crate::domain::Ground;
use crate::domain::Movement;
use crate::domain::Notification;
use crate::domain::NotificationKind;
use crate::domain::ReferralRecord;
use crate::domain::TransferRecord;
use crate::domain::{
    ConsentGiver, ConsentPurpose, DataGroup, MovementSource, OverrideBasis, ReferralStatus,
    ServiceKind, TransferStatus,
};
use crate::service::person::{self, NewConsent, NewMovement};
use crate::service::referrals::{self, NewReferral, ReferralAction};
use crate::service::sharing::GroundRequest;
use crate::service::transfers::{self, NewTransfer, TransferAction};
use crate::service::{ServiceError, cases, directory, inbox};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use uuid::Uuid;

fn uuid_of(id: &ID, kind: &str, field: &str) -> Result<Uuid> {
    ids::decode_uuid(id, kind).ok_or_else(|| invalid(format!("malformed {field}")))
}

async fn agency_node(ctx: &Context<'_>, id: Uuid) -> Result<AgencyNode> {
    directory::agency(app(ctx)?, id)
        .await
        .gql()?
        .map(AgencyNode)
        .ok_or_else(|| ServiceError::NotFound("agency"))
        .gql()
}

async fn case_node(ctx: &Context<'_>, id: Uuid) -> Result<Option<CaseNode>> {
    Ok(cases::get_case(app(ctx)?, principal(ctx)?, id)
        .await
        .gql()?
        .map(CaseNode::new))
}

/// The legal ground of a disclosure.
#[derive(SimpleObject)]
pub struct DisclosureGround {
    /// The consent relied on, if any.
    pub consent_id: Option<ID>,
    /// The legal basis of an override (sharing without consent), if any.
    pub override_basis: Option<OverrideBasis>,
    pub override_justification: Option<String>,
}

fn ground(g: &Ground) -> DisclosureGround {
    match g {
        Ground::Consent(id) => DisclosureGround {
            consent_id: Some(ids::encode("Consent", &id.to_string())),
            override_basis: None,
            override_justification: None,
        },
        Ground::Override {
            basis,
            justification,
        } => DisclosureGround {
            consent_id: None,
            override_basis: Some(*basis),
            override_justification: Some(justification.clone()),
        },
    }
}

/// A service referral: one agency asks another for a service; the lead does not change.
pub struct ReferralNode(pub ReferralRecord);

#[Object(name = "Referral")]
impl ReferralNode {
    pub async fn id(&self) -> ID {
        ids::encode("Referral", &self.0.id.to_string())
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        case_node(ctx, self.0.case_id).await
    }
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.from_agency_id).await
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.to_agency_id).await
    }
    /// The agency that led the case when the referral was made (a snapshot).
    async fn lead_agency_at_referral(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.lead_agency_id).await
    }
    async fn service(&self) -> ServiceKind {
        self.0.service
    }
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }
    /// The disclosure manifest: exactly the data groups shared with the receiver.
    async fn shared_groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
    async fn ground(&self) -> DisclosureGround {
        ground(&self.0.ground)
    }
    async fn status(&self) -> ReferralStatus {
        self.0.status
    }
    /// Why it was declined, revoked, suspended, or completed without success.
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    /// For completed referrals: whether the service succeeded.
    async fn successful(&self) -> Option<bool> {
        self.0.outcome_successful
    }
    async fn respond_by(&self) -> DateTime<Utc> {
        self.0.response_due_at
    }
    /// When the overdue answer was escalated to the receiver's focal point.
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        self.0.escalated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A transfer of a case's lead to an agency in another country.
pub struct TransferNode(pub TransferRecord);

#[Object(name = "Transfer")]
impl TransferNode {
    pub async fn id(&self) -> ID {
        ids::encode("Transfer", &self.0.id.to_string())
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        case_node(ctx, self.0.case_id).await
    }
    /// The lead agency giving the case.
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.from_agency_id).await
    }
    /// The agency taking the lead.
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.to_agency_id).await
    }
    /// True when the receiving agency asked for the case (the lead decides).
    async fn requested_by_receiver(&self) -> bool {
        self.0.requested_by_receiver
    }
    /// The workflow's transfer step that accepting fires (and fired, once accepted).
    async fn transition(&self) -> Option<&str> {
        self.0.transition.as_deref()
    }
    /// The disclosure manifest: exactly the data groups the new lead receives.
    async fn shared_groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
    /// Null for a request the lead has not decided yet.
    async fn ground(&self) -> Option<DisclosureGround> {
        self.0.ground.as_ref().map(ground)
    }
    async fn status(&self) -> TransferStatus {
        self.0.status
    }
    async fn status_reason(&self) -> Option<&str> {
        self.0.status_reason.as_deref()
    }
    async fn respond_by(&self) -> DateTime<Utc> {
        self.0.response_due_at
    }
    async fn escalated_at(&self) -> Option<DateTime<Utc>> {
        self.0.escalated_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// Follow-up feedback from the new lead to the former lead, oldest first.
    async fn feedback(&self, ctx: &Context<'_>) -> Result<Vec<FeedbackNode>> {
        Ok(transfers::feedback(app(ctx)?, &self.0)
            .await
            .gql()?
            .into_iter()
            .map(FeedbackNode)
            .collect())
    }
}

/// Follow-up feedback on a transferred case.
pub struct FeedbackNode(pub Feedback);

#[Object(name = "Feedback")]
impl FeedbackNode {
    async fn id(&self) -> ID {
        ids::encode("Feedback", &self.0.id.to_string())
    }
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.from_agency_id).await
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.to_agency_id).await
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    async fn sent_at(&self) -> DateTime<Utc> {
        self.0.sent_at
    }
}

/// A consent: who gave it, for what, to whom, which data; it can be withdrawn.
pub struct ConsentNode(pub ConsentRecord);

#[Object(name = "Consent")]
impl ConsentNode {
    pub async fn id(&self) -> ID {
        ids::encode("Consent", &self.0.id.to_string())
    }
    async fn given_by(&self) -> ConsentGiver {
        self.0.given_by
    }
    /// For a child's consent given by the guardian: whether the child assented.
    async fn child_assent(&self) -> Option<bool> {
        self.0.child_assent
    }
    async fn assent_missing_reason(&self) -> Option<&str> {
        self.0.assent_missing_reason.as_deref()
    }
    async fn purposes(&self) -> Vec<ConsentPurpose> {
        self.0.purposes.iter().copied().collect()
    }
    /// Agencies named in the consent.
    async fn agencies(&self, ctx: &Context<'_>) -> Result<Vec<AgencyNode>> {
        let mut out = Vec::new();
        for id in &self.0.agency_ids {
            out.push(agency_node(ctx, *id).await?);
        }
        Ok(out)
    }
    /// Countries whose agencies are covered (ISO 3166-1 alpha-2).
    async fn countries(&self) -> Vec<String> {
        self.0.countries.iter().cloned().collect()
    }
    async fn data_groups(&self) -> Vec<DataGroup> {
        self.0.groups.iter().copied().collect()
    }
    async fn given_at(&self) -> DateTime<Utc> {
        self.0.given_at
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
    /// True until withdrawn.
    async fn in_force(&self) -> bool {
        self.0.withdrawn_at.is_none()
    }
}

/// A movement of the person: a country (and place) on a date.
pub struct MovementNode(pub Movement);

#[Object(name = "Movement")]
impl MovementNode {
    async fn id(&self) -> ID {
        ids::encode("Movement", &self.0.id.to_string())
    }
    /// ISO 3166-1 alpha-2.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Null unless the caller may read the CONTACT group.
    async fn place(&self) -> Option<&str> {
        self.0.place.as_deref()
    }
    async fn moved_on(&self) -> NaiveDate {
        self.0.moved_on
    }
    async fn source(&self) -> MovementSource {
        self.0.source
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// An entry of an agency's inbox. It carries references only, never personal data.
pub struct NotificationNode(pub Notification);

#[Object(name = "Notification")]
impl NotificationNode {
    pub async fn id(&self) -> ID {
        ids::encode("Notification", &self.0.id.to_string())
    }
    async fn kind(&self) -> NotificationKind {
        self.0.kind
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        match self.0.case_id {
            Some(id) => case_node(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The referral the entry is about (also for a focal point that is not party to it).
    async fn referral(&self, ctx: &Context<'_>) -> Result<Option<ReferralNode>> {
        Ok(
            referrals::referral_of_notification(app(ctx)?, principal(ctx)?, &self.0)
                .await
                .gql()?
                .map(ReferralNode),
        )
    }
    /// The transfer the entry is about.
    async fn transfer(&self, ctx: &Context<'_>) -> Result<Option<TransferNode>> {
        Ok(
            transfers::transfer_of_notification(app(ctx)?, principal(ctx)?, &self.0)
                .await
                .gql()?
                .map(TransferNode),
        )
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

fn cursor_uuid(after: Option<String>) -> Result<Option<Uuid>> {
    match after {
        None => Ok(None),
        Some(c) => ids::uncursor(&c)
            .and_then(|v| Uuid::parse_str(&v).ok())
            .map(Some)
            .ok_or_else(|| invalid("`after` is not a cursor of this list")),
    }
}

fn connection<T, N>(
    items: Vec<T>,
    limit: u64,
    had_cursor: bool,
    id: impl Fn(&T) -> Uuid,
    node: impl Fn(T) -> N,
) -> Connection<String, N>
where
    N: async_graphql::OutputType,
{
    let mut items = items;
    let has_next = items.len() as u64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut c = Connection::new(had_cursor, has_next);
    c.edges.extend(
        items
            .into_iter()
            .map(|i| Edge::new(ids::cursor(&id(&i).to_string()), node(i))),
    );
    c
}

/// Reads of referrals, transfers and inboxes.
#[derive(Default)]
pub struct SharingQuery;

#[Object]
impl SharingQuery {
    /// A referral the caller's agency sent or received.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ReferralNode>> {
        let id = uuid_of(&id, "Referral", "id")?;
        Ok(referrals::referral(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?
            .map(ReferralNode))
    }

    /// A transfer the caller's agency is party to.
    async fn transfer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<TransferNode>> {
        let id = uuid_of(&id, "Transfer", "id")?;
        Ok(transfers::transfer(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?
            .map(TransferNode))
    }

    /// The caller's agency's inbox, newest first.
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] unread_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, NotificationNode>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let items =
            inbox::notifications(app(ctx)?, principal(ctx)?, unread_only, cursor, limit + 1)
                .await
                .gql()?;
        Ok(connection(
            items,
            limit,
            cursor.is_some(),
            |n| n.id,
            NotificationNode,
        ))
    }

    /// Referrals addressed to the caller's agency (optionally in the given statuses), newest first.
    async fn incoming_referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: Vec<ReferralStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ReferralNode>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let items = referrals::incoming(app(ctx)?, principal(ctx)?, &status, cursor, limit + 1)
            .await
            .gql()?;
        Ok(connection(
            items,
            limit,
            cursor.is_some(),
            |r| r.id,
            ReferralNode,
        ))
    }

    /// Transfers waiting for the caller's agency to decide: offers to it, and requests for cases
    /// it leads; newest first.
    async fn transfers_awaiting_decision(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, TransferNode>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let items = transfers::awaiting(app(ctx)?, principal(ctx)?, cursor, limit + 1)
            .await
            .gql()?;
        Ok(connection(
            items,
            limit,
            cursor.is_some(),
            |t| t.id,
            TransferNode,
        ))
    }
}

/// Sharing without a covering consent, on a legal basis (supervisors and focal points only).
#[derive(InputObject)]
pub struct OverrideInput {
    pub basis: OverrideBasis,
    /// Why, in the user's words (recorded with the disclosure).
    pub justification: String,
}

fn ground_request(consent_id: Option<ID>, over: Option<OverrideInput>) -> Result<GroundRequest> {
    Ok(GroundRequest {
        consent_id: consent_id
            .map(|c| uuid_of(&c, "Consent", "consentId"))
            .transpose()?,
        override_basis: over.as_ref().map(|o| o.basis),
        override_justification: over.map(|o| o.justification),
    })
}

fn object_data(data: Option<Json<Value>>) -> Result<Map<String, Value>> {
    match data.map(|d| d.0) {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(invalid("data must be a JSON object")),
    }
}

/// Input of `recordPersonalData`.
#[derive(InputObject)]
pub struct RecordPersonalDataInput {
    pub case_id: ID,
    pub group: DataGroup,
    /// The group's content as a JSON object, e.g. for IDENTITY
    /// `{"names": ..., "dateOfBirth": ..., "sex": ..., "nationality": ..., "languages": [...]}`.
    pub value: Json<Value>,
}

/// Input of `setOriginCountry`.
#[derive(InputObject)]
pub struct SetOriginCountryInput {
    pub case_id: ID,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// Result of mutations that change a case's own record.
#[derive(SimpleObject)]
pub struct CasePayload {
    pub case: CaseNode,
}

/// Input of `recordMovement`.
#[derive(InputObject)]
pub struct RecordMovementInput {
    pub case_id: ID,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Town, border post, camp ... (shown only to agencies that may read CONTACT).
    pub place: Option<String>,
    pub moved_on: NaiveDate,
    pub source: MovementSource,
}

/// Result of `recordMovement`.
#[derive(SimpleObject)]
pub struct RecordMovementPayload {
    pub movement: MovementNode,
    pub case: Option<CaseNode>,
}

/// Input of `recordConsent`.
#[derive(InputObject)]
pub struct RecordConsentInput {
    pub case_id: ID,
    pub given_by: ConsentGiver,
    /// For a guardian's consent: whether the child assented.
    pub child_assent: Option<bool>,
    /// For a guardian's consent without the child's assent: why.
    pub assent_missing_reason: Option<String>,
    pub purposes: Vec<ConsentPurpose>,
    /// Agencies data may go to.
    #[graphql(default)]
    pub agency_ids: Vec<ID>,
    /// Countries whose agencies data may go to (ISO 3166-1 alpha-2). With neither agencies nor
    /// countries, the consent covers agencies in the case's own country.
    #[graphql(default)]
    pub countries: Vec<String>,
    pub data_groups: Vec<DataGroup>,
    /// When it was given (defaults to now).
    pub given_at: Option<DateTime<Utc>>,
}

/// Result of consent mutations.
#[derive(SimpleObject)]
pub struct ConsentPayload {
    pub consent: ConsentNode,
    pub case: Option<CaseNode>,
}

/// Input of `withdrawConsent`.
#[derive(InputObject)]
pub struct WithdrawConsentInput {
    pub consent_id: ID,
    pub reason: Option<String>,
}

/// Input of `makeReferral`.
#[derive(InputObject)]
pub struct MakeReferralInput {
    pub case_id: ID,
    pub to_agency_id: ID,
    pub service: ServiceKind,
    /// What the service is for.
    pub purpose: String,
    /// The disclosure manifest: the data groups the receiver may see.
    #[graphql(default)]
    pub shared_groups: Vec<DataGroup>,
    /// The consent relied on; when omitted (and no override), any consent in force that covers
    /// the referral is used.
    pub consent_id: Option<ID>,
    #[graphql(name = "override")]
    pub override_: Option<OverrideInput>,
    /// Days the receiver has to answer (default 5).
    pub respond_within_days: Option<u32>,
    pub expected_version: Option<i64>,
}

/// Result of referral mutations.
#[derive(SimpleObject)]
pub struct ReferralPayload {
    pub referral: ReferralNode,
}

/// Input of `acceptReferral`.
#[derive(InputObject)]
pub struct AcceptReferralInput {
    pub referral_id: ID,
}

/// Input of `declineReferral` and `revokeReferral`.
#[derive(InputObject)]
pub struct ReferralReasonInput {
    pub referral_id: ID,
    pub reason: Option<String>,
}

/// Input of `completeReferral`.
#[derive(InputObject)]
pub struct CompleteReferralInput {
    pub referral_id: ID,
    pub successful: bool,
    /// Required when not successful.
    pub reason: Option<String>,
}

/// Input of `offerTransfer`.
#[derive(InputObject)]
pub struct OfferTransferInput {
    pub case_id: ID,
    /// An agency in another country (typically the origin country's focal point or partner).
    pub to_agency_id: ID,
    /// The disclosure manifest: the data groups the new lead receives.
    pub shared_groups: Vec<DataGroup>,
    pub consent_id: Option<ID>,
    #[graphql(name = "override")]
    pub override_: Option<OverrideInput>,
    /// Facts the workflow's transfer step records (its inputs).
    pub data: Option<Json<Value>>,
    pub reason: Option<String>,
    /// Days the receiver has to answer (default 14).
    pub respond_within_days: Option<u32>,
    pub expected_version: Option<i64>,
}

/// Result of transfer mutations.
#[derive(SimpleObject)]
pub struct TransferPayload {
    pub transfer: TransferNode,
    /// The case after the change, if the caller may still see it.
    pub case: Option<CaseNode>,
}

/// Input of `acceptTransfer`.
#[derive(InputObject)]
pub struct AcceptTransferInput {
    pub transfer_id: ID,
    pub expected_version: Option<i64>,
}

/// Input of `rejectTransfer` and `revokeTransfer`.
#[derive(InputObject)]
pub struct TransferReasonInput {
    pub transfer_id: ID,
    pub reason: Option<String>,
}

/// Input of `requestTransfer`.
#[derive(InputObject)]
pub struct RequestTransferInput {
    pub case_id: ID,
    pub reason: String,
}

/// Input of `approveTransferRequest`.
#[derive(InputObject)]
pub struct ApproveTransferRequestInput {
    pub transfer_id: ID,
    pub shared_groups: Vec<DataGroup>,
    pub consent_id: Option<ID>,
    #[graphql(name = "override")]
    pub override_: Option<OverrideInput>,
    pub data: Option<Json<Value>>,
}

/// Input of `sendFeedback`.
#[derive(InputObject)]
pub struct SendFeedbackInput {
    pub transfer_id: ID,
    pub message: String,
}

/// Result of `sendFeedback`.
#[derive(SimpleObject)]
pub struct SendFeedbackPayload {
    pub feedback: FeedbackNode,
}

/// Input of `markNotificationRead`.
#[derive(InputObject)]
pub struct MarkNotificationReadInput {
    pub notification_id: ID,
}

/// Result of `markNotificationRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationReadPayload {
    pub notification: NotificationNode,
}

/// A break-glass access to a case.
pub struct BreakGlassNode(pub crate::domain::BreakGlass);

#[Object(name = "BreakGlassAccess")]
impl BreakGlassNode {
    async fn id(&self) -> ID {
        ids::encode("BreakGlassAccess", &self.0.id.to_string())
    }
    /// The agency of the user who opened the case.
    async fn agency(&self, ctx: &Context<'_>) -> Result<AgencyNode> {
        agency_node(ctx, self.0.agency_id).await
    }
    async fn justification(&self) -> &str {
        &self.0.justification
    }
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When the lead agency should have reviewed it.
    async fn review_due_at(&self) -> DateTime<Utc> {
        self.0.review_due_at
    }
    async fn reviewed_at(&self) -> Option<DateTime<Utc>> {
        self.0.reviewed_at
    }
    /// The review's judgement.
    async fn justified(&self) -> Option<bool> {
        self.0.justified
    }
    async fn review_note(&self) -> Option<&str> {
        self.0.review_note.as_deref()
    }
}

/// Input of `breakGlass`.
#[derive(InputObject)]
pub struct BreakGlassInput {
    /// The case's reference (e.g. given on the phone by the lead agency or the police).
    pub case_reference: String,
    /// Why it cannot wait (required; recorded in the case's history and shown to the lead).
    pub justification: String,
    /// How long (default 60, at most 1440 minutes).
    pub minutes: Option<u32>,
}

/// Result of `breakGlass`.
#[derive(SimpleObject)]
pub struct BreakGlassPayload {
    pub access: BreakGlassNode,
    pub case: CaseNode,
}

/// Input of `reviewBreakGlass`.
#[derive(InputObject)]
pub struct ReviewBreakGlassInput {
    pub access_id: ID,
    pub justified: bool,
    /// Required when not justified.
    pub note: Option<String>,
}

/// Result of `reviewBreakGlass`.
#[derive(SimpleObject)]
pub struct ReviewBreakGlassPayload {
    pub access: BreakGlassNode,
}

/// Changes across agencies and borders.
#[derive(Default)]
pub struct SharingMutation;

impl SharingMutation {
    async fn transfer_payload(ctx: &Context<'_>, t: TransferRecord) -> Result<TransferPayload> {
        let case = case_node(ctx, t.case_id).await?;
        Ok(TransferPayload {
            transfer: TransferNode(t),
            case,
        })
    }

    async fn act_on_referral(
        ctx: &Context<'_>,
        id: &ID,
        action: ReferralAction,
    ) -> Result<ReferralPayload> {
        let id = uuid_of(id, "Referral", "referralId")?;
        let r = referrals::act_on_referral(app(ctx)?, principal(ctx)?, id, action)
            .await
            .gql()?;
        Ok(ReferralPayload {
            referral: ReferralNode(r),
        })
    }

    async fn act_on_transfer(
        ctx: &Context<'_>,
        id: &ID,
        action: TransferAction,
        expected_version: Option<i64>,
    ) -> Result<TransferPayload> {
        let id = uuid_of(id, "Transfer", "transferId")?;
        let t =
            transfers::act_on_transfer(app(ctx)?, principal(ctx)?, id, action, expected_version)
                .await
                .gql()?;
        Self::transfer_payload(ctx, t).await
    }
}

#[Object]
impl SharingMutation {
    /// Records a new version of one group of the person's data (lead agency only). Earlier
    /// versions are kept: an agency that saw a version keeps seeing what it was shown.
    async fn record_personal_data(
        &self,
        ctx: &Context<'_>,
        input: RecordPersonalDataInput,
    ) -> Result<CasePayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let case = person::record_personal_data(
            app(ctx)?,
            principal(ctx)?,
            case_id,
            input.group,
            input.value.0,
        )
        .await
        .gql()?;
        Ok(CasePayload {
            case: CaseNode::new(case),
        })
    }

    /// Records the person's country of origin (lead agency only).
    async fn set_origin_country(
        &self,
        ctx: &Context<'_>,
        input: SetOriginCountryInput,
    ) -> Result<CasePayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let case = person::set_origin_country(app(ctx)?, principal(ctx)?, case_id, &input.country)
            .await
            .gql()?;
        Ok(CasePayload {
            case: CaseNode::new(case),
        })
    }

    /// Records a movement of the person (a country on the route; lead agency only).
    async fn record_movement(
        &self,
        ctx: &Context<'_>,
        input: RecordMovementInput,
    ) -> Result<RecordMovementPayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let movement = person::record_movement(
            app(ctx)?,
            principal(ctx)?,
            NewMovement {
                case_id,
                country: input.country,
                place: input.place,
                moved_on: input.moved_on,
                source: input.source,
            },
        )
        .await
        .gql()?;
        Ok(RecordMovementPayload {
            movement: MovementNode(movement),
            case: case_node(ctx, case_id).await?,
        })
    }

    /// Records a consent the person (or a child's guardian) gave (lead agency only).
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        input: RecordConsentInput,
    ) -> Result<ConsentPayload> {
        let app = app(ctx)?;
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let agency_ids = input
            .agency_ids
            .iter()
            .map(|a| uuid_of(a, "Agency", "agencyIds"))
            .collect::<Result<BTreeSet<_>>>()?;
        let consent = person::record_consent(
            app,
            principal(ctx)?,
            NewConsent {
                case_id,
                given_by: input.given_by,
                child_assent: input.child_assent,
                assent_missing_reason: input.assent_missing_reason,
                purposes: input.purposes.into_iter().collect(),
                agency_ids,
                countries: input.countries.into_iter().collect(),
                groups: input.data_groups.into_iter().collect(),
                given_at: input.given_at.unwrap_or_else(|| app.now()),
            },
        )
        .await
        .gql()?;
        Ok(ConsentPayload {
            consent: ConsentNode(consent),
            case: case_node(ctx, case_id).await?,
        })
    }

    /// Withdraws a consent: referrals and transfers that rely on it are suspended at once.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        input: WithdrawConsentInput,
    ) -> Result<ConsentPayload> {
        let id = uuid_of(&input.consent_id, "Consent", "consentId")?;
        let consent = person::withdraw_consent(app(ctx)?, principal(ctx)?, id, input.reason)
            .await
            .gql()?;
        let case = case_node(ctx, consent.case_id).await?;
        Ok(ConsentPayload {
            consent: ConsentNode(consent),
            case,
        })
    }

    /// Refers a case to another agency for a service, sharing exactly `sharedGroups`.
    async fn make_referral(
        &self,
        ctx: &Context<'_>,
        input: MakeReferralInput,
    ) -> Result<ReferralPayload> {
        let referral = referrals::make_referral(
            app(ctx)?,
            principal(ctx)?,
            NewReferral {
                case_id: uuid_of(&input.case_id, "Case", "caseId")?,
                to_agency_id: uuid_of(&input.to_agency_id, "Agency", "toAgencyId")?,
                service: input.service,
                purpose: input.purpose,
                groups: input.shared_groups.into_iter().collect(),
                ground: ground_request(input.consent_id, input.override_)?,
                respond_within_days: input.respond_within_days,
                expected_version: input.expected_version,
            },
        )
        .await
        .gql()?;
        Ok(ReferralPayload {
            referral: ReferralNode(referral),
        })
    }

    /// The receiving agency accepts a referral.
    async fn accept_referral(
        &self,
        ctx: &Context<'_>,
        input: AcceptReferralInput,
    ) -> Result<ReferralPayload> {
        Self::act_on_referral(ctx, &input.referral_id, ReferralAction::Accept).await
    }

    /// The receiving agency declines a referral (reason required).
    async fn decline_referral(
        &self,
        ctx: &Context<'_>,
        input: ReferralReasonInput,
    ) -> Result<ReferralPayload> {
        let reason = input.reason.unwrap_or_default();
        Self::act_on_referral(ctx, &input.referral_id, ReferralAction::Decline { reason }).await
    }

    /// The receiving agency ends an accepted referral, successfully or not (then with a reason).
    async fn complete_referral(
        &self,
        ctx: &Context<'_>,
        input: CompleteReferralInput,
    ) -> Result<ReferralPayload> {
        let action = ReferralAction::Complete {
            successful: input.successful,
            reason: input.reason,
        };
        Self::act_on_referral(ctx, &input.referral_id, action).await
    }

    /// The referring agency withdraws a referral.
    async fn revoke_referral(
        &self,
        ctx: &Context<'_>,
        input: ReferralReasonInput,
    ) -> Result<ReferralPayload> {
        let action = ReferralAction::Revoke {
            reason: input.reason,
        };
        Self::act_on_referral(ctx, &input.referral_id, action).await
    }

    /// The lead agency offers the case's lead to an agency in another country.
    async fn offer_transfer(
        &self,
        ctx: &Context<'_>,
        input: OfferTransferInput,
    ) -> Result<TransferPayload> {
        let t = transfers::offer_transfer(
            app(ctx)?,
            principal(ctx)?,
            NewTransfer {
                case_id: uuid_of(&input.case_id, "Case", "caseId")?,
                to_agency_id: uuid_of(&input.to_agency_id, "Agency", "toAgencyId")?,
                groups: input.shared_groups.into_iter().collect(),
                ground: ground_request(input.consent_id, input.override_)?,
                data: object_data(input.data)?,
                reason: input.reason,
                respond_within_days: input.respond_within_days,
                expected_version: input.expected_version,
            },
        )
        .await
        .gql()?;
        Self::transfer_payload(ctx, t).await
    }

    /// An agency that can see a case asks its lead to transfer it; the lead decides.
    async fn request_transfer(
        &self,
        ctx: &Context<'_>,
        input: RequestTransferInput,
    ) -> Result<TransferPayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let t = transfers::request_transfer(app(ctx)?, principal(ctx)?, case_id, input.reason)
            .await
            .gql()?;
        Self::transfer_payload(ctx, t).await
    }

    /// The receiving agency accepts an offered transfer: the workflow's transfer step fires and
    /// the lead moves to it, in one transaction.
    async fn accept_transfer(
        &self,
        ctx: &Context<'_>,
        input: AcceptTransferInput,
    ) -> Result<TransferPayload> {
        Self::act_on_transfer(
            ctx,
            &input.transfer_id,
            TransferAction::Accept,
            input.expected_version,
        )
        .await
    }

    /// The receiver refuses an offer, or the lead refuses a request (reason required).
    async fn reject_transfer(
        &self,
        ctx: &Context<'_>,
        input: TransferReasonInput,
    ) -> Result<TransferPayload> {
        let reason = input.reason.unwrap_or_default();
        Self::act_on_transfer(
            ctx,
            &input.transfer_id,
            TransferAction::Reject { reason },
            None,
        )
        .await
    }

    /// The lead withdraws its offer.
    async fn revoke_transfer(
        &self,
        ctx: &Context<'_>,
        input: TransferReasonInput,
    ) -> Result<TransferPayload> {
        let action = TransferAction::Revoke {
            reason: input.reason,
        };
        Self::act_on_transfer(ctx, &input.transfer_id, action, None).await
    }

    /// The lead grants a transfer request, sharing `sharedGroups`: the lead moves at once.
    async fn approve_transfer_request(
        &self,
        ctx: &Context<'_>,
        input: ApproveTransferRequestInput,
    ) -> Result<TransferPayload> {
        let action = TransferAction::Approve {
            groups: input.shared_groups.into_iter().collect(),
            ground: ground_request(input.consent_id, input.override_)?,
            data: object_data(input.data)?,
        };
        Self::act_on_transfer(ctx, &input.transfer_id, action, None).await
    }

    /// The new lead sends follow-up feedback to the agency that transferred the case.
    async fn send_feedback(
        &self,
        ctx: &Context<'_>,
        input: SendFeedbackInput,
    ) -> Result<SendFeedbackPayload> {
        let id = uuid_of(&input.transfer_id, "Transfer", "transferId")?;
        let f = transfers::send_feedback(app(ctx)?, principal(ctx)?, id, input.message)
            .await
            .gql()?;
        Ok(SendFeedbackPayload {
            feedback: FeedbackNode(f),
        })
    }

    /// Opens a case outside the caller's access for a limited time (break-glass): recorded in the
    /// case's history, the lead agency is told at once and reviews it afterwards. Never lifts a
    /// legal ban.
    async fn break_glass(
        &self,
        ctx: &Context<'_>,
        input: BreakGlassInput,
    ) -> Result<BreakGlassPayload> {
        let (case, access) = crate::service::break_glass::break_glass(
            app(ctx)?,
            principal(ctx)?,
            &input.case_reference,
            &input.justification,
            input.minutes,
        )
        .await
        .gql()?;
        Ok(BreakGlassPayload {
            access: BreakGlassNode(access),
            case: CaseNode::new(case),
        })
    }

    /// A supervisor of the lead agency judges a break-glass access (a note is required when it
    /// was not justified).
    async fn review_break_glass(
        &self,
        ctx: &Context<'_>,
        input: ReviewBreakGlassInput,
    ) -> Result<ReviewBreakGlassPayload> {
        let id = uuid_of(&input.access_id, "BreakGlassAccess", "accessId")?;
        let access = crate::service::break_glass::review(
            app(ctx)?,
            principal(ctx)?,
            id,
            input.justified,
            input.note,
        )
        .await
        .gql()?;
        Ok(ReviewBreakGlassPayload {
            access: BreakGlassNode(access),
        })
    }

    /// Marks an inbox entry of the caller's agency read.
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationReadInput,
    ) -> Result<MarkNotificationReadPayload> {
        let id = uuid_of(&input.notification_id, "Notification", "notificationId")?;
        let n = inbox::mark_read(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?;
        Ok(MarkNotificationReadPayload {
            notification: NotificationNode(n),
        })
    }
}
