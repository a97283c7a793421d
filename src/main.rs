//! The `trm` command: parses the command line, starts logging and runs the command (see
//! [`trm::cli`]); a failure prints `error: ...` on stderr and exits with 1.

use clap::Parser;
use std::process::ExitCode;
use trm::cli::{self, Cli};
use trm::config::{LOG_DEFAULT, LOG_ENV};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env(LOG_ENV)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(LOG_DEFAULT)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli::run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
