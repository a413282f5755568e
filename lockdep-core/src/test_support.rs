//! Support for `#[lockdep_core::test]`: panic mode while the test runs, the per-test report
//! file, and failing the test with the rendered reports.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::config::{self, OnReport};
use crate::report::{render_report, Report};

/// Threads currently running a lockdep test (their names).
static ACTIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
static IN_PANIC_MODE: AtomicUsize = AtomicUsize::new(0);

fn file_name(test: &str) -> String {
    test.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Where the report file of `test` goes.
pub fn test_report_path(test: &str) -> std::path::PathBuf {
    config::report_dir().join(format!("{}.json", file_name(test)))
}

/// Runs `f` as the lockdep test `name`. Used by the `#[lockdep_core::test]` expansion.
pub fn run_test<R>(name: &str, f: impl FnOnce() -> R) -> R {
    if config::config().on_report == OnReport::Off {
        return f();
    }
    let thread = crate::global::thread_name().to_string();
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push(thread.clone());
    IN_PANIC_MODE.fetch_add(1, Ordering::SeqCst);
    config::set_on_report(OnReport::Panic);
    let start = crate::global::validator().reports().len();

    let result = catch_unwind(AssertUnwindSafe(f));
    crate::global::check_held_at_exit();

    let mine: Vec<Report> = {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        let all = crate::global::validator().reports();
        let mine = all[start.min(all.len())..]
            .iter()
            .filter(|r| r.thread == thread || !active.contains(&r.thread))
            .cloned()
            .collect();
        if let Some(i) = active.iter().position(|t| *t == thread) {
            active.remove(i);
        }
        mine
    };
    if IN_PANIC_MODE.fetch_sub(1, Ordering::SeqCst) == 1 {
        config::set_on_report(config::config().on_report);
    }

    let path = test_report_path(name);
    let mut doc = crate::global::validator().document(name);
    doc.pid = Some(std::process::id());
    doc.reports = mine.clone();
    for r in &mut doc.reports {
        r.reproduce = Some(format!("lockdep-report show {}", path.display()));
    }
    if let Err(e) = doc.write_atomic(&path) {
        eprintln!("lockdep: could not write {}: {e}", path.display());
    }

    match result {
        Err(p) => resume_unwind(p),
        Ok(_) if !mine.is_empty() => {
            let text: String = mine.iter().map(render_report).collect();
            panic!(
                "lockdep found {} problem(s) in {name}:\n{text}\nreport file: {}",
                mine.len(),
                path.display()
            );
        }
        Ok(v) => v,
    }
}
