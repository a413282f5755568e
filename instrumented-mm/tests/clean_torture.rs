//! The clean model under the torture: zero validator reports, invariants hold, nothing leaks.

use std::time::Duration;

use instrumented_mm::torture::{run, Options};

#[test]
fn clean_torture_has_no_reports_and_keeps_invariants() {
    lockdep_core::set_on_report(lockdep_core::OnReport::Warn);
    let s = run(&Options { threads: 4, duration: Duration::from_secs(3), ..Options::default() });
    assert_eq!(s.hung, 0);
    assert!(s.panics.is_empty(), "{:?}", s.panics);
    assert!(
        s.reports.is_empty(),
        "{:?}",
        s.reports
            .iter()
            .map(|r| (r.kind, r.classes.clone(), r.message.clone()))
            .collect::<Vec<_>>()
    );
    assert!(s.violations.is_empty(), "{:#?}", s.violations);
    for (op, n) in &s.ops {
        assert!(*n > 0, "operation {op} never ran");
    }
}
