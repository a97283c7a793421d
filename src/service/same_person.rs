//! The same person again: an agency that finds a person again (re-trafficked, or presenting
//! elsewhere) links its case to her earlier case by reference, and can first learn that such a
//! case exists without learning anything about her.
//!
//! - **Match keys.** When a case's IDENTITY is recorded, the keys of that identity
//!   ([`crate::domain::person_match`]) replace the case's earlier ones, in the same transaction.
//! - **The search** ([`find_earlier_cases`]), by the lead of a case: the keys of the identity
//!   searched are compared with every other case's; the answer is, per lead agency of a
//!   matching case of another agency, only that a case exists and who leads it. Each case
//!   disclosed about gets an access-log entry (`MATCH`: who, when, the purpose) and its lead an
//!   inbox entry naming the searching agency; the search itself is an event on the searcher's
//!   case (the purpose as its reason). An asylum seeker's case is never disclosed to an
//!   authority of her country of origin.
//! - **The link** ([`link`]): by the earlier case's reference, verified, recorded on both
//!   cases (one `SAME_PERSON_LINKED` event each, in one transaction), notified to the earlier
//!   lead and to the focal points of both countries. It gives the finder no access to the
//!   earlier case: sharing then goes by the usual grounds (a referral or transfer with consent).
//!
//! Just over the house's 400 lines: the search and the link share their door (the lead's
//! `find_same_person`) and the rule on an asylum seeker's origin authorities.

use super::disclosure::{check_text, may_be_origin_authority};
use super::person::MAX_PURPOSE_CHARS;
use super::unit_of_work::{CaseWork, Changer, Request, check_key};
use super::{App, ServiceError};
use crate::access::policy::Action;
use crate::access::{CaseScope, Principal, VisibleCase};
use crate::domain::person_match::{BirthYears, MAX_RANGE_YEARS, MIN_BIRTH_YEAR, MatchIdentity};
use crate::domain::{
    AccessKind, Agency, CaseRecord, EventDraft, EventKind, Notification, NotificationKind,
    PersonalDataRead, SamePersonLink,
};
use crate::store::WriteTxn;
use crate::store::cases as case_store;
use crate::store::{access_log, directory, events, same_person};
use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Searches a case may make in 24 hours: enough to try a spelling or an alias, not to trawl.
pub const MAX_SEARCHES_PER_DAY: usize = 5;
/// Shortest accepted purpose of a search (a few words, not a tick box).
pub const MIN_PURPOSE_CHARS: usize = 10;
/// Longest accepted names searched for, and reference linked to.
pub const MAX_NAMES_CHARS: usize = 300;
const MAX_REFERENCE_CHARS: usize = 64;

const LINK: &str = "linkSamePerson";

/// Derives the match keys of the IDENTITY `value` just recorded on `case_id` and replaces the
/// case's earlier keys with them, in the recording's transaction. Without a match secret the
/// case keeps no keys (nothing could be compared with them).
pub(super) async fn replace_keys(
    app: &App,
    tx: &WriteTxn,
    case_id: Uuid,
    value: &Json,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), ServiceError> {
    let (key_id, keys) = match app.match_secret() {
        Some(secret) => (
            secret.key_id(),
            MatchIdentity::of_identity_group(value)
                .map(|i| i.keys(secret))
                .unwrap_or_default(),
        ),
        None => (String::new(), BTreeSet::new()),
    };
    same_person::replace_keys(tx, case_id, &key_id, &keys, at).await?;
    Ok(())
}

/// Input of [`find_earlier_cases`]: the caller's case and the identity looked for.
#[derive(Debug, Clone)]
pub struct Search {
    /// A case the caller's agency leads (the person found again).
    pub case_id: Uuid,
    /// Her names as known (given and family names in any order, any script).
    pub names: String,
    /// Her date of birth, when known exactly.
    pub date_of_birth: Option<NaiveDate>,
    /// Otherwise the estimate: the earliest and latest years she may have been born in.
    pub born_from: Option<i32>,
    pub born_to: Option<i32>,
    /// Why the search is made (recorded; shown to auditors).
    pub purpose: String,
}

impl Search {
    /// The identity searched for and the purpose, or why they cannot be searched.
    fn checked(&self, this_year: i32) -> Result<(MatchIdentity, String), ServiceError> {
        let purpose = self.purpose.trim();
        if purpose.chars().count() < MIN_PURPOSE_CHARS {
            return Err(ServiceError::validation(format!(
                "purpose: say why you look for an earlier case, in at least {MIN_PURPOSE_CHARS} \
                 characters"
            )));
        }
        if purpose.chars().count() > MAX_PURPOSE_CHARS {
            return Err(ServiceError::validation(format!(
                "purpose is longer than {MAX_PURPOSE_CHARS} characters"
            )));
        }
        if self.names.chars().count() > MAX_NAMES_CHARS {
            return Err(ServiceError::validation(format!(
                "names is longer than {MAX_NAMES_CHARS} characters"
            )));
        }
        if crate::domain::person_match::normalise_name(&self.names).len() < 2 {
            return Err(ServiceError::validation(
                "names: give at least two of her names (a given and a family name); one name \
                 alone is not searched",
            ));
        }
        let born = match (self.date_of_birth, self.born_from, self.born_to) {
            (Some(date), None, None) => BirthYears::exact(date.year()),
            (None, Some(from), Some(to)) => BirthYears { from, to },
            _ => {
                return Err(ServiceError::validation(
                    "give either dateOfBirth, or bornFrom and bornTo (an estimate)",
                ));
            }
        };
        if !born.is_matchable() || born.to > this_year {
            return Err(ServiceError::validation(format!(
                "the birth years must run from {MIN_BIRTH_YEAR} to this year, the earliest \
                 first, at most {MAX_RANGE_YEARS} years apart"
            )));
        }
        let identity = MatchIdentity {
            names: vec![self.names.clone()],
            born,
        };
        Ok((identity, purpose.to_string()))
    }
}

/// What a search answers: the case it was made for, and the lead agency of each agency's
/// matching cases (once per agency; nothing else about them).
#[derive(Debug, Clone)]
pub struct Found {
    pub case: CaseRecord,
    pub leads: Vec<Agency>,
}

/// Looks for earlier cases of the person of the caller's case (see the module documentation).
pub async fn find_earlier_cases(
    app: &App,
    p: &Principal,
    search: Search,
) -> Result<Found, ServiceError> {
    // A case the caller may not see answers as one that does not exist, before anything else.
    let case = super::cases::visible_case(app, p, search.case_id).await?;
    authorize(app, p, &case)?;
    let (identity, purpose) = search.checked(app.now().year())?;
    let Some(secret) = app.match_secret() else {
        return Err(ServiceError::Forbidden(
            "this instance has no person-match key (--match-key-file): matching is off".into(),
        ));
    };
    let mut work = CaseWork::begin(app, Changer::Principal(p), search.case_id, None).await?;
    authorize(app, p, work.case())?;
    let since = work.now() - Duration::hours(24);
    let recent = events::of_kind(work.tx(), search.case_id, EventKind::SamePersonSearched)
        .await?
        .into_iter()
        .filter(|e| e.occurred_at > since)
        .count();
    if recent >= MAX_SEARCHES_PER_DAY {
        return Err(ServiceError::Forbidden(format!(
            "at most {MAX_SEARCHES_PER_DAY} searches per case in 24 hours: try again later"
        )));
    }
    let searcher = super::disclosure::agency(work.tx(), p.agency_id).await?;
    let ids = same_person::cases_with_keys(
        work.tx(),
        &secret.key_id(),
        &identity.keys(secret),
        search.case_id,
    )
    .await?;
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut leads: BTreeMap<Uuid, Agency> = BTreeMap::new();
    for found in case_store::find_many(work.tx(), CaseScope::All, &ids).await? {
        // The caller's agency knows its own cases; an asylum seeker's case is never disclosed
        // to an authority of her country of origin.
        let banned =
            app.person_status(&found)?.asylum_seeker && may_be_origin_authority(&found, &searcher);
        if found.lead_agency_id == p.agency_id || banned {
            continue;
        }
        access_log::insert(
            work.tx(),
            &PersonalDataRead {
                id: Uuid::now_v7(),
                case_id: found.id,
                kind: AccessKind::Match,
                user_id: p.user_id,
                agency_id: p.agency_id,
                read_at: work.now(),
                purpose: Some(purpose.clone()),
                purpose_category: None,
                recipient: None,
                groups: BTreeSet::new(),
            },
        )
        .await?;
        work.notify_about(
            found.lead_agency_id,
            NotificationKind::SamePersonMatched,
            found.id,
            None,
            Some(p.agency_id),
        );
        if !leads.contains_key(&found.lead_agency_id) {
            let lead = super::disclosure::agency(work.tx(), found.lead_agency_id).await?;
            leads.insert(lead.id, lead);
        }
    }
    work.record(
        EventDraft::new(EventKind::SamePersonSearched, (p.user_id, p.agency_id))
            .reason(Some(purpose))
            .details(json!({ "leadAgencies": leads.keys().collect::<Vec<_>>() })),
    )
    .await?;
    let case = work.commit().await?.case;
    let mut leads: Vec<Agency> = leads.into_values().collect();
    leads.sort_by(|a, b| (&a.country, &a.name).cmp(&(&b.country, &b.name)));
    tracing::info!(case = %case.id, found = leads.len(), "earlier cases of the same person looked for");
    Ok(Found { case, leads })
}

/// Input of [`link`].
#[derive(Debug, Clone)]
pub struct LinkSamePerson {
    /// The caller's case (its agency leads it).
    pub case_id: Uuid,
    /// The earlier case's reference, e.g. `IT-2026-000123`.
    pub earlier_reference: String,
    pub idempotency_key: Option<String>,
}

/// What [`link`] recorded.
#[derive(Debug, Clone)]
pub struct Linked {
    /// The caller's case after its `SAME_PERSON_LINKED` event.
    pub case: CaseRecord,
    pub link: SamePersonLink,
    /// True when this answers an idempotent retry (nothing was done again).
    pub replayed: bool,
}

/// Links the caller's case to an earlier case of the same person (see the module
/// documentation). `NOT_FOUND` for a reference no case has; nothing is recorded then.
pub async fn link(app: &App, p: &Principal, input: LinkSamePerson) -> Result<Linked, ServiceError> {
    let key = check_key(input.idempotency_key.as_deref())?;
    let reference = input.earlier_reference.trim().to_string();
    check_text("earlierReference", Some(reference.as_str()), true)?;
    if reference.chars().count() > MAX_REFERENCE_CHARS {
        return Err(ServiceError::validation("earlierReference is too long"));
    }
    let request = Request::new(LINK, &(LINK, input.case_id, &reference));
    if let Some(key) = key
        && let Some(earlier) = request.earlier(app, p.user_id, key).await?
    {
        return replayed(app, p, earlier.case_id, earlier.event_id).await;
    }
    let err = match record_link(app, p, input.case_id, &reference, key, &request).await {
        Ok(linked) => return Ok(linked),
        Err(err) => err,
    };
    // A concurrent retry with the same key won; answer with its result.
    if err.lost_race()
        && let Some(key) = key
        && let Some(earlier) = request.earlier_after_race(app, p.user_id, key).await?
    {
        return replayed(app, p, earlier.case_id, earlier.event_id).await;
    }
    Err(err)
}

async fn record_link(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    reference: &str,
    key: Option<&str>,
    request: &Request,
) -> Result<Linked, ServiceError> {
    let case = super::cases::visible_case(app, p, case_id).await?;
    authorize(app, p, &case)?;
    let earlier = case_store::find_by_reference(app.store.conn(), CaseScope::All, reference)
        .await?
        .ok_or(ServiceError::NotFound("case"))?;
    if earlier.id == case.id {
        return Err(ServiceError::validation(
            "earlierReference is this case's own reference: a case is not linked to itself",
        ));
    }
    let mut work = CaseWork::begin_pair(app, Changer::Principal(p), case_id, earlier.id).await?;
    authorize(app, p, work.case())?;
    let (case, earlier) = match work.other_case() {
        Some(earlier) => (work.case().clone(), earlier.clone()),
        None => return Err(ServiceError::internal("the earlier case was not locked")),
    };
    refuse_a_second_link(&work, &case, &earlier).await?;
    let link = SamePersonLink {
        id: Uuid::now_v7(),
        case_id: case.id,
        case_reference: case.reference.clone(),
        earlier_case_id: earlier.id,
        earlier_reference: earlier.reference.clone(),
        agency_id: p.agency_id,
        linked_by: p.user_id,
        linked_at: work.now(),
    };
    same_person::insert_link(work.tx(), &link).await?;
    let draft = EventDraft::new(EventKind::SamePersonLinked, (p.user_id, p.agency_id)).details(
        json!({ "link": link.id, "case": link.case_reference, "earlierCase": link.earlier_reference }),
    );
    work.record(draft.clone()).await?;
    work.record_on_other(draft).await?;
    notify_link(app, &mut work, &link, (&case, &earlier)).await?;
    if let Some(key) = key {
        work.remember(p.user_id, key, request);
    }
    let case = work.commit().await?.case;
    tracing::info!(case = %case.id, link = %link.id, "case linked to an earlier case of the same person");
    Ok(Linked {
        case,
        link,
        replayed: false,
    })
}

/// Refuses a link the two cases already have: the same link (either way), or a follow-on
/// (the same agency continuing its case, which already joins them).
async fn refuse_a_second_link(
    work: &CaseWork<'_>,
    case: &CaseRecord,
    earlier: &CaseRecord,
) -> Result<(), ServiceError> {
    if let Some(l) = same_person::link_between(work.tx(), case.id, earlier.id).await? {
        return Err(ServiceError::validation(format!(
            "case {} and case {} are already linked as the same person (since {})",
            l.case_reference,
            l.earlier_reference,
            l.linked_at.date_naive()
        )));
    }
    if case.follows_case_id == Some(earlier.id) || earlier.follows_case_id == Some(case.id) {
        return Err(ServiceError::validation(
            "one of these cases continues the other (followsCaseId): they are already joined",
        ));
    }
    if earlier.lead_agency_id == case.lead_agency_id {
        return Err(ServiceError::validation(
            "your agency leads the earlier case too: a link is for another agency's case; your \
             agency continues its own case by opening the next one with followsCaseId",
        ));
    }
    Ok(())
}

/// Tells the earlier case's lead and the focal points of both leads' countries about a new
/// link (each once; never the finder, never an authority of an asylum seeker's country of
/// origin). Ids only: the link names the cases by reference.
async fn notify_link(
    app: &App,
    work: &mut CaseWork<'_>,
    link: &SamePersonLink,
    (case, earlier): (&CaseRecord, &CaseRecord),
) -> Result<(), ServiceError> {
    let finder = link.agency_id;
    work.notify_about(
        earlier.lead_agency_id,
        NotificationKind::SamePersonLinked,
        earlier.id,
        Some(link.id),
        Some(finder),
    );
    let mut told: BTreeSet<Uuid> = BTreeSet::from([finder, earlier.lead_agency_id]);
    let earlier_lead = super::disclosure::agency(work.tx(), earlier.lead_agency_id).await?;
    let finder_agency = super::disclosure::agency(work.tx(), finder).await?;
    let asylum = (
        app.person_status(case)?.asylum_seeker,
        app.person_status(earlier)?.asylum_seeker,
    );
    for (country, about) in [
        (&earlier_lead.country, earlier.id),
        (&finder_agency.country, case.id),
    ] {
        let Some(fp) = directory::focal_point(work.tx(), country).await? else {
            continue;
        };
        let banned = (asylum.0 && may_be_origin_authority(case, &fp))
            || (asylum.1 && may_be_origin_authority(earlier, &fp));
        if banned || !told.insert(fp.id) {
            continue;
        }
        work.notify_about(
            fp.id,
            NotificationKind::SamePersonLinked,
            about,
            Some(link.id),
            Some(finder),
        );
    }
    Ok(())
}

/// The answer to a retried link: the case as the caller sees it now and the link recorded.
async fn replayed(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    event_id: Option<Uuid>,
) -> Result<Linked, ServiceError> {
    let case = super::cases::visible_case(app, p, case_id).await?;
    let event = match event_id {
        Some(id) => events::by_id(app.store.conn(), id).await?,
        None => None,
    };
    let link_id = event
        .as_ref()
        .and_then(|e| e.details.as_ref())
        .and_then(|d| d.get("link"))
        .and_then(Json::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ServiceError::internal("a remembered link names no link"))?;
    let link = same_person::link_by_id(app.store.conn(), link_id)
        .await?
        .ok_or(ServiceError::NotFound("link"))?;
    Ok(Linked {
        case,
        link,
        replayed: true,
    })
}

/// The same-person links of a case its caller may see them on (its lead, auditors,
/// break-glass; see [`crate::access::CaseView::sees_same_person_links`]), oldest first.
pub async fn links_of(app: &App, case: &VisibleCase) -> Result<Vec<SamePersonLink>, ServiceError> {
    if !case.view().sees_same_person_links() {
        return Ok(Vec::new());
    }
    Ok(same_person::links_of_case(app.store.conn(), case.record().id).await?)
}

/// The link an inbox entry of the caller's agency reports.
pub async fn link_of_notification(
    app: &App,
    p: &Principal,
    n: &Notification,
) -> Result<Option<SamePersonLink>, ServiceError> {
    match n.same_person_link_id {
        Some(id) if n.agency_id == p.agency_id => {
            Ok(same_person::link_by_id(app.store.conn(), id).await?)
        }
        _ => Ok(None),
    }
}

fn authorize(app: &App, p: &Principal, case: &CaseRecord) -> Result<(), ServiceError> {
    app.authorize(
        p,
        Action::FindSamePerson,
        super::cases::lead_facts(p, case),
        "only the lead agency's case workers look for and link earlier cases of its case's person",
    )
}
