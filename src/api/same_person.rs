//! The same person again: the `SamePersonLink` object, looking for earlier cases of a case's
//! person (`findEarlierCases`: told only that a case exists and who leads it) and linking a
//! case to an earlier one by its reference (`linkSamePerson`).

use super::case::operations::seen;
use super::context::{app, loaders, principal, uuid_of};
use super::error::IntoGql;
use super::ids;
use super::nodes::CaseNode;
use crate::domain::{Agency, SamePersonLink};
use crate::service::same_person::{self, LinkSamePerson, Search};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

/// A case linked to an earlier case of the same person by the agency that found her again. It
/// names both cases by reference; a case is given only where the caller may see it: the link
/// itself gives no access.
pub struct SamePersonLinkNode(pub SamePersonLink);

#[Object(name = "SamePersonLink")]
impl SamePersonLinkNode {
    async fn id(&self) -> ID {
        ids::encode("SamePersonLink", &self.0.id.to_string())
    }
    /// The reference of the case of the agency that found her again.
    async fn reference(&self) -> &str {
        &self.0.case_reference
    }
    /// That case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(loaders(ctx)?.case(self.0.case_id).await?.map(CaseNode))
    }
    /// The reference of the earlier case.
    async fn earlier_reference(&self) -> &str {
        &self.0.earlier_reference
    }
    /// The earlier case, if the caller may see it (the agency that linked does not, unless it
    /// is shared with it by the usual grounds).
    async fn earlier_case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        Ok(loaders(ctx)?
            .case(self.0.earlier_case_id)
            .await?
            .map(CaseNode))
    }
    /// The agency that found her again and recorded the link.
    async fn linked_by(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.0.agency_id).await
    }
    async fn linked_at(&self) -> DateTime<Utc> {
        self.0.linked_at
    }
}

/// An earlier case of the same person exists: all that a search is told about it.
#[derive(SimpleObject)]
pub struct EarlierCaseFound {
    /// The agency that leads it: ask it to share under the usual grounds.
    pub lead_agency: Agency,
}

/// Input of `findEarlierCases`.
#[derive(InputObject)]
pub struct FindEarlierCasesInput {
    /// Your case of the person found again (your agency leads it).
    pub case_id: ID,
    /// Her names as you know them: given and family names, in any order and any script (at
    /// least two names).
    pub names: String,
    /// Her date of birth, when known exactly.
    pub date_of_birth: Option<NaiveDate>,
    /// Otherwise an estimate: the earliest year she may have been born in ...
    pub born_from: Option<i32>,
    /// ... and the latest (at most 10 years after `bornFrom`).
    pub born_to: Option<i32>,
    /// Why you look (required; recorded in the access log of every case found and in your
    /// case's history).
    pub purpose: String,
}

/// Result of `findEarlierCases`.
#[derive(SimpleObject)]
pub struct FindEarlierCasesPayload {
    /// Your case, after the search was recorded on it.
    pub case: CaseNode,
    /// Per agency leading a matching case (other than yours): that a case exists and who leads
    /// it. Nothing else: no reference, no state, no data.
    pub found: Vec<EarlierCaseFound>,
}

/// Input of `linkSamePerson`.
#[derive(InputObject)]
pub struct LinkSamePersonInput {
    /// Your case of the person found again (your agency leads it).
    pub case_id: ID,
    /// The reference of her earlier case, e.g. `IT-2026-000123` (given to you by its lead).
    pub earlier_reference: String,
    /// Retrying with the same key and input returns the first result without linking again.
    pub idempotency_key: Option<String>,
}

/// Result of `linkSamePerson`.
#[derive(SimpleObject)]
pub struct LinkSamePersonPayload {
    /// Your case, after the link was recorded on it.
    pub case: CaseNode,
    pub link: SamePersonLinkNode,
    /// True when this answers an idempotent retry (nothing was done again).
    pub replayed: bool,
}

/// Finding the same person again (merged into the `Mutation` root).
#[derive(Default)]
pub struct SamePersonMutation;

#[Object]
impl SamePersonMutation {
    /// Looks for earlier cases of your case's person by a keyed match of her names and birth
    /// years (spelling, script, order of names and an estimated age tolerated). The answer says
    /// only, per agency, that a case exists and who leads it; each case found records the search
    /// in its access log and its lead is told who searched. At most 5 searches per case a day.
    async fn find_earlier_cases(
        &self,
        ctx: &Context<'_>,
        input: FindEarlierCasesInput,
    ) -> Result<FindEarlierCasesPayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let found = same_person::find_earlier_cases(
            app(ctx)?,
            principal(ctx)?,
            Search {
                case_id,
                names: input.names,
                date_of_birth: input.date_of_birth,
                born_from: input.born_from,
                born_to: input.born_to,
                purpose: input.purpose,
            },
        )
        .await
        .gql()?;
        Ok(FindEarlierCasesPayload {
            case: seen(app(ctx)?, principal(ctx)?, found.case).await?,
            found: found
                .leads
                .into_iter()
                .map(|lead_agency| EarlierCaseFound { lead_agency })
                .collect(),
        })
    }

    /// Links your case to an earlier case of the same person by its reference: verified (the
    /// reference exists), recorded on both cases, shown to both leads and to auditors, told to
    /// the earlier case's lead and the focal points. It gives you no access to the earlier case.
    async fn link_same_person(
        &self,
        ctx: &Context<'_>,
        input: LinkSamePersonInput,
    ) -> Result<LinkSamePersonPayload> {
        let case_id = uuid_of(&input.case_id, "Case", "caseId")?;
        let linked = same_person::link(
            app(ctx)?,
            principal(ctx)?,
            LinkSamePerson {
                case_id,
                earlier_reference: input.earlier_reference,
                idempotency_key: input.idempotency_key,
            },
        )
        .await
        .gql()?;
        Ok(LinkSamePersonPayload {
            case: seen(app(ctx)?, principal(ctx)?, linked.case).await?,
            link: SamePersonLinkNode(linked.link),
            replayed: linked.replayed,
        })
    }
}
