//! Reliability drill: every argument of every query and mutation of the committed SDL
//! (`schema/schema.graphql`), and of the fields with arguments one level below a query, fuzzed
//! one place at a time from a baseline that would succeed: malformed IDs, huge strings, NUL and
//! control characters, invalid surrogates, wrong JSON types, null for non-null, invalid dates,
//! out-of-range integers, unknown enum values and input fields, deeply nested JSON. Sent by a user
//! allowed to do the baseline, so that validation, not authorisation, refuses.
//!
//! Every answer: no 5xx; JSON with typed errors (`extensions.code`, never INTERNAL or
//! SERVICE_UNAVAILABLE: the database is up) that repeat at most 200 characters of the input. A
//! mutation must refuse every variant; a read must refuse every ill-typed one, and may answer an
//! odd but well-typed one only with nothing found (or, for a `language`, with its English
//! default). After the corpus nothing has changed (cases, histories, inboxes, directory, audit
//! log, clock, row counts), every planned baseline sent unchanged succeeds (so each variant was
//! wrong in one place only), and the server still answers. A field added to the schema is
//! fuzzed without touching this file, from a baseline built from its types.

use crate::cross_border::case_ready_for_transfer;
use crate::harness::TestServer;
use async_graphql::Positioned;
use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Instant;
use trm::clock::Clock;
use trm::server::HttpOptions;

/// Requests in flight at once.
const CONCURRENCY: usize = 6;
/// How much of a fuzzed string an error may repeat.
const MAX_ECHO: usize = 200;
/// Stands for a string with a lone surrogate escape (`"\ud800"`), which `serde_json` cannot
/// produce: replaced in the request body text.
const SURROGATE: &str = "\u{e000}lone-surrogate\u{e000}";
/// Stands for a JSON value nested 1000 deep, beyond any parser's limit (as text: a `Value` that
/// deep would overflow the test's stack).
const TOO_DEEP: &str = "\u{e000}too-deep\u{e000}";
/// Codes that mean the server failed rather than refused (the database is up throughout).
const SERVER_FAULTS: &[&str] = &["INTERNAL", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"];
/// Arguments documented to fall back on a default for a value they do not know (a label's
/// `language`: English when missing): a read may answer anything there.
const LENIENT: &[&str] = &["language"];

/// The type of the reads whose answer is a verdict on a proposed act (the sharing previews): a
/// fuzzed input is refused cleanly when the verdict says not allowed, each refusal with a code.
const VERDICT: &str = "DisclosureManifest";

// ---------------------------------------------------------------------------------------------
// The schema

/// The committed SDL, parsed.
struct Sdl {
    types: BTreeMap<String, TypeKind>,
    query: String,
    mutation: String,
}

impl Sdl {
    fn load() -> Sdl {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/schema.graphql");
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = parse_schema(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut sdl = Sdl {
            types: BTreeMap::new(),
            query: "Query".into(),
            mutation: "Mutation".into(),
        };
        for def in doc.definitions {
            match def {
                TypeSystemDefinition::Type(t) => {
                    sdl.types.insert(t.node.name.node.to_string(), t.node.kind);
                }
                TypeSystemDefinition::Schema(s) => {
                    if let Some(q) = s.node.query {
                        sdl.query = q.node.to_string();
                    }
                    if let Some(m) = s.node.mutation {
                        sdl.mutation = m.node.to_string();
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        sdl
    }

    /// The fields of an object or interface type.
    fn fields(&self, ty: &str) -> &[Positioned<FieldDefinition>] {
        match self.types.get(ty) {
            Some(TypeKind::Object(o)) => &o.fields,
            Some(TypeKind::Interface(i)) => &i.fields,
            _ => &[],
        }
    }

    fn input_fields(&self, ty: &str) -> Option<&[Positioned<InputValueDefinition>]> {
        match self.types.get(ty) {
            Some(TypeKind::InputObject(i)) => Some(&i.fields),
            _ => None,
        }
    }

    fn enum_values(&self, ty: &str) -> Option<Vec<String>> {
        match self.types.get(ty) {
            Some(TypeKind::Enum(e)) => Some(
                e.values
                    .iter()
                    .map(|v| v.node.value.node.to_string())
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The selection a field of type `ty` needs: none for leaves, `__typename` (and the edges of
    /// a connection, to tell an empty answer) otherwise.
    fn selection(&self, ty: &Type) -> String {
        let name = base_name(ty);
        match self.types.get(name) {
            Some(TypeKind::Object(_)) if name == VERDICT => {
                " { __typename allowed refusals { code } }".into()
            }
            Some(TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_)) => {
                if self
                    .fields(name)
                    .iter()
                    .any(|f| f.node.name.node == "edges")
                {
                    " { __typename edges { cursor } }".into()
                } else {
                    " { __typename }".into()
                }
            }
            _ => String::new(),
        }
    }
}

fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

fn required(v: &InputValueDefinition) -> bool {
    !v.ty.node.nullable && v.default_value.is_none()
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/// SplitMix64: small, seeded, the same corpus on every run (`TRM_FUZZ_SEED` picks another).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::from_u64_pair(self.next(), self.next())
    }
}

fn global_id(kind: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

// ---------------------------------------------------------------------------------------------
// The world the baselines refer to

/// Objects created for the drill, each in the state its mutation's baseline needs.
#[derive(Default)]
struct Fixtures {
    agency: BTreeMap<&'static str, String>,
    /// Led by it.shelter, ready for a transfer, consent to share with Italy and Nigeria.
    case_a: String,
    ref_a: String,
    event_a: String,
    consent_spare: String,
    referral_pending: String,
    referral_to_decline: String,
    referral_to_revoke: String,
    referral_accepted: String,
    transfer_offered: String,
    transfer_to_reject: String,
    transfer_to_revoke: String,
    transfer_requested: String,
    transfer_done: String,
    notification: String,
    /// Ready for a transfer, consent for Nigeria's focal point, nothing offered.
    case_to_offer: String,
    /// Ready for a transfer, referred to ng.shelter (which may ask for it).
    case_to_request: String,
    case_fresh: String,
    case_to_migrate: String,
    ref_unseen: String,
    break_glass: String,
    user: String,
    /// Every case of the drill and the user who sees all of it.
    cases: Vec<(String, &'static str)>,
}

async fn referral(s: &TestServer, case: &str, to: &str, service: &str) -> String {
    let agency = s.agency_id(to).await;
    let body = s
        .gql(
            "it.shelter",
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case, "toAgencyId": agency, "service": service,
                "purpose": "synthetic drill", "sharedGroups": ["IDENTITY"]}}),
        )
        .await;
    body["data"]["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("makeReferral: {body}"))
        .to_string()
}

async fn offered(s: &TestServer, case: &str) -> String {
    s.consent_for("it.shelter", case, "ng.focal", &["IDENTITY"])
        .await;
    let body = s
        .offer_transfer(
            "it.shelter",
            case,
            "ng.focal",
            &["IDENTITY"],
            json!({"nationality_verified": true}),
        )
        .await;
    body["data"]["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("offerTransfer: {body}"))
        .to_string()
}

fn ok<'v>(body: &'v Value, what: &str) -> &'v Value {
    assert!(body.get("errors").is_none(), "{what}: {body}");
    &body["data"]
}

/// Case A: consents, four referrals in different states and an offered transfer.
async fn case_a(s: &TestServer, fx: &mut Fixtures) {
    let lead = "it.shelter";
    let a = case_ready_for_transfer(s, lead).await;
    let consent =
        "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }";
    ok(
        &s.gql(
            lead,
            consent,
            json!({"input": {"caseId": a, "givenBy": "PERSON",
        "purposes": ["RETURN", "SERVICES"], "countries": ["IT", "NG"],
        "dataGroups": ["IDENTITY", "LEGAL_STATUS"]}}),
        )
        .await,
        "consent",
    );
    let spare = s
        .gql(
            lead,
            consent,
            json!({"input": {"caseId": a, "givenBy": "PERSON",
        "purposes": ["STATISTICS"], "dataGroups": ["IDENTITY"]}}),
        )
        .await;
    fx.consent_spare = ok(&spare, "consent")["recordConsent"]["consent"]["id"]
        .as_str()
        .unwrap()
        .into();
    fx.referral_pending = referral(s, &a, "it.iom", "LEGAL").await;
    fx.referral_to_decline = referral(s, &a, "it.prosecutor", "LEGAL").await;
    fx.referral_to_revoke = referral(s, &a, "it.childprotection", "PSYCHOLOGICAL").await;
    fx.referral_accepted = referral(s, &a, "it.police", "LEGAL").await;
    ok(&s.gql("it.police",
        "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { id } } }",
        json!({"input": {"referralId": fx.referral_accepted}})).await, "acceptReferral");
    let body = s
        .offer_transfer(
            lead,
            &a,
            "ng.focal",
            &["IDENTITY"],
            json!({"nationality_verified": true}),
        )
        .await;
    fx.transfer_offered = ok(&body, "offerTransfer")["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .into();
    let data = s
        .data(lead, "query($id: ID!) { case(id: $id) { reference history(first: 1) { edges { node { id } } } } }",
            json!({"id": a}))
        .await;
    fx.ref_a = data["case"]["reference"].as_str().unwrap().into();
    fx.event_a = data["case"]["history"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .into();
    let inbox = s
        .data(
            "it.iom",
            "{ inbox(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    fx.notification = inbox["inbox"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .into();
    fx.case_a = a;
}

/// Builds every fixture (independent cases concurrently).
async fn fixtures(s: &TestServer) -> Fixtures {
    let lead = "it.shelter";
    let mut fx = Fixtures::default();
    for user in ["it.shelter", "it.focal", "it.migration", "ng.focal"] {
        fx.agency.insert(user, s.agency_id(user).await);
    }
    fx.user = s.data(lead, "{ me { user { id } } }", json!({})).await["me"]["user"]["id"]
        .as_str()
        .unwrap()
        .into();
    let to_reject = async {
        let c = case_ready_for_transfer(s, lead).await;
        let t = offered(s, &c).await;
        (c, t)
    };
    let to_revoke = async {
        let c = case_ready_for_transfer(s, lead).await;
        let t = offered(s, &c).await;
        (c, t)
    };
    let requested = async {
        let c = case_ready_for_transfer(s, lead).await;
        s.consent_for(lead, &c, "ng.shelter", &["IDENTITY"]).await;
        referral(s, &c, "ng.shelter", "REINTEGRATION").await;
        let body = s.gql("ng.shelter",
            "mutation($input: RequestTransferInput!) { requestTransfer(input: $input) { transfer { id } } }",
            json!({"input": {"caseId": c, "reason": "she is back in Lagos"}})).await;
        let t = ok(&body, "requestTransfer")["requestTransfer"]["transfer"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        (c, t)
    };
    let to_offer = async {
        let c = case_ready_for_transfer(s, lead).await;
        s.consent_for(lead, &c, "ng.focal", &["IDENTITY"]).await;
        c
    };
    let to_request = async {
        let c = case_ready_for_transfer(s, lead).await;
        s.consent_for(lead, &c, "ng.shelter", &["IDENTITY"]).await;
        referral(s, &c, "ng.shelter", "REINTEGRATION").await;
        c
    };
    let done = async {
        let c = case_ready_for_transfer(s, lead).await;
        s.transfer_lead(lead, &c, "ng.focal", json!({"nationality_verified": true}))
            .await;
        let data = s
            .data(
                "ng.focal",
                "query($id: ID!) { case(id: $id) { transfers { id status } } }",
                json!({"id": c}),
            )
            .await;
        let t = data["case"]["transfers"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        (c, t)
    };
    let small = async {
        let (fresh, _) = s.open_case(lead).await;
        let (migrate, _) = s.open_case(lead).await;
        let (unseen, unseen_ref) = s.open_case(lead).await;
        let (glass, glass_ref) = s.open_case(lead).await;
        let body = s.gql("it.focal",
            "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { access { id } } }",
            json!({"input": {"caseReference": glass_ref,
                "justification": "Police report the person in hospital; the shelter is unreachable at night"}})).await;
        let access = ok(&body, "breakGlass")["breakGlass"]["access"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        (fresh, migrate, unseen, unseen_ref, glass, access)
    };
    // Boxed: together these futures are too large for a test thread's stack.
    let (_, r, v, q, o, rq, d, sm) = tokio::join!(
        Box::pin(case_a(s, &mut fx)),
        Box::pin(to_reject),
        Box::pin(to_revoke),
        Box::pin(requested),
        Box::pin(to_offer),
        Box::pin(to_request),
        Box::pin(done),
        Box::pin(small)
    );
    fx.transfer_to_reject = r.1;
    fx.transfer_to_revoke = v.1;
    fx.transfer_requested = q.1;
    fx.case_to_offer = o;
    fx.case_to_request = rq;
    fx.transfer_done = d.1;
    let (fresh, migrate, unseen, unseen_ref, glass, access) = sm;
    fx.case_fresh = fresh;
    fx.case_to_migrate = migrate;
    fx.ref_unseen = unseen_ref;
    fx.break_glass = access;
    fx.cases = vec![
        (fx.case_a.clone(), lead),
        (r.0, lead),
        (v.0, lead),
        (q.0, lead),
        (fx.case_to_offer.clone(), lead),
        (fx.case_to_request.clone(), lead),
        (d.0, "ng.focal"),
        (fx.case_fresh.clone(), lead),
        (fx.case_to_migrate.clone(), lead),
        (unseen, lead),
        (glass, lead),
    ];
    fx
}

// ---------------------------------------------------------------------------------------------
// Baselines: for each field, who sends it and arguments with which it would succeed

/// The user and arguments of a field's baseline; `None` for a field this file does not know yet
/// (it is fuzzed from a baseline built from its types, sent by the lead's case worker).
fn plan(root: &str, field: &str, fx: &Fixtures) -> Option<(&'static str, Value)> {
    let ag = |u: &str| fx.agency[u].clone();
    let a = &fx.case_a;
    Some(match (root, field) {
        ("Mutation", "acceptReferral") => (
            "it.iom",
            json!({"input": {"referralId": fx.referral_pending}}),
        ),
        ("Mutation", "acceptTransfer") => (
            "ng.focal",
            json!({"input": {"transferId": fx.transfer_offered}}),
        ),
        ("Mutation", "advanceTestClock") => (
            "it.shelter",
            json!({"input": {"days": 0, "hours": 0, "minutes": 0}}),
        ),
        ("Mutation", "approveTransferRequest") => (
            "it.shelter.supervisor",
            json!({"input": {"transferId": fx.transfer_requested, "sharedGroups": ["IDENTITY"]}}),
        ),
        ("Mutation", "breakGlass") => (
            "it.focal",
            json!({"input": {"caseReference": fx.ref_unseen,
            "justification": "The person was admitted to hospital at night; the shelter cannot be reached",
            "minutes": 30}}),
        ),
        ("Mutation", "completeReferral") => (
            "it.police",
            json!({"input": {"referralId": fx.referral_accepted, "successful": true}}),
        ),
        ("Mutation", "createAgency") => (
            "admin",
            json!({"input": {"country": "IT", "kind": "NGO", "name": "Drill Shelter"}}),
        ),
        ("Mutation", "createCheckpoint") => ("auditor", json!({})),
        ("Mutation", "createUser") => (
            "admin",
            json!({"input": {"agencyId": ag("it.shelter"),
            "displayName": "Drill Worker", "roles": ["CASE_WORKER"], "username": "drill.worker"}}),
        ),
        ("Mutation", "declineReferral") => (
            "it.prosecutor",
            json!({"input": {"referralId": fx.referral_to_decline, "reason": "no capacity this month"}}),
        ),
        ("Mutation", "exportCaseFile") => (
            "auditor",
            json!({"input": {"caseId": a, "purposeCategory": "AUDIT",
            "purpose": "annual audit of the mechanism", "recipient": "National Rapporteur"}}),
        ),
        ("Mutation", "fireTransition") => (
            "it.shelter",
            json!({"input": {"caseId": fx.case_fresh,
            "transition": "start_screening", "expectedVersion": 1,
            "data": {"signal_source": "self_report"}, "reason": "drill"}}),
        ),
        ("Mutation", "makeReferral") => (
            "it.shelter.supervisor",
            json!({"input": {"caseId": a,
            "toAgencyId": ag("it.migration"), "service": "LEGAL", "purpose": "residence permit",
            "sharedGroups": ["IDENTITY"]}}),
        ),
        ("Mutation", "markNotificationRead") => (
            "it.iom",
            json!({"input": {"notificationId": fx.notification}}),
        ),
        ("Mutation", "migrateCase") => (
            "it.shelter.supervisor",
            json!({"input": {
            "caseId": fx.case_to_migrate, "toVersion": 2, "expectedVersion": 1,
            "reason": "the amended procedure applies"}}),
        ),
        ("Mutation", "offerTransfer") => (
            "it.shelter.supervisor",
            json!({"input": {"caseId": fx.case_to_offer,
            "toAgencyId": ag("ng.focal"), "sharedGroups": ["IDENTITY"],
            "data": {"nationality_verified": true}}}),
        ),
        ("Mutation", "openCase") => ("it.shelter", json!({"input": {"workflowId": "trm-adult"}})),
        ("Mutation", "recordConsent") => (
            "it.shelter",
            json!({"input": {"caseId": a,
            "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]}}),
        ),
        ("Mutation", "recordMovement") => (
            "it.shelter",
            json!({"input": {"caseId": a,
            "country": "NE", "movedOn": "2025-06-01", "source": "SELF_REPORTED", "place": "Agadez"}}),
        ),
        ("Mutation", "recordPersonalData") => (
            "it.shelter",
            json!({"input": {"caseId": a,
            "group": "IDENTITY", "value": {"names": "Demo Person D"}}}),
        ),
        ("Mutation", "rejectTransfer") => (
            "ng.focal",
            json!({"input": {"transferId": fx.transfer_to_reject, "reason": "no capacity"}}),
        ),
        ("Mutation", "requestTransfer") => (
            "ng.shelter",
            json!({"input": {"caseId": fx.case_to_request, "reason": "she is back in Lagos"}}),
        ),
        ("Mutation", "reviewBreakGlass") => (
            "it.shelter.supervisor",
            json!({"input": {"accessId": fx.break_glass, "justified": true}}),
        ),
        ("Mutation", "revokeReferral") => (
            "it.shelter",
            json!({"input": {"referralId": fx.referral_to_revoke, "reason": "no longer needed"}}),
        ),
        ("Mutation", "revokeTransfer") => (
            "it.shelter",
            json!({"input": {"transferId": fx.transfer_to_revoke, "reason": "plans changed"}}),
        ),
        ("Mutation", "sendFeedback") => (
            "ng.focal",
            json!({"input": {"transferId": fx.transfer_done, "message": "she arrived safely"}}),
        ),
        ("Mutation", "setFocalPoint") => (
            "admin",
            json!({"input": {"agencyId": ag("it.focal"), "country": "IT"}}),
        ),
        ("Mutation", "setOriginCountry") => (
            "it.shelter",
            json!({"input": {"caseId": a, "country": "NG"}}),
        ),
        ("Mutation", "updateAgency") => (
            "admin",
            json!({"input": {"agencyId": ag("it.migration"), "name": "Drill Migration Office"}}),
        ),
        ("Mutation", "withdrawConsent") => (
            "it.shelter",
            json!({"input": {"consentId": fx.consent_spare, "reason": "she changed her mind"}}),
        ),
        ("Query", "agencies") => ("it.shelter", json!({"country": "IT", "kind": "NGO"})),
        ("Query", "auditCheckpoint" | "auditVerification") => ("auditor", json!({})),
        ("Query", "auditEvents") => ("auditor", json!({"filter": {"caseId": a}, "first": 5})),
        ("Query", "case" | "node") => ("it.shelter", json!({"id": a})),
        ("Query", "caseByReference") => ("it.shelter", json!({"reference": fx.ref_a})),
        ("Query", "cases") => (
            "it.shelter",
            json!({"first": 5, "filter": {"status": "ACTIVE"}}),
        ),
        ("Query", "consistencyProof") => ("auditor", json!({"from": 1, "to": 2})),
        ("Query", "country") => ("it.shelter", json!({"code": "IT"})),
        ("Query", "inbox" | "incomingReferrals") => ("it.iom", json!({"first": 5})),
        ("Query", "inclusionProof") => ("auditor", json!({"eventId": fx.event_a})),
        ("Query", "referral") => ("it.iom", json!({"id": fx.referral_pending})),
        ("Query", "transfer") => ("ng.focal", json!({"id": fx.transfer_offered})),
        ("Query", "transfersAwaitingDecision") => ("ng.focal", json!({"first": 5})),
        ("Query", "workflow") => ("it.shelter", json!({"id": "trm-adult", "version": 1})),
        ("Query", "countries" | "me" | "workflows" | "worklist") => ("it.shelter", json!({})),
        _ => return None,
    })
}

/// Who sends the fields with arguments of the object a query returns (`case { asOf(at:) }` ...):
/// auditors may use every field of a case.
fn nested_user(ty: &str, root_user: &'static str) -> &'static str {
    if ty == "Case" { "auditor" } else { root_user }
}

/// Baselines sent at the end: changes that would make a later one fail go last.
const LAST: &[&str] = &["withdrawConsent", "acceptTransfer"];

// ---------------------------------------------------------------------------------------------
// The corpus

/// One way a value is wrong.
struct Fuzz {
    /// Where (`input.caseId`) and how.
    what: String,
    /// The wrong value; `None`: left out.
    value: Option<Value>,
    /// Refused by GraphQL's own input coercion whatever the field: a read must refuse it too
    /// (otherwise a read may answer an odd but well-typed value, e.g. with nothing found).
    typed: bool,
}

struct Generator<'a> {
    sdl: &'a Sdl,
    fx: &'a Fixtures,
    rng: Rng,
    /// Random letters: huge strings are slices of it, so that any echo of them is recognisable.
    pool: String,
    /// Whether the current field still gets a string near the body limit (one per field).
    near_limit: bool,
    now: String,
    /// The field being fuzzed (an argument called `id` names its kind: `case(id:)`).
    field: String,
}

fn at(what: &str, v: Fuzz) -> Fuzz {
    let sep = if v.what.starts_with('[') || v.what.starts_with(':') {
        ""
    } else {
        "."
    };
    Fuzz {
        what: format!("{what}{sep}{}", v.what),
        ..v
    }
}

fn typed(what: &str, value: Value) -> Fuzz {
    Fuzz {
        what: format!(": {what}"),
        value: Some(value),
        typed: true,
    }
}

fn semantic(what: &str, value: Value) -> Fuzz {
    Fuzz {
        what: format!(": {what}"),
        value: Some(value),
        typed: false,
    }
}

fn nested(depth: usize) -> Value {
    let mut v = json!("bottom");
    for _ in 0..depth {
        v = json!({ "n": v });
    }
    v
}

impl Generator<'_> {
    fn kind_of(&self, name: &str) -> Option<&'static str> {
        if name == "id" {
            id_kind(&format!("{}Id", self.field))
        } else {
            id_kind(name)
        }
    }

    fn huge(&mut self, len: usize) -> String {
        let start = self.rng.below(self.pool.len() - len);
        self.pool[start..start + len].to_string()
    }

    /// A value of `ty` that is right for an argument or field called `name`.
    fn default_value(&self, ty: &Type, name: &str, depth: usize) -> Value {
        let fx = self.fx;
        match &ty.base {
            BaseType::List(inner) => json!([self.default_value(inner, name, depth + 1)]),
            BaseType::Named(t) => {
                if let Some(fields) = self.sdl.input_fields(t) {
                    let mut obj = Map::new();
                    for f in fields.iter().map(|f| &f.node).filter(|f| required(f)) {
                        if depth < 4 {
                            let name = f.name.node.as_str();
                            obj.insert(
                                name.into(),
                                self.default_value(&f.ty.node, name, depth + 1),
                            );
                        }
                    }
                    return Value::Object(obj);
                }
                if let Some(values) = self.sdl.enum_values(t) {
                    return json!(values[0]);
                }
                let lower = name.to_ascii_lowercase();
                match t.as_str() {
                    "ID" => json!(match self.kind_of(name) {
                        Some("Agency") => fx.agency["it.migration"].clone(),
                        Some("Referral") => fx.referral_pending.clone(),
                        Some("Transfer") => fx.transfer_offered.clone(),
                        Some("Consent") => fx.consent_spare.clone(),
                        Some("Notification") => fx.notification.clone(),
                        Some("CaseEvent") => fx.event_a.clone(),
                        Some("BreakGlass") => fx.break_glass.clone(),
                        Some("User") => fx.user.clone(),
                        _ => fx.case_a.clone(),
                    }),
                    "String" if lower.contains("countr") || lower == "code" => json!("IT"),
                    "String" if lower.contains("workflow") => json!("trm-adult"),
                    "String" if lower.contains("reference") => json!(fx.ref_a),
                    "String" if lower == "language" => json!("en"),
                    "String" => json!("synthetic drill text"),
                    "Int" if lower.contains("version") => json!(1),
                    "Int" => json!(5),
                    "Float" => json!(1.5),
                    "Boolean" => json!(true),
                    "DateTime" => json!(self.now),
                    "NaiveDate" => json!("2025-06-01"),
                    _ => json!({}),
                }
            }
        }
    }

    /// Every wrong variant of one value of type `ty` (whose right value is `base`), one place
    /// at a time: its own, then those of its fields or first element.
    fn variants(
        &mut self,
        ty: &Type,
        name: &str,
        base: &Value,
        left_out: bool,
        depth: usize,
    ) -> Vec<Fuzz> {
        let mut out = Vec::new();
        if left_out {
            out.push(Fuzz {
                what: ": left out".into(),
                value: None,
                typed: true,
            });
        }
        if !ty.nullable {
            out.push(typed("null for a non-null value", Value::Null));
        }
        match &ty.base {
            BaseType::List(inner) => {
                out.push(typed("an object for a list", json!({ "0": base })));
                let elem = base
                    .as_array()
                    .and_then(|a| a.first().cloned())
                    .unwrap_or_else(|| self.default_value(inner, name, depth));
                if !matches!(inner.base, BaseType::List(_)) {
                    out.push(typed("a list of lists", json!([[elem.clone()]])));
                }
                for v in self.variants(inner, name, &elem, false, depth + 1) {
                    let mut list = base.as_array().cloned().unwrap_or_default();
                    if list.is_empty() {
                        list.push(Value::Null);
                    }
                    list[0] = v.value.clone().unwrap_or(Value::Null);
                    out.push(at(
                        "[0]",
                        Fuzz {
                            value: Some(Value::Array(list)),
                            ..v
                        },
                    ));
                }
            }
            BaseType::Named(t) => {
                if t.as_str() != "JSON" {
                    // Any value is JSON: its own variants say which ones a field refuses.
                    out.push(typed("a list for a single value", json!([base])));
                }
                if let Some(fields) = self.sdl.input_fields(t) {
                    let mut extra = base.as_object().cloned().unwrap_or_default();
                    extra.insert("noSuchField".into(), json!(true));
                    out.push(typed("an unknown input field", Value::Object(extra)));
                    out.push(typed("a string for an input object", json!("text")));
                    if depth < 4 {
                        for f in fields {
                            let f = &f.node;
                            let fname = f.name.node.to_string();
                            let given = base.get(&fname);
                            let fbase = given.cloned().unwrap_or_else(|| {
                                self.default_value(&f.ty.node, &fname, depth + 1)
                            });
                            for v in
                                self.variants(&f.ty.node, &fname, &fbase, required(f), depth + 1)
                            {
                                let mut obj = base.as_object().cloned().unwrap_or_default();
                                match &v.value {
                                    Some(x) => obj.insert(fname.clone(), x.clone()),
                                    None => obj.remove(&fname),
                                };
                                out.push(at(
                                    &fname,
                                    Fuzz {
                                        value: Some(Value::Object(obj)),
                                        ..v
                                    },
                                ));
                            }
                        }
                    }
                } else if let Some(values) = self.sdl.enum_values(t) {
                    out.push(typed("an unknown enum value", json!("NO_SUCH_VALUE")));
                    out.push(typed(
                        "an enum value in lower case",
                        json!(values[0].to_lowercase()),
                    ));
                    out.push(typed("a number for an enum", json!(7)));
                } else {
                    self.scalar_variants(t, name, base, &mut out);
                }
            }
        }
        out
    }

    fn scalar_variants(&mut self, t: &str, name: &str, base: &Value, out: &mut Vec<Fuzz>) {
        let fx = self.fx;
        match t {
            "ID" => {
                let kind = self.kind_of(name);
                let (other, other_id) = if kind == Some("Agency") {
                    ("Case", fx.case_a.clone())
                } else if kind.is_none() {
                    ("Ghost", global_id("Ghost", &self.rng.uuid().to_string()))
                } else {
                    ("Agency", fx.agency["it.shelter"].clone())
                };
                let garbage = URL_SAFE_NO_PAD.encode(self.rng.bytes(24));
                let nothing = global_id(kind.unwrap_or("Ghost"), &self.rng.uuid().to_string());
                let long = self.huge(10 * 1024);
                out.extend([
                    semantic("not base64", json!("@@ not base64 @@")),
                    semantic("base64 of garbage", json!(garbage)),
                    semantic(
                        &format!("the ID of an object of type {other}"),
                        json!(other_id),
                    ),
                    semantic("the ID of nothing", json!(nothing)),
                    semantic("empty", json!("")),
                    semantic("10 kB", json!(long)),
                    semantic("a number", json!(12345)),
                    typed("an object", json!({ "id": base })),
                    typed("a boolean", json!(true)),
                ]);
            }
            "String" => {
                let text = base.as_str().unwrap_or("x");
                let controls: String = (0..4)
                    .map(|_| char::from(b"\x01\x07\x08\x0b\x0c\x1b\x1f\x7f"[self.rng.below(8)]))
                    .collect();
                out.push(semantic("100 kB", json!(self.huge(100 * 1024))));
                if std::mem::take(&mut self.near_limit) {
                    out.push(semantic("near the body limit", json!(self.huge(1_000_000))));
                }
                out.extend([
                    semantic(
                        "NUL and control characters",
                        json!(format!("{text}\u{0}{controls}\u{0}")),
                    ),
                    typed("an invalid surrogate", json!(SURROGATE)),
                    typed("a number", json!(42)),
                    typed("an object", json!({ "text": base })),
                    typed("a boolean", json!(false)),
                ]);
            }
            "Int" => out.extend([
                semantic("-1", json!(-1)),
                semantic("-5", json!(-5)),
                semantic("the smallest Int", json!(i32::MIN)),
                semantic("the largest Int", json!(i32::MAX)),
                // GraphQL's Int has 32 bits, but async-graphql takes 64-bit integers for `i64`/`u64`
                // arguments: a read may answer it.
                semantic("2^40", json!(1_u64 << 40)),
                typed("a fraction", json!(1.5)),
                typed("a string", json!("1")),
            ]),
            "Float" => out.extend([
                typed("a string", json!("1.5")),
                typed("a boolean", json!(true)),
            ]),
            "Boolean" => out.extend([
                typed("a string", json!("true")),
                typed("a number", json!(1)),
            ]),
            "DateTime" => out.extend([
                typed("30 February", json!("2026-02-30T10:00:00Z")),
                typed("year 99999", json!("99999-01-01T00:00:00Z")),
                typed("a word", json!("yesterday")),
                typed("no timezone", json!("2026-01-01T10:00:00")),
                typed("a number", json!(1_767_225_600)),
            ]),
            "NaiveDate" => out.extend([
                typed("30 February", json!("2026-02-30")),
                typed("year 99999", json!("99999-01-01")),
                typed("a word", json!("yesterday")),
                typed("a date and time", json!("2026-01-01T10:00:00Z")),
                typed("a number", json!(20_260_101)),
            ]),
            "JSON" => {
                let with = |key: &str, v: Value| {
                    let mut obj = base.as_object().cloned().unwrap_or_default();
                    obj.insert(key.into(), v);
                    Value::Object(obj)
                };
                let huge = self.huge(100 * 1024);
                out.extend([
                    semantic("nested 100 deep", with("drill", nested(100))),
                    typed(
                        "nested beyond the parser's limit",
                        with("drill", json!(TOO_DEEP)),
                    ),
                    semantic("NUL in a string", with("drill", json!("a\u{0}b\u{1b}c"))),
                    semantic("NUL in a key", with("dr\u{0}ill", json!(1))),
                    semantic("a string", json!("not an object")),
                    semantic("a list", json!([1, 2, 3])),
                ]);
                // A huge value where the baseline has a known key (an unknown key may be
                // legitimately ignored, e.g. a stateMap entry for a state the case is not in).
                if let Some(key) = base.as_object().and_then(|o| o.keys().next()) {
                    out.push(semantic("100 kB in a known key", with(key, json!(huge))));
                }
            }
            _ => out.extend([
                semantic("100 kB", json!(self.huge(100 * 1024))),
                semantic("an object", json!({ "x": base })),
            ]),
        }
    }
}

/// The kind of object an ID argument names, from its name (`toAgencyId` → `Agency`).
fn id_kind(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    let n = n.trim_end_matches('s');
    [
        ("caseid", "Case"),
        ("casefileid", "Case"),
        ("agencyid", "Agency"),
        ("referralid", "Referral"),
        ("transferid", "Transfer"),
        ("consentid", "Consent"),
        ("notificationid", "Notification"),
        ("eventid", "CaseEvent"),
        ("accessid", "BreakGlass"),
        ("actorid", "User"),
    ]
    .into_iter()
    .find(|(suffix, _)| n.ends_with(suffix))
    .map(|(_, kind)| kind)
}

/// One request of the corpus.
struct Probe {
    what: String,
    user: &'static str,
    mutation: bool,
    typed: bool,
    /// A read of an argument that falls back on a default for a value it does not know.
    lenient: bool,
    query: String,
    variables: Value,
    /// Where the answer is in `data` (`["case", "history"]`).
    path: Vec<String>,
}

impl Probe {
    fn body(&self) -> String {
        let body =
            serde_json::to_string(&json!({"query": self.query, "variables": self.variables}))
                .unwrap();
        body.replace(&format!("\"{SURROGATE}\""), "\"a\\ud800b\"")
            .replace(
                &format!("\"{TOO_DEEP}\""),
                &format!("{}{}", "[".repeat(1000), "]".repeat(1000)),
            )
    }
}

/// A field's arguments as variables `$<prefix><name>`: (declarations, arguments).
fn arguments(
    args: &[Positioned<InputValueDefinition>],
    given: &Map<String, Value>,
    prefix: &str,
) -> (Vec<String>, Vec<String>) {
    let mut decls = Vec::new();
    let mut uses = Vec::new();
    for a in args.iter().map(|a| &a.node) {
        let name = a.name.node.as_str();
        if given.contains_key(name) {
            decls.push(format!("${prefix}{name}: {}", a.ty.node));
            uses.push(format!("{name}: ${prefix}{name}"));
        }
    }
    (decls, uses)
}

fn call(name: &str, uses: &[String]) -> String {
    if uses.is_empty() {
        name.to_string()
    } else {
        format!("{name}({})", uses.join(", "))
    }
}

/// The baseline arguments of a field: the plan's, completed with every required one.
fn baseline(
    g: &Generator<'_>,
    args: &[Positioned<InputValueDefinition>],
    given: &Value,
) -> Map<String, Value> {
    let mut out = Map::new();
    for a in args.iter().map(|a| &a.node) {
        let name = a.name.node.to_string();
        if let Some(v) = given.get(&name) {
            let mut v = v.clone();
            fill(g, &a.ty.node, &mut v, 0);
            out.insert(name, v);
        } else if required(a) {
            out.insert(name.clone(), g.default_value(&a.ty.node, &name, 0));
        }
    }
    out
}

/// Adds the required fields a planned input object lacks (a field added to the schema later).
fn fill(g: &Generator<'_>, ty: &Type, v: &mut Value, depth: usize) {
    let (BaseType::Named(t), Some(obj)) = (&ty.base, v.as_object_mut()) else {
        return;
    };
    let Some(fields) = g.sdl.input_fields(t) else {
        return;
    };
    for f in fields.iter().map(|f| &f.node) {
        let name = f.name.node.to_string();
        match obj.get_mut(&name) {
            Some(inner) if depth < 4 => fill(g, &f.ty.node, inner, depth + 1),
            Some(_) => {}
            None if required(f) => {
                obj.insert(name.clone(), g.default_value(&f.ty.node, &name, depth + 1));
            }
            None => {}
        }
    }
}

/// The variants of every argument of `field`: (how, the argument map with it, whether the
/// argument is lenient).
fn argument_variants(
    g: &mut Generator<'_>,
    field: &FieldDefinition,
    base: &Map<String, Value>,
) -> Vec<(Fuzz, Map<String, Value>, bool)> {
    let mut out = Vec::new();
    for a in field.arguments.iter().map(|a| &a.node) {
        let name = a.name.node.to_string();
        let value = base
            .get(&name)
            .cloned()
            .unwrap_or_else(|| g.default_value(&a.ty.node, &name, 0));
        for v in g.variants(&a.ty.node, &name, &value, required(a), 0) {
            let mut args = base.clone();
            match &v.value {
                Some(x) => args.insert(name.clone(), x.clone()),
                None => args.remove(&name),
            };
            out.push((at(&name, v), args, LENIENT.contains(&name.as_str())));
        }
    }
    out
}

/// The whole corpus, and every field's baseline (whether it is planned here, the request).
fn corpus(g: &mut Generator<'_>) -> (Vec<Probe>, Vec<(bool, Probe)>) {
    let sdl = g.sdl;
    let mut probes = Vec::new();
    let mut controls = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (root, op) in [
        (sdl.mutation.clone(), "mutation"),
        (sdl.query.clone(), "query"),
    ] {
        for field in sdl.fields(&root) {
            let field = &field.node;
            let fname = field.name.node.to_string();
            g.field = fname.clone();
            let planned = plan(&root, &fname, g.fx);
            let known = planned.is_some();
            let (user, given) = planned.unwrap_or(("it.shelter", json!({})));
            let base = baseline(g, &field.arguments, &given);
            let selection = sdl.selection(&field.ty.node);
            let text = |args: &Map<String, Value>, extra: &str| {
                let (decls, mut uses) = arguments(&field.arguments, args, "");
                if !extra.is_empty() {
                    uses.push(extra.to_string());
                }
                let decls = if decls.is_empty() {
                    String::new()
                } else {
                    format!("({})", decls.join(", "))
                };
                format!("{op} Drill{decls} {{ {}{selection} }}", call(&fname, &uses))
            };
            let probe = |what: String, typed: bool, args: Map<String, Value>, extra: &str| Probe {
                what,
                user,
                mutation: op == "mutation",
                lenient: false,
                typed,
                query: text(&args, extra),
                variables: Value::Object(args),
                path: vec![fname.clone()],
            };
            controls.push((known, probe(fname.clone(), true, base.clone(), "")));
            probes.push(probe(
                format!("{fname}: an unknown argument"),
                true,
                base.clone(),
                "noSuchArgument: 1",
            ));
            g.near_limit = true;
            for (v, args, lenient) in argument_variants(g, field, &base) {
                let what = format!("{fname}({})", v.what);
                probes.push(Probe {
                    lenient,
                    ..probe(what, v.typed, args, "")
                });
            }
            // One level down: the fields with arguments of what a query returns.
            let ty = base_name(&field.ty.node).to_string();
            if op != "query"
                || !known
                || matches!(field.ty.node.base, BaseType::List(_))
                || !seen.insert(ty.clone())
            {
                continue;
            }
            for inner in sdl
                .fields(&ty)
                .iter()
                .map(|f| &f.node)
                .filter(|f| !f.arguments.is_empty())
            {
                let iname = inner.name.node.to_string();
                let inner_sel = sdl.selection(&inner.ty.node);
                g.near_limit = true;
                let ibase = baseline(g, &inner.arguments, &json!({}));
                for (v, iargs, lenient) in argument_variants(g, inner, &ibase) {
                    let (mut decls, uses) = arguments(&field.arguments, &base, "");
                    let (idecls, iuses) = arguments(&inner.arguments, &iargs, "n_");
                    decls.extend(idecls);
                    let decls = if decls.is_empty() {
                        String::new()
                    } else {
                        format!("({})", decls.join(", "))
                    };
                    let mut vars = base.clone();
                    vars.extend(iargs.into_iter().map(|(k, v)| (format!("n_{k}"), v)));
                    probes.push(Probe {
                        what: format!("{fname} {{ {iname}({}) }}", v.what),
                        user: nested_user(&ty, user),
                        mutation: false,
                        lenient,
                        typed: v.typed,
                        query: format!(
                            "query Drill{decls} {{ {} {{ {}{inner_sel} }} }}",
                            call(&fname, &uses),
                            call(&iname, &iuses)
                        ),
                        variables: Value::Object(vars),
                        path: vec![fname.clone(), iname.clone()],
                    });
                }
            }
        }
    }
    let (mut planned, unplanned): (Vec<_>, Vec<_>) =
        controls.into_iter().partition(|(known, _)| *known);
    planned.sort_by_key(|(_, p)| LAST.iter().position(|l| p.path[0] == *l));
    (probes, planned.into_iter().chain(unplanned).collect())
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

async fn send(s: &TestServer, p: &Probe) -> (StatusCode, Result<Value, String>) {
    let res = s
        .client
        .post(format!("{}/graphql", s.url))
        .header("Authorization", format!("Bearer {}", s.token(p.user)))
        .header("Content-Type", "application/json")
        .body(p.body())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: no answer: {e}", p.what));
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).map_err(|_| text.chars().take(300).collect()),
    )
}

/// The strings of `v` long enough that repeating them would be an echo.
fn long_strings<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) if s.len() > MAX_ECHO => out.push(s),
        Value::Array(a) => a.iter().for_each(|v| long_strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| long_strings(v, out)),
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    v.is_null()
        || v.as_array().is_some_and(Vec::is_empty)
        || v.get("edges")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
}

#[derive(Default)]
struct Verdicts {
    failures: Vec<String>,
    codes: BTreeMap<String, usize>,
    /// Reads of a lenient argument that answered an odd value instead of refusing it.
    answered: Vec<String>,
    /// Reads that answered an odd but well-typed value with nothing found.
    empty: usize,
}

impl Verdicts {
    fn judge(&mut self, p: &Probe, status: StatusCode, body: Result<Value, String>) {
        let what = &p.what;
        let mut fail = |why: String| self.failures.push(format!("{what} (as {}): {why}", p.user));
        if status.is_server_error() {
            fail(format!("HTTP {status}"));
        }
        let body = match body {
            Ok(body) => body,
            Err(text) => return fail(format!("HTTP {status}, not JSON: {text}")),
        };
        let short = || body.to_string().chars().take(400).collect::<String>();
        let errors = body
            .get("errors")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut long = Vec::new();
        long_strings(&p.variables, &mut long);
        for e in &errors {
            match e.pointer("/extensions/code").and_then(Value::as_str) {
                None => fail(format!("an error without extensions.code: {e}")),
                Some(code) if SERVER_FAULTS.contains(&code) => {
                    fail(format!("a server fault: {}", short()))
                }
                Some(code) => *self.codes.entry(code.to_string()).or_default() += 1,
            }
            let text = e.to_string();
            let echoes = long.iter().any(|s| {
                let chars: Vec<char> = s.chars().collect();
                chars
                    .chunks(MAX_ECHO / 2)
                    .collect::<Vec<_>>()
                    .windows(2)
                    .any(|w| {
                        let window: String = w.iter().flat_map(|c| c.iter()).collect();
                        text.contains(&window)
                    })
            });
            if echoes {
                let text: String = text.chars().take(300).collect();
                fail(format!(
                    "the error repeats more than {MAX_ECHO} characters of the input: {text}"
                ));
            }
        }
        let data = p
            .path
            .iter()
            .fold(body.get("data").cloned().unwrap_or(Value::Null), |v, k| {
                v.get(k).cloned().unwrap_or(Value::Null)
            });
        if errors.is_empty() && data.get("__typename").and_then(Value::as_str) == Some(VERDICT) {
            let codes: Vec<&str> = data
                .pointer("/refusals")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("code").and_then(Value::as_str))
                .collect();
            if data.get("allowed") != Some(&Value::Bool(false)) || codes.is_empty() {
                fail(format!("allowed, or refused without a code: {}", short()));
            }
            for code in codes {
                if SERVER_FAULTS.contains(&code) {
                    fail(format!("a server fault: {}", short()));
                }
                *self.codes.entry(code.to_string()).or_default() += 1;
            }
        } else if errors.is_empty() {
            if p.mutation || p.typed {
                fail(format!("accepted (HTTP {status}): {}", short()));
            } else if p.lenient {
                self.answered.push(what.clone());
            } else if is_empty(&data) {
                self.empty += 1;
            } else {
                fail(format!("answered with data: {}", short()));
            }
        } else if p.mutation && !data.is_null() {
            fail(format!("refused but answered too: {}", short()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What must not change

/// Everything the drill could have changed, as the users concerned see it, plus row counts.
async fn snapshot(s: &TestServer, fx: &Fixtures) -> Value {
    let mut snap = Map::new();
    for user in [
        "it.shelter",
        "it.shelter.supervisor",
        "it.iom",
        "it.police",
        "it.prosecutor",
        "it.childprotection",
        "it.migration",
        "it.focal",
        "ng.focal",
        "ng.shelter",
        "admin",
        "auditor",
    ] {
        let body = s
            .gql(
                user,
                "{ cases(first: 100) { edges { node { id version status } } }
                inbox(first: 100) { edges { node { id readAt } } } }",
                json!({}),
            )
            .await;
        snap.insert(format!("user {user}"), body);
    }
    for (id, lead) in &fx.cases {
        let body = s
            .gql(lead, "query($id: ID!) { case(id: $id) { version status originCountry
                leadAgency { id } workflow { id } history(first: 100) { edges { node { id } } }
                consents { id inForce } referrals { id status } transfers { id status feedback { id } }
                route { country movedOn } breakGlassAccesses { id reviewedAt }
                personalData(purpose: \"drill snapshot\") { group recordedAt } } }",
                json!({"id": id}))
            .await;
        snap.insert(format!("case {id}"), body);
    }
    snap.insert("directory".into(), s.gql("admin",
        "{ agencies { id name kind country representedCountry } countries { code focalPoint { id } } }",
        json!({})).await);
    snap.insert(
        "audit".into(),
        s.gql(
            "auditor",
            "{ auditVerification { ok checkedEvents treeSize } }",
            json!({}),
        )
        .await,
    );
    snap.insert("clock".into(), json!(s.clock.now().to_rfc3339()));
    snap.insert("rows".into(), row_counts(s).await);
    Value::Object(snap)
}

/// Rows of the tables a refused change could have touched.
async fn row_counts(s: &TestServer) -> Value {
    use sea_orm::{EntityTrait, PaginatorTrait};
    use trm::store::entities::*;
    let conn = s.app.store.conn();
    macro_rules! counts {
        ($($t:ident),*) => {{
            let mut m = Map::new();
            $( m.insert(stringify!($t).into(), json!($t::Entity::find().count(conn).await.unwrap())); )*
            Value::Object(m)
        }};
    }
    counts!(
        agency,
        user,
        country,
        case,
        case_event,
        case_track,
        case_timer,
        case_access,
        consent,
        referral,
        transfer,
        feedback,
        movement,
        personal_data,
        notification,
        break_glass,
        idempotency_key,
        audit_log
    )
}

fn differences(before: &Value, after: &Value) -> Vec<String> {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return vec![];
    };
    b.iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k}: before {v}, after {}",
                a.get(k).cloned().unwrap_or_default()
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fuzzed_inputs_get_typed_refusals_and_change_nothing() {
    let started = Instant::now();
    // No rate limit: the drill sends a thousand requests as a handful of users.
    let s = TestServer::start_with(HttpOptions {
        rate_limit_per_minute: 0,
        ..HttpOptions::default()
    })
    .await;
    let fx = fixtures(&s).await;
    let seed = std::env::var("TRM_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x7e57_f022);
    let mut rng = Rng(seed);
    let pool: String = (0..1_100_000)
        .map(|_| char::from(b'a' + u8::try_from(rng.below(26)).unwrap()))
        .collect();
    let sdl = Sdl::load();
    let mut g = Generator {
        sdl: &sdl,
        fx: &fx,
        rng,
        pool,
        near_limit: false,
        now: s.clock.now().to_rfc3339(),
        field: String::new(),
    };
    let (probes, controls) = corpus(&mut g);
    let setup = started.elapsed();

    let before = snapshot(&s, &fx).await;
    let mut verdicts = Verdicts::default();
    let server = &s;
    let answers: Vec<_> = futures::stream::iter(&probes)
        .map(|p| async move { (p, send(server, p).await) })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for (p, (status, body)) in answers {
        verdicts.judge(p, status, body);
    }
    let after = snapshot(&s, &fx).await;
    let fuzzed = started.elapsed() - setup;

    let fields = controls.len();
    eprintln!(
        "fuzz drill (seed {seed:#x}): {} requests over {fields} fields in {:.1?} (set-up {:.1?}); codes {:?}",
        probes.len(),
        fuzzed,
        setup,
        verdicts.codes
    );
    eprintln!(
        "{} reads answered an odd but well-typed value with nothing found; {} reads of {LENIENT:?} \
         arguments answered one with their default, e.g. {:?}",
        verdicts.empty,
        verdicts.answered.len(),
        verdicts.answered.first()
    );
    assert!(
        verdicts.failures.is_empty(),
        "{} of {} fuzzed requests were not refused cleanly (seed {seed:#x}):\n{}",
        verdicts.failures.len(),
        probes.len(),
        verdicts
            .failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    let changed = differences(&before, &after);
    assert!(
        changed.is_empty(),
        "refused input changed something:\n{}",
        changed.join("\n")
    );

    // The control: every planned baseline, sent unchanged, succeeds (so each variant above was
    // wrong in exactly one place), and the server still answers.
    let mut invalid = Vec::new();
    for (planned, p) in &controls {
        let (status, body) = send(&s, p).await;
        let body = body.unwrap_or_else(|text| json!({"errors": [text]}));
        if status != StatusCode::OK || body.get("errors").is_some() {
            if *planned {
                invalid.push(format!("{} (as {}): {body}", p.what, p.user));
            } else {
                eprintln!(
                    "no baseline yet for {} (fuzzed from its types): {body}",
                    p.what
                );
            }
        }
    }
    assert!(
        invalid.is_empty(),
        "baselines that no longer succeed (update `plan`):\n{}",
        invalid.join("\n")
    );
    let me = s
        .data("it.shelter", "{ me { user { username } } }", json!({}))
        .await;
    assert_eq!(me["me"]["user"]["username"], "it.shelter");
    s.stop().await;
}
