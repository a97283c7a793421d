//! Sharing as guided forms: the lead chooses the receiving agency, the service (or, for a
//! transfer of lead, the workflow's transfer step) and the data groups, under a consent (or, for
//! those who may, an override on a legal basis), previews exactly what the receiver will see,
//! and sends. What the receiver then does is in `received`.
//! Longer than most modules: referral and transfer share one form, its preview and its answer
//! (the preview now comes from the API); splitting them would copy that flow twice.

use super::{Fields, GROUPS, api_error_page, explain, see_other};
use crate::console::Console;
use crate::console::graphql::ApiError;
use crate::console::i18n::Tr;
use crate::console::render::{Chrome, page};
use crate::console::session::Signed;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

const SERVICES: [&str; 12] = [
    "SHELTER",
    "MEDICAL",
    "PSYCHOLOGICAL",
    "LEGAL",
    "INTERPRETATION",
    "FAMILY_TRACING",
    "RISK_ASSESSMENT",
    "REINTEGRATION",
    "EDUCATION_TRAINING",
    "EMPLOYMENT",
    "DECISION",
    "OTHER",
];
const BASES: [&str; 3] = ["VITAL_INTERESTS", "CHILD_PROTECTION", "LEGAL_OBLIGATION"];

const FORM_DATA: &str = "query($id: ID!, $lang: String!) {
  case(id: $id) { id reference version access
    consents { id givenBy givenAt inForce dataGroups purposes }
    availableTransitions(language: $lang) { key label inputs { fact label type required values valueLabels { value label } } } }
  agencies { id name kind country }
}";

const OFFER: &str =
    "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) { transfer { id } } }";

const MAKE: &str =
    "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FormData {
    case: Option<FormCase>,
    agencies: Vec<AgencyRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FormCase {
    id: String,
    reference: String,
    version: i64,
    access: String,
    consents: Vec<ConsentRow>,
    available_transitions: Vec<Step>,
}

#[derive(Deserialize)]
struct Step {
    key: String,
    label: String,
    inputs: Vec<super::case::Input>,
}

/// The workflow's transfer step, when the form offers a transfer of lead.
pub struct TransferStep {
    pub key: String,
    pub label: String,
    pub fields: Vec<super::case::FieldRow>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ConsentRow {
    id: String,
    given_by: String,
    given_at: DateTime<Utc>,
    in_force: bool,
    data_groups: Vec<String>,
    purposes: Vec<String>,
}

#[derive(Deserialize, Clone)]
pub(super) struct IdRow {
    pub(super) id: String,
}

#[derive(Deserialize, Clone)]
struct AgencyRow {
    id: String,
    name: String,
    kind: String,
    country: String,
}

/// A choice of a select or a set of checkboxes.
pub struct Option_ {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The receiver's view, as the preview shows it: the API's disclosure manifest
/// (`previewReferral` / `previewTransfer`, the checks the sending mutation applies).
pub struct Preview {
    pub receiver: String,
    pub service: String,
    pub shared: Vec<String>,
    pub withheld: Vec<String>,
    /// The free texts that go with it (what, and as which groups).
    pub texts: Vec<String>,
    /// Why the service would refuse it as it is: what it means, and the service's words.
    pub refusals: Vec<(String, String)>,
    /// Whether the service would take it as it is (no refusal).
    pub allowed: bool,
    pub ground: String,
}

/// The manifest as the API answers it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    allowed: bool,
    refusals: Vec<Refusal>,
    to_agency: Option<AgencyRow>,
    shared_groups: Vec<String>,
    withheld_groups: Vec<String>,
    ground: Option<GroundRow>,
    shared_texts: Vec<SharedText>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Refusal {
    code: String,
    message: String,
    unmet_guards: Vec<Unmet>,
}

#[derive(Deserialize)]
struct Unmet {
    reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroundRow {
    consent_id: Option<String>,
    override_basis: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SharedText {
    field: String,
    shared_as: Vec<String>,
}

const MANIFEST: &str = "fragment Manifest on DisclosureManifest { allowed
  refusals { code message unmetGuards { reason } }
  toAgency { id name kind country } sharedGroups withheldGroups
  ground { consentId overrideBasis } sharedTexts { field sharedAs } }";

#[derive(Template)]
#[template(path = "console/refer.html")]
pub struct ReferPage {
    pub chrome: Chrome,
    pub case_id: String,
    pub reference: String,
    pub version: i64,
    pub agencies: Vec<Option_>,
    pub services: Vec<Option_>,
    pub groups: Vec<Option_>,
    pub consents: Vec<Option_>,
    pub bases: Vec<Option_>,
    pub purpose: String,
    pub days: String,
    pub justification: String,
    pub idempotency: String,
    pub preview: Option<Preview>,
    pub error: Option<(String, String)>,
    pub may_override: bool,
    /// Where the form is sent.
    pub action: String,
    /// A transfer of lead (else a referral for a service).
    pub transfer: Option<TransferStep>,
}

fn consent_label(tr: Tr, c: &ConsentRow) -> String {
    let groups: Vec<String> = c.data_groups.iter().map(|g| tr.value(g)).collect();
    let purposes: Vec<String> = c.purposes.iter().map(|p| tr.value(p)).collect();
    format!(
        "{} · {} · {} · {}",
        super::home::when(c.given_at),
        tr.value(&c.given_by),
        purposes.join(", "),
        groups.join(", ")
    )
}

async fn form_page(
    console: &Console,
    signed: &Signed,
    case_id: &str,
    step: Option<&str>,
    form: Option<&Fields>,
    preview: bool,
    error: Option<&ApiError>,
) -> Response {
    let tr = signed.tr;
    let data: FormData = match console
        .gql(signed, FORM_DATA, json!({"id": case_id, "lang": tr.code()}))
        .await
    {
        Ok(d) => d,
        Err(e) => return api_error_page(signed, &e),
    };
    let Some(case) = data.case else {
        return super::not_found(signed);
    };
    if case.access != "LEAD" {
        return api_error_page(
            signed,
            &ApiError {
                message: tr.t("refer-lead-only"),
                code: "FORBIDDEN".into(),
                reasons: Vec::new(),
            },
        );
    }
    let empty = Fields::default();
    let form = form.unwrap_or(&empty);
    let transfer = match step {
        None => None,
        Some(key) => {
            let Some(step) = case.available_transitions.iter().find(|t| t.key == key) else {
                return super::not_found(signed);
            };
            let values: std::collections::HashMap<String, String> =
                form.0.iter().cloned().collect();
            Some(TransferStep {
                key: step.key.clone(),
                label: step.label.clone(),
                fields: step
                    .inputs
                    .iter()
                    .map(|i| super::case::field(tr, &step.key, i, Some(&values)))
                    .collect(),
            })
        }
    };
    let chosen = |name: &str, value: &str| form.all(name).iter().any(|v| v == value);
    let me = crate::api::ids::encode("Agency", &signed.principal.agency_id.to_string()).to_string();
    let mut agencies: Vec<AgencyRow> = data.agencies.into_iter().filter(|a| a.id != me).collect();
    agencies.sort_by(|a, b| (&a.country, &a.name).cmp(&(&b.country, &b.name)));
    let consents: Vec<ConsentRow> = case.consents.into_iter().filter(|c| c.in_force).collect();
    let to = form.get("to").map(str::to_string);
    let mut error = error.cloned();
    let preview = match (preview, &to, &transfer) {
        (true, Some(_), _) => {
            let asked = match &transfer {
                Some(t) => {
                    let inputs = case
                        .available_transitions
                        .iter()
                        .find(|s| s.key == t.key)
                        .map(|s| s.inputs.as_slice())
                        .unwrap_or_default();
                    console
                        .gql::<PreviewedTransfer>(
                            signed,
                            &format!(
                                "query($input: OfferTransferInput!) {{ previewTransfer(input: $input) {{ ...Manifest }} }} {MANIFEST}"
                            ),
                            json!({"input": transfer_input(case_id, form, inputs)}),
                        )
                        .await
                        .map(|p| p.preview_transfer)
                }
                None => console
                    .gql::<PreviewedReferral>(
                        signed,
                        &format!(
                            "query($input: MakeReferralInput!) {{ previewReferral(input: $input) {{ ...Manifest }} }} {MANIFEST}"
                        ),
                        json!({"input": referral_input(case_id, form)}),
                    )
                    .await
                    .map(|p| p.preview_referral),
            };
            match asked {
                Ok(m) => Some(shown(tr, m, &consents, &transfer, form)),
                Err(e) => {
                    error.get_or_insert(e);
                    None
                }
            }
        }
        _ => None,
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let p = &signed.principal;
    let (title, action) = match &transfer {
        Some(t) => (
            tr.t1("transfer-title", "reference", &case.reference),
            format!("/cases/{}/transfer/{}", case.id, t.key),
        ),
        None => (
            tr.t1("refer-title", "reference", &case.reference),
            format!("/cases/{}/refer", case.id),
        ),
    };
    page(
        &ReferPage {
            chrome: Chrome::new(signed, title, "cases"),
            action,
            transfer,
            case_id: case.id,
            reference: case.reference,
            version: case.version,
            agencies: agencies
                .iter()
                .map(|a| Option_ {
                    selected: Some(&a.id) == to.as_ref(),
                    label: format!("{} – {} ({})", a.country, a.name, tr.agency_kind(&a.kind)),
                    value: a.id.clone(),
                })
                .collect(),
            services: SERVICES
                .iter()
                .map(|s| Option_ {
                    value: s.to_string(),
                    label: tr.value(s),
                    selected: form.get("service") == Some(s),
                })
                .collect(),
            groups: GROUPS
                .iter()
                .map(|g| Option_ {
                    value: g.to_string(),
                    label: tr.value(g),
                    selected: chosen("groups", g),
                })
                .collect(),
            consents: consents
                .iter()
                .map(|c| Option_ {
                    value: c.id.clone(),
                    label: consent_label(tr, c),
                    selected: form.get("consent") == Some(c.id.as_str()),
                })
                .collect(),
            bases: BASES
                .iter()
                .map(|b| Option_ {
                    value: b.to_string(),
                    label: tr.value(b),
                    selected: form.get("basis") == Some(b),
                })
                .collect(),
            purpose: form.get("purpose").unwrap_or_default().to_string(),
            days: form.get("days").unwrap_or_default().to_string(),
            justification: form.get("justification").unwrap_or_default().to_string(),
            idempotency: form
                .get("idempotency")
                .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string),
            preview,
            error: error.map(|e| (explain(tr, &e), e.message.clone())),
            may_override: p.has(crate::domain::Role::Supervisor)
                || p.has(crate::domain::Role::FocalPoint),
        },
        status,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewedReferral {
    preview_referral: Manifest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviewedTransfer {
    preview_transfer: Manifest,
}

/// The manifest as the page shows it, in the reader's language.
fn shown(
    tr: Tr,
    m: Manifest,
    consents: &[ConsentRow],
    transfer: &Option<TransferStep>,
    form: &Fields,
) -> Preview {
    let receiver = m.to_agency.map_or_else(String::new, |r| {
        format!("{} ({}, {})", r.name, tr.agency_kind(&r.kind), r.country)
    });
    let ground = match m.ground {
        Some(GroundRow {
            consent_id: Some(id),
            ..
        }) => match consents.iter().find(|c| c.id == id) {
            Some(c) => tr.t1("ground-consent", "consent", &consent_label(tr, c)),
            None => tr.t("ground-consent-other"),
        },
        Some(GroundRow {
            override_basis: Some(basis),
            ..
        }) => tr.t1("ground-override", "basis", &tr.value(&basis)),
        _ => tr.t("ground-missing"),
    };
    let mut refusals: Vec<(String, String)> = Vec::new();
    for r in m.refusals {
        let id = format!("refusal-{}", r.code.to_ascii_lowercase().replace('_', "-"));
        let heading = match tr.t(&id) {
            text if text == id => tr.t("refusal-other"),
            text => text,
        };
        let detail = if r.unmet_guards.is_empty() {
            r.message
        } else {
            r.unmet_guards
                .into_iter()
                .map(|u| u.reason)
                .collect::<Vec<_>>()
                .join("; ")
        };
        refusals.push((heading, detail));
    }
    let texts = m
        .shared_texts
        .iter()
        .map(|t| {
            let what = match t.field.as_str() {
                "ground.overrideJustification" => tr.t("refer-justification"),
                _ => tr.t("refer-purpose"),
            };
            let groups: Vec<String> = t.shared_as.iter().map(|g| tr.value(g)).collect();
            if groups.is_empty() {
                tr.t1("preview-text-alone", "text", &what)
            } else {
                tr.t_args(
                    "preview-text",
                    &[("text", &what), ("groups", &groups.join(", "))],
                )
            }
        })
        .collect();
    Preview {
        allowed: m.allowed,
        receiver,
        service: match transfer {
            Some(t) => t.label.clone(),
            None => tr.value(form.get("service").unwrap_or("OTHER")),
        },
        shared: m.shared_groups.iter().map(|g| tr.value(g)).collect(),
        withheld: m.withheld_groups.iter().map(|g| tr.value(g)).collect(),
        texts,
        refusals,
        ground,
    }
}

/// The input of `makeReferral` (and `previewReferral`) from the form.
fn referral_input(case_id: &str, form: &Fields) -> Value {
    let mut input = json!({
        "caseId": case_id,
        "toAgencyId": form.get("to").unwrap_or_default(),
        "service": form.get("service").unwrap_or("OTHER"),
        "sharedGroups": form.all("groups"),
        "purpose": form.get("purpose").unwrap_or_default(),
    });
    common_input(&mut input, form);
    input
}

/// The input of `offerTransfer` (and `previewTransfer`) from the form, the transfer step's
/// facts read as its `inputs` say.
fn transfer_input(case_id: &str, form: &Fields, inputs: &[super::case::Input]) -> Value {
    let data = super::case::facts(inputs, form).unwrap_or_default();
    let mut input = json!({
        "caseId": case_id,
        "toAgencyId": form.get("to").unwrap_or_default(),
        "sharedGroups": form.all("groups"),
        "data": data,
    });
    if let Some(reason) = form.get("purpose") {
        input["reason"] = json!(reason);
    }
    common_input(&mut input, form);
    input
}

/// What referrals and transfers share: the version seen, the days to answer, the ground.
fn common_input(input: &mut Value, form: &Fields) {
    if let Some(v) = form.get("version").and_then(|v| v.parse::<i64>().ok()) {
        input["expectedVersion"] = json!(v);
    }
    if let Some(days) = form.get("days").and_then(|d| d.parse::<i64>().ok()) {
        input["respondWithinDays"] = json!(days);
    }
    ground(input, form);
}

/// `GET /cases/{id}/refer`: the referral form.
pub async fn new(
    State(console): State<Console>,
    signed: Signed,
    Path(id): Path<String>,
) -> Response {
    form_page(&console, &signed, &id, None, None, false, None).await
}

/// `GET /cases/{id}/transfer/{step}`: the form offering a transfer of lead (the workflow's
/// transfer step).
pub async fn new_transfer(
    State(console): State<Console>,
    signed: Signed,
    Path((id, step)): Path<(String, String)>,
) -> Response {
    form_page(&console, &signed, &id, Some(&step), None, false, None).await
}

/// `POST /cases/{id}/refer`: `action=preview` shows the receiver's view; `action=send` makes
/// the referral.
pub async fn send(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    if form.get("action") != Some("send") {
        return form_page(&console, &signed, &id, None, Some(&form), true, None).await;
    }
    let input = referral_input(&id, &form);
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Made {
        make_referral: MadeReferral,
    }
    #[derive(Deserialize)]
    struct MadeReferral {
        referral: super::case::IdOnly,
    }
    match console
        .gql::<Made>(&signed, MAKE, json!({"input": input}))
        .await
    {
        Ok(made) => see_other(&format!("/referrals/{}", made.make_referral.referral.id)),
        Err(e)
            if matches!(
                e.code.as_str(),
                "SERVICE_UNAVAILABLE" | "INTERNAL" | "RATE_LIMITED"
            ) =>
        {
            api_error_page(&signed, &e)
        }
        Err(e) => form_page(&console, &signed, &id, None, Some(&form), true, Some(&e)).await,
    }
}

/// The ground of a sharing: the consent chosen, else the override's legal basis.
fn ground(input: &mut Value, form: &Fields) {
    match (form.get("consent"), form.get("basis")) {
        (Some(consent), _) => input["consentId"] = json!(consent),
        (None, Some(basis)) => {
            input["override"] = json!({
                "basis": basis,
                "justification": form.get("justification").unwrap_or_default(),
            });
        }
        (None, None) => {}
    }
}

/// `POST /cases/{id}/transfer/{step}`: preview, or offer the transfer of lead.
pub async fn send_transfer(
    State(console): State<Console>,
    signed: Signed,
    headers: HeaderMap,
    Path((id, step)): Path<(String, String)>,
    Form(form): Form<Fields>,
) -> Response {
    if let Err(refused) = form.check(&signed, &headers) {
        return refused.into_response();
    }
    if form.get("action") != Some("send") {
        return form_page(&console, &signed, &id, Some(&step), Some(&form), true, None).await;
    }
    #[derive(Deserialize)]
    struct Inputs {
        case: Option<InputsCase>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InputsCase {
        available_transitions: Vec<Step>,
    }
    let inputs = match console
        .gql::<Inputs>(
            &signed,
            "query($id: ID!) { case(id: $id) { availableTransitions { key label inputs { fact label type required values valueLabels { value label } } } } }",
            json!({"id": id}),
        )
        .await
    {
        Ok(Inputs { case: Some(c) }) => c
            .available_transitions
            .into_iter()
            .find(|t| t.key == step)
            .map(|t| t.inputs)
            .unwrap_or_default(),
        Ok(Inputs { case: None }) => return super::not_found(&signed),
        Err(e) => return api_error_page(&signed, &e),
    };
    let input = transfer_input(&id, &form, &inputs);
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Offered {
        offer_transfer: OfferedTransfer,
    }
    #[derive(Deserialize)]
    struct OfferedTransfer {
        transfer: super::case::IdOnly,
    }
    match console
        .gql::<Offered>(&signed, OFFER, json!({"input": input}))
        .await
    {
        Ok(o) => see_other(&format!("/transfers/{}", o.offer_transfer.transfer.id)),
        Err(e)
            if matches!(
                e.code.as_str(),
                "SERVICE_UNAVAILABLE" | "INTERNAL" | "RATE_LIMITED"
            ) =>
        {
            api_error_page(&signed, &e)
        }
        Err(e) => {
            form_page(
                &console,
                &signed,
                &id,
                Some(&step),
                Some(&form),
                true,
                Some(&e),
            )
            .await
        }
    }
}
