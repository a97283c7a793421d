//! The focal point's board of the children on the move its country is concerned with
//! (`childrenOnTheMove`); who is on it and what is shown of each is decided in
//! [`crate::service::children`].

use super::context::{app, loaders, principal};
use super::error::{IntoGql, invalid};
use super::nodes::CaseNode;
use crate::domain::Agency;
use crate::service::children::{self, ChildOnTheMove};
use crate::workflow::ChildStanding;
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

/// The longest silence the board may be asked about, in days.
const MAX_NO_NEWS_DAYS: i32 = 3_650;

/// A child on the move, as the focal point's board shows it. Of a case the caller's agency may
/// not see, only the reference, the lead agency, where the child stands and whether news is
/// overdue: nothing that describes the child or dates its movements.
pub struct ChildOnTheMoveNode(pub ChildOnTheMove);

#[Object(name = "ChildOnTheMove")]
impl ChildOnTheMoveNode {
    /// The case's human reference: ask its lead agency about the child.
    async fn reference(&self) -> &str {
        &self.0.reference
    }
    /// The agency leading the case now.
    async fn lead_agency(&self, ctx: &Context<'_>) -> Result<Agency> {
        loaders(ctx)?.agency(self.0.lead_agency_id).await
    }
    /// Where the child stands, read from the case's states as its workflow's alerts mark the
    /// journey.
    async fn standing(&self) -> ChildStanding {
        self.0.standing
    }
    /// No agency recorded anything on the case (a step, a movement, data, a consent, a
    /// referral or transfer, feedback) for at least `noNewsDays` days: ask its lead.
    async fn no_news(&self) -> bool {
        self.0.no_news
    }
    /// When an agency last recorded something on the case; null where the caller's agency may
    /// not see the case.
    async fn last_news_at(&self) -> Option<DateTime<Utc>> {
        self.0.seen.as_ref().map(|s| s.last_news_at)
    }
    /// The case, where the caller's agency may see it (its own, or shared with it by a
    /// referral, a transfer, an alert or an escalation); null otherwise.
    async fn case(&self) -> Option<CaseNode> {
        self.0.seen.as_ref().map(|s| CaseNode(s.case.clone()))
    }
}

/// The board (merged into the `Query` root).
#[derive(Default)]
pub struct ChildrenQuery;

#[Object]
impl ChildrenQuery {
    /// Focal points only (`FORBIDDEN` otherwise; the caller's agency must be its country's
    /// focal point): every child on the move the caller's country is concerned with (the
    /// case's country, the child's country of origin, a country on the recorded route, or the
    /// lead agency's country), whose case is active or who is still missing, most urgent
    /// first. `noNewsDays` (1 to 3650, default 14) says when news is overdue.
    async fn children_on_the_move(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 14)] no_news_days: i32,
    ) -> Result<Vec<ChildOnTheMoveNode>> {
        if !(1..=MAX_NO_NEWS_DAYS).contains(&no_news_days) {
            return Err(invalid(format!(
                "noNewsDays must be between 1 and {MAX_NO_NEWS_DAYS}"
            )));
        }
        let days = u32::try_from(no_news_days).unwrap_or(1);
        Ok(children::board(app(ctx)?, principal(ctx)?, days)
            .await
            .gql()?
            .into_iter()
            .map(ChildOnTheMoveNode)
            .collect())
    }
}
