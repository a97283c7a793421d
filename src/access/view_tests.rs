//! What the access model decides for a small sharing history.
use super::*;
use crate::access::{CaseScope, is_origin_authority, may_travel};
use crate::domain::{AgencyKind, ConsentRecord};

fn principal(roles: Vec<Role>) -> Principal {
    Principal {
        user_id: Uuid::nil(),
        username: "u".into(),
        display_name: "U".into(),
        agency_id: Uuid::from_u128(1),
        agency_name: "A".into(),
        agency_kind: AgencyKind::Ngo,
        country: "IT".into(),
        roles,
    }
}

#[test]
fn case_workers_see_the_cases_their_agency_is_involved_in() {
    let p = principal(vec![Role::CaseWorker]);
    assert!(matches!(
        p.case_scope(at(1)),
        CaseScope::Agency { agency, .. } if agency == Uuid::from_u128(1)
    ));
}

#[test]
fn auditors_see_every_case() {
    let p = principal(vec![Role::Auditor]);
    assert_eq!(p.case_scope(at(1)), CaseScope::All);
}

fn at(day: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn groups(list: &[DataGroup]) -> BTreeSet<DataGroup> {
    list.iter().copied().collect()
}

/// IT opened the case on day 1 and transferred it to NG on day 10 with identity only; an
/// NGO got a referral (health) that completed on day 5.
fn record() -> SharingRecord {
    SharingRecord {
        opened_by_agency: Uuid::from_u128(1),
        opened_at: at(1),
        lead_agency: Uuid::from_u128(2),
        referrals: vec![ReferralShare {
            from_agency: Uuid::from_u128(1),
            to_agency: Uuid::from_u128(3),
            groups: groups(&[DataGroup::Health]),
            status: ReferralStatus::Completed,
            updated_at: at(5),
        }],
        transfers: vec![TransferShare {
            requested_by_receiver: false,
            from_agency: Uuid::from_u128(1),
            to_agency: Uuid::from_u128(2),
            groups: groups(&[DataGroup::Identity]),
            status: TransferStatus::Accepted,
            decided_at: Some(at(10)),
        }],
        ended: BTreeSet::new(),
    }
}

fn view_of(agency: u128) -> Option<CaseView> {
    let mut p = principal(vec![Role::CaseWorker]);
    p.agency_id = Uuid::from_u128(agency);
    CaseView::of(
        &p,
        &record(),
        false,
        None,
        DataGroup::ALL.iter().copied().collect(),
    )
}

#[test]
fn the_new_lead_sees_only_the_transferred_groups_and_its_own_records() {
    let Some(v) = view_of(2) else {
        panic!("the new lead has a view")
    };
    assert_eq!(v.relation, Relation::Lead);
    assert!(v.may_read(DataGroup::Identity, at(3), Uuid::from_u128(1)));
    assert!(!v.may_read(DataGroup::Health, at(3), Uuid::from_u128(1)));
    assert!(v.may_read(DataGroup::Health, at(12), Uuid::from_u128(2)));
}

#[test]
fn the_former_lead_keeps_what_it_had_at_the_transfer() {
    let Some(v) = view_of(1) else {
        panic!("the former lead has a view")
    };
    assert_eq!(v.relation, Relation::FormerLead { until: at(10) });
    assert!(v.may_read(DataGroup::Health, at(9), Uuid::from_u128(3)));
    assert!(!v.may_read(DataGroup::Identity, at(11), Uuid::from_u128(2)));
    assert!(!v.sees_facts());
}

#[test]
fn a_completed_referral_keeps_its_groups_up_to_completion_and_strangers_see_nothing() {
    let Some(v) = view_of(3) else {
        panic!("the referral receiver has a view")
    };
    assert_eq!(v.relation, Relation::Participant);
    assert!(v.may_read(DataGroup::Health, at(4), Uuid::from_u128(1)));
    assert!(!v.may_read(DataGroup::Health, at(6), Uuid::from_u128(1)));
    assert!(!v.may_read(DataGroup::Identity, at(4), Uuid::from_u128(1)));
    assert_eq!(view_of(9), None);
}

#[test]
fn perpetrator_data_travels_only_between_law_enforcement() {
    let p = groups(&[DataGroup::Perpetrator]);
    assert!(may_travel(&p, AgencyKind::Police, AgencyKind::Prosecutor));
    assert!(!may_travel(&p, AgencyKind::Police, AgencyKind::Ngo));
    assert!(may_travel(
        &groups(&[DataGroup::Identity]),
        AgencyKind::Ngo,
        AgencyKind::Ngo
    ));
}

#[test]
fn embassies_of_the_origin_country_are_its_authorities() {
    assert!(is_origin_authority(
        AgencyKind::EmbassyConsulate,
        "IT",
        Some("NG"),
        "NG"
    ));
    assert!(is_origin_authority(
        AgencyKind::NationalFocalPoint,
        "NG",
        None,
        "NG"
    ));
    assert!(!is_origin_authority(AgencyKind::Ngo, "NG", None, "NG"));
    assert!(!is_origin_authority(AgencyKind::Police, "IT", None, "NG"));
}

#[test]
fn an_auditors_and_the_leads_view_do_not_depend_on_access_rows_or_break_glass() {
    let r = record();
    let roles = BTreeSet::from([DataGroup::Identity]);
    let mut auditor = principal(vec![Role::Auditor]);
    auditor.agency_id = Uuid::from_u128(9);
    let mut lead = principal(vec![Role::CaseWorker]);
    lead.agency_id = r.lead_agency;
    for p in [&auditor, &lead] {
        assert!(!CaseView::depends_on_rows(p, r.lead_agency));
        let plain = CaseView::of(p, &r, false, None, roles.clone());
        assert!(plain.is_some());
        for (row, glass) in [(true, None), (false, Some(at(20))), (true, Some(at(20)))] {
            assert_eq!(CaseView::of(p, &r, row, glass, roles.clone()), plain);
        }
    }
    // Anyone else's view does.
    let stranger = principal(vec![Role::CaseWorker]);
    assert!(CaseView::depends_on_rows(&stranger, r.lead_agency));
}

fn text(writer: u128, day: u32, shared_as: &[DataGroup], addressee: Option<u128>) -> FreeText {
    FreeText {
        writer: Uuid::from_u128(writer),
        at: at(day),
        shared_as: groups(shared_as),
        addressee: addressee.map(Uuid::from_u128),
    }
}

fn auditor_view() -> CaseView {
    let mut p = principal(vec![Role::Auditor]);
    p.agency_id = Uuid::from_u128(9);
    CaseView::of(
        &p,
        &record(),
        false,
        None,
        DataGroup::ALL.iter().copied().collect(),
    )
    .unwrap_or_else(|| panic!("auditors see every case"))
}

#[test]
fn a_free_text_reaches_its_writer_its_addressee_auditors_and_readers_of_all_its_groups() {
    let (Some(former), Some(lead), Some(health)) = (view_of(1), view_of(2), view_of(3)) else {
        panic!("the three agencies have views")
    };
    // Shared as no group: the writer, the addressee and auditors only.
    let private = text(1, 3, &[], None);
    assert!(former.sees_text(&private));
    assert!(!lead.sees_text(&private) && !health.sees_text(&private));
    assert!(auditor_view().sees_text(&private));
    let to_health = text(1, 3, &[], Some(3));
    assert!(health.sees_text(&to_health) && !lead.sees_text(&to_health));
    // Shared as IDENTITY, which the new lead received: it reads it; as HEALTH, it does not.
    assert!(lead.sees_text(&text(1, 3, &[DataGroup::Identity], None)));
    assert!(!lead.sees_text(&text(1, 3, &[DataGroup::Health], None)));
    // Every group must be readable, not some.
    let both = text(1, 3, &[DataGroup::Identity, DataGroup::Health], None);
    assert!(!lead.sees_text(&both));
    // The health referral's receiver reads HEALTH texts written while the referral ran, not
    // after it completed (day 5), nor groups it never received.
    assert!(health.sees_text(&text(1, 4, &[DataGroup::Health], None)));
    assert!(!health.sees_text(&text(1, 6, &[DataGroup::Health], None)));
    assert!(!health.sees_text(&text(1, 4, &[DataGroup::Identity], None)));
    // The former lead reads what was written up to its hand-over (day 10), as the groups then
    // went: the new lead's own later texts shared as IDENTITY are not its.
    assert!(former.sees_text(&text(3, 4, &[DataGroup::Health], None)));
    assert!(!former.sees_text(&text(2, 11, &[DataGroup::Identity], None)));
}

#[test]
fn a_role_that_may_not_read_a_group_does_not_read_texts_shared_as_it() {
    let mut p = principal(vec![Role::FocalPoint]);
    p.agency_id = Uuid::from_u128(2);
    let Some(focal) = CaseView::of(&p, &record(), false, None, groups(&[DataGroup::Identity]))
    else {
        panic!("the lead's focal point has a view")
    };
    assert!(focal.sees_text(&text(1, 3, &[DataGroup::Identity], None)));
    // This role reads no HEALTH: another agency's text shared as HEALTH does not reach it
    // (its own agency's texts do: their writer is its agency).
    assert!(!focal.sees_text(&text(3, 12, &[DataGroup::Health], None)));
    assert!(focal.sees_text(&text(2, 12, &[DataGroup::Health], None)));
}

fn medical_referral() -> ReferralRecord {
    ReferralRecord {
        id: Uuid::from_u128(50),
        case_id: Uuid::from_u128(60),
        from_agency_id: Uuid::from_u128(1),
        to_agency_id: Uuid::from_u128(3),
        service: crate::domain::ServiceKind::Medical,
        purpose: "purpose-zq".into(),
        groups: groups(&[DataGroup::Health]),
        ground: crate::domain::Ground::Override {
            basis: crate::domain::OverrideBasis::VitalInterests,
            justification: "justification-zq".into(),
        },
        status: ReferralStatus::Declined,
        status_reason: Some("declined-zq".into()),
        outcome_successful: None,
        response_due_at: at(8),
        escalated_at: None,
        lead_agency_id: Uuid::from_u128(1),
        created_by: Uuid::nil(),
        created_at: at(2),
        updated_at: at(3),
        withheld: Vec::new(),
    }
}

#[test]
fn a_referrals_texts_reach_its_parties_and_not_a_later_lead_without_its_groups() {
    let (Some(former), Some(lead), Some(health)) = (view_of(1), view_of(2), view_of(3)) else {
        panic!("the three agencies have views")
    };
    for party in [&former, &health, &auditor_view()] {
        let r = party.texts(medical_referral());
        assert!(
            r.withheld.is_empty(),
            "{:?}: {:?}",
            party.relation,
            r.withheld
        );
        assert_eq!(r.status_reason.as_deref(), Some("declined-zq"));
    }
    let r = lead.texts(medical_referral());
    assert_eq!(
        r.withheld,
        ["purpose", "statusReason", "ground.overrideJustification"]
    );
    assert!(r.purpose.is_empty() && r.status_reason.is_none());
    assert!(
        !format!("{r:?}").contains("-zq"),
        "nothing of the texts is left"
    );
    // Without a view of the case (a protection ended the access), the parties still read what
    // they wrote or what is addressed to them (no grants: nothing by its groups); no one else
    // reads anything.
    let r = CaseView::shown(None, Uuid::from_u128(3), medical_referral());
    assert!(r.withheld.is_empty());
    let r = CaseView::shown(None, Uuid::from_u128(2), medical_referral());
    assert_eq!(r.withheld.len(), 3);
}

#[test]
fn the_decline_reason_is_the_receivers_and_a_revocation_the_senders() {
    let Some(lead) = view_of(2) else {
        panic!("the new lead has a view")
    };
    // Shared as IDENTITY (which the new lead holds): whoever wrote it, the new lead reads it
    // as recorded by the writer; the writer decides the time limit of the groups.
    let mut r = medical_referral();
    r.groups = groups(&[DataGroup::Identity]);
    let texts = r.texts();
    let reason = texts.iter().find(|(n, _)| *n == "statusReason");
    assert_eq!(
        reason.map(|(_, t)| (t.writer, t.addressee)),
        Some((Uuid::from_u128(3), Some(Uuid::from_u128(1))))
    );
    assert!(lead.texts(r.clone()).status_reason.is_some());
    r.status = ReferralStatus::Revoked;
    let texts = r.texts();
    let reason = texts.iter().find(|(n, _)| *n == "statusReason");
    assert_eq!(
        reason.map(|(_, t)| (t.writer, t.addressee)),
        Some((Uuid::from_u128(1), Some(Uuid::from_u128(3))))
    );
}

#[test]
fn consent_notes_and_break_glass_texts_belong_to_the_agencies_that_wrote_them() {
    let (Some(former), Some(lead)) = (view_of(1), view_of(2)) else {
        panic!("both leads have views")
    };
    let consent = ConsentRecord {
        id: Uuid::from_u128(70),
        case_id: Uuid::from_u128(60),
        given_by: crate::domain::ConsentGiver::Guardian,
        child_assent: Some(false),
        assent_missing_reason: Some("assent-zq".into()),
        purposes: Default::default(),
        agency_ids: Default::default(),
        countries: Default::default(),
        groups: groups(&[DataGroup::Identity]),
        given_at: at(2),
        recorded_by: Uuid::nil(),
        recorded_by_agency: Uuid::from_u128(1),
        recorded_at: at(2),
        withdrawn_at: None,
        withdrawn_by: None,
        withheld: Vec::new(),
    };
    // Recorded by the first lead: the new lead does not read the note (shared as no group).
    assert!(former.texts(consent.clone()).withheld.is_empty());
    let seen = lead.texts(consent);
    assert_eq!(
        (seen.withheld, seen.assent_missing_reason),
        (vec!["assentMissingReason"], None)
    );
    // A break-glass access by agency 7 while agency 1 led: its justification is addressed to
    // agency 1, the review's note (by agency 1) to agency 7.
    let glass = BreakGlass {
        id: Uuid::from_u128(80),
        case_id: Uuid::from_u128(60),
        user_id: Uuid::nil(),
        agency_id: Uuid::from_u128(7),
        lead_agency_id: Uuid::from_u128(1),
        justification: "justification-zq".into(),
        opened_at: at(4),
        expires_at: at(5),
        review_due_at: at(12),
        reviewed_at: Some(at(6)),
        reviewed_by: None,
        reviewed_by_agency: Some(Uuid::from_u128(1)),
        justified: Some(false),
        review_note: Some("note-zq".into()),
        withheld: Vec::new(),
    };
    assert!(former.texts(glass.clone()).withheld.is_empty());
    assert_eq!(lead.texts(glass).withheld, ["justification", "reviewNote"]);
}

#[test]
fn only_a_live_referral_from_the_current_lead_involves_its_receiver() {
    let involved = |from: u128, status: ReferralStatus| {
        let mut record = record();
        record.referrals[0].from_agency = Uuid::from_u128(from);
        record.referrals[0].status = status;
        let mut p = principal(vec![Role::CaseWorker]);
        p.agency_id = Uuid::from_u128(3);
        CaseView::of(
            &p,
            &record,
            false,
            None,
            DataGroup::ALL.iter().copied().collect(),
        )
        .is_some_and(|v| v.involved)
    };
    // The new lead (2) referred: involved while the referral is live.
    assert!(involved(2, ReferralStatus::Accepted));
    assert!(involved(2, ReferralStatus::Pending));
    assert!(!involved(2, ReferralStatus::Completed));
    // The former lead (1) referred before it handed the case over: the referral still shares
    // what it shares, but its receiver decides nothing until the current lead involves it.
    assert!(!involved(1, ReferralStatus::Accepted));
}
