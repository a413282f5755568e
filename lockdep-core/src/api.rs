//! Process-wide queries of the user API: the reports found so far, the current thread's held
//! count, the process's report file. With the `off` feature they answer "nothing".

use crate::hook;
use crate::report::Report;

/// Reports locks still held by the current thread (`held_at_exit`) and forgets them. Called
/// by the test harness at the end of a test thread; safe during thread exit; never panics.
pub fn check_held_at_exit() {
    hook::check_held_at_exit();
}

/// Number of locks the current thread holds, as the validator sees them.
pub fn held_count() -> usize {
    hook::held_count()
}

/// Every report the process-wide validator has produced so far.
pub fn reports() -> Vec<Report> {
    hook::reports()
}

/// Where this process writes its report file.
pub fn report_path() -> std::path::PathBuf {
    hook::report_path()
}

/// Writes the process's report document now (atomically); returns where. An error with the
/// `off` feature, which writes no report file.
pub fn write_report_file() -> std::io::Result<std::path::PathBuf> {
    hook::write_report_file()
}
