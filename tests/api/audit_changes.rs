//! The audit requirement, proven from outside: every kind of change to a case appends exactly
//! one leaf per recorded event to the global Merkle log, in the change's own transaction, and a
//! refused change appends nothing.

use crate::harness::{
    TestServer, case_timer, error_code, instant, presumed_victim_data, steps_to_origin_contact,
};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::future::Future;
use trm::audit::merkle::{self, Hash};
use trm::clock::Clock;

/// The audit log as the auditor's verification sees it.
struct AuditLog {
    /// Number of leaves.
    size: i64,
    /// Merkle root of all of them, hex.
    root: String,
}

/// The audit log, read as the auditor; asserts that it verifies and holds exactly one leaf per
/// case event (`treeSize == checkedEvents`).
async fn audit_log(s: &TestServer) -> AuditLog {
    let v = s
        .data(
            "auditor",
            "{ auditVerification { ok firstProblem treeSize checkedEvents root } }",
            json!({}),
        )
        .await["auditVerification"]
        .clone();
    assert_eq!(v["ok"], true, "the audit log verifies: {v}");
    assert_eq!(
        v["treeSize"], v["checkedEvents"],
        "one leaf per case event: {v}"
    );
    AuditLog {
        size: v["treeSize"].as_i64().unwrap(),
        root: v["root"].as_str().unwrap().to_string(),
    }
}

/// The number of leaves in the audit log (see [`audit_log`]).
async fn log_size(s: &TestServer) -> i64 {
    audit_log(s).await.size
}

/// A case's whole history (id, kind, sequence, hash, details of each event), oldest first, as
/// the auditor reads it.
async fn history(s: &TestServer, case_id: &str) -> Vec<Value> {
    let data = s
        .data(
            "auditor",
            "query($id: ID!) { case(id: $id) { history(first: 100) {
                pageInfo { hasNextPage }
                edges { node { id kind sequence hash details } }
            } } }",
            json!({"id": case_id}),
        )
        .await;
    let history = &data["case"]["history"];
    assert_eq!(
        history["pageInfo"]["hasNextPage"], false,
        "the test reads whole histories: {data}"
    );
    history["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// A case's version, as the auditor reads it.
async fn version(s: &TestServer, case_id: &str) -> i64 {
    s.version_and_history("auditor", case_id).await.0
}

fn hash(v: &Value) -> Hash {
    let mut out = [0u8; 32];
    out.copy_from_slice(&hex::decode(v.as_str().expect("hex string")).expect("hex"));
    out
}

/// The global id of the `kind` object whose raw UUID an event's `details` name.
fn global_id(kind: &str, uuid: &Value) -> Value {
    use base64::Engine;
    let uuid = uuid
        .as_str()
        .unwrap_or_else(|| panic!("not a UUID: {uuid}"));
    json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{uuid}")))
}

/// Every `EventKind` the API declares, read through introspection.
async fn declared_event_kinds(s: &TestServer) -> BTreeSet<String> {
    let data = s
        .data(
            "auditor",
            "{ __type(name: \"EventKind\") { enumValues { name } } }",
            json!({}),
        )
        .await;
    data["__type"]["enumValues"]
        .as_array()
        .unwrap_or_else(|| panic!("no EventKind enum: {data}"))
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

/// Runs changes, checks what each one adds to the audit log, and remembers the event kinds it
/// saw recorded.
struct AuditWatch<'s> {
    s: &'s TestServer,
    seen: BTreeSet<String>,
}

impl<'s> AuditWatch<'s> {
    fn new(s: &'s TestServer) -> Self {
        AuditWatch {
            s,
            seen: BTreeSet::new(),
        }
    }

    /// Runs `change` (a GraphQL request; its whole body), which must succeed and record exactly
    /// one event, of `kind`, on `case_id`. Returns the body.
    async fn one(
        &mut self,
        case_id: &str,
        kind: &str,
        change: impl Future<Output = Value>,
    ) -> Value {
        self.recorded(case_id, &[kind], change).await
    }

    /// Runs `change`, which must succeed and record exactly the events `kinds` (in that order) on
    /// `case_id` and nothing anywhere else: the log grows by `kinds.len()`, the case's history
    /// gains exactly those events with its earlier events untouched, and the new leaves, in
    /// order from the old size, are those events. Returns the body.
    async fn recorded(
        &mut self,
        case_id: &str,
        kinds: &[&str],
        change: impl Future<Output = Value>,
    ) -> Value {
        let log = audit_log(self.s).await;
        let before = history(self.s, case_id).await;
        let body = change.await;
        assert!(body.get("errors").is_none(), "the change failed: {body}");
        self.check_new_events(&log, case_id, &before, kinds).await;
        body
    }

    /// Opens a case under `workflow` (latest version when `version` is `None`) as `user`, which
    /// must record exactly one `CASE_OPENED` event as the next leaf. Returns the case's id.
    async fn open(&mut self, user: &str, workflow: &str, version: Option<u32>) -> String {
        let log = audit_log(self.s).await;
        let body = self
            .s
            .gql(
                user,
                "mutation($w: String!, $v: Int) { openCase(input: {workflowId: $w, workflowVersion: $v}) { case { id } } }",
                json!({"w": workflow, "v": version}),
            )
            .await;
        assert!(body.get("errors").is_none(), "openCase: {body}");
        let id = body["data"]["openCase"]["case"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.check_new_events(&log, &id, &[], &["CASE_OPENED"])
            .await;
        id
    }

    /// Fires `steps` (transition, data) in turn as `user` on a case at `version`, each one
    /// `TRANSITION` event and leaf; returns the case's version afterwards.
    async fn fire_all(
        &mut self,
        user: &str,
        case_id: &str,
        mut version: i64,
        steps: &[(&str, Value)],
    ) -> i64 {
        for (transition, data) in steps {
            let body = self
                .one(
                    case_id,
                    "TRANSITION",
                    self.s
                        .fire(user, case_id, transition, version, data.clone()),
                )
                .await;
            version = body["data"]["fireTransition"]["case"]["version"]
                .as_i64()
                .unwrap();
        }
        version
    }

    /// Checks that, since the log was `log` and the case's history `before`, exactly the events
    /// `kinds` were recorded on `case_id` and are the log's new leaves, in order.
    async fn check_new_events(
        &mut self,
        log: &AuditLog,
        case_id: &str,
        before: &[Value],
        kinds: &[&str],
    ) {
        let s = self.s;
        let after_log = audit_log(s).await;
        let after = history(s, case_id).await;
        let n = kinds.len();
        assert_eq!(
            after_log.size,
            log.size + n as i64,
            "{kinds:?}: the log grows by exactly the events recorded"
        );
        assert_eq!(
            after.len(),
            before.len() + n,
            "{kinds:?}: the case's history gains exactly those events: {after:#?}"
        );
        assert_eq!(
            &after[..before.len()],
            before,
            "earlier events are untouched"
        );
        for (i, (event, kind)) in after[before.len()..].iter().zip(kinds).enumerate() {
            assert_eq!(event["kind"], *kind, "event {i} of {kinds:?}: {event}");
            assert_eq!(
                event["sequence"].as_u64(),
                Some((before.len() + i + 1) as u64),
                "{event}"
            );
            let p = s
                .data(
                    "auditor",
                    "query($e: ID!) { inclusionProof(eventId: $e) { position treeSize eventHash leafHash path root } }",
                    json!({"e": event["id"]}),
                )
                .await["inclusionProof"]
                .clone();
            assert_eq!(
                p["position"].as_i64(),
                Some(log.size + i as i64),
                "the new leaf {i} is this {kind} event: {p}"
            );
            assert_eq!(p["treeSize"].as_i64(), Some(after_log.size), "{p}");
            assert_eq!(
                p["eventHash"], event["hash"],
                "the leaf is the event's hash"
            );
            assert_eq!(p["root"], after_log.root.as_str(), "{p}");
            let leaf = merkle::leaf_hash(&hex::decode(event["hash"].as_str().unwrap()).unwrap());
            let path: Vec<Hash> = p["path"].as_array().unwrap().iter().map(hash).collect();
            assert!(
                merkle::verify_inclusion(
                    &leaf,
                    p["position"].as_u64().unwrap(),
                    after_log.size as u64,
                    &path,
                    &hash(&json!(after_log.root)),
                ),
                "the proof of the {kind} event verifies offline against the verified root"
            );
            self.seen.insert(kind.to_string());
        }
    }
}

/// Runs `change` (a GraphQL request; its whole body) and checks it recorded nothing: the log, the
/// case's history and its version are as before. Returns the body for the caller to check why.
async fn nothing_recorded(
    s: &TestServer,
    case_id: &str,
    change: impl Future<Output = Value>,
) -> Value {
    let size = log_size(s).await;
    let before = history(s, case_id).await;
    let v = version(s, case_id).await;
    let body = change.await;
    assert_eq!(log_size(s).await, size, "no leaf added: {body}");
    assert_eq!(history(s, case_id).await, before, "no event added: {body}");
    assert_eq!(
        version(s, case_id).await,
        v,
        "the case is unchanged: {body}"
    );
    body
}

const MIGRATE: &str = "mutation($i: MigrateCaseInput!) { migrateCase(input: $i) { case { version } event { kind } } }";
const PERSONAL_DATA: &str = "mutation($input: RecordPersonalDataInput!) { recordPersonalData(input: $input) { case { version } } }";
const ORIGIN: &str = "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { originCountry } } }";
const MOVEMENT: &str = "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }";
const CONSENT: &str =
    "mutation($input: RecordConsentInput!) { recordConsent(input: $input) { consent { id } } }";
const WITHDRAW: &str = "mutation($input: WithdrawConsentInput!) { withdrawConsent(input: $input) { consent { inForce } } }";
const REFER: &str = "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id status } } }";
const ACCEPT_REFERRAL: &str = "mutation($input: AcceptReferralInput!) { acceptReferral(input: $input) { referral { status } } }";
const FEEDBACK: &str =
    "mutation($input: SendFeedbackInput!) { sendFeedback(input: $input) { feedback { message } } }";
const BREAK_GLASS: &str =
    "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { access { id } } }";
const REVIEW: &str = "mutation($input: ReviewBreakGlassInput!) { reviewBreakGlass(input: $input) { access { justified } } }";
const EXPORT: &str =
    "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) { case { version } } }";
const ADVANCE: &str =
    "mutation($d: Int!) { advanceTestClock(input: {days: $d}) { now firedTimers } }";

/// The steps that take a fresh adult case to the point where the origin country has been
/// contacted (the workflow's transfer step is next), after the opening.
fn steps_to_origin_contacted() -> Vec<(&'static str, Value)> {
    let mut steps = vec![
        ("start_screening", json!({"signal_source": "self_report"})),
        ("record_presumed_victim", presumed_victim_data()),
        (
            "record_assessment",
            json!({"risk_level": "low", "immediate_needs_assessed": true}),
        ),
        ("adopt_safety_plan", json!({"safety_plan_adopted": true})),
    ];
    steps.extend(steps_to_origin_contact());
    steps
}

/// A consent by the person to share `groups` with `agency` for a return and for services.
fn consent_input(case_id: &str, agency: &str, groups: &[&str]) -> Value {
    json!({"input": {"caseId": case_id, "givenBy": "PERSON", "purposes": ["RETURN", "SERVICES"],
        "agencyIds": [agency], "dataGroups": groups}})
}

#[tokio::test]
async fn every_kind_of_change_appends_exactly_its_events_to_the_audit_log() {
    let s = TestServer::start().await;
    let mut w = AuditWatch::new(&s);
    let (lead, supervisor) = ("it.shelter", "it.shelter.supervisor");
    let ng = s.agency_id("ng.shelter").await;

    // A deadline that lapses (the UK reasonable-grounds decision, 5 working days) and its
    // escalation: two events of one transaction, the first time the clock moves.
    let sca = "gb.competent";
    let d = w.open(sca, "trm-uk-nrm", None).await;
    w.fire_all(
        sca,
        &d,
        1,
        &[(
            "refer_to_nrm",
            json!({"is_child": false, "indicators_found": true, "informed_of_nrm": true,
                "consent_to_referral": true}),
        )],
    )
    .await;
    w.recorded(
        &d,
        &["TIMER_ELAPSED", "DEADLINE_ESCALATED"],
        s.gql(sca, ADVANCE, json!({"d": 14})),
    )
    .await;

    // A: an adult case under version 1, moved on, its reflection period elapsing, migrated.
    let a = w.open(lead, "trm-adult", Some(1)).await;
    let v = w
        .fire_all(
            lead,
            &a,
            1,
            &steps_to_origin_contacted()[..4], // to crisis intervention
        )
        .await;
    let timers = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { timers { timer dueAt } } }",
            json!({"id": a}),
        )
        .await;
    let due = instant(&case_timer(&timers["case"], "reflection_period")["dueAt"]);
    let days = (due - s.clock.now()).num_days() + 1;
    let body = w
        .one(
            &a,
            "TIMER_ELAPSED",
            s.gql(lead, ADVANCE, json!({"d": days})),
        )
        .await;
    assert_eq!(body["data"]["advanceTestClock"]["firedTimers"], 1, "{body}");
    let v = v + 1;
    let body = w
        .one(
            &a,
            "WORKFLOW_MIGRATED",
            s.gql(
                supervisor,
                MIGRATE,
                json!({"i": {"caseId": a, "toVersion": 2, "expectedVersion": v,
                    "reason": "all five SOPs apply from now on"}}),
            ),
        )
        .await;
    assert_eq!(
        body["data"]["migrateCase"]["event"]["kind"],
        "WORKFLOW_MIGRATED"
    );

    // The person's data, origin and consent.
    w.one(
        &a,
        "PERSONAL_DATA_RECORDED",
        s.gql(
            lead,
            PERSONAL_DATA,
            json!({"input": {"caseId": a, "group": "IDENTITY", "value": {"names": "Demo Person C"}}}),
        ),
    )
    .await;
    w.one(
        &a,
        "ORIGIN_COUNTRY_SET",
        s.gql(
            lead,
            ORIGIN,
            json!({"input": {"caseId": a, "country": "NG"}}),
        ),
    )
    .await;
    let body = w
        .one(
            &a,
            "CONSENT_RECORDED",
            s.gql(lead, CONSENT, consent_input(&a, &ng, &["IDENTITY"])),
        )
        .await;
    let consent = body["data"]["recordConsent"]["consent"]["id"].clone();

    // A referral made and accepted: one event each.
    let body = w
        .one(
            &a,
            "REFERRAL",
            s.gql(
                lead,
                REFER,
                json!({"input": {"caseId": a, "toAgencyId": ng, "service": "FAMILY_TRACING",
                    "purpose": "trace the family", "sharedGroups": ["IDENTITY"]}}),
            ),
        )
        .await;
    let referral = body["data"]["makeReferral"]["referral"]["id"].clone();
    w.one(
        &a,
        "REFERRAL",
        s.gql(
            "ng.shelter",
            ACCEPT_REFERRAL,
            json!({"input": {"referralId": referral}}),
        ),
    )
    .await;

    // Withdrawing the consent suspends the referral that relies on it: two events, one
    // transaction, two leaves.
    let body = w
        .recorded(
            &a,
            &["CONSENT_WITHDRAWN", "REFERRAL"],
            s.gql(
                lead,
                WITHDRAW,
                json!({"input": {"consentId": consent, "reason": "she changed her mind"}}),
            ),
        )
        .await;
    assert_eq!(body["data"]["withdrawConsent"]["consent"]["inForce"], false);
    let last = history(&s, &a).await.pop().unwrap();
    assert_eq!(last["details"]["action"], "SUSPENDED", "{last}");
    assert_eq!(
        global_id("Referral", &last["details"]["referral"]),
        referral,
        "the suspended referral is the one made above"
    );

    // Break-glass by a focal point without access, and its review by the lead's supervisor.
    let reference = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { reference } }",
            json!({"id": a}),
        )
        .await["case"]["reference"]
        .clone();
    let body = w
        .one(
            &a,
            "BREAK_GLASS",
            s.gql(
                "it.focal",
                BREAK_GLASS,
                json!({"input": {"caseReference": reference,
                    "justification": "Police report the person in hospital, shelter unreachable"}}),
            ),
        )
        .await;
    let access = body["data"]["breakGlass"]["access"]["id"].clone();
    w.one(
        &a,
        "BREAK_GLASS_REVIEWED",
        s.gql(
            supervisor,
            REVIEW,
            json!({"input": {"accessId": access, "justified": true}}),
        ),
    )
    .await;

    // B: a return transfer from Italy to Nigeria, offered, accepted, then feedback.
    let b = w.open(lead, "trm-adult", None).await;
    w.fire_all(lead, &b, 1, &steps_to_origin_contacted()).await;
    w.one(
        &b,
        "CONSENT_RECORDED",
        s.gql(
            lead,
            CONSENT,
            consent_input(&b, &ng, &["IDENTITY", "LEGAL_STATUS"]),
        ),
    )
    .await;
    let body = w
        .one(
            &b,
            "TRANSFER",
            s.offer_transfer(
                lead,
                &b,
                "ng.shelter",
                &["IDENTITY", "LEGAL_STATUS"],
                json!({"nationality_verified": true}),
            ),
        )
        .await;
    let transfer = body["data"]["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = w
        .one(
            &b,
            "TRANSFER_ACCEPTED",
            s.accept_transfer("ng.shelter", &transfer),
        )
        .await;
    assert_eq!(body["data"]["acceptTransfer"]["case"]["access"], "LEAD");
    w.one(
        &b,
        "FEEDBACK_SENT",
        s.gql(
            "ng.shelter",
            FEEDBACK,
            json!({"input": {"transferId": transfer, "message": "Arrived safely."}}),
        ),
    )
    .await;

    // C: a child's route, and the alert along it when she goes missing: the transition and the
    // alert are two events of one transaction.
    let child_lead = "sn.childprotection";
    let c = w.open(child_lead, "trm-child", None).await;
    w.one(
        &c,
        "MOVEMENT_RECORDED",
        s.gql(
            child_lead,
            MOVEMENT,
            json!({"input": {"caseId": c, "country": "ML", "place": "Gao", "movedOn": "2026-02-01",
                "source": "SELF_REPORTED"}}),
        ),
    )
    .await;
    let v = version(&s, &c).await;
    w.recorded(
        &c,
        &["TRANSITION", "ROUTE_ALERTED"],
        s.fire(
            child_lead,
            &c,
            "report_missing",
            v,
            json!({"police_alerted": true, "guardian_alerted": true}),
        ),
    )
    .await;

    // D: an asylum application ends the origin authorities' access in the same change: the
    // transition, the embassy's referral ended, its access ended.
    let d = w.open(lead, "trm-adult", None).await;
    let v = w
        .fire_all(lead, &d, 1, &steps_to_origin_contacted()[..4])
        .await;
    w.one(
        &d,
        "ORIGIN_COUNTRY_SET",
        s.gql(
            lead,
            ORIGIN,
            json!({"input": {"caseId": d, "country": "NG"}}),
        ),
    )
    .await;
    let embassy = s.agency_id("it.embassy.ng").await;
    w.one(
        &d,
        "CONSENT_RECORDED",
        s.gql(lead, CONSENT, consent_input(&d, &embassy, &["IDENTITY"])),
    )
    .await;
    w.one(
        &d,
        "REFERRAL",
        s.gql(
            lead,
            REFER,
            json!({"input": {"caseId": d, "toAgencyId": embassy, "service": "OTHER",
                "purpose": "travel documents", "sharedGroups": ["IDENTITY"]}}),
        ),
    )
    .await;
    w.recorded(
        &d,
        &["TRANSITION", "REFERRAL", "ACCESS_ENDED"],
        s.fire(lead, &d, "record_asylum_application", v + 3, json!({})),
    )
    .await;

    // The same person again: a search is one event on the searcher's case; a link one event on
    // each of the two cases, the finder's first, in one change.
    let finder = "ne.childprotection";
    let e = w.open(finder, "trm-adult", None).await;
    w.one(
        &e,
        "SAME_PERSON_SEARCHED",
        s.gql(
            finder,
            "mutation($input: FindEarlierCasesInput!) { findEarlierCases(input: $input) { found { leadAgency { name } } } }",
            json!({"input": {"caseId": e, "names": "Demo Person", "dateOfBirth": "1999-01-01",
                "purpose": "found again in Niger"}}),
        ),
    )
    .await;
    let earlier = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { reference } }",
            json!({"id": d}),
        )
        .await;
    let log = audit_log(&s).await;
    let before = (history(&s, &e).await, history(&s, &d).await);
    let body = s
        .gql(
            finder,
            "mutation($input: LinkSamePersonInput!) { linkSamePerson(input: $input) { link { id } } }",
            json!({"input": {"caseId": e, "earlierReference": earlier["case"]["reference"]}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let after_log = audit_log(&s).await;
    assert_eq!(after_log.size, log.size + 2, "one leaf per case linked");
    for (i, (id, before)) in [(&e, &before.0), (&d, &before.1)].into_iter().enumerate() {
        let after = history(&s, id).await;
        assert_eq!(
            &after[..before.len()],
            &before[..],
            "earlier events are untouched"
        );
        assert_eq!(after.len(), before.len() + 1, "{after:#?}");
        let event = &after[before.len()];
        assert_eq!(event["kind"], "SAME_PERSON_LINKED", "{event}");
        let p = s
            .data(
                "auditor",
                "query($e: ID!) { inclusionProof(eventId: $e) { position eventHash } }",
                json!({"e": event["id"]}),
            )
            .await["inclusionProof"]
            .clone();
        assert_eq!(p["position"].as_i64(), Some(log.size + i as i64), "{p}");
        assert_eq!(p["eventHash"], event["hash"]);
    }
    w.seen.insert("SAME_PERSON_LINKED".to_string());

    // An export of the case file, by an auditor, for a stated purpose.
    w.one(
        &c,
        "CASE_FILE_EXPORTED",
        s.gql(
            "auditor",
            EXPORT,
            json!({"input": {"caseId": c, "purposeCategory": "AUDIT", "purpose": "annual audit"}}),
        ),
    )
    .await;

    // Every kind the API declares was recorded above: a new kind needs a change here.
    assert_eq!(w.seen, declared_event_kinds(&s).await);
    s.stop().await;
}

#[tokio::test]
async fn a_refused_change_appends_nothing_to_the_audit_log() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let mut w = AuditWatch::new(&s);
    let id = w.open(lead, "trm-adult", None).await;
    let steps = steps_to_origin_contacted();
    let v = w.fire_all(lead, &id, 1, &steps[..1]).await;

    // A transition with a stale version.
    let body = nothing_recorded(
        &s,
        &id,
        s.fire(
            lead,
            &id,
            "record_presumed_victim",
            v - 1,
            presumed_victim_data(),
        ),
    )
    .await;
    assert_eq!(error_code(&body), "VERSION_CONFLICT", "{body}");
    // Any change by an auditor.
    let body = nothing_recorded(
        &s,
        &id,
        s.fire(
            "auditor",
            &id,
            "record_presumed_victim",
            v,
            presumed_victim_data(),
        ),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    // A replayed request (same idempotency key) records nothing a second time.
    let input = json!({"caseId": id, "transition": "record_presumed_victim", "expectedVersion": v,
        "data": presumed_victim_data(), "idempotencyKey": "audit-replay-1"});
    let first = w
        .one(&id, "TRANSITION", s.fire_input(lead, input.clone()))
        .await;
    let again = nothing_recorded(&s, &id, s.fire_input(lead, input)).await;
    assert_eq!(again["data"]["fireTransition"]["replayed"], true, "{again}");
    assert_eq!(
        again["data"]["fireTransition"]["event"]["id"],
        first["data"]["fireTransition"]["event"]["id"]
    );
    let v = first["data"]["fireTransition"]["case"]["version"]
        .as_i64()
        .unwrap();
    w.fire_all(lead, &id, v, &steps[2..]).await;

    // A referral without consent.
    let ng = s.agency_id("ng.shelter").await;
    let body = nothing_recorded(
        &s,
        &id,
        s.gql(
            lead,
            REFER,
            json!({"input": {"caseId": id, "toAgencyId": ng, "service": "REINTEGRATION",
                "purpose": "prepare reintegration", "sharedGroups": ["IDENTITY"]}}),
        ),
    )
    .await;
    assert_eq!(error_code(&body), "CONSENT_REQUIRED", "{body}");
    // Break-glass without a justification, or with a token one.
    let reference = s
        .data(
            lead,
            "query($id: ID!) { case(id: $id) { reference } }",
            json!({"id": id}),
        )
        .await["case"]["reference"]
        .clone();
    for justification in ["", "urgent"] {
        let body = nothing_recorded(
            &s,
            &id,
            s.gql(
                "it.focal",
                BREAK_GLASS,
                json!({"input": {"caseReference": reference, "justification": justification}}),
            ),
        )
        .await;
        assert_eq!(error_code(&body), "VALIDATION", "{body}");
    }
    // An export of the case file without a purpose.
    for input in [
        json!({"caseId": id, "purposeCategory": "AUDIT"}),
        json!({"caseId": id, "purposeCategory": "AUDIT", "purpose": " "}),
    ] {
        let body =
            nothing_recorded(&s, &id, s.gql("auditor", EXPORT, json!({"input": input}))).await;
        assert_eq!(error_code(&body), "VALIDATION", "{body}");
    }
    // Withdrawing a consent twice.
    let body = w
        .one(
            &id,
            "CONSENT_RECORDED",
            s.gql(lead, CONSENT, consent_input(&id, &ng, &["IDENTITY"])),
        )
        .await;
    let consent = body["data"]["recordConsent"]["consent"]["id"].clone();
    w.one(
        &id,
        "CONSENT_WITHDRAWN",
        s.gql(lead, WITHDRAW, json!({"input": {"consentId": consent}})),
    )
    .await;
    let body = nothing_recorded(
        &s,
        &id,
        s.gql(lead, WITHDRAW, json!({"input": {"consentId": consent}})),
    )
    .await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION", "{body}");

    // An acceptance refused after it has already marked the transfer accepted (the workflow's
    // transfer step no longer fires once the return is cancelled): the whole transaction is
    // rolled back, the transfer mark included, and no leaf is appended.
    w.one(
        &id,
        "CONSENT_RECORDED",
        s.gql(lead, CONSENT, consent_input(&id, &ng, &["IDENTITY"])),
    )
    .await;
    let body = w
        .one(
            &id,
            "TRANSFER",
            s.offer_transfer(lead, &id, "ng.shelter", &["IDENTITY"], json!({})),
        )
        .await;
    let transfer = body["data"]["offerTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let v = version(&s, &id).await;
    w.fire_all(
        lead,
        &id,
        v,
        &[(
            "cancel_return",
            json!({"return_cancel_reason": "person_changed_mind"}),
        )],
    )
    .await;
    let body = nothing_recorded(&s, &id, s.accept_transfer("ng.shelter", &transfer)).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION", "{body}");
    let t = s
        .data(
            lead,
            "query($id: ID!) { transfer(id: $id) { status } }",
            json!({"id": transfer}),
        )
        .await;
    assert_eq!(t["transfer"]["status"], "OFFERED", "rolled back: {t}");
    s.stop().await;
}
