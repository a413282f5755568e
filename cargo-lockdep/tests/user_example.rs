//! `cargo lockdep test` end to end on `tests/user-example` (a cross-binary cycle and a
//! suppression file), with its own target folder so the nested cargo does not wait for the
//! outer build's lock; and the `--help` snapshots.

use std::path::{Path, PathBuf};
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_cargo-lockdep")
}

/// The workspace root (this crate's parent).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A target folder for the nested cargo: beside the outer one (`<target>/debug/cargo-lockdep`
/// -> `<target>/cargo-lockdep-it`), so it is reused between runs and never the outer one.
fn inner_target() -> PathBuf {
    Path::new(exe()).parent().unwrap().parent().unwrap().join("cargo-lockdep-it")
}

fn run(args: &[&str]) -> Out {
    let out = Command::new(exe())
        .args(args)
        .env("CARGO_TARGET_DIR", inner_target())
        .env_remove("LOCKDEP")
        .env_remove("LOCKDEP_REPORT_DIR")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run cargo-lockdep");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runs(base: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(base)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.file_name().unwrap().to_string_lossy().starts_with("run-"));
    v.sort();
    v
}

/// A report folder left by an "earlier run": a document with an X/Y cycle that this run must
/// not count.
fn plant_stale_run(base: &Path) -> PathBuf {
    let stale = base.join("run-0000000000001-1");
    let _ = std::fs::remove_dir_all(&stale);
    std::fs::create_dir_all(stale.join("files")).unwrap();
    let doc = lockdep_reports::trace::replay(
        r#"{"thread":"T1","op":"acquire","lock":"X","mode":"write"}
{"thread":"T1","op":"acquire","lock":"Y","mode":"write"}
{"thread":"T1","op":"release","lock":"Y"}
{"thread":"T1","op":"release","lock":"X"}
{"thread":"T2","op":"acquire","lock":"Y","mode":"write"}
{"thread":"T2","op":"acquire","lock":"X","mode":"write"}"#,
        "stale",
    )
    .unwrap();
    assert_eq!(doc.reports.len(), 1);
    std::fs::write(stale.join("files/stale.json"), doc.to_json()).unwrap();
    stale
}

fn run_dir_of(summary: &str) -> PathBuf {
    let line =
        summary.lines().find(|l| l.trim_start().starts_with("report folder")).expect(summary);
    PathBuf::from(line.trim_start().trim_start_matches("report folder").trim())
}

#[test]
fn cargo_lockdep_test_on_the_user_example() {
    let manifest = workspace().join("tests/user-example/Cargo.toml");
    let manifest = manifest.to_str().unwrap();
    let base = inner_target().join("lockdep");
    let stale = plant_stale_run(&base);

    // 1. As cargo runs it (`cargo-lockdep lockdep test ...`): the suppression file beside the
    //    manifest accepts the three known problems, so the gate passes.
    let o = run(&["lockdep", "test", "--manifest-path", manifest]);
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("Testing `cargo test` with LOCKDEP=warn, report files in"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("Merging 6 report file(s)"), "{}", o.stderr);
    let s = &o.stdout;
    assert!(s.contains("lockdep summary: 3 report(s) from 6 report file(s)"), "{s}");
    assert!(s.contains("  circular_dependency      0           2          0"), "{s}");
    assert!(s.contains("  class_violation          0           1          0"), "{s}");
    assert!(s.contains("lockdep-suppressions.txt"), "{s}");
    assert!(s.contains("lockdep: ok: no new lock problems"), "{s}");
    assert!(!s.contains('\x1b'), "no colour on a pipe");
    let dir = run_dir_of(s);
    assert!(dir.starts_with(&base), "{}", dir.display());
    let merged = std::fs::read_to_string(dir.join("merged.json")).unwrap();
    let merged = lockdep_reports::Document::from_json(&merged).unwrap();
    let fps: Vec<String> = merged.reports.iter().map(|r| r.fingerprint()).collect();
    assert!(fps.contains(&"circular_dependency:bank::cache,bank::stats".to_string()), "{fps:?}");
    assert!(!fps.iter().any(|f| f.contains("X,Y")), "the stale run is not counted: {fps:?}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("lockdep.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 3);
    let html = std::fs::read_to_string(dir.join("lockdep.html")).unwrap();
    assert!(html.contains("bank::stats"));
    let junit = std::fs::read_to_string(dir.join("lockdep.junit.xml")).unwrap();
    assert!(junit.contains("tests=\"3\" failures=\"0\" errors=\"0\" skipped=\"3\""), "{junit}");

    // 2. The report subcommands run in process on the run's files.
    let m = dir.join("merged.json").display().to_string();
    let o = run(&["check", &m, "--format", "github"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout.lines().count(), 3, "{}", o.stdout);
    assert!(
        o.stdout.lines().all(|l| l.starts_with("::error file=tests/user-example/")),
        "{}",
        o.stdout
    );

    // 3. No suppressions, keep one run: the gate fails with 1, older runs are deleted.
    let o = run(&["test", "--no-suppressions", "--keep-runs", "1", "--manifest-path", manifest]);
    assert_eq!(o.code, 1, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("  circular_dependency      2           0          0"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("new: circular_dependency:bank::cache,bank::stats"), "{}", o.stdout);
    assert!(o.stdout.contains("lockdep: FAILED: 3 new lock problem(s)"), "{}", o.stdout);
    assert!(!stale.exists(), "older runs are pruned");
    assert_eq!(runs(&base), [run_dir_of(&o.stdout)]);

    // 4. Baseline = the previous run's merged.json: nothing new.
    let prev = run_dir_of(&o.stdout).join("merged.json");
    let o = run(&[
        "test",
        "--no-suppressions",
        "--baseline",
        prev.to_str().unwrap(),
        "--manifest-path",
        manifest,
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(
        o.stdout.contains("  circular_dependency      0           0          2"),
        "{}",
        o.stdout
    );

    // 5. Failing tests: their own status is the exit status (libtest rejects the flag: 101).
    let o = run(&["test", "--manifest-path", manifest, "--test", "audit", "--", "--no-such-flag"]);
    assert_eq!(o.code, 101, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("FAILED: the tests failed (exit status 101)"), "{}", o.stdout);

    // 6. Under nextest (one process per test, so more report files), when it is installed:
    //    the same three problems, all suppressed.
    let nextest = Command::new("cargo").args(["nextest", "--version"]).output();
    if !nextest.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: cargo-nextest is not installed; `cargo lockdep nextest` not run");
        return;
    }
    let o = run(&["lockdep", "nextest", "--manifest-path", manifest]);
    assert_eq!(o.code, 0, "stdout:\n{}\nstderr:\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("Testing `cargo nextest run` with LOCKDEP=warn"), "{}", o.stderr);
    assert!(o.stderr.contains("4 tests run: 4 passed"), "{}", o.stderr);
    let s = &o.stdout;
    assert!(s.contains("  circular_dependency      0           2          0"), "{s}");
    assert!(s.contains("  class_violation          0           1          0"), "{s}");
    assert!(s.contains("lockdep: ok: no new lock problems"), "{s}");
    let merged = std::fs::read_to_string(run_dir_of(s).join("merged.json")).unwrap();
    let merged = lockdep_reports::Document::from_json(&merged).unwrap();
    let fps: Vec<String> = merged.reports.iter().map(|r| r.fingerprint()).collect();
    assert!(
        fps.contains(&"circular_dependency:bank::cache,bank::stats".to_string()),
        "the cross-process cycle is found under nextest too: {fps:?}"
    );
}

#[test]
fn cargo_finds_the_subcommand_on_path() {
    let bin_dir = Path::new(exe()).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out =
        Command::new(cargo).args(["lockdep", "--version"]).env("PATH", path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("cargo-lockdep {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_and_help_snapshots() {
    let o = run(&["tset"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("a similar subcommand exists: 'test'"), "{}", o.stderr);
    let o = run(&["test", "--keep-runs", "0"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let cases: &[(&str, &[&str])] = &[
        ("cargo-lockdep", &["--help"]),
        ("cargo-lockdep-test", &["test", "--help"]),
        ("cargo-lockdep-check", &["lockdep", "check", "--help"]),
    ];
    let mut bad = Vec::new();
    for (name, args) in cases {
        let o = run(args);
        assert_eq!(o.code, 0, "{name}: {}", o.stderr);
        let path = dir.join(format!("{name}.txt"));
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &o.stdout).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(o.stdout.as_str()) {
            bad.push(format!("{}:\n{}", path.display(), o.stdout));
        }
    }
    assert!(
        bad.is_empty(),
        "help differs from the snapshots (UPDATE_SNAPSHOTS=1):\n{}",
        bad.join("\n")
    );
}
