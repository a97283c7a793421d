//! The `trm` command line, one module per command. `main` parses it, starts logging, calls
//! [`run`] and turns a [`CliError`] into `error: ...` on stderr and exit code 1 (clap itself
//! answers a command line it cannot parse with exit code 2).
//!
//! The options of `trm serve` and the database and workflow options other commands share are
//! defined in [`crate::config`]; the options only one command has are defined next to it.

mod audit;
mod backup;
mod directory;
mod error;
mod migrate;
pub mod reference;
mod serve;
mod token;
mod workflows;

pub use error::CliError;

use crate::clock::SystemClock;
use crate::config::{DatabaseConfig, ServeConfig};
use crate::service::App;
use crate::store::{Store, StoreOptions};
use crate::workflow::Registry;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// TRM: workflow engine for transnational referral mechanisms.
#[derive(Parser)]
#[command(name = "trm", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run the GraphQL service.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DatabaseConfig,
    },
    /// Write a consistent copy of a SQLite database while the service runs (online backup;
    /// `VACUUM INTO`). For PostgreSQL use `pg_dump -Fc` (see the README's operations section).
    Backup {
        #[command(flatten)]
        db: DatabaseConfig,
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Check or draw workflow definitions.
    Workflows {
        #[command(subcommand)]
        command: workflows::WorkflowsCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Read and manage the directory: countries, agencies, focal points, users.
    Directory {
        #[command(subcommand)]
        command: directory::DirectoryCommand,
    },
    /// Check the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Print the configuration reference (Markdown) generated from these definitions: the
    /// text of docs/configuration.md.
    #[command(hide = true)]
    ConfigReference,
}

/// Runs one command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve(config) => serve::run(*config).await,
        Command::Migrate { db } => migrate::run(&db).await,
        Command::Backup { db, out } => backup::run(&db, &out).await,
        Command::Schema => {
            print!("{}", crate::api::sdl());
            Ok(())
        }
        Command::Workflows { command } => workflows::run(command),
        Command::Token { command } => token::run(command).await,
        Command::Directory { command } => directory::run(command).await,
        Command::Audit { command } => audit::run(command).await,
        Command::ConfigReference => {
            print!("{}", reference::markdown());
            Ok(())
        }
    }
}

/// Opens and migrates the database for commands that need the directory only, not the
/// workflows (token, directory, audit verify).
async fn directory_app(db: &DatabaseConfig) -> Result<App, CliError> {
    let store = Store::connect(&StoreOptions::from(db)).await?;
    store.migrate().await?;
    Ok(App::builder(store, Registry::default(), Arc::new(SystemClock)).build())
}
