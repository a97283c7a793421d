//! A small synthetic demo network: agencies in eleven countries along real trafficking routes
//! (each country with its national focal point, and an embassy of Nigeria in Italy), users with
//! different roles. Names are invented; no real person or case is represented.
//!
//! Longer than most modules because it is mostly data: the demo directory as one table that a
//! reader can check against the README's list of demo users.

use super::auth::{generate_token, token_hash};
use super::{App, ServiceError};
use crate::domain::Agency;
use crate::domain::User;
use crate::domain::{AgencyKind, Role};
use crate::store::directory;
use uuid::Uuid;

struct DemoAgency {
    key: &'static str,
    name: &'static str,
    kind: AgencyKind,
    country: &'static str,
    /// The state an embassy or consulate represents.
    represents: Option<&'static str>,
}

const AGENCIES: &[DemoAgency] = &[
    DemoAgency {
        key: "it-police",
        name: "Demo Questura – Anti-Trafficking Unit (Palermo)",
        kind: AgencyKind::Police,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "it-shelter",
        name: "Demo Casa Rifugio (NGO shelter)",
        kind: AgencyKind::Ngo,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "it-prosecutor",
        name: "Demo Procura della Repubblica",
        kind: AgencyKind::Prosecutor,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "it-childprotection",
        name: "Demo Servizi Sociali – Child Protection",
        kind: AgencyKind::ChildProtection,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "it-migration",
        name: "Demo Questura – Immigration Office",
        kind: AgencyKind::MigrationAuthority,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "fr-migration",
        name: "Demo Préfecture – Service des étrangers (Lyon)",
        kind: AgencyKind::MigrationAuthority,
        country: "FR",
        represents: None,
    },
    DemoAgency {
        key: "bg-migration",
        name: "Demo Migration Directorate (Sofia)",
        kind: AgencyKind::MigrationAuthority,
        country: "BG",
        represents: None,
    },
    DemoAgency {
        key: "it-focal",
        name: "Demo National Anti-Trafficking Focal Point (Italy)",
        kind: AgencyKind::NationalFocalPoint,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "it-iom",
        name: "Demo International Migration Organisation – Rome",
        kind: AgencyKind::InternationalOrganisation,
        country: "IT",
        represents: None,
    },
    DemoAgency {
        key: "ng-focal",
        name: "Demo National Agency against Trafficking (Nigeria)",
        kind: AgencyKind::NationalFocalPoint,
        country: "NG",
        represents: None,
    },
    DemoAgency {
        key: "ng-shelter",
        name: "Demo Benin City Reintegration Shelter",
        kind: AgencyKind::Ngo,
        country: "NG",
        represents: None,
    },
    DemoAgency {
        key: "ne-childprotection",
        name: "Demo Direction de la Protection de l'Enfant (Niger)",
        kind: AgencyKind::ChildProtection,
        country: "NE",
        represents: None,
    },
    DemoAgency {
        key: "ne-focal",
        name: "Demo Point focal national (Niger)",
        kind: AgencyKind::NationalFocalPoint,
        country: "NE",
        represents: None,
    },
    DemoAgency {
        key: "bg-prosecutor",
        name: "Demo Prosecutor's Office (Sofia)",
        kind: AgencyKind::Prosecutor,
        country: "BG",
        represents: None,
    },
    DemoAgency {
        key: "bg-focal",
        name: "Demo National Commission against Trafficking (Bulgaria)",
        kind: AgencyKind::NationalFocalPoint,
        country: "BG",
        represents: None,
    },
    DemoAgency {
        key: "bg-shelter",
        name: "Demo Sofia Crisis Centre (NGO)",
        kind: AgencyKind::Ngo,
        country: "BG",
        represents: None,
    },
    DemoAgency {
        key: "at-police",
        name: "Demo Criminal Intelligence Service (Vienna)",
        kind: AgencyKind::Police,
        country: "AT",
        represents: None,
    },
    DemoAgency {
        key: "at-shelter",
        name: "Demo Vienna Intervention Centre (NGO)",
        kind: AgencyKind::Ngo,
        country: "AT",
        represents: None,
    },
    DemoAgency {
        key: "gb-competent",
        name: "Demo Single Competent Authority (UK)",
        kind: AgencyKind::NationalFocalPoint,
        country: "GB",
        represents: None,
    },
    DemoAgency {
        key: "gb-police",
        name: "Demo Metropolitan Modern Slavery Unit",
        kind: AgencyKind::Police,
        country: "GB",
        represents: None,
    },
    DemoAgency {
        key: "gb-support",
        name: "Demo Victim Care Provider (UK NGO)",
        kind: AgencyKind::Ngo,
        country: "GB",
        represents: None,
    },
    DemoAgency {
        key: "at-prosecutor",
        name: "Demo Public Prosecutor's Office (Vienna)",
        kind: AgencyKind::Prosecutor,
        country: "AT",
        represents: None,
    },
    DemoAgency {
        key: "sn-childprotection",
        name: "Demo Direction de la protection de l'enfance (Sénégal)",
        kind: AgencyKind::ChildProtection,
        country: "SN",
        represents: None,
    },
    DemoAgency {
        key: "sn-ngo",
        name: "Demo Centre d'accueil pour enfants (Dakar)",
        kind: AgencyKind::Ngo,
        country: "SN",
        represents: None,
    },
    DemoAgency {
        key: "ml-childprotection",
        name: "Demo Direction nationale de la promotion de l'enfant (Mali)",
        kind: AgencyKind::ChildProtection,
        country: "ML",
        represents: None,
    },
    DemoAgency {
        key: "ml-focal",
        name: "Demo Point focal national (Mali)",
        kind: AgencyKind::NationalFocalPoint,
        country: "ML",
        represents: None,
    },
    DemoAgency {
        key: "fr-police",
        name: "Demo Office central – traite des êtres humains",
        kind: AgencyKind::Police,
        country: "FR",
        represents: None,
    },
    DemoAgency {
        key: "fr-shelter",
        name: "Demo Association d'accueil (Lyon)",
        kind: AgencyKind::Ngo,
        country: "FR",
        represents: None,
    },
    DemoAgency {
        key: "fr-focal",
        name: "Demo Coordination nationale (France)",
        kind: AgencyKind::NationalFocalPoint,
        country: "FR",
        represents: None,
    },
    DemoAgency {
        key: "ma-focal",
        name: "Demo Point focal national (Maroc)",
        kind: AgencyKind::NationalFocalPoint,
        country: "MA",
        represents: None,
    },
    DemoAgency {
        key: "ro-focal",
        name: "Demo National Agency against Trafficking (Romania)",
        kind: AgencyKind::NationalFocalPoint,
        country: "RO",
        represents: None,
    },
    DemoAgency {
        key: "at-focal",
        name: "Demo Federal Task Force against Human Trafficking (Austria)",
        kind: AgencyKind::NationalFocalPoint,
        country: "AT",
        represents: None,
    },
    DemoAgency {
        key: "sn-focal",
        name: "Demo Cellule nationale de lutte contre la traite (Sénégal)",
        kind: AgencyKind::NationalFocalPoint,
        country: "SN",
        represents: None,
    },
    DemoAgency {
        key: "it-embassy-ng",
        name: "Demo Embassy of Nigeria (Rome)",
        kind: AgencyKind::EmbassyConsulate,
        country: "IT",
        represents: Some("NG"),
    },
];

struct DemoUser {
    username: &'static str,
    display_name: &'static str,
    agency: &'static str,
    roles: &'static [Role],
}

const USERS: &[DemoUser] = &[
    DemoUser {
        username: "it.police",
        display_name: "Demo Officer (IT police)",
        agency: "it-police",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "it.shelter",
        display_name: "Demo Case Worker (IT shelter)",
        agency: "it-shelter",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "it.shelter.supervisor",
        display_name: "Demo Supervisor (IT shelter)",
        agency: "it-shelter",
        roles: &[Role::Supervisor, Role::CaseWorker],
    },
    DemoUser {
        username: "it.prosecutor",
        display_name: "Demo Prosecutor (IT)",
        agency: "it-prosecutor",
        roles: &[Role::CompetentAuthority, Role::CaseWorker],
    },
    DemoUser {
        username: "it.childprotection",
        display_name: "Demo Social Worker (IT)",
        agency: "it-childprotection",
        roles: &[Role::CaseWorker, Role::Guardian],
    },
    DemoUser {
        username: "it.migration",
        display_name: "Demo Migration Officer (IT)",
        agency: "it-migration",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "fr.migration",
        display_name: "Demo Migration Officer (FR)",
        agency: "fr-migration",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "bg.migration",
        display_name: "Demo Migration Officer (BG)",
        agency: "bg-migration",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "it.focal",
        display_name: "Demo Focal Point (IT)",
        agency: "it-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "it.iom",
        display_name: "Demo Return Counsellor (IOM-like, IT)",
        agency: "it-iom",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "ng.focal",
        display_name: "Demo Focal Point (NG)",
        agency: "ng-focal",
        roles: &[Role::FocalPoint, Role::CaseWorker],
    },
    DemoUser {
        username: "ng.shelter",
        display_name: "Demo Case Worker (NG shelter)",
        agency: "ng-shelter",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "ne.childprotection",
        display_name: "Demo Travailleur social (NE)",
        agency: "ne-childprotection",
        roles: &[Role::CaseWorker, Role::Guardian],
    },
    DemoUser {
        username: "ne.focal",
        display_name: "Demo Point focal (NE)",
        agency: "ne-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "bg.prosecutor",
        display_name: "Demo Prosecutor (BG)",
        agency: "bg-prosecutor",
        roles: &[Role::CompetentAuthority],
    },
    DemoUser {
        username: "bg.focal",
        display_name: "Demo Focal Point (BG)",
        agency: "bg-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "bg.shelter",
        display_name: "Demo Case Worker (BG shelter)",
        agency: "bg-shelter",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "at.police",
        display_name: "Demo Officer (AT police)",
        agency: "at-police",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "at.shelter",
        display_name: "Demo Case Worker (AT shelter)",
        agency: "at-shelter",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "gb.competent",
        display_name: "Demo Decision Maker (UK SCA)",
        agency: "gb-competent",
        roles: &[Role::CompetentAuthority, Role::FocalPoint],
    },
    DemoUser {
        username: "gb.police",
        display_name: "Demo Officer (UK police)",
        agency: "gb-police",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "gb.support",
        display_name: "Demo Support Worker (UK NGO)",
        agency: "gb-support",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "auditor",
        display_name: "Demo Auditor (national rapporteur office)",
        agency: "it-focal",
        roles: &[Role::Auditor],
    },
    DemoUser {
        username: "admin",
        display_name: "Demo Administrator",
        agency: "it-focal",
        roles: &[Role::Administrator],
    },
    DemoUser {
        username: "at.prosecutor",
        display_name: "Demo Prosecutor (AT)",
        agency: "at-prosecutor",
        roles: &[Role::CompetentAuthority, Role::CaseWorker],
    },
    DemoUser {
        username: "sn.childprotection",
        display_name: "Demo Travailleuse sociale (SN)",
        agency: "sn-childprotection",
        roles: &[Role::CaseWorker, Role::Guardian, Role::Supervisor],
    },
    DemoUser {
        username: "sn.ngo",
        display_name: "Demo Éducateur (SN, NGO)",
        agency: "sn-ngo",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "ml.childprotection",
        display_name: "Demo Travailleur social (ML)",
        agency: "ml-childprotection",
        roles: &[Role::CaseWorker, Role::Guardian, Role::Supervisor],
    },
    DemoUser {
        username: "ml.focal",
        display_name: "Demo Point focal (ML)",
        agency: "ml-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "fr.police",
        display_name: "Demo Enquêteur (FR)",
        agency: "fr-police",
        roles: &[Role::CaseWorker],
    },
    DemoUser {
        username: "fr.shelter",
        display_name: "Demo Intervenante sociale (FR)",
        agency: "fr-shelter",
        roles: &[Role::CaseWorker, Role::Supervisor],
    },
    DemoUser {
        username: "fr.focal",
        display_name: "Demo Coordinateur national (FR)",
        agency: "fr-focal",
        roles: &[Role::FocalPoint, Role::CompetentAuthority],
    },
    DemoUser {
        username: "ma.focal",
        display_name: "Demo Point focal (MA)",
        agency: "ma-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "ro.focal",
        display_name: "Demo Focal Point (RO)",
        agency: "ro-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "at.focal",
        display_name: "Demo Focal Point (AT)",
        agency: "at-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "sn.focal",
        display_name: "Demo Point focal (SN)",
        agency: "sn-focal",
        roles: &[Role::FocalPoint],
    },
    DemoUser {
        username: "it.embassy.ng",
        display_name: "Demo Consular Officer (NG embassy in IT)",
        agency: "it-embassy-ng",
        roles: &[Role::CaseWorker],
    },
];

/// A stable id per demo agency, so that seeding twice finds the same rows.
/// A demo user as the console's demo sign-in page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUserInfo {
    pub username: &'static str,
    pub display_name: &'static str,
    pub agency_name: &'static str,
    pub country: &'static str,
    pub roles: &'static [Role],
}

/// The demo users, in the order of the directory table above.
pub fn users() -> Vec<DemoUserInfo> {
    USERS
        .iter()
        .filter_map(|u| {
            let agency = AGENCIES.iter().find(|a| a.key == u.agency)?;
            Some(DemoUserInfo {
                username: u.username,
                display_name: u.display_name,
                agency_name: agency.name,
                country: agency.country,
                roles: u.roles,
            })
        })
        .collect()
}

fn agency_id(key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("trm-demo-agency:{key}").as_bytes(),
    )
}

/// Seeds the demo network once (later calls find it and add nothing), then issues a fresh
/// token for every demo user. Returns (username, token) pairs.
pub async fn seed(app: &App) -> Result<Vec<(String, String)>, ServiceError> {
    let now = app.now();
    let txn = app.store.begin_write().await?;
    // Two instances started with --demo at once take turns.
    crate::store::lock_exclusively(&txn, crate::store::LOCK_DEMO_SEED).await?;
    for a in AGENCIES {
        if directory::agency_by_id(&txn, agency_id(a.key))
            .await?
            .is_none()
        {
            let agency = Agency {
                id: agency_id(a.key),
                name: a.name.into(),
                kind: a.kind,
                country: a.country.into(),
                represented_country: a.represents.map(String::from),
            };
            directory::insert_agency(&txn, &agency, now).await?;
        }
    }
    // Each demo country's national focal point agency is its focal point, unless an
    // administrator has set one already.
    for a in AGENCIES
        .iter()
        .filter(|a| a.kind == AgencyKind::NationalFocalPoint)
    {
        let unset = directory::country_by_code(&txn, a.country)
            .await?
            .is_some_and(|c| c.focal_point_agency_id.is_none());
        if unset {
            directory::set_focal_point(&txn, a.country, agency_id(a.key), now).await?;
        }
    }
    let mut tokens = Vec::new();
    for u in USERS {
        let user = match directory::user_by_username(&txn, u.username).await? {
            Some(user) => user,
            None => {
                let user = User {
                    id: Uuid::now_v7(),
                    username: u.username.into(),
                    display_name: u.display_name.into(),
                    agency_id: agency_id(u.agency),
                    roles: u.roles.to_vec(),
                };
                directory::insert_user(&txn, &user, now).await?;
                user
            }
        };
        let token = generate_token();
        directory::insert_token(&txn, user.id, &token_hash(&token), now).await?;
        tokens.push((u.username.to_string(), token));
    }
    txn.commit().await?;
    Ok(tokens)
}
