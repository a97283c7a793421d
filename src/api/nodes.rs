//! The node types that several resources return, declared apart from their resolvers so that
//! resources can refer to each other (a referral's case, a case's referrals) without importing
//! each other. Each node's fields are resolved in its resource's module.

use crate::access::VisibleCase;
use crate::domain::Event;

/// A case: one person's path through a referral workflow, led by one agency at a time, as the
/// caller may see it (see [`crate::api::case`]).
#[derive(Clone)]
pub struct CaseNode(pub VisibleCase);

/// One recorded change to a case, as the caller may see it (see [`crate::api::event`]).
#[derive(Clone)]
pub struct EventNode(pub Event);
