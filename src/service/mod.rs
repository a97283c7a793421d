//! Use cases: plain async functions over the store and the engine, one database transaction
//! each. Tested through the API; usable without GraphQL (CLI, benchmarks).

pub mod alerts;
pub mod audit;
pub mod audit_log;
pub mod audit_verify;
pub mod auth;
pub mod auth_cache;
pub mod break_glass;
pub mod bus;
pub mod case_file;
pub mod cases;
pub mod children;
pub mod consents;
pub mod console_sessions;
pub mod console_sign_in;
pub mod demo;
pub mod directory;
pub mod disclosure;
mod error;
mod escalation;
pub mod inbox;
pub mod migration;
pub mod oidc;
pub mod person;
pub mod protections;
pub mod referrals;
pub mod same_person;
pub mod sharing;
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
///
/// Built once with [`App::builder`] (or [`crate::startup::prepare`]) and not changed after: the
/// settings of an instance (test clock, audit keys, identity provider) are given to the builder.
/// The public fields are there to be read (through [`AppParts`]). Cloning an app is one
/// reference count: every resolver and request takes its own copy.
#[derive(Clone)]
pub struct App {
    parts: Arc<AppParts>,
}

impl std::ops::Deref for App {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.parts
    }
}

/// What an [`App`] holds.
pub struct AppParts {
    pub store: Store,
    pub workflows: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    /// Signals to subscriptions, across instances on PostgreSQL (see [`bus`]).
    pub bus: bus::Bus,
    /// Set only on instances started with `--test-clock`: lets `advanceTestClock` move time.
    test_clock: Option<Arc<dyn MovableClock>>,
    /// The trusted identity provider, when JWT access tokens are accepted (`--oidc-...`).
    oidc: Option<Arc<oidc::Oidc>>,
    /// The key that signs audit-log checkpoints (`--audit-key-file`); without it no checkpoint
    /// is made (verification still works).
    audit_key: Option<crate::audit::AuditKey>,
    /// Public keys whose checkpoints verification also trusts (`--audit-trusted-key`): the keys
    /// used before a rotation. Empty, with no `audit_key` either: any valid signature passes.
    trusted_audit_keys: Vec<ed25519_dalek::VerifyingKey>,
    /// The secret person-match keys are derived under (`--match-key-file`); without it no keys
    /// are derived and no earlier case is looked for.
    match_secret: Option<crate::domain::person_match::MatchSecret>,
    /// Token → principal for a moment ([`auth_cache`]).
    auth_cache: Arc<auth_cache::AuthCache>,
    /// Places the audit-log leaves that changes leave waiting (PostgreSQL; [`audit_log`]).
    sequencer: Arc<audit_log::Sequencer>,
}

/// How often, by default, the authentication epoch is read again (see [`auth_cache`]).
pub const DEFAULT_AUTH_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// An [`App`] being put together: what every instance has (store, workflows, clock), then the
/// settings only some have. The signal bus is made for the store at [`AppBuilder::build`].
#[must_use]
pub struct AppBuilder {
    store: Store,
    workflows: Arc<Registry>,
    clock: Arc<dyn Clock>,
    test_clock: Option<Arc<dyn MovableClock>>,
    oidc: Option<Arc<oidc::Oidc>>,
    audit_key: Option<crate::audit::AuditKey>,
    trusted_audit_keys: Vec<ed25519_dalek::VerifyingKey>,
    match_secret: Option<crate::domain::person_match::MatchSecret>,
    auth_recheck: std::time::Duration,
}

impl AppBuilder {
    /// How often the authentication epoch is read again, the bound on how long a revoked token
    /// keeps working ([`auth_cache`]; zero: no cache).
    pub fn auth_recheck(mut self, recheck: std::time::Duration) -> Self {
        self.auth_recheck = recheck;
        self
    }

    /// Lets `advanceTestClock` move `clock` (which should be the app's clock); `None`: no test
    /// clock, the mutation is refused.
    pub fn test_clock(mut self, clock: Option<Arc<dyn MovableClock>>) -> Self {
        self.test_clock = clock;
        self
    }

    /// Accepts JWT access tokens of this identity provider.
    pub fn oidc(mut self, oidc: Option<Arc<oidc::Oidc>>) -> Self {
        self.oidc = oidc;
        self
    }

    /// Signs audit-log checkpoints with this key.
    pub fn audit_key(mut self, key: Option<crate::audit::AuditKey>) -> Self {
        self.audit_key = key;
        self
    }

    /// Also trusts checkpoints signed by these keys (earlier keys, after a rotation).
    pub fn trusted_audit_keys(mut self, keys: Vec<ed25519_dalek::VerifyingKey>) -> Self {
        self.trusted_audit_keys = keys;
        self
    }

    /// Derives person-match keys under this secret (every instance of a deployment the same).
    pub fn match_key(mut self, secret: Option<crate::domain::person_match::MatchSecret>) -> Self {
        self.match_secret = secret;
        self
    }

    /// The app, with a signal bus for its store.
    pub fn build(self) -> App {
        let parts = AppParts {
            bus: bus::Bus::for_store(&self.store),
            store: self.store,
            workflows: self.workflows,
            clock: self.clock,
            test_clock: self.test_clock,
            oidc: self.oidc,
            audit_key: self.audit_key,
            trusted_audit_keys: self.trusted_audit_keys,
            match_secret: self.match_secret,
            auth_cache: Arc::new(auth_cache::AuthCache::new(self.auth_recheck)),
            sequencer: Arc::default(),
        };
        App {
            parts: Arc::new(parts),
        }
    }
}

impl App {
    /// Starts building an app on `store` with `workflows` and `clock`; without further settings
    /// it has no test clock, no identity provider and no audit key.
    pub fn builder(
        store: Store,
        workflows: impl Into<Arc<Registry>>,
        clock: Arc<dyn Clock>,
    ) -> AppBuilder {
        AppBuilder {
            store,
            workflows: workflows.into(),
            clock,
            test_clock: None,
            oidc: None,
            audit_key: None,
            trusted_audit_keys: Vec::new(),
            match_secret: None,
            auth_recheck: DEFAULT_AUTH_RECHECK,
        }
    }

    /// After a commit that appended to the audit log: its leaves get their positions soon
    /// (PostgreSQL; see [`audit_log::Sequencer`]).
    pub fn log_appended(&self) {
        self.sequencer.wake(&self.store);
    }

    /// Token → principal for a moment ([`auth_cache`]).
    pub fn auth_cache(&self) -> &auth_cache::AuthCache {
        &self.auth_cache
    }

    /// The clock `advanceTestClock` moves, on instances started with `--test-clock`.
    pub fn test_clock(&self) -> Option<&Arc<dyn MovableClock>> {
        self.test_clock.as_ref()
    }

    /// The trusted identity provider, when JWT access tokens are accepted.
    pub fn oidc(&self) -> Option<&Arc<oidc::Oidc>> {
        self.oidc.as_ref()
    }

    /// The key that signs audit-log checkpoints, if this instance has one.
    pub fn audit_key(&self) -> Option<&crate::audit::AuditKey> {
        self.audit_key.as_ref()
    }

    /// The secret person-match keys are derived under, if this instance has one.
    pub fn match_secret(&self) -> Option<&crate::domain::person_match::MatchSecret> {
        self.match_secret.as_ref()
    }

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

    /// Where the person of `case` stands, as its workflow declares it (see
    /// [`crate::workflow::status`]).
    pub fn person_status(
        &self,
        case: &CaseRecord,
    ) -> Result<crate::workflow::PersonStatus, ServiceError> {
        Ok(self
            .workflow_of(case)?
            .person_status(&case.state, &case.country))
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
