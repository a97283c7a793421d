//! Service referrals and the consents they rest on, at the service level: what the receiver
//! sees of the case afterwards, as `cases::get_case` decides it.

use super::{
    consent, decision_workflows, events, on_consent, open, principal, readable, refer, seen_by,
    stored,
};
use crate::harness::TestServer;
use chrono::Duration;
use serde_json::json;
use std::collections::BTreeSet;
use trm::access::Relation;
use trm::domain::{
    ConsentPurpose, DataGroup, EventKind, Ground, OverrideBasis, ReferralRecord, ReferralStatus,
};
use trm::service::disclosure::GroundRequest;
use trm::service::referrals::{self, ReferralAction};
use trm::service::{ServiceError, cases};

#[tokio::test]
async fn a_referral_shows_the_receiver_the_case_with_only_the_shared_groups() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let (lead, iom) = (
        principal(&s, "it.shelter").await,
        principal(&s, "it.iom").await,
    );
    let case = open(app, &lead, "decision").await;
    assert!(seen_by(app, &iom, case.id).await.is_none(), "not before");
    let shared = BTreeSet::from([DataGroup::Identity, DataGroup::Health]);
    let consent = consent(app, &lead, case.id, ConsentPurpose::Services, &iom, &shared).await;
    let referral = refer(app, &lead, case.id, &iom, &shared, on_consent(None))
        .await
        .unwrap();
    assert_eq!(referral.status, ReferralStatus::Pending);
    assert_eq!(referral.ground, Ground::Consent(consent.id));
    assert_eq!(
        referral.response_due_at,
        app.now() + Duration::days(i64::from(referrals::DEFAULT_RESPONSE_DAYS))
    );

    let seen = seen_by(app, &iom, case.id)
        .await
        .expect("the receiver sees the case");
    assert_eq!(seen.relation(), Relation::Participant);
    assert_eq!(readable(&seen), shared, "only the shared groups");
    assert!(seen.facts().is_none(), "a participant sees no facts");
    assert_eq!(cases::history(app, &seen, 0, 100).await.unwrap(), None);
    let stranger = principal(&s, "bg.shelter").await;
    assert!(seen_by(app, &stranger, case.id).await.is_none());

    // The sender does not answer its own referral; the receiver accepts it.
    let err = referrals::act_on_referral(app, &lead, referral.id, ReferralAction::Accept)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Forbidden(_)), "{err:?}");
    let accepted = referrals::act_on_referral(app, &iom, referral.id, ReferralAction::Accept)
        .await
        .unwrap();
    assert_eq!(accepted.status, ReferralStatus::Accepted);
    let seen = seen_by(app, &iom, case.id).await.unwrap();
    assert_eq!(seen.relation(), Relation::Participant);
    assert_eq!(readable(&seen), shared);
    s.stop().await;
}

#[tokio::test]
async fn a_declined_referral_leaves_the_receiver_a_participant_without_any_grant() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let (lead, police) = (
        principal(&s, "it.shelter").await,
        principal(&s, "it.police").await,
    );
    let case = open(app, &lead, "decision").await;
    let shared = BTreeSet::from([DataGroup::Identity, DataGroup::Contact]);
    consent(
        app,
        &lead,
        case.id,
        ConsentPurpose::Services,
        &police,
        &shared,
    )
    .await;
    let referral = refer(app, &lead, case.id, &police, &shared, on_consent(None))
        .await
        .unwrap();
    let decline = |reason: &str| ReferralAction::Decline {
        reason: reason.into(),
    };
    let err = referrals::act_on_referral(app, &police, referral.id, decline("  "))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Validation { .. }),
        "a reason is required: {err:?}"
    );
    let declined = referrals::act_on_referral(app, &police, referral.id, decline("no capacity"))
        .await
        .unwrap();
    assert_eq!(declined.status, ReferralStatus::Declined);
    assert_eq!(declined.status_reason.as_deref(), Some("no capacity"));

    let seen = seen_by(app, &police, case.id)
        .await
        .expect("the receiver still sees the case");
    assert_eq!(seen.relation(), Relation::Participant);
    assert!(seen.view().grants.is_empty(), "{:?}", seen.view().grants);
    assert!(readable(&seen).is_empty());
    // A declined referral cannot be accepted afterwards.
    let err = referrals::act_on_referral(app, &police, referral.id, ReferralAction::Accept)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::InvalidTransition(_)), "{err:?}");
    s.stop().await;
}

#[tokio::test]
async fn withdrawing_a_consent_suspends_the_referral_grounded_on_it_and_only_that_one() {
    let s = TestServer::start_with_workflows(&decision_workflows()).await;
    let app = &s.app;
    let lead = principal(&s, "it.shelter").await;
    let supervisor = principal(&s, "it.shelter.supervisor").await;
    let (iom, police) = (
        principal(&s, "it.iom").await,
        principal(&s, "it.police").await,
    );
    let case = open(app, &lead, "decision").await;
    let identity = BTreeSet::from([DataGroup::Identity]);
    let consent = consent(
        app,
        &lead,
        case.id,
        ConsentPurpose::Services,
        &iom,
        &identity,
    )
    .await;
    let grounded = refer(
        app,
        &lead,
        case.id,
        &iom,
        &identity,
        on_consent(Some(consent.id)),
    )
    .await
    .unwrap();
    let vital = GroundRequest {
        consent_id: None,
        override_basis: Some(OverrideBasis::VitalInterests),
        override_justification: Some("her life is at risk tonight".into()),
    };
    let overridden = refer(app, &supervisor, case.id, &police, &identity, vital)
        .await
        .unwrap();
    let before = stored(app, case.id).await.version;

    let withdrawn = trm::service::consents::withdraw_consent(
        app,
        &lead,
        consent.id,
        Some("changed her mind".into()),
    )
    .await
    .unwrap();
    assert!(withdrawn.withdrawn_at.is_some());
    assert_eq!(withdrawn.withdrawn_by, Some(lead.user_id));
    let status = |r: Option<ReferralRecord>| r.map(|r| (r.status, r.status_reason));
    assert_eq!(
        status(referrals::referral(app, &lead, grounded.id).await.unwrap()),
        Some((ReferralStatus::Suspended, Some("consent withdrawn".into())))
    );
    assert_eq!(
        status(
            referrals::referral(app, &lead, overridden.id)
                .await
                .unwrap()
        ),
        Some((ReferralStatus::Pending, None)),
        "a referral on an override does not depend on the consent"
    );
    // One change: the withdrawal and the suspension, each its own event.
    let all = events(app, case.id).await;
    let [.., withdrawal, suspension] = all.as_slice() else {
        panic!("too few events: {all:?}");
    };
    assert_eq!(withdrawal.kind, EventKind::ConsentWithdrawn);
    assert_eq!(suspension.kind, EventKind::Referral);
    let details = suspension.details.clone().unwrap_or_default();
    assert_eq!(details["action"], "SUSPENDED");
    assert_eq!(details["referral"], json!(grounded.id));
    assert_eq!(stored(app, case.id).await.version, before + 2);

    // The receiver still sees the case, but none of its data; the other referral is untouched.
    let seen = seen_by(app, &iom, case.id).await.unwrap();
    assert_eq!(seen.relation(), Relation::Participant);
    assert!(readable(&seen).is_empty());
    assert_eq!(
        readable(&seen_by(app, &police, case.id).await.unwrap()),
        identity
    );
    // A consent is withdrawn once, and nothing new can rely on it.
    let err = trm::service::consents::withdraw_consent(app, &lead, consent.id, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::InvalidTransition(_)), "{err:?}");
    let err = refer(
        app,
        &lead,
        case.id,
        &iom,
        &identity,
        on_consent(Some(consent.id)),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ServiceError::ConsentRequired(_)), "{err:?}");
    s.stop().await;
}
