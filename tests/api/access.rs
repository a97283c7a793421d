//! Who may see and do what, proven from outside (issue 6): a generated matrix of every query,
//! mutation and subscription against principals of two agencies in two countries, the
//! documented permission matrix, and break-glass.

use crate::harness::{TestServer, error_code};
use crate::subscriptions::WsClient;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Every personal-data group with a canary value nobody may see without a right to it.
pub const GROUPS: [&str; 7] = [
    "IDENTITY",
    "CONTACT",
    "HEALTH",
    "EXPLOITATION_NARRATIVE",
    "LEGAL_STATUS",
    "FAMILY",
    "PERPETRATOR",
];

fn canary(group: &str) -> String {
    format!("canary-{}-zq", group.to_lowercase())
}

/// A selection of everything a case exposes.
const CASE_FIELDS: &str = "id reference country originCountry status version access facts redactedFields
    leadAgency { name } states { track state stage } timers { timer dueAt } deadlines { timer status }
    availableTransitions { key allowed } personalData(purpose: \"access matrix test\") { group value redacted }
    route { country place } referrals { id status sharedGroups } transfers { id status }
    consents { id dataGroups } breakGlassAccesses { justification }
    history(first: 100) { edges { node { id kind reason details data changes } } }";

/// The case, its ids and the principals of the matrix.
struct World {
    s: TestServer,
    case_id: String,
    reference: String,
    event_id: String,
    referral_id: String,
    consent_id: String,
    notification_id: String,
    /// The Nigerian shelter the case is referred to (the receiver the sharing previews name).
    receiver_id: String,
}

async fn world() -> World {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, reference) = s.open_case(lead).await;
    for g in GROUPS {
        let body = s
            .gql(
                lead,
                "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
                json!({"input": {"caseId": case_id, "group": g, "value": {"note": canary(g)}}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let consent_id = s
        .consent_for(lead, &case_id, "ng.shelter", &["IDENTITY"])
        .await;
    let body = s
        .gql(
            lead,
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": case_id, "toAgencyId": s.agency_id("ng.shelter").await, "service": "FAMILY_TRACING", "purpose": "trace the family", "sharedGroups": ["IDENTITY"]}}),
        )
        .await;
    let referral_id = body["data"]["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The referral is answered, so the lead has an inbox entry.
    s.gql(
        "ng.shelter",
        "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { id } } }",
        json!({"input": {"referralId": referral_id}}),
    )
    .await;
    let data = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { history { edges { node { id } } } } inbox { edges { node { id } } } }",
            json!({"id": case_id}),
        )
        .await;
    let event_id = data["case"]["history"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let notification_id = data["inbox"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let receiver_id = s.agency_id("ng.shelter").await;
    World {
        s,
        case_id,
        reference,
        event_id,
        referral_id,
        consent_id,
        notification_id,
        receiver_id,
    }
}

/// The canaries (groups) that appear anywhere in `body`.
fn leaked(body: &Value) -> BTreeSet<&'static str> {
    let text = body.to_string();
    GROUPS
        .into_iter()
        .filter(|g| text.contains(&canary(g)))
        .collect()
}

/// A well-formed id of `kind` that names nothing.
fn nothing(kind: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{kind}:{}", uuid::Uuid::now_v7()))
}

/// Everything a sharing preview answers.
const PREVIEW: &str = "allowed sharedGroups withheldGroups respondWithinDays transition \
    ground { __typename } sharedTexts { field sharedAs } refusals { code message unmetGuards { name reason } }";

/// The read paths of the API that can reach a case, with the variables naming the case (or
/// its event, referral, consent, notification), and the same with ids that name nothing.
fn read_probes(w: &World) -> Vec<(&'static str, String, Value, Value)> {
    let c = CASE_FIELDS;
    vec![
        ("case", format!("query($id: ID!) {{ case(id: $id) {{ {c} }} }}"), json!({"id": w.case_id}), json!({"id": nothing("Case")})),
        ("caseByReference", format!("query($r: String!) {{ caseByReference(reference: $r) {{ {c} }} }}"), json!({"r": w.reference}), json!({"r": "IT-1999-999999"})),
        ("node(Case)", format!("query($id: ID!) {{ node(id: $id) {{ ... on Case {{ {c} }} }} }}"), json!({"id": w.case_id}), json!({"id": nothing("Case")})),
        ("node(CaseEvent)", "query($id: ID!) { node(id: $id) { ... on CaseEvent { id kind reason details data changes } } }".into(), json!({"id": w.event_id}), json!({"id": nothing("CaseEvent")})),
        ("node(Referral)", format!("query($id: ID!) {{ node(id: $id) {{ ... on Referral {{ id purpose sharedGroups case {{ {c} }} }} }} }}"), json!({"id": w.referral_id}), json!({"id": nothing("Referral")})),
        ("referral", format!("query($id: ID!) {{ referral(id: $id) {{ id purpose case {{ {c} }} }} }}"), json!({"id": w.referral_id}), json!({"id": nothing("Referral")})),
        ("node(Consent)", "query($id: ID!) { node(id: $id) { ... on Consent { id dataGroups } } }".into(), json!({"id": w.consent_id}), json!({"id": nothing("Consent")})),
        ("auditEvents", format!("query($id: ID!) {{ auditEvents(filter: {{caseId: $id}}) {{ edges {{ node {{ kind reason details case {{ {c} }} }} }} }} }}"), json!({"id": w.case_id}), json!({"id": nothing("Case")})),
        ("case.disclosures/asOf", "query($id: ID!) { case(id: $id) { disclosures { kind reason sharedGroups } asOf(at: \"2100-01-01T00:00:00Z\") { facts } } }".into(), json!({"id": w.case_id}), json!({"id": nothing("Case")})),
        ("node(Notification)", format!("query($id: ID!) {{ node(id: $id) {{ ... on Notification {{ id kind case {{ {c} }} }} }} }}"), json!({"id": w.notification_id}), json!({"id": nothing("Notification")})),
        ("previewReferral", format!("query($input: MakeReferralInput!) {{ previewReferral(input: $input) {{ {PREVIEW} }} }}"), json!({"input": {"caseId": w.case_id, "toAgencyId": w.receiver_id, "service": "FAMILY_TRACING", "purpose": "probe", "sharedGroups": GROUPS}}), json!({"input": {"caseId": nothing("Case"), "toAgencyId": w.receiver_id, "service": "FAMILY_TRACING", "purpose": "probe", "sharedGroups": GROUPS}})),
        ("previewTransfer", format!("query($input: OfferTransferInput!) {{ previewTransfer(input: $input) {{ {PREVIEW} }} }}"), json!({"input": {"caseId": w.case_id, "toAgencyId": w.receiver_id, "sharedGroups": GROUPS, "reason": "probe"}}), json!({"input": {"caseId": nothing("Case"), "toAgencyId": w.receiver_id, "sharedGroups": GROUPS, "reason": "probe"}})),
    ]
}

/// List paths: their case-shaped results must contain only what the caller may see.
fn list_probes() -> Vec<(&'static str, String)> {
    let c = CASE_FIELDS;
    vec![
        (
            "cases",
            format!("{{ cases(first: 100) {{ edges {{ node {{ {c} }} }} }} }}"),
        ),
        (
            "cases(filter)",
            format!(
                "{{ cases(first: 100, filter: {{status: ACTIVE, stage: IDENTIFICATION}}) {{ edges {{ node {{ {c} }} }} }} }}"
            ),
        ),
        (
            "worklist",
            format!(
                "{{ worklist(first: 100) {{ edges {{ node {{ reason case {{ {c} }} referral {{ purpose }} }} }} }} }}"
            ),
        ),
        (
            "inbox",
            format!(
                "{{ inbox(first: 100) {{ edges {{ node {{ kind case {{ {c} }} referral {{ purpose case {{ {c} }} }} }} }} }} }}"
            ),
        ),
        (
            "incomingReferrals",
            format!(
                "{{ incomingReferrals(first: 100) {{ edges {{ node {{ purpose case {{ {c} }} }} }} }} }}"
            ),
        ),
        (
            "transfersAwaitingDecision",
            format!(
                "{{ transfersAwaitingDecision(first: 100) {{ edges {{ node {{ case {{ {c} }} }} }} }} }}"
            ),
        ),
    ]
}

/// Mutations naming the case (or its referral, consent, notification) as a stranger would try them.
fn mutation_probes(w: &World) -> Vec<(&'static str, &'static str, Value)> {
    let case = &w.case_id;
    vec![
        (
            "fireTransition",
            "FireTransitionInput",
            json!({"caseId": case, "transition": "start_screening", "expectedVersion": 1, "data": {"signal_source": "self_report"}}),
        ),
        (
            "migrateCase",
            "MigrateCaseInput",
            json!({"caseId": case, "toVersion": 2, "expectedVersion": 1, "reason": "probe"}),
        ),
        (
            "recordPersonalData",
            "RecordPersonalDataInput",
            json!({"caseId": case, "group": "IDENTITY", "value": {"note": "x"}}),
        ),
        (
            "setOriginCountry",
            "SetOriginCountryInput",
            json!({"caseId": case, "country": "NG"}),
        ),
        (
            "recordMovement",
            "RecordMovementInput",
            json!({"caseId": case, "country": "NG", "movedOn": "2026-01-01", "source": "OTHER"}),
        ),
        (
            "recordConsent",
            "RecordConsentInput",
            json!({"caseId": case, "givenBy": "PERSON", "purposes": ["SERVICES"], "dataGroups": ["IDENTITY"]}),
        ),
        (
            "withdrawConsent",
            "WithdrawConsentInput",
            json!({"consentId": w.consent_id}),
        ),
        (
            "makeReferral",
            "MakeReferralInput",
            json!({"caseId": case, "toAgencyId": nothing("Agency"), "service": "OTHER", "purpose": "probe", "sharedGroups": ["IDENTITY"]}),
        ),
        (
            "acceptReferral",
            "AcceptReferralInput",
            json!({"referralId": w.referral_id}),
        ),
        (
            "declineReferral",
            "ReferralReasonInput",
            json!({"referralId": w.referral_id, "reason": "probe"}),
        ),
        (
            "completeReferral",
            "CompleteReferralInput",
            json!({"referralId": w.referral_id, "successful": true}),
        ),
        (
            "revokeReferral",
            "ReferralReasonInput",
            json!({"referralId": w.referral_id}),
        ),
        (
            "offerTransfer",
            "OfferTransferInput",
            json!({"caseId": case, "toAgencyId": nothing("Agency"), "sharedGroups": ["IDENTITY"]}),
        ),
        (
            "requestTransfer",
            "RequestTransferInput",
            json!({"caseId": case, "reason": "probe"}),
        ),
        (
            "acceptTransfer",
            "AcceptTransferInput",
            json!({"transferId": nothing("Transfer")}),
        ),
        (
            "rejectTransfer",
            "TransferReasonInput",
            json!({"transferId": nothing("Transfer"), "reason": "probe"}),
        ),
        (
            "revokeTransfer",
            "TransferReasonInput",
            json!({"transferId": nothing("Transfer")}),
        ),
        (
            "approveTransferRequest",
            "ApproveTransferRequestInput",
            json!({"transferId": nothing("Transfer"), "sharedGroups": []}),
        ),
        (
            "sendFeedback",
            "SendFeedbackInput",
            json!({"transferId": nothing("Transfer"), "message": "probe"}),
        ),
        (
            "markNotificationRead",
            "MarkNotificationReadInput",
            json!({"notificationId": w.notification_id}),
        ),
        (
            "reviewBreakGlass",
            "ReviewBreakGlassInput",
            json!({"accessId": nothing("BreakGlassAccess"), "justified": true}),
        ),
        (
            "exportCaseFile",
            "ExportCaseFileInput",
            json!({"caseId": case, "purposeCategory": "AUDIT", "purpose": "probe"}),
        ),
        (
            "linkSamePerson",
            "LinkSamePersonInput",
            json!({"caseId": case, "earlierReference": "IT-1999-999999"}),
        ),
        (
            "findEarlierCases",
            "FindEarlierCasesInput",
            json!({"caseId": case, "names": "Demo Person", "dateOfBirth": "1999-01-01", "purpose": "probe of the access matrix"}),
        ),
    ]
}

/// Root fields that never return case data or act on an existing case, and why.
const NOT_CASE_BOUND: &[(&str, &str)] = &[
    ("me", "the caller only"),
    (
        "auditVerification",
        "auditors only (read_audit); hashes and ids, no case data",
    ),
    ("auditCheckpoint", "auditors only (read_audit); tree heads"),
    ("inclusionProof", "auditors only (read_audit); hashes"),
    ("consistencyProof", "auditors only (read_audit); hashes"),
    (
        "createCheckpoint",
        "auditors only (read_audit); signs a tree head",
    ),
    ("workflows", "definitions, no case data"),
    ("workflow", "definitions, no case data"),
    ("agencies", "the directory"),
    ("countries", "the directory"),
    ("country", "the directory"),
    ("openCase", "creates a new case of the caller's own agency"),
    ("advanceTestClock", "test instances only; moves time"),
    ("createAgency", "the directory (administrators)"),
    ("updateAgency", "the directory (administrators)"),
    ("setFocalPoint", "the directory (administrators)"),
    ("createUser", "the directory (administrators)"),
    (
        "breakGlass",
        "tested on its own below: explicit, recorded access",
    ),
    (
        "childrenOnTheMove",
        "focal points only (account_for_children), tested on its own (children_on_the_move.rs): \
         a case outside the caller's view gives its reference, lead and standing, never the case",
    ),
];

/// The root fields of a schema type in the SDL.
fn root_fields(sdl: &str, ty: &str) -> Vec<String> {
    let start = sdl
        .find(&format!("type {ty} {{"))
        .unwrap_or_else(|| panic!("no type {ty}"));
    let body = &sdl[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    let mut fields = Vec::new();
    let mut depth = 0;
    for line in body.lines() {
        let t = line.trim();
        if depth == 0 && !t.is_empty() && !t.starts_with('"') && !t.starts_with('#') {
            let name: String = t
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                fields.push(name);
            }
        }
        depth += t.matches('(').count() as i32 - t.matches(')').count() as i32;
        if t.starts_with("\"\"\"") && !(t.len() > 3 && t.ends_with("\"\"\"")) {
            // A block description: skip to its end.
            depth += if depth >= 1000 { -1000 } else { 1000 };
        }
    }
    fields
}

#[tokio::test]
async fn every_root_field_is_in_the_access_matrix() {
    let sdl = trm::api::sdl();
    let w_probes = [
        "case",
        "caseByReference",
        "node",
        "referral",
        "transfer",
        "cases",
        "worklist",
        "inbox",
        "incomingReferrals",
        "transfersAwaitingDecision",
        "caseEvents",
        "auditEvents",
        "previewReferral",
        "previewTransfer",
    ];
    let mutation_names: Vec<&str> = [
        "fireTransition",
        "migrateCase",
        "recordPersonalData",
        "setOriginCountry",
        "recordMovement",
        "recordConsent",
        "withdrawConsent",
        "makeReferral",
        "acceptReferral",
        "declineReferral",
        "completeReferral",
        "revokeReferral",
        "offerTransfer",
        "requestTransfer",
        "acceptTransfer",
        "rejectTransfer",
        "revokeTransfer",
        "approveTransferRequest",
        "sendFeedback",
        "markNotificationRead",
        "reviewBreakGlass",
        "exportCaseFile",
        "linkSamePerson",
        "findEarlierCases",
    ]
    .to_vec();
    let classified: BTreeSet<&str> = w_probes
        .iter()
        .chain(mutation_names.iter())
        .copied()
        .chain(NOT_CASE_BOUND.iter().map(|(n, _)| *n))
        .collect();
    let mut missing = Vec::new();
    for ty in ["Query", "Mutation", "Subscription"] {
        let fields = root_fields(&sdl, ty);
        assert!(
            fields.len() >= 2
                && ["case", "fireTransition", "caseEvents"]
                    .iter()
                    .any(|f| fields.iter().any(|x| x == f)),
            "could not read the {ty} fields from the SDL: {fields:?}"
        );
        for f in fields {
            if !classified.contains(f.as_str()) {
                missing.push(format!("{ty}.{f}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "root fields not in the access matrix (tests/api/access.rs): {missing:?}"
    );
}

#[tokio::test]
async fn no_case_or_field_reaches_a_principal_that_may_not_see_it_on_any_path() {
    let w = world().await;
    let s = &w.s;
    // Two agencies in each of two countries, and what each may see of the case.
    let principals: BTreeMap<&str, BTreeSet<&str>> = [
        ("it.shelter", GROUPS.into_iter().collect()),
        ("it.police", BTreeSet::new()),
        ("ng.shelter", ["IDENTITY"].into_iter().collect()),
        ("ng.focal", BTreeSet::new()),
        ("auditor", GROUPS.into_iter().collect()),
    ]
    .into_iter()
    .collect();
    for (user, may_see) in &principals {
        let stranger = may_see.is_empty();
        for (name, query, vars, absent) in read_probes(&w) {
            let body = s.gql(user, &query, vars).await;
            let found = leaked(&body);
            assert!(
                found.is_subset(may_see),
                "{user} via {name} saw {found:?}: {body}"
            );
            if stranger {
                // A case it may not see answers exactly like one that does not exist.
                let other = s.gql(user, &query, absent).await;
                assert_eq!(body, other, "{user} via {name}: existence must not show");
            }
        }
        for (name, query) in list_probes() {
            let body = s.gql(user, &query, json!({})).await;
            assert!(body.get("errors").is_none(), "{user} {name}: {body}");
            let found = leaked(&body);
            assert!(found.is_subset(may_see), "{user} via {name} saw {found:?}");
            if stranger {
                assert!(
                    !body.to_string().contains(&w.reference),
                    "{user} via {name} found the case"
                );
            }
        }
        // The case's events over a subscription.
        let mut ws = WsClient::as_user(s, user).await;
        ws.subscribe(
            "1",
            "subscription($id: ID!) { caseEvents(caseId: $id, afterSequence: 0) { id kind reason details data changes } }",
            json!({"id": w.case_id}),
        )
        .await;
        let first = ws.next_payload("1").await;
        assert!(
            leaked(&first).is_subset(may_see),
            "{user} via caseEvents: {first}"
        );
        let code = &first["errors"][0]["extensions"]["code"];
        if stranger {
            assert_eq!(code, "NOT_FOUND", "{user}: {first}");
        } else if *user == "ng.shelter" {
            assert_eq!(
                code, "FORBIDDEN",
                "the history is not shared with a referral's receiver: {first}"
            );
        } else {
            assert!(first.get("errors").is_none(), "{user}: {first}");
        }
    }
    // Every mutation that names the case, tried by the strangers: refused like a case that does
    // not exist (or forbidden outright), leaking nothing and changing nothing.
    let version = |body: &Value| body["data"]["case"]["version"].as_i64();
    let before = version(
        &s.data(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { version } }",
            json!({"id": w.case_id}),
        )
        .await,
    );
    for user in ["it.police", "ng.focal"] {
        for (name, ty, input) in mutation_probes(&w) {
            let body = s
                .gql(
                    user,
                    &format!(
                        "mutation($input: {ty}!) {{ {name}(input: $input) {{ __typename }} }}"
                    ),
                    json!({"input": input}),
                )
                .await;
            let code = error_code(&body);
            assert!(
                ["NOT_FOUND", "FORBIDDEN"].contains(&code),
                "{user} {name}: {body}"
            );
            assert!(leaked(&body).is_empty(), "{user} {name}: {body}");
        }
    }
    let after = version(
        &s.data(
            "it.shelter",
            "query($id: ID!) { case(id: $id) { version } }",
            json!({"id": w.case_id}),
        )
        .await,
    );
    assert_eq!(before, after, "no probe changed the case");
    w.s.stop().await;
}

#[tokio::test]
async fn redaction_is_the_same_on_every_path() {
    let w = world().await;
    let s = &w.s;
    let user = "ng.shelter";
    let pd = "personalData { group value redacted } redactedFields facts";
    let paths = [
        format!("query($id: ID!) {{ x: case(id: $id) {{ {pd} }} }}"),
        format!("query($id: ID!) {{ x: node(id: $id) {{ ... on Case {{ {pd} }} }} }}"),
        format!("query($r: String!) {{ x: caseByReference(reference: $r) {{ {pd} }} }}"),
    ];
    let mut seen = Vec::new();
    for q in &paths {
        let data = s
            .data(user, q, json!({"id": w.case_id, "r": w.reference}))
            .await;
        seen.push(data["x"].clone());
    }
    let listed = s
        .data(
            user,
            &format!("{{ cases {{ edges {{ node {{ {pd} }} }} }} }}"),
            json!({}),
        )
        .await;
    seen.push(listed["cases"]["edges"][0]["node"].clone());
    let inbox = s
        .data(
            user,
            &format!("{{ incomingReferrals {{ edges {{ node {{ case {{ {pd} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    seen.push(inbox["incomingReferrals"]["edges"][0]["node"]["case"].clone());
    assert!(seen.windows(2).all(|p| p[0] == p[1]), "{seen:#?}");
    let x = &seen[0];
    assert!(x["facts"].is_null());
    for g in x["personalData"].as_array().unwrap() {
        let shared = g["group"] == "IDENTITY";
        assert_eq!(g["redacted"], !shared, "{g}");
        assert_eq!(
            g["value"].is_null(),
            !shared,
            "redacted means null, never silently empty: {g}"
        );
        if !shared {
            let listed = format!("personalData.{}", g["group"].as_str().unwrap());
            assert!(
                x["redactedFields"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(listed))
            );
        }
    }
    w.s.stop().await;
}

#[tokio::test]
async fn the_permission_matrix_in_the_access_docs_is_the_one_the_policies_give() {
    let policies =
        trm::access::policy::Policies::load(&crate::harness::workflows_dir().join("policies"))
            .unwrap_or_else(|e| panic!("{e}"));
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/access.md"),
    )
    .unwrap();
    assert!(
        page.contains(&policies.matrix_markdown()),
        "docs/access.md's permission matrix is out of date: regenerate it with `cargo run -- workflows permissions` and paste it"
    );
}

const BREAK_GLASS: &str = "mutation($input: BreakGlassInput!) { breakGlass(input: $input) {
    access { id expiresAt reviewDueAt justification }
    case { id access facts personalData(purpose: \"emergency: hospital admission\") { group value redacted } history { edges { node { kind } } } }
} }";

#[tokio::test]
async fn break_glass_opens_a_case_for_a_while_is_recorded_notified_and_reviewed() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, reference) = s.open_case(lead).await;
    for g in ["IDENTITY", "HEALTH", "PERPETRATOR"] {
        s.gql(lead, "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
            json!({"input": {"caseId": case_id, "group": g, "value": {"note": canary(g)}}})).await;
    }
    let focal = "it.focal"; // a focal point with no access to this case
    let justification =
        "Police report the person in hospital, unconscious; shelter unreachable at night";
    assert!(
        s.data(
            focal,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({"id": case_id})
        )
        .await["case"]
            .is_null()
    );
    // No justification, or a token one: refused, nothing recorded.
    for j in ["", "urgent"] {
        let body = s
            .gql(
                focal,
                BREAK_GLASS,
                json!({"input": {"caseReference": reference, "justification": j}}),
            )
            .await;
        assert_eq!(error_code(&body), "VALIDATION", "{body}");
    }
    // A case worker may not break the glass.
    let body = s
        .gql(
            "it.police",
            BREAK_GLASS,
            json!({"input": {"caseReference": reference, "justification": justification}}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let (v, _) = s.version_and_history(lead, &case_id).await;

    let body = s.gql(focal, BREAK_GLASS, json!({"input": {"caseReference": reference, "justification": justification, "minutes": 30}})).await;
    let out = &body["data"]["breakGlass"];
    assert_eq!(out["case"]["access"], "BREAK_GLASS", "{body}");
    let text = out.to_string();
    assert!(text.contains(&canary("IDENTITY")));
    assert!(
        !text.contains(&canary("PERPETRATOR")),
        "perpetrator data stays with law enforcement"
    );
    assert!(
        !text.contains(&canary("HEALTH")),
        "a focal point's role does not read health data"
    );
    let access_id = out["access"]["id"].as_str().unwrap().to_string();
    // Recorded on the case, the lead told at once, a review on its supervisor's worklist.
    let (v2, _) = s.version_and_history(lead, &case_id).await;
    assert_eq!(v2, v + 1);
    let data = s.data(lead, "query($id: ID!) { case(id: $id) { history { edges { node { kind reason } } } breakGlassAccesses { justification } } inbox { edges { node { kind case { id } } } } }", json!({"id": case_id})).await;
    let last = data["case"]["history"]["edges"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["node"]
        .clone();
    assert_eq!(last["kind"], "BREAK_GLASS");
    assert_eq!(
        last["reason"], justification,
        "the justification is addressed to the lead, which reviews it"
    );
    assert_eq!(
        data["case"]["breakGlassAccesses"][0]["justification"],
        justification
    );
    assert_eq!(
        data["inbox"]["edges"][0]["node"]["kind"],
        "BREAK_GLASS_USED"
    );
    let work = s
        .data(
            "it.shelter.supervisor",
            "{ worklist { edges { node { reason breakGlassAccess { id } } } } }",
            json!({}),
        )
        .await;
    assert!(
        work["worklist"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["reason"] == "BREAK_GLASS_REVIEW")
    );

    // It lasts 30 minutes.
    s.clock.advance(chrono::Duration::minutes(31));
    assert!(
        s.data(
            focal,
            "query($id: ID!) { case(id: $id) { id } }",
            json!({"id": case_id})
        )
        .await["case"]
            .is_null()
    );

    // The lead's supervisor reviews it (a case worker may not; not justified needs a note).
    let review = "mutation($input: ReviewBreakGlassInput!) { reviewBreakGlass(input: $input) { access { reviewedAt justified reviewNote } } }";
    let body = s
        .gql(
            lead,
            review,
            json!({"input": {"accessId": access_id, "justified": true}}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = s
        .gql(
            "it.shelter.supervisor",
            review,
            json!({"input": {"accessId": access_id, "justified": false}}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let body = s.gql("it.shelter.supervisor", review, json!({"input": {"accessId": access_id, "justified": true, "note": "confirmed with the hospital"}})).await;
    assert_eq!(
        body["data"]["reviewBreakGlass"]["access"]["justified"], true,
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn break_glass_never_lifts_the_asylum_ban() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, reference) = s.open_workflow(lead, "trm-adult", None).await;
    let v = crate::harness::to_crisis_intervention(&s, lead, &case_id).await;
    s.gql(lead, "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { version } } }",
        json!({"input": {"caseId": case_id, "country": "NG"}})).await;
    let body = s
        .fire(
            lead,
            &case_id,
            "record_asylum_application",
            v + 1,
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    // Nigeria's focal point is an authority of her country of origin.
    let body = s.gql("ng.focal", BREAK_GLASS, json!({"input": {"caseReference": reference, "justification": "We were told she is in danger and must act tonight"}})).await;
    assert_eq!(error_code(&body), "LEGAL_BAN", "{body}");
    assert!(
        s.data(
            "ng.focal",
            "query($id: ID!) { case(id: $id) { id } }",
            json!({"id": case_id})
        )
        .await["case"]
            .is_null()
    );
    s.stop().await;
}

#[tokio::test]
async fn reads_of_personal_data_are_logged_with_purpose_and_sensitive_groups_need_one() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let (case_id, _) = s.open_case(lead).await;
    for g in ["IDENTITY", "HEALTH"] {
        s.gql(lead, "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
            json!({"input": {"caseId": case_id, "group": g, "value": {"note": canary(g)}}})).await;
    }
    let read = |purpose: Option<&str>| {
        let arg = purpose
            .map(|p| format!("(purpose: \"{p}\")"))
            .unwrap_or_default();
        format!(
            "query($id: ID!) {{ case(id: $id) {{ personalData{arg} {{ group value purposeRequired }} }} }}"
        )
    };
    // Without a purpose: identity is given, health is withheld (and says why).
    let data = s.data(lead, &read(None), json!({"id": case_id})).await;
    let groups = data["case"]["personalData"].as_array().unwrap().clone();
    let health = groups.iter().find(|g| g["group"] == "HEALTH").unwrap();
    assert!(
        health["value"].is_null() && health["purposeRequired"] == true,
        "{health}"
    );
    assert!(data.to_string().contains(&canary("IDENTITY")));
    // With one, it is given.
    let data = s
        .data(
            lead,
            &read(Some("medical appointment follow-up")),
            json!({"id": case_id}),
        )
        .await;
    assert!(data.to_string().contains(&canary("HEALTH")));
    // Auditors see every read, with reader, agency, purpose and groups; nobody else does.
    let log = "query($id: ID!) { case(id: $id) { accessLog { reader { username } agency { name } readAt purpose groups } } }";
    let body = s.gql(lead, log, json!({"id": case_id})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let entries = s.data("auditor", log, json!({"id": case_id})).await["case"]["accessLog"].clone();
    let entries = entries.as_array().unwrap();
    assert!(entries.len() >= 2, "{entries:?}");
    assert_eq!(entries[0]["purpose"], "medical appointment follow-up");
    assert_eq!(entries[0]["groups"], json!(["IDENTITY", "HEALTH"]));
    assert_eq!(entries[0]["reader"]["username"], lead);
    assert_eq!(entries[1]["purpose"], Value::Null);
    assert_eq!(entries[1]["groups"], json!(["IDENTITY"]));
    s.stop().await;
}
