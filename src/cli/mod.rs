//! The `trm` command line, one module per command. `main` parses it, starts logging, calls
//! [`run`] and turns a [`CliError`] into `error: ...` on stderr and exit code 1 (clap itself
//! answers a command line it cannot parse with exit code 2).
//!
//! [`Cli`] and [`Command`] are the command line's shape; the options of `trm serve` and the
//! database and workflow options other commands share are defined in [`crate::config`], the
//! options only one command has next to it.

mod audit;
mod backup;
mod command;
mod directory;
mod error;
mod migrate;
mod open;
pub mod reference;
mod serve;
mod token;
mod workflows;

pub use audit::AuditCommand;
pub use command::{Cli, Command};
pub use directory::DirectoryCommand;
pub use error::CliError;
pub use token::TokenCommand;
pub use workflows::WorkflowsCommand;

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
