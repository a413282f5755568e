//! `#[lockdep_core::test]`: panic mode for the test, failure with the rendered report, the
//! per-test report file, and a cycle closed by one test whose other half another test showed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lockdep_core::report::{Document, Kind};
use lockdep_core::{LockClassKey, Mutex};

#[lockdep_core::test]
fn passing_test_runs_normally() {
    let m = Mutex::new(1);
    *m.lock() += 1;
    assert_eq!(*m.lock(), 2);
}

#[lockdep_core::test]
#[should_panic(expected = "circular_dependency")]
fn inversion_inside_a_test_fails_it_before_blocking() {
    let a = Mutex::new(());
    let b = Mutex::new(());
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    let _b = b.lock();
    let _a = a.lock(); // panics here (panic mode), before blocking
}

#[lockdep_core::test]
fn test_returning_result_is_supported() -> Result<(), String> {
    let m = Mutex::new(0);
    *m.lock() = 1;
    Ok(())
}

static HALF_X: LockClassKey = LockClassKey::new("attr::x");
static HALF_Y: LockClassKey = LockClassKey::new("attr::y");
static HALF_SHOWN: AtomicBool = AtomicBool::new(false);

#[lockdep_core::test]
fn cross_test_a_learns_one_half() {
    cross_test_a_learns_one_half_body();
}

fn cross_test_a_learns_one_half_body() {
    let x = Mutex::with_key((), &HALF_X);
    let y = Mutex::with_key((), &HALF_Y);
    let _x = x.lock();
    let _y = y.lock();
    HALF_SHOWN.store(true, Ordering::SeqCst);
}

#[lockdep_core::test]
#[should_panic(expected = "attr::")]
fn cross_test_b_closes_the_cycle() {
    if std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test") {
        // One process per test: the other test's half lives in another process (that case is
        // `lockdep-report merge`'s, see `.ci/run`); show the half here on another thread.
        std::thread::spawn(cross_test_a_learns_one_half_body).join().unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !HALF_SHOWN.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the other half never ran");
        std::thread::sleep(Duration::from_millis(5));
    }
    let x = Mutex::with_key((), &HALF_X);
    let y = Mutex::with_key((), &HALF_Y);
    let _y = y.lock();
    let _x = x.lock();
}

#[test]
fn run_test_writes_a_file_named_after_the_test_and_names_the_other_half() {
    // The function behind the attribute, called directly so the outcome can be inspected.
    let name = "attribute::direct_probe";
    static P: LockClassKey = LockClassKey::new("attr::probe_p");
    static Q: LockClassKey = LockClassKey::new("attr::probe_q");
    std::thread::Builder::new()
        .name("other_half".into())
        .spawn(|| {
            let p = Mutex::with_key((), &P);
            let q = Mutex::with_key((), &Q);
            let _p = p.lock();
            let _q = q.lock();
        })
        .unwrap()
        .join()
        .unwrap();
    let clean = lockdep_core::__private::run_test("attribute::clean_probe", || 5);
    assert_eq!(clean, 5);
    let file = lockdep_core::test_report_path("attribute::clean_probe");
    let doc = Document::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(doc.reports.is_empty(), "a passing test leaves a clean file");
    assert!(file.file_name().unwrap().to_str().unwrap().starts_with("attribute__clean_probe"));

    let failed = std::panic::catch_unwind(|| {
        lockdep_core::__private::run_test(name, || {
            let p = Mutex::with_key((), &P);
            let q = Mutex::with_key((), &Q);
            let _q = q.lock();
            let _p = p.lock();
        })
    });
    assert!(failed.is_err());
    let doc = Document::from_json(
        &std::fs::read_to_string(lockdep_core::test_report_path(name)).unwrap(),
    )
    .unwrap();
    assert_eq!(doc.reports.len(), 1);
    let r = &doc.reports[0];
    assert_eq!(r.kind, Kind::CircularDependency);
    assert_eq!(r.chain[1].thread, "other_half", "the report names where the other half was seen");
    assert!(r.chain[1].from.site.as_ref().unwrap().file.ends_with("attribute.rs"));
}

static HELPER_A: LockClassKey = LockClassKey::new("attr::helper_a");
static HELPER_B: LockClassKey = LockClassKey::new("attr::helper_b");

/// Takes `first`, then `second` under it: the user's frame a report's stack must show.
#[inline(never)]
fn take_in_helper(first: &Mutex<()>, second: &Mutex<()>) {
    let _first = first.lock();
    let _second = second.lock();
}

/// Under the attribute, a report's stacks keep every user frame between the lock call and the
/// test body (the helper and the test function), and only lockdep's own frames are cut.
#[lockdep_core::test]
#[should_panic(
    expected = "lockdep found 1 problem(s) in lockdep-tests.attribute::stacks_keep_the_helper_"
)]
fn stacks_keep_the_helper_and_the_test_function() {
    let a = Mutex::with_key((), &HELPER_A);
    let b = Mutex::with_key((), &HELPER_B);
    take_in_helper(&a, &b);
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| take_in_helper(&b, &a)));
    assert!(refused.is_err(), "panic mode refuses the inversion");
    let reports = lockdep_core::reports();
    let r = reports
        .iter()
        .find(|r| r.classes.iter().any(|c| c == "attr::helper_a"))
        .expect("the inversion's report");
    for (what, a) in [("acquiring", r.acquiring.as_ref().unwrap()), ("edge", &r.chain[1].to)] {
        let names: Vec<&str> = a.stack.iter().map(|f| f.function.as_str()).collect();
        let helper = names.iter().position(|f| f.ends_with("take_in_helper"));
        let test =
            names.iter().position(|f| f.contains("stacks_keep_the_helper_and_the_test_function"));
        assert!(helper.is_some() && test.is_some() && helper < test, "{what}: {names:#?}");
        assert!(!names.iter().any(|f| f.starts_with("lockdep_core::")), "{what}: {names:#?}");
        let at = &a.stack[helper.unwrap()];
        assert!(at.file.as_deref().is_some_and(|f| f.ends_with("attribute.rs")), "{at:?}");
    }
}
