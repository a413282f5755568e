//! The process report file: written atomically into `LOCKDEP_REPORT_DIR` when a report fires,
//! readable back, and rendering the same text as the live report. Panic mode panics in the
//! offending thread before it blocks. One test per concern, serialised: this binary owns its
//! process-wide configuration.

use std::sync::Mutex as StdMutex;

use lockdep_core::report::{render_report, Document, Kind};
use lockdep_core::{Mutex, OnReport};

static SERIAL: StdMutex<()> = StdMutex::new(());

/// The configured report folder (read once at start-up; `LOCKDEP_REPORT_DIR` overrides it,
/// see `tests/process.rs`).
fn report_dir() -> std::path::PathBuf {
    lockdep_core::config().report_dir.clone()
}

#[test]
fn report_file_round_trips_and_renders_the_same_text() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = report_dir();
    let a = Mutex::new(());
    let b = Mutex::new(());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    let path = lockdep_core::report_path();
    assert!(path.starts_with(&dir), "{} not in {}", path.display(), dir.display());
    let text = std::fs::read_to_string(&path).expect("report file written when the report fired");
    let doc = Document::from_json(&text).expect("valid lockdep-report/1");
    assert_eq!(doc.schema, "lockdep-report/1");
    assert_eq!(doc.pid, Some(std::process::id()));
    let r = doc
        .reports
        .iter()
        .find(|r| r.classes.contains(&a.class_name()))
        .expect("the ABBA report is in the file");
    assert_eq!(r.kind, Kind::CircularDependency);
    assert!(r.reproduce.as_deref().unwrap().contains("lockdep-report show"));
    assert!(doc.graph.edges.len() >= 2);
    // No temp files left behind by the atomic write.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // JSON -> model -> text equals the live report's text.
    let live = lockdep_core::reports().into_iter().find(|l| l.classes == r.classes).unwrap();
    let mut live_with_path = live.clone();
    live_with_path.reproduce = r.reproduce.clone();
    assert_eq!(render_report(r), render_report(&live_with_path));
    let again = Document::from_json(&doc.to_json()).unwrap();
    assert_eq!(again, doc);
}

#[test]
fn panic_mode_panics_before_blocking_and_leaves_the_stack_clean() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let a = std::sync::Arc::new(Mutex::new(()));
    let b = std::sync::Arc::new(Mutex::new(()));
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    lockdep_core::set_on_report(OnReport::Panic);
    let (a2, b2) = (a.clone(), b.clone());
    let result = std::thread::spawn(move || {
        let _b = b2.lock();
        let _a = a2.lock(); // reported: panics here, before taking `a`
        unreachable!("panic mode must not let the inversion proceed");
    })
    .join();
    lockdep_core::set_on_report(OnReport::Warn);
    let err = result.expect_err("the inverting thread panicked");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("circular_dependency"), "{msg}");
    // `a` was never taken by the panicking thread, and `b` was released during unwinding.
    assert!(a.try_lock().is_some());
    assert!(b.try_lock().is_some());
    assert_eq!(lockdep_core::held_count(), 0);
}
