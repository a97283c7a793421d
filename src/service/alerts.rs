//! Alerts to focal points: when a (child) person goes missing, the focal points of every country
//! on the route are alerted through their inboxes, and again when found; when a person is not
//! received on arrival after a return, those of both ends of the return (and, for a child, of
//! the route: the missing-child protocol). They can then see the case's procedural state;
//! personal data still travels only by referral.

use super::disclosure::{is_asylum_seeker, may_be_origin_authority};
use super::unit_of_work::CaseWork;
use super::{App, ServiceError};
use crate::domain::{Agency, EventDraft, EventKind, NotificationKind};
use crate::store::{directory, person};
use crate::workflow::definition::Alert;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Alerts the focal points `alert` names for the case in `work` (other than its lead), recording
/// one `ROUTE_ALERTED` event. Focal points of an asylum seeker's country of origin are left out
/// (they are its authorities).
pub async fn raise(app: &App, work: &mut CaseWork<'_>, alert: Alert) -> Result<(), ServiceError> {
    let case = work.case();
    let mut countries = BTreeSet::from([case.country.clone()]);
    let route = match alert {
        Alert::Missing | Alert::Found => true,
        // The missing-child protocol for a child; both ends of the return for anyone.
        Alert::NotReceived => {
            countries.extend(case.origin_country.clone());
            app.person_status(case)?.child
        }
    };
    if route {
        countries.extend(
            person::route(work.tx(), case.id)
                .await?
                .into_iter()
                .map(|m| m.country),
        );
    }
    let kind = match alert {
        Alert::Missing => NotificationKind::PersonMissing,
        Alert::Found => NotificationKind::PersonFound,
        Alert::NotReceived => NotificationKind::PersonNotReceived,
    };
    let lead = work.case().lead_agency_id;
    let mut alerted: Vec<Uuid> = Vec::new();
    for fp in focal_points(app, work, &countries).await? {
        if fp.id == lead {
            continue;
        }
        work.grant_access(fp.id, "ALERT").await?;
        work.notify(fp.id, kind, None, None);
        alerted.push(fp.id);
    }
    let system = (Uuid::nil(), lead);
    work.record(
        EventDraft::new(EventKind::RouteAlerted, system)
            .details(json!({ "alert": alert, "countries": countries, "agencies": alerted })),
    )
    .await?;
    Ok(())
}

/// The focal point agencies of `countries` that may be told about the case in `work`, once each:
/// none that is (or may be) an authority of an asylum seeker's country of origin.
pub(super) async fn focal_points(
    app: &App,
    work: &CaseWork<'_>,
    countries: &BTreeSet<String>,
) -> Result<Vec<Agency>, ServiceError> {
    let asylum = is_asylum_seeker(app, work.case())?;
    let mut out: Vec<Agency> = Vec::new();
    for country in countries {
        let Some(fp) = directory::focal_point(work.tx(), country).await? else {
            continue;
        };
        let banned = asylum && may_be_origin_authority(work.case(), &fp);
        if !banned && !out.iter().any(|a| a.id == fp.id) {
            out.push(fp);
        }
    }
    Ok(out)
}
