//! What the live event tests share: the process-wide reports naming one test's class, and
//! warn mode (each test builds its own locks, so it looks only at reports naming them).

use lockdep_core::report::Report;
use lockdep_core::OnReport;

/// The reports so far whose classes include `class`.
pub fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

/// Warn mode: a test's waits are reported, then go on.
pub fn warn() {
    lockdep_core::set_on_report(OnReport::Warn);
}
