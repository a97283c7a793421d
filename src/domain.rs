//! The shared vocabulary of the mechanism: roles, agency kinds, SOP stages and case status.
//!
//! These enums are used by the workflow files (`roles = ["CASE_WORKER"]`), the store (as text
//! columns) and the GraphQL API (as enums), so their SCREAMING_SNAKE_CASE names are a contract.

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
