//! `instrumented-mm torture`: runs the mm model under the validator and prints a summary.
//! Exit status: 0 clean, 1 reports (or broken invariants) found, 2 bad arguments.

use std::process::ExitCode;
use std::time::Duration;

use instrumented_mm::torture::{self, Options};
use instrumented_mm::Bug;
use lockdep_core::OnReport;

const USAGE: &str = "usage: instrumented-mm torture [--threads N] [--seconds S] [--bug NAME] \
[--seed X] [--mms N] [--report-dir DIR] [--quiet]\n       instrumented-mm --list-bugs";

/// Parses the arguments; `Some(dir)` asks for a re-run with `LOCKDEP_REPORT_DIR=dir` (the
/// validator reads its configuration once, at start-up).
fn parse(args: &[String]) -> Result<(Options, Option<String>), String> {
    let mut o = Options { progress: true, ..Options::default() };
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("torture") => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("missing command".into()),
    }
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--threads" => o.threads = val()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--seconds" => {
                let s: f64 = val()?.parse().map_err(|e| format!("--seconds: {e}"))?;
                o.duration = Duration::from_secs_f64(s.max(0.0));
            }
            "--bug" => o.bug = Some(val()?.parse::<Bug>()?),
            "--seed" => o.seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--mms" => o.mms = val()?.parse().map_err(|e| format!("--mms: {e}"))?,
            "--report-dir" => {
                let dir = val()?;
                if std::env::var_os("LOCKDEP_REPORT_DIR").is_none_or(|d| d != *dir) {
                    return Ok((o, Some(dir)));
                }
            }
            "--quiet" => o.progress = false,
            _ => return Err(format!("unknown option {a:?}")),
        }
    }
    Ok((o, None))
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
            let exe = std::env::current_exe().expect("own path");
            let st = std::process::Command::new(exe)
                .args(&args)
                .env("LOCKDEP_REPORT_DIR", dir)
                .status()
                .expect("re-run");
            return ExitCode::from(st.code().unwrap_or(1) as u8);
        }
        Ok((o, None)) => o,
        Err(e) => {
            eprintln!("instrumented-mm: {e}\n{USAGE}");
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
    eprintln!(
        "torture: {} threads, {:.1}s, {} address spaces, bug {}, validation {:?}",
        opts.threads,
        opts.duration.as_secs_f64(),
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
