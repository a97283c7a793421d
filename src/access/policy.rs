//! Who may do what, decided by Cedar policies kept as data next to the workflows
//! (`workflows/policies/*.cedar`). Pure: a decision is a function of the policies, the caller
//! and a few facts about the case the service reads beforehand; no I/O after loading.
//!
//! Default deny. Every decision names the policies that made it, so that a refusal can be
//! explained and the permission matrix (README) is generated from the same policies.
//!
//! Just over the house's 400 lines: loading, deciding and the generated matrix share the parsed
//! policy set and its schema.

use super::principal::Principal;
use crate::vocabulary::{DataGroup, Role, Stage};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema, ValidationMode,
    Validator,
};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

/// The schema policies are checked against at load: the actions and the request context.
const SCHEMA: &str = r#"
entity User;
entity Case;
type Ctx = {
    roles: Set<String>,
    agency_kind: String,
    is_lead: Bool,
    is_party: Bool,
    has_access: Bool,
    is_involved: Bool,
    stage: String,
    group: String,
};
action open_case, fire_transition, record_case_data, migrate_case, refer, answer_referral,
    offer_transfer, decide_transfer, request_transfer, send_feedback, override_consent,
    break_glass, review_break_glass, read_audit, read_group, administer, advance_test_clock,
    find_same_person, account_for_children
    appliesTo { principal: User, resource: Case, context: Ctx };
"#;

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal),+ $(,)?) => {
        /// Something a principal asks to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($(#[$doc])* $variant),+ }

        impl Action {
            /// Every action, in the order of the permission matrix.
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The Cedar action name.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),+ }
            }
        }
    };
}

actions! {
    /// Open a case for one's agency.
    OpenCase => "open_case",
    /// Fire a workflow transition.
    FireTransition => "fire_transition",
    /// Record personal data, consents, movements or the country of origin.
    RecordCaseData => "record_case_data",
    /// Move a case to a newer workflow version.
    MigrateCase => "migrate_case",
    /// Refer a case for a service.
    Refer => "refer",
    /// Accept, decline or complete a referral (or revoke one's own).
    AnswerReferral => "answer_referral",
    /// Offer the lead of a case to another agency.
    OfferTransfer => "offer_transfer",
    /// Accept or reject a transfer offer; approve or reject a transfer request; revoke an offer.
    DecideTransfer => "decide_transfer",
    /// Ask the lead for a case.
    RequestTransfer => "request_transfer",
    /// Send follow-up feedback to a former lead.
    SendFeedback => "send_feedback",
    /// Share without a covering consent, on a legal basis.
    OverrideConsent => "override_consent",
    /// Open a case outside one's access, for a limited time.
    BreakGlass => "break_glass",
    /// Review a break-glass access.
    ReviewBreakGlass => "review_break_glass",
    /// Read every case for oversight.
    ReadAudit => "read_audit",
    /// Read one personal-data group (where the agency holds it).
    ReadGroup => "read_group",
    /// Manage the directory.
    Administer => "administer",
    /// Move the clock of a test instance.
    AdvanceTestClock => "advance_test_clock",
    /// Look for earlier cases of the person of one's case (keyed match), and link one.
    FindSamePerson => "find_same_person",
    /// Follow the children on the move one's country is concerned with (the focal point's
    /// board).
    AccountForChildren => "account_for_children",
}

/// What the service knows about the case when it asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Facts {
    /// The caller's agency leads the case.
    pub is_lead: bool,
    /// The caller's agency is the one that must answer.
    pub is_party: bool,
    /// The caller's agency can already see the case.
    pub has_access: bool,
    /// The caller's agency takes part in the case (a live referral from it) and, for a
    /// transition, is of a kind the step lets involved agencies fire it.
    pub is_involved: bool,
    /// For transitions: the SOP stage of the state left.
    pub stage: Option<Stage>,
    /// For `ReadGroup`: the group.
    pub group: Option<DataGroup>,
}

/// A decision and the policies behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// The `@id`s of the policies that decided (permits when allowed, forbids otherwise).
    pub policies: Vec<String>,
    /// Their `@reason`s.
    pub reasons: Vec<String>,
}

/// The loaded, checked policies.
#[derive(Debug, Clone)]
pub struct Policies {
    set: PolicySet,
    /// Where they came from (for messages).
    pub source: String,
    /// [`Policies::readable_groups`] by role set, worked out once per set: every case view
    /// needs it, and it is one policy decision per data group.
    readable: Arc<RwLock<HashMap<Vec<Role>, Vec<DataGroup>>>>,
    /// Decisions already taken, by what they depend on (roles, agency kind, action, facts):
    /// the policies are fixed once loaded and read nothing else, so a decision never changes,
    /// and every request would otherwise evaluate them again (a twelfth of a transition's CPU).
    decisions: Arc<RwLock<HashMap<DecisionKey, Verdict>>>,
}

/// What a decision depends on (see [`Policies::decide_for`]).
type DecisionKey = (Vec<Role>, String, Action, Facts);

/// Most decisions remembered; the situations that occur are far fewer (roles × kinds × actions
/// × facts that the service asks about).
const MAX_DECISIONS: usize = 8192;

/// The value `memo` holds for `key`, or `compute`'s, then kept while `memo` holds fewer than
/// `most` (a poisoned lock only means it is worked out again).
fn remembered<K: std::hash::Hash + Eq, V: Clone>(
    memo: &RwLock<HashMap<K, V>>,
    key: K,
    most: usize,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(value) = memo.read().ok().and_then(|m| m.get(&key).cloned()) {
        return value;
    }
    let value = compute();
    if let Ok(mut m) = memo.write()
        && m.len() < most
    {
        m.insert(key, value.clone());
    }
    value
}

/// Why policies could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub message: String,
}

impl Policies {
    /// Reads every `*.cedar` file of `dir` (sorted), parses and validates them against the schema.
    pub fn load(dir: &Path) -> Result<Policies, PolicyError> {
        let err = |file: &str, message: String| PolicyError {
            file: file.to_string(),
            message,
        };
        let shown = dir.display().to_string();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| err(&shown, format!("cannot read the policy directory: {e}")))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(err(
                &shown,
                "no *.cedar policy file (default deny would refuse everything)".into(),
            ));
        }
        let mut text = String::new();
        for f in &files {
            let name = f.display().to_string();
            let src = std::fs::read_to_string(f).map_err(|e| err(&name, e.to_string()))?;
            // Each file on its own first, so that an error names its file.
            Policies::parse(&name, &src)?;
            text.push_str(&src);
            text.push('\n');
        }
        let mut p = Policies::parse(&shown, &text)?;
        p.source = shown;
        Ok(p)
    }

    /// Parses and validates policy text.
    pub fn parse(file: &str, src: &str) -> Result<Policies, PolicyError> {
        let err = |message: String| PolicyError {
            file: file.to_string(),
            message,
        };
        let set = PolicySet::from_str(src).map_err(|e| err(format!("does not parse: {e}")))?;
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA)
            .map_err(|e| err(format!("internal schema: {e}")))?;
        let result = Validator::new(schema).validate(&set, ValidationMode::Strict);
        if !result.validation_passed() {
            return Err(err(format!("does not match the schema: {result}")));
        }
        for p in set.policies() {
            if p.annotation("id").is_none() || p.annotation("reason").is_none() {
                return Err(err(format!(
                    "policy {} needs an @id and a @reason (they explain decisions)",
                    p.id()
                )));
            }
        }
        Ok(Policies {
            set,
            source: file.to_string(),
            readable: Arc::default(),
            decisions: Arc::default(),
        })
    }

    /// Decides whether `p` may do `action` given `facts`.
    pub fn decide(&self, p: &Principal, action: Action, facts: Facts) -> Verdict {
        self.decide_for(&p.roles, p.agency_kind.as_str(), action, facts)
    }

    /// Decides for a caller with `roles` in an agency of kind `agency_kind`.
    pub fn decide_for(
        &self,
        roles: &[Role],
        agency_kind: &str,
        action: Action,
        facts: Facts,
    ) -> Verdict {
        let key = (roles.to_vec(), agency_kind.to_string(), action, facts);
        remembered(&self.decisions, key, MAX_DECISIONS, || {
            self.evaluate(roles, agency_kind, action, facts)
        })
    }

    /// [`Policies::decide_for`], evaluated by Cedar.
    fn evaluate(&self, roles: &[Role], agency_kind: &str, action: Action, facts: Facts) -> Verdict {
        let deny = Verdict {
            allowed: false,
            policies: Vec::new(),
            reasons: Vec::new(),
        };
        let context = serde_json::json!({
            "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "agency_kind": agency_kind,
            "is_lead": facts.is_lead,
            "is_party": facts.is_party,
            "has_access": facts.has_access,
            "is_involved": facts.is_involved,
            "stage": facts.stage.map(|s| s.as_str()).unwrap_or(""),
            "group": facts.group.map(|g| g.as_str()).unwrap_or(""),
        });
        let (Ok(principal), Ok(action_uid), Ok(resource), Ok(context)) = (
            EntityUid::from_str(r#"User::"caller""#),
            EntityUid::from_str(&format!(r#"Action::"{}""#, action.name())),
            EntityUid::from_str(r#"Case::"case""#),
            Context::from_json_value(context, None),
        ) else {
            return deny;
        };
        let Ok(request) = Request::new(principal, action_uid, resource, context, None) else {
            return deny;
        };
        let answer = Authorizer::new().is_authorized(&request, &self.set, &Entities::empty());
        let mut policies = Vec::new();
        let mut reasons = Vec::new();
        for id in answer.diagnostics().reason() {
            if let Some(policy) = self.set.policy(id) {
                policies.push(policy.annotation("id").unwrap_or_default().to_string());
                reasons.push(policy.annotation("reason").unwrap_or_default().to_string());
            }
        }
        Verdict {
            allowed: answer.decision() == Decision::Allow
                && answer.diagnostics().errors().next().is_none(),
            policies,
            reasons,
        }
    }

    /// The permission matrix: for each action and role, in which situations a user holding only
    /// that role (in an agency of `agency_kind`) is allowed. Generated from the policies.
    pub fn matrix(&self) -> Vec<(Action, Vec<(Role, String)>)> {
        let situations: [(&str, Facts); 5] = [
            (
                "lead",
                Facts {
                    is_lead: true,
                    has_access: true,
                    ..Facts::default()
                },
            ),
            (
                "party",
                Facts {
                    is_party: true,
                    has_access: true,
                    ..Facts::default()
                },
            ),
            (
                "involved",
                Facts {
                    is_involved: true,
                    has_access: true,
                    ..Facts::default()
                },
            ),
            (
                "sees the case",
                Facts {
                    has_access: true,
                    ..Facts::default()
                },
            ),
            ("no access", Facts::default()),
        ];
        let stages = [Stage::Identification, Stage::Proceedings];
        Action::ALL
            .iter()
            .filter(|a| **a != Action::ReadGroup)
            .map(|action| {
                let cells = Role::ALL
                    .iter()
                    .map(|role| {
                        let mut allowed: Vec<String> = Vec::new();
                        for (name, facts) in situations {
                            let per_stage: Vec<bool> = stages
                                .iter()
                                .map(|s| {
                                    let f = Facts {
                                        stage: Some(*s),
                                        ..facts
                                    };
                                    self.decide_for(&[*role], "NGO", *action, f).allowed
                                })
                                .collect();
                            match (per_stage[0], per_stage[1]) {
                                (true, true) => allowed.push(name.to_string()),
                                (true, false) => {
                                    allowed.push(format!("{name}, not in PROCEEDINGS"))
                                }
                                (false, true) => {
                                    allowed.push(format!("{name}, in PROCEEDINGS only"))
                                }
                                (false, false) => {}
                            }
                        }
                        let cell = if allowed.len() == situations.len() {
                            "yes".to_string()
                        } else if allowed.is_empty() {
                            "–".to_string()
                        } else {
                            allowed.join("; ")
                        };
                        (*role, cell)
                    })
                    .collect();
                (*action, cells)
            })
            .collect()
    }

    /// The groups a user holding only `role` may read (of those its agency holds).
    pub fn readable_groups(&self, roles: &[Role]) -> Vec<DataGroup> {
        let mut key = roles.to_vec();
        key.sort_unstable();
        key.dedup();
        remembered(&self.readable, key, usize::MAX, || {
            self.decide_readable_groups(roles)
        })
    }

    fn decide_readable_groups(&self, roles: &[Role]) -> Vec<DataGroup> {
        DataGroup::ALL
            .iter()
            .copied()
            .filter(|g| {
                let facts = Facts {
                    group: Some(*g),
                    ..Facts::default()
                };
                self.decide_for(roles, "NGO", Action::ReadGroup, facts)
                    .allowed
            })
            .collect()
    }

    /// The matrix as a Markdown table (the README's copy is checked against it by a test),
    /// followed by the personal-data groups each role reads.
    pub fn matrix_markdown(&self) -> String {
        let mut out = String::from("| Action |");
        for r in Role::ALL {
            out.push_str(&format!(" `{}` |", r.as_str()));
        }
        out.push_str("\n|---|");
        for _ in Role::ALL {
            out.push_str("---|");
        }
        out.push('\n');
        for (action, cells) in self.matrix() {
            out.push_str(&format!("| `{}` |", action.name()));
            for (_, cell) in cells {
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out.push_str("| `read_group` (personal data the agency holds) |");
        for r in Role::ALL {
            let groups = self.readable_groups(&[*r]);
            let cell = if groups.len() == DataGroup::ALL.len() {
                "all groups".to_string()
            } else if groups.is_empty() {
                "–".to_string()
            } else {
                let missing: Vec<&str> = DataGroup::ALL
                    .iter()
                    .filter(|g| !groups.contains(g))
                    .map(|g| g.as_str())
                    .collect();
                format!("all but {}", missing.join(", "))
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
