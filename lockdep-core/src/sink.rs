//! Where reports go: the emission policy (print, write the report file, panic or not) and the
//! report file itself.
//!
//! Everything here runs outside the validator's state lock and outside any thread's
//! held-stack borrow: printing and file I/O never make another thread's new chain wait.

use std::cell::Cell;
use std::path::PathBuf;

use crate::config::{self, OnReport};
use crate::report::{self, Report};
use crate::validator::Validator;

thread_local! {
    /// Set while this thread is being torn down (thread-local destructors, process exit):
    /// a panic there would abort the process.
    static IN_TEARDOWN: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as being torn down: reports are still printed and written, never
/// turned into a panic.
pub(crate) fn enter_teardown() {
    let _ = IN_TEARDOWN.try_with(|f| f.set(true));
}

/// Whether this thread is being torn down.
pub(crate) fn in_teardown() -> bool {
    IN_TEARDOWN.try_with(|f| f.get()).unwrap_or(true)
}

/// Whether a report found now must panic the current thread: panic mode, and not while
/// unwinding or tearing the thread down (where a panic would abort the process).
pub(crate) fn panics_now() -> bool {
    config::on_report() == OnReport::Panic && !std::thread::panicking() && !in_teardown()
}

fn program() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "process".into())
}

/// Where this process writes its report file.
pub(crate) fn report_path() -> PathBuf {
    config::report_dir().join(format!("{}-{}.json", program(), std::process::id()))
}

/// Serialises report-file writes of this process, so an older snapshot is never renamed over
/// a newer one.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Writes the process's report document of `v` atomically; returns where.
pub(crate) fn write_report_file(v: &Validator) -> std::io::Result<PathBuf> {
    let _one_at_a_time = WRITING.lock().unwrap_or_else(|e| e.into_inner());
    let path = report_path();
    let mut doc = v.document(&program());
    doc.pid = Some(std::process::id());
    for r in &mut doc.reports {
        r.reproduce.get_or_insert_with(|| format!("lockdep-report show {}", path.display()));
    }
    doc.write_atomic(&path)?;
    Ok(path)
}

/// Writes the report file of one test at `path`: the graph of `v` with `reports`.
pub(crate) fn write_test_report(
    v: &Validator,
    path: &std::path::Path,
    name: &str,
    reports: &[Report],
) -> std::io::Result<()> {
    let mut doc = v.document(name);
    doc.pid = Some(std::process::id());
    doc.reports = reports.to_vec();
    for r in &mut doc.reports {
        r.reproduce = Some(format!("lockdep-report show {}", path.display()));
    }
    doc.write_atomic(path)
}

/// Prints `reports` on stderr and updates the report file of `v`.
pub(crate) fn emit(v: &Validator, reports: &[Report]) {
    if reports.is_empty() {
        return;
    }
    let path = write_report_file(v);
    for r in reports {
        let mut text = report::render_report(r);
        match &path {
            Ok(p) => text.push_str(&format!("report file: {}\n", p.display())),
            Err(e) => text.push_str(&format!("lockdep: could not write the report file: {e}\n")),
        }
        eprint!("{text}");
    }
}

/// Panics with the first of `reports` (panic mode), naming the caller's site.
#[track_caller]
pub(crate) fn panic_with(reports: &[Report]) -> ! {
    let first = &reports[0];
    panic!("lockdep: {} ({}): {}", first.title, first.fingerprint(), first.message)
}
