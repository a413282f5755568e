//! Support for `#[lockdep_core::test]`: panic mode while the test runs, the per-test report
//! file, and failing the test with the rendered reports; with the `tokio` feature, async
//! tests on a tokio runtime.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crate::config::{self, OnReport};
use crate::hook;
use crate::report::{render_report, Report};

/// Threads currently running a lockdep test (their names).
static ACTIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Threads that ever ran a lockdep test: a report raised by one belongs to that test only,
/// even when it is collected after that test ended (a report of a thread that never ran a
/// test, one the test spawned, goes to the tests collecting while it was raised).
static TEST_THREADS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Tests running in panic mode, and the reaction to reports to restore after the last one.
static IN_PANIC_MODE: Mutex<(usize, OnReport)> = Mutex::new((0, OnReport::Warn));

fn file_name(test: &str) -> String {
    test.chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect()
}

/// Where the report file of `test` goes: `<package>.<module path>__<test>.json` for the
/// name `#[lockdep_core::test]` gives, `<package>.<module path>::<test>` (`::` written `__`;
/// the package makes names unique across crates whose test files share a name).
pub fn test_report_path(test: &str) -> std::path::PathBuf {
    config::report_dir().join(format!("{}.json", file_name(test)))
}

/// The first test of a test binary (package-qualified name): removes the per-test files
/// earlier runs of this binary (same package and crate, `<package>.<crate>__`) left.
fn replace_earlier_runs(test: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let Some((binary, _)) = test.split_once("::") else { return };
    if binary.contains('.') {
        ONCE.call_once(|| {
            let prefix = format!("{}__", file_name(binary));
            crate::stale::remove_earlier_test_files(&config::report_dir(), &prefix);
        });
    }
}

/// Runs `f` as the lockdep test `name`. Used by the `#[lockdep_core::test]` expansion.
pub fn run_test<R>(name: &str, f: impl FnOnce() -> R) -> R {
    run_test_with_helpers(name, None, f)
}

/// The name of the helper threads (a tokio runtime's) of the test running on this thread:
/// their reports belong to that test only.
#[cfg(feature = "tokio")]
fn helpers_name() -> String {
    format!("{} (lockdep test runtime)", hook::thread_name())
}

/// [`run_test`], where reports of threads named `helpers` belong to this test only.
fn run_test_with_helpers<R>(name: &str, helpers: Option<&str>, f: impl FnOnce() -> R) -> R {
    if !hook::tracing() {
        return f();
    }
    replace_earlier_runs(name);
    let thread = hook::thread_name();
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).push(thread.clone());
    {
        let mut known = TEST_THREADS.lock().unwrap_or_else(|e| e.into_inner());
        for t in std::iter::once(thread.as_str()).chain(helpers) {
            if !known.iter().any(|k| k == t) {
                known.push(t.to_string());
            }
        }
    }
    {
        let mut p = IN_PANIC_MODE.lock().unwrap_or_else(|e| e.into_inner());
        if p.0 == 0 {
            p.1 = config::on_report();
        }
        p.0 += 1;
        config::set_on_report(OnReport::Panic);
    }
    let start = hook::reports().len();

    let result = catch_unwind(AssertUnwindSafe(f));
    hook::check_held_at_exit();

    let mine: Vec<Report> = {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        let all = hook::reports();
        let mine = all[start.min(all.len())..]
            .iter()
            .filter(|r| {
                r.thread == thread || Some(r.thread.as_str()) == helpers || {
                    let known = TEST_THREADS.lock().unwrap_or_else(|e| e.into_inner());
                    !known.contains(&r.thread) && !active.contains(&r.thread)
                }
            })
            .cloned()
            .collect();
        if let Some(i) = active.iter().position(|t| *t == thread) {
            active.remove(i);
        }
        mine
    };
    {
        let mut p = IN_PANIC_MODE.lock().unwrap_or_else(|e| e.into_inner());
        p.0 -= 1;
        if p.0 == 0 {
            config::set_on_report(p.1);
        }
    }

    let path = test_report_path(name);
    if let Err(e) = hook::write_test_report(&path, name, &mine) {
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

/// The runtime of an async lockdep test (`#[lockdep_core::test(flavor = ...)]`).
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug)]
pub enum Flavor {
    /// tokio's current-thread runtime (the default, as for `#[tokio::test]`).
    CurrentThread,
    /// tokio's multi-thread runtime with this many workers (tokio's default: one per CPU).
    MultiThread(Option<usize>),
}

/// Runs `fut` as the async lockdep test `name`: [`run_test`] of a tokio runtime of `flavor`
/// (all drivers enabled) blocking on `fut` instrumented as a task (its own held stack, and
/// `held_across_await` for a blocking guard held when it yields). Tasks it spawned are
/// dropped with the runtime before the test's reports are collected. Used by the
/// `#[lockdep_core::test]` expansion.
#[cfg(feature = "tokio")]
#[track_caller]
pub fn run_async_test<F: std::future::Future>(name: &str, flavor: Flavor, fut: F) -> F::Output {
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavor::MultiThread(workers) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = workers {
                b.worker_threads(n);
            }
            b
        }
    };
    // The runtime's threads are named after the test's, so that their reports are its own.
    let helpers = helpers_name();
    let rt = builder
        .enable_all()
        .thread_name(helpers.clone())
        .build()
        .expect("lockdep: could not build the tokio runtime");
    let task = crate::task::instrument(fut);
    run_test_with_helpers(name, Some(&helpers), move || {
        let out = rt.block_on(task);
        drop(rt);
        out
    })
}
