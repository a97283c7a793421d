//! The case's protections, kept as invariants at the end of every change: inside the change's
//! transaction and before it commits ([`super::unit_of_work::CaseWork::commit`]), the case's
//! sharing is read again and whatever may no longer stand (the pure rules of
//! [`crate::access::protections`]) is ended or suspended, each with its event and its notices.
//! A rule holds however the person's situation changed (a transition, a timer, a migration, a
//! consent withdrawn), not only at the door of the act that first shared something. The same
//! rules, run over every case of the database, are the invariant checker ([`check_case`]).
//!
//! Over the house's 400 lines on purpose: mending each remedy and the checker read the same
//! sharing snapshot of a case, and apart each would need the other's types.

use super::unit_of_work::CaseWork;
use super::{App, ServiceError};
use crate::access::CaseScope;
use crate::access::protections::{self, Remedy, Rule, Sharing};
use crate::domain::{
    CaseRecord, CaseStatus, Event, EventDraft, EventKind, Ground, NotificationKind, ReferralStatus,
    TransferStatus,
};
use crate::store::disclosures::{self, TransferDecision};
use crate::store::{access_log, break_glass, cases as case_store, directory, events};
use crate::workflow::PersonStatus;
use crate::workflow::definition::TimerKind;
use sea_orm::ConnectionTrait;
use serde_json::json;

/// How many rounds of mending a change may need (one in practice: a remedy never makes another
/// necessary; the bound turns a bug into an error instead of a loop).
const ROUNDS: usize = 3;

/// What the case shares now, read in the change's transaction.
pub async fn sharing<C: ConnectionTrait>(
    conn: &C,
    case: &CaseRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Sharing, ServiceError> {
    let consents = disclosures::consents_of_case(conn, case.id).await?;
    let referrals = disclosures::referrals_of_case(conn, case.id).await?;
    let transfers = disclosures::transfers_of_case(conn, case.id).await?;
    let access: std::collections::BTreeSet<_> = case_store::access_rows(conn, case.id)
        .await?
        .into_iter()
        .collect();
    let break_glass: Vec<_> = break_glass::of_case(conn, case.id)
        .await?
        .into_iter()
        .filter(|b| b.expires_at > now)
        .collect();
    let mut ids: Vec<uuid::Uuid> = access.iter().copied().collect();
    ids.extend(referrals.iter().map(|r| r.to_agency_id));
    ids.extend(transfers.iter().map(|t| t.to_agency_id));
    ids.extend(break_glass.iter().map(|b| b.agency_id));
    ids.sort_unstable();
    ids.dedup();
    let agencies = directory::agencies_by_ids(conn, &ids)
        .await?
        .into_iter()
        .collect();
    Ok(Sharing {
        consents,
        referrals,
        transfers,
        access,
        break_glass,
        agencies,
    })
}

/// The events of a change follow each other on the case's chain, one version each, up to the
/// case's version.
pub fn check_chain(case: &CaseRecord, events: &[Event]) -> Result<(), ServiceError> {
    let first = case.version + 1 - i64::try_from(events.len()).unwrap_or(i64::MAX);
    if events.iter().zip(first..).any(|(e, seq)| e.seq != seq) {
        return Err(ServiceError::internal(
            "a change recorded events out of order on its case's chain",
        ));
    }
    Ok(())
}

/// Re-checks the protections of the case in `work` and mends what may not stand, until none is
/// left. `before` is where the person stood when the change began; `touched` says the change
/// shared, withdrew or resumed something.
pub async fn keep(
    work: &mut CaseWork<'_>,
    before: PersonStatus,
    touched: bool,
) -> Result<(), ServiceError> {
    for _ in 0..ROUNDS {
        let status = work
            .workflow()
            .person_status(&work.case().state, &work.case().country);
        let closed = work.case().status == CaseStatus::Closed;
        if !(touched || status != before || protections::needs_review(&status, closed)) {
            return Ok(());
        }
        let now = sharing(work.tx(), work.case(), work.now()).await?;
        let remedies = protections::review(work.case(), &status, closed, &now);
        if remedies.is_empty() {
            return Ok(());
        }
        mend(work, &now, remedies).await?;
    }
    Err(ServiceError::internal(
        "the protections of a case did not settle",
    ))
}

/// Carries out `remedies`, each with its event; receivers are told (without personal data), and
/// the lead is told when a protection other than a consent withdrawal acted.
async fn mend(
    work: &mut CaseWork<'_>,
    now: &Sharing,
    remedies: Vec<Remedy>,
) -> Result<(), ServiceError> {
    let actor = work.actor();
    let at = work.now();
    let mut tell_lead = false;
    for remedy in remedies {
        match remedy {
            Remedy::WithdrawConsent { consent } => {
                if disclosures::withdraw_consent(work.tx(), consent, actor.0, at).await? {
                    work.record(
                        EventDraft::new(EventKind::ConsentWithdrawn, actor)
                            .details(json!({ "consent": consent, "byStep": true })),
                    )
                    .await?;
                }
            }
            Remedy::Referral { referral, to, rule } => {
                let (status, action, notice) = if rule.suspends() {
                    let n = NotificationKind::ReferralSuspended;
                    (ReferralStatus::Suspended, "SUSPENDED", n)
                } else {
                    (
                        ReferralStatus::Revoked,
                        "ENDED",
                        NotificationKind::ReferralRevoked,
                    )
                };
                let changed = disclosures::set_referral_status(
                    work.tx(),
                    referral,
                    &[ReferralStatus::Pending, ReferralStatus::Accepted],
                    status,
                    Some(rule.receiver_reason()),
                    None,
                    at,
                )
                .await?;
                if changed {
                    let ground = now.referrals.iter().find(|r| r.id == referral);
                    let ground = ground.map(|r| &r.ground);
                    let details = remedy_details(("referral", referral), action, rule, ground);
                    work.record(EventDraft::new(EventKind::Referral, actor).details(details))
                        .await?;
                    work.notify(to, notice, Some(referral), None);
                    tell_lead |= rule != Rule::ConsentWithdrawn;
                }
            }
            Remedy::Transfer { transfer, to, rule } => {
                let (from, status, action, notice): (&[TransferStatus], _, _, _) =
                    if rule.suspends() {
                        (
                            &[TransferStatus::Offered],
                            TransferStatus::Suspended,
                            "SUSPENDED",
                            NotificationKind::TransferSuspended,
                        )
                    } else {
                        (
                            &[
                                TransferStatus::Offered,
                                TransferStatus::Requested,
                                TransferStatus::Suspended,
                            ],
                            TransferStatus::Revoked,
                            "ENDED",
                            NotificationKind::TransferDecided,
                        )
                    };
                let decision = TransferDecision {
                    to: status,
                    reason: Some(rule.receiver_reason()),
                    by: actor.0,
                    now: at,
                    ground: None,
                    groups: None,
                };
                if disclosures::set_transfer_status(work.tx(), transfer, from, decision).await? {
                    let ground = now.transfers.iter().find(|t| t.id == transfer);
                    let ground = ground.and_then(|t| t.ground.as_ref());
                    let details = remedy_details(("transfer", transfer), action, rule, ground);
                    work.record(EventDraft::new(EventKind::Transfer, actor).details(details))
                        .await?;
                    work.notify(to, notice, None, Some(transfer));
                    tell_lead |= rule != Rule::ConsentWithdrawn;
                }
            }
            Remedy::EndAccess { agency, rule } => {
                if case_store::end_access(work.tx(), work.case().id, agency, rule.as_str(), at)
                    .await?
                {
                    work.record(
                        EventDraft::new(EventKind::AccessEnded, actor)
                            .details(json!({ "agency": agency, "protection": rule.as_str() })),
                    )
                    .await?;
                    tell_lead = true;
                }
            }
            Remedy::EndBreakGlass { id, rule } => {
                if break_glass::end(work.tx(), id, at).await? {
                    let agency = now
                        .break_glass
                        .iter()
                        .find(|b| b.id == id)
                        .map(|b| b.agency_id);
                    work.record(EventDraft::new(EventKind::AccessEnded, actor).details(
                        json!({ "breakGlass": id, "agency": agency, "protection": rule.as_str() }),
                    ))
                    .await?;
                    tell_lead = true;
                }
            }
        }
    }
    if tell_lead {
        let lead = work.case().lead_agency_id;
        work.notify(lead, NotificationKind::ProtectionApplied, None, None);
    }
    Ok(())
}

/// The details of a referral's or transfer's event when a protection suspends or ends it: what,
/// the action, the rule, and the consent it rested on (if any).
fn remedy_details(
    (key, id): (&str, uuid::Uuid),
    action: &str,
    rule: Rule,
    ground: Option<&Ground>,
) -> serde_json::Value {
    let mut details = json!({ key: id, "action": action, "protection": rule.as_str() });
    if let (Some(Ground::Consent(c)), Some(d)) = (ground, details.as_object_mut()) {
        d.insert("consent".into(), json!(c));
    }
    details
}

/// A protection that does not hold on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub case_id: uuid::Uuid,
    pub reference: String,
    pub breach: Breach,
}

/// What does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// Something shared that a protection forbids now: the first thing the review would mend.
    Sharing(Remedy),
    /// Another case of the same person is open under the same lead agency (a second procedure
    /// beside this one, e.g. an adult procedure beside a child procedure).
    TwoActiveCases { other: String },
    /// A deadline that escalates lapsed and nobody was told.
    NotEscalated { timer: String },
    /// A case-file export (its event) without its entry in the access log.
    ExportNotLogged { event: i64 },
}

/// The first protection that does not hold on `case`, as it stands in the database (the
/// invariant checker; `None` when every protection holds).
pub async fn check_case<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    case: &CaseRecord,
) -> Result<Option<Violation>, ServiceError> {
    let violation = |breach| {
        Some(Violation {
            case_id: case.id,
            reference: case.reference.clone(),
            breach,
        })
    };
    let status = app.person_status(case)?;
    let closed = case.status == CaseStatus::Closed;
    let now = sharing(conn, case, app.now()).await?;
    if let Some(remedy) = protections::review(case, &status, closed, &now)
        .into_iter()
        .next()
    {
        return Ok(violation(Breach::Sharing(remedy)));
    }
    if let Some(earlier) = case.follows_case_id
        && !closed
        && let Some(earlier) = case_store::find(conn, CaseScope::All, earlier).await?
        && earlier.status != CaseStatus::Closed
        && earlier.lead_agency_id == case.lead_agency_id
    {
        return Ok(violation(Breach::TwoActiveCases {
            other: earlier.reference,
        }));
    }
    if let Some(timer) = not_escalated(app, conn, case).await? {
        return Ok(violation(Breach::NotEscalated { timer }));
    }
    for export in events::of_kind(conn, case.id, EventKind::CaseFileExported).await? {
        let entry = export
            .details
            .as_ref()
            .and_then(|d| d.get("accessLogEntry"))
            .and_then(serde_json::Value::as_str)
            .and_then(|id| uuid::Uuid::parse_str(id).ok());
        let logged = match entry {
            Some(id) => access_log::has_export(conn, id, case.id).await?,
            None => false,
        };
        if !logged {
            return Ok(violation(Breach::ExportNotLogged { event: export.seq }));
        }
    }
    Ok(None)
}

/// The first deadline of `case` that lapsed (`TIMER_ELAPSED`) with an `escalate_to` and no
/// `DEADLINE_ESCALATED` after it.
async fn not_escalated<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    case: &CaseRecord,
) -> Result<Option<String>, ServiceError> {
    if !case
        .state
        .timers
        .values()
        .any(|t| t.view(app.now()).elapsed)
    {
        return Ok(None);
    }
    let history = events::all_of_case(conn, case.id).await?;
    for (i, e) in history.iter().enumerate() {
        let Some(timer) = e.changes.timer_elapsed.as_deref() else {
            continue;
        };
        let escalates = app
            .workflows
            .get(&e.workflow_id, Some(e.workflow_version))
            .and_then(|w| w.timers.get(timer).cloned())
            .is_some_and(|def| def.kind == TimerKind::Deadline && !def.escalate_to.is_empty());
        let told = history[i..].iter().any(|later| {
            later.kind == EventKind::DeadlineEscalated
                && later
                    .details
                    .as_ref()
                    .and_then(|d| d.get("timer"))
                    .and_then(serde_json::Value::as_str)
                    == Some(timer)
        });
        if escalates && !told {
            return Ok(Some(timer.to_string()));
        }
    }
    Ok(None)
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "case {} ({}): ", self.reference, self.case_id)?;
        let (what, id, rule) = match &self.breach {
            Breach::Sharing(Remedy::WithdrawConsent { consent }) => {
                ("consent in force", consent, Rule::ConsentWithdrawn)
            }
            Breach::Sharing(Remedy::Referral { referral, rule, .. }) => {
                ("live referral", referral, *rule)
            }
            Breach::Sharing(Remedy::Transfer { transfer, rule, .. }) => {
                ("open transfer", transfer, *rule)
            }
            Breach::Sharing(Remedy::EndAccess { agency, rule }) => {
                ("live access of agency", agency, *rule)
            }
            Breach::Sharing(Remedy::EndBreakGlass { id, rule }) => ("open break-glass", id, *rule),
            Breach::TwoActiveCases { other } => {
                return write!(
                    f,
                    "open beside case {other}, which it continues, under the same lead agency \
                     (one active case per person and lead)"
                );
            }
            Breach::NotEscalated { timer } => {
                return write!(f, "deadline `{timer}` lapsed and was never escalated");
            }
            Breach::ExportNotLogged { event } => {
                return write!(
                    f,
                    "the case-file export of event {event} is not in the access log"
                );
            }
        };
        write!(f, "{what} {id} breaks {}", rule.as_str())
    }
}

/// How many cases the checker reads at a time.
const CHECK_PAGE: u64 = 500;

/// The invariant checker over the whole database: every case's protections re-checked as the
/// unit of work checks them after a change. Returns how many cases it read and the first
/// violation (by case id), if any.
pub async fn check_all(app: &App) -> Result<(u64, Option<Violation>), ServiceError> {
    let conn = app.store.conn();
    let mut after = None;
    let mut read = 0;
    loop {
        let page = case_store::page_by_id(conn, after, None, CHECK_PAGE).await?;
        for case in &page {
            read += 1;
            if let Some(v) = check_case(app, conn, case).await? {
                return Ok((read, Some(v)));
            }
        }
        match page.last() {
            Some(last) if page.len() as u64 == CHECK_PAGE => after = Some(last.id),
            _ => return Ok((read, None)),
        }
    }
}
