//! Who may see what, and who may do what: one access model.
//!
//! - [`Principal`] is the caller; [`CaseScope`] the set of cases it may read (the store applies
//!   it to every case query).
//! - [`CaseView`] is what it may see of one case, decided from the case's sharing history;
//!   [`VisibleCase`] is a case with that decision applied, the only form in which a case
//!   leaves the services. [`free_text`] says whose each free text is; the view's one rule
//!   decides who reads it.
//! - [`policy`] decides what it may do (Cedar policies kept next to the workflows).
//! - [`disclosure`] holds the rules of law on what may leave an agency at all;
//!   [`protections`] the rules that keep holding as the person's situation changes.
//!
//! Pure; no I/O.

pub mod disclosure;
pub mod free_text;
pub mod policy;
mod principal;
pub mod protections;
mod view;
mod visible;

pub use disclosure::{is_origin_authority, may_travel};
pub use free_text::{FreeText, FreeTexts};
pub use principal::{CaseScope, Principal};
pub use view::{
    CaseView, Field, Grant, ReferralShare, Relation, SharingRecord, TransferShare, grants,
    participants,
};
pub use visible::VisibleCase;
