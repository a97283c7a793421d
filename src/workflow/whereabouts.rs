//! Where a child on the move stands, for the focal points that must account for every
//! identified child across the network \[WAN\]. Pure: read from the case's current states and
//! from what its workflow declares about alerts, so that every version of every procedure that
//! declares the missing-child protocol is read the same way, and nothing here names a state.
//!
//! The workflow's alerts mark the journey (`alert` on a transition, see
//! [`super::definition::Alert`]):
//! - a state a `missing` alert leads into is the child missing; so is a state that can only be
//!   reached from those without the `found` alert (the case closed while the child is missing);
//! - a state a `not_received` alert leads into is the child not received on arrival;
//! - a state a `not_received` alert can be raised from is the child on the way (in transit):
//!   it has departed and its reception is not confirmed;
//! - a state from which the workflow moves into an in-transit state is the departure being
//!   prepared (awaiting reception: the receiving side must confirm and receive the child);
//! - the states the other transitions out of in transit or not received lead into, and what
//!   follows them on the same track until it ends, are the child received (reintegration and
//!   follow-up included).
//!
//! A case in none of these is the child in care where its case is led (identification,
//! protection, best interests, local integration); a closed case in none of them is no longer
//! on the move.

use super::definition::{Alert, Transition, Workflow};
use super::engine::CaseState;
use std::collections::BTreeSet;

/// Where a child on the move stands, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, async_graphql::Enum)]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum ChildStanding {
    /// Reported missing (the missing-child protocol runs), also once the case was closed while
    /// the child is still missing.
    Missing,
    /// Not received on arrival after a return: the alert was given.
    NotReceived,
    /// On the way: the return has departed and the reception is not yet confirmed.
    InTransit,
    /// A return is being prepared: the receiving side is to confirm and receive the child.
    AwaitingReception,
    /// Received after a return (reintegration and follow-up).
    Received,
    /// In care where the case is led (identification, protection, best interests, integration).
    InCare,
}

/// The states of a workflow that mark the journey, as its alerts declare them.
struct Journey {
    missing: BTreeSet<String>,
    not_received: BTreeSet<String>,
    in_transit: BTreeSet<String>,
    awaiting: BTreeSet<String>,
    received: BTreeSet<String>,
}

fn targets<'w>(
    transitions: impl Iterator<Item = &'w Transition>,
    keep: impl Fn(&Transition) -> bool,
) -> BTreeSet<String> {
    transitions
        .filter(|t| keep(t))
        .map(|t| t.to.clone())
        .collect()
}

impl Workflow {
    fn journey(&self) -> Journey {
        let alerting = |alert: Alert| move |t: &Transition| t.alert == Some(alert);
        let mut missing = targets(self.transitions.iter(), alerting(Alert::Missing));
        // States reached only from a missing state, never by finding the child.
        let still_missing: Vec<String> = self
            .states
            .keys()
            .filter(|s| !missing.contains(*s))
            .filter(|s| {
                let mut into = self.transitions.iter().filter(|t| &&t.to == s).peekable();
                into.peek().is_some()
                    && into.all(|t| {
                        t.alert != Some(Alert::Found) && t.from.iter().all(|f| missing.contains(f))
                    })
            })
            .cloned()
            .collect();
        missing.extend(still_missing);
        let not_received = targets(self.transitions.iter(), alerting(Alert::NotReceived));
        let in_transit: BTreeSet<String> = self
            .transitions
            .iter()
            .filter(|t| t.alert == Some(Alert::NotReceived))
            .flat_map(|t| t.from.iter().cloned())
            .collect();
        let awaiting: BTreeSet<String> = self
            .transitions
            .iter()
            .filter(|t| in_transit.contains(&t.to))
            .flat_map(|t| t.from.iter().cloned())
            .filter(|s| !in_transit.contains(s))
            .collect();
        let journey_states =
            |s: &String| in_transit.contains(s) || not_received.contains(s) || awaiting.contains(s);
        let mut received = targets(self.transitions.iter(), |t| {
            t.alert.is_none()
                && t.from
                    .iter()
                    .any(|f| in_transit.contains(f) || not_received.contains(f))
        });
        received.retain(|s| !journey_states(s));
        // What follows the reception on the same track, until the track ends.
        let mut frontier: Vec<String> = received.iter().cloned().collect();
        while let Some(state) = frontier.pop() {
            for t in self.transitions.iter().filter(|t| t.from.contains(&state)) {
                let ends = self.state(&t.to).is_none_or(|s| s.terminal);
                if !ends && !journey_states(&t.to) && received.insert(t.to.clone()) {
                    frontier.push(t.to.clone());
                }
            }
        }
        received.retain(|s| self.state(s).is_some_and(|st| !st.terminal));
        Journey {
            missing,
            not_received,
            in_transit,
            awaiting,
            received,
        }
    }

    /// Where the child of a case in `state` stands (`closed`: the case is closed); `None` for a
    /// closed case whose child is not missing (no longer on the move).
    pub fn child_standing(&self, state: &CaseState, closed: bool) -> Option<ChildStanding> {
        let journey = self.journey();
        let current: BTreeSet<&String> = state.tracks.values().collect();
        let any = |set: &BTreeSet<String>| current.iter().any(|s| set.contains(*s));
        let standing = if any(&journey.missing) {
            ChildStanding::Missing
        } else if closed {
            return None;
        } else if any(&journey.not_received) {
            ChildStanding::NotReceived
        } else if any(&journey.in_transit) {
            ChildStanding::InTransit
        } else if any(&journey.awaiting) {
            ChildStanding::AwaitingReception
        } else if any(&journey.received) {
            ChildStanding::Received
        } else {
            ChildStanding::InCare
        };
        Some(standing)
    }

    /// The states in which a closed case still has a child to account for (missing), for
    /// finding such cases among the closed ones.
    pub fn still_missing_states(&self) -> BTreeSet<String> {
        self.journey().missing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::load::load_dir;
    use std::collections::BTreeMap;

    fn shipped(id: &str, version: u32) -> Workflow {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
        load_dir(&dir)
            .expect("the shipped workflows load")
            .workflows
            .into_iter()
            .find(|w| w.id == id && w.version == version)
            .expect("shipped workflow")
    }

    fn set(states: &[&str]) -> BTreeSet<String> {
        states.iter().map(|s| s.to_string()).collect()
    }

    fn at(tracks: &[(&str, &str)]) -> CaseState {
        CaseState {
            tracks: tracks
                .iter()
                .map(|(t, s)| (t.to_string(), s.to_string()))
                .collect::<BTreeMap<_, _>>(),
            ..CaseState::default()
        }
    }

    #[test]
    fn the_child_procedure_marks_the_journey_by_its_alerts() {
        for version in [2, 3] {
            let j = shipped("trm-child", version).journey();
            assert_eq!(j.missing, set(&["closed_while_missing", "missing"]));
            assert_eq!(j.not_received, set(&["not_received_on_arrival"]));
            assert_eq!(j.in_transit, set(&["accompanied_return"]));
            assert_eq!(j.awaiting, set(&["return_preparation"]));
            assert_eq!(
                j.received,
                set(&["follow_up", "received_in_origin", "reintegration"])
            );
        }
    }

    #[test]
    fn a_missing_child_comes_first_and_stays_missing_when_the_case_closes() {
        let w = shipped("trm-child", 3);
        let standing =
            |tracks: &[(&str, &str)], closed: bool| w.child_standing(&at(tracks), closed);
        let care = [("person", "in_contact"), ("solution", "awaiting_bid")];
        assert_eq!(standing(&care, false), Some(ChildStanding::InCare));
        assert_eq!(
            standing(
                &[("person", "missing"), ("solution", "return_preparation")],
                false
            ),
            Some(ChildStanding::Missing)
        );
        assert_eq!(
            standing(&[("person", "closed_while_missing")], true),
            Some(ChildStanding::Missing)
        );
        let solution = |s: &'static str| [("person", "in_contact"), ("solution", s)];
        for (state, expected) in [
            ("return_preparation", ChildStanding::AwaitingReception),
            ("accompanied_return", ChildStanding::InTransit),
            ("not_received_on_arrival", ChildStanding::NotReceived),
            ("received_in_origin", ChildStanding::Received),
            ("follow_up", ChildStanding::Received),
            ("local_integration", ChildStanding::InCare),
        ] {
            assert_eq!(standing(&solution(state), false), Some(expected), "{state}");
        }
        // A case closed with the child accounted for is no longer on the move.
        assert_eq!(
            standing(
                &[
                    ("person", "person_case_closed"),
                    ("solution", "child_case_closed")
                ],
                true
            ),
            None
        );
    }
}
