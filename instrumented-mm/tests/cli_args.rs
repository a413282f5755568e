//! `instrumented-mm torture` rejects every bad argument before running anything: exit status
//! 2 and one line on stderr (it used to panic on `--seconds inf` and quietly run the defaults
//! for `--threads 0` / `--mms 0`). Each run is a child process with a deadline.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("mm-cli-args");
    let mut child = Command::new(env!("CARGO_BIN_EXE_instrumented-mm"))
        .args(args)
        .env("LOCKDEP", "warn")
        .env("LOCKDEP_REPORT_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run instrumented-mm");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("instrumented-mm {args:?} still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn assert_bad(args: &[&str], mentions: &str) {
    let o = run(args);
    assert_eq!(o.code, Some(2), "{args:?}: exit status; stderr: {}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line on stderr, got {:?}", o.stderr);
    assert!(lines[0].starts_with("instrumented-mm: "), "{args:?}: {:?}", lines[0]);
    assert!(lines[0].contains(mentions), "{args:?}: {:?} does not mention {mentions:?}", lines[0]);
    assert!(!o.stderr.contains("panicked"), "{args:?}: {}", o.stderr);
    assert!(o.stdout.is_empty(), "{args:?}: nothing ran, yet stdout is {:?}", o.stdout);
}

#[test]
fn bad_seconds_are_rejected() {
    for v in ["inf", "-inf", "infinity", "NaN", "nan", "-1", "-0.5", "1e300", "ten", ""] {
        assert_bad(&["torture", "--seconds", v], "--seconds");
    }
}

#[test]
fn zero_or_bad_counts_are_rejected() {
    for v in ["0", "-1", "many", "1.5", "100000000"] {
        assert_bad(&["torture", "--threads", v], "--threads");
        assert_bad(&["torture", "--mms", v], "--mms");
        if v != "100000000" {
            assert_bad(&["torture", "--ops", v], "--ops");
        }
    }
    assert_bad(&["torture", "--seed", "-3"], "--seed");
}

#[test]
fn unknown_flags_missing_values_and_commands_are_rejected() {
    assert_bad(&["torture", "--thread", "4"], "--thread");
    assert_bad(&["torture", "--bogus"], "--bogus");
    assert_bad(&["torture", "--bug", "no-such-bug"], "no-such-bug");
    for flag in ["--threads", "--seconds", "--ops", "--mms", "--seed", "--bug", "--report-dir"] {
        assert_bad(&["torture", flag], &format!("{flag} needs a value"));
    }
    assert_bad(&["torture", "--report-dir", ""], "--report-dir");
    assert_bad(&["tortur"], "tortur");
    assert_bad(&[], "missing command");
    // A bad argument after --report-dir is caught before the re-run, too.
    assert_bad(&["torture", "--report-dir", "x", "--threads", "0"], "--threads");
}

#[test]
fn good_arguments_still_run() {
    let o = run(&["torture", "--seconds", "0.2", "--threads", "1", "--mms", "1", "--quiet"]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("torture: 1 threads, 0.2s, 1 address spaces"), "{}", o.stderr);
    let o = run(&["torture", "--seconds", "0", "--threads", "2", "--quiet"]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
}

#[test]
fn fixed_work_runs_every_attempt_then_stops() {
    // Two workers, 2,000 attempts each: the run ends when both are done (well before the
    // default limit), and reports the operations made (an attempt may find nothing to do).
    let o = run(&["torture", "--ops", "2000", "--threads", "2", "--seed", "7", "--quiet"]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("2000 attempts per thread"), "{}", o.stderr);
    let ops: u64 = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("operations ("))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .map(|r| r as u64)
        .expect("an operations line");
    assert!(ops > 0, "{}", o.stdout);
    // With a run time given too, the time still limits the run.
    let o =
        run(&["torture", "--ops", "1000000000", "--seconds", "0.3", "--threads", "1", "--quiet"]);
    assert_eq!(o.code, Some(0), "{}\n{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("at most 0.3s"), "{}", o.stderr);
}
