//! What auditors read: the case as of any moment, event search across cases, the disclosures
//! of a case, and the case file with proofs that verifies offline (and fails when edited).

use crate::audit::trm;
use crate::cross_border::case_ready_for_transfer;
use crate::harness::{TestServer, error_code, steps_to_origin_contact, to_crisis_intervention};
use serde_json::{Value, json};

/// The fields of a case that the as-of view must reproduce.
const SHOWN: &str = "version status leadAgency { name } originCountry updatedAt
    states { track state stage terminal enteredAt } facts
    timers { timer status startedAt dueAt stoppedAt }
    workflow { key version }";

/// Moves the test clock on by `days`; returns the new time.
async fn advance(s: &TestServer, days: u32) -> String {
    s.data(
        "it.shelter",
        "mutation($d: Int!) { advanceTestClock(input: {days: $d}) { now } }",
        json!({"d": days}),
    )
    .await["advanceTestClock"]["now"]
        .as_str()
        .expect("now")
        .to_string()
}

/// The case as the auditor sees it now.
async fn shown(s: &TestServer, id: &str) -> Value {
    s.data(
        "auditor",
        &format!("query($id: ID!) {{ case(id: $id) {{ {SHOWN} }} }}"),
        json!({"id": id}),
    )
    .await["case"]
        .clone()
}

/// The case as of `at`, as the auditor asks for it.
async fn as_of(s: &TestServer, id: &str, at: &str) -> Value {
    s.data(
        "auditor",
        &format!("query($id: ID!, $at: DateTime!) {{ case(id: $id) {{ asOf(at: $at) {{ {SHOWN} lastEvent {{ sequence }} }} }} }}"),
        json!({"id": id, "at": at}),
    )
    .await["case"]["asOf"]
        .clone()
}

/// Fires `transition` as `user` at the case's current version; returns the new version.
async fn fire(s: &TestServer, user: &str, id: &str, transition: &str, data: Value) -> i64 {
    let version = shown(s, id).await["version"].as_i64().expect("version");
    let body = s.fire(user, id, transition, version, data).await;
    assert!(body.get("errors").is_none(), "{transition}: {body}");
    body["data"]["fireTransition"]["case"]["version"]
        .as_i64()
        .expect("version")
}

#[tokio::test]
async fn the_case_as_of_any_moment_matches_what_the_api_showed_then() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    // The test clock stands still between moves: each look is a moment of its own.
    let before_opening = advance(&s, 1).await;
    advance(&s, 1).await;
    let (id, _) = s.open_workflow(lead, "trm-adult", None).await;
    let mut seen: Vec<(String, Value)> = Vec::new();
    let mut look = async |s: &TestServer| {
        let at = advance(s, 1).await;
        seen.push((at, shown(s, &id).await));
        advance(s, 1).await;
    };
    look(&s).await;
    to_crisis_intervention(&s, lead, &id).await;
    look(&s).await;
    s.data(lead, "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { version } } }",
        json!({"input": {"caseId": id, "country": "NG"}})).await;
    look(&s).await;
    for (t, d) in steps_to_origin_contact() {
        fire(&s, lead, &id, t, d).await;
        look(&s).await;
    }
    // The lead moves to Nigeria: the as-of view must follow it.
    s.transfer_lead(lead, &id, "ng.focal", json!({"nationality_verified": true}))
        .await;
    look(&s).await;

    let never = as_of(&s, &id, &before_opening).await;
    assert!(
        never.is_null(),
        "before it was opened ({before_opening}) the case did not exist: {never}"
    );
    let leads: Vec<&str> = seen
        .iter()
        .map(|(_, v)| v["leadAgency"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_ne!(leads.first(), leads.last(), "the story changed the lead");
    for (at, then) in &seen {
        let mut snapshot = as_of(&s, &id, at).await;
        assert_eq!(
            snapshot["lastEvent"]["sequence"], then["version"],
            "as of {at}"
        );
        snapshot
            .as_object_mut()
            .expect("object")
            .remove("lastEvent");
        assert_eq!(&snapshot, then, "the case as of {at}");
    }

    // Only auditors look back in time.
    let body = s
        .gql(
            lead,
            "query($id: ID!, $at: DateTime!) { case(id: $id) { asOf(at: $at) { version } } }",
            json!({"id": id, "at": seen[0].0}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

const SEARCH: &str = "query($f: AuditEventFilter, $first: Int, $after: String) {
    auditEvents(filter: $f, first: $first, after: $after) {
        edges { cursor node { id kind transition occurredAt workflowKey workflowVersion
            agency { id } actor { id } case { id } } }
        pageInfo { hasNextPage }
    } }";

/// Every event matching `filter`, following the pages of `page` events.
async fn search(s: &TestServer, filter: Value, page: i64) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = s
            .data(
                "auditor",
                SEARCH,
                json!({"f": filter, "first": page, "after": after}),
            )
            .await;
        let edges = data["auditEvents"]["edges"].as_array().expect("edges");
        out.extend(edges.iter().map(|e| e["node"].clone()));
        if data["auditEvents"]["pageInfo"]["hasNextPage"] != json!(true) {
            return out;
        }
        after = edges
            .last()
            .and_then(|e| e["cursor"].as_str())
            .map(str::to_string);
    }
}

#[tokio::test]
async fn auditors_find_events_by_agency_actor_transition_time_and_workflow_version() {
    let s = TestServer::start().await;
    let (a, _) = s.open_workflow("it.shelter", "trm-adult", Some(1)).await;
    to_crisis_intervention(&s, "it.shelter", &a).await;
    let t0 = advance(&s, 1).await;
    let (b, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    to_crisis_intervention(&s, "it.shelter", &b).await;
    let (c, _) = s.open_workflow("ng.shelter", "trm-adult", None).await;

    let all = search(&s, json!({}), 100).await;
    let paged = search(&s, json!({}), 3).await;
    assert_eq!(
        all, paged,
        "pages follow each other without gaps or repeats"
    );
    let times: Vec<&str> = all
        .iter()
        .map(|e| e["occurredAt"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");

    let shelter = s.agency_id("it.shelter").await;
    let by_agency = search(&s, json!({"agencyId": shelter}), 100).await;
    assert!(!by_agency.is_empty());
    assert!(
        by_agency
            .iter()
            .all(|e| e["agency"]["id"] == json!(shelter))
    );
    assert!(by_agency.iter().all(|e| e["case"]["id"] != json!(c)));
    assert_eq!(
        by_agency.len() + search(&s, json!({"caseId": c}), 100).await.len(),
        all.len()
    );

    let me = s
        .data("it.shelter", "{ me { user { id } } }", json!({}))
        .await["me"]["user"]["id"]
        .clone();
    let by_actor = search(&s, json!({"actorId": me}), 100).await;
    assert_eq!(
        by_actor.len(),
        by_agency.len(),
        "one user of the shelter acted"
    );

    let screening = search(&s, json!({"transition": "start_screening"}), 100).await;
    assert_eq!(screening.len(), 2, "both Italian cases were screened");
    assert!(
        screening
            .iter()
            .all(|e| e["transition"] == "start_screening")
    );

    let since = search(&s, json!({"from": t0}), 100).await;
    let until = search(&s, json!({"until": t0}), 100).await;
    assert_eq!(
        since.len() + until.len(),
        all.len(),
        "the range splits at t0"
    );
    assert!(until.iter().all(|e| e["case"]["id"] == json!(a)));

    let v1 = search(
        &s,
        json!({"workflowKey": "trm-adult", "workflowVersion": 1}),
        100,
    )
    .await;
    assert!(!v1.is_empty());
    assert!(
        v1.iter()
            .all(|e| e["case"]["id"] == json!(a) && e["workflowVersion"] == 1)
    );
    let kinds = search(&s, json!({"caseId": b, "kind": "CASE_OPENED"}), 100).await;
    assert_eq!(kinds.len(), 1);

    // Malformed filters are refused; non-auditors cannot search.
    let body = s
        .gql("auditor", SEARCH, json!({"f": {"agencyId": "not-an-id"}}))
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    let body = s.gql("it.shelter", SEARCH, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

const DISCLOSURES: &str = "query($id: ID!) { case(id: $id) { disclosures {
    kind id at fromAgency { name } toAgency { id } sharedGroups
    consent { id } overrideBasis overrideJustification status reason } } }";

#[tokio::test]
async fn disclosures_show_what_left_to_whom_under_which_consent_or_override() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let id = case_ready_for_transfer(&s, lead).await;
    let consent = s.consent_for(lead, &id, "it.iom", &["IDENTITY"]).await;
    let iom = s.agency_id("it.iom").await;
    let body = s
        .gql(
            lead,
            "mutation($input: MakeReferralInput!) { makeReferral(input: $input) { referral { id } } }",
            json!({"input": {"caseId": id, "toAgencyId": iom, "service": "LEGAL",
                "purpose": "legal counselling", "sharedGroups": ["IDENTITY"]}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let referral = body["data"]["makeReferral"]["referral"]["id"].clone();
    let ng = s.agency_id("ng.focal").await;
    let body = s
        .gql(
            "it.shelter.supervisor",
            "mutation($input: OfferTransferInput!) { offerTransfer(input: $input) { transfer { id } } }",
            json!({"input": {"caseId": id, "toAgencyId": ng, "sharedGroups": ["IDENTITY", "LEGAL_STATUS"],
                "data": {"nationality_verified": true},
                "override": {"basis": "VITAL_INTERESTS", "justification": "credible threat of retaliation"}}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let transfer = body["data"]["offerTransfer"]["transfer"]["id"].clone();
    let reference = s
        .data(
            "auditor",
            "query($id: ID!) { case(id: $id) { reference } }",
            json!({"id": id}),
        )
        .await["case"]["reference"]
        .clone();
    let body = s
        .gql(
            "it.focal",
            "mutation($input: BreakGlassInput!) { breakGlass(input: $input) { access { id } } }",
            json!({"input": {"caseReference": reference,
                "justification": "Police report the person in hospital; shelter unreachable at night"}}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let list =
        s.data("auditor", DISCLOSURES, json!({"id": id})).await["case"]["disclosures"].clone();
    let list = list.as_array().expect("list");
    assert_eq!(list.len(), 3, "{list:?}");
    let r = &list[0];
    assert_eq!(
        (
            &r["kind"],
            &r["id"],
            &r["toAgency"]["id"],
            &r["sharedGroups"],
            &r["consent"]["id"]
        ),
        (
            &json!("REFERRAL"),
            &referral,
            &json!(iom),
            &json!(["IDENTITY"]),
            &json!(consent)
        ),
        "{r}"
    );
    assert_eq!(r["reason"], "legal counselling");
    let t = &list[1];
    assert_eq!(
        (
            &t["kind"],
            &t["id"],
            &t["overrideBasis"],
            &t["sharedGroups"],
            &t["status"]
        ),
        (
            &json!("TRANSFER"),
            &transfer,
            &json!("VITAL_INTERESTS"),
            &json!(["IDENTITY", "LEGAL_STATUS"]),
            &json!("OFFERED")
        ),
        "{t}"
    );
    assert!(t["consent"].is_null());
    assert_eq!(t["overrideJustification"], "credible threat of retaliation");
    let b = &list[2];
    assert_eq!(
        (&b["kind"], &b["status"]),
        (&json!("BREAK_GLASS"), &json!("ACTIVE")),
        "{b}"
    );
    assert!(b["fromAgency"].is_null());
    assert!(
        !b["sharedGroups"]
            .as_array()
            .unwrap()
            .contains(&json!("PERPETRATOR")),
        "a focal point is no law-enforcement agency: {b}"
    );

    let body = s.gql(lead, DISCLOSURES, json!({"id": id})).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "only auditors: {body}");
}

/// Writes `file` and runs `trm audit verify-file` on it with `keys` trusted.
async fn verify_file(dir: &std::path::Path, file: &Value, keys: &[&str]) -> (bool, String) {
    let path = dir.join(format!("{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&path, serde_json::to_vec_pretty(file).unwrap()).unwrap();
    let path = path.to_string_lossy().to_string();
    let mut args = vec!["audit", "verify-file", path.as_str()];
    for k in keys {
        args.extend(["--trusted-key", k]);
    }
    trm(&args).await
}

#[tokio::test]
async fn a_case_file_verifies_offline_and_any_edit_to_it_is_named() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let id = case_ready_for_transfer(&s, lead).await;
    s.transfer_lead(lead, &id, "ng.focal", json!({"nationality_verified": true}))
        .await;
    let data = s
        .data(
            "auditor",
            "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) {
                caseFile { document printable checkpoint { treeSize publicKey keyId } } } }",
            json!({"input": {"caseId": id, "purposeCategory": "AUDIT",
                "purpose": "annual audit of returns to Nigeria"}}),
        )
        .await["exportCaseFile"]
        .clone();
    let file = data["caseFile"]["document"].clone();
    let key = data["caseFile"]["checkpoint"]["publicKey"]
        .as_str()
        .expect("key")
        .to_string();
    let events = file["events"].as_array().expect("events").len();
    assert!(events >= 8, "the whole story: {events} events");
    let dir = tempfile::tempdir().unwrap();

    let (ok, text) = verify_file(dir.path(), &file, &[&key]).await;
    assert!(
        ok && text.contains("OK") && text.contains("(trusted)"),
        "{text}"
    );

    // Signed by a key the auditor does not trust; then trusted among others (a rotation).
    let other = hex::encode(trm::audit::AuditKey::generate().public().as_bytes());
    let (ok, text) = verify_file(dir.path(), &file, &[&other]).await;
    assert!(!ok && text.contains("not trusted"), "{text}");
    let (ok, text) = verify_file(dir.path(), &file, &[&other, &key]).await;
    assert!(ok, "{text}");

    // Each edit is named.
    type Edit = Box<dyn Fn(&mut Value)>;
    let edits: Vec<(&str, Edit, &str)> = vec![
        (
            "state",
            Box::new(|f| f["events"][2]["content"]["to_state"] = json!("closed")),
            "event seq 3",
        ),
        (
            "reason",
            Box::new(|f| f["events"][0]["reason"] = json!("rewritten")),
            "event seq 1: the reason",
        ),
        (
            "dropped",
            Box::new(|f| {
                f["events"].as_array_mut().unwrap().remove(1);
            }),
            "event seq 3: expected seq 2",
        ),
        (
            "proof",
            Box::new(|f| f["events"][4]["inclusionProof"][0] = json!("00".repeat(32))),
            "event seq 5: its inclusion proof",
        ),
        (
            "signature",
            Box::new(|f| f["checkpoint"]["rootHash"] = json!("11".repeat(32))),
            "checkpoint",
        ),
        (
            "actor",
            Box::new(|f| f["events"][1]["content"]["actor_user_id"] = json!(uuid::Uuid::nil())),
            "event seq 2: content does not match",
        ),
    ];
    for (what, edit, named) in edits {
        let mut tampered = file.clone();
        edit(&mut tampered);
        let (ok, text) = verify_file(dir.path(), &tampered, &[]).await;
        assert!(!ok, "{what}: {text}");
        assert!(text.contains(named), "{what}: {text} should name {named}");
    }

    // The printable page has the whole timeline.
    let printable = data["caseFile"]["printable"].as_str().expect("html");
    for t in [
        "start_screening",
        "contact_origin_focal_point",
        "TRANSFER_ACCEPTED",
    ] {
        assert!(printable.contains(t), "{t} in the printable timeline");
    }
    assert!(printable.contains(file["case"]["reference"].as_str().unwrap()));

    // The operator's command writes the file from the database too (a checkpoint covering the
    // auditor's export has been signed since), and it verifies. It needs a purpose, and its own
    // export is recorded on the case by the service.
    s.data(
        "auditor",
        "mutation { createCheckpoint { treeSize } }",
        json!({}),
    )
    .await;
    let out = dir.path().join("case.json");
    let html = dir.path().join("case.html");
    let db_url = s.db_url();
    let workflows = crate::harness::workflows_dir();
    let reference = file["case"]["reference"].as_str().unwrap();
    let mut args = vec![
        "audit",
        "export",
        "--database-url",
        &db_url,
        "--workflows",
        workflows.to_str().unwrap(),
        "--case",
        reference,
        "--out",
        out.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--purpose-category",
        "legal-proceedings",
    ];
    let (ok, text) = trm(&args).await;
    assert!(!ok && text.contains("--purpose"), "{text}");
    assert!(!out.exists(), "nothing written without a purpose");
    args.extend([
        "--purpose",
        "court order 12/2026",
        "--recipient",
        "Tribunale di Roma",
    ]);
    let (ok, text) = trm(&args).await;
    assert!(ok, "{text}");
    let exported: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let events = exported["events"].as_array().unwrap();
    let n = file["events"].as_array().unwrap().len();
    let hashes =
        |events: &[Value]| -> Vec<Value> { events.iter().map(|e| e["hash"].clone()).collect() };
    assert_eq!(
        events.len(),
        n + 1,
        "the auditor's export is one more event"
    );
    assert_eq!(
        hashes(&events[..n]),
        hashes(file["events"].as_array().unwrap()),
        "the same events (with proofs against a newer checkpoint)"
    );
    assert_eq!(events[n]["content"]["kind"], "CASE_FILE_EXPORTED");
    let log = "query($id: ID!) { case(id: $id) { version accessLog { kind reader { username }
        purpose purposeCategory recipient } history(first: 100) { edges { node { kind bySystem details } } } } }";
    let now = s.data("auditor", log, json!({"id": id})).await["case"].clone();
    assert_eq!(now["version"], json!(n + 2), "{now}");
    let by_operator = &now["history"]["edges"][n + 1]["node"];
    assert_eq!(by_operator["kind"], "CASE_FILE_EXPORTED", "{now}");
    assert_eq!(by_operator["bySystem"], true);
    assert_eq!(by_operator["details"]["purpose"], "LEGAL_PROCEEDINGS");
    assert_eq!(by_operator["details"]["caseVersion"], json!(n + 1));
    let logged = &now["accessLog"][0];
    assert_eq!(logged["kind"], "CASE_FILE_EXPORT", "{logged}");
    assert!(
        logged["reader"].is_null(),
        "the operator is no user: {logged}"
    );
    assert_eq!(logged["purpose"], "court order 12/2026");
    assert_eq!(logged["purposeCategory"], "LEGAL_PROCEEDINGS");
    assert_eq!(logged["recipient"], "Tribunale di Roma");
    assert_eq!(now["accessLog"][1]["reader"]["username"], "auditor");
    let (ok, text) = trm(&[
        "audit",
        "verify-file",
        out.to_str().unwrap(),
        "--trusted-key",
        &key,
    ])
    .await;
    assert!(ok, "{text}");
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("<h2>Timeline</h2>")
    );

    // Only auditors export.
    let body = s
        .gql(
            lead,
            "mutation($input: ExportCaseFileInput!) { exportCaseFile(input: $input) { case { id } } }",
            json!({"input": {"caseId": id, "purposeCategory": "AUDIT", "purpose": "curiosity"}}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
}

#[tokio::test]
async fn audit_verify_trusts_only_the_given_keys_and_keeps_trusting_them_after_a_rotation() {
    let s = TestServer::start().await;
    s.open_case("it.shelter").await;
    let key = s
        .data(
            "auditor",
            "mutation { createCheckpoint { publicKey } }",
            json!({}),
        )
        .await["createCheckpoint"]["publicKey"]
        .as_str()
        .expect("key")
        .to_string();
    let other = hex::encode(trm::audit::AuditKey::generate().public().as_bytes());
    let url = s.db_url();
    let verify = async |keys: &[&str]| {
        let mut args = vec!["audit", "verify", "--database-url", url.as_str()];
        for k in keys {
            args.extend(["--trusted-key", *k]);
        }
        trm(&args).await
    };
    let (ok, text) = verify(&[&other]).await;
    assert!(!ok && text.contains("not trusted"), "{text}");
    let (ok, text) = verify(&[&other, &key]).await;
    assert!(ok, "the old key stays trusted next to the new one: {text}");
    let (ok, text) = verify(&["zz"]).await;
    assert!(!ok && text.contains("64 hex digits"), "{text}");
}
