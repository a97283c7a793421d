//! The use cases of `trm::service` called directly, without GraphQL or HTTP, on the real
//! database the harness gives: what users rely on, asserted where it is decided.

mod cases;
mod referrals;
mod relations;
mod unit_of_work;

use crate::harness::TestServer;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use trm::access::{CaseScope, Principal, VisibleCase};
use trm::domain::{
    CaseRecord, ConsentGiver, ConsentPurpose, ConsentRecord, DataGroup, Event, ReferralRecord,
    ServiceKind,
};
use trm::service::cases::{FireTransition, Fired, OpenCase};
use trm::service::disclosure::GroundRequest;
use trm::service::referrals::NewReferral;
use trm::service::{App, ServiceError};
use uuid::Uuid;

/// The fixture workflow `decision` v1: received → pending (starts a 5-day `decision` deadline and
/// a 10-day `cooling` floor that blocks `close`) → decided (stops the deadline) → closed.
fn decision_workflows() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deadlines")
}

/// A demo user as the service knows them.
async fn principal(s: &TestServer, user: &str) -> Principal {
    trm::store::directory::principal_by_token_hash(
        s.app.store.conn(),
        &trm::service::auth::token_hash(s.token(user)),
    )
    .await
    .expect("principal lookup")
    .unwrap_or_else(|| panic!("no principal for {user}"))
}

/// The input that opens a case under `workflow` (its latest version).
fn opening(workflow: &str) -> OpenCase {
    OpenCase {
        workflow_id: workflow.into(),
        workflow_version: None,
        idempotency_key: None,
        follows_case_id: None,
        origin_country: None,
    }
}

/// Opens a case under `workflow` (its latest version) as `p`.
async fn open(app: &App, p: &Principal, workflow: &str) -> CaseRecord {
    trm::service::cases::open_case(app, p, opening(workflow))
        .await
        .unwrap_or_else(|e| panic!("open {workflow}: {e}"))
}

/// A transition's input data from a JSON object.
fn data(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("transition data is an object, not {other}"),
    }
}

/// The input that fires `transition` on `case` at `expected_version`.
fn firing(case: Uuid, transition: &str, expected_version: i64, input: Value) -> FireTransition {
    FireTransition {
        case_id: case,
        transition: transition.into(),
        expected_version,
        reason: None,
        reason_shared_as: Default::default(),
        data: data(input),
        idempotency_key: None,
    }
}

/// Fires `transition` as `p` at `expected_version`; it must be accepted.
async fn fire(
    app: &App,
    p: &Principal,
    case: Uuid,
    transition: &str,
    expected_version: i64,
) -> Fired {
    trm::service::cases::fire_transition(
        app,
        p,
        firing(
            case,
            transition,
            expected_version,
            Value::Object(Map::new()),
        ),
    )
    .await
    .unwrap_or_else(|e| panic!("{transition}: {e}"))
}

/// The case as stored, whoever may see it.
async fn stored(app: &App, case: Uuid) -> CaseRecord {
    trm::store::cases::find(app.store.conn(), CaseScope::All, case)
        .await
        .expect("read case")
        .expect("the case exists")
}

/// Every event of the case, oldest first.
async fn events(app: &App, case: Uuid) -> Vec<Event> {
    trm::store::events::all_of_case(app.store.conn(), case)
        .await
        .expect("read events")
}

/// The state of the `main` track of a `decision` case.
fn main_state(case: &CaseRecord) -> Option<&str> {
    case.state.tracks.get("main").map(String::as_str)
}

/// As `lead`, records the person's consent to share `groups` with `to` for `purpose`.
async fn consent(
    app: &App,
    lead: &Principal,
    case: Uuid,
    purpose: ConsentPurpose,
    to: &Principal,
    groups: &BTreeSet<DataGroup>,
) -> ConsentRecord {
    trm::service::consents::record_consent(
        app,
        lead,
        trm::service::consents::NewConsent {
            case_id: case,
            given_by: ConsentGiver::Person,
            child_assent: None,
            assent_missing_reason: None,
            purposes: BTreeSet::from([purpose]),
            agency_ids: BTreeSet::from([to.agency_id]),
            countries: BTreeSet::new(),
            groups: groups.clone(),
            given_at: app.now(),
        },
    )
    .await
    .expect("record consent")
}

/// Relies on the consent `id`, or on any consent in force that covers the disclosure.
fn on_consent(id: Option<Uuid>) -> GroundRequest {
    GroundRequest {
        consent_id: id,
        override_basis: None,
        override_justification: None,
    }
}

/// As `lead`, refers `case` to `to`'s agency for shelter, sharing `groups` on `ground`.
async fn refer(
    app: &App,
    lead: &Principal,
    case: Uuid,
    to: &Principal,
    groups: &BTreeSet<DataGroup>,
    ground: GroundRequest,
) -> Result<ReferralRecord, ServiceError> {
    trm::service::referrals::make_referral(
        app,
        lead,
        NewReferral {
            case_id: case,
            to_agency_id: to.agency_id,
            service: ServiceKind::Shelter,
            purpose: "a safe place tonight".into(),
            groups: groups.clone(),
            ground,
            respond_within_days: None,
            expected_version: None,
        },
    )
    .await
}

/// The case as `p` may see it now (`None`: not at all).
async fn seen_by(app: &App, p: &Principal, case: Uuid) -> Option<VisibleCase> {
    trm::service::cases::get_case(app, p, case)
        .await
        .expect("get_case")
}

/// The personal-data groups `case` lets its caller read.
fn readable(case: &VisibleCase) -> BTreeSet<DataGroup> {
    DataGroup::ALL
        .iter()
        .copied()
        .filter(|g| case.view().may_read_group(*g))
        .collect()
}
