//! `trm directory ...`: plain-text listings of the directory, and changes made as the operator.

use super::error::CliError;
use super::open::directory_app;
use crate::config::{DatabaseConfig, parse_agency_kind, parse_role};
use crate::domain::{AgencyKind, Role};
use crate::service::directory::{self, Actor, NewAgency, NewUser};
use clap::Subcommand;
use uuid::Uuid;

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// List the countries with their focal points.
    Countries {
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// List agencies: id, country, kind, name (and the country an embassy represents).
    Agencies {
        /// Only agencies in this country (ISO 3166-1 alpha-2, e.g. IT).
        #[arg(long)]
        country: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Add an agency and print its id.
    AddAgency {
        /// The agency's name.
        #[arg(long)]
        name: String,
        /// Kind, e.g. NGO, POLICE, NATIONAL_FOCAL_POINT, EMBASSY_CONSULATE.
        #[arg(long, value_parser = parse_agency_kind)]
        kind: AgencyKind,
        /// Where it sits (ISO 3166-1 alpha-2, e.g. IT).
        #[arg(long)]
        country: String,
        /// For an embassy or consulate: the state it represents (ISO 3166-1 alpha-2).
        #[arg(long)]
        represents: Option<String>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Make an agency of a country that country's national focal point.
    SetFocalPoint {
        /// ISO 3166-1 alpha-2, e.g. IT.
        #[arg(long)]
        country: String,
        /// The agency's id (as printed by `add-agency` and `agencies`).
        #[arg(long)]
        agency: Uuid,
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Add a user to an agency and print the user's id (then: `trm token issue --user ...`).
    AddUser {
        /// Unique; lower-case letters, digits, '.', '-' and '_' (e.g. it.shelter).
        #[arg(long)]
        username: String,
        /// The name shown to others.
        #[arg(long)]
        display_name: String,
        /// The agency's id.
        #[arg(long)]
        agency: Uuid,
        /// A role, e.g. CASE_WORKER; repeat for several.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        #[command(flatten)]
        db: DatabaseConfig,
    },
}

pub(super) async fn run(command: DirectoryCommand) -> Result<(), CliError> {
    match command {
        DirectoryCommand::Countries { db } => {
            let app = directory_app(&db).await?;
            for c in directory::countries(&app).await? {
                let focal = match directory::focal_point(&app, &c.code).await? {
                    Some(a) => format!("focal point: {} [{}]", a.name, a.id),
                    None => "no focal point".to_string(),
                };
                println!("{}  {}  {focal}", c.code, c.name);
            }
        }
        DirectoryCommand::Agencies { country, db } => {
            let app = directory_app(&db).await?;
            for a in directory::find_agencies(&app, country.as_deref(), None).await? {
                let represents = a
                    .represented_country
                    .map(|c| format!("  (represents {c})"))
                    .unwrap_or_default();
                println!(
                    "{}  {}  {}  {}{represents}",
                    a.id, a.country, a.kind, a.name
                );
            }
        }
        DirectoryCommand::AddAgency {
            name,
            kind,
            country,
            represents,
            db,
        } => {
            let app = directory_app(&db).await?;
            let new = NewAgency {
                name,
                kind,
                country,
                represented_country: represents,
            };
            let agency = directory::create_agency(&app, Actor::Operator, new).await?;
            println!("{}", agency.id);
        }
        DirectoryCommand::SetFocalPoint {
            country,
            agency,
            db,
        } => {
            let app = directory_app(&db).await?;
            let c = directory::set_focal_point(&app, Actor::Operator, &country, agency).await?;
            println!("focal point of {} ({}): {agency}", c.code, c.name);
        }
        DirectoryCommand::AddUser {
            username,
            display_name,
            agency,
            roles,
            db,
        } => {
            let app = directory_app(&db).await?;
            let new = NewUser {
                username,
                display_name,
                agency_id: agency,
                roles,
            };
            let user = directory::create_user(&app, Actor::Operator, new).await?;
            println!("{}", user.id);
        }
    }
    Ok(())
}
