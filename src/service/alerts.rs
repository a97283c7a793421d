//! Alerts along the person's route: when a (child) person goes missing, the focal points of
//! every country on the route are alerted through their inboxes, and again when found. They
//! can then see the case's procedural state; personal data still travels only by referral.

use super::disclosure::{is_asylum_seeker, may_be_origin_authority};
use super::unit_of_work::CaseWork;
use super::{App, ServiceError};
use crate::domain::{EventDraft, EventKind, NotificationKind};
use crate::store::{directory, person};
use crate::workflow::definition::Alert;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Alerts the focal points of the countries on the route of the case in `work` (and of its own
/// country), recording one `ROUTE_ALERTED` event. Focal points of an asylum seeker's country of
/// origin are left out (they are its authorities).
pub async fn raise(app: &App, work: &mut CaseWork<'_>, alert: Alert) -> Result<(), ServiceError> {
    let mut countries: BTreeSet<String> = person::route(work.tx(), work.case().id)
        .await?
        .into_iter()
        .map(|m| m.country)
        .collect();
    countries.insert(work.case().country.clone());
    let asylum = is_asylum_seeker(app, work.case())?;
    let kind = match alert {
        Alert::Missing => NotificationKind::PersonMissing,
        Alert::Found => NotificationKind::PersonFound,
    };
    let mut alerted: Vec<Uuid> = Vec::new();
    for country in &countries {
        let Some(fp) = directory::focal_point(work.tx(), country).await? else {
            continue;
        };
        let banned = asylum && may_be_origin_authority(work.case(), &fp);
        if banned || fp.id == work.case().lead_agency_id || alerted.contains(&fp.id) {
            continue;
        }
        work.grant_access(fp.id, "ALERT").await?;
        work.notify(fp.id, kind, None, None);
        alerted.push(fp.id);
    }
    let system = (Uuid::nil(), work.case().lead_agency_id);
    work.record(
        EventDraft::new(EventKind::RouteAlerted, system)
            .details(json!({ "alert": alert, "countries": countries, "agencies": alerted })),
    )
    .await?;
    Ok(())
}
