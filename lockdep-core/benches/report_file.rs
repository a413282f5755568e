//! Cost of report emission as reports accumulate: N distinct circular dependencies found one
//! after the other by one thread, each emitted (printed to a sink-less stderr and written to
//! the report file) before the next. Linear emission keeps the per-report time flat as N grows.
//!
//! `cargo bench -p lockdep-core --bench report_file` (each N runs in a child process of its
//! own, since the validator is process-wide; the load average is printed beside the figures).

use std::process::Command;
use std::time::Instant;

use lockdep_core::{LockClassKey, Mutex};

static A: LockClassKey = LockClassKey::new("bench::a");
static B: LockClassKey = LockClassKey::new("bench::b");

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn child(n: u32) {
    let a = Mutex::with_key((), &A);
    let b = Mutex::with_key((), &B);
    let mut each = Vec::with_capacity(n as usize);
    let start = Instant::now();
    for i in 1..=n {
        {
            let _a = a.lock_nested(i);
            let _b = b.lock_nested(i);
        }
        let _b = b.lock_nested(i);
        let t = Instant::now();
        let _a = a.lock_nested(i); // closes the cycle a/i <-> b/i: one new report
        each.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let took = start.elapsed();
    assert_eq!(lockdep_core::reports().len(), n as usize);
    // The first report also loads the symboliser's debug information: shown apart.
    let first = each[0];
    let mut rest = each[1..].to_vec();
    rest.sort_by(f64::total_cmp);
    let at = |q: f64| rest[((rest.len() - 1) as f64 * q) as usize];
    println!(
        "{n:>6} reports: {:>8.3} s in the locking thread, {:>8.1} us per report; the acquisition \
         that reports: first {first:.0} us, then median {:.1} us (p90 {:.1}, max {:.1})",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / n as f64,
        at(0.5),
        at(0.9),
        at(1.0)
    );
}

fn main() {
    if let Some(n) = std::env::var("LOCKDEP_BENCH_N").ok().and_then(|n| n.parse().ok()) {
        child(n);
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockdep-bench-reports-{}", std::process::id()));
    println!("report emission, one thread (load average before: {})", load());
    for n in [100u32, 400, 1000] {
        let out = Command::new(std::env::current_exe().unwrap())
            .env("LOCKDEP_BENCH_N", n.to_string())
            .env("LOCKDEP", "warn")
            .env("LOCKDEP_REPORT_DIR", &dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    println!("load average after: {}", load());
    let _ = std::fs::remove_dir_all(&dir);
}
