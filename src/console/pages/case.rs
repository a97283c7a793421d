//! The case page: where the case stands on each track (a picture of the workflow with the
//! current state marked), its deadlines with their legal citation, the steps that can be taken
//! as forms generated from the workflow's typed inputs, the personal data by group (shown on
//! request, a purpose asked before sensitive groups), referrals and transfers, and the history
//! as a timeline.
//!
//! Longer than most modules: one page whose view reads many parts of a case (most of the
//! file is the typed shape of its one query and the rows the template shows), and the two
//! forms posted from it (a step, a reading of personal data), which re-render it.

use super::{Fields, GROUPS, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::diagram::{self, Node};
use crate::console::graphql::ApiError;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const CASE: &str = "query($id: ID!, $lang: String!) { case(id: $id) {
  id reference version status country originCountry access openedAt
  leadAgency { name country }
  workflow { key version label(language: $lang)
    tracks(language: $lang) { key label initialState }
    states(language: $lang) { key label track terminal }
    transitions(language: $lang) { key track from to label }
    facts(language: $lang) { key label } }
  states(language: $lang) { track state label terminal enteredAt }
  deadlines(language: $lang) { timer label citation dueAt status }
  timers(language: $lang) { timer label citation kind dueAt status }
  availableTransitions(language: $lang) { key label track allowed
    unmetGuards { name reason } inputs { fact label type required values valueLabels { value label } } }
  referrals { id service status createdAt toAgency { name country } fromAgency { name country } sharedGroups }
  transfers { id status createdAt toAgency { name country } fromAgency { name country } sharedGroups }
  history(first: 100) { nodes { sequence kind occurredAt transition fromState toState reason
    bySystem timer data actor { displayName } agency { name country } } }
} }";

const PERSONAL: &str = "query($id: ID!, $purpose: String) { case(id: $id) {
  personalData(purpose: $purpose) { group redacted purposeRequired recordedAt value }
  route { movedOn country place source }
} }";

const FIRE: &str = "mutation($input: FireTransitionInput!) { fireTransition(input: $input) { case { id version } } }";

#[derive(Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Deserialize)]
struct CaseData {
    case: Option<CaseView>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CaseView {
    id: String,
    reference: String,
    version: i64,
    status: String,
    country: String,
    origin_country: Option<String>,
    access: String,
    opened_at: DateTime<Utc>,
    lead_agency: super::home::AgencyName,
    workflow: WorkflowView,
    states: Vec<TrackState>,
    deadlines: Vec<Deadline>,
    timers: Vec<Timer>,
    available_transitions: Vec<Available>,
    referrals: Vec<Handover>,
    transfers: Vec<Handover>,
    history: Nodes<Event>,
}

#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WorkflowView {
    key: String,
    version: i64,
    label: String,
    tracks: Vec<TrackDef>,
    states: Vec<StateDef>,
    transitions: Vec<TransitionDef>,
    facts: Vec<FactDef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackDef {
    key: String,
    label: String,
    initial_state: String,
}

#[derive(Deserialize)]
struct StateDef {
    key: String,
    label: String,
    track: String,
    terminal: bool,
}

#[derive(Deserialize)]
struct TransitionDef {
    key: String,
    track: String,
    from: Vec<String>,
    to: String,
    label: String,
}

#[derive(Deserialize)]
struct FactDef {
    key: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrackState {
    track: String,
    state: String,
    label: String,
    terminal: bool,
    entered_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Deadline {
    label: String,
    citation: String,
    due_at: DateTime<Utc>,
    status: String,
}

/// A timer of the case: the floors among them (periods before which a step may not be
/// taken, such as the reflection period) are shown beside the deadlines.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Timer {
    label: String,
    citation: String,
    kind: String,
    due_at: DateTime<Utc>,
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Available {
    key: String,
    label: String,
    track: String,
    allowed: bool,
    unmet_guards: Vec<Reason>,
    inputs: Vec<Input>,
}

#[derive(Deserialize)]
struct Reason {
    #[serde(default)]
    name: String,
    reason: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub(super) struct Input {
    pub(super) fact: String,
    pub(super) label: String,
    #[serde(rename = "type")]
    kind: String,
    required: bool,
    values: Vec<String>,
    /// Each value with its label in the reader's language (the workflow's, else readable).
    #[serde(rename = "valueLabels", default)]
    value_labels: Vec<ValueLabel>,
}

#[derive(Deserialize, Clone)]
struct ValueLabel {
    value: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Handover {
    id: String,
    #[serde(default)]
    service: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    to_agency: super::home::AgencyName,
    from_agency: super::home::AgencyName,
    shared_groups: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    sequence: i64,
    kind: String,
    occurred_at: DateTime<Utc>,
    transition: Option<String>,
    from_state: Option<String>,
    to_state: Option<String>,
    reason: Option<String>,
    by_system: bool,
    timer: Option<String>,
    data: Value,
    actor: Option<Actor>,
    agency: super::home::AgencyName,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Actor {
    display_name: String,
}

/// A track as the page shows it.
pub struct TrackRow {
    pub label: String,
    pub state: String,
    pub terminal: bool,
    pub since: Option<String>,
    pub svg: String,
}

pub struct DeadlineRow {
    pub label: String,
    pub citation: String,
    pub due: String,
    pub due_iso: String,
    pub countdown: String,
    pub status: String,
    pub class: &'static str,
}

/// A field of a transition's form.
pub struct FieldRow {
    pub name: String,
    pub id: String,
    pub label: String,
    pub kind: &'static str,
    pub required: bool,
    pub options: Vec<(String, String, bool)>,
    pub value: String,
}

pub struct StepRow {
    pub key: String,
    pub label: String,
    pub track: String,
    pub allowed: bool,
    /// Reasons that stop it now (guards not met), shown before submitting.
    pub unmet: Vec<String>,
    /// Not allowed and no guard to meet: the user's role or agency may not take it.
    pub forbidden: bool,
    /// The workflow's transfer step: taken by offering a transfer of lead, which the receiver
    /// accepts.
    pub transfer: bool,
    pub fields: Vec<FieldRow>,
    pub open: bool,
}

pub struct HandoverRow {
    pub href: String,
    pub what: String,
    pub status: String,
    pub from: String,
    pub to: String,
    pub groups: String,
    pub when: String,
}

pub struct EventRow {
    pub sequence: i64,
    pub when: String,
    pub when_iso: String,
    pub what: String,
    pub who: String,
    pub reason: Option<String>,
    pub facts: Vec<(String, String)>,
}

pub struct GroupRow {
    pub label: String,
    pub state: &'static str,
    pub value: Vec<(String, String)>,
}

pub struct MovementRow {
    pub date: String,
    pub country: String,
    pub place: String,
}

/// A message at the top of the page: what just happened, or why a step was refused.
pub struct Flash {
    pub class: &'static str,
    pub message: String,
    pub reasons: Vec<String>,
    pub detail: Option<String>,
    pub reload: bool,
}

#[derive(Template)]
#[template(path = "console/case.html")]
pub struct CasePage {
    pub chrome: Chrome,
    pub id: String,
    pub reference: String,
    pub version: i64,
    pub status: String,
    pub active: bool,
    pub access: String,
    pub lead: bool,
    pub lead_agency: String,
    pub country: String,
    pub origin: Option<String>,
    pub opened: String,
    pub workflow: String,
    pub tracks: Vec<TrackRow>,
    pub deadlines: Vec<DeadlineRow>,
    pub steps: Vec<StepRow>,
    pub referrals: Vec<HandoverRow>,
    pub transfers: Vec<HandoverRow>,
    pub history: Vec<EventRow>,
    pub flash: Option<Flash>,
    pub personal: Option<Vec<GroupRow>>,
    pub route: Vec<MovementRow>,
    pub groups: Vec<(&'static str, String)>,
    pub idempotency: String,
}

/// The page's state besides the case: a message, the form to keep open with its values, the
/// personal data shown on request.
#[derive(Default)]
struct Extras {
    /// The step just taken (`?done=`), announced at the top.
    done: Option<String>,
    flash: Option<Flash>,
    open_step: Option<String>,
    values: HashMap<String, String>,
    personal: Option<(Vec<GroupRow>, Vec<MovementRow>)>,
}

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: Option<String>,
}

/// A value as recorded, for personal data (shown exactly as written).
fn verbatim(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => readable(other),
    }
}

/// A fact's value for reading: workflow codes (`front_line_indicators`) with spaces.
fn readable(value: &Value) -> String {
    match value {
        Value::String(s) => s.replace('_', " "),
        Value::Bool(true) => "✓".into(),
        Value::Bool(false) => "✗".into(),
        Value::Null => "—".into(),
        other => other.to_string(),
    }
}

/// `GET /cases/{id}`.
pub async fn show(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let extras = Extras {
        done: q.done,
        ..Extras::default()
    };
    render(&console, &signed, &id, extras, StatusCode::OK).await
}

async fn render(
    console: &Console,
    signed: &Signed,
    id: &str,
    mut extras: Extras,
    status: StatusCode,
) -> Response {
    let tr = signed.tr;
    let data: CaseData = match console
        .gql(signed, CASE, json!({"id": id, "lang": tr.code()}))
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let Some(case) = data.case else {
        return super::not_found(signed);
    };
    let now = console.app.now();
    let wf = &case.workflow;
    let state_label: HashMap<&str, &str> = wf
        .states
        .iter()
        .map(|s| (s.key.as_str(), s.label.as_str()))
        .collect();
    let transition_label: HashMap<&str, &str> = wf
        .transitions
        .iter()
        .map(|t| (t.key.as_str(), t.label.as_str()))
        .collect();
    let fact_label: HashMap<&str, &str> = wf
        .facts
        .iter()
        .map(|f| (f.key.as_str(), f.label.as_str()))
        .collect();
    if let Some(done) = &extras.done {
        let label = transition_label
            .get(done.as_str())
            .map_or(done.as_str(), |l| l);
        extras.flash = Some(Flash {
            class: "success",
            message: tr.t1("step-recorded", "step", label),
            reasons: Vec::new(),
            detail: None,
            reload: false,
        });
    }
    let tracks = case
        .states
        .iter()
        .filter_map(|s| {
            let def = wf.tracks.iter().find(|t| t.key == s.track)?;
            let nodes: Vec<Node<'_>> = wf
                .states
                .iter()
                .filter(|st| st.track == s.track)
                .map(|st| Node {
                    key: &st.key,
                    label: &st.label,
                    terminal: st.terminal,
                })
                .collect();
            let edges: Vec<(&str, &str)> = wf
                .transitions
                .iter()
                .filter(|t| t.track == s.track)
                .flat_map(|t| t.from.iter().map(move |f| (f.as_str(), t.to.as_str())))
                .collect();
            let title = tr.t1("track-picture", "track", &def.label) + ": " + &s.label;
            Some(TrackRow {
                svg: diagram::track_svg(
                    &format!("track-{}", s.track),
                    &title,
                    &nodes,
                    &edges,
                    &def.initial_state,
                    Some(&s.state),
                ),
                label: def.label.clone(),
                state: s.label.clone(),
                terminal: s.terminal,
                since: s.entered_at.map(super::home::when),
            })
        })
        .collect();
    let deadlines = case
        .deadlines
        .iter()
        .map(|d| DeadlineRow {
            label: d.label.clone(),
            citation: d.citation.clone(),
            due: super::home::when(d.due_at),
            due_iso: d.due_at.to_rfc3339(),
            countdown: match d.status.as_str() {
                "MET" | "PAUSED" => tr.value(&d.status),
                _ => super::home::relative(tr, d.due_at, now),
            },
            status: tr.value(&d.status),
            class: match d.status.as_str() {
                "OVERDUE" | "MISSED" => "overdue",
                "DUE_SOON" => "due-soon",
                _ => "normal",
            },
        })
        .chain(
            case.timers
                .iter()
                .filter(|t| t.kind == "FLOOR" && matches!(t.status.as_str(), "RUNNING" | "PAUSED"))
                .map(|t| DeadlineRow {
                    label: t.label.clone(),
                    citation: t.citation.clone(),
                    due: super::home::when(t.due_at),
                    due_iso: t.due_at.to_rfc3339(),
                    countdown: tr.tn(
                        "floor-ends-in",
                        "days",
                        ((t.due_at - now).num_hours().max(0) + 23) / 24,
                    ),
                    status: tr.value(&t.status),
                    class: "floor",
                }),
        )
        .collect();
    let track_label: HashMap<&str, &str> = wf
        .tracks
        .iter()
        .map(|t| (t.key.as_str(), t.label.as_str()))
        .collect();
    let steps = case
        .available_transitions
        .iter()
        .map(|a| {
            let open = extras.open_step.as_deref() == Some(a.key.as_str());
            let fields = a
                .inputs
                .iter()
                .map(|input| field(tr, &a.key, input, open.then_some(&extras.values)))
                .collect();
            let transfer = a.unmet_guards.iter().any(|u| u.name == "transfer_of_lead");
            StepRow {
                transfer,
                key: a.key.clone(),
                label: a.label.clone(),
                track: track_label
                    .get(a.track.as_str())
                    .map_or_else(|| a.track.clone(), |l| l.to_string()),
                allowed: a.allowed,
                forbidden: !a.allowed && a.unmet_guards.is_empty(),
                unmet: a
                    .unmet_guards
                    .iter()
                    .filter(|u| u.name != "transfer_of_lead")
                    .map(|u| u.reason.clone())
                    .collect(),
                fields,
                open,
            }
        })
        .collect();
    let handover = |h: &Handover, kind: &str| HandoverRow {
        href: match kind {
            "referral" => format!("/referrals/{}", h.id),
            _ => format!("/transfers/{}", h.id),
        },
        what: h
            .service
            .as_deref()
            .map_or_else(|| tr.t("transfer-of-lead"), |s| tr.value(s)),
        status: tr.value(&h.status),
        from: format!("{} ({})", h.from_agency.name, h.from_agency.country),
        to: format!("{} ({})", h.to_agency.name, h.to_agency.country),
        groups: h
            .shared_groups
            .iter()
            .map(|g| tr.value(g))
            .collect::<Vec<_>>()
            .join(", "),
        when: super::home::when(h.created_at),
    };
    let referrals = case
        .referrals
        .iter()
        .map(|h| handover(h, "referral"))
        .collect();
    let transfers = case
        .transfers
        .iter()
        .map(|h| handover(h, "transfer"))
        .collect();
    let history = case
        .history
        .nodes
        .iter()
        .rev()
        .map(|e| {
            let label = |key: &Option<String>| {
                key.as_deref()
                    .map(|k| state_label.get(k).map_or(k, |l| l).to_string())
            };
            let what = match (&e.transition, &e.timer) {
                (Some(t), _) => {
                    let name = transition_label.get(t.as_str()).map_or(t.as_str(), |l| l);
                    match (label(&e.from_state), label(&e.to_state)) {
                        (Some(f), Some(to)) if f != to => format!("{name} ({f} → {to})"),
                        _ => name.to_string(),
                    }
                }
                (None, Some(timer)) => format!("{}: {timer}", tr.value(&e.kind)),
                (None, None) => tr.value(&e.kind),
            };
            let who = match (&e.actor, e.by_system) {
                (_, true) | (None, _) => {
                    format!(
                        "{} · {} ({})",
                        tr.t("by-system"),
                        e.agency.name,
                        e.agency.country
                    )
                }
                (Some(a), false) => {
                    format!(
                        "{} · {} ({})",
                        a.display_name, e.agency.name, e.agency.country
                    )
                }
            };
            let facts = match &e.data {
                Value::Object(map) if e.transition.is_some() => map
                    .iter()
                    .map(|(k, v)| {
                        (
                            fact_label
                                .get(k.as_str())
                                .map_or(k.as_str(), |l| l)
                                .to_string(),
                            readable(v),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            EventRow {
                sequence: e.sequence,
                when: super::home::when(e.occurred_at),
                when_iso: e.occurred_at.to_rfc3339(),
                what,
                who,
                reason: e.reason.clone(),
                facts,
            }
        })
        .collect();
    let (personal, route) = match extras.personal.take() {
        Some((groups, route)) => (Some(groups), route),
        None => (None, Vec::new()),
    };
    let title = case.reference.clone();
    page(
        &CasePage {
            chrome: Chrome::new(signed, title, "cases"),
            id: case.id.clone(),
            reference: case.reference.clone(),
            version: case.version,
            active: case.status == "ACTIVE",
            status: tr.value(&case.status),
            lead: case.access == "LEAD",
            access: tr.value(&case.access),
            lead_agency: format!("{} ({})", case.lead_agency.name, case.lead_agency.country),
            country: case.country.clone(),
            origin: case.origin_country.clone(),
            opened: super::home::when(case.opened_at),
            workflow: format!("{} · {} v{}", wf.label, wf.key, wf.version),
            tracks,
            deadlines,
            steps,
            referrals,
            transfers,
            history,
            flash: extras.flash,
            personal,
            route,
            groups: GROUPS.iter().map(|g| (*g, tr.value(g))).collect(),
            idempotency: uuid::Uuid::new_v4().simple().to_string(),
        },
        status,
    )
}

/// A form field for a transition's input.
pub(super) fn field(
    tr: Tr,
    step: &str,
    input: &Input,
    values: Option<&HashMap<String, String>>,
) -> FieldRow {
    let name = format!("f.{}", input.fact);
    let value = values
        .and_then(|v| v.get(&name))
        .cloned()
        .unwrap_or_default();
    let (kind, options) = match input.kind.as_str() {
        "BOOL" => (
            "bool",
            vec![
                ("true".to_string(), tr.t("yes"), value == "true"),
                ("false".to_string(), tr.t("no"), value == "false"),
            ],
        ),
        "ENUM" => (
            "enum",
            input
                .values
                .iter()
                .map(|v| {
                    let label = input
                        .value_labels
                        .iter()
                        .find(|l| &l.value == v)
                        .map_or_else(|| v.replace('_', " "), |l| l.label.clone());
                    (v.clone(), label, &value == v)
                })
                .collect(),
        ),
        "DATE" => ("date", Vec::new()),
        "INT" => ("number", Vec::new()),
        _ => ("text", Vec::new()),
    };
    FieldRow {
        id: format!("{step}-{}", input.fact),
        name,
        label: input.label.clone(),
        kind,
        required: input.required,
        options,
        value,
    }
}

/// The facts of a transition's form as the API takes them: typed by the workflow's inputs;
/// empty optional fields left out.
pub(super) fn facts(inputs: &[Input], form: &Fields) -> Result<Map<String, Value>, String> {
    let mut data = Map::new();
    for input in inputs {
        let Some(raw) = form.get(&format!("f.{}", input.fact)) else {
            continue;
        };
        let value = match input.kind.as_str() {
            "BOOL" => Value::Bool(raw == "true"),
            "INT" => raw
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| input.label.clone())?,
            _ => Value::String(raw.to_string()),
        };
        data.insert(input.fact.clone(), value);
    }
    Ok(data)
}

/// `POST /cases/{id}/fire`: takes a step. Refusals (unmet guards, a version conflict, a
/// permission) are shown on the case page with the form kept open and its values.
pub async fn fire(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let tr = signed.tr;
    let Some(step) = form.get("transition").map(str::to_string) else {
        return see_other(&format!("/cases/{id}"));
    };
    let version: i64 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // The step's inputs, as the workflow types them.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Steps {
        case: Option<StepsCase>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct StepsCase {
        available_transitions: Vec<Available>,
    }
    let steps: Steps = match console
        .gql(
            &signed,
            "query($id: ID!) { case(id: $id) { availableTransitions { key label track allowed unmetGuards { reason } inputs { fact label type required values valueLabels { value label } } } } }",
            json!({"id": id}),
        )
        .await
    {
        Ok(s) => s,
        Err(e) => return api_error_page(&signed, &e),
    };
    let Some(case) = steps.case else {
        return super::not_found(&signed);
    };
    let inputs = case
        .available_transitions
        .iter()
        .find(|a| a.key == step)
        .map(|a| a.inputs.clone())
        .unwrap_or_default();
    let values: HashMap<String, String> = form
        .0
        .iter()
        .filter(|(k, _)| k.starts_with("f."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let refused = |flash: Flash, status: StatusCode| {
        let extras = Extras {
            flash: Some(flash),
            open_step: Some(step.clone()),
            values: values.clone(),
            ..Extras::default()
        };
        (extras, status)
    };
    let data = match facts(&inputs, &form) {
        Ok(d) => d,
        Err(label) => {
            let (extras, status) = refused(
                Flash {
                    class: "error",
                    message: tr.t1("field-not-a-number", "field", &label),
                    reasons: Vec::new(),
                    detail: None,
                    reload: false,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            return render(&console, &signed, &id, extras, status).await;
        }
    };
    let mut input = json!({
        "caseId": id,
        "transition": step,
        "expectedVersion": version,
        "data": data,
        "reasonSharedAs": form.all("reasonSharedAs"),
    });
    if let Some(reason) = form.get("reason") {
        input["reason"] = json!(reason);
    }
    if let Some(key) = form.get("idempotency") {
        input["idempotencyKey"] = json!(format!("console-{key}"));
    }
    let fired: Result<Value, ApiError> =
        console.gql(&signed, FIRE, json!({ "input": input })).await;
    match fired {
        Ok(_) => see_other(&format!("/cases/{id}?done={step}")),
        Err(e) => {
            let conflict = e.code == "VERSION_CONFLICT";
            let status = match e.code.as_str() {
                "VERSION_CONFLICT" => StatusCode::CONFLICT,
                "FORBIDDEN" => StatusCode::FORBIDDEN,
                "NOT_FOUND" => return super::not_found(&signed),
                "SERVICE_UNAVAILABLE" | "INTERNAL" | "RATE_LIMITED" => {
                    return api_error_page(&signed, &e);
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let (mut extras, status) = refused(
                Flash {
                    class: "error",
                    message: explain(tr, &e),
                    reasons: e.reasons.clone(),
                    detail: e.reasons.is_empty().then(|| e.message.clone()),
                    reload: conflict,
                },
                status,
            );
            if conflict {
                // What the user typed stays; the page shows the case as it is now.
                extras.open_step = None;
            }
            render(&console, &signed, &id, extras, status).await
        }
    }
}

/// `POST /cases/{id}/personal-data`: shows the personal data and the route, with the purpose
/// given (the API asks for one before sensitive groups and records the read).
pub async fn reveal(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    let tr = signed.tr;
    #[derive(Deserialize)]
    struct Data {
        case: Option<Personal>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Personal {
        personal_data: Vec<Group>,
        route: Vec<Movement>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Group {
        group: String,
        redacted: bool,
        purpose_required: bool,
        recorded_at: Option<DateTime<Utc>>,
        value: Option<Value>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Movement {
        moved_on: String,
        country: String,
        place: Option<String>,
    }
    let purpose = form.get("purpose");
    let data: Data = match console
        .gql(&signed, PERSONAL, json!({"id": id, "purpose": purpose}))
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(&signed, &e),
    };
    let Some(personal) = data.case else {
        return super::not_found(&signed);
    };
    let groups = personal
        .personal_data
        .into_iter()
        .map(|g| {
            let (state, value) = match (&g.value, g.redacted, g.purpose_required) {
                (_, true, _) => ("withheld", Vec::new()),
                (_, false, true) => ("purpose", Vec::new()),
                (None, false, false) => ("empty", Vec::new()),
                (Some(v), false, false) if g.recorded_at.is_none() && v.is_null() => {
                    ("empty", Vec::new())
                }
                (Some(Value::Object(map)), false, false) => (
                    "shown",
                    map.iter()
                        .map(|(k, v)| (k.replace('_', " "), verbatim(v)))
                        .collect(),
                ),
                (Some(v), false, false) => ("shown", vec![(String::new(), verbatim(v))]),
            };
            GroupRow {
                label: tr.value(&g.group),
                state,
                value,
            }
        })
        .collect();
    let route = personal
        .route
        .into_iter()
        .map(|m| MovementRow {
            date: m.moved_on,
            country: m.country,
            place: m.place.unwrap_or_default(),
        })
        .collect();
    let extras = Extras {
        personal: Some((groups, route)),
        ..Extras::default()
    };
    render(&console, &signed, &id, extras, StatusCode::OK).await
}
