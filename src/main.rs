//! The `trm` command: parses the command line, starts logging and runs the command (see
//! [`trm::cli`]); a failure prints `error: ...` on stderr and exits with 1.

use clap::Parser;
use std::process::ExitCode;
use trm::cli::{self, Cli};
use trm::config::{LOG_DEFAULT, LOG_ENV};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    trm::telemetry::init_logging(std::env::var(LOG_ENV).ok().as_deref(), LOG_DEFAULT);
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
