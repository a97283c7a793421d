//! Transfers of lead: the `Transfer` and `Feedback` objects, `transfer` and
//! `transfersAwaitingDecision`, and offering, requesting, accepting, rejecting, revoking and
//! approving transfers, and follow-up feedback.

use super::context::{app, connection, cursor_uuid, loaders, page_size, principal, uuid_of};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::CaseNode;
use super::referral::{DisclosureGround, OverrideInput, ground, ground_request};
use crate::access::free_text;
use crate::domain::{Agency, DataGroup, Feedback, TransferRecord};
use crate::service::transfer_decisions::{self, TransferAction};
use crate::service::transfers::{self, NewTransfer};
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, InputObject, Json, Object, Result, SimpleObject};
use serde_json::{Map, Value};

#[ComplexObject]
impl TransferRecord {
    pub async fn id(&self) -> ID {
        ids::encode("Transfer", &self.id.to_string())
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(loaders(ctx)?.case(self.case_id).await?.map(CaseNode))
    }
    /// The lead agency giving the case.
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.from_agency_id).await
    }
    /// The agency taking the lead.
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.to_agency_id).await
    }
    /// Null for a request the lead has not decided yet.
    #[graphql(name = "ground")]
    async fn disclosure_ground(&self) -> Option<DisclosureGround> {
        self.ground.as_ref().map(|g| ground(g, &self.withheld))
    }
    /// The free texts withheld from the caller (shown as null): `statusReason`,
    /// `ground.overrideJustification`. A text is shown to auditors, to the agency that wrote
    /// it, to the other party, and to an agency that may read every data group the transfer
    /// shares; to no one else.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.withheld.clone()
    }
    /// Follow-up feedback from the new lead to the former lead, oldest first.
    async fn feedback(&self, ctx: &Context<'_>) -> Result<Vec<Feedback>> {
        transfers::feedback(app(ctx)?, principal(ctx)?, self)
            .await
            .gql()
    }
}

#[ComplexObject]
impl Feedback {
    async fn id(&self) -> ID {
        ids::encode("Feedback", &self.id.to_string())
    }
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.from_agency_id).await
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.to_agency_id).await
    }
    /// The new lead's words to the former lead: shown to those two agencies and to auditors
    /// (null otherwise, and listed in `redactedFields`).
    async fn message(&self) -> Option<&str> {
        (!self.withheld.contains(&free_text::MESSAGE)).then_some(self.message.as_str())
    }
    /// The free texts withheld from the caller (shown as null): `message`.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.withheld.clone()
    }
}

pub(super) fn object_data(data: Option<Json<Value>>) -> Result<Map<String, Value>> {
    match data.map(|d| d.0) {
        None => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m),
        Some(_) => Err(invalid("data must be a JSON object")),
    }
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
    pub transfer: TransferRecord,
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
    pub feedback: Feedback,
}

/// Reads of transfers (merged into the `Query` root).
#[derive(Default)]
pub struct TransferQuery;

#[Object]
impl TransferQuery {
    /// A transfer the caller's agency is party to.
    async fn transfer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<TransferRecord>> {
        let id = uuid_of(&id, "Transfer", "id")?;
        transfers::transfer(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()
    }

    /// Transfers waiting for the caller's agency to decide: offers to it, and requests for cases
    /// it leads; newest first.
    async fn transfers_awaiting_decision(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, TransferRecord>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let items = transfers::awaiting(app(ctx)?, principal(ctx)?, cursor, limit + 1)
            .await
            .gql()?;
        Ok(connection(items, limit, cursor.is_some(), |t| t.id, |t| t))
    }
}

/// Changes to transfers (merged into the `Mutation` root).
#[derive(Default)]
pub struct TransferMutation;

impl TransferMutation {
    async fn transfer_payload(ctx: &Context<'_>, t: TransferRecord) -> Result<TransferPayload> {
        let case = loaders(ctx)?.case(t.case_id).await?.map(CaseNode);
        Ok(TransferPayload { transfer: t, case })
    }

    async fn act_on_transfer(
        ctx: &Context<'_>,
        id: &ID,
        action: TransferAction,
        expected_version: Option<i64>,
    ) -> Result<TransferPayload> {
        let id = uuid_of(id, "Transfer", "transferId")?;
        let t = transfer_decisions::act_on_transfer(
            app(ctx)?,
            principal(ctx)?,
            id,
            action,
            expected_version,
        )
        .await
        .gql()?;
        Self::transfer_payload(ctx, t).await
    }
}

#[Object]
impl TransferMutation {
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
        let f = transfer_decisions::send_feedback(app(ctx)?, principal(ctx)?, id, input.message)
            .await
            .gql()?;
        Ok(SendFeedbackPayload { feedback: f })
    }
}
