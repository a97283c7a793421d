//! The shipped policies decide as the permission matrix says.
use super::*;

fn policies() -> Policies {
    Policies::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/policies"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn lead() -> Facts {
    Facts {
        is_lead: true,
        has_access: true,
        is_involved: false,
        ..Facts::default()
    }
}

#[test]
fn default_deny_and_every_decision_is_explained() {
    let p = policies();
    let v = p.decide_for(&[Role::CaseWorker], "NGO", Action::FireTransition, lead());
    assert!(v.allowed);
    assert_eq!(v.policies, ["lead-moves-the-case"]);
    assert!(!v.reasons[0].is_empty());
    let v = p.decide_for(
        &[Role::CaseWorker],
        "NGO",
        Action::FireTransition,
        Facts::default(),
    );
    assert!(!v.allowed, "another agency's case");
    assert!(v.policies.is_empty(), "refused by default");
    assert!(!p.decide_for(&[], "NGO", Action::OpenCase, lead()).allowed);
}

#[test]
fn auditors_change_nothing_even_with_another_role() {
    let p = policies();
    let v = p.decide_for(
        &[Role::Auditor, Role::CaseWorker],
        "NGO",
        Action::FireTransition,
        lead(),
    );
    assert!(!v.allowed);
    assert_eq!(v.policies, ["auditors-change-nothing"]);
    assert!(
        p.decide_for(&[Role::Auditor], "NGO", Action::ReadAudit, Facts::default())
            .allowed
    );
}

#[test]
fn guardians_do_not_move_proceedings() {
    let p = policies();
    let mut f = lead();
    f.stage = Some(Stage::FirstAssistance);
    assert!(
        p.decide_for(
            &[Role::Guardian],
            "CHILD_PROTECTION",
            Action::FireTransition,
            f
        )
        .allowed
    );
    f.stage = Some(Stage::Proceedings);
    assert!(
        !p.decide_for(
            &[Role::Guardian],
            "CHILD_PROTECTION",
            Action::FireTransition,
            f
        )
        .allowed
    );
}

#[test]
fn a_policy_that_does_not_match_the_schema_is_refused() {
    let e = Policies::parse(
        "bad.cedar",
        "@id(\"x\") @reason(\"y\") permit (principal, action == Action::\"open_case\", resource) when { context.is_laed };",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.starts_with("bad.cedar: does not match the schema"), "{e}");
    let e = Policies::parse("bad.cedar", "permit (principal, action, resource);")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("@id"), "{e}");
}

#[test]
fn the_groups_a_role_set_reads_are_decided_once_and_answered_the_same_in_any_order() {
    let p = policies();
    for roles in [
        vec![Role::CaseWorker],
        vec![Role::Auditor],
        vec![Role::Guardian, Role::CaseWorker],
        vec![Role::CaseWorker, Role::Guardian],
    ] {
        let decided = p.decide_readable_groups(&roles);
        assert_eq!(p.readable_groups(&roles), decided);
        // From the memo now, and for a clone sharing it.
        assert_eq!(p.readable_groups(&roles), decided);
        assert_eq!(p.clone().readable_groups(&roles), decided);
    }
    assert_eq!(
        p.readable_groups(&[Role::Guardian, Role::CaseWorker]),
        p.readable_groups(&[Role::CaseWorker, Role::Guardian])
    );
}
