//! The last decisions the lead used to enter on other bodies' behalf, recorded by those bodies in
//! their own name (`workflows/trm-child.v4.toml`, `trm-adult.v5.toml`): the migration authority on
//! a child's residence permit and on an adult's asylum application (on a child's: the
//! asylum-seeking child of `scenarios_child.rs`), the prosecutor on protection measures and
//! non-punishment; a guardian of an involved guardianship service and an involved NGO asking for a
//! reconsideration of a child's case; and the refusals: a role that may not decide, an agency that
//! sees the case without being involved, an agency outside the case.

use crate::decisions::{ADULT, last_event, offered, to_crisis};
use crate::driver::CaseDriver;
use crate::harness::TestServer;
use crate::scenarios_child::AsLead;
use chrono::Duration;
use serde_json::{Value, json};

/// Italian child protection, which leads the child's case (CASE_WORKER, GUARDIAN).
const IT_CP: &str = "it.childprotection";
/// A supervisor of the Italian child protection, added for the test.
const CP_SUPERVISOR: &str = "it.childprotection.supervisor";
/// A guardianship service's user who holds only the GUARDIAN role, added for the test.
const GUARDIAN_ONLY: &str = "it.guardian";
const MIGRATION: &str = "it.migration";

/// The date `days` from the service's now, as a date fact.
fn day(s: &TestServer, days: i64) -> String {
    (s.app.now() + Duration::days(days))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// A date `months` calendar months from the service's now, minus `less` days.
fn months_on(s: &TestServer, months: u32, less: i64) -> String {
    (s.app.now() + chrono::Months::new(months) - Duration::days(less))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// Adds (as the administrator) a user holding `roles` to the agency `agency` (a global id).
pub(crate) async fn add_user(s: &mut TestServer, agency: &str, username: &str, roles: &[&str]) {
    s.data(
        "admin",
        "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
        json!({"input": {"username": username, "displayName": "Demo user (added by the test)",
               "agencyId": agency, "roles": roles}}),
    )
    .await;
    let token = trm::service::auth::issue_token(&s.app, username)
        .await
        .unwrap();
    s.tokens.insert(username.to_string(), token);
}

/// Keys of the steps `user` is offered on the case, sorted.
async fn keys(s: &TestServer, user: &str, case_id: &str) -> Vec<String> {
    let mut keys: Vec<String> = offered(s, user, case_id)
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort_unstable();
    keys
}

fn permit(ground: &str, issued: &str, until: &str) -> Value {
    json!({"residence_permit_ground": ground, "residence_permit_issued": issued,
        "residence_permit_until": until})
}

/// One child in Italy, two of her cases' steps taken by the bodies that decide them: the
/// migration authority refuses, then grants, her permit (its minimum length checked on its
/// dates); a guardian of the guardianship service the lead involved, holding no other role, and an
/// NGO the lead involved each ask for a reconsideration of a negative identification.
#[tokio::test]
async fn on_a_childs_case_the_migration_authority_a_guardian_and_an_ngo_act_in_their_own_name() {
    let mut s = TestServer::start().await;
    let guardianship = s
        .data(
            "admin",
            "mutation { createAgency(input: {name: \"Demo Ufficio del Tutore (Palermo)\", kind: GUARDIANSHIP, country: \"IT\"}) { agency { id } } }",
            json!({}),
        )
        .await["createAgency"]["agency"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    add_user(&mut s, &guardianship, GUARDIAN_ONLY, &["GUARDIAN"]).await;
    let cp = s.agency_id(IT_CP).await;
    add_user(&mut s, &cp, CP_SUPERVISOR, &["SUPERVISOR"]).await;

    // The child stays in Italy: identified, heard, the family involved, the BID says stay.
    let mut lead = AsLead::open(&s, IT_CP, 4).await;
    lead.presume().await;
    lead.appoint_guardian().await;
    lead.protect().await;
    lead.ok("identify_child_victim", json!({"evidence_reviewed": true}))
        .await;
    lead.ok(
        "record_child_views",
        json!({"child_heard_for_bid": true, "child_views_on_return": "disagrees"}),
    )
    .await;
    lead.trace_family("ngo_network", true, "negative").await;
    lead.determine("stay_and_integrate").await;
    lead.ok(
        "start_local_integration",
        json!({"care_arrangement": "foster_family"}),
    )
    .await;
    let mut c = lead.into_driver();
    let year = day(&s, 365);
    let today = day(&s, 0);

    // The lead does not decide on the permit; the authority, outside the case, does not see it.
    let (code, _) = c
        .refused(
            IT_CP,
            "grant_residence_permit",
            permit("child_victim", &today, &year),
        )
        .await;
    assert_eq!(code, "FORBIDDEN", "child protection does not grant permits");
    let (code, _) = c
        .refused(MIGRATION, "refuse_residence_permit", json!({}))
        .await;
    assert_eq!(
        code, "NOT_FOUND",
        "an agency outside the case does not see it"
    );

    // Involved (the guardian consents, with the child's assent), it is offered its steps: the
    // permit's two, and the decision on an asylum application, none recorded (its guard unmet).
    s.involve_for_child(IT_CP, &c.id, MIGRATION, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    c.sync().await;
    let mut offer = offered(&s, MIGRATION, &c.id).await;
    offer.sort_unstable();
    assert_eq!(
        offer,
        [
            ("grant_residence_permit".to_string(), true),
            ("record_asylum_decision".to_string(), false),
            ("refuse_residence_permit".to_string(), true),
        ]
    );
    // The minimum length is checked on the dates: 6 months for a child victim (the default of
    // the jurisdiction parameter) and for cooperation; the dates in order for any ground.
    let short = months_on(&s, 6, 1);
    assert_eq!(
        c.unmet(
            MIGRATION,
            "grant_residence_permit",
            permit("child_victim", &today, &short)
        )
        .await,
        ["child_victim_permit_minimum"]
    );
    assert_eq!(
        c.unmet(
            MIGRATION,
            "grant_residence_permit",
            permit("cooperation", &today, &short)
        )
        .await,
        ["permit_at_least_six_months"]
    );
    assert_eq!(
        c.unmet(
            MIGRATION,
            "grant_residence_permit",
            permit("humanitarian", &today, &today)
        )
        .await,
        ["permit_dates_in_order"]
    );

    // Refused: no return follows, but the case cannot close on an integration without status.
    let case = c.ok(MIGRATION, "refuse_residence_permit", json!({})).await;
    assert!(
        case["states"]
            .as_array()
            .unwrap()
            .iter()
            .any(|st| st["track"] == "solution" && st["state"] == "local_integration"),
        "{case}"
    );
    let event = last_event(&s, IT_CP, &c.id).await;
    assert_eq!(event["agency"]["kind"], "MIGRATION_AUTHORITY");
    assert_eq!(event["actor"]["username"], MIGRATION);
    assert_eq!(
        c.unmet(
            CP_SUPERVISOR,
            "close_after_integration",
            json!({"integration_achieved": true})
        )
        .await,
        ["permit_not_refused"]
    );
    // Granted on appeal, for a year from today: the expiry warning runs to its date.
    let six = months_on(&s, 6, 0);
    c.ok(
        MIGRATION,
        "grant_residence_permit",
        permit("child_victim", &today, &six),
    )
    .await;
    c.ok(
        MIGRATION,
        "grant_residence_permit",
        permit("child_victim", &today, &year),
    )
    .await;
    let timers = c.timers().await;
    assert_eq!(timers["residence_permit"].0, "RUNNING");
    assert!(timers["residence_permit"].1.starts_with(&year));
    assert_eq!(c.view().await["facts"]["residence_permit_refused"], false);
    let body = c
        .fire(
            CP_SUPERVISOR,
            "close_after_integration",
            json!({"integration_achieved": true}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["fireTransition"]["case"]["status"], "CLOSED");

    // Another child, not identified: the guardianship service and an NGO ask for a
    // reconsideration themselves.
    let mut lead = AsLead::open(&s, IT_CP, 4).await;
    lead.presume().await;
    lead.appoint_guardian().await;
    lead.ok(
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators",
            "child_and_guardian_informed": true}),
    )
    .await;
    let mut d = lead.into_driver();
    let request = json!({"new_evidence": true});
    let (code, _) = d
        .refused(GUARDIAN_ONLY, "request_reconsideration", request.clone())
        .await;
    assert_eq!(code, "NOT_FOUND", "not in the case yet");
    s.involve_for_child(IT_CP, &d.id, GUARDIAN_ONLY, &["IDENTITY"])
        .await;
    d.sync().await;
    assert_eq!(
        offered(&s, GUARDIAN_ONLY, &d.id).await,
        [("request_reconsideration".to_string(), true)]
    );
    let case = d
        .ok(GUARDIAN_ONLY, "request_reconsideration", request.clone())
        .await;
    assert!(
        case.to_string().contains("reconsideration_requested"),
        "{case}"
    );
    let event = last_event(&s, IT_CP, &d.id).await;
    assert_eq!(event["agency"]["kind"], "GUARDIANSHIP");
    assert_eq!(event["actor"]["username"], GUARDIAN_ONLY);
    // The guardian's role does not decide the request (the workflow gives that to the
    // competent authority's roles).
    let decide = json!({"evidence_reviewed": true, "child_and_guardian_informed": true});
    let (code, _) = d
        .refused(GUARDIAN_ONLY, "uphold_not_identified", decide.clone())
        .await;
    assert_eq!(code, "FORBIDDEN");
    d.ok(IT_CP, "uphold_not_identified", decide).await;
    // The shelter the child was referred to asks again, with new evidence; it is reconsidered.
    s.involve_for_child(IT_CP, &d.id, "it.shelter", &["IDENTITY"])
        .await;
    d.sync().await;
    d.ok("it.shelter", "request_reconsideration", request).await;
    assert_eq!(last_event(&s, IT_CP, &d.id).await["agency"]["kind"], "NGO");
    d.ok(
        IT_CP,
        "reconsider_identification",
        json!({"evidence_reviewed": true}),
    )
    .await;
    assert_eq!(d.state("identification").await, "presumed_child_victim");
    s.stop().await;
}

/// On adult v5 the prosecutor records a protection measure and non-punishment, the migration
/// authority the outcome of an asylum application, each in its own name; the lead records none
/// of them. An involved focal point's role may not decide on identification; a focal point that
/// also holds the competent authority's role and still sees a case after its referral completed
/// is no longer involved; an agency outside the case does not see it.
#[tokio::test]
async fn on_adult_v5_the_prosecutor_and_the_migration_authority_record_their_own_decisions() {
    let s = TestServer::start().await;
    let lead = "it.shelter";
    let mut c = CaseDriver::open(&s, lead, ADULT, Some(5)).await;
    to_crisis(&mut c, lead).await;
    let measure = json!({"protection_measure": "witness_protection_programme"});
    for (step, data) in [
        ("order_protection_measure", measure.clone()),
        ("invoke_non_punishment", json!({})),
    ] {
        let (code, _) = c.refused(lead, step, data.clone()).await;
        assert_eq!(code, "FORBIDDEN", "the shelter does not record {step}");
        let (code, _) = c.refused("it.prosecutor", step, data).await;
        assert_eq!(code, "NOT_FOUND", "the prosecutor is not in the case yet");
    }
    s.involve(lead, &c.id, "it.prosecutor", &["IDENTITY"]).await;
    s.involve(lead, &c.id, MIGRATION, &["IDENTITY", "LEGAL_STATUS"])
        .await;
    s.involve(lead, &c.id, "it.focal", &["IDENTITY"]).await;
    c.sync().await;
    let offer = keys(&s, "it.prosecutor", &c.id).await;
    assert!(
        offer.contains(&"order_protection_measure".to_string())
            && offer.contains(&"invoke_non_punishment".to_string()),
        "{offer:?}"
    );
    let (code, _) = c
        .refused(MIGRATION, "order_protection_measure", measure.clone())
        .await;
    assert_eq!(code, "FORBIDDEN", "not the migration authority's decision");
    c.ok("it.prosecutor", "order_protection_measure", measure)
        .await;
    let event = last_event(&s, lead, &c.id).await;
    assert_eq!(event["agency"]["kind"], "PROSECUTOR");
    assert_eq!(event["actor"]["username"], "it.prosecutor");
    c.ok("it.prosecutor", "invoke_non_punishment", json!({}))
        .await;
    let facts = c.view().await["facts"].clone();
    assert_eq!(facts["protection_measure"], "witness_protection_programme");
    assert_eq!(facts["non_punishment_invoked"], true);

    // The person applies for asylum (the lead records it); the authority decides.
    c.ok(lead, "record_asylum_application", json!({})).await;
    let outcome = json!({"asylum_outcome": "granted"});
    let (code, _) = c
        .refused(lead, "record_asylum_outcome", outcome.clone())
        .await;
    assert_eq!(code, "FORBIDDEN", "the shelter does not decide on asylum");
    c.ok(MIGRATION, "record_asylum_outcome", outcome).await;
    let event = last_event(&s, lead, &c.id).await;
    assert_eq!(event["agency"]["kind"], "MIGRATION_AUTHORITY");
    assert_eq!(c.view().await["facts"]["asylum_outcome"], "granted");

    // The focal point the lead involved is of a kind that may identify, but its role may not.
    let identify = json!({"evidence_reviewed": true});
    let (code, _) = c
        .refused("it.focal", "identify_formally", identify.clone())
        .await;
    assert_eq!(code, "FORBIDDEN");

    // In France the focal point also holds the competent authority's role: involved, it may
    // identify; once it completed the referral it still sees the case but decides nothing.
    let mut f = CaseDriver::open(&s, "fr.shelter", ADULT, Some(5)).await;
    to_crisis(&mut f, "fr.shelter").await;
    let referral = s
        .involve("fr.shelter", &f.id, "fr.focal", &["IDENTITY"])
        .await;
    f.sync().await;
    assert!(
        keys(&s, "fr.focal", &f.id)
            .await
            .contains(&"identify_formally".to_string())
    );
    for (mutation, input) in [
        ("acceptReferral", json!({"referralId": referral})),
        (
            "completeReferral",
            json!({"referralId": referral, "successful": true}),
        ),
    ] {
        let body = s
            .gql(
                "fr.focal",
                &format!(
                    "mutation($input: {}Input!) {{ {mutation}(input: $input) {{ referral {{ status }} }} }}",
                    mutation[..1].to_uppercase() + &mutation[1..]
                ),
                json!({"input": input}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{mutation}: {body}");
    }
    f.sync().await;
    let (code, _) = f.refused("fr.focal", "identify_formally", identify).await;
    assert_eq!(
        code, "FORBIDDEN",
        "it sees the case but is no longer involved"
    );
    let seen = s
        .data(
            "fr.focal",
            "query($id: ID!) { case(id: $id) { access } }",
            json!({"id": f.id}),
        )
        .await;
    assert_eq!(seen["case"]["access"], "PARTICIPANT");
    s.stop().await;
}
