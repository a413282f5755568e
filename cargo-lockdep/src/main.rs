//! `cargo lockdep`: one command for a user's CI. `cargo lockdep test` runs the tests with
//! lock-dependency validation on and a fresh report folder, then merges, gates and renders
//! the reports; `cargo lockdep show|check|merge|dot|sarif|html|replay` are `lockdep-report`'s
//! subcommands, run in process. See the crate README.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use lockdep_reports::cli::{self, ColorChoice, Io};

mod run;
mod summary;

/// Exit status when the tests ran and passed but the gate found new lock problems.
pub const EXIT_NEW_PROBLEMS: i32 = 1;
/// Exit status for bad input or usage (including a failure to start cargo).
pub const EXIT_ERROR: i32 = 2;

const AFTER_HELP: &str = "\
Exit status of `test` / `nextest`: the tests' own status when they failed (cargo test: 101,
nextest: 100), else 1 when the gate found new lock problems, 2 for bad input or usage, 0 when
all is well. The report subcommands keep lockdep-report's 0 / 1 / 2.";

/// Run tests with lock-dependency validation, then merge, gate and render the reports.
#[derive(Debug, Parser)]
#[command(name = "cargo-lockdep", bin_name = "cargo lockdep", version, after_help = AFTER_HELP)]
#[command(arg_required_else_help = true)]
struct Cli {
    /// When to colour the output.
    #[arg(long, alias = "colour", value_enum, global = true, value_name = "WHEN", default_value_t)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run `cargo test` with validation on, then merge, gate and render the reports.
    Test(run::RunArgs),
    /// Run `cargo nextest run` with validation on, then merge, gate and render the reports.
    Nextest(run::RunArgs),
    #[command(flatten)]
    Report(cli::Command),
}

/// The arguments after the program name, without the `lockdep` that cargo passes when it runs
/// `cargo-lockdep` as the `cargo lockdep` subcommand.
fn user_args(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.first().is_some_and(|a| a == "lockdep") {
        args.remove(0);
    }
    args
}

fn main() {
    let mut args = user_args(std::env::args_os().skip(1).collect());
    if args.first().is_some_and(|a| a == "test" || a == "nextest") {
        args = run::separate_cargo_args(&args);
    }
    let stdout = std::io::stdout();
    let out_is_terminal = stdout.is_terminal();
    let mut out = stdout.lock();
    let mut err = std::io::stderr();
    let mut io = Io { out: &mut out, err: &mut err, out_is_terminal };
    let code = match cli::parse::<Cli>("cargo-lockdep", &args, &mut io) {
        Err(code) => code,
        Ok(c) => match c.command {
            Cmd::Test(a) => run::run(run::Runner::Test, &a, c.color, &mut io),
            Cmd::Nextest(a) => run::run(run::Runner::Nextest, &a, c.color, &mut io),
            Cmd::Report(r) => cli::execute(r, c.color, &mut io),
        },
    };
    drop(out);
    std::process::exit(code);
}

/// Where `cargo metadata` says the build goes, and the workspace root.
#[derive(Debug)]
struct Metadata {
    target_directory: PathBuf,
    workspace_root: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cargo_passes_the_subcommand_name_first() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(user_args(v(&["lockdep", "test"])), v(&["test"]));
        assert_eq!(user_args(v(&["test", "lockdep"])), v(&["test", "lockdep"]));
    }
}
