//! The checks a referral or an offer of transfer passes before anything leaves the agency, and
//! the disclosure manifest they decide. One function, [`check`], serves both the acts
//! (`makeReferral`, `offerTransfer`: the first refusal ends them) and their previews
//! (`previewReferral`, `previewTransfer`: every refusal is reported), so that what a preview
//! promises is what the act then does.

use super::disclosure::{
    Disclosure, GroundRequest, agency, check_asylum_ban, check_groups, check_lead, check_text,
    ground_for,
};
use super::{App, ServiceError};
use crate::access::{Principal, free_text};
use crate::domain::{Agency, CaseRecord, ConsentPurpose, DataGroup, Ground, TransferStatus};
use crate::store::disclosures;
use sea_orm::ConnectionTrait;
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;
use uuid::Uuid;

/// What kind of sharing is proposed, with what only that kind carries.
#[derive(Debug, Clone, Copy)]
pub enum Act<'a> {
    /// A service referral, with its purpose.
    Referral { purpose: &'a str },
    /// An offer of the case's lead, with the facts the workflow's transfer step records and
    /// the reason that goes with the offer.
    Transfer {
        data: &'a Map<String, Json>,
        reason: Option<&'a str>,
    },
}

/// A referral or transfer as proposed: to whom, which groups, on which ground.
#[derive(Debug, Clone, Copy)]
pub struct Proposal<'a> {
    pub act: Act<'a>,
    pub to_agency_id: Uuid,
    pub groups: &'a BTreeSet<DataGroup>,
    pub ground: &'a GroundRequest,
    pub respond_within_days: Option<u32>,
    /// The version of the case the proposer saw, if it says.
    pub expected_version: Option<i64>,
}

/// A free text that travels with the act: shared as the act's groups, addressed to the
/// receiver ([`crate::access::CaseView::sees_text`] then decides who else reads it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TravellingText {
    /// Its API name (`purpose`, `reason`, `ground.overrideJustification`).
    pub name: &'static str,
    pub shared_as: BTreeSet<DataGroup>,
}

/// What a referral or transfer would carry now, and every reason it would be refused.
#[derive(Debug)]
pub struct Manifest {
    /// The receiver (`None` when it does not exist: then a refusal says so).
    pub to: Option<Agency>,
    /// The disclosure manifest: exactly the groups the receiver would see.
    pub shared: BTreeSet<DataGroup>,
    /// The ground the act would rely on (the named consent, the override, or the covering
    /// consent found); `None` when there is none.
    pub ground: Option<Ground>,
    /// For a transfer: the workflow's transfer step that its acceptance fires.
    pub transition: Option<String>,
    /// Days the receiver would have to answer.
    pub respond_within_days: u32,
    /// The free texts that go with it.
    pub texts: Vec<TravellingText>,
    /// Why the act would be refused, in the order the act meets them (empty: it would go).
    pub refusals: Vec<ServiceError>,
}

/// A proposal every check passed: what the act records.
#[derive(Debug)]
pub struct Approved {
    pub to: Agency,
    pub ground: Ground,
    pub transition: Option<String>,
    pub respond_within_days: u32,
}

impl Manifest {
    /// The proposal as the act records it, or the first refusal (what the act answers).
    pub fn approved(self) -> Result<Approved, ServiceError> {
        if let Some(first) = self.refusals.into_iter().next() {
            return Err(first);
        }
        match (self.to, self.ground) {
            (Some(to), Some(ground)) => Ok(Approved {
                to,
                ground,
                transition: self.transition,
                respond_within_days: self.respond_within_days,
            }),
            _ => Err(ServiceError::internal(
                "a sharing passed its checks without a receiver or a ground",
            )),
        }
    }
}

/// Whether `e` refuses the proposal (reported), rather than a fault that ends the checking.
fn is_refusal(e: &ServiceError) -> bool {
    matches!(
        e,
        ServiceError::Forbidden(_)
            | ServiceError::NotFound(_)
            | ServiceError::Validation { .. }
            | ServiceError::GuardFailed { .. }
            | ServiceError::InvalidTransition(_)
            | ServiceError::ConsentRequired(_)
            | ServiceError::LegalBan(_)
            | ServiceError::VersionConflict { .. }
    )
}

/// Collects refusals; passes faults on.
#[derive(Default)]
struct Refusals(Vec<ServiceError>);

impl Refusals {
    fn keep<T>(&mut self, result: Result<T, ServiceError>) -> Result<Option<T>, ServiceError> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) if is_refusal(&e) => {
                // Two checks may refuse for one reason (the lead protections, say): say it once.
                let message = e.to_string();
                if !self.0.iter().any(|r| r.to_string() == message) {
                    self.0.push(e);
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

fn check_days(days: Option<u32>, default: u32) -> Result<u32, ServiceError> {
    let days = days.unwrap_or(default);
    if days == 0 || days > super::referrals::MAX_RESPONSE_DAYS {
        return Err(ServiceError::validation(format!(
            "respondWithinDays must be between 1 and {}",
            super::referrals::MAX_RESPONSE_DAYS
        )));
    }
    Ok(days)
}

/// Runs every check of `proposal` on `case` for `p` (reading through `conn`: the act's
/// transaction, or the database for a preview) and gives the manifest with every refusal.
/// `Err` only for a fault (the database, the program).
pub async fn check<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    p: &Principal,
    case: &CaseRecord,
    proposal: Proposal<'_>,
) -> Result<Manifest, ServiceError> {
    let mut refused = Refusals::default();
    if let Some(expected) = proposal.expected_version
        && expected != case.version
    {
        refused.keep::<()>(Err(ServiceError::VersionConflict {
            expected,
            actual: case.version,
        }))?;
    }
    let (action, who, default_days) = match proposal.act {
        Act::Referral { purpose } => {
            refused.keep(check_text("purpose", Some(purpose), true))?;
            (
                crate::access::policy::Action::Refer,
                "only the lead agency's case workers can refer this case",
                super::referrals::DEFAULT_RESPONSE_DAYS,
            )
        }
        Act::Transfer { reason, .. } => {
            refused.keep(check_text("reason", reason, false))?;
            (
                crate::access::policy::Action::OfferTransfer,
                "only the lead agency's case workers can transfer this case",
                super::transfers::DEFAULT_RESPONSE_DAYS,
            )
        }
    };
    let days = refused
        .keep(check_days(proposal.respond_within_days, default_days))?
        .unwrap_or(default_days);
    refused.keep(app.authorize(p, action, super::cases::lead_facts(p, case), who))?;
    if matches!(proposal.act, Act::Transfer { .. }) {
        refused.keep(refuse_if_open(conn, case.id).await)?;
    }
    let to = refused.keep(agency(conn, proposal.to_agency_id).await)?;
    let mut transition = None;
    let mut ground = None;
    if let Some(to) = &to {
        let purposes: &[ConsentPurpose] = match proposal.act {
            Act::Referral { .. } => {
                if to.id == p.agency_id {
                    refused.keep::<()>(Err(ServiceError::validation(
                        "a referral goes to another agency than your own",
                    )))?;
                }
                refused.keep(check_asylum_ban(app, case, to))?;
                &[ConsentPurpose::Services]
            }
            Act::Transfer { data, .. } => {
                // A protection refuses the receiver whatever the procedure's step.
                refused.keep(check_lead(app, case, to))?;
                let step =
                    super::transfers::transfer_step(app, case, &super::transitions::actor(p), data);
                transition = refused.keep(step)?.flatten().map(|(id, _)| id);
                if to.country == p.country {
                    refused.keep::<()>(Err(ServiceError::validation(
                        "a transfer of lead goes to an agency in another country; within the \
                         country, refer the case",
                    )))?;
                }
                &[ConsentPurpose::Return, ConsentPurpose::Sharing]
            }
        };
        let sender_view = super::visibility::view(app, conn, p, case).await?;
        refused.keep(check_groups(
            &sender_view,
            p.agency_kind,
            to,
            proposal.groups,
        ))?;
        let disclosure = Disclosure {
            purposes,
            to,
            groups: proposal.groups,
        };
        ground = refused.keep(ground_for(app, conn, p, case, proposal.ground, disclosure).await)?;
    }
    let mut texts = Vec::new();
    let text = match proposal.act {
        Act::Referral { .. } => Some(free_text::PURPOSE),
        Act::Transfer { reason, .. } => reason.map(|_| free_text::REASON),
    };
    texts.extend(text.map(|name| TravellingText {
        name,
        shared_as: proposal.groups.clone(),
    }));
    if proposal.ground.override_basis.is_some() {
        texts.push(TravellingText {
            name: free_text::OVERRIDE_JUSTIFICATION,
            shared_as: proposal.groups.clone(),
        });
    }
    Ok(Manifest {
        to,
        shared: proposal.groups.clone(),
        ground,
        transition,
        respond_within_days: days,
        texts,
        refusals: refused.0,
    })
}

/// Refuses (`INVALID_TRANSITION`) when a transfer of the case is still open.
pub(super) async fn refuse_if_open<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
) -> Result<(), ServiceError> {
    const OPEN: &[TransferStatus] = &[
        TransferStatus::Requested,
        TransferStatus::Offered,
        TransferStatus::Suspended,
    ];
    if disclosures::transfers_of_case(conn, case_id)
        .await?
        .iter()
        .any(|t| OPEN.contains(&t.status))
    {
        return Err(ServiceError::InvalidTransition(
            "a transfer of this case is already open: revoke it first".into(),
        ));
    }
    Ok(())
}

/// The manifest of `proposal` on the case `case_id` as `p` may see it now, without changing
/// anything (`NOT_FOUND` when `p` may not see the case).
pub async fn preview(
    app: &App,
    p: &Principal,
    case_id: Uuid,
    proposal: Proposal<'_>,
) -> Result<Manifest, ServiceError> {
    let case = super::cases::visible_case(app, p, case_id).await?;
    check(app, app.store.conn(), p, &case, proposal).await
}
