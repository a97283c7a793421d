//! Opening cases and reading them within the caller's scope.

use super::unit_of_work::{CaseWork, Request, check_key};
use super::{App, ServiceError};
use crate::access::policy::{Action as PolicyAction, Facts, Verdict};
use crate::access::{CaseScope, Field, Principal, VisibleCase};
use crate::domain::case::{Opening, opening};
use crate::domain::{CaseFilter, CaseRecord, CaseStatus, Event};
use crate::store::cases as case_store;
use crate::store::events;
use crate::workflow::Workflow;
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
        && let Some(earlier) = request.earlier_after_race(app, p.user_id, key).await?
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
        let earlier = visible_case(app, p, earlier).await?;
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
    if let Some(earlier) = input.follows_case_id {
        // Under the earlier case's lock, so that two follow-ons cannot both find it alone.
        let earlier = case_store::lock(work.tx(), CaseScope::All, earlier)
            .await?
            .ok_or(ServiceError::NotFound("case"))?;
        one_active_case(work.tx(), &earlier).await?;
    }
    if let Some(key) = key {
        work.remember(p.user_id, key, request);
    }
    Ok(work.commit().await?.case)
}

/// A case in the caller's scope, unredacted (for the use cases that go on to change it or
/// answer with it through [`seen_by`]).
/// A person has one active case per lead agency: a case continuing `earlier` is opened only
/// once it is closed and nothing else continues it still. Another procedure for the same person
/// is not a second case: the case's own step continues it under that procedure
/// (`continues_under`, e.g. `apply_child_procedure`, `hand_over_to_adult_procedure`).
async fn one_active_case<C: sea_orm::ConnectionTrait>(
    conn: &C,
    earlier: &CaseRecord,
) -> Result<(), ServiceError> {
    let open = |c: &CaseRecord| c.status != CaseStatus::Closed;
    let still = if open(earlier) {
        Some(earlier.reference.clone())
    } else {
        case_store::followers(conn, CaseScope::All, earlier.id)
            .await?
            .into_iter()
            .find(|c| open(c) && c.lead_agency_id == earlier.lead_agency_id)
            .map(|c| c.reference)
    };
    match still {
        Some(reference) => Err(ServiceError::CaseStillActive(format!(
            "case {reference} is still open, and a person has one active case per lead agency: \
             continue that case (to continue under another procedure, fire its step that does)"
        ))),
        None => Ok(()),
    }
}

pub(super) async fn visible_case(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<CaseRecord, ServiceError> {
    case_store::find(app.store.conn(), p.case_scope(app.now()), id)
        .await?
        .ok_or(ServiceError::NotFound("case"))
}

/// `case` (just changed by `p`) as `p` may now see it; `None` when `p` no longer sees it.
pub async fn seen_by(
    app: &App,
    p: &Principal,
    case: CaseRecord,
) -> Result<Option<VisibleCase>, ServiceError> {
    seen_after(app, p, case, None).await
}

/// [`seen_by`] for a case just changed, with its sharing history as the change left it when the
/// change read it (see [`super::visibility::visible_after`]).
pub async fn seen_after(
    app: &App,
    p: &Principal,
    case: CaseRecord,
    sharing: Option<crate::store::disclosures::Sharing>,
) -> Result<Option<VisibleCase>, ServiceError> {
    match super::visibility::visible_after(app, p, case, sharing).await {
        Ok(case) => Ok(Some(case)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A case the caller may see, by id.
pub async fn get_case(
    app: &App,
    p: &Principal,
    id: Uuid,
) -> Result<Option<VisibleCase>, ServiceError> {
    let found = case_store::find(app.store.conn(), p.case_scope(app.now()), id).await?;
    visible_one(app, p, found).await
}

/// The cases among `ids` the caller may see, as they may see them (in no particular order).
pub async fn get_cases(
    app: &App,
    p: &Principal,
    ids: &[Uuid],
) -> Result<Vec<VisibleCase>, ServiceError> {
    let found = case_store::find_many(app.store.conn(), p.case_scope(app.now()), ids).await?;
    super::visibility::visible_page(app, p, found).await
}

async fn visible_one(
    app: &App,
    p: &Principal,
    found: Option<CaseRecord>,
) -> Result<Option<VisibleCase>, ServiceError> {
    match found {
        Some(case) => seen_by(app, p, case).await,
        None => Ok(None),
    }
}

/// The cases the caller may see that continue `case` (e.g. under the adult procedure).
pub async fn followers(
    app: &App,
    p: &Principal,
    case: &VisibleCase,
) -> Result<Vec<VisibleCase>, ServiceError> {
    let found =
        case_store::followers(app.store.conn(), p.case_scope(app.now()), case.record().id).await?;
    super::visibility::visible_page(app, p, found).await
}

/// The earlier case `case` continues, if the caller may see it.
pub async fn followed(
    app: &App,
    p: &Principal,
    case: &VisibleCase,
) -> Result<Option<VisibleCase>, ServiceError> {
    match case.record().follows_case_id {
        Some(id) => get_case(app, p, id).await,
        None => Ok(None),
    }
}

/// A case the caller may see, by reference.
pub async fn case_by_reference(
    app: &App,
    p: &Principal,
    reference: &str,
) -> Result<Option<VisibleCase>, ServiceError> {
    let found =
        case_store::find_by_reference(app.store.conn(), p.case_scope(app.now()), reference).await?;
    visible_one(app, p, found).await
}

/// Cases the caller may see, newest first (`limit` of them at most; the store's scope and the
/// access model agree, so none of a page is dropped).
pub async fn list_cases(
    app: &App,
    p: &Principal,
    filter: &CaseFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<VisibleCase>, ServiceError> {
    let found = case_store::list(
        app.store.conn(),
        p.case_scope(app.now()),
        filter,
        after,
        limit,
    )
    .await?;
    super::visibility::visible_page(app, p, found).await
}

/// What the policies need to know about a case the caller's agency may lead.
pub fn lead_facts(p: &Principal, case: &CaseRecord) -> Facts {
    Facts {
        is_lead: case.lead_agency_id == p.agency_id,
        is_party: false,
        has_access: true,
        is_involved: false,
        stage: None,
        group: None,
    }
}

/// A page of a case's history as its caller may see it, oldest first: `None` when the history
/// is not shown (participants); cut at the hand-over for a former lead; reasons written by
/// other agencies withheld.
pub async fn history(
    app: &App,
    case: &VisibleCase,
    after_seq: i64,
    limit: u64,
) -> Result<Option<Vec<Event>>, ServiceError> {
    if !case.sees(Field::History) {
        return Ok(None);
    }
    let events = events::page(app.store.conn(), case.record().id, after_seq, limit).await?;
    Ok(Some(
        events
            .into_iter()
            .filter_map(|e| case.view().event(e))
            .collect(),
    ))
}

/// An event the caller may see (its case is visible to them and so is the event), by id.
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
    Ok(case.view().event(event))
}

/// What the caller may do on the case, each with the policies that decided it.
pub fn permissions(app: &App, p: &Principal, case: &VisibleCase) -> Vec<(PolicyAction, Verdict)> {
    let facts = case.view().policy_facts();
    use PolicyAction as A;
    [
        A::FireTransition,
        A::RecordCaseData,
        A::Refer,
        A::OfferTransfer,
        A::RequestTransfer,
        A::OverrideConsent,
        A::MigrateCase,
        A::ReviewBreakGlass,
        A::BreakGlass,
        A::ReadAudit,
        A::FindSamePerson,
    ]
    .into_iter()
    .map(|action| (action, app.decide(p, action, facts)))
    .collect()
}
