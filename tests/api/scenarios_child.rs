//! The child procedure (`workflows/trm-child.v1.toml`): scenarios 1 and 5 of issue 4, and the
//! child rules of the SOP reference: presumption of minority and the age dispute, a guardian
//! before identification decisions, the BID and its outcomes, the return guard (each condition
//! refused by name), the reflection period only where the jurisdiction gives one to children,
//! the missing-child protocol with its 3-month floor, turning 18, asylum and death.
//!
//! Acts of the origin country (tracing by the Niger focal point) are recorded by the lead agency
//! as facts; from version 3 the bodies that decide record their decisions where the lead involves
//! them (`decisions.rs`), and from version 4 the migration authority grants the child's residence
//! permit itself, on its dates (scenario 1), and records its decision on the child's asylum
//! application (the asylum-seeking child).

use crate::decisions::last_event;
use crate::decisions_by_their_bodies::add_user;
use crate::driver::CaseDriver;
use crate::harness::{TestServer, error_code};
use chrono::Duration;
use serde_json::{Value, json};
use std::ops::{Deref, DerefMut};

const CHILD: &str = "trm-child";
/// Italian child-protection service (CASE_WORKER, GUARDIAN).
const IT_CP: &str = "it.childprotection";
/// Senegalese child-protection service (CASE_WORKER, GUARDIAN, SUPERVISOR).
const SN_CP: &str = "sn.childprotection";
/// Malian child-protection service, which receives Malian children back.
const ML_CP: &str = "ml.childprotection";
/// A Senegalese migration (asylum) authority's CASE_WORKER, added by the test that needs it.
const SN_MIGRATION: &str = "sn.migration";

/// A child case driven as the user who reads it, a user of its lead agency (the lead changes
/// hands on a return): the shared driver, plus the child procedure's usual steps.
pub(crate) struct AsLead<'a>(CaseDriver<'a>);

impl<'a> Deref for AsLead<'a> {
    type Target = CaseDriver<'a>;
    fn deref(&self) -> &CaseDriver<'a> {
        &self.0
    }
}

impl<'a> DerefMut for AsLead<'a> {
    fn deref_mut(&mut self) -> &mut CaseDriver<'a> {
        &mut self.0
    }
}

impl<'a> AsLead<'a> {
    pub(crate) async fn open(s: &'a TestServer, user: &str, version: u32) -> AsLead<'a> {
        AsLead(CaseDriver::open(s, user, CHILD, Some(version)).await)
    }

    /// The shared driver, to act as users other than the lead's.
    pub(crate) fn into_driver(self) -> CaseDriver<'a> {
        self.0
    }

    /// Fires a transition that must succeed; returns the case as the mutation returns it.
    pub(crate) async fn ok(&mut self, transition: &str, data: Value) -> Value {
        let user = self.0.reader.clone();
        self.0.ok(&user, transition, data).await
    }

    /// Fires a transition that must succeed and alert the focal points on the child's route.
    pub(crate) async fn ok_alerting(&mut self, transition: &str, data: Value) -> Value {
        let user = self.0.reader.clone();
        self.0.ok_alerting(&user, transition, data).await
    }

    /// Fires a transition that must be refused; returns the error code and the unmet guards' names.
    async fn refused(&self, transition: &str, data: Value) -> (String, Vec<String>) {
        self.0.refused(&self.0.reader, transition, data).await
    }

    /// Asserts that `transition` is refused by exactly the guards `names`.
    async fn refused_by(&self, transition: &str, data: Value, names: &[&str]) {
        self.0
            .refused_by(&self.0.reader, transition, data, names)
            .await;
    }

    /// Signal, screening and reasonable grounds: a presumed child victim, protected.
    pub(crate) async fn presume(&mut self) {
        self.ok(
            "start_screening",
            json!({"signal_source": "front_line_indicators"}),
        )
        .await;
        self.ok(
            "record_presumed_child_victim",
            json!({"indicators_found": true, "child_protection_notified": true}),
        )
        .await;
    }

    pub(crate) async fn appoint_guardian(&mut self) {
        self.ok(
            "appoint_guardian",
            json!({"guardian_appointed_by": "court", "guardian_independent": true}),
        )
        .await;
    }

    /// Placement, study of the situation and action plan.
    pub(crate) async fn protect(&mut self) {
        self.ok(
            "place_child",
            json!({"risk_level": "medium", "placement_type": "specialised_children_shelter"}),
        )
        .await;
        self.ok(
            "record_needs_assessment",
            json!({"needs_assessment_multidisciplinary": true}),
        )
        .await;
        self.ok(
            "adopt_action_plan",
            json!({"action_plan_owners_and_dates": true}),
        )
        .await;
    }

    /// Presumed, guardian, protection measures and formal identification.
    async fn identified(&mut self) {
        self.presume().await;
        self.appoint_guardian().await;
        self.protect().await;
        self.ok("identify_child_victim", json!({"evidence_reviewed": true}))
            .await;
    }

    /// Tracing through `channel` finds the parents; the family assessment is recorded.
    pub(crate) async fn trace_family(&mut self, channel: &str, involved: bool, result: &str) {
        self.ok(
            "start_family_tracing",
            json!({"tracing_channel": channel, "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
        )
        .await;
        self.ok(
            "record_family_found",
            json!({"family_member_found": "both_parents"}),
        )
        .await;
        self.ok("verify_family_link", json!({"family_link_verified": true}))
            .await;
        self.ok(
            "record_family_assessment",
            json!({"family_involved_in_trafficking": involved, "family_assessment_result": result}),
        )
        .await;
    }

    pub(crate) async fn determine(&mut self, outcome: &str) {
        self.ok(
            "determine_best_interests",
            json!({"bid_outcome": outcome, "bid_panel_multidisciplinary": true}),
        )
        .await;
    }

    /// Identified, the child heard, the family traced and positively assessed, BID return and
    /// reunify, return preparation started.
    async fn reach_return_preparation(&mut self) {
        self.identified().await;
        self.decide_return().await;
    }

    /// The child heard, the family traced and positively assessed, BID return and reunify,
    /// return preparation started.
    pub(crate) async fn decide_return(&mut self) {
        self.ok(
            "record_child_views",
            json!({"child_heard_for_bid": true, "child_views_on_return": "agrees", "child_views_on_transfer": "agrees"}),
        )
        .await;
        self.trace_family("origin_child_protection", false, "positive")
            .await;
        self.determine("return_and_reunify").await;
        self.ok("start_return_procedure", json!({})).await;
    }

    /// Records every condition of the return guard as met, the case transferred to Mali's
    /// child protection.
    async fn arrange_return(&mut self) {
        self.arrange_return_to(ML_CP).await;
    }

    /// Records every condition of the return guard as met, the case transferred to the child
    /// protection service of `receiver` (a user of it), which leads and reads it from then on.
    pub(crate) async fn arrange_return_to(&mut self, receiver: &str) {
        self.ok(
            "record_caregiver_agreement",
            json!({"caregiver_agreed": true}),
        )
        .await;
        self.ok(
            "record_return_risk_assessment",
            json!({"joint_risk_assessment": true, "return_risk": "acceptable"}),
        )
        .await;
        self.ok(
            "arrange_escort",
            json!({"escort_arranged": true, "escort_by": "social_worker"}),
        )
        .await;
        // The transfer of lead to the origin's child protection, with the guardian's consent;
        // from now on it leads the case.
        let lead = self.0.reader.clone();
        self.0.transfer_to(&lead, receiver, json!({})).await;
        assert_eq!(self.view().await["facts"]["case_transferred"], true);
        self.ok(
            "record_reception_confirmed",
            json!({"receiving_agency_confirmed": true}),
        )
        .await;
    }
}

/// The date `days` from the service's now, as a date fact.
fn date_in(s: &TestServer, days: i64) -> String {
    (s.app.now() + Duration::days(days))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

async fn scenario_1_unaccompanied_boy_from_niger_stays_in_italy_and_is_never_returned(
    version: u32,
) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, IT_CP, version).await;
    // Found in farm work, no documents: age uncertain, treated as a child.
    assert_eq!(c.state("age").await, "minor_presumed");
    c.presume().await;
    let states = c.states().await;
    assert_eq!(states["identification"], "presumed_child_victim");
    assert_eq!(states["protection"], "placement_needed");
    assert_eq!(states["best_interests"], "best_interests_assessment");
    assert_eq!(states["solution"], "awaiting_bid");
    assert_eq!(states["guardianship"], "guardian_pending");
    assert_eq!(c.timer_status("reflection_period").await, "RUNNING");

    c.appoint_guardian().await;
    assert_eq!(c.state("guardianship").await, "under_guardianship");
    c.protect().await;
    assert_eq!(c.state("protection").await, "protection_measures");
    c.ok("identify_child_victim", json!({"evidence_reviewed": true}))
        .await;
    assert_eq!(c.state("identification").await, "identified_child_victim");
    c.ok(
        "record_child_views",
        json!({"child_heard_for_bid": true, "child_views_on_return": "disagrees"}),
    )
    .await;

    // Before any determination, a return cannot even be prepared.
    c.refused_by(
        "start_return_procedure",
        json!({}),
        &["bid_return_and_reunify"],
    )
    .await;

    // Tracing with the Niger focal point (recorded by the lead agency): the uncle recruited him.
    c.ok(
        "start_family_tracing",
        json!({"tracing_channel": "origin_focal_point", "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
    )
    .await;
    c.ok(
        "record_family_found",
        json!({"family_member_found": "uncle_or_aunt"}),
    )
    .await;
    c.ok("verify_family_link", json!({"family_link_verified": true}))
        .await;
    c.refused_by(
        "record_family_assessment",
        json!({"family_involved_in_trafficking": true, "family_assessment_result": "positive"}),
        &["involved_family_not_positive"],
    )
    .await;
    c.ok(
        "record_family_assessment",
        json!({"family_involved_in_trafficking": true, "family_assessment_result": "negative"}),
    )
    .await;
    assert_eq!(c.state("best_interests").await, "bid_panel");

    // The panel cannot send him back to a family involved in his trafficking.
    c.refused_by(
        "determine_best_interests",
        json!({"bid_outcome": "return_and_reunify", "bid_panel_multidisciplinary": true}),
        &["reunification_needs_positive_family_assessment"],
    )
    .await;
    c.determine("stay_and_integrate").await;
    assert_eq!(c.state("best_interests").await, "best_interests_determined");
    c.refused_by(
        "start_return_procedure",
        json!({}),
        &["bid_return_and_reunify"],
    )
    .await;

    // Long-term assistance in Italy with a permit.
    let case = c
        .ok(
            "start_local_integration",
            json!({"care_arrangement": "foster_family"}),
        )
        .await;
    let solution = case["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["track"] == "solution")
        .unwrap()
        .clone();
    assert_eq!(solution["state"], "local_integration");
    assert_eq!(solution["stage"], "LONG_TERM_ASSISTANCE");
    let until = date_in(&s, 365);
    if version < 4 {
        c.ok(
            "record_residence_permit",
            json!({"residence_permit_until": until, "residence_permit_ground": "child_victim"}),
        )
        .await;
    } else {
        // From version 4 the migration authority the lead involves grants the permit itself, on
        // its dates (issued today).
        s.involve_for_child(IT_CP, &c.id, "it.migration", &["IDENTITY", "LEGAL_STATUS"])
            .await;
        c.sync().await;
        c.0.ok(
            "it.migration",
            "grant_residence_permit",
            json!({"residence_permit_issued": date_in(&s, 0), "residence_permit_until": until,
                "residence_permit_ground": "child_victim"}),
        )
        .await;
    }
    let timers = c.timers().await;
    assert_eq!(timers["residence_permit"].0, "RUNNING");
    assert!(timers["residence_permit"].1.starts_with(&until));
    c.ok(
        "review_protection_plan",
        json!({"risk_level": "low", "best_interests_reviewed": true}),
    )
    .await;

    // Months later, any attempt to start a return is still refused by the BID guard.
    s.clock.advance(Duration::days(120));
    c.refused_by(
        "start_return_procedure",
        json!({}),
        &["bid_return_and_reunify"],
    )
    .await;
    let (code, _) = c.refused("depart_accompanied_return", json!({})).await;
    assert_eq!(code, "INVALID_TRANSITION");
    assert_eq!(c.state("solution").await, "local_integration");
    assert_eq!(c.status().await, "ACTIVE");
    s.stop().await;
}

async fn scenario_5_malian_girl_returns_from_senegal_to_her_family_and_the_case_closes(
    version: u32,
) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    // Identification and protection; study of her situation.
    c.identified().await;
    assert_eq!(c.view().await["country"], "SN");
    c.ok(
        "record_child_views",
        json!({"child_heard_for_bid": true, "child_views_on_return": "agrees", "child_views_on_transfer": "agrees"}),
    )
    .await;
    // Tracing in Mali, positive family assessment, BID return and reunify.
    c.trace_family("origin_child_protection", false, "positive")
        .await;
    c.determine("return_and_reunify").await;
    c.ok("start_return_procedure", json!({})).await;
    assert_eq!(c.state("solution").await, "return_preparation");
    // Caregiver agreed; joint risk assessment; escort; transfer; Mali confirms reception.
    c.arrange_return().await;
    // Still within the reflection period: no departure yet.
    c.refused_by(
        "depart_accompanied_return",
        json!({}),
        &["floor:reflection_period"],
    )
    .await;
    s.clock.advance(Duration::days(31));
    c.ok("depart_accompanied_return", json!({})).await;
    assert_eq!(c.state("solution").await, "accompanied_return");
    assert_eq!(c.timer_status("arrival_confirmation").await, "RUNNING");
    // Mali child protection receives her and hands her to her parents.
    s.clock.advance(Duration::days(1));
    c.ok(
        "confirm_reception",
        json!({"received_by_origin_child_protection": true, "handed_to_caregiver": true}),
    )
    .await;
    let states = c.states().await;
    assert_eq!(states["solution"], "received_in_origin");
    assert_eq!(states["guardianship"], "guardianship_ended");
    assert_eq!(states["protection"], "protection_ended");
    assert_eq!(c.timer_status("reintegration_plan").await, "RUNNING");
    assert_eq!(c.timer_status("arrival_confirmation").await, "STOPPED");
    // Reintegration within the month, follow-up, closure.
    s.clock.advance(Duration::days(20));
    c.ok(
        "adopt_reintegration_plan",
        json!({"reintegration_plan_adopted": true, "family_support_planned": true}),
    )
    .await;
    assert_eq!(c.timer_status("reintegration_plan").await, "STOPPED");
    c.ok("start_follow_up", json!({})).await;
    assert_eq!(c.timer_status("follow_up_review").await, "RUNNING");
    c.refused_by(
        "close_child_case",
        json!({}),
        &["follow_up_visit_recorded", "feedback_to_destination"],
    )
    .await;
    s.clock.advance(Duration::days(90));
    c.ok(
        "record_follow_up_visit",
        json!({"follow_up_outcome": "doing_well", "feedback_to_destination": true}),
    )
    .await;
    let case = c.ok("close_child_case", json!({})).await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["solution"], "child_case_closed");
    assert_eq!(states["identification"], "identified_child_victim");
    assert_eq!(states["person"], "person_case_closed");
    assert_eq!(states["age"], "age_closed");
    assert_eq!(states["best_interests"], "best_interests_closed");
    s.stop().await;
}

async fn each_condition_of_the_return_guard_is_refused_by_name(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.reach_return_preparation().await;
    // Nothing arranged yet, and the reflection period runs: every missing condition is listed.
    c.refused_by(
        "depart_accompanied_return",
        json!({}),
        &[
            "floor:reflection_period",
            "caregiver_agreed",
            "risk_acceptable",
            "escort_arranged",
            "receiving_agency_confirmed",
        ],
    )
    .await;
    // The receiving agency answers only once the case is transferred to it.
    c.refused_by(
        "record_reception_confirmed",
        json!({"receiving_agency_confirmed": true}),
        &["case_transferred"],
    )
    .await;
    c.refused_by(
        "record_return_risk_assessment",
        json!({"joint_risk_assessment": false, "return_risk": "acceptable"}),
        &["joint_with_origin"],
    )
    .await;
    // The transfer step fires only when the origin agency accepts a transfer of lead.
    let (code, unmet) = c.refused("transfer_case_to_origin", json!({})).await;
    assert_eq!((code.as_str(), unmet.len()), ("INVALID_TRANSITION", 0));
    c.arrange_return().await;
    s.clock.advance(Duration::days(31));

    // Each condition missing alone: exactly its own guard.
    let cases: [(&str, Value, Value, &str); 4] = [
        (
            "record_caregiver_agreement",
            json!({"caregiver_agreed": false}),
            json!({"caregiver_agreed": true}),
            "caregiver_agreed",
        ),
        (
            "record_return_risk_assessment",
            json!({"joint_risk_assessment": true, "return_risk": "not_acceptable"}),
            json!({"joint_risk_assessment": true, "return_risk": "acceptable"}),
            "risk_acceptable",
        ),
        (
            "arrange_escort",
            json!({"escort_arranged": false}),
            json!({"escort_arranged": true}),
            "escort_arranged",
        ),
        (
            "record_reception_confirmed",
            json!({"receiving_agency_confirmed": false}),
            json!({"receiving_agency_confirmed": true}),
            "receiving_agency_confirmed",
        ),
    ];
    for (transition, missing, restored, guard) in cases {
        c.ok(transition, missing).await;
        c.refused_by("depart_accompanied_return", json!({}), &[guard])
            .await;
        c.ok(transition, restored).await;
    }
    // The determination under review, then changed: the BID guard alone.
    c.ok(
        "review_best_interests_determination",
        json!({"bid_review_reason": "new_information"}),
    )
    .await;
    c.refused_by(
        "depart_accompanied_return",
        json!({}),
        &["bid_return_and_reunify"],
    )
    .await;
    c.determine("alternative_care").await;
    c.refused_by(
        "depart_accompanied_return",
        json!({}),
        &["bid_return_and_reunify"],
    )
    .await;
    c.ok(
        "review_best_interests_determination",
        json!({"bid_review_reason": "circumstances_changed"}),
    )
    .await;
    c.determine("return_and_reunify").await;

    // Everything in place: the child leaves, escorted.
    c.ok("depart_accompanied_return", json!({})).await;
    // Not received on arrival: alert, then the missing-child protocol; found again later.
    s.clock.advance(Duration::days(3));
    assert_eq!(
        c.timer_status("arrival_confirmation").await,
        "ELAPSED",
        "48 hours without confirmation"
    );
    if version >= 2 {
        c.ok_alerting(
            "report_not_received",
            json!({"police_alerted": true, "guardian_alerted": true}),
        )
        .await;
    } else {
        // Version 1 declares no alert here: the missing-child report below raises it.
        c.ok("report_not_received", json!({})).await;
    }
    assert_eq!(c.state("solution").await, "not_received_on_arrival");
    c.ok_alerting(
        "report_missing",
        json!({"police_alerted": true, "guardian_alerted": true}),
    )
    .await;
    c.ok_alerting("record_found", json!({"risk_level": "high"}))
        .await;
    c.ok(
        "confirm_reception",
        json!({"received_by_origin_child_protection": true}),
    )
    .await;
    c.ok(
        "adopt_reintegration_plan",
        json!({"reintegration_plan_adopted": true}),
    )
    .await;
    c.ok("start_follow_up", json!({})).await;
    // A child at risk, or not contactable, is not closed.
    c.ok(
        "record_follow_up_visit",
        json!({"follow_up_outcome": "at_risk", "feedback_to_destination": true}),
    )
    .await;
    c.refused_by("close_child_case", json!({}), &["child_not_at_risk"])
        .await;
    c.ok(
        "record_follow_up_visit",
        json!({"follow_up_outcome": "not_contactable"}),
    )
    .await;
    c.refused_by("close_child_case", json!({}), &["contactable"])
        .await;
    assert_eq!(c.status().await, "ACTIVE");
    s.stop().await;
}

async fn an_unsafe_return_is_abandoned_and_a_third_country_solution_decided(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.reach_return_preparation().await;
    c.ok(
        "record_return_risk_assessment",
        json!({"joint_risk_assessment": true, "return_risk": "not_acceptable"}),
    )
    .await;
    c.ok(
        "abandon_return",
        json!({"return_abandoned_reason": "risk_not_acceptable"}),
    )
    .await;
    assert_eq!(c.state("solution").await, "awaiting_bid");
    // The old determination still says return: nothing else can start until it is reviewed.
    c.refused_by(
        "start_local_integration",
        json!({"care_arrangement": "residential_care"}),
        &["bid_stay_or_alternative_care"],
    )
    .await;
    c.refused_by(
        "start_third_country_solution",
        json!({}),
        &["bid_third_country"],
    )
    .await;
    c.ok(
        "review_best_interests_determination",
        json!({"bid_review_reason": "return_not_safe"}),
    )
    .await;
    c.determine("third_country").await;
    c.ok("start_third_country_solution", json!({})).await;
    assert_eq!(c.state("solution").await, "third_country_process");
    c.refused_by(
        "depart_to_third_country",
        json!({"receiving_agency_confirmed": false, "escort_arranged": true}),
        &["floor:reflection_period", "receiving_agency_confirmed"],
    )
    .await;
    s.clock.advance(Duration::days(30));
    let case = c
        .ok(
            "depart_to_third_country",
            json!({"receiving_agency_confirmed": true, "escort_arranged": true}),
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    assert_eq!(c.state("solution").await, "transferred_to_third_country");
    assert_eq!(c.state("guardianship").await, "guardianship_ended");
    s.stop().await;
}

async fn a_guardian_is_appointed_before_any_identification_decision(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.presume().await;
    c.ok(
        "place_child",
        json!({"risk_level": "high", "placement_type": "residential_care", "placement_secure": true}),
    )
    .await;
    c.refused_by(
        "identify_child_victim",
        json!({"evidence_reviewed": true}),
        &["guardian_appointed"],
    )
    .await;
    c.refused_by(
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators", "child_and_guardian_informed": true}),
        &["guardian_appointed"],
    )
    .await;
    c.refused_by(
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
        &["guardian_appointed"],
    )
    .await;
    c.refused_by(
        "record_child_views",
        json!({"child_heard_for_bid": true}),
        &["guardian_appointed"],
    )
    .await;
    c.refused_by(
        "start_family_tracing",
        json!({"tracing_channel": "ngo_network", "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
        &["guardian_consent"],
    )
    .await;
    // A guardian with a conflict of interest is not a guardian.
    c.refused_by(
        "appoint_guardian",
        json!({"guardian_appointed_by": "court", "guardian_independent": false}),
        &["guardian_independent"],
    )
    .await;
    c.appoint_guardian().await;
    c.ok(
        "replace_guardian",
        json!({"guardian_appointed_by": "guardianship_authority", "guardian_independent": true}),
    )
    .await;
    assert_eq!(c.state("guardianship").await, "under_guardianship");
    // Now decisions can be taken: not identified, reconsidered on new evidence, not identified.
    c.ok(
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "insufficient_indicators", "child_and_guardian_informed": true}),
    )
    .await;
    if version < 3 {
        c.refused_by(
            "reconsider_identification",
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": false}),
            &["new_evidence"],
        )
        .await;
        c.ok(
            "reconsider_identification",
            json!({"reconsideration_requested_by": "support_provider", "new_evidence": true}),
        )
        .await;
    } else {
        // From version 3 the request is the first responder's or support provider's own (here
        // the child-protection service that found him), and the competent body decides.
        c.refused_by(
            "request_reconsideration",
            json!({"new_evidence": false}),
            &["new_evidence"],
        )
        .await;
        c.ok("request_reconsideration", json!({"new_evidence": true}))
            .await;
        assert_eq!(c.state("identification").await, "reconsideration_requested");
        c.ok(
            "reconsider_identification",
            json!({"evidence_reviewed": true}),
        )
        .await;
    }
    assert_eq!(c.state("identification").await, "presumed_child_victim");
    c.ok(
        "decide_not_identified",
        json!({"evidence_reviewed": true, "not_identified_reason": "other_crime", "child_and_guardian_informed": true}),
    )
    .await;
    if version >= 3 {
        // Asked again on other evidence, the decision is upheld once the child and the guardian
        // are told.
        c.ok("request_reconsideration", json!({"new_evidence": true}))
            .await;
        c.refused_by(
            "uphold_not_identified",
            json!({"evidence_reviewed": true, "child_and_guardian_informed": false}),
            &["child_and_guardian_informed"],
        )
        .await;
        c.ok(
            "uphold_not_identified",
            json!({"evidence_reviewed": true, "child_and_guardian_informed": true}),
        )
        .await;
        assert_eq!(c.state("identification").await, "not_identified");
    }
    c.refused_by(
        "close_not_identified",
        json!({"handed_to_child_protection": false}),
        &["handed_to_child_protection"],
    )
    .await;
    let case = c
        .ok(
            "close_not_identified",
            json!({"handed_to_child_protection": true}),
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["identification"], "closed_not_identified");
    assert_eq!(states["protection"], "protection_ended");
    assert_eq!(states["solution"], "solution_closed");
    assert_eq!(c.timer_status("reflection_period").await, "STOPPED");

    s.stop().await;
}

async fn a_child_without_indicators_is_referred_elsewhere_once_child_protection_knows(
    version: u32,
) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, IT_CP, version).await;
    c.ok("start_screening", json!({"signal_source": "hotline"}))
        .await;
    c.refused_by(
        "record_presumed_child_victim",
        json!({"indicators_found": false, "child_protection_notified": false}),
        &["indicators_found", "child_protection_notified"],
    )
    .await;
    c.refused_by(
        "refer_child_elsewhere",
        json!({"reclassification": "no_indicators", "child_protection_notified": false}),
        &["child_protection_notified"],
    )
    .await;
    let case = c
        .ok(
            "refer_child_elsewhere",
            json!({"reclassification": "general_child_protection", "child_protection_notified": true}),
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["identification"], "referred_elsewhere");
    assert_eq!(states["guardianship"], "guardianship_ended");
    assert!(!states.contains_key("protection"), "never started");
    s.stop().await;
}

async fn children_in_bulgaria_get_protection_measures_but_no_reflection_period(version: u32) {
    let s = TestServer::start().await;
    let mut bg = AsLead::open(&s, "bg.shelter", version).await;
    bg.presume().await;
    let case = bg.view().await;
    assert_eq!(case["country"], "BG");
    assert_eq!(
        case["timers"],
        json!([]),
        "no reflection period for children"
    );
    assert_eq!(bg.state("protection").await, "placement_needed");
    bg.ok(
        "place_child",
        json!({"risk_level": "low", "placement_type": "foster_family"}),
    )
    .await;
    assert_eq!(bg.state("protection").await, "situation_study");

    // The same step in Italy starts the 30-day reflection period.
    let mut it = AsLead::open(&s, IT_CP, version).await;
    it.presume().await;
    let timers = it.timers().await;
    assert_eq!(timers.keys().collect::<Vec<_>>(), ["reflection_period"]);
    assert_eq!(timers["reflection_period"].0, "RUNNING");
    // A high-risk child is placed securely.
    it.refused_by(
        "place_child",
        json!({"risk_level": "high", "placement_type": "foster_family"}),
        &["high_risk_needs_secure_placement"],
    )
    .await;
    it.ok(
        "place_child",
        json!({"risk_level": "high", "placement_type": "specialised_children_shelter", "placement_secure": true}),
    )
    .await;
    it.refused_by(
        "record_needs_assessment",
        json!({"needs_assessment_multidisciplinary": false}),
        &["multidisciplinary"],
    )
    .await;
    it.ok(
        "record_needs_assessment",
        json!({"needs_assessment_multidisciplinary": true}),
    )
    .await;
    it.refused_by(
        "adopt_action_plan",
        json!({"action_plan_owners_and_dates": false}),
        &["owners_and_dates"],
    )
    .await;
    s.stop().await;
}

async fn a_missing_child_suspends_the_case_and_is_not_closed_before_three_months(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.presume().await;
    c.appoint_guardian().await;
    s.clock.advance(Duration::days(10));
    // The alert goes to the police and the guardian at once (the focal points on the route are
    // alerted by the service itself).
    c.refused_by(
        "report_missing",
        json!({"police_alerted": true, "guardian_alerted": false}),
        &["guardian_alerted"],
    )
    .await;
    c.ok_alerting(
        "report_missing",
        json!({"police_alerted": true, "guardian_alerted": true}),
    )
    .await;
    assert_eq!(c.state("person").await, "missing");
    assert_eq!(c.timer_status("reflection_period").await, "PAUSED");
    assert_eq!(c.timer_status("missing_child_closure").await, "RUNNING");
    // While the child is missing, nothing else moves.
    c.refused_by(
        "place_child",
        json!({"risk_level": "low", "placement_type": "foster_family"}),
        &["case_suspended"],
    )
    .await;
    // Found five days later: the case resumes where it was, the reflection period 5 days later.
    let due_before = c.timers().await["reflection_period"].1.clone();
    s.clock.advance(Duration::days(5));
    c.ok_alerting("record_found", json!({"risk_level": "high"}))
        .await;
    let timers = c.timers().await;
    assert_eq!(timers["reflection_period"].0, "RUNNING");
    assert_ne!(timers["reflection_period"].1, due_before);
    assert_eq!(timers["missing_child_closure"].0, "STOPPED");
    assert_eq!(c.state("protection").await, "placement_needed");
    assert_eq!(c.state("person").await, "in_contact");

    // Missing again; the case cannot be closed before three months of searching.
    c.ok_alerting(
        "report_missing",
        json!({"police_alerted": true, "guardian_alerted": true}),
    )
    .await;
    assert_eq!(c.timer_status("missing_child_closure").await, "RUNNING");
    s.clock.advance(Duration::days(89));
    let close = json!({"search_efforts_documented": true, "network_informed_of_closure": true});
    c.refused_by(
        "close_missing_child_case",
        close.clone(),
        &["floor:missing_child_closure"],
    )
    .await;
    s.clock.advance(Duration::days(2));
    c.refused_by(
        "close_missing_child_case",
        json!({"search_efforts_documented": true, "network_informed_of_closure": false}),
        &["network_informed"],
    )
    .await;
    let case = c.ok("close_missing_child_case", close).await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["person"], "closed_while_missing");
    assert_eq!(states["identification"], "identification_ended");
    // The paused reflection period no longer counts (the engine reports a paused timer stopped
    // after its original due date as ELAPSED).
    let reflection = c.timer_status("reflection_period").await;
    assert!(
        reflection == "STOPPED" || reflection == "ELAPSED",
        "{reflection}"
    );
    s.stop().await;
}

async fn turning_18_ends_guardianship_and_needs_a_transition_plan(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, IT_CP, version).await;
    c.presume().await;
    c.appoint_guardian().await;
    c.protect().await;
    let birthday = date_in(&s, 10);
    c.ok(
        "identify_child_victim",
        json!({"evidence_reviewed": true, "reaches_majority_on": birthday}),
    )
    .await;
    let timers = c.timers().await;
    assert_eq!(timers["majority"].0, "RUNNING");
    assert!(timers["majority"].1.starts_with(&birthday));
    c.refused_by("record_turning_18", json!({}), &["majority_reached"])
        .await;
    if version >= 2 {
        // The plan is prepared with the young person before the birthday: its deadline is met.
        assert_eq!(c.timer_status("transition_plan").await, "RUNNING");
        c.refused_by(
            "adopt_transition_plan",
            json!({"transition_plan_adopted": false}),
            &["transition_plan_adopted"],
        )
        .await;
        c.ok(
            "adopt_transition_plan",
            json!({"transition_plan_adopted": true}),
        )
        .await;
        assert_eq!(c.timer_status("transition_plan").await, "STOPPED");
    }
    s.clock.advance(Duration::days(11));
    c.ok("record_turning_18", json!({})).await;
    let states = c.states().await;
    assert_eq!(states["age"], "turned_18");
    assert_eq!(states["guardianship"], "guardianship_ended");
    // Consent now comes from the young person; the guardian no longer gives it.
    c.refused_by(
        "hand_over_to_adult_procedure",
        json!({"transition_plan_adopted": false, "consent_from_person": true}),
        &["transition_plan_adopted"],
    )
    .await;
    c.refused_by(
        "hand_over_to_adult_procedure",
        json!({"transition_plan_adopted": true, "consent_from_person": false}),
        &["consent_from_person"],
    )
    .await;
    let open = "mutation($w: String!, $f: ID) { openCase(input: {workflowId: $w, followsCaseId: $f}) { case { id workflow { key } followsCase { id } } } }";
    if version >= 2 {
        // Nothing opens an adult case for the person before the hand-over ...
        let body = s
            .gql(IT_CP, open, json!({"w": "trm-adult", "f": c.id}))
            .await;
        assert_eq!(error_code(&body), "CASE_STILL_ACTIVE", "{body}");
        // ... and the hand-over continues this very case under the adult procedure, in one event.
        let case = c
            .ok(
                "hand_over_to_adult_procedure",
                json!({"consent_from_person": true}),
            )
            .await;
        assert_eq!(case["status"], "ACTIVE");
        let now = c
            .query("query($id: ID!) { case(id: $id) { workflow { key version } } }")
            .await;
        assert_eq!(now["workflow"]["key"], "trm-adult");
        let states = c.states().await;
        assert_eq!(states["identification"], "formally_identified");
        assert_eq!(states["person"], "present");
        assert!(!states.contains_key("age") && !states.contains_key("guardianship"));
        // The young adult's case goes on under the adult procedure (its latest version, where the
        // prosecutor the lead involves records a protection measure), and still no second case.
        s.involve(IT_CP, &c.id, "it.prosecutor", &["IDENTITY"])
            .await;
        c.sync().await;
        c.0.ok(
            "it.prosecutor",
            "order_protection_measure",
            json!({"protection_measure": "relocation"}),
        )
        .await;
        let body = s
            .gql(IT_CP, open, json!({"w": "trm-adult", "f": c.id}))
            .await;
        assert_eq!(error_code(&body), "CASE_STILL_ACTIVE", "{body}");
        s.stop().await;
        return;
    }
    let case = c
        .ok(
            "hand_over_to_adult_procedure",
            json!({"transition_plan_adopted": true, "consent_from_person": true}),
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["age"], "continues_under_adult_procedure");
    assert_eq!(states["solution"], "solution_closed");
    assert_eq!(c.timer_status("reflection_period").await, "STOPPED");
    // Version 1: the young adult's case continues as a new case under the adult procedure,
    // linked to the closed child case.
    let body = s
        .gql("bg.shelter", open, json!({"w": "trm-adult", "f": c.id}))
        .await;
    assert_eq!(
        error_code(&body),
        "NOT_FOUND",
        "another agency cannot link to a case it may not see"
    );
    let data = s
        .data(IT_CP, open, json!({"w": "trm-adult", "f": c.id}))
        .await;
    let adult = &data["openCase"]["case"];
    assert_eq!(adult["workflow"]["key"], "trm-adult");
    assert_eq!(adult["followsCase"]["id"], c.id.as_str());
    let linked = s
        .data(
            IT_CP,
            "query($id: ID!) { case(id: $id) { followedBy { id workflow { key } } } }",
            json!({"id": c.id}),
        )
        .await;
    assert_eq!(linked["case"]["followedBy"][0]["id"], adult["id"]);
    s.stop().await;
}

async fn age_is_assessed_only_on_serious_doubt_and_the_refusal_of_a_test_decides_nothing(
    version: u32,
) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.presume().await;
    c.appoint_guardian().await;
    c.refused_by(
        "request_age_assessment",
        json!({"serious_doubt_about_age": false}),
        &["serious_doubt"],
    )
    .await;
    c.ok(
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
    )
    .await;
    assert_eq!(c.state("age").await, "age_assessment");
    // A range of 17 to 20: the lowest age is recorded, so a child; the refused test is no answer.
    c.refused_by(
        "record_age_as_adult",
        json!({"age_assessment_method": "medical_examination", "age_range_lowest": 17, "age_range_highest": 20,
               "medical_examination_refused": true, "person_informed_of_age_decision": true}),
        &["lowest_age_is_adult", "refusal_does_not_decide"],
    )
    .await;
    c.refused_by(
        "record_age_as_minor",
        json!({"age_assessment_method": "multidisciplinary", "age_range_lowest": 19, "age_range_highest": 17}),
        &["range_is_ordered", "lowest_age_under_18"],
    )
    .await;
    c.ok(
        "record_age_as_minor",
        json!({"age_assessment_method": "multidisciplinary", "age_range_lowest": 17, "age_range_highest": 20,
               "medical_examination_refused": true, "reaches_majority_on": date_in(&s, 200)}),
    )
    .await;
    assert_eq!(c.state("age").await, "minor_confirmed");
    assert_eq!(c.timer_status("majority").await, "RUNNING");

    // Assessed as an adult, challenged by the guardian, upheld: a child again.
    let mut d = AsLead::open(&s, SN_CP, version).await;
    d.presume().await;
    d.appoint_guardian().await;
    d.ok(
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
    )
    .await;
    let adult = json!({"age_assessment_method": "multidisciplinary", "age_range_lowest": 19,
                       "age_range_highest": 23, "person_informed_of_age_decision": true});
    d.ok("record_age_as_adult", adult.clone()).await;
    assert_eq!(d.state("age").await, "assessed_adult");
    // Still treated as a child while the decision can be challenged.
    assert_eq!(d.status().await, "ACTIVE");
    d.ok(
        "challenge_age_assessment",
        json!({"age_challenge_by": "guardian"}),
    )
    .await;
    assert_eq!(d.state("age").await, "age_disputed");
    d.ok("uphold_age_challenge", json!({"age_range_lowest": 16}))
        .await;
    assert_eq!(d.state("age").await, "minor_confirmed");

    // Challenge rejected: an adult; the child procedure ends (the adult procedure takes over).
    let mut e = AsLead::open(&s, SN_CP, version).await;
    e.presume().await;
    e.appoint_guardian().await;
    e.ok(
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
    )
    .await;
    e.ok("record_age_as_adult", adult.clone()).await;
    e.ok(
        "challenge_age_assessment",
        json!({"age_challenge_by": "child"}),
    )
    .await;
    let case = e.ok("reject_age_challenge", json!({})).await;
    if version >= 2 {
        // The same case continues under the adult procedure.
        assert_eq!(case["status"], "ACTIVE");
        let states = e.states().await;
        assert_eq!(states["identification"], "presumed_victim");
        assert!(!states.contains_key("age") && !states.contains_key("guardianship"));
    } else {
        assert_eq!(case["status"], "CLOSED");
        assert_eq!(e.state("age").await, "adult_confirmed");
        assert_eq!(e.state("guardianship").await, "guardianship_ended");
    }

    // Not challenged: the decision becomes final.
    let mut f = AsLead::open(&s, SN_CP, version).await;
    f.presume().await;
    f.appoint_guardian().await;
    f.ok(
        "request_age_assessment",
        json!({"serious_doubt_about_age": true}),
    )
    .await;
    f.ok("record_age_as_adult", adult).await;
    let case = f.ok("accept_adult_assessment", json!({})).await;
    if version >= 2 {
        assert_eq!(case["status"], "ACTIVE");
        let states = f.states().await;
        assert_eq!(states["identification"], "presumed_victim");
        assert_eq!(states["assistance"], "needs_assessment");
    } else {
        assert_eq!(case["status"], "CLOSED");
        assert_eq!(f.state("age").await, "adult_confirmed");
        assert_eq!(f.state("protection").await, "protection_ended");
    }
    s.stop().await;
}

async fn an_asylum_seeking_child_is_never_traced_or_returned_through_origin_authorities(
    version: u32,
) {
    let mut s = TestServer::start().await;
    if version >= 4 {
        // From version 4 the decision on the application is the migration authority's.
        let authority = s
            .data(
                "admin",
                "mutation { createAgency(input: {name: \"Demo Direction de la Police de l'Air et des Frontières (Dakar)\", kind: MIGRATION_AUTHORITY, country: \"SN\"}) { agency { id } } }",
                json!({}),
            )
            .await["createAgency"]["agency"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        add_user(&mut s, &authority, SN_MIGRATION, &["CASE_WORKER"]).await;
    }
    let mut c = AsLead::open(&s, SN_CP, version).await;
    c.identified().await;
    let decision = json!({"asylum_decision": "refugee_status"});
    if version < 4 {
        c.refused_by(
            "record_asylum_decision",
            decision.clone(),
            &["asylum_applied"],
        )
        .await;
    } else {
        // The lead does not record it; the authority it involves does, once the child applied.
        let (code, _) = c.refused("record_asylum_decision", decision.clone()).await;
        assert_eq!(
            code, "FORBIDDEN",
            "child protection does not decide on asylum"
        );
        s.involve_for_child(SN_CP, &c.id, SN_MIGRATION, &["IDENTITY", "LEGAL_STATUS"])
            .await;
        c.sync().await;
        c.0.refused_by(
            SN_MIGRATION,
            "record_asylum_decision",
            decision.clone(),
            &["asylum_applied"],
        )
        .await;
    }
    c.ok("record_asylum_application", json!({})).await;
    assert_eq!(c.view().await["facts"]["asylum_applied"], true);
    c.refused_by(
        "start_family_tracing",
        json!({"tracing_channel": "origin_focal_point", "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
        &["no_origin_authorities_for_asylum_seeker"],
    )
    .await;
    c.refused_by(
        "start_family_tracing",
        json!({"tracing_channel": "embassy_or_consulate", "guardian_consent_to_tracing": true, "tracing_risk_assessed": false}),
        &["tracing_risk_assessed", "no_origin_authorities_for_asylum_seeker"],
    )
    .await;
    c.ok(
        "start_family_tracing",
        json!({"tracing_channel": "red_cross_family_links", "guardian_consent_to_tracing": true, "tracing_risk_assessed": true}),
    )
    .await;
    // A link that cannot be confirmed sends tracing back; then the family is not found.
    c.ok(
        "record_family_found",
        json!({"family_member_found": "father"}),
    )
    .await;
    c.refused_by(
        "verify_family_link",
        json!({"family_link_verified": false}),
        &["family_link_verified"],
    )
    .await;
    c.refused_by(
        "reject_family_link",
        json!({"family_link_verified": true}),
        &["family_link_not_verified"],
    )
    .await;
    c.ok("reject_family_link", json!({"family_link_verified": false}))
        .await;
    assert_eq!(c.state("best_interests").await, "family_tracing");
    c.ok(
        "record_family_not_found",
        json!({"tracing_result": "not_found"}),
    )
    .await;
    assert_eq!(c.state("best_interests").await, "bid_panel");
    // The panel hears the child first, sits as a multidisciplinary panel, needs a family to reunify.
    c.refused_by(
        "determine_best_interests",
        json!({"bid_outcome": "return_and_reunify", "bid_panel_multidisciplinary": false}),
        &[
            "child_heard",
            "multidisciplinary_panel",
            "reunification_needs_positive_family_assessment",
        ],
    )
    .await;
    c.ok(
        "record_child_views",
        json!({"child_heard_for_bid": true, "child_views_on_return": "disagrees"}),
    )
    .await;
    if version < 4 {
        c.ok("record_asylum_decision", decision).await;
    } else {
        let (code, _) = c.refused("record_asylum_decision", decision.clone()).await;
        assert_eq!(code, "FORBIDDEN", "not even once the child applied");
        c.0.ok(SN_MIGRATION, "record_asylum_decision", decision)
            .await;
        let event = last_event(&s, SN_CP, &c.id).await;
        assert_eq!(event["agency"]["kind"], "MIGRATION_AUTHORITY");
        assert_eq!(event["actor"]["username"], SN_MIGRATION);
    }
    assert_eq!(c.view().await["facts"]["asylum_decision"], "refugee_status");
    c.determine("stay_and_integrate").await;
    c.refused_by(
        "start_return_procedure",
        json!({}),
        &[
            "bid_return_and_reunify",
            "no_origin_authorities_for_asylum_seeker",
        ],
    )
    .await;
    c.ok(
        "start_local_integration",
        json!({"care_arrangement": "supervised_independent_living"}),
    )
    .await;
    c.refused_by(
        "close_after_integration",
        json!({"integration_achieved": false}),
        &["integration_achieved"],
    )
    .await;
    // From version 4 closing also ends the referral that involved the migration authority.
    let then: &[&str] = if version < 4 { &[] } else { &["REFERRAL"] };
    let lead = c.reader.clone();
    let case =
        c.0.ok_then(
            &lead,
            "close_after_integration",
            json!({"integration_achieved": true}),
            then,
        )
        .await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["solution"], "integration_closed");
    assert_eq!(states["identification"], "identified_child_victim");
    s.stop().await;
}

async fn the_death_of_a_child_closes_every_track(version: u32) {
    let s = TestServer::start().await;
    let mut c = AsLead::open(&s, IT_CP, version).await;
    c.presume().await;
    // Closing a missing child's case needs the child to be missing.
    let (code, _) = c
        .refused(
            "close_missing_child_case",
            json!({"search_efforts_documented": true, "network_informed_of_closure": true}),
        )
        .await;
    assert_eq!(code, "INVALID_TRANSITION", "the child is not missing");
    let case = c.ok("record_death", json!({})).await;
    assert_eq!(case["status"], "CLOSED");
    let states = c.states().await;
    assert_eq!(states["person"], "deceased");
    assert_eq!(states["protection"], "protection_ended");
    assert_eq!(states["identification"], "identification_ended");
    assert_eq!(c.timer_status("reflection_period").await, "STOPPED");
    s.stop().await;
}

// Each story is played on every version of the procedure that can still hold a case: the latest,
// for new cases, and the earlier one, for the cases pinned to it.
on_versions! {
    v1 => 1,
    v2 => 2,
    v3 => 3,
    v4 => 4;
    scenario_1_unaccompanied_boy_from_niger_stays_in_italy_and_is_never_returned,
    scenario_5_malian_girl_returns_from_senegal_to_her_family_and_the_case_closes,
    each_condition_of_the_return_guard_is_refused_by_name,
    an_unsafe_return_is_abandoned_and_a_third_country_solution_decided,
    a_guardian_is_appointed_before_any_identification_decision,
    a_child_without_indicators_is_referred_elsewhere_once_child_protection_knows,
    children_in_bulgaria_get_protection_measures_but_no_reflection_period,
    a_missing_child_suspends_the_case_and_is_not_closed_before_three_months,
    turning_18_ends_guardianship_and_needs_a_transition_plan,
    age_is_assessed_only_on_serious_doubt_and_the_refusal_of_a_test_decides_nothing,
    an_asylum_seeking_child_is_never_traced_or_returned_through_origin_authorities,
    the_death_of_a_child_closes_every_track,
}
