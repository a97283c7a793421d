//! The cases a country is concerned with, for its focal point's board of children on the move.
//! Read in any scope: the service shows of a case outside the caller's scope only what
//! [`crate::service::children`] allows (never through a `Case`).

use super::{StoreError, with_state};
use crate::domain::{CaseRecord, CaseStatus};
use crate::store::entities::{agency, case, case_track, movement};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sea_orm::{QuerySelect, sea_query};

/// What [`concerning_country`] looks for.
pub struct Concerned<'a> {
    /// ISO 3166-1 alpha-2.
    pub country: &'a str,
    /// The workflows (ids) whose cases may be of a child.
    pub workflows: &'a [String],
    /// States in which a closed case is still kept (its child is still missing).
    pub kept_when_closed: &'a [String],
    pub limit: u64,
}

/// Up to `limit` cases of `workflows`, newest first, that concern `country`: opened there, of a
/// person from there, led by an agency there, or whose person's recorded route passes there;
/// active, or closed in one of `kept_when_closed`.
pub async fn concerning_country<C: ConnectionTrait>(
    conn: &C,
    q: &Concerned<'_>,
) -> Result<Vec<CaseRecord>, StoreError> {
    if q.workflows.is_empty() {
        return Ok(Vec::new());
    }
    let mut agencies = Query::select();
    agencies
        .column(agency::Column::Id)
        .from(agency::Entity)
        .and_where(Expr::col(agency::Column::Country).eq(q.country));
    let mut route = Query::select();
    route
        .column(movement::Column::CaseId)
        .from(movement::Entity)
        .and_where(Expr::col(movement::Column::Country).eq(q.country));
    let concern = Condition::any()
        .add(case::Column::Country.eq(q.country))
        .add(case::Column::OriginCountry.eq(q.country))
        .add(case::Column::LeadAgencyId.in_subquery(agencies.to_owned()))
        .add(case::Column::Id.in_subquery(route.to_owned()));
    let mut kept = Query::select();
    kept.expr(Expr::val(1))
        .from(case_track::Entity)
        .and_where(
            Expr::col((case_track::Entity, case_track::Column::CaseId))
                .equals((case::Entity, case::Column::Id)),
        )
        .and_where(
            Expr::col((case_track::Entity, case_track::Column::State))
                .is_in(q.kept_when_closed.iter().map(String::as_str)),
        );
    let open = Condition::any()
        .add(case::Column::Status.eq(CaseStatus::Active.as_str()))
        .add(sea_query::Expr::exists(kept.to_owned()));
    let rows = case::Entity::find()
        .filter(case::Column::WorkflowId.is_in(q.workflows.iter().map(String::as_str)))
        .filter(open)
        .filter(concern)
        .order_by_desc(case::Column::Id)
        .limit(q.limit)
        .all(conn)
        .await?;
    with_state(conn, rows).await
}
