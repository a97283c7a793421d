//! The case's protections, re-checked as invariants at the end of every change, inside the
//! change's transaction and before it commits (see [`CaseWork::commit`]). A rule here holds
//! however the change came about (a transition, a timer, a transfer, a consent withdrawn), not
//! only at the door of the act that first created the situation.
//!
//! A rule either mends what the change made unlawful (ending a share, with its own event) or
//! refuses the change. Rules that hold at the door today are also proven over the whole
//! database by the invariant checker.

use super::ServiceError;
use super::unit_of_work::CaseWork;

/// Re-checks every protection of the case in `work` before it commits.
pub(super) async fn enforce(work: &mut CaseWork<'_>) -> Result<(), ServiceError> {
    // The chain itself: the change's events follow each other, one version each, up to the
    // case's version.
    let events = work.pending_events();
    let first = work.case().version + 1 - i64::try_from(events.len()).unwrap_or(i64::MAX);
    if events.iter().zip(first..).any(|(e, seq)| e.seq != seq) {
        return Err(ServiceError::internal(
            "a change recorded events out of order on its case's chain",
        ));
    }
    Ok(())
}
