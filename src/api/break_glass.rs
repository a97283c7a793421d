//! Break-glass: the `BreakGlassAccess` object, opening a case outside one's access in an
//! emergency, and its review by the lead agency.

use super::case::operations::seen;
use super::context::{app, loaders, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use super::nodes::CaseNode;
use crate::access::free_text;
use crate::domain::{Agency, BreakGlass};
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};

#[ComplexObject]
impl BreakGlass {
    async fn id(&self) -> ID {
        ids::encode("BreakGlassAccess", &self.id.to_string())
    }
    /// The agency of the user who opened the case.
    async fn agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.agency_id).await
    }
    /// Why it could not wait: written for oversight, shown to the agency that opened the case,
    /// to the agency that led the case then (which reviews it) and to auditors (null otherwise,
    /// and listed in `redactedFields`).
    async fn justification(&self) -> Option<&str> {
        (!self.withheld.contains(&free_text::JUSTIFICATION)).then_some(self.justification.as_str())
    }
    /// The free texts withheld from the caller (shown as null): `justification`, `reviewNote`.
    async fn redacted_fields(&self) -> Vec<&'static str> {
        self.withheld.clone()
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
    pub access: BreakGlass,
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
    pub access: BreakGlass,
}

/// Break-glass access and its review (merged into the `Mutation` root).
#[derive(Default)]
pub struct BreakGlassMutation;

#[Object]
impl BreakGlassMutation {
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
            access,
            case: seen(app(ctx)?, principal(ctx)?, case).await?,
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
        Ok(ReviewBreakGlassPayload { access })
    }
}
