//! Nothing declared is decorative: a declaration in a workflow file is either carried out by the
//! service or refused. The loader (`load.rs`) already refuses what cannot be carried out (an
//! unknown state, a floor on a deadline ...); this pass finds what would load but that nothing
//! would ever act on, so that a reader of the file is never told of an escalation, a warning or
//! an alert that does not happen.
//!
//! Each finding names the file, the line of the declaration and the declaration itself. Loading
//! a directory refuses them ([`super::load::load_dir`]), except in the versions shipped before
//! this check ([`SHIPPED_BEFORE_THE_CHECK`]): their text may never change (cases are pinned to
//! them and its hash is stored), so there they are warnings, and the next version mends them.

use super::definition::{ESCALATION_ROLES, TimerKind, Workflow};
use super::load::{ErrFn, LoadError};
use super::raw::RawWorkflow;
use crate::vocabulary::Role;
use std::collections::BTreeSet;

/// The workflow versions shipped before declarations had to be carried out, whose findings are
/// warnings. Any other version, a new one or a copy under a new number, is held to the check.
pub const SHIPPED_BEFORE_THE_CHECK: &[(&str, u32)] = &[
    ("trm-adult", 1),
    ("trm-adult", 2),
    ("trm-child", 1),
    ("trm-uk-nrm", 1),
];

/// Whether what workflow `id` version `version` declares in vain is only warned about.
pub(super) fn only_warned(id: &str, version: u32) -> bool {
    SHIPPED_BEFORE_THE_CHECK.contains(&(id, version))
}

/// The declarations of `raw` (checked into `w`) that nothing executes, in file order.
pub(super) fn findings(raw: &RawWorkflow, w: &Workflow, err: &ErrFn<'_>) -> Vec<LoadError> {
    let mut found = Vec::new();
    timers(raw, w, err, &mut found);
    transitions(raw, err, &mut found);
    facts(raw, w, err, &mut found);
    found.sort_by_key(|e| e.line);
    found
}

fn timers(raw: &RawWorkflow, w: &Workflow, err: &ErrFn<'_>, found: &mut Vec<LoadError>) {
    let started: BTreeSet<&str> = w
        .transitions
        .iter()
        .flat_map(|t| t.effects.start_timers.iter().map(|s| s.timer.as_str()))
        .collect();
    for (id, spanned) in &raw.timers {
        let timer = spanned.get_ref();
        let floor = timer.kind == TimerKind::Floor;
        if !started.contains(id.as_str()) {
            found.push(err(
                Some(spanned.span()),
                format!(
                    "timer `{id}` is never started (no transition's `start_timers` names it): \
                     nothing it declares ever takes effect"
                ),
            ));
        }
        if let Some(escalate) = &timer.escalate_to {
            if floor {
                found.push(err(
                    Some(escalate.span()),
                    format!(
                        "timer `{id}`: `escalate_to` on a floor is never carried out: only a \
                         deadline that lapses is escalated (a floor lapsing only allows what it \
                         blocked)"
                    ),
                ));
            }
            let unreachable: Vec<&str> = escalate
                .get_ref()
                .iter()
                .filter(|r| {
                    r.parse::<Role>()
                        .is_ok_and(|role| !ESCALATION_ROLES.contains(&role))
                })
                .map(String::as_str)
                .collect();
            if !unreachable.is_empty() {
                let reachable: Vec<&str> = ESCALATION_ROLES.iter().map(|r| r.as_str()).collect();
                found.push(err(
                    Some(escalate.span()),
                    format!(
                        "timer `{id}`: `escalate_to` names {}, which a lapsed deadline cannot \
                         reach (it reaches {})",
                        unreachable.join(", "),
                        reachable.join(", ")
                    ),
                ));
            }
        }
        if let Some(warn) = &timer.warn_days
            && floor
        {
            found.push(err(
                Some(warn.span()),
                format!(
                    "timer `{id}`: `warn_days` on a floor is never carried out: only a deadline \
                     becomes due soon"
                ),
            ));
        }
    }
}

/// Whether a label says that the step alerts someone (in English or French).
fn announces_alert(text: &str) -> bool {
    text.to_lowercase().contains("alert")
}

fn transitions(raw: &RawWorkflow, err: &ErrFn<'_>, found: &mut Vec<LoadError>) {
    for (id, spanned) in &raw.transitions {
        let t = spanned.get_ref();
        match &t.alert {
            Some(alert) if t.transfer_of_lead => found.push(err(
                Some(alert.span()),
                format!(
                    "transition `{id}`: `alert` on the transfer step is never raised (accepting a \
                     transfer fires the step without alerts)"
                ),
            )),
            Some(_) => {}
            None => {
                if let Some((lang, label)) =
                    t.label.0.iter().find(|(_, text)| announces_alert(text))
                {
                    found.push(err(
                        Some(spanned.span()),
                        format!(
                            "transition `{id}`: its label announces an alert (label.{lang} = \
                             \"{label}\") but it declares no `alert`, so nobody would be alerted: \
                             declare `alert = \"missing\"`, `\"found\"` or `\"not_received\"`, or \
                             reword the label"
                        ),
                    ));
                }
            }
        }
    }
}

fn facts(raw: &RawWorkflow, w: &Workflow, err: &ErrFn<'_>, found: &mut Vec<LoadError>) {
    let written: BTreeSet<&str> = w
        .transitions
        .iter()
        .flat_map(|t| {
            t.inputs
                .iter()
                .map(|i| i.fact.as_str())
                .chain(t.effects.set.keys().map(String::as_str))
        })
        .collect();
    for (name, spanned) in &raw.facts {
        if !written.contains(name.as_str()) {
            found.push(err(
                Some(spanned.span()),
                format!(
                    "fact `{name}` is never recorded (no transition takes it as an input or sets \
                     it): it would stay empty, and whatever reads it would read nothing"
                ),
            ));
        }
    }
}

#[cfg(test)]
#[path = "decorative_tests.rs"]
mod tests;
