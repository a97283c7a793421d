//! What the access model decides for a small sharing history.
use super::*;
use crate::access::{CaseScope, is_origin_authority, may_travel};
use crate::domain::AgencyKind;

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
