//! Reading workflow files and checking them (architecture invariant 4): a definition with an
//! unknown state, an unreachable state, a non-terminal dead end, a guard over an unknown fact
//! or an unknown role is refused, naming the file, the line and the problem.
//!
//! Longer than most modules because every rule a definition must obey is checked here, in one
//! pass that can name the file and line of each problem; the raw format is in `raw.rs`, and the
//! declarations that would load but that nothing carries out are found in `decorative.rs`.

use super::definition::*;
use super::guard::{Guard, GuardScope};
use super::raw::*;
use crate::vocabulary::{AgencyKind, Role, Stage};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use toml::Spanned;

/// Why a workflow file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct LoadError {
    pub file: String,
    /// 1-based line of the offending item, when known.
    pub line: Option<usize>,
    pub message: String,
}

/// Languages every label must have.
pub const REQUIRED_LANGUAGES: &[&str] = &["en", "fr"];

/// Longest timer length or warning, in days (a century): anything longer is a typo, and due
/// dates computed from it would overflow the date range (a panic when the timer starts).
pub const MAX_TIMER_DAYS: u32 = 36_525;
/// The longest timer in calendar months (a century, as [`MAX_TIMER_DAYS`]).
pub const MAX_TIMER_MONTHS: u32 = 1_200;

/// The checked workflows of a directory, and the warnings about them.
#[derive(Debug)]
pub struct Loaded {
    pub workflows: Vec<Workflow>,
    /// Declarations nothing executes in the versions shipped before that check (`decorative.rs`):
    /// kept, since cases pinned to those versions need them and their text may never change.
    pub warnings: Vec<LoadError>,
}

/// Loads every `*.toml` file in `dir` (sorted by name). All files are checked; the first error
/// of each file is reported, and every declaration that nothing executes (only warned about in
/// the versions shipped before that check, `decorative::SHIPPED_BEFORE_THE_CHECK`).
pub fn load_dir(dir: &Path) -> Result<Loaded, Vec<LoadError>> {
    let dir_error = |message: String| {
        vec![LoadError {
            file: dir.display().to_string(),
            line: None,
            message,
        }]
    };
    let entries =
        std::fs::read_dir(dir).map_err(|e| dir_error(format!("cannot read directory: {e}")))?;
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(dir_error("no workflow files (*.toml) found".into()));
    }
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        match std::fs::read_to_string(&path) {
            Ok(source) => match parse_file(&file, &source) {
                Ok(p) => parsed.push(p),
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(LoadError {
                file,
                line: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    let mut seen = BTreeMap::new();
    for Parsed { workflow: w, .. } in &parsed {
        if let Some(other) = seen.insert((w.id.clone(), w.version), w.source_path.clone()) {
            errors.push(LoadError {
                file: w.source_path.clone(),
                line: None,
                message: format!(
                    "workflow {} version {} is also defined in {other}",
                    w.id, w.version
                ),
            });
        }
    }
    let mut warnings = Vec::new();
    let mut workflows = Vec::new();
    for p in parsed {
        if super::decorative::only_warned(&p.workflow.id, p.workflow.version) {
            warnings.extend(p.decorative);
        } else {
            errors.extend(p.decorative);
        }
        workflows.push(p.workflow);
    }
    // Across files, once each file loads: a broken file is reported once, as itself.
    if errors.is_empty() {
        errors.extend(check_switches(&workflows));
    }
    if errors.is_empty() {
        Ok(Loaded {
            workflows,
            warnings,
        })
    } else {
        Err(errors)
    }
}

/// Checks each `continues_under` against the workflows loaded beside it: the workflow exists,
/// and every state it maps to is a state of its latest version (the one a case continues under).
fn check_switches(workflows: &[Workflow]) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for w in workflows {
        for t in &w.transitions {
            let Some(sw) = &t.continues_under else {
                continue;
            };
            let fail = |message: String| LoadError {
                file: w.source_path.clone(),
                line: None,
                message: format!("transition `{}`: {message}", t.id),
            };
            let latest = workflows
                .iter()
                .filter(|o| o.id == sw.workflow)
                .max_by_key(|o| o.version);
            let Some(target) = latest else {
                errors.push(fail(format!(
                    "continues under workflow `{}`, which is not loaded",
                    sw.workflow
                )));
                continue;
            };
            // The mapping is checked against the target's file as loaded: a fault may lie in
            // either file, so the message names both.
            let target_file = std::path::Path::new(&target.source_path)
                .file_name()
                .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
            for (from, to) in &sw.states {
                let mut tracks = BTreeSet::new();
                for state in to {
                    match target.state(state) {
                        None => errors.push(fail(format!(
                            "continues_under.states maps `{from}` to `{state}`, which is not a \
                             state of {} v{} ({target_file})",
                            target.id, target.version
                        ))),
                        Some(s) if !tracks.insert(s.track.clone()) => errors.push(fail(format!(
                            "continues_under.states maps `{from}` to two states of track `{}` of \
                             {} v{} ({target_file})",
                            s.track, target.id, target.version
                        ))),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    errors
}

/// A checked file, and its declarations that nothing executes (`decorative.rs`).
#[derive(Debug)]
pub struct Parsed {
    pub workflow: Workflow,
    pub decorative: Vec<LoadError>,
}

/// Parses and checks one workflow file's text, finding its declarations that nothing executes.
pub fn parse_file(file: &str, source: &str) -> Result<Parsed, LoadError> {
    let err = |span: Option<std::ops::Range<usize>>, message: String| LoadError {
        file: file.to_string(),
        line: span.map(|s| line_of(source, s.start)),
        message,
    };
    let raw: RawWorkflow =
        toml::from_str(source).map_err(|e| err(e.span(), e.message().to_string()))?;
    let source_hash = hex::encode(Sha256::digest(source.as_bytes()));
    let workflow = Builder {
        raw: &raw,
        err: &err,
    }
    .build(file, source_hash)?;
    let decorative = super::decorative::findings(&raw, &workflow, &err);
    Ok(Parsed {
        workflow,
        decorative,
    })
}

/// Parses and checks one workflow file's text. Declarations that nothing executes are not
/// judged here ([`parse_file`] finds them, [`load_dir`] refuses them).
pub fn parse(file: &str, source: &str) -> Result<Workflow, LoadError> {
    parse_file(file, source).map(|p| p.workflow)
}

fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// Turns a span of the file and a message into a [`LoadError`] naming the file and line.
pub(super) type ErrFn<'a> = dyn Fn(Option<std::ops::Range<usize>>, String) -> LoadError + 'a;

struct Builder<'a> {
    raw: &'a RawWorkflow,
    err: &'a ErrFn<'a>,
}

fn in_file_order<T>(map: &BTreeMap<String, Spanned<T>>) -> Vec<(&String, &Spanned<T>)> {
    let mut items: Vec<_> = map.iter().collect();
    items.sort_by_key(|(_, v)| v.span().start);
    items
}

impl Builder<'_> {
    fn fail<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, LoadError> {
        Err((self.err)(Some(span), message))
    }

    fn labels(
        &self,
        span: std::ops::Range<usize>,
        what: &str,
        labels: &Labels,
    ) -> Result<(), LoadError> {
        for lang in REQUIRED_LANGUAGES {
            if labels.0.get(*lang).is_none_or(|l| l.trim().is_empty()) {
                return self.fail(span, format!("{what} has no `{lang}` label"));
            }
        }
        Ok(())
    }

    fn build(&self, file: &str, source_hash: String) -> Result<Workflow, LoadError> {
        let raw = self.raw;
        let whole = 0..0;
        if raw.id.is_empty()
            || !raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return self.fail(
                whole,
                format!(
                    "workflow id `{}` must be lowercase letters, digits and `-`",
                    raw.id
                ),
            );
        }
        if raw.version == 0 {
            return self.fail(whole, "version must be 1 or more".into());
        }
        self.labels(whole.clone(), "the workflow", &raw.label)?;

        let facts = self.facts()?;
        let parameters = self.parameters()?;
        let (tracks, states) = self.tracks_and_states()?;
        let timers = self.timers(&facts)?;
        let jurisdictions = self.jurisdictions(&parameters, &timers)?;
        let track_ids: BTreeSet<String> = tracks.iter().map(|t| t.id.clone()).collect();
        let timer_ids: BTreeSet<String> = timers.keys().cloned().collect();
        let param_facts: BTreeMap<String, Fact> = parameters
            .iter()
            .map(|(k, p)| (k.clone(), p.fact.clone()))
            .collect();
        let scope = GuardScope {
            facts: &facts,
            params: &param_facts,
            tracks: &track_ids,
            timers: &timer_ids,
        };
        let transitions = self.transitions(&facts, &states, &scope)?;
        for timer in timers.values() {
            if let Some(unknown) = timer
                .blocks
                .iter()
                .find(|b| !transitions.iter().any(|t| &t.id == *b))
            {
                let span = self
                    .raw
                    .timers
                    .get(&timer.id)
                    .map(|t| t.span())
                    .unwrap_or(0..0);
                return self.fail(
                    span,
                    format!("timer `{}` blocks unknown transition `{unknown}`", timer.id),
                );
            }
        }

        let protections = self.protections(raw, &scope)?;
        let workflow = Workflow {
            protections,
            id: raw.id.clone(),
            version: raw.version,
            label: raw.label.clone(),
            description: raw.description.clone(),
            source_hash,
            source_path: file.to_string(),
            facts,
            tracks,
            states,
            transitions,
            timers,
            parameters,
            jurisdictions,
        };
        self.check_graph(&workflow)?;
        Ok(workflow)
    }

    /// `[protections]` (or, in files written before it, a top-level `asylum_seeker`).
    fn protections(
        &self,
        raw: &RawWorkflow,
        scope: &GuardScope<'_>,
    ) -> Result<Protections, LoadError> {
        let compile = |name: &str, expr: &Option<String>, span: std::ops::Range<usize>| {
            expr.as_ref()
                .map(|e| {
                    Guard::compile(name, e, Labels::default(), scope).map_err(|err| {
                        (self.err)(Some(span.clone()), format!("protections.{name} {err}"))
                    })
                })
                .transpose()
        };
        match (&raw.asylum_seeker, &raw.protections) {
            (Some(legacy), Some(table)) => self.fail(
                legacy.span().start..table.span().end,
                "give `asylum_seeker` inside `[protections]` only".into(),
            ),
            (Some(legacy), None) => Ok(Protections {
                asylum_seeker: Some(
                    Guard::compile("asylum_seeker", legacy.get_ref(), Labels::default(), scope)
                        .map_err(|e| {
                            (self.err)(Some(legacy.span()), format!("asylum_seeker {e}"))
                        })?,
                ),
                predates_table: true,
                ..Protections::default()
            }),
            (None, None) => Ok(Protections {
                predates_table: true,
                ..Protections::default()
            }),
            (None, Some(table)) => {
                let span = table.span();
                let t = table.get_ref();
                if t.guardian.is_some() && t.child.is_none() {
                    return self.fail(
                        span,
                        "protections.guardian is read only for a child: declare `child` too".into(),
                    );
                }
                Ok(Protections {
                    asylum_seeker: compile("asylum_seeker", &t.asylum_seeker, span.clone())?,
                    consent_withdrawn: compile(
                        "consent_withdrawn",
                        &t.consent_withdrawn,
                        span.clone(),
                    )?,
                    deceased: compile("deceased", &t.deceased, span.clone())?,
                    child: compile("child", &t.child, span.clone())?,
                    guardian: compile("guardian", &t.guardian, span)?,
                    predates_table: false,
                })
            }
        }
    }

    fn facts(&self) -> Result<BTreeMap<String, Fact>, LoadError> {
        let mut facts = BTreeMap::new();
        for (name, spanned) in &self.raw.facts {
            let raw = spanned.get_ref();
            let span = spanned.span();
            if matches!(name.as_str(), "tracks" | "timers" | "params") {
                return self.fail(span, format!("fact name `{name}` is reserved"));
            }
            match (raw.kind, raw.values.is_empty()) {
                (FactType::Enum, true) => {
                    return self.fail(span, format!("enum fact `{name}` lists no values"));
                }
                (FactType::Enum, false) | (_, true) => {}
                (_, false) => {
                    return self.fail(span, format!("fact `{name}` has values but is not an enum"));
                }
            }
            self.labels(span.clone(), &format!("fact `{name}`"), &raw.label)?;
            for (value, labels) in &raw.values_label {
                if !raw.values.contains(value) {
                    return self.fail(
                        span,
                        format!("fact `{name}` labels `{value}`, which is not one of its values"),
                    );
                }
                self.labels(
                    span.clone(),
                    &format!("value `{value}` of fact `{name}`"),
                    labels,
                )?;
            }
            facts.insert(
                name.clone(),
                Fact {
                    name: name.clone(),
                    kind: raw.kind,
                    values: raw.values.clone(),
                    label: raw.label.clone(),
                    value_labels: raw.values_label.clone(),
                },
            );
        }
        Ok(facts)
    }

    fn parameters(&self) -> Result<BTreeMap<String, Parameter>, LoadError> {
        let mut parameters = BTreeMap::new();
        for (name, spanned) in &self.raw.parameters {
            let raw = spanned.get_ref();
            let span = spanned.span();
            if raw.kind == FactType::Enum && raw.values.is_empty() {
                return self.fail(span, format!("enum parameter `{name}` lists no values"));
            }
            self.labels(span.clone(), &format!("parameter `{name}`"), &raw.label)?;
            let fact = Fact {
                name: name.clone(),
                kind: raw.kind,
                values: raw.values.clone(),
                label: raw.label.clone(),
                value_labels: BTreeMap::new(),
            };
            let default = serde_json::to_value(&raw.default).unwrap_or(Json::Null);
            if !fact.accepts(&default) {
                return self.fail(
                    span,
                    format!(
                        "parameter `{name}` defaults to {default}, but it takes {}",
                        fact.expected()
                    ),
                );
            }
            parameters.insert(name.clone(), Parameter { fact, default });
        }
        Ok(parameters)
    }

    fn jurisdictions(
        &self,
        parameters: &BTreeMap<String, Parameter>,
        timers: &BTreeMap<String, Timer>,
    ) -> Result<BTreeMap<String, Jurisdiction>, LoadError> {
        let mut jurisdictions = BTreeMap::new();
        for (country, spanned) in &self.raw.jurisdictions {
            let raw = spanned.get_ref();
            let span = spanned.span();
            let fail = |m: String| {
                self.fail::<BTreeMap<String, Jurisdiction>>(
                    span.clone(),
                    format!("jurisdiction `{country}`: {m}"),
                )
            };
            if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
                return fail("is not an ISO 3166-1 alpha-2 code".into());
            }
            self.labels(
                span.clone(),
                &format!("jurisdiction `{country}`"),
                &raw.label,
            )?;
            let mut values = BTreeMap::new();
            for (name, value) in &raw.parameters {
                let Some(p) = parameters.get(name) else {
                    return fail(format!("sets unknown parameter `{name}`"));
                };
                let json = serde_json::to_value(value).unwrap_or(Json::Null);
                if !p.fact.accepts(&json) {
                    return fail(format!(
                        "sets `{name}` to {json}, but it takes {}",
                        p.fact.expected()
                    ));
                }
                values.insert(name.clone(), json);
            }
            let mut lengths = BTreeMap::new();
            for (id, length) in &raw.timers {
                let Some(timer) = timers.get(id) else {
                    return fail(format!("sets the length of unknown timer `{id}`"));
                };
                if matches!(timer.duration, TimerDuration::UntilFact(_)) {
                    return fail(format!(
                        "timer `{id}` runs until a date fact; its length cannot be overridden"
                    ));
                }
                let duration = match (length.days, length.working_days, length.months) {
                    (Some(d), None, None) if (1..=MAX_TIMER_DAYS).contains(&d) => {
                        TimerDuration::Days(d)
                    }
                    (None, Some(d), None) if (1..=MAX_TIMER_DAYS).contains(&d) => {
                        TimerDuration::WorkingDays(d)
                    }
                    (None, None, Some(m)) if (1..=MAX_TIMER_MONTHS).contains(&m) => {
                        TimerDuration::Months(m)
                    }
                    _ => {
                        return fail(format!(
                            "timer `{id}` needs exactly one of `days` or `working_days` (1 to \
                             {MAX_TIMER_DAYS}) or `months` (1 to {MAX_TIMER_MONTHS})"
                        ));
                    }
                };
                lengths.insert(id.clone(), duration);
            }
            jurisdictions.insert(
                country.clone(),
                Jurisdiction {
                    label: raw.label.clone(),
                    parameters: values,
                    timers: lengths,
                },
            );
        }
        Ok(jurisdictions)
    }

    fn tracks_and_states(&self) -> Result<(Vec<Track>, BTreeMap<String, State>), LoadError> {
        let mut states = BTreeMap::new();
        for (id, spanned) in &self.raw.states {
            let raw = spanned.get_ref();
            let span = spanned.span();
            if !self.raw.tracks.contains_key(&raw.track) {
                return self.fail(
                    span,
                    format!("state `{id}` is in unknown track `{}`", raw.track),
                );
            }
            let stage: Stage = raw
                .stage
                .parse()
                .map_err(|e| (self.err)(Some(span.clone()), format!("state `{id}`: {e}")))?;
            self.labels(span, &format!("state `{id}`"), &raw.label)?;
            states.insert(
                id.clone(),
                State {
                    id: id.clone(),
                    track: raw.track.clone(),
                    stage,
                    label: raw.label.clone(),
                    terminal: raw.terminal,
                    suspends_case: raw.suspends_case,
                },
            );
        }
        let mut tracks = Vec::new();
        for (id, spanned) in in_file_order(&self.raw.tracks) {
            let raw = spanned.get_ref();
            let span = spanned.span();
            match states.get(&raw.initial) {
                Some(s) if &s.track == id => {}
                Some(_) => {
                    return self.fail(
                        span,
                        format!(
                            "track `{id}` starts in `{}`, a state of another track",
                            raw.initial
                        ),
                    );
                }
                None => {
                    return self.fail(
                        span,
                        format!("track `{id}` starts in unknown state `{}`", raw.initial),
                    );
                }
            }
            self.labels(span, &format!("track `{id}`"), &raw.label)?;
            tracks.push(Track {
                id: id.clone(),
                label: raw.label.clone(),
                initial: raw.initial.clone(),
                start_on_open: raw.start_on_open,
            });
        }
        if !tracks.iter().any(|t| t.start_on_open) {
            return self.fail(
                0..0,
                "no track has `start_on_open = true`: a new case would have no state".into(),
            );
        }
        Ok((tracks, states))
    }

    fn timers(&self, facts: &BTreeMap<String, Fact>) -> Result<BTreeMap<String, Timer>, LoadError> {
        let mut timers = BTreeMap::new();
        for (id, spanned) in &self.raw.timers {
            let raw = spanned.get_ref();
            let span = spanned.span();
            let length = 1..=MAX_TIMER_DAYS;
            let duration = match (raw.days, raw.working_days, raw.months, &raw.until_fact) {
                (Some(d), None, None, None) if length.contains(&d) => TimerDuration::Days(d),
                (None, Some(d), None, None) if length.contains(&d) => TimerDuration::WorkingDays(d),
                (None, None, Some(m), None) if (1..=MAX_TIMER_MONTHS).contains(&m) => {
                    TimerDuration::Months(m)
                }
                (None, None, None, Some(fact)) => match facts.get(fact) {
                    Some(f) if f.kind == FactType::Date => TimerDuration::UntilFact(fact.clone()),
                    _ => return self.fail(
                        span,
                        format!(
                            "timer `{id}` runs until `{fact}`, which is not a declared date fact"
                        ),
                    ),
                },
                _ => {
                    return self.fail(
                        span,
                        format!("timer `{id}` needs exactly one of `days`, `working_days` (1 to {MAX_TIMER_DAYS}), `months` (1 to {MAX_TIMER_MONTHS}) or `until_fact`"),
                    );
                }
            };
            let warn_days = raw.warn_days.as_ref().map_or(0, |w| *w.get_ref());
            if warn_days > MAX_TIMER_DAYS {
                return self.fail(
                    span,
                    format!("timer `{id}` warns more than {MAX_TIMER_DAYS} days ahead"),
                );
            }
            if raw.citation.trim().is_empty() {
                return self.fail(span, format!("timer `{id}` has no legal citation"));
            }
            if raw.kind == TimerKind::Deadline && !raw.blocks.is_empty() {
                return self.fail(
                    span,
                    format!("timer `{id}` is a deadline; only a floor blocks transitions"),
                );
            }
            let escalate_to = raw
                .escalate_to
                .iter()
                .flat_map(|roles| roles.get_ref())
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| (self.err)(Some(span.clone()), format!("timer `{id}`: {e}")))?;
            let from_fact = match &raw.from_fact {
                None => None,
                Some(_) if matches!(duration, TimerDuration::UntilFact(_)) => {
                    return self.fail(
                        span,
                        format!("timer `{id}` runs until a date: it cannot also count from one"),
                    );
                }
                Some(fact) if facts.get(fact).is_some_and(|f| f.kind == FactType::Date) => {
                    Some(fact.clone())
                }
                Some(fact) => {
                    return self.fail(
                        span,
                        format!(
                            "timer `{id}` counts from `{fact}`, which is not a declared date fact"
                        ),
                    );
                }
            };
            self.labels(span, &format!("timer `{id}`"), &raw.label)?;
            timers.insert(
                id.clone(),
                Timer {
                    id: id.clone(),
                    kind: raw.kind,
                    duration,
                    from_fact,
                    label: raw.label.clone(),
                    citation: raw.citation.clone(),
                    blocks: raw.blocks.clone(),
                    warn_days,
                    escalate_to,
                },
            );
        }
        Ok(timers)
    }

    fn transitions(
        &self,
        facts: &BTreeMap<String, Fact>,
        states: &BTreeMap<String, State>,
        scope: &GuardScope<'_>,
    ) -> Result<Vec<Transition>, LoadError> {
        let mut transitions = Vec::new();
        for (id, spanned) in in_file_order(&self.raw.transitions) {
            let raw = spanned.get_ref();
            let span = spanned.span();
            let fail = |message: String| {
                (self.err)(Some(span.clone()), format!("transition `{id}`: {message}"))
            };
            let Some(to) = states.get(&raw.to) else {
                return Err(fail(format!("goes to unknown state `{}`", raw.to)));
            };
            let track = raw.track.clone().unwrap_or_else(|| to.track.clone());
            if to.track != track {
                return Err(fail(format!(
                    "goes to `{}` in track `{}`, not its track `{track}`",
                    to.id, to.track
                )));
            }
            let from: Vec<String> = match &raw.from {
                RawFrom::One(star) if star == "*" => {
                    if raw.track.is_none() {
                        return Err(fail("`from = \"*\"` needs `track`".into()));
                    }
                    states
                        .values()
                        .filter(|s| s.track == track && !s.terminal)
                        .map(|s| s.id.clone())
                        .collect()
                }
                RawFrom::One(one) => vec![one.clone()],
                RawFrom::Many(many) => many.clone(),
            };
            if from.is_empty() {
                return Err(fail("has no `from` state".into()));
            }
            for f in &from {
                match states.get(f) {
                    None => return Err(fail(format!("comes from unknown state `{f}`"))),
                    Some(s) if s.track != track => {
                        return Err(fail(format!(
                            "comes from `{f}` in track `{}`, not `{track}`",
                            s.track
                        )));
                    }
                    Some(s) if s.terminal => {
                        return Err(fail(format!("leaves terminal state `{f}`")));
                    }
                    Some(_) => {}
                }
            }
            if raw.roles.is_empty() {
                return Err(fail("lists no roles that may fire it".into()));
            }
            let roles = raw
                .roles
                .iter()
                .map(|r| r.parse::<Role>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail(e.to_string()))?;
            let agency_kinds = raw
                .agency_kinds
                .iter()
                .map(|r| r.parse::<AgencyKind>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail(e.to_string()))?;
            let involved_agency_kinds = raw
                .involved_agency_kinds
                .iter()
                .map(|r| r.parse::<AgencyKind>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| fail(e.to_string()))?;
            if raw.transfer_of_lead && !involved_agency_kinds.is_empty() {
                return Err(fail(
                    "is the transfer step, fired by the receiver's acceptance: it takes no \
                     involved_agency_kinds"
                        .into(),
                ));
            }
            if let Some(kind) = involved_agency_kinds
                .iter()
                .find(|k| !agency_kinds.is_empty() && !agency_kinds.contains(k))
            {
                return Err(fail(format!(
                    "lets involved agencies of kind {kind} fire it, but its agency_kinds exclude \
                     that kind"
                )));
            }
            self.labels(span.clone(), &format!("transition `{id}`"), &raw.label)?;
            let mut inputs = Vec::new();
            for input in &raw.inputs {
                if !facts.contains_key(&input.fact) {
                    return Err(fail(format!(
                        "input `{}` is not a declared fact",
                        input.fact
                    )));
                }
                if inputs.iter().any(|i: &Input| i.fact == input.fact) {
                    return Err(fail(format!("input `{}` is listed twice", input.fact)));
                }
                inputs.push(Input {
                    fact: input.fact.clone(),
                    required: input.required,
                });
            }
            let mut guards = Vec::new();
            for g in &raw.guards {
                self.labels(
                    span.clone(),
                    &format!("transition `{id}` guard `{}` reason", g.name),
                    &g.reason,
                )?;
                let guard =
                    Guard::compile(&g.name, &g.expr, g.reason.clone(), scope).map_err(|e| {
                        (self.err)(
                            Some(span.clone()),
                            format!("transition `{id}` guard `{}` {e}", g.name),
                        )
                    })?;
                guards.push(guard);
            }
            let effects = self.effects(id, span.clone(), &raw.effects, facts, states, scope)?;
            let continues_under = match &raw.continues_under {
                Some(_) if raw.transfer_of_lead => {
                    return Err(fail(
                        "a transfer of lead cannot also continue under another workflow".into(),
                    ));
                }
                Some(sw) if sw.workflow == self.raw.id => {
                    return Err(fail(format!(
                        "continues under its own workflow `{}`: migrate the case to a new \
                         version instead",
                        sw.workflow
                    )));
                }
                Some(sw) => {
                    if let Some(unknown) = sw.states.keys().find(|k| !states.contains_key(*k)) {
                        return Err(fail(format!(
                            "continues_under.states maps unknown state `{unknown}`"
                        )));
                    }
                    let states = sw
                        .states
                        .iter()
                        .map(|(from, to)| {
                            let to = match to {
                                RawFrom::One(one) => vec![one.clone()],
                                RawFrom::Many(many) => many.clone(),
                            };
                            (from.clone(), to)
                        })
                        .collect();
                    Some(ProcedureSwitch {
                        workflow: sw.workflow.clone(),
                        states,
                    })
                }
                None => None,
            };
            transitions.push(Transition {
                id: id.clone(),
                track,
                from,
                to: raw.to.clone(),
                label: raw.label.clone(),
                roles,
                agency_kinds,
                involved_agency_kinds,
                inputs,
                guards,
                effects,
                transfer_of_lead: raw.transfer_of_lead,
                alert: raw.alert.as_ref().map(|a| *a.get_ref()),
                continues_under,
            });
        }
        Ok(transitions)
    }

    fn effects(
        &self,
        id: &str,
        span: std::ops::Range<usize>,
        raw: &RawEffects,
        facts: &BTreeMap<String, Fact>,
        states: &BTreeMap<String, State>,
        scope: &GuardScope<'_>,
    ) -> Result<Effects, LoadError> {
        let fail = |message: String| {
            Err((self.err)(
                Some(span.clone()),
                format!("transition `{id}` effects: {message}"),
            ))
        };
        let mut set = BTreeMap::new();
        for (name, value) in &raw.set {
            let Some(fact) = facts.get(name) else {
                return fail(format!("sets unknown fact `{name}`"));
            };
            let json: Json = serde_json::to_value(value).unwrap_or(Json::Null);
            if !fact.accepts(&json) {
                return fail(format!(
                    "sets `{name}` to {json}, but it takes {}",
                    fact.expected()
                ));
            }
            set.insert(name.clone(), json);
        }
        for track in &raw.start_tracks {
            if !scope.tracks.contains(track) {
                return fail(format!("starts unknown track `{track}`"));
            }
        }
        for (track, state) in &raw.end_tracks {
            match states.get(state) {
                Some(s) if &s.track == track && s.terminal => {}
                _ => {
                    return fail(format!(
                        "ends track `{track}` in `{state}`, which is not a terminal state of it"
                    ));
                }
            }
        }
        let mut start_timers = Vec::new();
        for start in &raw.start_timers {
            let (timer, when) = match start {
                RawTimerStart::Always(timer) => (timer, None),
                RawTimerStart::When { timer, when } => {
                    let guard =
                        Guard::compile(&format!("start_{timer}"), when, Labels::default(), scope)
                            .map_err(|e| {
                            (self.err)(
                                Some(span.clone()),
                                format!("transition `{id}` effects: `when` of timer `{timer}` {e}"),
                            )
                        })?;
                    (timer, Some(std::sync::Arc::new(guard)))
                }
            };
            start_timers.push(TimerStart {
                timer: timer.clone(),
                when,
            });
        }
        let named = start_timers
            .iter()
            .map(|t| &t.timer)
            .chain(&raw.stop_timers)
            .chain(&raw.pause_timers)
            .chain(&raw.resume_timers);
        for timer in named {
            if !scope.timers.contains(timer) {
                return fail(format!("uses unknown timer `{timer}`"));
            }
        }
        Ok(Effects {
            set,
            start_tracks: raw.start_tracks.clone(),
            end_tracks: raw.end_tracks.clone(),
            start_timers,
            stop_timers: raw.stop_timers.clone(),
            pause_timers: raw.pause_timers.clone(),
            resume_timers: raw.resume_timers.clone(),
        })
    }

    /// Every track can be started, every state is reachable, and every non-terminal state has a way out.
    fn check_graph(&self, w: &Workflow) -> Result<(), LoadError> {
        let started: BTreeSet<&str> = w
            .transitions
            .iter()
            .flat_map(|t| t.effects.start_tracks.iter().map(String::as_str))
            .chain(
                w.tracks
                    .iter()
                    .filter(|t| t.start_on_open)
                    .map(|t| t.id.as_str()),
            )
            .collect();
        for track in &w.tracks {
            if !started.contains(track.id.as_str()) {
                let span = self
                    .raw
                    .tracks
                    .get(&track.id)
                    .map(|s| s.span())
                    .unwrap_or(0..0);
                return self.fail(span, format!("track `{}` is never started (not `start_on_open` and no transition starts it)", track.id));
            }
        }
        let mut reachable: BTreeSet<&str> = w.tracks.iter().map(|t| t.initial.as_str()).collect();
        reachable.extend(
            w.transitions
                .iter()
                .flat_map(|t| t.effects.end_tracks.values().map(String::as_str)),
        );
        let mut queue: VecDeque<&str> = reachable.iter().copied().collect();
        while let Some(state) = queue.pop_front() {
            for t in w
                .transitions
                .iter()
                .filter(|t| t.from.iter().any(|f| f == state))
            {
                if reachable.insert(t.to.as_str()) {
                    queue.push_back(t.to.as_str());
                }
            }
        }
        for (id, state) in &w.states {
            let span = self.raw.states.get(id).map(|s| s.span()).unwrap_or(0..0);
            if !reachable.contains(id.as_str()) {
                return self.fail(span, format!("state `{id}` is unreachable"));
            }
            if !state.terminal && !w.transitions.iter().any(|t| t.from.contains(id)) {
                return self.fail(
                    span,
                    format!(
                        "state `{id}` is a dead end: no transition leaves it and it is not terminal"
                    ),
                );
            }
        }
        Ok(())
    }
}
