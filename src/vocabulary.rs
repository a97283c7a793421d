//! The shared vocabulary of the mechanism: roles, agency kinds, SOP stages and case status.
//!
//! These enums are used by the workflow files (`roles = ["CASE_WORKER"]`), the store (as text
//! columns) and the GraphQL API (as enums), so their SCREAMING_SNAKE_CASE names are a contract.
//!
//! Longer than the house's 400 lines on purpose: it is the one list of the names that are a
//! contract, and splitting it would scatter them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, async_graphql::Enum)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        #[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable machine name (as stored and as written in workflow files).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownName { kind: stringify!($name), name: other.to_string() }),
                }
            }
        }
    };
}

/// A name that is not part of the vocabulary (e.g. a misspelt role in a workflow file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`")]
pub struct UnknownName {
    /// Which vocabulary was asked.
    pub kind: &'static str,
    /// The name that was not found.
    pub name: String,
}

/// The ISO 3166-1 English short name of an assigned alpha-2 country code, written in upper case
/// (`IT` → "Italy"); `None` for anything else (`it`, `ITA`, the unassigned `XX`).
pub fn country_name(alpha2: &str) -> Option<&'static str> {
    if alpha2.len() != 2 || !alpha2.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    rust_iso3166::from_alpha2(alpha2).map(|c| c.name)
}

vocabulary! {
    /// What a user may do is decided by their roles (and their agency's kind).
    Role {
        /// Works cases day to day: screening, assessments, referrals.
        CaseWorker => "CASE_WORKER",
        /// Supervises case workers of one agency; reviews and closes.
        Supervisor => "SUPERVISOR",
        /// National point of contact that sends and receives transnational referrals.
        FocalPoint => "FOCAL_POINT",
        /// Takes formal identification decisions (prosecutor, competent authority, commission).
        CompetentAuthority => "COMPETENT_AUTHORITY",
        /// Guardian of an unaccompanied or separated child.
        Guardian => "GUARDIAN",
        /// Reads case histories for oversight; changes nothing.
        Auditor => "AUDITOR",
        /// Manages the directory of agencies and users.
        Administrator => "ADMINISTRATOR",
    }
}

vocabulary! {
    /// The kinds of agency that act in a referral mechanism (TRM-EU, HTCDS, UK NRM).
    AgencyKind {
        Police => "POLICE",
        BorderPolice => "BORDER_POLICE",
        LabourInspectorate => "LABOUR_INSPECTORATE",
        MigrationAuthority => "MIGRATION_AUTHORITY",
        Prosecutor => "PROSECUTOR",
        Court => "COURT",
        /// Social services and child-protection authorities.
        ChildProtection => "CHILD_PROTECTION",
        Guardianship => "GUARDIANSHIP",
        /// NGOs, including shelters.
        Ngo => "NGO",
        Health => "HEALTH",
        LegalAid => "LEGAL_AID",
        /// IOM, UNHCR and similar.
        InternationalOrganisation => "INTERNATIONAL_ORGANISATION",
        EmbassyConsulate => "EMBASSY_CONSULATE",
        /// National coordinator / national point of contact.
        NationalFocalPoint => "NATIONAL_FOCAL_POINT",
    }
}

vocabulary! {
    /// The five SOP groups of a transnational referral mechanism (TRM-EU).
    Stage {
        Identification => "IDENTIFICATION",
        FirstAssistance => "FIRST_ASSISTANCE",
        LongTermAssistance => "LONG_TERM_ASSISTANCE",
        Return => "RETURN",
        Proceedings => "PROCEEDINGS",
    }
}

vocabulary! {
    /// Whether any work remains on a case.
    CaseStatus {
        /// At least one track of the case is in a non-terminal state.
        Active => "ACTIVE",
        /// Every started track has reached a terminal state.
        Closed => "CLOSED",
    }
}

impl ReferralStatus {
    /// Sent and not yet declined, completed, revoked or suspended: the receiver takes part in
    /// the case through it (it holds the shared groups; it may take the steps the workflow gives
    /// involved agencies of its kind).
    pub fn is_live(self) -> bool {
        matches!(self, ReferralStatus::Pending | ReferralStatus::Accepted)
    }
}

impl DataGroup {
    /// Groups that are read only with a stated purpose (recorded in the access log): health
    /// data, the account of the exploitation and information on perpetrators.
    pub fn needs_purpose(self) -> bool {
        matches!(
            self,
            DataGroup::Health | DataGroup::ExploitationNarrative | DataGroup::Perpetrator
        )
    }
}

impl AgencyKind {
    /// Law-enforcement agencies (EU Law Enforcement Directive): the only ones perpetrator
    /// information may travel between.
    pub fn is_law_enforcement(self) -> bool {
        matches!(
            self,
            AgencyKind::Police
                | AgencyKind::BorderPolice
                | AgencyKind::Prosecutor
                | AgencyKind::Court
        )
    }

    /// State authorities: for an asylum seeker, those of the country of origin may not be
    /// contacted (non-governmental and international organisations may, with consent).
    pub fn is_state_authority(self) -> bool {
        !matches!(
            self,
            AgencyKind::Ngo
                | AgencyKind::InternationalOrganisation
                | AgencyKind::LegalAid
                | AgencyKind::Health
        )
    }
}

vocabulary! {
    /// Personal data of a case, grouped by sensitivity. Each referral and transfer shares a set
    /// of groups (its disclosure manifest); every other group is redacted for the receiver.
    DataGroup {
        /// Names, date of birth or estimate, sex, nationality, languages.
        Identity => "IDENTITY",
        /// Address, telephone, whereabouts.
        Contact => "CONTACT",
        Health => "HEALTH",
        /// The account of the exploitation.
        ExploitationNarrative => "EXPLOITATION_NARRATIVE",
        /// Residence, asylum and documents.
        LegalStatus => "LEGAL_STATUS",
        Family => "FAMILY",
        /// Travels only between law-enforcement agencies.
        Perpetrator => "PERPETRATOR",
    }
}

vocabulary! {
    /// What a consent allows.
    ConsentPurpose {
        /// Referral to services (shelter, medical, legal ...).
        Services => "SERVICES",
        /// Sharing with the named agencies or countries.
        Sharing => "SHARING",
        /// Return to the country of origin, with the transfer of the case.
        Return => "RETURN",
        /// Use in criminal or civil proceedings.
        Proceedings => "PROCEEDINGS",
        /// Anonymised statistics.
        Statistics => "STATISTICS",
    }
}

vocabulary! {
    /// Who gave a consent.
    ConsentGiver {
        /// The person themself (an adult).
        Person => "PERSON",
        /// The guardian of a child (with the child's assent, or the reason it is missing).
        Guardian => "GUARDIAN",
        /// A legal representative.
        LegalRepresentative => "LEGAL_REPRESENTATIVE",
    }
}

vocabulary! {
    /// The legal basis of sharing without a covering consent.
    OverrideBasis {
        /// Protection of a child (best interests).
        ChildProtection => "CHILD_PROTECTION",
        /// Vital interests of the person (life or safety at risk).
        VitalInterests => "VITAL_INTERESTS",
        /// A legal obligation of the sending agency.
        LegalObligation => "LEGAL_OBLIGATION",
    }
}

vocabulary! {
    /// The service a referral asks for.
    ServiceKind {
        Shelter => "SHELTER",
        Medical => "MEDICAL",
        Psychological => "PSYCHOLOGICAL",
        Legal => "LEGAL",
        Interpretation => "INTERPRETATION",
        FamilyTracing => "FAMILY_TRACING",
        Reintegration => "REINTEGRATION",
        EducationTraining => "EDUCATION_TRAINING",
        Employment => "EMPLOYMENT",
        RiskAssessment => "RISK_ASSESSMENT",
        /// A decision the receiving body takes on the case itself, in its own name (e.g. the
        /// migration authority on the reflection period or a permit, the competent authority on
        /// identification, the prosecutor on the proceedings): it may fire the steps the
        /// workflow gives to agencies of its kind while the referral is live and its sender
        /// leads the case.
        Decision => "DECISION",
        Other => "OTHER",
    }
}

vocabulary! {
    /// Where a service referral stands.
    ReferralStatus {
        /// Sent; the receiver has not answered.
        Pending => "PENDING",
        /// The receiver provides the service.
        Accepted => "ACCEPTED",
        /// The receiver declined (with a reason).
        Declined => "DECLINED",
        /// The service ended (successfully or not).
        Completed => "COMPLETED",
        /// The sender withdrew it.
        Revoked => "REVOKED",
        /// The consent it relied on was withdrawn; nothing is shared until it is resumed.
        Suspended => "SUSPENDED",
    }
}

vocabulary! {
    /// Where a transfer of lead stands.
    TransferStatus {
        /// Asked for by the receiving agency; the lead decides.
        Requested => "REQUESTED",
        /// Offered by the lead; the receiver decides.
        Offered => "OFFERED",
        /// The lead moved to the receiver.
        Accepted => "ACCEPTED",
        /// Refused (by the receiver of an offer, or by the lead for a request).
        Rejected => "REJECTED",
        /// Withdrawn by the lead.
        Revoked => "REVOKED",
        /// The consent it relied on was withdrawn.
        Suspended => "SUSPENDED",
    }
}

vocabulary! {
    /// Where a recorded movement of the person comes from.
    MovementSource {
        /// The person's own account.
        SelfReported => "SELF_REPORTED",
        /// Documents (tickets, stamps, papers).
        Documents => "DOCUMENTS",
        /// Another agency of the network.
        Agency => "AGENCY",
        /// Border or police records.
        BorderRecords => "BORDER_RECORDS",
        Other => "OTHER",
    }
}

vocabulary! {
    /// What kind of change an event records.
    EventKind {
        /// The case was opened under a workflow version.
        CaseOpened => "CASE_OPENED",
        /// A workflow transition was fired.
        Transition => "TRANSITION",
        /// A timer's due date passed (recorded once by the scheduler; a deadline that names
        /// `escalate_to` is escalated in the same change, `DEADLINE_ESCALATED`).
        TimerElapsed => "TIMER_ELAPSED",
        /// The case moved to a newer version of its workflow (an explicit, recorded decision).
        WorkflowMigrated => "WORKFLOW_MIGRATED",
        /// A group of the person's personal data was recorded (the event holds no personal data).
        PersonalDataRecorded => "PERSONAL_DATA_RECORDED",
        /// The person's country of origin was recorded.
        OriginCountrySet => "ORIGIN_COUNTRY_SET",
        /// A movement of the person was recorded (a country on the route).
        MovementRecorded => "MOVEMENT_RECORDED",
        /// A consent was recorded.
        ConsentRecorded => "CONSENT_RECORDED",
        /// A consent was withdrawn (dependent referrals and transfers are suspended).
        ConsentWithdrawn => "CONSENT_WITHDRAWN",
        /// A service referral was made, answered, completed, revoked, suspended, resumed or escalated.
        Referral => "REFERRAL",
        /// A transfer of lead was offered, requested, rejected, revoked, suspended, resumed or escalated.
        Transfer => "TRANSFER",
        /// A transfer of lead was accepted: the workflow's transfer step fired and the lead moved.
        TransferAccepted => "TRANSFER_ACCEPTED",
        /// The new lead sent follow-up feedback to the former lead.
        FeedbackSent => "FEEDBACK_SENT",
        /// The focal points of the countries on the person's route (or at both ends of a return)
        /// were alerted by a transition that declares an alert.
        RouteAlerted => "ROUTE_ALERTED",
        /// A deadline lapsed and the agencies holding the roles it escalates to were told.
        DeadlineEscalated => "DEADLINE_ESCALATED",
        /// Someone opened the case outside their access (break-glass), with a justification.
        BreakGlass => "BREAK_GLASS",
        /// The lead agency reviewed a break-glass access.
        BreakGlassReviewed => "BREAK_GLASS_REVIEWED",
        /// A protection of the case ended an agency's access (e.g. an authority of an asylum
        /// seeker's country of origin): details name the agency and the rule.
        AccessEnded => "ACCESS_ENDED",
        /// The case file was exported (to an auditor or by the operator); the event holds the
        /// purpose's category and the access log entry, which has the purpose and recipient.
        CaseFileExported => "CASE_FILE_EXPORTED",
        /// An agency that found the person again linked its case to an earlier case of hers:
        /// recorded on both cases (details: the link and both references, never personal data).
        SamePersonLinked => "SAME_PERSON_LINKED",
        /// The lead looked for earlier cases of the person (keyed match): the reason holds the
        /// purpose, the details how many cases were found.
        SamePersonSearched => "SAME_PERSON_SEARCHED",
    }
}

vocabulary! {
    /// Why a case file is exported (the category; the purpose itself is stated in words).
    ExportPurpose {
        /// An internal or external audit of how the case was handled.
        Audit => "AUDIT",
        /// An inspection by a supervisory or data-protection authority.
        Oversight => "OVERSIGHT",
        /// Criminal, civil or administrative proceedings (a court, a prosecutor).
        LegalProceedings => "LEGAL_PROCEEDINGS",
        /// The person's own request for their records.
        DataSubjectRequest => "DATA_SUBJECT_REQUEST",
        /// Another purpose, stated in words.
        Other => "OTHER",
    }
}

vocabulary! {
    /// What an entry of the access log records.
    AccessKind {
        /// A read of the person's data (personal-data groups, the places on the route).
        Read => "READ",
        /// An export of the case file: it left the service, for a purpose, to a recipient.
        CaseFileExport => "CASE_FILE_EXPORT",
        /// Another agency's search for earlier cases of the same person was told that this
        /// case exists and which agency leads it (nothing else), for the purpose it stated.
        Match => "MATCH",
    }
}

vocabulary! {
    /// Why something landed in an agency's inbox.
    NotificationKind {
        /// A referral to the agency arrived.
        ReferralReceived => "REFERRAL_RECEIVED",
        /// The receiver answered the agency's referral (accepted, declined, completed).
        ReferralAnswered => "REFERRAL_ANSWERED",
        /// The sender revoked a referral to the agency.
        ReferralRevoked => "REFERRAL_REVOKED",
        /// A referral was suspended (consent withdrawn) or resumed.
        ReferralSuspended => "REFERRAL_SUSPENDED",
        /// A referral was resumed under a new consent or an override.
        ReferralResumed => "REFERRAL_RESUMED",
        /// A response to a referral or transfer in the agency's country is overdue (focal points).
        ResponseOverdue => "RESPONSE_OVERDUE",
        /// A transfer of lead was offered to the agency.
        TransferOffered => "TRANSFER_OFFERED",
        /// An agency asked for a case the agency leads.
        TransferRequested => "TRANSFER_REQUESTED",
        /// A transfer the agency is party to was decided (accepted, rejected) or revoked.
        TransferDecided => "TRANSFER_DECIDED",
        /// A transfer was suspended (consent withdrawn).
        TransferSuspended => "TRANSFER_SUSPENDED",
        /// A suspended transfer was resumed.
        TransferResumed => "TRANSFER_RESUMED",
        /// Follow-up feedback from the new lead of a case the agency transferred.
        FeedbackReceived => "FEEDBACK_RECEIVED",
        /// A person (child) on a route through the agency's country is missing.
        PersonMissing => "PERSON_MISSING",
        /// A missing person was found.
        PersonFound => "PERSON_FOUND",
        /// A person returned to or through the agency's country was not received on arrival.
        PersonNotReceived => "PERSON_NOT_RECEIVED",
        /// A deadline of a case lapsed, and the agency holds a role the deadline escalates to.
        DeadlineLapsed => "DEADLINE_LAPSED",
        /// Someone opened a case the agency leads by break-glass (a review is due).
        BreakGlassUsed => "BREAK_GLASS_USED",
        /// A protection of a case the agency leads ended or suspended sharing (the case's
        /// history says what and why).
        ProtectionApplied => "PROTECTION_APPLIED",
        /// An agency the lead involved recorded a decision or a request on a case the agency
        /// leads, in its own name (the case's history says which).
        DecisionRecorded => "DECISION_RECORDED",
        /// Another agency linked its case to a case the agency leads as the same person, or (for
        /// focal points) a link was made to or from a case led in their country.
        SamePersonLinked => "SAME_PERSON_LINKED",
        /// Another agency's search for earlier cases of the same person found a case the agency
        /// leads (it was told only that the case exists and who leads it).
        SamePersonMatched => "SAME_PERSON_MATCHED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for kind in AgencyKind::ALL {
            assert_eq!(kind.as_str().parse::<AgencyKind>(), Ok(*kind));
        }
        assert!("case_worker".parse::<Role>().is_err());
    }

    #[test]
    fn country_codes_are_assigned_iso_3166_1_alpha_2_in_upper_case() {
        assert_eq!(country_name("IT"), Some("Italy"));
        assert_eq!(country_name("NG"), Some("Nigeria"));
        for bad in ["it", "ITA", "XX", "", "I", "1T", "It"] {
            assert_eq!(country_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn serde_uses_the_same_names_as_the_text_form() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_string(&AgencyKind::NationalFocalPoint)?,
            "\"NATIONAL_FOCAL_POINT\""
        );
        assert_eq!(
            serde_json::from_str::<Stage>("\"FIRST_ASSISTANCE\"")?,
            Stage::FirstAssistance
        );
        Ok(())
    }
}
