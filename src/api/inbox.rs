//! What an agency must act on: its inbox (the `Notification` object, `inbox`,
//! `markNotificationRead`) and its worklist.

use super::context::{app, connection, cursor_uuid, loaders, page_size, principal, uuid_of};
use super::error::{IntoGql, invalid};
use super::ids;
use super::nodes::CaseNode;
use super::same_person::SamePersonLinkNode;
use crate::domain::{
    Agency, BreakGlass, Notification, NotificationKind, ReferralRecord, TransferRecord,
};
use crate::service::{inbox, referrals, same_person, transfers, worklist};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};

#[ComplexObject]
impl Notification {
    pub async fn id(&self) -> ID {
        ids::encode("Notification", &self.id.to_string())
    }
    /// The case, if the caller may see it.
    async fn case(&self, ctx: &Context<'_>) -> Result<Option<CaseNode>> {
        match self.case_id {
            Some(id) => Ok(loaders(ctx)?.case(id).await?.map(CaseNode)),
            None => Ok(None),
        }
    }
    /// The referral the entry is about (also for a focal point that is not party to it).
    async fn referral(&self, ctx: &Context<'_>) -> Result<Option<ReferralRecord>> {
        referrals::referral_of_notification(app(ctx)?, principal(ctx)?, self)
            .await
            .gql()
    }
    /// The transfer the entry is about.
    async fn transfer(&self, ctx: &Context<'_>) -> Result<Option<TransferRecord>> {
        transfers::transfer_of_notification(app(ctx)?, principal(ctx)?, self)
            .await
            .gql()
    }
    /// The same-person link the entry reports (`SAME_PERSON_LINKED`): both cases by reference.
    async fn same_person_link(&self, ctx: &Context<'_>) -> Result<Option<SamePersonLinkNode>> {
        Ok(
            same_person::link_of_notification(app(ctx)?, principal(ctx)?, self)
                .await
                .gql()?
                .map(SamePersonLinkNode),
        )
    }
    /// The agency whose act the entry reports, where it is not the case's lead: the agency that
    /// linked a case (`SAME_PERSON_LINKED`) or whose search found one (`SAME_PERSON_MATCHED`).
    #[graphql(name = "fromAgency")]
    async fn acting_agency(&self, ctx: &Context<'_>) -> Result<Option<Agency>> {
        match self.from_agency_id {
            Some(id) => loaders(ctx)?.agency(id).await.map(Some),
            None => Ok(None),
        }
    }
}

/// Input of `markNotificationRead`.
#[derive(InputObject)]
pub struct MarkNotificationReadInput {
    pub notification_id: ID,
}

/// Result of `markNotificationRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationReadPayload {
    pub notification: Notification,
}

/// Reads of the inbox and the worklist (merged into the `Query` root).
#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// The caller's agency's inbox, newest first; only entries of `kinds` when given (e.g. a
    /// focal point's escalations and alerts).
    async fn inbox(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] unread_only: bool,
        kinds: Option<Vec<NotificationKind>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Notification>> {
        let limit = page_size(first)?;
        let cursor = cursor_uuid(after)?;
        let filter = inbox::InboxFilter {
            unread_only,
            kinds: kinds.unwrap_or_default(),
        };
        let items = inbox::notifications(app(ctx)?, principal(ctx)?, &filter, cursor, limit + 1)
            .await
            .gql()?;
        Ok(connection(items, limit, cursor.is_some(), |n| n.id, |n| n))
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
        let (items, more) = worklist::page(app(ctx)?, principal(ctx)?, offset, limit)
            .await
            .gql()?;
        let mut connection = Connection::new(offset > 0, more);
        connection
            .edges
            .extend(items.into_iter().enumerate().map(|(i, item)| {
                let position = offset + i;
                Edge::new(ids::cursor(&format!("pos:{position}")), WorklistItem(item))
            }));
        Ok(connection)
    }
}

/// Changes to the inbox (merged into the `Mutation` root).
#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Marks an inbox entry of the caller's agency read.
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        input: MarkNotificationReadInput,
    ) -> Result<MarkNotificationReadPayload> {
        let id = uuid_of(&input.notification_id, "Notification", "notificationId")?;
        let n = inbox::mark_read(app(ctx)?, principal(ctx)?, id)
            .await
            .gql()?;
        Ok(MarkNotificationReadPayload { notification: n })
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
    /// When the answer or the most urgent open deadline is due, if any.
    async fn due_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.due_at()
    }
    /// The referral to answer (reason `REFERRAL_TO_ANSWER`).
    async fn referral(&self) -> Option<&ReferralRecord> {
        self.0.referral.as_ref()
    }
    /// The break-glass access to review (reason `BREAK_GLASS_REVIEW`).
    async fn break_glass_access(&self) -> Option<&BreakGlass> {
        self.0.break_glass.as_ref()
    }
    /// The transfer to decide (reason `TRANSFER_TO_DECIDE`).
    async fn transfer(&self) -> Option<&TransferRecord> {
        self.0.transfer.as_ref()
    }
    /// The timer behind that deadline.
    async fn deadline_timer(&self) -> Option<&str> {
        self.0.deadline.as_ref().map(|d| d.timer.as_str())
    }
}
