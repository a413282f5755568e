//! The `lockdep-report` command line (clap derive): argument parsing and the subcommands.
//!
//! Exit codes: 0 = success and (for `replay` and `check`) no new reports; 1 = reports found
//! (`replay`, `check`); 2 = bad input or usage (clap's usage errors included). Every input
//! error is one line on stderr that names the file. [`Command`] and [`execute`] are public so
//! that `cargo lockdep` forwards to the same code in process.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

pub use crate::colour::ColorChoice;

mod commands;

/// Exit status: success, no reports.
pub const EXIT_OK: i32 = 0;
/// Exit status: reports found.
pub const EXIT_REPORTS: i32 = 1;
/// Exit status: bad input or usage.
pub const EXIT_ERROR: i32 = 2;

/// The exit status paragraph shared by the tools' `--help`.
pub const EXIT_HELP: &str = "\
Exit status: 0 = success / no new reports, 1 = reports found (replay, check),
2 = bad input or usage (one line on stderr naming the file).";

/// Where the tool writes, and whether its streams are terminals (for colour).
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Whether `out` is a terminal.
    pub out_is_terminal: bool,
}

/// Replay, check, merge and render lockdep report documents.
#[derive(Debug, Parser)]
#[command(name = "lockdep-report", version, after_help = EXIT_HELP, arg_required_else_help = true)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, alias = "colour", value_enum, global = true, value_name = "WHEN", default_value_t)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `lockdep-report` (also those `cargo lockdep` forwards).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay a JSONL event trace on a private validator and print its reports.
    Replay(ReplayArgs),
    /// Kernel-style text of every report.
    Show(Inputs),
    /// One line per report; exit 1 if any is new (the CI gate).
    Check(CheckArgs),
    /// Union the graphs of many documents and find the cycles no single one saw.
    Merge(MergeArgs),
    /// Graphviz DOT of the (merged) class graph.
    Dot(RenderArgs),
    /// SARIF 2.1.0 log, one result per report (code scanning).
    Sarif(RenderArgs),
    /// Self-contained HTML page with the class graph.
    Html(RenderArgs),
    /// A `lock_rules!` declaration of the observed lock order (one chain per component).
    Declare(RenderArgs),
}

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The JSONL trace (one event per line).
    #[arg(value_name = "TRACE")]
    pub trace: PathBuf,
    /// Print the whole report document (JSON, graph included) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Report documents to read.
#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Report files, or folders (every `*.json` below, recursively, sorted).
    #[arg(value_name = "FILE|DIR", required = true)]
    pub paths: Vec<PathBuf>,
}

/// Output format of `check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `kind  fingerprint  program [(suppressed|baselined)]`, one line per report.
    #[default]
    Text,
    /// GitHub Actions `::error` annotations at each new report's acquisition site.
    Github,
    /// JUnit XML, one test case per report (a failure for each new one).
    Junit,
}

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    #[expect(
        missing_docs,
        reason = "clap derive: the doc comments are the help text of the variants"
    )]
    pub inputs: Inputs,
    /// Accepted fingerprints, one per line (`#` comments); stale lines are warned about.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Fail only on reports not in this earlier (merged) run: file or folder.
    #[arg(long, value_name = "FILE|DIR")]
    pub baseline: Option<PathBuf>,
    /// Merge the documents first: also gate on cycles across them.
    #[arg(long)]
    pub merge: bool,
    /// Also diff the (merged) observed graph with a declared order (`lock_rules!` /
    /// `lock_order!` in a Rust file): contradicting or undeclared edges fail the check.
    #[arg(long, value_name = "FILE.rs")]
    pub declared: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Write the output to a file instead of stdout.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Arguments of `merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    #[command(flatten)]
    #[expect(
        missing_docs,
        reason = "clap derive: the doc comments are the help text of the variants"
    )]
    pub inputs: Inputs,
    /// The merged document to write.
    #[arg(short, long, value_name = "OUT", required = true)]
    pub output: PathBuf,
}

/// Arguments of `dot`, `sarif` and `html`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    #[expect(
        missing_docs,
        reason = "clap derive: the doc comments are the help text of the variants"
    )]
    pub inputs: Inputs,
    /// Write to a file instead of stdout.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
}

/// Parses `args` (without the program name) as `P`, the way every lockdep tool does: help
/// and `--version` go to `out` (exit 0), usage errors to `err` (exit 2, with clap's typo
/// suggestions), coloured per `--color` / `NO_COLOR` / `CLICOLOR_FORCE`.
pub fn parse<P: Parser>(bin: &str, args: &[OsString], io: &mut Io<'_>) -> Result<P, i32> {
    let choice = ColorChoice::prescan(args);
    let argv = std::iter::once(OsString::from(bin)).chain(args.iter().cloned());
    let cmd = P::command().color(clap::ColorChoice::Never);
    let res = cmd.try_get_matches_from(argv).and_then(|m| P::from_arg_matches(&m));
    res.map_err(|e| {
        let to_err = e.use_stderr();
        let colour = choice.enabled(if to_err { err_is_terminal() } else { io.out_is_terminal });
        let styled = e.render();
        let mut text = if colour { styled.ansi().to_string() } else { styled.to_string() };
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let w: &mut dyn Write = if to_err { &mut *io.err } else { &mut *io.out };
        let _ = w.write_all(text.as_bytes());
        let _ = w.flush();
        e.exit_code()
    })
}

/// Whether the process's stderr is a terminal.
pub fn err_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Runs `lockdep-report` on `args` (without the program name); returns the exit status.
pub fn run(args: &[OsString], io: &mut Io<'_>) -> i32 {
    match parse::<Cli>("lockdep-report", args, io) {
        Ok(cli) => execute(cli.command, cli.color, io),
        Err(code) => code,
    }
}

/// Runs one subcommand; returns the exit status. Input errors are one line on `io.err`.
pub fn execute(cmd: Command, color: ColorChoice, io: &mut Io<'_>) -> i32 {
    match commands::dispatch(cmd, color, io) {
        Ok(code) => code,
        Err(m) => {
            let _ = writeln!(io.err, "lockdep-report: {m}");
            EXIT_ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
