//! Opening cases and reading them within the caller's scope.

use super::unit_of_work::{CaseWork, Request, check_key};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::case::{Opening, opening};
use crate::domain::{CaseFilter, CaseRecord, Event};
use crate::policy::{Action as PolicyAction, Facts};
use crate::store::cases as case_store;
use crate::store::events;
use crate::workflow::{Workflow, engine};
use chrono::Datelike;
use std::sync::Arc;
use uuid::Uuid;

pub use super::transitions::{FireTransition, Fired, MAX_REASON_CHARS, fire_transition};
pub use super::unit_of_work::MAX_IDEMPOTENCY_KEY_LEN;

/// Input of [`open_case`].
#[derive(Debug, Clone)]
pub struct OpenCase {
    pub workflow_id: String,
    /// `None`: the latest loaded version.
    pub workflow_version: Option<u32>,
    pub idempotency_key: Option<String>,
    /// An earlier case (led by the caller's agency) this case continues, e.g. a child's case
    /// continued under the adult procedure at 18.
    pub follows_case_id: Option<Uuid>,
    /// The person's country of origin (ISO 3166-1 alpha-2), where known.
    pub origin_country: Option<String>,
}

const OPEN_CASE: &str = "openCase";

/// Opens a case under a workflow in the caller's agency and country.
pub async fn open_case(
    app: &App,
    p: &Principal,
    input: OpenCase,
) -> Result<CaseRecord, ServiceError> {
    app.authorize(
        p,
        PolicyAction::OpenCase,
        Facts::default(),
        "your roles do not allow opening cases",
    )?;
    let key = check_key(input.idempotency_key.as_deref())?;
    if let Some(country) = &input.origin_country {
        super::directory::check_country("originCountry", country)?;
    }
    let request = Request::new(
        OPEN_CASE,
        &(
            OPEN_CASE,
            &input.workflow_id,
            input.workflow_version,
            input.follows_case_id,
            &input.origin_country,
        ),
    );
    if let Some(key) = key
        && let Some(earlier) = request.earlier(app, p.user_id, key).await?
    {
        return visible_case(app, p, earlier.case_id).await;
    }
    let workflow = app
        .workflows
        .get(&input.workflow_id, input.workflow_version)
        .ok_or(ServiceError::NotFound("workflow"))?;
    let err = match open(app, p, &input, workflow, key, &request).await {
        Ok(case) => return Ok(case),
        Err(err) => err,
    };
    // A concurrent retry with the same key won; answer with its result.
    if err.lost_race()
        && let Some(key) = key
        && let Some(earlier) = request.earlier(app, p.user_id, key).await?
    {
        return visible_case(app, p, earlier.case_id).await;
    }
    Err(err)
}

async fn open(
    app: &App,
    p: &Principal,
    input: &OpenCase,
    workflow: Arc<Workflow>,
    key: Option<&str>,
    request: &Request,
) -> Result<CaseRecord, ServiceError> {
    if let Some(earlier) = input.follows_case_id {
        let earlier = get_case(app, p, earlier)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        app.authorize(
            p,
            PolicyAction::RecordCaseData,
            lead_facts(p, &earlier),
            "only the lead agency of the earlier case can continue it",
        )?;
    }
    let now = app.now();
    let by = (p.user_id, p.agency_id);
    let mut work = CaseWork::create(app, workflow.clone(), (&p.country, now), |number| {
        opening(
            &workflow,
            Opening {
                reference: format!("{}-{}-{number:06}", p.country, now.year()),
                country: p.country.clone(),
                by,
                at: now,
                follows_case_id: input.follows_case_id,
                origin_country: input.origin_country.clone(),
            },
        )
    })
    .await?;
    if let Some(key) = key {
        work.remember(p.user_id, key, request);
    }
    Ok(work.commit().await?.case)
}

/// The evaluation environment of a case: now, its jurisdiction and that country's calendar.
pub fn env<'a>(
    app: &'a App,
    case: &'a CaseRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> engine::Env<'a> {
    engine::Env {
        now,
        country: &case.country,
        calendar: app.workflows.calendar(&case.country),
    }
}

/// The workflow definition a case is pinned to.
pub fn workflow_of(app: &App, case: &CaseRecord) -> Result<Arc<Workflow>, ServiceError> {
    app.workflows
        .get(&case.workflow_id, Some(case.workflow_version))
        .ok_or_else(|| {
            ServiceError::internal(format!(
                "workflow {} v{} of case {} is not loaded",
                case.workflow_id, case.workflow_version, case.id
            ))
        })
}

async fn visible_case(app: &App, p: &Principal, id: Uuid) -> Result<CaseRecord, ServiceError> {
    case_store::find(app.store.conn(), p.case_scope(app.now()), id)
        .await?
        .ok_or(ServiceError::NotFound("case"))
}

/// A case the caller may see, by id.
pub async fn get_case(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<CaseRecord>, ServiceError> {
    Ok(case_store::find(app.store.conn(), p.case_scope(app.now()), id).await?)
}

/// The cases the caller may see that continue `case` (e.g. under the adult procedure).
pub async fn followers(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
) -> Result<Vec<CaseRecord>, ServiceError> {
    Ok(case_store::followers(app.store.conn(), p.case_scope(app.now()), case.id).await?)
}

/// A case the caller may see, by reference.
pub async fn case_by_reference(
    app: &App,
    p: &Principal,
    reference: &str,
) -> Result<Option<CaseRecord>, ServiceError> {
    Ok(case_store::find_by_reference(app.store.conn(), p.case_scope(app.now()), reference).await?)
}

/// Cases the caller may see, newest first.
pub async fn list_cases(
    app: &App,
    p: &Principal,
    filter: &CaseFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<CaseRecord>, ServiceError> {
    Ok(case_store::list(
        app.store.conn(),
        p.case_scope(app.now()),
        filter,
        after,
        limit,
    )
    .await?)
}

/// A page of a case's history, oldest first. The caller has already been shown the case.
pub async fn history(
    app: &App,
    case: &CaseRecord,
    after_seq: i64,
    limit: u64,
) -> Result<Vec<Event>, ServiceError> {
    Ok(events::page(app.store.conn(), case.id, after_seq, limit).await?)
}

/// What the policies need to know about a case the caller's agency may lead.
pub fn lead_facts(p: &Principal, case: &CaseRecord) -> Facts {
    Facts {
        is_lead: case.lead_agency_id == p.agency_id,
        is_party: false,
        has_access: true,
        stage: None,
        group: None,
    }
}

/// A page of a case's history as `p` may see it: `None` when the history is not shared with
/// the caller's agency (participants), cut at the hand-over for a former lead.
pub async fn history_for(
    app: &App,
    p: &Principal,
    case: &CaseRecord,
    after_seq: i64,
    limit: u64,
) -> Result<Option<Vec<Event>>, ServiceError> {
    let view = super::sharing::case_view(app, p, case).await?;
    let Some(until) = view.history_until() else {
        return Ok(None);
    };
    let mut events = history(app, case, after_seq, limit).await?;
    if let Some(until) = until {
        events.retain(|e| e.occurred_at <= until);
    }
    Ok(Some(events))
}

/// An event the caller may see (its case is visible to them), by id.
pub async fn visible_event(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<Event>, ServiceError> {
    let Some(event) = events::by_id(app.store.conn(), id).await? else {
        return Ok(None);
    };
    let Some(case) = get_case(app, p, event.case_id).await? else {
        return Ok(None);
    };
    // The same rule as `Case.history`: participants see no events, former leads up to their time.
    let view = super::sharing::case_view(app, p, &case).await?;
    Ok(match view.history_until() {
        Some(None) => Some(event),
        Some(Some(until)) if event.occurred_at <= until => Some(event),
        _ => None,
    })
}
