//! The records of a referral mechanism as the rest of the program sees them: cases, their
//! events, what travels between agencies, the person's data and route, the directory and the
//! inboxes. Plain data with no I/O: the store maps its rows to these, services and the API
//! work with them, and nothing outside the store knows how they are kept.
//!
//! The shared vocabulary (roles, agency kinds, stages, statuses ...) is re-exported from
//! [`crate::vocabulary`], so `crate::domain::Role` and `crate::vocabulary::Role` are one type.

pub mod audit_log;
pub mod break_glass;
pub mod canonical;
pub mod case;
pub mod directory;
pub mod event;
pub mod inbox;
pub mod person;
pub mod person_match;
pub mod same_person;
pub mod sharing;

pub use crate::vocabulary::*;
pub use break_glass::BreakGlass;
pub use case::{CaseFilter, CaseRecord, DeadlineFilter};
pub use directory::{Agency, Country, User};
pub use event::{Event, EventDraft, GENESIS_HASH};
pub use inbox::{Feedback, Notification};
pub use person::{DataVersion, Movement, PersonalDataRead};
pub use same_person::SamePersonLink;
pub use sharing::{ConsentRecord, Ground, ReferralRecord, TransferRecord};
