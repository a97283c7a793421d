//! The protections' rules on small cases.
use super::*;
use crate::domain::{DataGroup, ReferralStatus, ServiceKind};
use chrono::{TimeZone, Utc};

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn agency(id: u128, kind: AgencyKind, country: &str) -> Agency {
    Agency {
        id: Uuid::from_u128(id),
        name: format!("agency {id}"),
        kind,
        country: country.into(),
        represented_country: None,
    }
}

fn case() -> CaseRecord {
    CaseRecord {
        id: Uuid::nil(),
        reference: "IT-2026-000001".into(),
        workflow_id: "trm-adult".into(),
        workflow_version: 3,
        country: "IT".into(),
        lead_agency_id: Uuid::from_u128(1),
        status: crate::domain::CaseStatus::Active,
        version: 1,
        opened_by: Uuid::nil(),
        opened_at: at(),
        updated_at: at(),
        state: Default::default(),
        entered_at: Default::default(),
        follows_case_id: None,
        origin_country: Some("NG".into()),
        opened_by_agency_id: Uuid::from_u128(1),
        last_hash: String::new(),
    }
}

fn consent(id: u128, by: ConsentGiver) -> ConsentRecord {
    ConsentRecord {
        id: Uuid::from_u128(id),
        case_id: Uuid::nil(),
        given_by: by,
        child_assent: Some(true),
        assent_missing_reason: None,
        purposes: Default::default(),
        agency_ids: Default::default(),
        countries: Default::default(),
        groups: Default::default(),
        given_at: at(),
        recorded_by: Uuid::nil(),
        recorded_at: at(),
        withdrawn_at: None,
        withdrawn_by: None,
        recorded_by_agency: Uuid::nil(),
        withheld: Vec::new(),
    }
}

fn referral(id: u128, to: u128, ground: Ground) -> ReferralRecord {
    ReferralRecord {
        id: Uuid::from_u128(id),
        case_id: Uuid::nil(),
        from_agency_id: Uuid::from_u128(1),
        to_agency_id: Uuid::from_u128(to),
        service: ServiceKind::Legal,
        purpose: "p".into(),
        groups: [DataGroup::Identity].into_iter().collect(),
        ground,
        status: ReferralStatus::Accepted,
        status_reason: None,
        outcome_successful: None,
        response_due_at: at(),
        escalated_at: None,
        lead_agency_id: Uuid::from_u128(1),
        created_by: Uuid::nil(),
        created_at: at(),
        updated_at: at(),
        withheld: Vec::new(),
    }
}

/// An Italian NGO (2), the Nigerian police (3), a Nigerian NGO (4) and Nigeria's embassy in
/// Rome (5); a referral to each but the embassy, on the person's consent (10); the police and
/// the embassy have access rows.
fn sharing() -> Sharing {
    let mut embassy = agency(5, AgencyKind::EmbassyConsulate, "IT");
    embassy.represented_country = Some("NG".into());
    let agencies = [
        agency(2, AgencyKind::Ngo, "IT"),
        agency(3, AgencyKind::Police, "NG"),
        agency(4, AgencyKind::Ngo, "NG"),
        embassy,
    ];
    Sharing {
        consents: vec![consent(10, ConsentGiver::Person)],
        referrals: vec![
            referral(20, 2, Ground::Consent(Uuid::from_u128(10))),
            referral(21, 3, Ground::Consent(Uuid::from_u128(10))),
            referral(22, 4, Ground::Consent(Uuid::from_u128(10))),
        ],
        transfers: Vec::new(),
        access: [2, 3, 4, 5].into_iter().map(Uuid::from_u128).collect(),
        break_glass: Vec::new(),
        agencies: agencies.into_iter().map(|a| (a.id, a)).collect(),
    }
}

#[test]
fn an_adult_whose_situation_is_ordinary_needs_nothing_mended() {
    let status = PersonStatus::default();
    assert!(!needs_review(&status, false));
    assert_eq!(review(&case(), &status, false, &sharing()), vec![]);
}

#[test]
fn asylum_ends_every_access_of_the_origin_authorities_and_only_theirs() {
    let status = PersonStatus {
        asylum_seeker: true,
        ..PersonStatus::default()
    };
    let remedies = review(&case(), &status, false, &sharing());
    let police = Uuid::from_u128(3);
    let embassy = Uuid::from_u128(5);
    assert_eq!(
        remedies,
        vec![
            Remedy::Referral {
                referral: Uuid::from_u128(21),
                to: police,
                rule: Rule::OriginAuthority
            },
            Remedy::EndAccess {
                agency: police,
                rule: Rule::OriginAuthority
            },
            Remedy::EndAccess {
                agency: embassy,
                rule: Rule::OriginAuthority
            },
        ]
    );
    // The Nigerian NGO stays, on the person's own consent; an override would not carry it.
    let ngo = agency(4, AgencyKind::Ngo, "NG");
    let over = Ground::Override {
        basis: OverrideBasis::VitalInterests,
        justification: "j".into(),
    };
    assert_eq!(
        ground_holds(&case(), &status, &[], &over, &ngo),
        Err(Rule::OriginCountryNeedsConsent)
    );
    assert!(!Rule::OriginAuthority.receiver_reason().contains("asylum"));
}

#[test]
fn a_withdrawal_by_the_workflow_step_withdraws_every_consent_and_suspends_what_rests_on_it() {
    let status = PersonStatus {
        consent_withdrawn: true,
        ..PersonStatus::default()
    };
    let remedies = review(&case(), &status, false, &sharing());
    assert_eq!(
        remedies[0],
        Remedy::WithdrawConsent {
            consent: Uuid::from_u128(10)
        }
    );
    assert_eq!(remedies.len(), 4, "{remedies:?}");
    assert!(remedies[1..].iter().all(|r| matches!(
        r,
        Remedy::Referral {
            rule: Rule::ConsentWithdrawn,
            ..
        }
    )));
}

#[test]
fn for_a_child_only_the_guardians_consent_with_assent_is_a_ground_and_only_once_appointed() {
    let c = case();
    let ngo = agency(2, AgencyKind::Ngo, "IT");
    let child = PersonStatus {
        child: true,
        ..PersonStatus::default()
    };
    let guarded = PersonStatus {
        guardian: true,
        ..child
    };
    let own = consent(1, ConsentGiver::Person);
    let guardian = consent(2, ConsentGiver::Guardian);
    let mut no_assent = consent(3, ConsentGiver::Guardian);
    no_assent.child_assent = None;
    let all = [own.clone(), guardian.clone(), no_assent.clone()];
    let on = |id: u128| Ground::Consent(Uuid::from_u128(id));
    assert_eq!(
        ground_holds(&c, &child, &all, &on(2), &ngo),
        Err(Rule::ChildWithoutGuardian)
    );
    assert_eq!(ground_holds(&c, &guarded, &all, &on(2), &ngo), Ok(()));
    assert_eq!(
        ground_holds(&c, &guarded, &all, &on(1), &ngo),
        Err(Rule::ConsentNotTheirs)
    );
    assert_eq!(
        ground_holds(&c, &guarded, &all, &on(3), &ngo),
        Err(Rule::ConsentNotTheirs)
    );
    let protect = Ground::Override {
        basis: OverrideBasis::ChildProtection,
        justification: "j".into(),
    };
    let vital = Ground::Override {
        basis: OverrideBasis::VitalInterests,
        justification: "j".into(),
    };
    assert_eq!(ground_holds(&c, &child, &all, &protect, &ngo), Ok(()));
    assert_eq!(
        ground_holds(&c, &child, &all, &vital, &ngo),
        Err(Rule::ChildWithoutGuardian)
    );
    // At 18 the guardian's consent stops being a ground until the person gives her own.
    let adult = PersonStatus::default();
    assert_eq!(
        ground_holds(&c, &adult, &all, &on(2), &ngo),
        Err(Rule::ConsentNotTheirs)
    );
    assert_eq!(ground_holds(&c, &adult, &all, &on(1), &ngo), Ok(()));
    // A version that does not say who is a child cannot tell the guardian's consent from the
    // person's: both stand, as they did before the declarations.
    let undeclared = PersonStatus {
        age_undeclared: true,
        ..PersonStatus::default()
    };
    assert_eq!(ground_holds(&c, &undeclared, &all, &on(2), &ngo), Ok(()));
    assert_eq!(ground_holds(&c, &undeclared, &all, &on(1), &ngo), Ok(()));
    // A child's case goes only to a child-protection agency.
    assert_eq!(
        may_take_lead(&c, &child, &agency(9, AgencyKind::Ngo, "NG")),
        Err(Rule::ChildToChildProtection)
    );
    assert_eq!(
        may_take_lead(&c, &child, &agency(9, AgencyKind::ChildProtection, "NG")),
        Ok(())
    );
}

#[test]
fn death_and_closing_end_every_open_referral() {
    let status = PersonStatus {
        deceased: true,
        ..PersonStatus::default()
    };
    let remedies = review(&case(), &status, false, &sharing());
    assert_eq!(remedies.len(), 3);
    assert!(remedies.iter().all(|r| matches!(
        r,
        Remedy::Referral {
            rule: Rule::CaseEnded,
            ..
        }
    )));
    assert_eq!(
        review(&case(), &PersonStatus::default(), true, &sharing()).len(),
        3
    );
}
