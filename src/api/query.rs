//! Queries.

use super::case::{CaseNode, event_nodes};
use super::directory::{AgencyNode, CountryNode, Me, UserNode};
use super::error::{IntoGql, invalid};
use super::workflow::WorkflowNode;
use super::{Node, app, ids, page_size, principal};
use crate::domain::CaseFilter;
use crate::domain::DeadlineFilter;
use crate::domain::{CaseStatus, Stage};
use crate::service::{cases, directory, worklist};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result};
use uuid::Uuid;

/// Reads of cases, workflows and the directory (merged into the `Query` root).
#[derive(Default)]
pub struct CoreQuery;

/// Narrows a case list; all given fields must match.
#[derive(InputObject, Default)]
pub struct CaseFilterInput {
    pub status: Option<CaseStatus>,
    /// Some track of the case is in a state of this SOP stage.
    pub stage: Option<Stage>,
    /// Some track of the case is in this state (a state key of its workflow).
    pub state: Option<String>,
    /// The workflow key, e.g. `trm-adult`.
    pub workflow: Option<String>,
    /// Some open deadline is overdue / due soon.
    pub deadline: Option<DeadlineFilter>,
}

#[Object]
impl CoreQuery {
    /// The authenticated caller: user, agency (with country and kind) and roles.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        Ok(Me(principal(ctx)?.clone()))
    }

    /// Fetches any object by its global ID, under the same access rules as every other path.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let (kind, key) = ids::decode(&id).ok_or_else(|| invalid("malformed ID"))?;
        let uuid = || Uuid::parse_str(&key).map_err(|_| invalid("malformed ID"));
        Ok(match kind.as_str() {
            "Case" => cases::get_case(app, p, uuid()?)
                .await
                .gql()?
                .map(|c| Node::Case(CaseNode::new(c))),
            "CaseEvent" => match cases::visible_event(app, p, uuid()?).await.gql()? {
                Some(event) => event_nodes(app, vec![event])
                    .await?
                    .pop()
                    .map(Node::CaseEvent),
                None => None,
            },
            "Agency" => directory::agency(app, uuid()?)
                .await
                .gql()?
                .map(|a| Node::Agency(AgencyNode(a))),
            "User" => directory::user(app, uuid()?)
                .await
                .gql()?
                .map(|u| Node::User(UserNode(u))),
            "Workflow" => {
                let (wid, version) = key
                    .rsplit_once(':')
                    .ok_or_else(|| invalid("malformed ID"))?;
                let version = version.parse().map_err(|_| invalid("malformed ID"))?;
                app.workflows
                    .get(wid, Some(version))
                    .map(|w| Node::Workflow(WorkflowNode(w)))
            }
            "Referral" => crate::service::referrals::referral(app, p, uuid()?)
                .await
                .gql()?
                .map(|r| Node::Referral(super::sharing::ReferralNode(r))),
            "Transfer" => crate::service::transfers::transfer(app, p, uuid()?)
                .await
                .gql()?
                .map(|t| Node::Transfer(super::sharing::TransferNode(t))),
            "Consent" => crate::service::person::visible_consent(app, p, uuid()?)
                .await
                .gql()?
                .map(|c| Node::Consent(super::sharing::ConsentNode(c))),
            "Notification" => crate::service::inbox::visible_notification(app, p, uuid()?)
                .await
                .gql()?
                .map(|n| Node::Notification(super::sharing::NotificationNode(n))),
            _ => None,
        })
    }

    /// Every loaded workflow definition (all versions).
    async fn workflows(&self, ctx: &Context<'_>) -> Result<Vec<WorkflowNode>> {
        Ok(app(ctx)?
            .workflows
            .all()
            .cloned()
            .map(WorkflowNode)
            .collect())
    }

    /// A workflow definition by key (e.g. `trm-adult`) and version (latest when omitted).
    async fn workflow(
        &self,
        ctx: &Context<'_>,
        id: String,
        version: Option<u32>,
    ) -> Result<Option<WorkflowNode>> {
        Ok(app(ctx)?.workflows.get(&id, version).map(WorkflowNode))
    }

    /// A case the caller may see. A case they may not see answers like one that does not exist.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Result<Option<CaseNode>> {
        let case_id = ids::decode_uuid(&id, "Case").ok_or_else(|| invalid("malformed case ID"))?;
        Ok(cases::get_case(app(ctx)?, principal(ctx)?, case_id)
            .await
            .gql()?
            .map(CaseNode::new))
    }

    /// A case the caller may see, by its human reference (e.g. `IT-2026-000123`).
    async fn case_by_reference(
        &self,
        ctx: &Context<'_>,
        reference: String,
    ) -> Result<Option<CaseNode>> {
        if reference.len() > 64 {
            return Err(invalid("reference is too long"));
        }
        Ok(
            cases::case_by_reference(app(ctx)?, principal(ctx)?, &reference)
                .await
                .gql()?
                .map(CaseNode::new),
        )
    }

    /// Cases the caller may see, newest first.
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, CaseNode>> {
        let limit = page_size(first)?;
        let after_id = match after {
            None => None,
            Some(c) => Some(
                ids::uncursor(&c)
                    .and_then(|v| Uuid::parse_str(&v).ok())
                    .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
            ),
        };
        let f = filter.unwrap_or_default();
        let now = app(ctx)?.now();
        let filter = CaseFilter {
            status: f.status,
            stage: f.stage,
            state: f.state,
            workflow_id: f.workflow,
            deadline: f.deadline.map(|d| (d, now)),
        };
        let mut rows = cases::list_cases(app(ctx)?, principal(ctx)?, &filter, after_id, limit + 1)
            .await
            .gql()?;
        let has_next = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let mut connection = Connection::new(after_id.is_some(), has_next);
        connection.edges.extend(
            CaseNode::page(ctx, rows)
                .await?
                .into_iter()
                .map(|c| Edge::new(ids::cursor(&c.0.id.to_string()), c)),
        );
        Ok(connection)
    }

    /// What the caller's agency must act on, most urgent first: overdue deadlines, deadlines
    /// due soon, then cases it leads that the caller can move forward.
    async fn worklist(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WorklistItem>> {
        let limit = usize::try_from(page_size(first)?).unwrap_or(usize::MAX);
        let offset = match after {
            None => 0,
            Some(c) => ids::uncursor(&c)
                .and_then(|v| v.strip_prefix("pos:").and_then(|n| n.parse::<usize>().ok()))
                .map(|n| n + 1)
                .ok_or_else(|| invalid("`after` is not a cursor of this list"))?,
        };
        let items = worklist::worklist(app(ctx)?, principal(ctx)?, offset + limit + 1)
            .await
            .gql()?;
        let total = items.len();
        let page: Vec<(usize, worklist::WorkItem)> = items
            .into_iter()
            .enumerate()
            .skip(offset)
            .take(limit)
            .collect();
        let nodes = CaseNode::page(
            ctx,
            page.iter().map(|(_, item)| item.case.clone()).collect(),
        )
        .await?;
        let mut connection = Connection::new(offset > 0, offset + limit < total);
        connection
            .edges
            .extend(page.into_iter().zip(nodes).map(|((i, item), node)| {
                Edge::new(ids::cursor(&format!("pos:{i}")), WorklistItem(item, node))
            }));
        Ok(connection)
    }

    /// The directory of agencies, by country then name; only those in `country` (ISO 3166-1
    /// alpha-2) and of `kind` when given.
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        country: Option<String>,
        kind: Option<crate::domain::AgencyKind>,
    ) -> Result<Vec<AgencyNode>> {
        principal(ctx)?;
        Ok(
            directory::find_agencies(app(ctx)?, country.as_deref(), kind)
                .await
                .gql()?
                .into_iter()
                .map(AgencyNode)
                .collect(),
        )
    }

    /// The countries of the directory (every country with an agency), by code.
    async fn countries(&self, ctx: &Context<'_>) -> Result<Vec<CountryNode>> {
        principal(ctx)?;
        Ok(directory::countries(app(ctx)?)
            .await
            .gql()?
            .into_iter()
            .map(CountryNode)
            .collect())
    }

    /// A country of the directory by ISO 3166-1 alpha-2 code (e.g. `IT`); null when the
    /// directory has no agency there.
    async fn country(&self, ctx: &Context<'_>, code: String) -> Result<Option<CountryNode>> {
        principal(ctx)?;
        Ok(directory::country(app(ctx)?, &code)
            .await
            .gql()?
            .map(CountryNode))
    }
}

/// A case the caller's agency must act on, and why.
pub struct WorklistItem(pub worklist::WorkItem, CaseNode);

#[Object]
impl WorklistItem {
    async fn case(&self) -> CaseNode {
        self.1.clone()
    }
    async fn reason(&self) -> worklist::WorkReason {
        self.0.reason
    }
    /// When the answer or the most urgent open deadline is due, if any.
    async fn due_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.due_at()
    }
    /// The referral to answer (reason `REFERRAL_TO_ANSWER`).
    async fn referral(&self) -> Option<super::sharing::ReferralNode> {
        self.0.referral.clone().map(super::sharing::ReferralNode)
    }
    /// The break-glass access to review (reason `BREAK_GLASS_REVIEW`).
    async fn break_glass_access(&self) -> Option<super::sharing::BreakGlassNode> {
        self.0
            .break_glass
            .clone()
            .map(super::sharing::BreakGlassNode)
    }
    /// The transfer to decide (reason `TRANSFER_TO_DECIDE`).
    async fn transfer(&self) -> Option<super::sharing::TransferNode> {
        self.0.transfer.clone().map(super::sharing::TransferNode)
    }
    /// The timer behind that deadline.
    async fn deadline_timer(&self) -> Option<&str> {
        self.0.deadline.as_ref().map(|d| d.timer.as_str())
    }
}
