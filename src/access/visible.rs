//! A case as one caller may see it: the record with the [`CaseView`]'s decision already
//! applied. Services hand cases out only in this form, so a new field of the API reads a record
//! from which what the caller may not see has been removed, whether or not its author
//! remembered to ask.

use super::view::{CaseView, Field, Relation};
use crate::domain::CaseRecord;
use crate::workflow::engine::TimerState;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// A case with what its caller may not see removed (see the module documentation).
#[derive(Debug, Clone)]
pub struct VisibleCase {
    record: CaseRecord,
    view: CaseView,
}

impl VisibleCase {
    /// Applies `view` to `record`: facts and timers are removed where the caller may not see
    /// them (the tracks' states, the case's identity and its lead are shown to everyone who
    /// sees the case at all).
    pub fn new(mut record: CaseRecord, view: CaseView) -> VisibleCase {
        if !view.sees(Field::Facts) {
            record.state.facts.clear();
        }
        if !view.sees(Field::Timers) {
            record.state.timers.clear();
        }
        VisibleCase { record, view }
    }

    /// The case, redacted for the caller.
    pub fn record(&self) -> &CaseRecord {
        &self.record
    }

    /// The decision behind what is shown (for the services that read more of the case: its
    /// history, referrals, transfers, consents, personal data).
    pub fn view(&self) -> &CaseView {
        &self.view
    }

    /// How the caller's agency stands towards the case.
    pub fn relation(&self) -> Relation {
        self.view.relation
    }

    /// Whether `field` is shown.
    pub fn sees(&self, field: Field) -> bool {
        self.view.sees(field)
    }

    /// The fields shown as null or empty, by their API names.
    pub fn redacted_fields(&self) -> Vec<String> {
        self.view.redacted_fields()
    }

    /// The facts recorded so far; `None` where the caller may not see them.
    pub fn facts(&self) -> Option<&BTreeMap<String, Json>> {
        self.sees(Field::Facts).then_some(&self.record.state.facts)
    }

    /// The case's timers; empty where the caller may not see them.
    pub fn timers(&self) -> &BTreeMap<String, TimerState> {
        &self.record.state.timers
    }
}
