//! Free text travels with its sensitivity (issue 16): every free text an agency writes on a case
//! reaches exactly the agencies the one rule allows — auditors, the agency that wrote it, the
//! agency it is addressed to, and agencies that may read every data group it was shared as —
//! on every path that shows it.
//!
//! One case story writes a distinctive text into every free-text field: transition reasons
//! (one kept private, one shared as LEGAL_STATUS), a medical referral's purpose and override
//! justification and the health centre's decline, another referral's purpose and completion, a
//! consent's note and its withdrawal, a break-glass justification and its review, a rejected
//! and an accepted transfer of lead to Nigeria (sharing only IDENTITY and LEGAL_STATUS) and the
//! new lead's feedback. Then every agency involved, an uninvolved one and an auditor read every
//! path: what each finds, path by path and altogether, is exactly what the rule allows it.
//!
//! Over the house's 400 lines: the story, the table of who may read what and the probes of every
//! path prove one thing together.

use crate::harness::{TestServer, error_code, presumed_victim_data, steps_to_origin_contact};
use crate::subscriptions::WsClient;
use chrono::Duration;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The texts of the story, each one distinctive (none is part of another).
const T_PRIVATE: &str = "ftzq-01-transition-private";
const T_LEGAL: &str = "ftzq-02-transition-shared-as-legal-status";
const P_IOM: &str = "ftzq-03-legal-referral-purpose";
const C_IOM: &str = "ftzq-04-legal-referral-completion";
const P_MED: &str = "ftzq-05-medical-referral-purpose";
const J_OVERRIDE: &str = "ftzq-06-medical-override-justification";
const D_MED: &str = "ftzq-07-health-centre-decline";
const N_CONSENT: &str = "ftzq-08-consent-assent-missing";
const W_CONSENT: &str = "ftzq-09-consent-withdrawal";
const J_GLASS: &str = "ftzq-10-break-glass-justification (the shelter is unreachable)";
const N_REVIEW: &str = "ftzq-11-break-glass-review-note";
const O_FIRST: &str = "ftzq-12-first-transfer-offer";
const R_REJECT: &str = "ftzq-13-transfer-rejection";
const O_SECOND: &str = "ftzq-14-second-transfer-offer";
const F_FEEDBACK: &str = "ftzq-15-feedback";

const ALL: [&str; 15] = [
    T_PRIVATE, T_LEGAL, P_IOM, C_IOM, P_MED, J_OVERRIDE, D_MED, N_CONSENT, W_CONSENT, J_GLASS,
    N_REVIEW, O_FIRST, R_REJECT, O_SECOND, F_FEEDBACK,
];

const LEAD: &str = "it.shelter";
const SUPERVISOR: &str = "it.shelter.supervisor";
const HEALTH: &str = "it.health";
const IOM: &str = "it.iom";
const FOCAL: &str = "it.focal";
const NIGERIA: &str = "ng.shelter";
const GLASS: &str = "bg.focal";
const STRANGER: &str = "at.shelter";
const AUDITOR: &str = "auditor";

/// Which texts each reader may find, by the rule (the auditor: all of them).
fn allowed(user: &str) -> BTreeSet<&'static str> {
    let texts: &[&str] = match user {
        // The former lead wrote most of them; it is addressed by the health centre's decline,
        // the completion, the rejection, the feedback and the break-glass justification. The
        // consent note is its own, but a former lead sees no consents.
        LEAD => &[
            T_PRIVATE, T_LEGAL, P_IOM, C_IOM, P_MED, J_OVERRIDE, D_MED, W_CONSENT, J_GLASS,
            N_REVIEW, O_FIRST, R_REJECT, O_SECOND, F_FEEDBACK,
        ],
        // The new lead holds IDENTITY and LEGAL_STATUS only: never health, never the former
        // lead's private words.
        NIGERIA => &[
            T_LEGAL, P_IOM, C_IOM, O_FIRST, R_REJECT, O_SECOND, F_FEEDBACK,
        ],
        // The health centre: its referral's purpose and override, its own decline.
        HEALTH => &[P_MED, J_OVERRIDE, D_MED],
        IOM => &[P_IOM, C_IOM],
        // The focal point the overdue medical referral was escalated to: not a party, and its
        // role reads no health data.
        FOCAL => &[],
        // Break-glass reads the history like a lead (all groups but perpetrator, live), but a
        // focal point's role reads no HEALTH: not the decline.
        GLASS => &[
            T_LEGAL, C_IOM, O_FIRST, R_REJECT, O_SECOND, J_GLASS, N_REVIEW,
        ],
        STRANGER => &[],
        AUDITOR => &ALL,
        other => panic!("no reader {other}"),
    };
    texts.iter().copied().collect()
}

/// The texts of the story found in `body`.
fn found(body: &Value) -> BTreeSet<&'static str> {
    let text = body.to_string();
    ALL.into_iter().filter(|t| text.contains(t)).collect()
}

const REFERRAL: &str = "id purpose statusReason redactedFields ground { overrideJustification }";
const TRANSFER: &str = "id statusReason redactedFields ground { overrideJustification }
    feedback { message redactedFields }";
const EVENT: &str = "id kind reason reasonSharedAs redactedFields";

/// Everything a case shows that can carry free text.
fn case_fields() -> String {
    format!(
        "id version access redactedFields
        history(first: 100) {{ edges {{ node {{ {EVENT} }} }} }}
        referrals {{ {REFERRAL} }}
        transfers {{ {TRANSFER} }}
        consents {{ id assentMissingReason redactedFields }}
        breakGlassAccesses {{ id justification reviewNote redactedFields }}"
    )
}

async fn create_health_centre(s: &mut TestServer) {
    let agency = s
        .data(
            "admin",
            "mutation($input: CreateAgencyInput!) { createAgency(input: $input) { agency { id } } }",
            json!({"input": {"name": "Demo Health Centre (Palermo)", "kind": "HEALTH", "country": "IT"}}),
        )
        .await["createAgency"]["agency"]["id"]
        .clone();
    s.data(
        "admin",
        "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
        json!({"input": {"username": HEALTH, "displayName": "Demo Nurse (health centre)",
               "agencyId": agency, "roles": ["CASE_WORKER"]}}),
    )
    .await;
    let token = trm::service::auth::issue_token(&s.app, HEALTH)
        .await
        .unwrap();
    s.tokens.insert(HEALTH.to_string(), token);
}

/// Runs a mutation that must succeed; returns its `data`.
async fn must(s: &TestServer, user: &str, query: &str, input: Value) -> Value {
    s.data(user, query, json!({"input": input})).await
}

/// Fires `transition` as the lead with `extra` input; returns the case's new version.
async fn fire(
    s: &TestServer,
    id: &str,
    version: i64,
    transition: &str,
    data: Value,
    extra: Value,
) -> i64 {
    let mut input =
        json!({"caseId": id, "transition": transition, "expectedVersion": version, "data": data});
    if let (Some(i), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        i.extend(e.clone());
    }
    let body = s.fire_input(LEAD, input).await;
    assert!(body.get("errors").is_none(), "{transition}: {body}");
    body["data"]["fireTransition"]["case"]["version"]
        .as_i64()
        .unwrap()
}

/// Reads `ws`'s inbox subscription up to the next entry of `kind`; returns it and the texts
/// found in every entry read.
async fn next_of_kind(ws: &mut WsClient, kind: &str) -> (Value, BTreeSet<&'static str>) {
    let mut seen = BTreeSet::new();
    loop {
        let got = ws.next_payload("in").await;
        assert!(got.get("errors").is_none(), "{got}");
        seen.extend(found(&got));
        if got["data"]["inbox"]["kind"] == kind {
            return (got, seen);
        }
    }
}

/// The ids the story produced (to read each object by id).
struct Story {
    case_id: String,
    reference: String,
    referrals: Vec<String>,
    transfers: Vec<String>,
    consents: Vec<String>,
    /// What each reader found over subscriptions while the story ran.
    live: BTreeMap<&'static str, BTreeSet<&'static str>>,
}

const MAKE_REFERRAL: &str = "mutation($input: MakeReferralInput!) { makeReferral(input: $input) {
    referral { id purpose redactedFields ground { overrideJustification } } } }";
const OFFER: &str = "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) {
    transfer { id } } }";

async fn story(s: &mut TestServer) -> Story {
    create_health_centre(s).await;
    let s = &*s;
    let mut live = BTreeMap::new();
    // The lead NGO in Italy: one reason kept private, one shared as LEGAL_STATUS.
    let (id, reference) = s.open_workflow(LEAD, "trm-adult", None).await;
    let mut v = fire(
        s,
        &id,
        1,
        "start_screening",
        json!({"signal_source": "self_report"}),
        json!({"reason": T_PRIVATE}),
    )
    .await;
    // Sharing a reason needs a reason.
    let body = s
        .fire_input(
            LEAD,
            json!({"caseId": id, "transition": "record_presumed_victim", "expectedVersion": v,
            "data": presumed_victim_data(), "reasonSharedAs": ["LEGAL_STATUS"]}),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let body = s
        .fire_input(
            LEAD,
            json!({"caseId": id, "transition": "record_presumed_victim", "expectedVersion": v,
            "data": presumed_victim_data(), "reason": T_LEGAL, "reasonSharedAs": ["LEGAL_STATUS"]}),
        )
        .await;
    let event = &body["data"]["fireTransition"]["event"];
    assert_eq!(event["reason"], T_LEGAL, "{body}");
    v = body["data"]["fireTransition"]["case"]["version"]
        .as_i64()
        .unwrap();
    for (t, d) in [
        (
            "record_assessment",
            json!({"risk_level": "low", "immediate_needs_assessed": true}),
        ),
        ("adopt_safety_plan", json!({"safety_plan_adopted": true})),
    ]
    .into_iter()
    .chain(steps_to_origin_contact())
    {
        v = fire(s, &id, v, t, d, json!({})).await;
    }
    for (group, value) in [
        ("IDENTITY", json!({"names": "Demo Person F"})),
        ("LEGAL_STATUS", json!({"residence": "none"})),
        ("HEALTH", json!({"notes": "synthetic"})),
    ] {
        must(s, LEAD, "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }",
            json!({"caseId": id, "group": group, "value": value})).await;
    }

    // A legal referral to IOM sharing IDENTITY, accepted and completed with a reason.
    s.consent_for(LEAD, &id, IOM, &["IDENTITY"]).await;
    let iom = s.agency_id(IOM).await;
    let data = must(
        s,
        LEAD,
        MAKE_REFERRAL,
        json!({"caseId": id, "toAgencyId": iom, "service": "LEGAL",
        "purpose": P_IOM, "sharedGroups": ["IDENTITY"]}),
    )
    .await;
    let r_iom = data["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    must(s, IOM, "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { id } } }",
        json!({"referralId": r_iom})).await;
    let data = must(s, IOM, "mutation($input: CompleteReferralInput!) { completeReferral(input: $input) { referral { statusReason } } }",
        json!({"referralId": r_iom, "successful": true, "reason": C_IOM})).await;
    assert_eq!(data["completeReferral"]["referral"]["statusReason"], C_IOM);

    // A medical referral to the health centre sharing HEALTH, without consent (an override):
    // the health centre is told over its inbox subscription, purpose and all.
    let mut health_inbox = WsClient::as_user(s, HEALTH).await;
    health_inbox
        .subscribe(
            "in",
            &format!("subscription {{ inbox {{ kind referral {{ {REFERRAL} }} }} }}"),
            json!({}),
        )
        .await;
    health_inbox.barrier().await;
    let centre = s.agency_id(HEALTH).await;
    let data = must(
        s,
        SUPERVISOR,
        MAKE_REFERRAL,
        json!({"caseId": id, "toAgencyId": centre, "service": "MEDICAL",
        "purpose": P_MED, "sharedGroups": ["HEALTH"], "respondWithinDays": 1,
        "override": {"basis": "VITAL_INTERESTS", "justification": J_OVERRIDE}}),
    )
    .await;
    let r_med = data["makeReferral"]["referral"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (got, seen) = next_of_kind(&mut health_inbox, "REFERRAL_RECEIVED").await;
    assert_eq!(got["data"]["inbox"]["referral"]["purpose"], P_MED, "{got}");
    live.insert(HEALTH, seen);

    // Unanswered: escalated to Italy's focal point, which learns that it is overdue, not why
    // it was made.
    let mut focal_inbox = WsClient::as_user(s, FOCAL).await;
    focal_inbox
        .subscribe(
            "in",
            &format!("subscription {{ inbox {{ kind referral {{ {REFERRAL} }} }} }}"),
            json!({}),
        )
        .await;
    focal_inbox.barrier().await;
    s.clock.advance(Duration::days(2));
    trm::service::timers::fire_due(&s.app).await.unwrap();
    let (got, seen) = next_of_kind(&mut focal_inbox, "RESPONSE_OVERDUE").await;
    let r = &got["data"]["inbox"]["referral"];
    assert!(r["purpose"].is_null(), "{got}");
    assert_eq!(
        r["redactedFields"],
        json!(["purpose", "ground.overrideJustification"]),
        "{got}"
    );
    live.insert(FOCAL, seen);

    // The health centre declines, with a reason.
    let data = must(s, HEALTH, "mutation($input: ReferralReasonInput!) { declineReferral(input: $input) { referral { statusReason } } }",
        json!({"referralId": r_med, "reason": D_MED})).await;
    assert_eq!(data["declineReferral"]["referral"]["statusReason"], D_MED);

    // A consent with a note (a guardian's, without the assent), then withdrawn with a reason.
    let police = s.agency_id("it.police").await;
    let data = must(s, LEAD, "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id assentMissingReason } } }",
        json!({"caseId": id, "givenBy": "GUARDIAN", "childAssent": false, "assentMissingReason": N_CONSENT,
               "purposes": ["SERVICES"], "agencyIds": [police], "dataGroups": ["FAMILY"]})).await;
    let consent = &data["recordConsent"]["consent"];
    assert_eq!(
        consent["assentMissingReason"], N_CONSENT,
        "the writer reads its note"
    );
    let consent_id = consent["id"].as_str().unwrap().to_string();
    must(s, LEAD, "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { id } } }",
        json!({"consentId": consent_id, "reason": W_CONSENT})).await;

    // Bulgaria's focal point breaks the glass; the lead's supervisor reads why on its worklist
    // and reviews it with a note.
    s.clock.advance(Duration::minutes(1));
    let data = must(s, GLASS, "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { access { id justification } } }",
        json!({"caseReference": reference, "justification": J_GLASS})).await;
    let access = data["breakGlass"]["access"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(data["breakGlass"]["access"]["justification"], J_GLASS);
    let work = s
        .data(
            SUPERVISOR,
            "{ worklist { edges { node { reason breakGlassAccess { id justification } } } } }",
            json!({}),
        )
        .await;
    assert!(
        work["worklist"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| { e["node"]["breakGlassAccess"]["justification"] == J_GLASS }),
        "the reviewer reads the justification: {work}"
    );
    let data = must(s, SUPERVISOR, "mutation($input: ReviewBreakGlassInput!) { reviewBreakGlass(input: $input) { access { reviewNote } } }",
        json!({"accessId": access, "justified": false, "note": N_REVIEW})).await;
    assert_eq!(data["reviewBreakGlass"]["access"]["reviewNote"], N_REVIEW);

    // The lead goes to Nigeria, sharing IDENTITY and LEGAL_STATUS only: a first offer rejected
    // with a reason, a second accepted.
    s.clock.advance(Duration::minutes(1));
    s.consent_for(LEAD, &id, NIGERIA, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    let nigeria = s.agency_id(NIGERIA).await;
    let offer = |reason: &str| {
        json!({"caseId": id, "toAgencyId": nigeria, "sharedGroups": ["IDENTITY", "LEGAL_STATUS"],
        "data": {"nationality_verified": true}, "reason": reason})
    };
    let data = must(s, LEAD, OFFER, offer(O_FIRST)).await;
    let t_first = data["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let data = must(s, NIGERIA, "mutation($input: TransferReasonInput!) { rejectTransfer(input: $input) { transfer { statusReason } } }",
        json!({"transferId": t_first, "reason": R_REJECT})).await;
    assert_eq!(data["rejectTransfer"]["transfer"]["statusReason"], R_REJECT);
    s.clock.advance(Duration::minutes(1));
    let data = must(s, LEAD, OFFER, offer(O_SECOND)).await;
    let t_second = data["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = s.accept_transfer(NIGERIA, &t_second).await;
    assert_eq!(
        body["data"]["acceptTransfer"]["case"]["access"], "LEAD",
        "{body}"
    );

    // The new lead's feedback reaches the former lead over its inbox subscription.
    s.clock.advance(Duration::minutes(1));
    let mut lead_inbox = WsClient::as_user(s, LEAD).await;
    lead_inbox
        .subscribe(
            "in",
            &format!("subscription {{ inbox {{ kind transfer {{ {TRANSFER} }} }} }}"),
            json!({}),
        )
        .await;
    lead_inbox.barrier().await;
    let data = must(s, NIGERIA, "mutation($input: SendFeedbackInput!) { sendFeedback(input: $input) { feedback { message } } }",
        json!({"transferId": t_second, "message": F_FEEDBACK})).await;
    assert_eq!(data["sendFeedback"]["feedback"]["message"], F_FEEDBACK);
    let (got, seen) = next_of_kind(&mut lead_inbox, "FEEDBACK_RECEIVED").await;
    assert!(found(&got).contains(F_FEEDBACK), "{got}");
    live.insert(LEAD, seen);

    Story {
        case_id: id,
        reference,
        referrals: vec![r_iom, r_med],
        transfers: vec![t_first, t_second],
        consents: vec![consent_id],
        live,
    }
}

/// Every read path, as (name, query, variables): the case's own paths, each object by id, the
/// lists, and the auditors' views.
fn paths(w: &Story, events: &[String]) -> Vec<(String, String, Value)> {
    let c = case_fields();
    let mut out = vec![
        (
            "case".to_string(),
            format!("query($id: ID!) {{ case(id: $id) {{ {c} }} }}"),
            json!({"id": w.case_id}),
        ),
        (
            "caseByReference".into(),
            format!("query($r: String!) {{ caseByReference(reference: $r) {{ {c} }} }}"),
            json!({"r": w.reference}),
        ),
        (
            "cases".into(),
            format!("{{ cases(first: 100) {{ edges {{ node {{ {c} }} }} }} }}"),
            json!({}),
        ),
        (
            "node(Case)".into(),
            format!("query($id: ID!) {{ node(id: $id) {{ ... on Case {{ {c} }} }} }}"),
            json!({"id": w.case_id}),
        ),
        (
            "inbox".into(),
            format!(
                "{{ inbox(first: 100) {{ edges {{ node {{ kind referral {{ {REFERRAL} }} transfer {{ {TRANSFER} }} }} }} }} }}"
            ),
            json!({}),
        ),
        (
            "worklist".into(),
            format!(
                "{{ worklist(first: 100) {{ edges {{ node {{ reason referral {{ {REFERRAL} }} transfer {{ {TRANSFER} }} breakGlassAccess {{ justification reviewNote redactedFields }} }} }} }} }}"
            ),
            json!({}),
        ),
        (
            "incomingReferrals".into(),
            format!("{{ incomingReferrals(first: 100) {{ edges {{ node {{ {REFERRAL} }} }} }} }}"),
            json!({}),
        ),
        (
            "transfersAwaitingDecision".into(),
            format!(
                "{{ transfersAwaitingDecision(first: 100) {{ edges {{ node {{ {TRANSFER} }} }} }} }}"
            ),
            json!({}),
        ),
    ];
    for r in &w.referrals {
        out.push((
            "referral".into(),
            format!("query($id: ID!) {{ referral(id: $id) {{ {REFERRAL} }} }}"),
            json!({"id": r}),
        ));
        out.push((
            "node(Referral)".into(),
            format!("query($id: ID!) {{ node(id: $id) {{ ... on Referral {{ {REFERRAL} }} }} }}"),
            json!({"id": r}),
        ));
    }
    for t in &w.transfers {
        out.push((
            "transfer".into(),
            format!("query($id: ID!) {{ transfer(id: $id) {{ {TRANSFER} }} }}"),
            json!({"id": t}),
        ));
        out.push((
            "node(Transfer)".into(),
            format!("query($id: ID!) {{ node(id: $id) {{ ... on Transfer {{ {TRANSFER} }} }} }}"),
            json!({"id": t}),
        ));
    }
    for consent in &w.consents {
        out.push(("node(Consent)".into(), "query($id: ID!) { node(id: $id) { ... on Consent { assentMissingReason redactedFields } } }".into(), json!({"id": consent})));
    }
    for e in events {
        out.push((
            "node(CaseEvent)".into(),
            format!("query($id: ID!) {{ node(id: $id) {{ ... on CaseEvent {{ {EVENT} }} }} }}"),
            json!({"id": e}),
        ));
    }
    // Auditors only (refused to anyone else).
    out.push(("auditEvents".into(), format!("query($id: ID!) {{ auditEvents(filter: {{caseId: $id}}, first: 100) {{ edges {{ node {{ {EVENT} }} }} }} }}"), json!({"id": w.case_id})));
    out.push(("asOf/disclosures".into(), format!("query($id: ID!) {{ case(id: $id) {{ asOf(at: \"2100-01-01T00:00:00Z\") {{ lastEvent {{ {EVENT} }} }} disclosures {{ reason overrideJustification }} }} }}"), json!({"id": w.case_id})));
    out
}

/// The case's events as `user` receives them over `caseEvents` (as many as its history shows).
async fn subscribed_events(s: &TestServer, user: &str, case_id: &str, shown: usize) -> Value {
    let mut ws = WsClient::as_user(s, user).await;
    ws.subscribe(
        "ev",
        &format!(
            "subscription($id: ID!) {{ caseEvents(caseId: $id, afterSequence: 0) {{ {EVENT} }} }}"
        ),
        json!({"id": case_id}),
    )
    .await;
    let mut out = Vec::new();
    for _ in 0..shown.max(1) {
        let payload = ws.next_payload("ev").await;
        let failed = payload.get("errors").is_some();
        out.push(payload);
        if failed {
            break;
        }
    }
    Value::Array(out)
}

#[tokio::test]
async fn every_free_text_reaches_exactly_the_agencies_the_rule_allows_on_every_path() {
    let mut s = TestServer::start().await;
    let w = story(&mut s).await;
    let s = s;
    let events: Vec<String> = s
        .data(
            AUDITOR,
            "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node { id } } } } }",
            json!({"id": w.case_id}),
        )
        .await["case"]["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect();
    let readers = [LEAD, NIGERIA, HEALTH, IOM, FOCAL, GLASS, STRANGER, AUDITOR];
    for user in readers {
        let may = allowed(user);
        let mut seen: BTreeSet<&str> = w.live.get(user).cloned().unwrap_or_default();
        assert!(seen.is_subset(&may), "{user} over inbox saw {seen:?}");
        for (name, query, vars) in paths(&w, &events) {
            let body = s.gql(user, &query, vars).await;
            if user == AUDITOR || !["auditEvents", "asOf/disclosures"].contains(&name.as_str()) {
                assert!(body.get("errors").is_none(), "{user} {name}: {body}");
            }
            let got = found(&body);
            let beyond: BTreeSet<_> = got.difference(&may).collect();
            assert!(
                beyond.is_empty(),
                "{user} via {name} read {beyond:?}: {body}"
            );
            seen.extend(got);
        }
        // The case's events over a subscription, as many as the history shows the reader.
        let shown = s.gql(user, "query($id: ID!) { case(id: $id) { history(first: 100) { edges { node { id } } } } }", json!({"id": w.case_id})).await;
        let shown = shown["data"]["case"]["history"]["edges"]
            .as_array()
            .map_or(0, Vec::len);
        let body = subscribed_events(&s, user, &w.case_id, shown).await;
        let got = found(&body);
        let beyond: BTreeSet<_> = got.difference(&may).collect();
        assert!(
            beyond.is_empty(),
            "{user} via caseEvents read {beyond:?}: {body}"
        );
        seen.extend(got);
        assert_eq!(
            seen, may,
            "{user}: what it read altogether, against the rule"
        );
    }

    // Where a text is withheld, the object says so.
    let ng = s
        .data(
            NIGERIA,
            &format!(
                "query($id: ID!) {{ case(id: $id) {{ {} }} }}",
                case_fields()
            ),
            json!({"id": w.case_id}),
        )
        .await["case"]
        .clone();
    let medical = ng["referrals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == w.referrals[1].as_str())
        .unwrap();
    assert!(
        medical["purpose"].is_null() && medical["statusReason"].is_null(),
        "{medical}"
    );
    assert_eq!(
        medical["redactedFields"],
        json!(["purpose", "statusReason", "ground.overrideJustification"])
    );
    let history: Vec<&Value> = ng["history"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let legal = history.iter().find(|e| e["reason"] == T_LEGAL).unwrap();
    assert_eq!(legal["reasonSharedAs"], json!(["LEGAL_STATUS"]));
    let opened = history.iter().find(|e| e["kind"] == "TRANSITION").unwrap();
    assert!(opened["reason"].is_null(), "{opened}");
    assert_eq!(opened["redactedFields"], json!(["reason"]));
    let declined = history
        .iter()
        .filter(|e| e["kind"] == "REFERRAL")
        .find(|e| e["redactedFields"] == json!(["reason"]))
        .unwrap();
    assert_eq!(declined["reasonSharedAs"], json!(["HEALTH"]));
    let note = ng["consents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == w.consents[0].as_str())
        .unwrap();
    assert_eq!(
        note["redactedFields"],
        json!(["assentMissingReason"]),
        "{note}"
    );
    assert!(note["assentMissingReason"].is_null());
    assert_eq!(
        ng["breakGlassAccesses"][0]["redactedFields"],
        json!(["justification", "reviewNote"])
    );
    // What a reader sees in full lists nothing withheld.
    let health = s
        .data(
            HEALTH,
            &format!("query($id: ID!) {{ referral(id: $id) {{ {REFERRAL} }} }}"),
            json!({"id": w.referrals[1]}),
        )
        .await;
    assert_eq!(health["referral"]["redactedFields"], json!([]));
    assert_eq!(health["referral"]["purpose"], P_MED);

    // The case file an auditor exports holds every text; nobody else may export it.
    let export = "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) { caseFile { document printable } } }";
    let input = json!({"input": {"caseId": w.case_id, "purposeCategory": "OVERSIGHT", "purpose": "free-text test"}});
    let body = s.gql(NIGERIA, export, input.clone()).await;
    assert!(found(&body).is_empty(), "{body}");
    assert!(body.get("errors").is_some(), "{body}");
    let file = s.data(AUDITOR, export, input).await;
    let document = &file["exportCaseFile"]["caseFile"]["document"];
    let events_and_disclosures: BTreeSet<&str> = found(document);
    for t in [
        T_PRIVATE, T_LEGAL, P_IOM, C_IOM, P_MED, J_OVERRIDE, D_MED, W_CONSENT, J_GLASS, N_REVIEW,
        O_FIRST, R_REJECT, O_SECOND,
    ] {
        assert!(
            events_and_disclosures.contains(t),
            "{t} is in the case file"
        );
    }
    let printable = &file["exportCaseFile"]["caseFile"]["printable"];
    assert!(found(printable).contains(D_MED));
    s.stop().await;
}
