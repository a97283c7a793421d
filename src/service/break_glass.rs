//! Break-glass: in an emergency a permitted user (supervisors and focal points, by policy) opens
//! a case outside their agency's access, for a limited time and with a mandatory justification.
//! It is one event on the case's chain, the lead agency is told at once, and its supervisors
//! review it afterwards. It never lifts a legal ban: the authorities of an asylum seeker's
//! country of origin cannot use it, and perpetrator data stays with law enforcement.

use super::disclosure::{check_asylum_ban, check_text};
use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::policy::{Action, Facts};
use crate::access::{CaseScope, Principal, VisibleCase};
use crate::domain::BreakGlass;
use crate::domain::CaseRecord;
use crate::domain::NotificationKind;
use crate::domain::{EventDraft, EventKind};
use crate::store::break_glass;
use crate::store::cases::{self as case_store};
use crate::store::directory;
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

/// Minutes a break-glass access lasts unless asked for less.
pub const DEFAULT_MINUTES: u32 = 60;
/// The longest break-glass access.
pub const MAX_MINUTES: u32 = 24 * 60;
/// Days after expiry within which the lead agency should review it.
pub const REVIEW_DAYS: i64 = 7;
/// Shortest accepted justification (a few words, not a tick box).
pub const MIN_JUSTIFICATION_CHARS: usize = 20;

/// Opens the case with `reference` for `minutes` (default 60, at most 24 h).
pub async fn break_glass(
    app: &App,
    p: &Principal,
    reference: &str,
    justification: &str,
    minutes: Option<u32>,
) -> Result<(CaseRecord, BreakGlass), ServiceError> {
    check_text("justification", Some(justification), true)?;
    if justification.trim().chars().count() < MIN_JUSTIFICATION_CHARS {
        return Err(ServiceError::validation(format!(
            "justification: say why, in at least {MIN_JUSTIFICATION_CHARS} characters"
        )));
    }
    let minutes = minutes.unwrap_or(DEFAULT_MINUTES);
    if minutes == 0 || minutes > MAX_MINUTES {
        return Err(ServiceError::validation(format!(
            "minutes must be between 1 and {MAX_MINUTES}"
        )));
    }
    let now = app.now();
    let visible = case_store::find_by_reference(app.store.conn(), p.case_scope(now), reference)
        .await?
        .is_some();
    app.authorize(
        p,
        Action::BreakGlass,
        Facts {
            has_access: visible,
            is_involved: false,
            ..Facts::default()
        },
        if visible {
            "you can already see this case"
        } else {
            "your roles do not allow break-glass access"
        },
    )?;
    let Some(target) =
        case_store::find_by_reference(app.store.conn(), CaseScope::All, reference).await?
    else {
        return Err(ServiceError::NotFound("case"));
    };
    let agency = directory::agency_by_id(app.store.conn(), p.agency_id)
        .await?
        .ok_or(ServiceError::NotFound("agency"))?;
    check_asylum_ban(app, &target, &agency)?;

    let mut work = CaseWork::begin(app, Changer::System, target.id, None).await?;
    let expires_at = work.now() + Duration::minutes(i64::from(minutes));
    let access = BreakGlass {
        id: Uuid::now_v7(),
        case_id: target.id,
        user_id: p.user_id,
        agency_id: p.agency_id,
        lead_agency_id: work.case().lead_agency_id,
        justification: justification.trim().to_string(),
        opened_at: work.now(),
        expires_at,
        review_due_at: expires_at + Duration::days(REVIEW_DAYS),
        reviewed_at: None,
        reviewed_by: None,
        reviewed_by_agency: None,
        justified: None,
        review_note: None,
        withheld: Vec::new(),
    };
    break_glass::insert(work.tx(), &access).await?;
    let lead = work.case().lead_agency_id;
    // Written for oversight: addressed to the lead agency, which reviews it.
    work.record(
        EventDraft::new(EventKind::BreakGlass, (p.user_id, p.agency_id))
            .reason(Some(access.justification.clone()))
            .shared(Default::default(), Some(lead))
            .details(
                json!({ "breakGlass": access.id, "agency": p.agency_id, "expiresAt": expires_at }),
            ),
    )
    .await?;
    work.notify(lead, NotificationKind::BreakGlassUsed, None, None);
    let case = work.commit().await?.case;
    tracing::warn!(case = %case.id, break_glass = %access.id, "break-glass access opened");
    let access = super::visibility::shown_one(app, p, access, |b| b.case_id).await?;
    Ok((case, access))
}

/// The lead agency's supervisor judges a break-glass access.
pub async fn review(
    app: &App,
    p: &Principal,
    id: Uuid,
    justified: bool,
    note: Option<String>,
) -> Result<BreakGlass, ServiceError> {
    check_text("note", note.as_deref(), !justified)?;
    let access = break_glass::by_id(app.store.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound("break-glass access"))?;
    let mut work = CaseWork::begin(app, Changer::Principal(p), access.case_id, None)
        .await
        .map_err(|_| ServiceError::NotFound("break-glass access"))?;
    app.authorize(
        p,
        Action::ReviewBreakGlass,
        super::cases::lead_facts(p, work.case()),
        "only a supervisor of the lead agency reviews break-glass access",
    )?;
    if !break_glass::review(
        work.tx(),
        id,
        (p.user_id, p.agency_id),
        justified,
        note.as_deref(),
        work.now(),
    )
    .await?
    {
        return Err(ServiceError::InvalidTransition(
            "this break-glass access is already reviewed".into(),
        ));
    }
    // The note is addressed to the agency that broke the glass.
    work.record(
        EventDraft::new(EventKind::BreakGlassReviewed, (p.user_id, p.agency_id))
            .reason(note)
            .shared(Default::default(), Some(access.agency_id))
            .details(json!({ "breakGlass": id, "justified": justified })),
    )
    .await?;
    work.commit().await?;
    let access = break_glass::by_id(app.store.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound("break-glass access"))?;
    super::visibility::shown_one(app, p, access, |b| b.case_id).await
}

/// A case's break-glass accesses its caller may see (see
/// [`crate::access::CaseView::sees_break_glass`]).
pub async fn of_case(app: &App, case: &VisibleCase) -> Result<Vec<BreakGlass>, ServiceError> {
    let all = break_glass::of_case(app.store.conn(), case.record().id).await?;
    Ok(all
        .into_iter()
        .filter(|b| case.view().sees_break_glass(b))
        .map(|b| case.view().texts(b))
        .collect())
}
