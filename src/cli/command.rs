//! The command line's shape: the commands and their options (the options of `trm serve` and
//! those several commands share are in [`crate::config`]; the others next to their command).

use super::audit::AuditCommand;
use super::directory::DirectoryCommand;
use super::token::TokenCommand;
use super::workflows::WorkflowsCommand;
use crate::config::{DatabaseConfig, ServeConfig};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

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
        command: WorkflowsCommand,
    },
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Read and manage the directory: countries, agencies, focal points, users.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Check the tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the configuration reference (Markdown) generated from these definitions: the
    /// text of docs/configuration.md.
    #[command(hide = true)]
    ConfigReference,
}
