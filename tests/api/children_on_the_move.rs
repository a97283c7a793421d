//! The focal points' board of the children on the move (`childrenOnTheMove`): a child who left
//! Niger through Mali and Libya for Italy is on the boards of Italy, Niger and Mali, never on
//! another country's, with where the child stands as it goes missing, is found, waits for its
//! return, travels and is received; flagged after days without news; what a focal point sees of
//! a case its agency may not see; only focal points keep a board.

use crate::harness::{TestServer, error_code};
use crate::scenarios_child::AsLead;
use chrono::Duration;
use serde_json::{Value, json};

const BOARD: &str = "query($days: Int!) { childrenOnTheMove(noNewsDays: $days) {
    reference standing noNews lastNewsAt leadAgency { name country }
    case { id reference access states { track state } }
    } }";

/// Italian child-protection service (CASE_WORKER, GUARDIAN): leads the child's case.
const IT_CP: &str = "it.childprotection";
/// Niger's child protection, which receives the child back.
const NE_CP: &str = "ne.childprotection";
/// The focal points of the countries the child's case concerns.
const CONCERNED: [&str; 3] = ["it.focal", "ne.focal", "ml.focal"];
/// Focal points of countries it does not concern.
const UNCONCERNED: [&str; 3] = ["sn.focal", "fr.focal", "ma.focal"];

/// The board of `user` with news overdue after `days`.
async fn board(s: &TestServer, user: &str, days: i64) -> Vec<Value> {
    s.data(user, BOARD, json!({"days": days})).await["childrenOnTheMove"]
        .as_array()
        .expect("a board")
        .clone()
}

/// The row of case `reference` on `user`'s board, if there is one.
async fn row(s: &TestServer, user: &str, reference: &str, days: i64) -> Option<Value> {
    board(s, user, days)
        .await
        .into_iter()
        .find(|r| r["reference"] == reference)
}

/// Asserts where the child stands on every concerned board, and that no other board has it.
async fn stands(s: &TestServer, reference: &str, standing: &str) {
    for user in CONCERNED {
        let r = row(s, user, reference, 14).await;
        let r = r.unwrap_or_else(|| panic!("{reference} is on {user}'s board"));
        assert_eq!(r["standing"], standing, "{user}: {r}");
    }
    for user in UNCONCERNED {
        assert_eq!(row(s, user, reference, 14).await, None, "{user}");
    }
}

/// The child's case, opened by Italy's child protection, with the child's origin and route.
pub(crate) async fn child_from_niger(s: &TestServer) -> AsLead<'_> {
    let mut c = AsLead::open(s, IT_CP, 3).await;
    record_route(s, &c.id).await;
    c.sync().await;
    c
}

/// The child is reported missing: the focal points on the route are alerted.
pub(crate) async fn goes_missing(c: &mut AsLead<'_>) {
    c.ok_alerting(
        "report_missing",
        json!({"police_alerted": true, "guardian_alerted": true}),
    )
    .await;
}

async fn record_route(s: &TestServer, case_id: &str) {
    s.data(
        IT_CP,
        "mutation($input: SetOriginCountryInput!) { setOriginCountry(input: $input) { case { id } } }",
        json!({"input": {"caseId": case_id, "country": "NE"}}),
    )
    .await;
    for (country, place, on) in [
        ("NE", "Agadez", "2025-03-01"),
        ("ML", "Gao", "2025-04-10"),
        ("LY", "Sabha", "2025-06-01"),
        ("IT", "Lampedusa", "2025-09-20"),
    ] {
        s.data(
            IT_CP,
            "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
            json!({"input": {"caseId": case_id, "country": country, "place": place,
                "movedOn": on, "source": "SELF_REPORTED"}}),
        )
        .await;
    }
}

#[tokio::test]
async fn a_child_from_niger_through_mali_to_italy_is_accounted_for_by_each_country_on_the_way() {
    let s = TestServer::start().await;
    let mut c = child_from_niger(&s).await;
    let (id, reference) = (c.id.clone(), c.reference.clone());
    // Cases of no concern to Mali: an adult's through Mali, a child's in Senegal.
    let (adult, _) = s.open_workflow("it.shelter", "trm-adult", None).await;
    s.data(
        "it.shelter",
        "mutation($input: RecordMovementInput!) { recordMovement(input: $input) { movement { country } } }",
        json!({"input": {"caseId": adult, "country": "ML", "movedOn": "2025-01-01",
            "source": "SELF_REPORTED"}}),
    )
    .await;
    let (_, senegal) = s
        .open_workflow("sn.childprotection", "trm-child", None)
        .await;

    stands(&s, &reference, "IN_CARE").await;
    let mali = board(&s, "ml.focal", 14).await;
    assert_eq!(mali.len(), 1, "only the child concerns Mali: {mali:?}");
    assert!(row(&s, "sn.focal", &senegal, 14).await.is_some());
    // Of a case its agency may not see, a focal point learns the reference, the lead, where the
    // child stands and whether news is overdue: not the case, not when the news came.
    let niger = row(&s, "ne.focal", &reference, 14).await.unwrap();
    assert!(niger["case"].is_null(), "{niger}");
    assert!(niger["lastNewsAt"].is_null(), "{niger}");
    assert_eq!(niger["leadAgency"]["country"], "IT");
    assert_eq!(niger["noNews"], false);

    c.presume().await;
    c.appoint_guardian().await;
    // Missing: the protocol alerts the focal points on the route, which may now see the case.
    goes_missing(&mut c).await;
    stands(&s, &reference, "MISSING").await;
    let niger = row(&s, "ne.focal", &reference, 14).await.unwrap();
    assert_eq!(niger["case"]["id"], json!(id), "{niger}");
    assert_eq!(niger["case"]["access"], "PARTICIPANT");
    assert!(niger["lastNewsAt"].is_string(), "{niger}");

    s.clock.advance(Duration::days(3));
    c.ok_alerting("record_found", json!({"risk_level": "high"}))
        .await;
    stands(&s, &reference, "IN_CARE").await;

    // Fifteen days without news: flagged where news is due every 14 days, not every 30.
    s.clock.advance(Duration::days(15));
    for user in CONCERNED {
        let r = row(&s, user, &reference, 14).await.unwrap();
        assert_eq!(r["noNews"], true, "{user}: {r}");
        assert_eq!(
            row(&s, user, &reference, 30).await.unwrap()["noNews"],
            false
        );
    }

    // The best-interests determination decides a return to the family in Niger.
    c.protect().await;
    c.ok("identify_child_victim", json!({"evidence_reviewed": true}))
        .await;
    assert_eq!(
        row(&s, "ml.focal", &reference, 14).await.unwrap()["noNews"],
        false,
        "a step taken is news"
    );
    c.decide_return().await;
    stands(&s, &reference, "AWAITING_RECEPTION").await;
    // Niger's child protection takes the lead and confirms it will receive the child.
    c.arrange_return_to(NE_CP).await;
    let italy = row(&s, "it.focal", &reference, 14).await.unwrap();
    assert_eq!(italy["leadAgency"]["country"], "NE", "{italy}");
    s.clock.advance(Duration::days(31));
    c.ok("depart_accompanied_return", json!({})).await;
    stands(&s, &reference, "IN_TRANSIT").await;
    s.clock.advance(Duration::days(1));
    c.ok(
        "confirm_reception",
        json!({"received_by_origin_child_protection": true, "handed_to_caregiver": true}),
    )
    .await;
    stands(&s, &reference, "RECEIVED").await;
    s.stop().await;
}

#[tokio::test]
async fn only_the_focal_point_of_a_country_keeps_its_board() {
    let s = TestServer::start().await;
    s.open_workflow(IT_CP, "trm-child", None).await;
    for user in ["it.shelter", IT_CP, "auditor", "admin"] {
        let body = s.gql(user, BOARD, json!({"days": 14})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{user}: {body}");
        assert!(body["data"].is_null(), "{user}: {body}");
    }
    let body = s.gql("it.focal", BOARD, json!({"days": 0})).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body}");
    assert_eq!(board(&s, "it.focal", 14).await.len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn a_focal_points_inbox_can_be_read_by_kind() {
    let s = TestServer::start().await;
    let mut c = child_from_niger(&s).await;
    c.presume().await;
    c.appoint_guardian().await;
    goes_missing(&mut c).await;
    let inbox = |kinds: Value| {
        let s = &s;
        async move {
            s.data(
                "ml.focal",
                "query($kinds: [NotificationKind!]) { inbox(kinds: $kinds) { nodes { kind case { reference } } } }",
                json!({"kinds": kinds}),
            )
            .await["inbox"]["nodes"]
                .clone()
        }
    };
    let alerts = inbox(json!(["PERSON_MISSING", "PERSON_FOUND"])).await;
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    assert_eq!(alerts[0]["case"]["reference"], json!(c.reference));
    assert_eq!(inbox(json!(["RESPONSE_OVERDUE"])).await, json!([]));
    assert_eq!(inbox(Value::Null).await, alerts, "no kinds: every entry");
    s.stop().await;
}

#[tokio::test]
async fn the_authorities_of_an_asylum_seeking_childs_country_of_origin_are_not_told_of_the_child() {
    let s = TestServer::start().await;
    let mut c = child_from_niger(&s).await;
    let reference = c.reference.clone();
    c.presume().await;
    c.appoint_guardian().await;
    assert!(row(&s, "ne.focal", &reference, 14).await.is_some());
    c.ok("record_asylum_application", json!({})).await;
    assert_eq!(row(&s, "ne.focal", &reference, 14).await, None);
    assert!(row(&s, "ml.focal", &reference, 14).await.is_some());
    // Missing: Mali is alerted and accounts for the child; Niger learns nothing.
    goes_missing(&mut c).await;
    assert_eq!(row(&s, "ne.focal", &reference, 14).await, None);
    let mali = row(&s, "ml.focal", &reference, 14).await.unwrap();
    assert_eq!(mali["standing"], "MISSING", "{mali}");
    s.stop().await;
}
