//! Queries.

use super::case::{CaseNode, event_nodes};
use super::directory::{AgencyNode, Me, UserNode};
use super::error::{IntoGql, invalid};
use super::workflow::WorkflowNode;
use super::{Node, app, ids, page_size, principal};
use crate::domain::{CaseStatus, Stage};
use crate::service::{cases, directory, worklist};
use crate::store::cases::{CaseFilter, DeadlineFilter};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object, Result};
use uuid::Uuid;

/// The root of all reads.
pub struct Query;

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
impl Query {
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
                .map(|c| Node::Case(CaseNode(c))),
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
            .map(CaseNode))
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
                .map(CaseNode),
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
            rows.into_iter()
                .map(|c| Edge::new(ids::cursor(&c.id.to_string()), CaseNode(c))),
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
        let items = worklist::worklist(app(ctx)?, principal(ctx)?).await.gql()?;
        let total = items.len();
        let mut connection = Connection::new(offset > 0, offset + limit < total);
        connection.edges.extend(
            items
                .into_iter()
                .enumerate()
                .skip(offset)
                .take(limit)
                .map(|(i, item)| Edge::new(ids::cursor(&format!("pos:{i}")), WorklistItem(item))),
        );
        Ok(connection)
    }

    /// The directory of agencies, by country.
    async fn agencies(&self, ctx: &Context<'_>) -> Result<Vec<AgencyNode>> {
        Ok(directory::agencies(app(ctx)?)
            .await
            .gql()?
            .into_iter()
            .map(AgencyNode)
            .collect())
    }
}

/// A case the caller's agency must act on, and why.
pub struct WorklistItem(pub worklist::WorkItem);

#[Object]
impl WorklistItem {
    async fn case(&self) -> CaseNode {
        CaseNode(self.0.case.clone())
    }
    async fn reason(&self) -> worklist::WorkReason {
        self.0.reason
    }
    /// The most urgent open deadline, if any.
    async fn due_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.deadline.as_ref().map(|d| d.due_at)
    }
    /// The timer behind that deadline.
    async fn deadline_timer(&self) -> Option<&str> {
        self.0.deadline.as_ref().map(|d| d.timer.as_str())
    }
}
