//! Agencies' inboxes: notifications (ids and kinds only: no personal data, so that an inbox
//! can be shown, pushed and logged safely) and the follow-up feedback a new lead sends back.

use super::entities::{feedback, notification};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

/// Why something landed in an agency's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum NotificationKind {
    /// A referral to the agency arrived.
    ReferralReceived,
    /// The receiver answered the agency's referral (accepted, declined, completed).
    ReferralAnswered,
    /// The sender revoked a referral to the agency.
    ReferralRevoked,
    /// A referral was suspended (consent withdrawn) or resumed.
    ReferralSuspended,
    /// A referral was resumed under a new consent or an override.
    ReferralResumed,
    /// A response to a referral or transfer in the agency's country is overdue (focal points).
    ResponseOverdue,
    /// A transfer of lead was offered to the agency.
    TransferOffered,
    /// An agency asked for a case the agency leads.
    TransferRequested,
    /// A transfer the agency is party to was decided (accepted, rejected) or revoked.
    TransferDecided,
    /// A transfer was suspended (consent withdrawn).
    TransferSuspended,
    /// A suspended transfer was resumed.
    TransferResumed,
    /// Follow-up feedback from the new lead of a case the agency transferred.
    FeedbackReceived,
    /// A person (child) on a route through the agency's country is missing.
    PersonMissing,
    /// A missing person was found.
    PersonFound,
    /// Someone opened a case the agency leads by break-glass (a review is due).
    BreakGlassUsed,
}

impl NotificationKind {
    fn as_str(self) -> &'static str {
        match self {
            NotificationKind::ReferralReceived => "REFERRAL_RECEIVED",
            NotificationKind::ReferralAnswered => "REFERRAL_ANSWERED",
            NotificationKind::ReferralRevoked => "REFERRAL_REVOKED",
            NotificationKind::ReferralSuspended => "REFERRAL_SUSPENDED",
            NotificationKind::ReferralResumed => "REFERRAL_RESUMED",
            NotificationKind::ResponseOverdue => "RESPONSE_OVERDUE",
            NotificationKind::TransferOffered => "TRANSFER_OFFERED",
            NotificationKind::TransferRequested => "TRANSFER_REQUESTED",
            NotificationKind::TransferDecided => "TRANSFER_DECIDED",
            NotificationKind::TransferSuspended => "TRANSFER_SUSPENDED",
            NotificationKind::TransferResumed => "TRANSFER_RESUMED",
            NotificationKind::FeedbackReceived => "FEEDBACK_RECEIVED",
            NotificationKind::PersonMissing => "PERSON_MISSING",
            NotificationKind::PersonFound => "PERSON_FOUND",
            NotificationKind::BreakGlassUsed => "BREAK_GLASS_USED",
        }
    }

    fn parse(s: &str) -> Result<Self, DbErr> {
        const ALL: &[NotificationKind] = &[
            NotificationKind::ReferralReceived,
            NotificationKind::ReferralAnswered,
            NotificationKind::ReferralRevoked,
            NotificationKind::ReferralSuspended,
            NotificationKind::ReferralResumed,
            NotificationKind::ResponseOverdue,
            NotificationKind::TransferOffered,
            NotificationKind::TransferRequested,
            NotificationKind::TransferDecided,
            NotificationKind::TransferSuspended,
            NotificationKind::TransferResumed,
            NotificationKind::FeedbackReceived,
            NotificationKind::PersonMissing,
            NotificationKind::PersonFound,
            NotificationKind::BreakGlassUsed,
        ];
        ALL.iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DbErr::Custom(format!("unknown notification kind {s}")))
    }
}

/// One inbox entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Uuid,
    pub agency_id: Uuid,
    pub kind: NotificationKind,
    pub case_id: Option<Uuid>,
    pub referral_id: Option<Uuid>,
    pub transfer_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

fn to_notification(m: notification::Model) -> Result<Notification, DbErr> {
    Ok(Notification {
        id: m.id,
        agency_id: m.agency_id,
        kind: NotificationKind::parse(&m.kind)?,
        case_id: m.case_id,
        referral_id: m.referral_id,
        transfer_id: m.transfer_id,
        created_at: m.created_at,
        read_at: m.read_at,
    })
}

/// Inserts a notification.
pub async fn insert<C: ConnectionTrait>(conn: &C, n: &Notification) -> Result<(), DbErr> {
    notification::Entity::insert(notification::ActiveModel {
        id: Set(n.id),
        agency_id: Set(n.agency_id),
        kind: Set(n.kind.as_str().into()),
        case_id: Set(n.case_id),
        referral_id: Set(n.referral_id),
        transfer_id: Set(n.transfer_id),
        created_at: Set(n.created_at),
        read_at: Set(n.read_at),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// One notification of `agency` by id.
pub async fn by_id<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    id: Uuid,
) -> Result<Option<Notification>, DbErr> {
    notification::Entity::find_by_id(id)
        .filter(notification::Column::AgencyId.eq(agency))
        .one(conn)
        .await?
        .map(to_notification)
        .transpose()
}

/// `agency`'s notifications, newest first.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    agency: Uuid,
    unread_only: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Notification>, DbErr> {
    let mut q = notification::Entity::find().filter(notification::Column::AgencyId.eq(agency));
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
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
) -> Result<bool, DbErr> {
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

/// Follow-up feedback on a transferred case.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub id: Uuid,
    pub case_id: Uuid,
    pub transfer_id: Uuid,
    pub from_agency_id: Uuid,
    pub to_agency_id: Uuid,
    pub message: String,
    pub sent_by: Uuid,
    pub sent_at: DateTime<Utc>,
}

/// Inserts feedback.
pub async fn insert_feedback<C: ConnectionTrait>(conn: &C, f: &Feedback) -> Result<(), DbErr> {
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
) -> Result<Vec<Feedback>, DbErr> {
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
        })
        .collect())
}
