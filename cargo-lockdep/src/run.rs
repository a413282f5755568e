//! `cargo lockdep test` / `nextest`: a fresh report folder under the target directory, the
//! user's tests with validation on, then merge, gate, render and a summary.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use lockdep_reports::cli::{ColorChoice, Io};
use lockdep_reports::colour::{Paint, GOOD, WARNING};
use lockdep_reports::gate::{self, Baseline, Suppressions};
use lockdep_reports::{input, merge, render};

use crate::summary;
use crate::{Metadata, EXIT_ERROR, EXIT_NEW_PROBLEMS};

/// The suppression file looked for beside the manifest, then at the workspace root.
pub const SUPPRESSIONS_FILE: &str = "lockdep-suppressions.txt";

/// Which test runner.
#[derive(Clone, Copy, Debug)]
pub enum Runner {
    /// `cargo test`.
    Test,
    /// `cargo nextest run`.
    Nextest,
}

/// Arguments of `cargo lockdep test` and `nextest`. Its own options come first; everything
/// from the first other argument on goes to cargo.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Accepted fingerprints [default: lockdep-suppressions.txt beside the manifest or at the
    /// workspace root, when there is one].
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Use no suppression file, not even the default one.
    #[arg(long, conflicts_with = "suppressions")]
    pub no_suppressions: bool,
    /// Fail only on problems not in this earlier run (its merged.json, or a folder).
    #[arg(long, value_name = "FILE|DIR")]
    pub baseline: Option<PathBuf>,
    /// How many run folders to keep in TARGET_DIR/lockdep (older ones are deleted).
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    pub keep_runs: u16,
    /// Arguments for `cargo test` / `cargo nextest run` (`-p NAME`, `--manifest-path PATH`,
    /// `-- --nocapture`, ...).
    #[arg(value_name = "CARGO_ARGS", trailing_var_arg = true, allow_hyphen_values = true)]
    pub cargo_args: Vec<OsString>,
}

/// Options of `RunArgs` that take a value, and those that do not.
const VALUE_OPTIONS: [&str; 5] =
    ["--suppressions", "--baseline", "--keep-runs", "--color", "--colour"];
const FLAG_OPTIONS: [&str; 3] = ["--no-suppressions", "-h", "--help"];

/// Rewrites `test|nextest OPTIONS... CARGO_ARGS...` as `test|nextest OPTIONS... -- CARGO_ARGS...`
/// so that clap hands cargo its arguments verbatim, a `--` of their own included (clap would
/// otherwise swallow a leading `--`). The options are `cargo lockdep`'s own, at the front.
pub fn separate_cargo_args(args: &[OsString]) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 1);
    let mut it = args.iter();
    out.extend(it.next().cloned()); // the subcommand
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if FLAG_OPTIONS.contains(&s.as_ref())
            || VALUE_OPTIONS.iter().any(|o| s.starts_with(&format!("{o}=")))
        {
            out.push(a.clone());
        } else if VALUE_OPTIONS.contains(&s.as_ref()) {
            out.push(a.clone());
            out.extend(it.next().cloned());
        } else {
            out.push("--".into());
            out.push(a.clone());
            out.extend(it.cloned());
            break;
        }
    }
    out
}

/// What a run produced.
struct Run {
    dir: PathBuf,
    files: PathBuf,
}

/// Runs the tests, then merges, gates and renders; returns the exit status.
pub fn run(runner: Runner, a: &RunArgs, color: ColorChoice, io: &mut Io<'_>) -> i32 {
    match run_inner(runner, a, color, io) {
        Ok(code) => code,
        Err(m) => {
            let _ = writeln!(io.err, "cargo-lockdep: {m}");
            EXIT_ERROR
        }
    }
}

fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The `--manifest-path` among cargo's arguments (before a `--`).
pub fn manifest_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            return None;
        }
        if s == "--manifest-path" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--manifest-path=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

fn metadata(manifest: Option<&Path>) -> Result<Metadata, String> {
    let mut c = Command::new(cargo());
    c.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(m) = manifest {
        c.arg("--manifest-path").arg(m);
    }
    let out = c.output().map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("cargo metadata failed: {}", err.trim()));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata: unreadable output: {e}"))?;
    let path =
        |k: &str| v[k].as_str().map(PathBuf::from).ok_or_else(|| format!("cargo metadata: no {k}"));
    Ok(Metadata {
        target_directory: path("target_directory")?,
        workspace_root: path("workspace_root")?,
    })
}

/// A new, empty run folder `<target>/lockdep/run-<millis>-<pid>`; older run folders beyond
/// the newest `keep` (this one included) are deleted.
fn fresh_run(target: &Path, keep: usize) -> Result<Run, String> {
    let base = target.join("lockdep");
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let dir = base.join(format!("run-{millis:013}-{}", std::process::id()));
    let files = dir.join("files");
    std::fs::create_dir_all(&files)
        .map_err(|e| format!("{}: cannot create: {e}", files.display()))?;
    prune(&base, keep);
    Ok(Run { dir, files })
}

/// Deletes all but the newest `keep` `run-*` folders of `base` (names sort by time).
pub fn prune(base: &Path, keep: usize) {
    let Ok(rd) = std::fs::read_dir(base) else { return };
    let mut runs: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    runs.sort();
    let n = runs.len().saturating_sub(keep);
    for old in &runs[..n] {
        let _ = std::fs::remove_dir_all(old);
    }
}

/// Cargo-style status line on stderr: a right-aligned green verb, then the message.
fn status(io: &mut Io<'_>, paint: Paint, verb: &str, msg: &str) {
    let _ = writeln!(io.err, "{} {msg}", paint.paint(GOOD, &format!("{verb:>12}")));
}

fn default_suppressions(manifest: Option<&Path>, meta: &Metadata) -> Option<PathBuf> {
    let beside = manifest.and_then(Path::parent).map(|d| d.join(SUPPRESSIONS_FILE));
    beside
        .into_iter()
        .chain(std::iter::once(meta.workspace_root.join(SUPPRESSIONS_FILE)))
        .find(|p| p.is_file())
}

fn run_inner(
    runner: Runner,
    a: &RunArgs,
    color: ColorChoice,
    io: &mut Io<'_>,
) -> Result<i32, String> {
    let paint = Paint::new(color.enabled(lockdep_reports::cli::err_is_terminal()));
    let cargo_args = &a.cargo_args;
    let manifest = manifest_path(cargo_args);
    let meta = metadata(manifest.as_deref())?;
    let run = fresh_run(&meta.target_directory, usize::from(a.keep_runs))?;
    let sup_path = if a.no_suppressions {
        None
    } else {
        a.suppressions.clone().or_else(|| default_suppressions(manifest.as_deref(), &meta))
    };
    // Read the gate's inputs before the tests, so a typo fails in a second, not after them.
    let sup = sup_path.as_deref().map(Suppressions::load).transpose().map_err(|e| e.to_string())?;
    let base = a
        .baseline
        .as_deref()
        .map(|p| Baseline::load(&[p]))
        .transpose()
        .map_err(|e| e.to_string())?;

    let mut cmd = Command::new(cargo());
    let (verb, shown) = match runner {
        Runner::Test => {
            cmd.arg("test");
            ("Testing", "cargo test")
        }
        Runner::Nextest => {
            cmd.args(["nextest", "run"]);
            ("Testing", "cargo nextest run")
        }
    };
    cmd.args(cargo_args);
    let mode = std::env::var("LOCKDEP").unwrap_or_else(|_| "warn".into());
    cmd.env("LOCKDEP", &mode).env("LOCKDEP_REPORT_DIR", &run.files);
    status(
        io,
        paint,
        verb,
        &format!("`{shown}` with LOCKDEP={mode}, report files in {}", run.files.display()),
    );
    let test_status = cmd.status().map_err(|e| format!("cannot run {shown}: {e}"))?;

    let n_files = input::json_files(&run.files).map(|v| v.len()).unwrap_or(0);
    status(io, paint, "Merging", &format!("{n_files} report file(s)"));
    let (merged, sources) = if n_files == 0 {
        let _ = writeln!(
            io.err,
            "{}: no report files: did the tests use lockdep-core's locks (and not its `off` feature)?",
            paint.paint(WARNING, "warning")
        );
        (lockdep_reports::Document::new("merge of no documents"), Vec::new())
    } else {
        let docs = input::load_all(&[&run.files]).map_err(|e| e.to_string())?;
        let m = merge::merge(docs.into_iter().map(|l| (l.origin(), l.doc)));
        if m.truncated {
            let _ =
                writeln!(io.err, "{}: cycle search stopped early", paint.paint(WARNING, "warning"));
        }
        (m.document, m.sources)
    };
    let outputs = [
        ("merged", run.dir.join("merged.json"), merged.to_json() + "\n"),
        ("sarif", run.dir.join("lockdep.sarif"), render::sarif::render(&[&merged])),
        (
            "html",
            run.dir.join("lockdep.html"),
            render::html::render_with_sources(&merged, &sources),
        ),
    ];
    let listed: Vec<_> = merged.reports.iter().cloned().zip(sources.iter().cloned()).collect();
    let outcome = gate::gate(listed, sup.as_ref(), base.as_ref());
    let junit = run.dir.join("lockdep.junit.xml");
    for (_, path, text) in outputs.iter().chain(std::iter::once(&(
        "junit",
        junit.clone(),
        render::junit::render(&outcome.items),
    ))) {
        lockdep_reports::write_atomic(path, text.as_bytes())
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }

    let summary = summary::Summary {
        outcome: &outcome,
        files: n_files,
        run_dir: &run.dir,
        outputs: outputs
            .iter()
            .map(|(k, p, _)| (*k, p.as_path()))
            .chain([("junit", junit.as_path())])
            .collect(),
        suppressions: sup.as_ref(),
        baseline: a.baseline.as_deref(),
        tests_failed: (!test_status.success()).then(|| test_status.code()),
    };
    let paint_out = Paint::new(color.enabled(io.out_is_terminal));
    let _ = io.out.write_all(summary.render(paint_out).as_bytes());
    let _ = io.out.flush();

    Ok(if !test_status.success() {
        test_status.code().unwrap_or(101)
    } else if outcome.fails() {
        EXIT_NEW_PROBLEMS
    } else {
        0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_args_are_kept_verbatim_after_our_options() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            separate_cargo_args(&v(&["test", "--keep-runs", "2", "--", "--nocapture"])),
            v(&["test", "--keep-runs", "2", "--", "--", "--nocapture"])
        );
        assert_eq!(
            separate_cargo_args(&v(&["test", "--baseline=b", "-p", "x", "--", "f"])),
            v(&["test", "--baseline=b", "--", "-p", "x", "--", "f"])
        );
        assert_eq!(separate_cargo_args(&v(&["test", "--help"])), v(&["test", "--help"]));
    }

    #[test]
    fn manifest_path_forms() {
        let v = |s: &[&str]| s.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(manifest_path(&v(&["-p", "x"])), None);
        assert_eq!(
            manifest_path(&v(&["--manifest-path", "a/Cargo.toml"])),
            Some("a/Cargo.toml".into())
        );
        assert_eq!(
            manifest_path(&v(&["--manifest-path=b/Cargo.toml"])),
            Some("b/Cargo.toml".into())
        );
        assert_eq!(manifest_path(&v(&["--", "--manifest-path", "c"])), None);
    }

    #[test]
    fn prune_keeps_the_newest_runs() {
        let base = std::env::temp_dir().join(format!("cargo-lockdep-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        for n in ["run-0000000000001-1", "run-0000000000002-1", "run-0000000000003-1", "other"] {
            std::fs::create_dir_all(base.join(n)).unwrap();
        }
        prune(&base, 2);
        let mut left: Vec<String> = std::fs::read_dir(&base)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["other", "run-0000000000002-1", "run-0000000000003-1"]);
        let _ = std::fs::remove_dir_all(&base);
    }
}
