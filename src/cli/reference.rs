//! `trm config-reference`: the configuration reference in Markdown (`docs/configuration.md`),
//! rendered from the clap definitions, so that flags, environment variables, defaults and
//! meanings (the help texts) are written once. A test fails when the committed file differs.

use super::command::Cli;
use crate::config::{DatabaseConfig, LOG_DEFAULT, LOG_ENV, LOG_HELP};
use clap::{Arg, ArgAction, Args, Command, CommandFactory};

/// The command that writes the reference; named in the file and in the test that compares it.
pub const REGENERATE: &str = "cargo run -- config-reference > docs/configuration.md";

/// The whole of `docs/configuration.md`.
pub fn markdown() -> String {
    let cli = Cli::command();
    let mut out = String::from("# Configuration\n\n");
    out.push_str(&format!(
        "Every option of `trm serve` is a flag and an environment variable; the flag wins. A switch \
         given as an environment variable takes `true` or `false`. {}\n\n",
        shared_options(&cli)
    ));
    out.push_str(&format!(
        "This file is generated from the command-line definitions in `src/config/flags.rs` (their help \
         texts are the meanings below; `trm serve --help` shows the same). Do not edit it: \
         change the definitions and run `{REGENERATE}`.\n\n"
    ));
    out.push_str("| Flag | Environment | Default | Meaning |\n|---|---|---|---|\n");
    for serve in cli.get_subcommands().filter(|c| c.get_name() == "serve") {
        for arg in serve.get_arguments() {
            if let Some(row) = row(arg) {
                out.push_str(&row);
            }
        }
    }
    out.push_str(&format!(
        "| | `{LOG_ENV}` | `{LOG_DEFAULT}` | {} |\n",
        sentence(LOG_HELP)
    ));
    out
}

/// Which other commands take the database options and `--workflows`.
fn shared_options(cli: &Command) -> String {
    let db_flags: Vec<String> = DatabaseConfig::augment_args(Command::new("db"))
        .get_arguments()
        .filter_map(Arg::get_long)
        .map(|l| format!("`--{l}`"))
        .collect();
    let with_db = commands_with(cli, "database-url");
    let with_workflows = commands_with(cli, "workflows");
    format!(
        "The other commands that open the database ({}) take the same database options ({}); \
         those that read the workflow definitions ({}) take the same `--workflows`.",
        with_db.join(", "),
        db_flags.join(", "),
        with_workflows.join(", ")
    )
}

/// `trm ...` for every command other than `serve` with the flag `--{long}`, in definition
/// order; `trm token ...` when every subcommand of `token` has it.
fn commands_with(cli: &Command, long: &str) -> Vec<String> {
    fn has(command: &Command, long: &str) -> bool {
        command.get_arguments().any(|a| a.get_long() == Some(long))
    }
    fn walk(command: &Command, path: &str, long: &str, found: &mut Vec<String>) {
        for sub in command.get_subcommands() {
            let path = format!("{path} {}", sub.get_name());
            let mut subs = sub.get_subcommands().peekable();
            if subs.peek().is_some() && subs.all(|s| has(s, long)) {
                found.push(format!("`{path} ...`"));
            } else if has(sub, long) {
                found.push(format!("`{path}`"));
            } else {
                walk(sub, &path, long, found);
            }
        }
    }
    let mut found = Vec::new();
    walk(cli, "trm", long, &mut found);
    found.retain(|c| c != "`trm serve`");
    found
}

/// One row of the table: flag (with its values when they are a fixed set), environment
/// variable, default, meaning.
fn row(arg: &Arg) -> Option<String> {
    let long = arg.get_long()?;
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    let flag = if takes_values(arg) && !values.is_empty() {
        format!("`--{long} {}`", values.join("\\|"))
    } else {
        format!("`--{long}`")
    };
    let env = arg
        .get_env()
        .map(|e| format!("`{}`", e.to_string_lossy()))
        .unwrap_or_default();
    let help = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    let (meaning, stated_default) = split_default(&help);
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| format!("`{}`", v.to_string_lossy()))
        .collect();
    let default = if matches!(arg.get_action(), ArgAction::SetTrue) {
        "off".to_string()
    } else if !defaults.is_empty() {
        defaults.join(", ")
    } else {
        stated_default.unwrap_or_else(|| "none".to_string())
    };
    Some(format!(
        "| {flag} | {env} | {} | {} |\n",
        cell(&default),
        sentence(&meaning)
    ))
}

fn takes_values(arg: &Arg) -> bool {
    !matches!(
        arg.get_action(),
        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count | ArgAction::Help
    )
}

/// A help text without its trailing `[default: ...]` (for options whose default depends on
/// other options, and so is written in the help), and that default.
fn split_default(help: &str) -> (String, Option<String>) {
    let help = help.trim();
    if let Some(start) = help.rfind("[default: ")
        && let Some(rest) = help[start..].strip_prefix("[default: ")
        && let Some(end) = rest.find(']')
        && rest[end + 1..].trim_matches(['.', ' ']).is_empty()
    {
        let meaning = help[..start].trim_end().to_string();
        return (meaning, Some(rest[..end].trim().to_string()));
    }
    (help.to_string(), None)
}

/// Text for a table cell: one line, `|` escaped.
fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// [`cell`] ending in a full stop (clap drops the one of a one-paragraph help text).
fn sentence(text: &str) -> String {
    let mut text = cell(text);
    if !text.is_empty() && !text.ends_with('.') {
        text.push('.');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_written_in_the_help_goes_to_its_column() {
        assert_eq!(
            split_default("Serve it [default: `true`; `false` with --production]"),
            (
                "Serve it".to_string(),
                Some("`true`; `false` with --production".to_string())
            )
        );
        assert_eq!(
            split_default("No default."),
            ("No default.".to_string(), None)
        );
        assert_eq!(sentence("a | b\n c"), "a \\| b c.");
    }

    #[test]
    fn every_option_of_serve_is_a_flag_and_an_environment_variable() {
        let cli = Cli::command();
        let mut envs = std::collections::BTreeSet::new();
        for serve in cli.get_subcommands().filter(|c| c.get_name() == "serve") {
            for arg in serve.get_arguments() {
                let name = arg.get_id().to_string();
                assert!(arg.get_long().is_some(), "{name} has no flag");
                let env = arg.get_env().map(|e| e.to_string_lossy().to_string());
                assert!(
                    env.as_ref().is_some_and(|e| envs.insert(e.clone())),
                    "{name}: {env:?}"
                );
                assert!(arg.get_help().is_some(), "{name} has no help text");
            }
        }
        assert!(envs.len() > 30);
        assert!(markdown().contains("| `--max-depth` | `TRM_MAX_DEPTH` | `12` |"));
    }
}
