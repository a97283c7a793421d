//! Use cases: plain async functions over the store and the engine, one database transaction
//! each. Tested through the API; usable without GraphQL (CLI, benchmarks).

pub mod alerts;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod break_glass;
pub mod bus;
pub mod cases;
pub mod consents;
pub mod demo;
pub mod directory;
pub mod disclosure;
mod error;
pub mod inbox;
pub mod migration;
pub mod oidc;
pub mod person;
mod protections;
pub mod referrals;
pub mod timers;
pub mod transfer_decisions;
pub mod transfers;
pub mod transitions;
pub mod unit_of_work;
pub mod visibility;
pub mod worklist;

pub use crate::store::{DbFault, fault};
pub use error::ServiceError;

use crate::access::Principal;
use crate::access::policy::{Action, Facts, Verdict};
use crate::clock::{Clock, MovableClock};
use crate::domain::CaseRecord;
use crate::store::Store;
use crate::workflow::engine::Env;
use crate::workflow::{Registry, Workflow};
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;

/// Everything a use case needs: the database, the loaded workflows, the clock and the signal bus.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub workflows: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Set only on instances started with `--test-clock`: lets `advanceTestClock` move time.
    pub test_clock: Option<Arc<dyn MovableClock>>,
    /// Signals to subscriptions, across instances on PostgreSQL (see [`bus`]).
    pub bus: bus::Bus,
    /// The trusted identity provider, when JWT access tokens are accepted (`--oidc-...`).
    pub oidc: Option<Arc<oidc::Oidc>>,
    /// The key that signs audit-log checkpoints (`--audit-key-file`); without it no checkpoint
    /// is made (verification still works).
    pub audit_key: Option<crate::audit::AuditKey>,
    /// Public keys whose checkpoints verification also trusts (`--audit-trusted-key`): the keys
    /// used before a rotation. Empty, with no `audit_key` either: any valid signature passes.
    pub trusted_audit_keys: Vec<ed25519_dalek::VerifyingKey>,
}

impl App {
    /// Now, to the microsecond (what both databases store), so that recorded times and the
    /// hashes computed over them agree after a round trip.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The keys a checkpoint must be signed by to be trusted here: this instance's own and the
    /// earlier ones it was told to trust (empty: no key configured, any valid signature).
    pub fn trusted_audit_keys(&self) -> Vec<ed25519_dalek::VerifyingKey> {
        let mut keys = self.trusted_audit_keys.clone();
        keys.extend(self.audit_key.as_ref().map(|k| k.public()));
        keys
    }

    /// The workflow definition a case is pinned to.
    pub fn workflow_of(&self, case: &CaseRecord) -> Result<Arc<Workflow>, ServiceError> {
        self.workflows
            .get(&case.workflow_id, Some(case.workflow_version))
            .ok_or_else(|| {
                ServiceError::internal(format!(
                    "workflow {} v{} of case {} is not loaded",
                    case.workflow_id, case.workflow_version, case.id
                ))
            })
    }

    /// The evaluation environment of a case at `now`: its jurisdiction and that country's
    /// calendar.
    pub fn env<'a>(&'a self, case: &'a CaseRecord, now: DateTime<Utc>) -> Env<'a> {
        Env {
            now,
            country: &case.country,
            calendar: self.workflows.calendar(&case.country),
        }
    }

    /// What the access policies decide for `p` doing `action` (default deny).
    pub fn decide(&self, p: &Principal, action: Action, facts: Facts) -> Verdict {
        match self.workflows.policies() {
            Some(policies) => policies.decide(p, action, facts),
            None => Verdict {
                allowed: false,
                policies: Vec::new(),
                reasons: Vec::new(),
            },
        }
    }

    /// Refuses with `FORBIDDEN` (saying `refusal`, and any policy that forbade it) unless the
    /// access policies permit `p` to do `action`.
    pub fn authorize(
        &self,
        p: &Principal,
        action: Action,
        facts: Facts,
        refusal: &str,
    ) -> Result<(), ServiceError> {
        let verdict = self.decide(p, action, facts);
        if verdict.allowed {
            Ok(())
        } else if verdict.reasons.is_empty() {
            Err(ServiceError::Forbidden(refusal.to_string()))
        } else {
            Err(ServiceError::Forbidden(format!(
                "{refusal} ({})",
                verdict.reasons.join("; ")
            )))
        }
    }
}
