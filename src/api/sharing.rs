//! Previews of sharing: `previewReferral` and `previewTransfer` answer, without changing
//! anything, exactly what `makeReferral` or `offerTransfer` with the same input would carry now
//! (the disclosure manifest) and every reason it would be refused, from the checks the
//! mutations apply ([`crate::service::sharing::check`]).

use super::case::state::UnmetGuard;
use super::context::{app, principal, uuid_of};
use super::error::{IntoGql, code};
use super::referral::{DisclosureGround, MakeReferralInput, ground, ground_request};
use super::transfer::{OfferTransferInput, object_data};
use crate::domain::{Agency, DataGroup};
use crate::service::ServiceError;
use crate::service::sharing::{self, Act, Manifest, Proposal};
use async_graphql::{Context, Object, Result, SimpleObject};
use std::collections::BTreeSet;

/// Why a referral or transfer would be refused, as the mutation would say it.
#[derive(SimpleObject)]
pub struct SharingRefusal {
    /// The error code the mutation would answer with: `CONSENT_REQUIRED` (no consent in force
    /// covers it; the right consent, or an override, would), `LEGAL_BAN` (the law forbids it,
    /// whoever asks), `FORBIDDEN`, `VALIDATION`, `GUARD_FAILED`, `INVALID_TRANSITION`,
    /// `NOT_FOUND`, `VERSION_CONFLICT`.
    pub code: String,
    pub message: String,
    /// For `GUARD_FAILED`: the unmet guards of the workflow's transfer step.
    pub unmet_guards: Vec<UnmetGuard>,
}

/// A free text that goes with the referral or transfer: addressed to the receiver, shared as
/// the manifest's groups (who else reads it follows from that, by the one rule of free text).
#[derive(SimpleObject)]
pub struct SharedText {
    /// Its field on the referral or transfer: `purpose`, `reason`,
    /// `ground.overrideJustification`.
    pub field: String,
    pub shared_as: Vec<DataGroup>,
}

/// What a referral or transfer would carry if made now, and why it would be refused.
#[derive(SimpleObject)]
pub struct DisclosureManifest {
    /// Whether the mutation with this input would go through now (no refusal).
    pub allowed: bool,
    /// Why it would be refused, in the order the mutation meets them (the first is the error
    /// it would answer with).
    pub refusals: Vec<SharingRefusal>,
    /// The receiving agency (null when it does not exist).
    pub to_agency: Option<Agency>,
    /// The disclosure manifest: exactly the personal-data groups the receiver would see.
    pub shared_groups: Vec<DataGroup>,
    /// Every other group: withheld from the receiver.
    pub withheld_groups: Vec<DataGroup>,
    /// The ground the mutation would record: the named consent, the override, or (neither
    /// named) the covering consent it would find; null when there is none.
    pub ground: Option<DisclosureGround>,
    /// The free texts that would go with it.
    pub shared_texts: Vec<SharedText>,
    /// For a transfer: the workflow's transfer step its acceptance fires.
    pub transition: Option<String>,
    /// Days the receiver would have to answer.
    pub respond_within_days: u32,
}

fn refusal(e: &ServiceError) -> SharingRefusal {
    let unmet_guards = match e {
        ServiceError::GuardFailed { unmet, .. } => unmet
            .iter()
            .map(|u| UnmetGuard {
                name: u.name.clone(),
                reason: u.reason.clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    SharingRefusal {
        code: code(e).to_string(),
        message: e.to_string(),
        unmet_guards,
    }
}

impl From<Manifest> for DisclosureManifest {
    fn from(m: Manifest) -> Self {
        DisclosureManifest {
            allowed: m.refusals.is_empty(),
            refusals: m.refusals.iter().map(refusal).collect(),
            to_agency: m.to,
            shared_groups: m.shared.iter().copied().collect(),
            withheld_groups: DataGroup::ALL
                .iter()
                .copied()
                .filter(|g| !m.shared.contains(g))
                .collect(),
            // The sender wrote the justification: it reads it back whole.
            ground: m.ground.as_ref().map(|g| ground(g, &[])),
            shared_texts: m
                .texts
                .into_iter()
                .map(|t| SharedText {
                    field: t.name.to_string(),
                    shared_as: t.shared_as.into_iter().collect(),
                })
                .collect(),
            transition: m.transition,
            respond_within_days: m.respond_within_days,
        }
    }
}

/// Previews of sharing (merged into the `Query` root).
#[derive(Default)]
pub struct SharingQuery;

#[Object]
impl SharingQuery {
    /// What `makeReferral` with this input would share now, and why it would be refused:
    /// the same checks, nothing changed or recorded.
    async fn preview_referral(
        &self,
        ctx: &Context<'_>,
        input: MakeReferralInput,
    ) -> Result<DisclosureManifest> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let groups: BTreeSet<DataGroup> = input.shared_groups.into_iter().collect();
        let ground_request = ground_request(input.consent_id, input.override_)?;
        let proposal = Proposal {
            act: Act::Referral {
                purpose: &input.purpose,
            },
            to_agency_id: uuid_of(&input.to_agency_id, "Agency", "toAgencyId")?,
            groups: &groups,
            ground: &ground_request,
            respond_within_days: input.respond_within_days,
            expected_version: input.expected_version,
        };
        let manifest = sharing::preview(app(ctx)?, principal(ctx)?, case_id, proposal)
            .await
            .gql()?;
        Ok(manifest.into())
    }

    /// What `offerTransfer` with this input would share now, and why it would be refused:
    /// the same checks (the transfer step's guards included), nothing changed or recorded.
    async fn preview_transfer(
        &self,
        ctx: &Context<'_>,
        input: OfferTransferInput,
    ) -> Result<DisclosureManifest> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let groups: BTreeSet<DataGroup> = input.shared_groups.into_iter().collect();
        let ground_request = ground_request(input.consent_id, input.override_)?;
        let data = object_data(input.data)?;
        let proposal = Proposal {
            act: Act::Transfer {
                data: &data,
                reason: input.reason.as_deref(),
            },
            to_agency_id: uuid_of(&input.to_agency_id, "Agency", "toAgencyId")?,
            groups: &groups,
            ground: &ground_request,
            respond_within_days: input.respond_within_days,
            expected_version: input.expected_version,
        };
        let manifest = sharing::preview(app(ctx)?, principal(ctx)?, case_id, proposal)
            .await
            .gql()?;
        Ok(manifest.into())
    }
}
