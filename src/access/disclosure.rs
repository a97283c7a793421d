//! Rules of law on what may leave an agency, whoever asks: perpetrator information travels
//! only between law-enforcement agencies; an asylum seeker's country of origin is not contacted.

use crate::domain::{AgencyKind, DataGroup};
use std::collections::BTreeSet;

/// Whether `groups` may travel from an agency of kind `from` to one of kind `to`:
/// perpetrator information only between law-enforcement agencies.
pub fn may_travel(groups: &BTreeSet<DataGroup>, from: AgencyKind, to: AgencyKind) -> bool {
    !groups.contains(&DataGroup::Perpetrator)
        || (from.is_law_enforcement() && to.is_law_enforcement())
}

/// Whether sending to an agency of kind `kind` in `country` (representing `represents`) would
/// contact the authorities of the person's country of origin.
pub fn is_origin_authority(
    kind: AgencyKind,
    country: &str,
    represents: Option<&str>,
    origin: &str,
) -> bool {
    kind.is_state_authority() && (country == origin || represents == Some(origin))
}
