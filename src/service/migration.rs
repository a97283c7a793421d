//! Moving a running case to a newer version of its workflow: an explicit, recorded decision
//! (laws change while cases run), never a silent effect of deploying a new definition.

use super::unit_of_work::{CaseWork, Changer};
use super::{App, ServiceError};
use crate::access::Principal;
use crate::domain::{CaseRecord, DataGroup, Event, EventDraft, EventKind};
use crate::workflow::engine::{Changes, TrackChange};
use crate::workflow::switch;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// Input of [`migrate_case`].
#[derive(Debug, Clone)]
pub struct MigrateCase {
    pub case_id: Uuid,
    pub to_version: u32,
    pub expected_version: i64,
    /// Why (e.g. the law that changed); required.
    pub reason: String,
    /// The data groups the reason is shared as (see [`crate::access::CaseView::sees_text`]).
    pub reason_shared_as: BTreeSet<DataGroup>,
    /// Old state → new state, for states that were renamed or merged; others keep their id.
    pub state_map: BTreeMap<String, String>,
}

/// Moves a case to `to_version` of its workflow: maps each track's state, re-evaluates running
/// timers against the new lengths (stops those the new version no longer has), records a
/// `WORKFLOW_MIGRATED` event, and pins the case to the new version. One transaction.
pub async fn migrate_case(
    app: &App,
    p: &Principal,
    input: MigrateCase,
) -> Result<(CaseRecord, Event), ServiceError> {
    if input.reason.trim().is_empty()
        || input.reason.chars().count() > super::cases::MAX_REASON_CHARS
    {
        return Err(ServiceError::validation(
            "a migration needs a reason (at most 4000 characters)",
        ));
    }
    let mut work = CaseWork::begin(app, Changer::Principal(p), input.case_id, None).await?;
    let case = work.case().clone();
    app.authorize(
        p,
        crate::access::policy::Action::MigrateCase,
        super::cases::lead_facts(p, &case),
        "only a supervisor or focal point of the lead agency can migrate a case",
    )?;
    if case.version != input.expected_version {
        return Err(ServiceError::VersionConflict {
            expected: input.expected_version,
            actual: case.version,
        });
    }
    let from = work.workflow().clone();
    let to = app
        .workflows
        .get(&case.workflow_id, Some(input.to_version))
        .ok_or(ServiceError::NotFound("workflow version"))?;
    if to.version <= from.version {
        return Err(ServiceError::validation(format!(
            "the case is at version {}; it can only move to a newer version",
            from.version
        )));
    }
    let now = work.now();
    let mut tracks = Vec::new();
    let mut unmapped = Vec::new();
    for (track, state) in &case.state.tracks {
        let target = input.state_map.get(state).unwrap_or(state);
        match to.state(target) {
            Some(s) if &s.track == track => {
                if target != state {
                    tracks.push(TrackChange {
                        track: track.clone(),
                        from: Some(state.clone()),
                        to: target.clone(),
                    });
                }
            }
            _ => unmapped.push(format!("{track}: {state}")),
        }
    }
    if !unmapped.is_empty() {
        return Err(ServiceError::validation(format!(
            "version {} has no matching state for {}; map them with stateMap",
            to.version,
            unmapped.join(", ")
        )));
    }
    let (timers_started, timers_stopped) = switch::retime(
        &to,
        &case.state.timers,
        &case.state.facts,
        app.env(&case, now),
    );
    let changes = Changes {
        tracks,
        timers_started,
        timers_stopped,
        migrated_from: Some(from.version),
        ..Changes::default()
    };
    work.pin(to);
    let event = work
        .record(
            EventDraft::new(EventKind::WorkflowMigrated, (p.user_id, p.agency_id))
                .reason(Some(input.reason))
                .shared(input.reason_shared_as, None)
                .changes(changes),
        )
        .await?
        .clone();
    let committed = work.commit().await?;
    Ok((committed.case, event))
}
