//! Alerts along the person's route: when a (child) person goes missing, the focal points of
//! every country on the route are alerted through their inboxes, and again when found. They
//! can then see the case's procedural state; personal data still travels only by referral.

use super::bus::Signal;
use super::sharing::{CaseChange, is_asylum_seeker, may_be_origin_authority};
use super::{App, ServiceError};
use crate::domain::CaseRecord;
use crate::domain::EventKind;
use crate::domain::NotificationKind;
use crate::store::cases::{self as case_store};
use crate::store::directory;
use crate::store::person;
use crate::workflow::definition::Alert;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::json;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Alerts the focal points of the countries on the route of `case` (and of its own country),
/// recording one `ROUTE_ALERTED` event. Focal points of an asylum seeker's country of origin
/// are left out (they are its authorities).
pub async fn raise(
    app: &App,
    txn: &DatabaseTransaction,
    case: CaseRecord,
    alert: Alert,
    now: DateTime<Utc>,
) -> Result<(CaseRecord, Vec<Signal>), ServiceError> {
    let mut countries: BTreeSet<String> = person::route(txn, case.id)
        .await?
        .into_iter()
        .map(|m| m.country)
        .collect();
    countries.insert(case.country.clone());
    let asylum = is_asylum_seeker(app, &case)?;
    let kind = match alert {
        Alert::Missing => NotificationKind::PersonMissing,
        Alert::Found => NotificationKind::PersonFound,
    };
    let mut alerted: Vec<Uuid> = Vec::new();
    let mut change = CaseChange::continuing(case, now);
    for country in &countries {
        let Some(fp) = directory::focal_point(txn, country).await? else {
            continue;
        };
        let banned = asylum && may_be_origin_authority(&change.case, &fp);
        if banned || fp.id == change.case.lead_agency_id || alerted.contains(&fp.id) {
            continue;
        }
        case_store::grant_access(txn, change.case.id, fp.id, "ALERT", now).await?;
        change.notify(txn, fp.id, kind, None, None).await?;
        alerted.push(fp.id);
    }
    let lead = change.case.lead_agency_id;
    change
        .record(
            txn,
            (Uuid::nil(), lead),
            EventKind::RouteAlerted,
            None,
            json!({ "alert": alert, "countries": countries, "agencies": alerted }),
        )
        .await?;
    Ok(change.into_parts())
}
