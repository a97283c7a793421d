//! What a principal may see of cases: the sharing history read from the store, handed to the
//! one access model ([`CaseView`]), and the cases returned as [`VisibleCase`]s. A page of cases
//! gets its views in five queries whatever its length. Records that carry free text (referrals,
//! transfers, feedback, consents, break-glass accesses, events) leave the services through the
//! same views ([`shown`], or [`CaseView::texts`] where the case is at hand).

use super::{App, ServiceError};
use crate::access::{
    CaseView, FreeTexts, Principal, ReferralShare, SharingRecord, TransferShare, VisibleCase,
};
use crate::domain::{CaseRecord, DataGroup, ReferralRecord, Role, TransferRecord};
use crate::store::{break_glass, cases as case_store, disclosures};
use sea_orm::ConnectionTrait;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// `case` as `p` may see it; `NOT_FOUND` when `p` may not see it at all.
pub async fn visible(
    app: &App,
    p: &Principal,
    case: CaseRecord,
) -> Result<VisibleCase, ServiceError> {
    visible_after(app, p, case, None).await
}

/// [`visible`] for a case just changed, with its sharing history as the change left it when the
/// change read it (`None`: read it now).
pub async fn visible_after(
    app: &App,
    p: &Principal,
    case: CaseRecord,
    sharing: Option<disclosures::Sharing>,
) -> Result<VisibleCase, ServiceError> {
    let view = match sharing {
        Some(mut sharing) => {
            let ended = sharing.ended.remove(&case.id).unwrap_or_default();
            let record = record_of(&case, &sharing.referrals, &sharing.transfers, ended);
            view_of(app, app.store.conn(), p, &case, record).await?
        }
        None => view(app, app.store.conn(), p, &case).await?,
    };
    Ok(VisibleCase::new(case, view))
}

/// `cases` as `p` may see them, in order (five queries for the page); those `p` may not see
/// are left out.
pub async fn visible_page(
    app: &App,
    p: &Principal,
    cases: Vec<CaseRecord>,
) -> Result<Vec<VisibleCase>, ServiceError> {
    let views = views(app, app.store.conn(), p, &cases).await?;
    Ok(cases
        .into_iter()
        .zip(views)
        .filter_map(|(case, view)| Some(VisibleCase::new(case, view?)))
        .collect())
}

/// `records` (of any cases) with every free text `p` may not read withheld, by the one rule
/// ([`CaseView::sees_text`]) applied with `p`'s view of each record's case (`case_of`); of a
/// record of a case `p` has no view of, only the texts its agency wrote or is addressed by are
/// kept. Five queries whatever their number.
pub async fn shown<T: FreeTexts>(
    app: &App,
    p: &Principal,
    records: Vec<T>,
    case_of: impl Fn(&T) -> Uuid,
) -> Result<Vec<T>, ServiceError> {
    let mut ids: Vec<Uuid> = records.iter().map(&case_of).collect();
    ids.sort_unstable();
    ids.dedup();
    let cases = case_store::find_many(app.store.conn(), p.case_scope(app.now()), &ids).await?;
    let views: HashMap<Uuid, CaseView> = cases
        .iter()
        .map(|c| c.id)
        .zip(views(app, app.store.conn(), p, &cases).await?)
        .filter_map(|(id, view)| Some((id, view?)))
        .collect();
    Ok(records
        .into_iter()
        .map(|r| {
            let view = views.get(&case_of(&r));
            CaseView::shown(view, p.agency_id, r)
        })
        .collect())
}

/// [`shown`] for one record.
pub async fn shown_one<T: FreeTexts>(
    app: &App,
    p: &Principal,
    record: T,
    case_of: impl Fn(&T) -> Uuid,
) -> Result<T, ServiceError> {
    shown(app, p, vec![record], case_of)
        .await?
        .pop()
        .ok_or_else(|| ServiceError::internal("a shown record went missing"))
}

/// The sharing history of a case, for access decisions.
pub async fn sharing_record<C: ConnectionTrait>(
    conn: &C,
    case: &CaseRecord,
) -> Result<SharingRecord, ServiceError> {
    let mut sharing = disclosures::sharing_of_cases(conn, &[case.id]).await?;
    let ended = sharing.ended.remove(&case.id).unwrap_or_default();
    Ok(record_of(
        case,
        &sharing.referrals,
        &sharing.transfers,
        ended,
    ))
}

fn record_of(
    case: &CaseRecord,
    referrals: &[ReferralRecord],
    transfers: &[TransferRecord],
    ended: BTreeSet<Uuid>,
) -> SharingRecord {
    SharingRecord {
        opened_by_agency: case.opened_by_agency_id,
        opened_at: case.opened_at,
        lead_agency: case.lead_agency_id,
        referrals: referrals.iter().map(ReferralShare::from).collect(),
        transfers: transfers.iter().map(TransferShare::from).collect(),
        ended,
    }
}

/// The data groups `p`'s roles may read at all (the policies' `read_group`).
fn role_groups(app: &App, p: &Principal) -> BTreeSet<DataGroup> {
    app.workflows
        .policies()
        .map(|policies| policies.readable_groups(&p.roles))
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// [`view`] for a page of cases in five queries (three round trips on SQLite) whatever its
/// length (a list would otherwise ask four per case); `None` where `p` may not see the case.
async fn views<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    cases: &[CaseRecord],
) -> Result<Vec<Option<CaseView>>, ServiceError> {
    let ids: Vec<Uuid> = cases.iter().map(|c| c.id).collect();
    let ids = if p.has(Role::Auditor) {
        Vec::new()
    } else {
        ids
    };
    let sharing = disclosures::sharing_of_cases(conn, &ids).await?;
    let mut referrals: HashMap<Uuid, Vec<ReferralRecord>> = HashMap::new();
    for r in sharing.referrals {
        referrals.entry(r.case_id).or_default().push(r);
    }
    let mut transfers: HashMap<Uuid, Vec<TransferRecord>> = HashMap::new();
    for t in sharing.transfers {
        transfers.entry(t.case_id).or_default().push(t);
    }
    let mut ended = sharing.ended;
    let rows = case_store::with_access(conn, &ids, p.agency_id).await?;
    let glass = break_glass::active_until_many(conn, &ids, p.user_id, app.now()).await?;
    let groups = role_groups(app, p);
    Ok(cases
        .iter()
        .map(|case| {
            let record = record_of(
                case,
                referrals.get(&case.id).map_or(&[][..], Vec::as_slice),
                transfers.get(&case.id).map_or(&[][..], Vec::as_slice),
                ended.remove(&case.id).unwrap_or_default(),
            );
            CaseView::of(
                p,
                &record,
                rows.contains(&case.id),
                glass.get(&case.id).copied(),
                groups.clone(),
            )
        })
        .collect())
}

/// What `p` may see of a case it can see (the store already applied the case scope).
pub async fn view<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    case: &CaseRecord,
) -> Result<CaseView, ServiceError> {
    // Auditors see every case whole: their view needs nothing from the sharing history.
    let record = if p.has(Role::Auditor) {
        record_of(case, &[], &[], BTreeSet::new())
    } else {
        sharing_record(conn, case).await?
    };
    view_of(app, conn, p, case, record).await
}

/// [`view`] from the case's sharing history `record`.
async fn view_of<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    case: &CaseRecord,
    record: SharingRecord,
) -> Result<CaseView, ServiceError> {
    let now = app.now();
    let (has_row, glass) = if CaseView::depends_on_rows(p, case.lead_agency_id) {
        (
            case_store::has_access(conn, case.id, p.agency_id).await?,
            break_glass::active_until(conn, case.id, p.user_id, now).await?,
        )
    } else {
        (false, None)
    };
    CaseView::of(p, &record, has_row, glass, role_groups(app, p))
        .ok_or(ServiceError::NotFound("case"))
}
