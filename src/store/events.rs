//! The append-only event log. Nothing here updates or deletes an event.
//!
//! Each event's hash commits to the previous event's hash and to the event's content, so that
//! an edited, deleted or reordered event breaks the chain of its case. Free-text reasons enter
//! the hash only as their own SHA-256, so that erasing a reason later leaves the chain checkable.

use super::entities::case_event;
use crate::workflow::Changes;
use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash that precedes a case's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

macro_rules! event_kinds {
    ($($(#[$doc:meta])* $variant:ident => $text:literal),+ $(,)?) => {
        /// What kind of change an event records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
        #[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
        pub enum EventKind { $($(#[$doc])* $variant),+ }

        impl EventKind {
            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $text),+ }
            }

            fn parse(s: &str) -> Result<Self, DbErr> {
                match s {
                    $($text => Ok(EventKind::$variant),)+
                    other => Err(DbErr::Custom(format!("unknown event kind {other}"))),
                }
            }
        }
    };
}

event_kinds! {
    /// The case was opened under a workflow version.
    CaseOpened => "CASE_OPENED",
    /// A workflow transition was fired.
    Transition => "TRANSITION",
    /// A timer's due date passed (recorded once by the scheduler; deadlines escalate).
    TimerElapsed => "TIMER_ELAPSED",
    /// The case moved to a newer version of its workflow (an explicit, recorded decision).
    WorkflowMigrated => "WORKFLOW_MIGRATED",
    /// A group of the person's personal data was recorded (the event holds no personal data).
    PersonalDataRecorded => "PERSONAL_DATA_RECORDED",
    /// The person's country of origin was recorded.
    OriginCountrySet => "ORIGIN_COUNTRY_SET",
    /// A movement of the person was recorded (a country on the route).
    MovementRecorded => "MOVEMENT_RECORDED",
    /// A consent was recorded.
    ConsentRecorded => "CONSENT_RECORDED",
    /// A consent was withdrawn (dependent referrals and transfers are suspended).
    ConsentWithdrawn => "CONSENT_WITHDRAWN",
    /// A service referral was made, answered, completed, revoked, suspended, resumed or escalated.
    Referral => "REFERRAL",
    /// A transfer of lead was offered, requested, rejected, revoked, suspended, resumed or escalated.
    Transfer => "TRANSFER",
    /// A transfer of lead was accepted: the workflow's transfer step fired and the lead moved.
    TransferAccepted => "TRANSFER_ACCEPTED",
    /// The new lead sent follow-up feedback to the former lead.
    FeedbackSent => "FEEDBACK_SENT",
    /// The focal points of the countries on the person's route were alerted.
    RouteAlerted => "ROUTE_ALERTED",
    /// Someone opened the case outside their access (break-glass), with a justification.
    BreakGlass => "BREAK_GLASS",
    /// The lead agency reviewed a break-glass access.
    BreakGlassReviewed => "BREAK_GLASS_REVIEWED",
}

/// One recorded change to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub case_id: Uuid,
    /// 1 for the opening event; equals the case's version after the event.
    pub seq: i64,
    pub kind: EventKind,
    pub transition: Option<String>,
    pub track: Option<String>,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    pub changes: Changes,
    pub workflow_id: String,
    pub workflow_version: u32,
    pub actor_user_id: Uuid,
    pub actor_agency_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
    /// Ids and names of what the event touched (referral, transfer, consent, agencies, groups);
    /// never personal data.
    pub details: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct HashedContent<'a> {
    id: Uuid,
    case_id: Uuid,
    seq: i64,
    kind: &'static str,
    transition: &'a Option<String>,
    track: &'a Option<String>,
    from_state: &'a Option<String>,
    to_state: &'a Option<String>,
    reason_sha256: Option<String>,
    changes: &'a Changes,
    workflow_id: &'a str,
    workflow_version: u32,
    actor_user_id: Uuid,
    actor_agency_id: Uuid,
    occurred_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: &'a Option<serde_json::Value>,
}

impl Event {
    /// The hash of this event's content chained to `prev_hash`.
    pub fn compute_hash(&self) -> String {
        chain_hash(&self.prev_hash, &self.content())
    }

    /// Exactly what the hash commits to (besides `prev_hash`), as JSON: the content with the
    /// reason replaced by its SHA-256. Exports carry it so that anyone can recompute the hash.
    pub fn hashed_content(&self) -> serde_json::Value {
        serde_json::to_value(self.content()).unwrap_or_default()
    }

    fn content(&self) -> HashedContent<'_> {
        HashedContent {
            id: self.id,
            case_id: self.case_id,
            seq: self.seq,
            kind: self.kind.as_str(),
            transition: &self.transition,
            track: &self.track,
            from_state: &self.from_state,
            to_state: &self.to_state,
            reason_sha256: self.reason.as_deref().map(reason_sha256),
            changes: &self.changes,
            workflow_id: &self.workflow_id,
            workflow_version: self.workflow_version,
            actor_user_id: self.actor_user_id,
            actor_agency_id: self.actor_agency_id,
            occurred_at: self
                .occurred_at
                .to_rfc3339_opts(SecondsFormat::Micros, true),
            details: &self.details,
        }
    }
}

/// An event's chain hash: SHA-256 of `prev_hash`, a newline and the canonical JSON of its
/// hashed content (see [`Event::hashed_content`]), hex.
pub fn chain_hash<T: Serialize>(prev_hash: &str, content: &T) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_json(content));
    hex::encode(hasher.finalize())
}

/// SHA-256 of a free-text reason, hex: what the chain commits to instead of the text.
pub fn reason_sha256(reason: &str) -> String {
    hex::encode(Sha256::digest(reason.as_bytes()))
}

/// `value` as JSON with every object's keys sorted, at every depth: the same bytes whatever
/// order a map was built or stored in (PostgreSQL `jsonb` reorders keys; a dependency may switch
/// serde_json to insertion order).
pub fn canonical_json<T: Serialize>(value: &T) -> Vec<u8> {
    fn sort(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sort(v))).collect())
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(sort).collect())
            }
            other => other,
        }
    }
    serde_json::to_value(value)
        .map(sort)
        .and_then(|v| serde_json::to_vec(&v))
        .unwrap_or_default()
}

fn to_event(m: case_event::Model) -> Result<Event, DbErr> {
    Ok(Event {
        id: m.id,
        case_id: m.case_id,
        seq: m.seq,
        kind: EventKind::parse(&m.kind)?,
        transition: m.transition,
        track: m.track,
        from_state: m.from_state,
        to_state: m.to_state,
        reason: m.reason,
        changes: serde_json::from_value(m.changes)
            .map_err(|e| DbErr::Custom(format!("event {}: {e}", m.id)))?,
        workflow_id: m.workflow_id,
        workflow_version: u32::try_from(m.workflow_version)
            .map_err(|e| DbErr::Custom(e.to_string()))?,
        actor_user_id: m.actor_user_id,
        actor_agency_id: m.actor_agency_id,
        occurred_at: m.occurred_at,
        prev_hash: m.prev_hash,
        hash: m.hash,
        details: m.details,
    })
}

/// Appends an event, and its chain hash as the next leaf of the audit log, on `conn` (the
/// use case's write transaction): both or neither.
pub async fn append<C: ConnectionTrait>(conn: &C, e: &Event) -> Result<(), DbErr> {
    case_event::Entity::insert(case_event::ActiveModel {
        id: Set(e.id),
        case_id: Set(e.case_id),
        seq: Set(e.seq),
        kind: Set(e.kind.as_str().to_string()),
        transition: Set(e.transition.clone()),
        track: Set(e.track.clone()),
        from_state: Set(e.from_state.clone()),
        to_state: Set(e.to_state.clone()),
        reason: Set(e.reason.clone()),
        changes: Set(
            serde_json::to_value(&e.changes).map_err(|err| DbErr::Custom(err.to_string()))?
        ),
        workflow_id: Set(e.workflow_id.clone()),
        workflow_version: Set(
            i32::try_from(e.workflow_version).map_err(|err| DbErr::Custom(err.to_string()))?
        ),
        actor_user_id: Set(e.actor_user_id),
        actor_agency_id: Set(e.actor_agency_id),
        occurred_at: Set(e.occurred_at),
        prev_hash: Set(e.prev_hash.clone()),
        hash: Set(e.hash.clone()),
        details: Set(e.details.clone()),
    })
    .exec(conn)
    .await?;
    super::audit::append_leaf(conn, e.id, &e.hash, e.occurred_at).await?;
    Ok(())
}

/// The hash of the case's latest event (the genesis hash for a case with none).
pub async fn last_hash<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<String, DbErr> {
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .order_by_desc(case_event::Column::Seq)
        .one(conn)
        .await?
        .map(|m| m.hash)
        .unwrap_or_else(|| GENESIS_HASH.to_string()))
}

/// Up to `limit` events of a case with `seq > after`, oldest first.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<Event>, DbErr> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .filter(case_event::Column::Seq.gt(after))
        .order_by_asc(case_event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// A stored event as the audit verifier reads it: its id, case and `seq` as stored, and the
/// parsed event (or why it cannot be parsed).
pub type AuditRow = (Uuid, Uuid, i64, Result<Event, String>);

/// Every event of the cases `case_ids`, ordered by case and `seq` (see [`AuditRow`]): the
/// verifier reads the events of one page of cases at a time.
pub async fn of_cases_for_audit<C: ConnectionTrait>(
    conn: &C,
    case_ids: &[Uuid],
) -> Result<Vec<AuditRow>, DbErr> {
    if case_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(case_event::Entity::find()
        .filter(case_event::Column::CaseId.is_in(case_ids.iter().copied()))
        .order_by_asc(case_event::Column::CaseId)
        .order_by_asc(case_event::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            let (id, case_id, seq) = (m.id, m.case_id, m.seq);
            (id, case_id, seq, to_event(m).map_err(|e| e.to_string()))
        })
        .collect())
}

/// What auditors search events by; every given filter must hold.
#[derive(Debug, Clone, Default)]
pub struct EventSearch {
    pub case_id: Option<Uuid>,
    /// The agency that acted.
    pub agency_id: Option<Uuid>,
    /// The user who acted.
    pub actor_user_id: Option<Uuid>,
    pub kind: Option<EventKind>,
    /// The workflow transition fired.
    pub transition: Option<String>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub until: Option<DateTime<Utc>>,
    pub workflow_id: Option<String>,
    /// Decided under this version of the workflow.
    pub workflow_version: Option<u32>,
}

/// Up to `limit` events matching `search`, in time order (ties by id), after the keyset
/// position `after` (an event's time and id).
pub async fn search<C: ConnectionTrait>(
    conn: &C,
    search: &EventSearch,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<Event>, DbErr> {
    use case_event::Column as C;
    use sea_orm::Condition;
    let mut q = case_event::Entity::find();
    if let Some(v) = search.case_id {
        q = q.filter(C::CaseId.eq(v));
    }
    if let Some(v) = search.agency_id {
        q = q.filter(C::ActorAgencyId.eq(v));
    }
    if let Some(v) = search.actor_user_id {
        q = q.filter(C::ActorUserId.eq(v));
    }
    if let Some(v) = search.kind {
        q = q.filter(C::Kind.eq(v.as_str()));
    }
    if let Some(v) = &search.transition {
        q = q.filter(C::Transition.eq(v.as_str()));
    }
    if let Some(v) = search.from {
        q = q.filter(C::OccurredAt.gte(v));
    }
    if let Some(v) = search.until {
        q = q.filter(C::OccurredAt.lt(v));
    }
    if let Some(v) = &search.workflow_id {
        q = q.filter(C::WorkflowId.eq(v.as_str()));
    }
    if let Some(v) = search.workflow_version {
        let v = i32::try_from(v).map_err(|e| DbErr::Custom(e.to_string()))?;
        q = q.filter(C::WorkflowVersion.eq(v));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            Condition::any()
                .add(C::OccurredAt.gt(at))
                .add(Condition::all().add(C::OccurredAt.eq(at)).add(C::Id.gt(id))),
        );
    }
    q.order_by_asc(C::OccurredAt)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// A case's events up to `at`, oldest first: the longest run from `seq` 1 of events that
/// occurred at or before `at` (what a reader could have seen committed by then).
pub async fn up_to<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    at: DateTime<Utc>,
) -> Result<Vec<Event>, DbErr> {
    let mut events = all_of_case(conn, case_id).await?;
    let seen = events.iter().take_while(|e| e.occurred_at <= at).count();
    events.truncate(seen);
    Ok(events)
}

/// Every event of a case, oldest first.
pub async fn all_of_case<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<Vec<Event>, DbErr> {
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .order_by_asc(case_event::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// One event by id.
pub async fn by_id<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<Event>, DbErr> {
    case_event::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(to_event)
        .transpose()
}

/// How many events are stored, all cases together.
pub async fn count_all<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    case_event::Entity::find().count(conn).await
}

/// The first event (by case and `seq`) whose case does not exist, as (id, case id, seq).
pub async fn first_orphan<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<(Uuid, Uuid, i64)>, DbErr> {
    first_event_where(
        conn,
        "NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = e.case_id)",
    )
    .await
}

/// The first event (by case and `seq`) that has no leaf in the audit log, as (id, case id, seq).
pub async fn first_not_in_log<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<(Uuid, Uuid, i64)>, DbErr> {
    first_event_where(
        conn,
        "NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.event_id = e.id)",
    )
    .await
}

async fn first_event_where<C: ConnectionTrait>(
    conn: &C,
    condition: &str,
) -> Result<Option<(Uuid, Uuid, i64)>, DbErr> {
    let sql = format!(
        "SELECT e.id, e.case_id, e.seq FROM case_events e WHERE {condition} \
         ORDER BY e.case_id, e.seq LIMIT 1"
    );
    let stmt = sea_orm::Statement::from_string(conn.get_database_backend(), sql);
    let Some(row) = conn.query_one_raw(stmt).await? else {
        return Ok(None);
    };
    Ok(Some((
        row.try_get("", "id")?,
        row.try_get("", "case_id")?,
        row.try_get("", "seq")?,
    )))
}

/// How many events a case has.
pub async fn count<C: ConnectionTrait>(conn: &C, case_id: Uuid) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    case_event::Entity::find()
        .filter(case_event::Column::CaseId.eq(case_id))
        .count(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::canonical_json;
    use serde_json::json;

    #[test]
    fn canonical_json_does_not_depend_on_key_order() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": null}}"#)
                .unwrap_or_default();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a": {"x": null, "y": [1, {"p": 3, "q": 2}]}, "b": 1}"#)
                .unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&json!({"b": 1, "a": 2})),
            br#"{"a":2,"b":1}"#.to_vec()
        );
    }
}
