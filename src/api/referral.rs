//! Service referrals: the `Referral` object, `referral` and `incomingReferrals`, and making,
//! answering, completing and revoking them.

use super::context::{app, connection, cursor_uuid, loaders, page_size, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use super::nodes::CaseNode;
use crate::access::free_text;
use crate::domain::{
    Agency, DataGroup, Ground, OverrideBasis, ReferralRecord, ReferralStatus, ServiceKind,
};
use crate::service::disclosure::GroundRequest;
use crate::service::referrals::{self, NewReferral, ReferralAction};
use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};

/// The legal ground of a disclosure.
#[derive(SimpleObject)]
pub struct DisclosureGround {
    /// The consent relied on, if any.
    pub consent_id: Option<ID>,
    /// The legal basis of an override (sharing without consent), if any.
    pub override_basis: Option<OverrideBasis>,
    /// Why, in the sender's words: a free text shown to the parties, to auditors and to whoever
    /// may read the groups shared (null otherwise, and listed in the referral's or transfer's
    /// `redactedFields` as `ground.overrideJustification`).
    pub override_justification: Option<String>,
}

/// The ground of a disclosure as the API shows it, to a caller from whom the free texts
/// `withheld` were withheld.
pub fn ground(g: &Ground, withheld: &[&str]) -> DisclosureGround {
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
            override_justification: (!withheld.contains(&free_text::OVERRIDE_JUSTIFICATION))
                .then(|| justification.clone()),
        },
    }
}

#[ComplexObject]
impl ReferralRecord {
    pub async fn id(&self) -> ID {
        ids::encode("Referral", &self.id.to_string())
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(loaders(ctx)?.case(self.case_id).await?.map(CaseNode))
    }
    #[graphql(name = "fromAgency")]
    async fn sending_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.from_agency_id).await
    }
    async fn to_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.to_agency_id).await
    }
    /// The agency that led the case when the referral was made (a snapshot).
    async fn lead_agency_at_referral(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.lead_agency_id).await
    }
    #[graphql(name = "ground")]
    async fn disclosure_ground(&self) -> DisclosureGround {
        ground(&self.ground, &self.withheld)
    }
    /// What the service is for, in the sender's words: shown to the two parties, to auditors and
    /// to whoever may read every group the referral shares (null otherwise, and listed in
    /// `redactedFields`).
    async fn purpose(&self) -> Option<&str> {
        (!self.withheld.contains(&free_text::PURPOSE)).then_some(self.purpose.as_str())
    }
    /// The free texts withheld from the caller (shown as null): `purpose`, `statusReason`,
    /// `ground.overrideJustification`. A text is shown to auditors, to the agency that wrote
    /// it, to the agency it is addressed to (the other party), and to an agency that may read
    /// every data group the referral shares; to no one else.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.withheld.clone()
    }
}

/// Sharing without a covering consent, on a legal basis (supervisors and focal points only).
#[derive(InputObject)]
pub struct OverrideInput {
    pub basis: OverrideBasis,
    /// Why, in the user's words (recorded with the disclosure).
    pub justification: String,
}

/// What a disclosure relies on, from the inputs that name it.
pub fn ground_request(
    consent_id: Option<ID>,
    over: Option<OverrideInput>,
) -> Result<GroundRequest> {
    Ok(GroundRequest {
        consent_id: consent_id
            .map(|c| uuid_of(&c, "Consent", "consentId"))
            .transpose()?,
        override_basis: over.as_ref().map(|o| o.basis),
        override_justification: over.map(|o| o.justification),
    })
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
    pub referral: ReferralRecord,
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

/// Reads of referrals (merged into the `Query` root).
#[derive(Default)]
pub struct ReferralQuery;

#[Object]
impl ReferralQuery {
    /// A referral the caller's agency sent or received.
    async fn referral(&self, ctx: &Context<'_>, id: ID) -> Result<Option<ReferralRecord>> {
        let id = uuid_of(&id, "Referral", "id")?;
        referrals::referral(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()
    }

    /// Referrals addressed to the caller's agency (optionally in the given statuses), newest first.
    async fn incoming_referrals(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: Vec<ReferralStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, ReferralRecord>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let items = referrals::incoming(app(ctx)?, principal(ctx)?, &status, cursor, limit + 1)
            .await
            .gql()?;
        Ok(connection(items, limit, cursor.is_some(), |r| r.id, |r| r))
    }
}

/// Changes to referrals (merged into the `Mutation` root).
#[derive(Default)]
pub struct ReferralMutation;

impl ReferralMutation {
    async fn act_on_referral(
        ctx: &Context<'_>,
        id: &ID,
        action: ReferralAction,
    ) -> Result<ReferralPayload> {
        let id = uuid_of(id, "Referral", "referralId")?;
        let r = referrals::act_on_referral(app(ctx)?, principal(ctx)?, id, action)
            .await
            .gql()?;
        Ok(ReferralPayload { referral: r })
    }
}

#[Object]
impl ReferralMutation {
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
        Ok(ReferralPayload { referral })
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
}
