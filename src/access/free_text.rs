//! The free texts agencies write on a case, and whose each one is: the agency that wrote it,
//! when, the personal-data groups it is shared as and the agency it is addressed to. Which a
//! caller sees is decided by one rule, [`super::CaseView::sees_text`], applied by
//! [`super::CaseView::texts`] to every record that carries a text, on every path. Pure; no I/O.
//!
//! | Text | Writer | Shared as | Addressed to |
//! |---|---|---|---|
//! | event `reason` | the acting agency | the event's `reasonSharedAs` | the event's addressee |
//! | referral `purpose` | the sender | the referral's groups | the receiver |
//! | referral `statusReason` | the receiver (declined, completed); the sender (revoked, suspended) | the referral's groups | the other party |
//! | transfer `statusReason` | the decider (rejected); the lead (revoked, suspended) | the transfer's groups | the other party |
//! | override justification (referral, transfer) | the sender | its groups | the receiver |
//! | feedback `message` | the new lead | none | the former lead |
//! | consent `assentMissingReason` | the agency that recorded it (the lead then) | none | none |
//! | break-glass `justification` | the agency that broke the glass | none | the lead when it was opened (told at once; it reviews) |
//! | break-glass `reviewNote` | the reviewing agency | none | the agency that broke the glass |
//!
//! The events that carry a referral's or transfer's text as their reason (declined, completed,
//! offered, rejected ...) record the same groups and addressee, so the text reads the same on
//! the record and in the history.

use crate::domain::{
    BreakGlass, ConsentRecord, DataGroup, Event, Feedback, Ground, ReferralRecord, ReferralStatus,
    TransferRecord, TransferStatus,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Whose a free text is (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeText {
    /// The agency that wrote it.
    pub writer: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// The personal-data groups it is shared as (none: it stays with the writer, the addressee
    /// and the auditors).
    pub shared_as: BTreeSet<DataGroup>,
    /// The agency it is addressed to, if any.
    pub addressee: Option<Uuid>,
}

/// A record that carries free texts.
pub trait FreeTexts {
    /// Each free text the record holds (none for a text that was not written), by its API
    /// name, with whose it is.
    fn texts(&self) -> Vec<(&'static str, FreeText)>;

    /// Removes the text `name` (one of [`Self::texts`]) and names it as withheld.
    fn withhold(&mut self, name: &'static str);
}

/// The reason of an event (see [`Event::reason_shared_as`]).
pub const REASON: &str = "reason";
/// What a referral is for.
pub const PURPOSE: &str = "purpose";
/// Why a referral or transfer is where it stands.
pub const STATUS_REASON: &str = "statusReason";
/// Why a referral or transfer was shared without consent.
pub const OVERRIDE_JUSTIFICATION: &str = "ground.overrideJustification";
/// Feedback from the new lead.
pub const MESSAGE: &str = "message";
/// Why a child did not assent.
pub const ASSENT_MISSING_REASON: &str = "assentMissingReason";
/// Why the glass was broken.
pub const JUSTIFICATION: &str = "justification";
/// The review's note on a break-glass access.
pub const REVIEW_NOTE: &str = "reviewNote";

fn text(
    writer: Uuid,
    at: DateTime<Utc>,
    shared_as: &BTreeSet<DataGroup>,
    addressee: Option<Uuid>,
) -> FreeText {
    FreeText {
        writer,
        at,
        shared_as: shared_as.clone(),
        addressee,
    }
}

fn mark(withheld: &mut Vec<&'static str>, name: &'static str) {
    if !withheld.contains(&name) {
        withheld.push(name);
    }
}

fn clear_justification(ground: Option<&mut Ground>) {
    if let Some(Ground::Override { justification, .. }) = ground {
        justification.clear();
    }
}

impl FreeTexts for Event {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        self.reason
            .as_ref()
            .map(|_| {
                let t = text(
                    self.actor_agency_id,
                    self.occurred_at,
                    &self.reason_shared_as,
                    self.reason_to,
                );
                (REASON, t)
            })
            .into_iter()
            .collect()
    }

    fn withhold(&mut self, name: &'static str) {
        if name == REASON {
            self.reason = None;
            mark(&mut self.withheld, name);
        }
    }
}

/// The two parties of a referral or transfer: (writer, addressee) of a text written by the
/// receiver (`by_receiver`) or the sender.
fn parties(from: Uuid, to: Uuid, by_receiver: bool) -> (Uuid, Uuid) {
    if by_receiver { (to, from) } else { (from, to) }
}

impl FreeTexts for ReferralRecord {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        let (from, to) = (self.from_agency_id, self.to_agency_id);
        let mut out = vec![(PURPOSE, text(from, self.created_at, &self.groups, Some(to)))];
        if self.status_reason.is_some() {
            // The receiver declines and completes; the sender revokes (and the service, for
            // the sender, suspends or ends).
            let by_receiver = matches!(
                self.status,
                ReferralStatus::Declined | ReferralStatus::Completed
            );
            let (writer, addressee) = parties(from, to, by_receiver);
            let t = text(writer, self.updated_at, &self.groups, Some(addressee));
            out.push((STATUS_REASON, t));
        }
        if matches!(self.ground, Ground::Override { .. }) {
            let t = text(from, self.created_at, &self.groups, Some(to));
            out.push((OVERRIDE_JUSTIFICATION, t));
        }
        out
    }

    fn withhold(&mut self, name: &'static str) {
        match name {
            PURPOSE => self.purpose.clear(),
            STATUS_REASON => self.status_reason = None,
            OVERRIDE_JUSTIFICATION => clear_justification(Some(&mut self.ground)),
            _ => return,
        }
        mark(&mut self.withheld, name);
    }
}

impl FreeTexts for TransferRecord {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        let (from, to) = (self.from_agency_id, self.to_agency_id);
        let mut out = Vec::new();
        if self.status_reason.is_some() {
            // The decider rejects (the receiver an offer, the lead a request); the lead revokes
            // (and the service, for the lead, suspends or ends).
            let by_receiver =
                self.status == TransferStatus::Rejected && !self.requested_by_receiver;
            let (writer, addressee) = parties(from, to, by_receiver);
            let t = text(writer, self.updated_at, &self.groups, Some(addressee));
            out.push((STATUS_REASON, t));
        }
        if matches!(self.ground, Some(Ground::Override { .. })) {
            let t = text(from, self.created_at, &self.groups, Some(to));
            out.push((OVERRIDE_JUSTIFICATION, t));
        }
        out
    }

    fn withhold(&mut self, name: &'static str) {
        match name {
            STATUS_REASON => self.status_reason = None,
            OVERRIDE_JUSTIFICATION => clear_justification(self.ground.as_mut()),
            _ => return,
        }
        mark(&mut self.withheld, name);
    }
}

impl FreeTexts for Feedback {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        let t = text(
            self.from_agency_id,
            self.sent_at,
            &BTreeSet::new(),
            Some(self.to_agency_id),
        );
        vec![(MESSAGE, t)]
    }

    fn withhold(&mut self, name: &'static str) {
        if name == MESSAGE {
            self.message.clear();
            mark(&mut self.withheld, name);
        }
    }
}

impl FreeTexts for ConsentRecord {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        self.assent_missing_reason
            .as_ref()
            .map(|_| {
                let writer = self.recorded_by_agency;
                let t = text(writer, self.recorded_at, &BTreeSet::new(), None);
                (ASSENT_MISSING_REASON, t)
            })
            .into_iter()
            .collect()
    }

    fn withhold(&mut self, name: &'static str) {
        if name == ASSENT_MISSING_REASON {
            self.assent_missing_reason = None;
            mark(&mut self.withheld, name);
        }
    }
}

impl FreeTexts for BreakGlass {
    fn texts(&self) -> Vec<(&'static str, FreeText)> {
        // Written for oversight: the justification to the agency that led the case then (told
        // at once, it reviews it); the review's note to the agency that broke the glass.
        let none = BTreeSet::new();
        let lead = Some(self.lead_agency_id);
        let mut out = vec![(
            JUSTIFICATION,
            text(self.agency_id, self.opened_at, &none, lead),
        )];
        if self.review_note.is_some() {
            let at = self.reviewed_at.unwrap_or(self.opened_at);
            let writer = self.reviewed_by_agency.unwrap_or_default();
            let t = text(writer, at, &none, Some(self.agency_id));
            out.push((REVIEW_NOTE, t));
        }
        out
    }

    fn withhold(&mut self, name: &'static str) {
        match name {
            JUSTIFICATION => self.justification.clear(),
            REVIEW_NOTE => self.review_note = None,
            _ => return,
        }
        mark(&mut self.withheld, name);
    }
}
