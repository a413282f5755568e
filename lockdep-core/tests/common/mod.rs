//! Helpers shared by the drop-in family tests (each test binary includes this module).

use std::thread;

use lockdep_core::report::Report;
use lockdep_core::OnReport;

/// The reports of this process that name `class`.
pub fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

/// Warn mode: reports are recorded and the test goes on.
pub fn warn() {
    lockdep_core::set_on_report(OnReport::Warn);
}

/// Runs `first` to completion on one thread, then `second` on another: the threads never
/// overlap, so nothing can really deadlock.
pub fn one_after_the_other(
    first: impl FnOnce() + Send + 'static,
    second: impl FnOnce() + Send + 'static,
) {
    thread::Builder::new().name("first".into()).spawn(first).unwrap().join().unwrap();
    thread::Builder::new().name("second".into()).spawn(second).unwrap().join().unwrap();
}
