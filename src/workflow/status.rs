//! Where the person of a case stands, as the case's workflow declares it in `[protections]`:
//! the facts the service's protections are re-checked against after every change. Pure.

use super::definition::Workflow;
use super::engine::CaseState;
use super::guard::GuardInput;

/// The person's situation on a case (each `false` where the workflow does not declare it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonStatus {
    /// An asylum seeker or refugee.
    pub asylum_seeker: bool,
    /// Consent withdrawn through the workflow's own step.
    pub consent_withdrawn: bool,
    pub deceased: bool,
    /// A child or a presumed child.
    pub child: bool,
    /// A child whose guardian is appointed.
    pub guardian: bool,
    /// The workflow does not say who is a child (a version written before `[protections]`):
    /// nothing then tells a guardian's consent from a child's, and both are taken as given.
    pub age_undeclared: bool,
}

impl Workflow {
    /// The person's situation on a case in `state`, opened in `country`. An expression that
    /// cannot be evaluated protects the person: it counts as holding, except `guardian`, which
    /// then counts as not appointed.
    pub fn person_status(&self, state: &CaseState, country: &str) -> PersonStatus {
        let timers = Default::default();
        let params = self.parameters_for(country);
        let input = GuardInput {
            facts: &state.facts,
            tracks: &state.tracks,
            timers: &timers,
            params: &params,
        };
        let p = &self.protections;
        let holds = |guard: &Option<super::guard::Guard>, otherwise: bool| {
            guard
                .as_ref()
                .is_some_and(|g| g.holds(&input, &self.facts).unwrap_or(otherwise))
        };
        let child = holds(&p.child, true);
        PersonStatus {
            asylum_seeker: holds(&p.asylum_seeker, true),
            consent_withdrawn: holds(&p.consent_withdrawn, true),
            deceased: holds(&p.deceased, true),
            child,
            guardian: child && holds(&p.guardian, false),
            age_undeclared: p.predates_table,
        }
    }
}
