//! A deadline that lapses is escalated: the agencies that hold, for its case, the roles the
//! deadline names in `escalate_to` are told through their inboxes (`DEADLINE_LAPSED`), with one
//! `DEADLINE_ESCALATED` event, in the unit of work that records the lapse
//! ([`super::timers`]), so exactly once however many instances run the scheduler.
//!
//! Who holds a role for a case:
//! - `CASE_WORKER`, `SUPERVISOR`: the lead agency.
//! - `GUARDIAN`: the guardianship agencies to which a referral of the case is pending or accepted
//!   (they take part in the case now); when there is none, the lead agency (whose guardians act
//!   for the child, as the child-protection agencies of the demo network do).
//! - `FOCAL_POINT`: the focal point of the case's country; for a deadline of the return (SOP 4,
//!   [`crate::workflow::Workflow::is_return_timer`]) also that of the person's country of origin,
//!   the other end of the return. Focal points other than the lead are given access to the
//!   case's procedural state (`ESCALATION`), as alerts give it.
//!
//! Never an authority (or possible authority) of an asylum seeker's country of origin.

use super::alerts::focal_points;
use super::disclosure::{is_asylum_seeker, may_be_origin_authority};
use super::unit_of_work::CaseWork;
use super::{App, ServiceError};
use crate::domain::{AgencyKind, EventDraft, EventKind, NotificationKind, Role};
use crate::store::{directory, disclosures};
use crate::workflow::definition::{Timer, TimerKind};
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Tells the holders of `timer`'s `escalate_to` roles that it lapsed on the case in `work`, and
/// records it (nothing for a floor, or a deadline that escalates to no one).
pub(super) async fn escalate(
    app: &App,
    work: &mut CaseWork<'_>,
    timer: &Timer,
) -> Result<(), ServiceError> {
    if timer.kind != TimerKind::Deadline || timer.escalate_to.is_empty() {
        return Ok(());
    }
    let lead = work.case().lead_agency_id;
    let mut agencies: Vec<Uuid> = Vec::new();
    let mut countries: BTreeSet<String> = BTreeSet::new();
    for role in &timer.escalate_to {
        match role {
            Role::CaseWorker | Role::Supervisor => agencies.push(lead),
            Role::Guardian => {
                let guardians = guardianship_agencies(app, work).await?;
                if guardians.is_empty() {
                    agencies.push(lead);
                } else {
                    agencies.extend(guardians);
                }
            }
            Role::FocalPoint => {
                countries.insert(work.case().country.clone());
                if work.workflow().is_return_timer(&timer.id) {
                    countries.extend(work.case().origin_country.clone());
                }
            }
            // Refused at load (`ESCALATION_ROLES`): no agency holds them for a case.
            Role::CompetentAuthority | Role::Auditor | Role::Administrator => {}
        }
    }
    let focal: Vec<Uuid> = focal_points(app, work, &countries)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    agencies.extend(&focal);
    let mut told: Vec<Uuid> = Vec::new();
    for agency in agencies {
        if told.contains(&agency) {
            continue;
        }
        if agency != lead && focal.contains(&agency) {
            work.grant_access(agency, "ESCALATION").await?;
        }
        work.notify(agency, NotificationKind::DeadlineLapsed, None, None);
        told.push(agency);
    }
    let system = (Uuid::nil(), lead);
    work.record(
        EventDraft::new(EventKind::DeadlineEscalated, system).details(json!({
            "timer": timer.id,
            "roles": timer.escalate_to,
            "countries": countries,
            "agencies": told,
        })),
    )
    .await?;
    Ok(())
}

/// The guardianship agencies taking part in the case now: those a referral of it is pending
/// with or accepted by, in the order referred.
async fn guardianship_agencies(app: &App, work: &CaseWork<'_>) -> Result<Vec<Uuid>, ServiceError> {
    let live: Vec<Uuid> = disclosures::referrals_of_case(work.tx(), work.case().id)
        .await?
        .into_iter()
        .filter(|r| r.status.is_live())
        .map(|r| r.to_agency_id)
        .collect();
    if live.is_empty() {
        return Ok(Vec::new());
    }
    let directory = directory::agencies_by_ids(work.tx(), &live).await?;
    let asylum = is_asylum_seeker(app, work.case())?;
    let mut out: Vec<Uuid> = Vec::new();
    for id in live {
        let Some(agency) = directory.get(&id) else {
            continue;
        };
        let banned = asylum && may_be_origin_authority(work.case(), agency);
        if agency.kind == AgencyKind::Guardianship && !banned && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}
