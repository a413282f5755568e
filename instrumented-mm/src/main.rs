//! `instrumented-mm torture`: runs the mm model under the validator and prints a summary.
//! Exit status: 0 clean, 1 reports (or broken invariants) found, 2 bad arguments.

use std::process::ExitCode;
use std::time::Duration;

use instrumented_mm::torture::{self, Options};
use instrumented_mm::Bug;
use lockdep_core::OnReport;

const USAGE: &str = "usage: instrumented-mm torture [--threads N] [--seconds S] [--ops N] \
[--bug NAME] [--seed X] [--mms N] [--report-dir DIR] [--quiet]\n       instrumented-mm --list-bugs";

/// Most worker threads `--threads` accepts.
const MAX_THREADS: usize = 1024;
/// Most address spaces `--mms` accepts.
const MAX_MMS: usize = 4096;

/// A whole number in `1..=max` for `flag`.
fn count(flag: &str, v: &str, max: usize) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("{flag} takes a whole number from 1 to {max}, not {v:?}")),
    }
}

/// A run time in seconds: finite, not negative, and representable as a `Duration`.
fn seconds(v: &str) -> Result<Duration, String> {
    let bad = || format!("--seconds takes a finite number of seconds, 0 or more, not {v:?}");
    let s: f64 = v.parse().map_err(|_| bad())?;
    if !s.is_finite() || s < 0.0 {
        return Err(bad());
    }
    Duration::try_from_secs_f64(s).map_err(|_| bad())
}

/// Parses the arguments; `Some(dir)` asks for a re-run with `LOCKDEP_REPORT_DIR=dir` (the
/// validator reads its configuration once, at start-up). Every argument is checked before
/// anything runs; an error is one line.
fn parse(args: &[String]) -> Result<(Options, Option<String>), String> {
    let mut o = Options { progress: true, ..Options::default() };
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("torture") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("missing command".into()),
    }
    let mut report_dir = None;
    let mut seconds_given = false;
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--threads" => o.threads = count(a, &val()?, MAX_THREADS)?,
            "--seconds" => {
                o.duration = seconds(&val()?)?;
                seconds_given = true;
            }
            "--bug" => o.bug = Some(val()?.parse::<Bug>()?),
            "--seed" => {
                let v = val()?;
                o.seed = v.parse().map_err(|_| format!("--seed takes a whole number, not {v:?}"))?
            }
            "--mms" => o.mms = count(a, &val()?, MAX_MMS)?,
            "--ops" => {
                let n = count(a, &val()?, usize::MAX)?;
                o.ops = Some(n as u64);
                if !seconds_given {
                    // Fixed work: the run time is only a limit then.
                    o.duration = Duration::from_secs(3600);
                }
            }
            "--report-dir" => {
                let dir = val()?;
                if dir.is_empty() {
                    return Err("--report-dir needs a folder, not an empty string".into());
                }
                report_dir = Some(dir);
            }
            "--quiet" => o.progress = false,
            _ => return Err(format!("unknown option {a:?}")),
        }
    }
    let rerun =
        report_dir.filter(|dir| std::env::var_os("LOCKDEP_REPORT_DIR").is_none_or(|d| d != **dir));
    Ok((o, rerun))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--list-bugs") {
        print!("{}", Bug::list());
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mut opts = match parse(&args) {
        Ok((_, Some(dir))) => {
            let st = std::env::current_exe().and_then(|exe| {
                std::process::Command::new(exe).args(&args).env("LOCKDEP_REPORT_DIR", dir).status()
            });
            return match st {
                Ok(st) => ExitCode::from(st.code().unwrap_or(1) as u8),
                Err(e) => {
                    eprintln!("instrumented-mm: cannot re-run itself with --report-dir: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Ok((o, None)) => o,
        Err(e) => {
            // One line: the problem, and where the usage is.
            eprintln!("instrumented-mm: {e} (run 'instrumented-mm --help' for usage)");
            return ExitCode::from(2);
        }
    };
    if opts.bug.is_some() {
        // The validator reports before the thread blocks; in panic mode that thread unwinds
        // (releasing its locks), so a bug that really deadlocks cannot hang the torture.
        if lockdep_core::on_report() != OnReport::Off && std::env::var_os("LOCKDEP").is_none() {
            lockdep_core::set_on_report(OnReport::Panic);
        }
        opts.stop_on_report = true;
    }
    let mode = lockdep_core::on_report();
    let work = match opts.ops {
        Some(n) => format!("{n} attempts per thread (at most {:.1}s)", opts.duration.as_secs_f64()),
        None => format!("{:.1}s", opts.duration.as_secs_f64()),
    };
    eprintln!(
        "torture: {} threads, {work}, {} address spaces, bug {}, validation {:?}",
        opts.threads,
        opts.mms,
        opts.bug.map_or("none".to_string(), |b| b.to_string()),
        mode
    );
    let s = torture::run(&opts);
    let secs = s.elapsed.as_secs_f64();
    println!("operations ({:.1}s, {:.0} ops/s):", secs, s.total_ops() as f64 / secs.max(1e-9));
    for (k, n) in &s.ops {
        println!("  {k:<14} {n}");
    }
    println!("pages allocated: {}", instrumented_mm::page::pages_allocated());
    println!("reports: {}", s.reports.len());
    for r in &s.reports {
        println!("  {} [{}]", r.kind, r.classes.join(", "));
    }
    if !s.panics.is_empty() {
        println!("threads stopped by the validator: {}", s.panics.len());
    }
    if s.hung > 0 {
        println!("workers still blocked at the deadline: {} (deadlock)", s.hung);
    }
    if !s.violations.is_empty() {
        println!("invariant violations: {}", s.violations.len());
        for v in s.violations.iter().take(20) {
            println!("  {v}");
        }
    }
    match &s.report_file {
        Some(p) => println!("report file: {}", p.display()),
        None => println!("report file: (not written)"),
    }
    let failed = !s.reports.is_empty() || !s.violations.is_empty() || s.hung > 0;
    if s.hung > 0 {
        // Blocked workers would keep the process alive.
        std::process::exit(1);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
