//! Alerts to focal points: when a (child) person goes missing, the focal points of every country
//! on the route are alerted through their inboxes, and again when found; when a person is not
//! received on arrival after a return, those of both ends of the return (and, for a child, of
//! the route: the missing-child protocol). They can then see the case's procedural state;
//! personal data still travels only by referral.

use super::disclosure::{is_asylum_seeker, may_be_origin_authority};
use super::unit_of_work::CaseWork;
use super::{App, ServiceError};
use crate::domain::{Agency, CaseRecord, EventDraft, EventKind, NotificationKind};
use crate::store::{directory, person};
use crate::workflow::definition::Alert;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Alerts the focal points `alert` names for the case in `work` (other than its lead), recording
/// one `ROUTE_ALERTED` event. Focal points of an asylum seeker's country of origin are left out
/// (they are its authorities).
pub async fn raise(app: &App, work: &mut CaseWork<'_>, alert: Alert) -> Result<(), ServiceError> {
    let child = app.person_status(work.case())?.child;
    let route: Vec<String> = person::route(work.tx(), work.case().id)
        .await?
        .into_iter()
        .map(|m| m.country)
        .collect();
    let countries = alerted_countries(work.case(), child, alert, route);
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

/// The countries whose focal points `alert` concerns on `case` (its person a `child` or not,
/// `route` the countries on the person's recorded route): the case's own country; for a
/// missing or found person, every country on the route; for a person not received on arrival,
/// both ends of the return (the case's country and the country of origin) and, for a child (the
/// missing-child protocol), the route too. The children on the move a country is concerned
/// with are those the missing-child protocol would alert it of ([`super::children`]).
pub fn alerted_countries(
    case: &CaseRecord,
    child: bool,
    alert: Alert,
    route: impl IntoIterator<Item = String>,
) -> BTreeSet<String> {
    let mut countries = BTreeSet::from([case.country.clone()]);
    let on_route = match alert {
        Alert::Missing | Alert::Found => true,
        Alert::NotReceived => {
            countries.extend(case.origin_country.clone());
            child
        }
    };
    if on_route {
        countries.extend(route);
    }
    countries
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
