//! Guards: CEL expressions over a case's facts, track states and timers.
//!
//! A guard is parsed and checked when its workflow is loaded: every name it uses must be a
//! declared fact, `tracks.<declared track>` or `timers.<declared timer>.<field>`, and it must
//! evaluate to a boolean on well-typed sample values. At run time an unset fact is `null`;
//! a guard that errors (e.g. compares `null` with a number) counts as unmet.
//!
//! Just over the house's 400 lines: compiling a guard and checking it on sample values share
//! its scope of names.

use super::facts::{Fact, FactType, Labels};
use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::common::types;
use cel::common::value::CowVal;
use cel::{Context, Program, Value};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The fields of `timers.<id>` a guard can read.
pub const TIMER_FIELDS: &[&str] = &["started", "running", "elapsed", "stopped", "paused"];

/// A named condition a transition requires, with the reason shown when it does not hold.
pub struct Guard {
    /// Machine name, e.g. `consent_given`.
    pub name: String,
    /// The CEL source.
    pub expr: String,
    /// Why the transition is refused when the guard does not hold.
    pub reason: Labels,
    /// The facts it reads.
    pub facts: BTreeSet<String>,
    /// Whether it reads `tracks`, `timers`, `params` (only what it reads is bound).
    uses: [bool; 3],
    program: Arc<Program>,
}

/// The CEL standard library with the workflows' own functions, built once and shared by every
/// evaluation (building it costs more than evaluating a typical guard).
static STDLIB: std::sync::LazyLock<Arc<cel::Env>> = std::sync::LazyLock::new(|| {
    let mut env = cel::Env::stdlib();
    // Only a duplicate declaration fails, and there is none: the guard is then merely unknown.
    let _ = env.add_overload(
        "months_between",
        "months_between_dates",
        vec![types::STRING_TYPE, types::STRING_TYPE],
        |args| {
            let date = |i: usize| {
                args.get(i)
                    .and_then(|a| a.downcast_ref::<types::CelString>())
                    .and_then(|s| chrono::NaiveDate::parse_from_str(s.inner(), "%Y-%m-%d").ok())
                    .ok_or_else(|| {
                        cel::ExecutionError::function_error(
                            "months_between",
                            "takes two dates as YYYY-MM-DD",
                        )
                    })
            };
            Ok(CowVal::owned(types::CelInt::from(months_between(
                date(0)?,
                date(1)?,
            ))))
        },
    );
    Arc::new(env)
});

/// Whole calendar months from `from` to `to` (negative when `to` is earlier): a permit issued on
/// 2026-01-31 and valid until 2026-07-30 runs 5 months, until 2026-07-31 6. Guards read it as
/// `months_between(issued, expires)`, so that a minimum length is checked on the dates
/// themselves, not on a number typed beside them.
pub fn months_between(from: chrono::NaiveDate, to: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    if to < from {
        return -months_between(to, from);
    }
    let mut months =
        i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    // Not yet a whole month when `to`'s day comes before `from`'s, except at the end of a
    // shorter month (31 January + 1 month is 28 or 29 February).
    let end_of_month = to.succ_opt().is_none_or(|next| next.month() != to.month());
    if to.day() < from.day() && !end_of_month {
        months -= 1;
    }
    months
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("name", &self.name)
            .field("expr", &self.expr)
            .finish()
    }
}

/// The names a guard may use, from its workflow.
pub struct GuardScope<'a> {
    pub facts: &'a BTreeMap<String, Fact>,
    /// Jurisdiction parameters, read as `params.<name>`.
    pub params: &'a BTreeMap<String, Fact>,
    pub tracks: &'a BTreeSet<String>,
    pub timers: &'a BTreeSet<String>,
}

/// Run-time view of a timer, as guards see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerView {
    pub started: bool,
    pub running: bool,
    pub elapsed: bool,
    pub stopped: bool,
    pub paused: bool,
}

/// The values guards are evaluated against.
pub struct GuardInput<'a> {
    /// Declared facts; absent ones are bound to `null`.
    pub facts: &'a BTreeMap<String, Json>,
    /// Current state of each started track.
    pub tracks: &'a BTreeMap<String, String>,
    pub timers: &'a BTreeMap<String, TimerView>,
    /// Jurisdiction parameters in force for the case.
    pub params: &'a BTreeMap<String, Json>,
}

impl Guard {
    /// Parses and checks a guard against the names its workflow declares.
    pub fn compile(
        name: &str,
        expr: &str,
        reason: Labels,
        scope: &GuardScope<'_>,
    ) -> Result<Guard, String> {
        let program = Program::compile(expr).map_err(|e| format!("does not parse: {e}"))?;
        let mut facts = BTreeSet::new();
        let mut uses = [false; 3];
        for var in program.references().variables() {
            match var {
                "tracks" => uses[0] = true,
                "timers" => uses[1] = true,
                "params" => uses[2] = true,
                fact if scope.facts.contains_key(fact) => {
                    facts.insert(fact.to_string());
                }
                other => return Err(format!("uses `{other}`, which is not a declared fact")),
            }
        }
        check_selects(program.expression(), scope)?;
        let guard = Guard {
            name: name.to_string(),
            expr: expr.to_string(),
            reason,
            facts,
            uses,
            program: Arc::new(program),
        };
        guard.check_type(scope)?;
        Ok(guard)
    }

    /// Evaluates the guard; `Err` carries the evaluation error (which counts as unmet).
    /// Binds only what the guard reads (absent facts as `null`), on the shared standard
    /// library; `declared` is the workflow's facts (every fact a guard reads is one of them).
    pub fn holds(
        &self,
        input: &GuardInput<'_>,
        declared: &BTreeMap<String, Fact>,
    ) -> Result<bool, String> {
        let mut context = Context::with_env(STDLIB.clone());
        for name in self.facts.iter().filter(|f| declared.contains_key(*f)) {
            let value = input
                .facts
                .get(name)
                .map(json_to_cel)
                .unwrap_or(Value::Null);
            context.add_variable_from_value(name.as_str(), value);
        }
        let [tracks, timers, params] = self.uses;
        if tracks {
            let tracks: HashMap<String, Value> = input
                .tracks
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                .collect();
            context.add_variable_from_value("tracks", tracks);
        }
        if timers {
            let timers: HashMap<String, Value> = input
                .timers
                .iter()
                .map(|(k, v)| (k.clone(), timer_value(v)))
                .collect();
            context.add_variable_from_value("timers", timers);
        }
        if params {
            let params: HashMap<String, Value> = input
                .params
                .iter()
                .map(|(k, v)| (k.clone(), json_to_cel(v)))
                .collect();
            context.add_variable_from_value("params", params);
        }
        match self.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("evaluated to {other:?}, not a boolean")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Evaluates once with a well-typed sample value for every fact, so that a type error
    /// (`risk_level > 3` on an enum) or a non-boolean result is found at load time.
    fn check_type(&self, scope: &GuardScope<'_>) -> Result<(), String> {
        let facts: BTreeMap<String, Json> = scope
            .facts
            .iter()
            .map(|(name, fact)| (name.clone(), sample(fact)))
            .collect();
        let tracks: BTreeMap<String, String> = scope
            .tracks
            .iter()
            .map(|t| (t.clone(), String::new()))
            .collect();
        let timers: BTreeMap<String, TimerView> = scope
            .timers
            .iter()
            .map(|t| (t.clone(), TimerView::default()))
            .collect();
        let params: BTreeMap<String, Json> = scope
            .params
            .iter()
            .map(|(name, fact)| (name.clone(), sample(fact)))
            .collect();
        let input = GuardInput {
            facts: &facts,
            tracks: &tracks,
            timers: &timers,
            params: &params,
        };
        self.holds(&input, scope.facts)
            .map(|_| ())
            .map_err(|e| format!("does not evaluate to a boolean on well-typed facts: {e}"))
    }
}

fn sample(fact: &Fact) -> Json {
    match fact.kind {
        FactType::Bool => Json::Bool(false),
        FactType::String => Json::String(String::new()),
        FactType::Int => Json::from(0),
        FactType::Enum => Json::String(fact.values.first().cloned().unwrap_or_default()),
        FactType::Date => Json::String("2000-01-01".into()),
    }
}

fn timer_value(view: &TimerView) -> Value {
    let fields: HashMap<String, Value> = [
        ("started", view.started),
        ("running", view.running),
        ("elapsed", view.elapsed),
        ("stopped", view.stopped),
        ("paused", view.paused),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), Value::Bool(v)))
    .collect();
    Value::from(fields)
}

/// Converts a JSON fact value into a CEL value.
pub fn json_to_cel(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::from(items.iter().map(json_to_cel).collect::<Vec<_>>()),
        Json::Object(map) => Value::from(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_cel(v)))
                .collect::<HashMap<String, Value>>(),
        ),
    }
}

/// Checks every `tracks.x` and `timers.x.field` against the declared names.
fn check_selects(node: &IdedExpr, scope: &GuardScope<'_>) -> Result<(), String> {
    match &node.expr {
        Expr::Select(select) => {
            if let Expr::Ident(root) = &select.operand.expr {
                let (known, what) = match root.as_str() {
                    "tracks" => (scope.tracks.contains(&select.field), "track"),
                    "timers" => (scope.timers.contains(&select.field), "timer"),
                    "params" => (scope.params.contains_key(&select.field), "parameter"),
                    _ => return Ok(()),
                };
                if !known {
                    return Err(format!(
                        "uses {root}.{}, which is not a declared {what}",
                        select.field
                    ));
                }
                return Ok(());
            }
            if let Expr::Select(inner) = &select.operand.expr
                && matches!(&inner.operand.expr, Expr::Ident(root) if root == "timers")
                && !TIMER_FIELDS.contains(&select.field.as_str())
            {
                return Err(format!(
                    "uses timers.{}.{}; a timer has only {}",
                    inner.field,
                    select.field,
                    TIMER_FIELDS.join(", ")
                ));
            }
            check_selects(&select.operand, scope)
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                check_selects(target, scope)?;
            }
            call.args.iter().try_for_each(|a| check_selects(a, scope))
        }
        Expr::Comprehension(c) => [
            &c.iter_range,
            &c.accu_init,
            &c.loop_cond,
            &c.loop_step,
            &c.result,
        ]
        .into_iter()
        .try_for_each(|e| check_selects(e, scope)),
        Expr::List(list) => list
            .elements
            .iter()
            .try_for_each(|e| check_selects(e, scope)),
        Expr::Map(map) => map
            .entries
            .iter()
            .try_for_each(|e| check_entry(&e.expr, scope)),
        Expr::Struct(s) => s
            .entries
            .iter()
            .try_for_each(|e| check_entry(&e.expr, scope)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => Ok(()),
    }
}

fn check_entry(entry: &EntryExpr, scope: &GuardScope<'_>) -> Result<(), String> {
    match entry {
        EntryExpr::StructField(f) => check_selects(&f.value, scope),
        EntryExpr::MapEntry(m) => {
            check_selects(&m.key, scope)?;
            check_selects(&m.value, scope)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> BTreeMap<String, Fact> {
        let mut facts = BTreeMap::new();
        facts.insert(
            "risk_level".to_string(),
            Fact {
                name: "risk_level".into(),
                kind: FactType::Enum,
                values: vec!["low".into(), "medium".into(), "high".into()],
                label: Labels::default(),
                value_labels: BTreeMap::new(),
            },
        );
        facts.insert(
            "shelter_secured".to_string(),
            Fact {
                name: "shelter_secured".into(),
                kind: FactType::Bool,
                values: vec![],
                label: Labels::default(),
                value_labels: BTreeMap::new(),
            },
        );
        for date in ["issued", "expires"] {
            facts.insert(
                date.to_string(),
                Fact {
                    name: date.into(),
                    kind: FactType::Date,
                    values: vec![],
                    label: Labels::default(),
                    value_labels: BTreeMap::new(),
                },
            );
        }
        facts
    }

    #[test]
    fn months_between_counts_whole_calendar_months() {
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default();
        assert_eq!(months_between(d("2026-01-15"), d("2026-07-15")), 6);
        assert_eq!(months_between(d("2026-01-15"), d("2026-07-14")), 5);
        assert_eq!(months_between(d("2026-01-31"), d("2026-07-30")), 5);
        assert_eq!(months_between(d("2026-01-31"), d("2026-07-31")), 6);
        assert_eq!(months_between(d("2026-08-31"), d("2027-02-28")), 6);
        assert_eq!(months_between(d("2026-07-15"), d("2026-01-15")), -6);
    }

    #[test]
    fn a_guard_checks_a_minimum_length_on_the_dates() -> Result<(), String> {
        let guard = compile("months_between(issued, expires) >= 6")?;
        let declared = facts();
        let holds = |issued: &str, expires: &str| {
            let facts = BTreeMap::from([
                ("issued".to_string(), Json::from(issued)),
                ("expires".to_string(), Json::from(expires)),
            ]);
            let none = BTreeMap::new();
            let input = GuardInput {
                facts: &facts,
                tracks: &none,
                timers: &BTreeMap::new(),
                params: &BTreeMap::new(),
            };
            guard.holds(&input, &declared)
        };
        assert_eq!(holds("2026-03-01", "2026-09-01"), Ok(true));
        assert_eq!(holds("2026-03-01", "2026-08-31"), Ok(false));
        // Unrecorded dates: the guard errors, which counts as unmet.
        let input = GuardInput {
            facts: &BTreeMap::new(),
            tracks: &BTreeMap::new(),
            timers: &BTreeMap::new(),
            params: &BTreeMap::new(),
        };
        assert!(guard.holds(&input, &declared).is_err());
        Ok(())
    }

    fn compile(expr: &str) -> Result<Guard, String> {
        let facts = facts();
        let tracks = BTreeSet::from(["assistance".to_string()]);
        let timers = BTreeSet::from(["reflection_period".to_string()]);
        let params = BTreeMap::new();
        let scope = GuardScope {
            facts: &facts,
            params: &params,
            tracks: &tracks,
            timers: &timers,
        };
        Guard::compile("g", expr, Labels::default(), &scope)
    }

    #[test]
    fn refuses_unknown_names_at_compile_time() {
        assert!(
            compile("risk_levl == 'high'")
                .unwrap_err()
                .contains("risk_levl")
        );
        assert!(
            compile("tracks.asistance == 'x'")
                .unwrap_err()
                .contains("asistance")
        );
        assert!(
            compile("timers.reflection.elapsed")
                .unwrap_err()
                .contains("reflection")
        );
        assert!(
            compile("timers.reflection_period.over")
                .unwrap_err()
                .contains("over")
        );
    }

    #[test]
    fn refuses_type_errors_and_non_boolean_results() {
        assert!(compile("risk_level > 3").is_err());
        assert!(compile("risk_level").is_err());
        assert!(compile("'(").is_err());
    }

    #[test]
    fn evaluates_over_facts_tracks_and_timers() -> Result<(), String> {
        let guard = compile(
            "(risk_level != 'high' || shelter_secured == true) && tracks.assistance == 'in_assistance' \
             && !timers.reflection_period.running",
        )?;
        assert_eq!(
            guard.facts,
            BTreeSet::from(["risk_level".to_string(), "shelter_secured".to_string()])
        );
        let declared = facts();
        let mut facts = BTreeMap::from([("risk_level".to_string(), Json::from("high"))]);
        let tracks = BTreeMap::from([("assistance".to_string(), "in_assistance".to_string())]);
        let timers = BTreeMap::from([(
            "reflection_period".to_string(),
            TimerView {
                started: true,
                elapsed: true,
                ..TimerView::default()
            },
        )]);
        let params = BTreeMap::new();
        let input = GuardInput {
            facts: &facts,
            tracks: &tracks,
            timers: &timers,
            params: &params,
        };
        // shelter_secured is unset (null): `null == true` is false, so the guard fails.
        assert_eq!(guard.holds(&input, &declared), Ok(false));
        facts.insert("shelter_secured".into(), Json::Bool(true));
        let input = GuardInput {
            facts: &facts,
            tracks: &tracks,
            timers: &timers,
            params: &params,
        };
        assert_eq!(guard.holds(&input, &declared), Ok(true));
        Ok(())
    }
}
