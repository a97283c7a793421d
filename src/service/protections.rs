//! The case's protections, re-checked as invariants at the end of every change, inside the
//! change's transaction and before it commits (see [`super::unit_of_work::CaseWork::commit`]).
//! A rule here holds however the change came about (a transition, a timer, a transfer, a
//! consent withdrawn), not only at the door of the act that first created the situation.
//!
//! Pure: [`review`] is given the case after the change and the events the change recorded,
//! and answers with what must be mended before the change may commit (each [`Remedy`] the unit
//! of work carries out in the same transaction, with its own event), or refuses the change.

use super::ServiceError;
use crate::domain::{CaseRecord, Event};

/// Something the unit of work must do before the change may commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {}

/// The protections of `case` after a change that recorded `events` (in order).
pub fn review(case: &CaseRecord, events: &[Event]) -> Result<Vec<Remedy>, ServiceError> {
    // The chain itself: the change's events follow each other, one version each, up to the
    // case's version.
    let first = case.version + 1 - i64::try_from(events.len()).unwrap_or(i64::MAX);
    if events.iter().zip(first..).any(|(e, seq)| e.seq != seq) {
        return Err(ServiceError::internal(
            "a change recorded events out of order on its case's chain",
        ));
    }
    Ok(Vec::new())
}
