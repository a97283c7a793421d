//! Agencies' inboxes: notifications (ids and kinds only: no personal data, so that an inbox
//! can be shown, pushed and logged safely) and the follow-up feedback a new lead sends back.

use super::StoreError;
use super::batch::Writes;
use super::entities::{feedback, notification};
use crate::domain::{Feedback, Notification, NotificationKind};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

fn to_notification(m: notification::Model) -> Result<Notification, StoreError> {
    Ok(Notification {
        id: m.id,
        agency_id: m.agency_id,
        kind: m
            .kind
            .parse()
            .map_err(|e| StoreError::corrupt(format_args!("notification {}", m.id), e))?,
        case_id: m.case_id,
        referral_id: m.referral_id,
        transfer_id: m.transfer_id,
        created_at: m.created_at,
        read_at: m.read_at,
        same_person_link_id: m.same_person_link_id,
        from_agency_id: m.from_agency_id,
    })
}

/// Inserts a notification (added to `writes`, the change's).
pub fn insert(writes: &mut Writes, n: &Notification) {
    let backend = writes.backend();
    writes.one(
        notification::Entity::insert(notification::ActiveModel {
            id: Set(n.id),
            agency_id: Set(n.agency_id),
            kind: Set(n.kind.as_str().into()),
            case_id: Set(n.case_id),
            referral_id: Set(n.referral_id),
            transfer_id: Set(n.transfer_id),
            created_at: Set(n.created_at),
            read_at: Set(n.read_at),
            same_person_link_id: Set(n.same_person_link_id),
            from_agency_id: Set(n.from_agency_id),
        })
        .build(backend),
    );
}

/// One notification of `agency` by id.
pub async fn by_id<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    id: Uuid,
) -> Result<Option<Notification>, StoreError> {
    notification::Entity::find_by_id(id)
        .filter(notification::Column::AgencyId.eq(agency))
        .one(conn)
        .await?
        .map(to_notification)
        .transpose()
}

/// What [`page`] reads.
pub struct Page<'a> {
    pub agency: Uuid,
    pub unread_only: bool,
    /// Only these kinds (all when empty).
    pub kinds: &'a [NotificationKind],
    /// The keyset position (a notification id) to read after.
    pub after: Option<Uuid>,
    pub limit: u64,
}

/// An agency's notifications, newest first.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    page: &Page<'_>,
) -> Result<Vec<Notification>, StoreError> {
    let (after, limit) = (page.after, page.limit);
    let mut q = notification::Entity::find().filter(notification::Column::AgencyId.eq(page.agency));
    if page.unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    if !page.kinds.is_empty() {
        q = q.filter(notification::Column::Kind.is_in(page.kinds.iter().map(|k| k.as_str())));
    }
    if let Some(after) = after {
        q = q.filter(notification::Column::Id.lt(after));
    }
    q.order_by_desc(notification::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_notification)
        .collect()
}

/// Marks a notification of `agency` read; `false` if there is none.
pub async fn mark_read<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let found = notification::Entity::find_by_id(id)
        .filter(notification::Column::AgencyId.eq(agency))
        .one(conn)
        .await?
        .is_some();
    if found {
        notification::Entity::update_many()
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .filter(notification::Column::Id.eq(id))
            .filter(notification::Column::ReadAt.is_null())
            .exec(conn)
            .await?;
    }
    Ok(found)
}

/// Inserts feedback.
pub async fn insert_feedback<C: ConnectionTrait>(conn: &C, f: &Feedback) -> Result<(), StoreError> {
    feedback::Entity::insert(feedback::ActiveModel {
        id: Set(f.id),
        case_id: Set(f.case_id),
        transfer_id: Set(f.transfer_id),
        from_agency_id: Set(f.from_agency_id),
        to_agency_id: Set(f.to_agency_id),
        message: Set(f.message.clone()),
        sent_by: Set(f.sent_by),
        sent_at: Set(f.sent_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// The feedback on a transfer, oldest first.
pub async fn feedback_of_transfer<C: ConnectionTrait>(
    conn: &C,
    transfer_id: Uuid,
) -> Result<Vec<Feedback>, StoreError> {
    Ok(feedback::Entity::find()
        .filter(feedback::Column::TransferId.eq(transfer_id))
        .order_by_asc(feedback::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| Feedback {
            id: m.id,
            case_id: m.case_id,
            transfer_id: m.transfer_id,
            from_agency_id: m.from_agency_id,
            to_agency_id: m.to_agency_id,
            message: m.message,
            sent_by: m.sent_by,
            sent_at: m.sent_at,
            withheld: Vec::new(),
        })
        .collect())
}
