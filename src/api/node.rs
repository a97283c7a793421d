//! `node(id)`: any object by its global ID, under the same access rules as every other path.

use super::Node;
use super::context::{app, loaders, principal};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::{CaseNode, EventNode};
use super::workflow::WorkflowNode;
use crate::service::{cases, consents, directory, inbox, referrals, transfers};
use async_graphql::{Context, ID, Object, Result};
use uuid::Uuid;

/// `node(id)` (merged into the `Query` root).
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by its global ID, under the same access rules as every other path.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let app = app(ctx)?;
        let p = principal(ctx)?;
        let (kind, key) = ids::decode(&id).ok_or_else(|| invalid("malformed ID"))?;
        let uuid = || Uuid::parse_str(&key).map_err(|_| invalid("malformed ID"));
        Ok(match kind.as_str() {
            "Case" => loaders(ctx)?
                .case(uuid()?)
                .await?
                .map(|c| Node::Case(CaseNode(c))),
            "CaseEvent" => cases::visible_event(app, p, uuid()?)
                .await
                .gql()?
                .map(|e| Node::CaseEvent(EventNode(e))),
            "Agency" => directory::agency(app, uuid()?)
                .await
                .gql()?
                .map(Node::Agency),
            "User" => directory::user(app, uuid()?).await.gql()?.map(Node::User),
            "Workflow" => {
                let (wid, version) = key
                    .rsplit_once(':')
                    .ok_or_else(|| invalid("malformed ID"))?;
                let version = version.parse().map_err(|_| invalid("malformed ID"))?;
                app.workflows
                    .get(wid, Some(version))
                    .map(|w| Node::Workflow(WorkflowNode(w)))
            }
            "Referral" => referrals::referral(app, p, uuid()?)
                .await
                .gql()?
                .map(Node::Referral),
            "Transfer" => transfers::transfer(app, p, uuid()?)
                .await
                .gql()?
                .map(Node::Transfer),
            "Consent" => consents::visible_consent(app, p, uuid()?)
                .await
                .gql()?
                .map(Node::Consent),
            "Notification" => inbox::visible_notification(app, p, uuid()?)
                .await
                .gql()?
                .map(Node::Notification),
            _ => None,
        })
    }
}
