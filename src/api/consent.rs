//! Consents: the `Consent` object, and recording and withdrawing consents.

use super::context::{app, loaders, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use super::nodes::CaseNode;
use crate::domain::{Agency, ConsentGiver, ConsentPurpose, ConsentRecord, DataGroup};
use crate::service::consents::{self, NewConsent};
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

#[ComplexObject]
impl ConsentRecord {
    pub async fn id(&self) -> ID {
        ids::encode("Consent", &self.id.to_string())
    }
    /// Agencies named in the consent.
    async fn agencies(&self, ctx: &Context<'_>) -> Result<Vec<Agency>> {
        let loaders = loaders(ctx)?;
        let mut out = Vec::new();
        for id in &self.agency_ids {
            out.push(loaders.agency(*id).await?);
        }
        Ok(out)
    }
    /// True until withdrawn.
    async fn in_force(&self) -> bool {
        self.withdrawn_at.is_none()
    }
    /// The free texts withheld from the caller (shown as null): `assentMissingReason`, which
    /// stays with the agency that recorded the consent and with auditors.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.withheld.clone()
    }
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
    pub consent: ConsentRecord,
    pub case: Option<CaseNode>,
}

/// Input of `withdrawConsent`.
#[derive(InputObject)]
pub struct WithdrawConsentInput {
    pub consent_id: ID,
    pub reason: Option<String>,
}

/// Changes to consents (merged into the `Mutation` root).
#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
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
        let consent = consents::record_consent(
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
            consent,
            case: loaders(ctx)?.case(case_id).await?.map(CaseNode),
        })
    }

    /// Withdraws a consent: referrals and transfers that rely on it are suspended at once.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        input: WithdrawConsentInput,
    ) -> Result<ConsentPayload> {
        let id = uuid_of(&input.consent_id, "Consent", "consentId")?;
        let consent = consents::withdraw_consent(app(ctx)?, principal(ctx)?, id, input.reason)
            .await
            .gql()?;
        let case = loaders(ctx)?.case(consent.case_id).await?.map(CaseNode);
        Ok(ConsentPayload { consent, case })
    }
}
