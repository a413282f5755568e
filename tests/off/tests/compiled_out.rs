//! lockdep-core with the `off` feature: zero-size tracing, silent assertions, no files.

use std::mem::size_of;
use std::process::Command;

use lockdep_core::rules::{self, ModeSet, Rule};
use lockdep_core::{
    assert_exclusive, assert_held, assert_held_read, assert_held_write, assert_not_held,
    assert_state, might_lock, with_held, LockClassKey, LockMap, Mode, Mutex, RawSpinLock, RwLock,
    RwSem, SpinLock,
};

#[test]
fn lock_types_are_their_raw_lock_plus_data() {
    assert_eq!(size_of::<Mutex<u64>>(), size_of::<parking_lot::Mutex<u64>>());
    assert_eq!(size_of::<Mutex<()>>(), size_of::<parking_lot::Mutex<()>>());
    assert_eq!(size_of::<RwSem<u64>>(), size_of::<parking_lot::RwLock<u64>>());
    assert_eq!(size_of::<RwLock<u64>>(), size_of::<parking_lot::RwLock<u64>>());
    assert_eq!(size_of::<SpinLock<u64>>(), size_of::<lock_api::Mutex<RawSpinLock, u64>>());
    assert_eq!(size_of::<LockMap>(), 0);
    type Traced<R> = lockdep_core::lock_api::TracedRaw<R>;
    assert_eq!(size_of::<Traced<parking_lot::RawMutex>>(), size_of::<parking_lot::RawMutex>());
    assert_eq!(size_of::<Traced<parking_lot::RawRwLock>>(), size_of::<parking_lot::RawRwLock>());
}

static A: LockClassKey = LockClassKey::new("off::a");
static B: LockClassKey = LockClassKey::new("off::b");

/// Everything that raises a report with tracing on: with `off`, correct code and incorrect
/// annotations alike run silently, and nothing panics.
fn provoke_everything() {
    let a = Mutex::with_key(0, &A);
    let b = Mutex::with_key(0, &B);
    {
        let _ga = a.lock();
        let _gb = b.lock();
    }
    {
        let _gb = b.lock();
        let _ga = a.lock(); // inversion
    }
    let s = SpinLock::new(());
    {
        let _s = s.lock();
        let _m = a.lock(); // sleeping lock under a spinning one
    }
    rules::declare_order(&["off::b", "off::a"]).unwrap();
    rules::declare_order(&["off::a", "off::b"]).unwrap(); // cyclic with tracing on
    Rule::new("off_rule").when_acquiring("off::a", ModeSet::ANY).requires_held("x", ModeSet::ANY)
        .register()
        .unwrap();
    let sem = RwSem::new(());
    {
        let _r = sem.read();
        assert_held_write(&sem);
        assert_exclusive(&sem);
        assert_not_held(&sem);
    }
    assert_held(&sem);
    assert_held_read(&sem);
    assert!(assert_state("never true", |_| false), "a predicate never fails when compiled out");
    assert_eq!(with_held(|h| h.len()), 0);
    might_lock(&a);
    let map = LockMap::with_key(&A);
    map.release(); // bad unlock with tracing on
    map.downgrade(); // bad downgrade
    map.acquire(Mode::Write);
    map.acquire(Mode::Write); // recursive
    map.free(); // freed while held
    let w = sem.write();
    let d = w.downgrade();
    drop(d);
    std::mem::forget(a.lock()); // held at exit
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(lockdep_core::reports().is_empty());
    assert!(lockdep_core::write_report_file().is_err(), "no report file when compiled out");
}

#[test]
fn assertions_rules_and_lockmap_never_fail() {
    provoke_everything();
}

#[lockdep_core::test]
fn the_test_attribute_just_runs_the_test() {
    provoke_everything();
}

/// A child process that provokes every report kind and exits holding a lock: it must exit 0
/// and write neither a report file nor a trace (no start-up or exit hook runs).
#[test]
fn a_process_writes_no_report_file_and_no_trace() {
    if std::env::var_os("LOCKDEP_OFF_CHILD").is_some() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lockdep-off-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_provokes_everything", "--nocapture"])
        .env("LOCKDEP_OFF_CHILD", "1")
        .env("LOCKDEP", "panic")
        .env("LOCKDEP_REPORT_DIR", dir.join("reports"))
        .env("LOCKDEP_TRACE", dir.join("trace.jsonl"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("lockdep"), "nothing printed: {stderr}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(left.is_empty(), "files written: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn child_provokes_everything() {
    if std::env::var_os("LOCKDEP_OFF_CHILD").is_some() {
        provoke_everything();
    }
}
