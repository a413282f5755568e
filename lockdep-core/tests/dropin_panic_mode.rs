//! The drop-in families in panic mode: a refused acquisition inside a condvar wait or an
//! upgrade panics at the caller's site and leaves nothing locked; so does a lazy touched from
//! its own initialiser, or while holding a lock its initialiser takes (before it can block). Its own binary: panic mode
//! is process-wide.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use lockdep_core::std::sync::{Condvar, Mutex, TryLockError};
use lockdep_core::{parking_lot, OnReport};

#[test]
fn a_refused_condvar_re_acquisition_panics_and_leaves_the_mutex_unlocked() {
    lockdep_core::set_on_report(OnReport::Panic);
    let m = Mutex::new(0);
    let a = Mutex::new(0);
    let cv = Condvar::new();
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let g = m.lock().unwrap();
        let _ga = a.lock().unwrap(); // m -> a
        let _ = cv.wait_timeout(g, Duration::from_millis(1)); // re-takes m under a: refused
        unreachable!("the re-acquisition closes a cycle");
    }));
    assert!(r.is_err());
    assert_eq!(lockdep_core::held_count(), 0);
    // The guard unwound with the raw lock re-taken, then released it (and poisoned it: a
    // panic while holding, as std does).
    let t = m.try_lock();
    assert!(matches!(t, Err(TryLockError::Poisoned(_))), "{t:?}");
    assert!(!matches!(a.try_lock(), Err(TryLockError::WouldBlock)), "a was released");
}

#[test]
fn a_refused_upgrade_panics_and_leaves_the_rwlock_unlocked() {
    lockdep_core::set_on_report(OnReport::Panic);
    let l = parking_lot::RwLock::new(0);
    let b = parking_lot::Mutex::new(0);
    {
        let _r = l.read();
        let _gb = b.lock(); // l(shared) -> b
    }
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let u = l.upgradable_read();
        let _gb = b.lock(); // l(shared) -> b again: fine
        let _w = parking_lot::RwLockUpgradableReadGuard::upgrade(u); // b -> l(write): refused
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    let upgrade = format!("acquires {} while holding {}", l.class_name(), b.class_name());
    assert!(msg.contains(&upgrade), "refused at the upgrade: {msg}");
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(!l.is_locked());
    assert!(!b.is_locked());
}

#[test]
fn a_lazy_touched_from_its_own_initialiser_panics_as_recursive_locking() {
    use lockdep_core::std::sync::LazyLock;
    lockdep_core::set_on_report(OnReport::Panic);
    let site = format!("{}:{}:", file!(), line!() + 1);
    static SELF_REF: LazyLock<u32> = LazyLock::new(|| {
        // std would deadlock (or panic) here; the touch is refused before it blocks.
        let inner = panic::catch_unwind(|| *SELF_REF);
        assert!(inner.is_err());
        1
    });
    assert_eq!(*SELF_REF, 1);
    let rs: Vec<_> = lockdep_core::reports()
        .into_iter()
        .filter(|r| r.classes.iter().any(|c| c.contains(&site)))
        .collect();
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, lockdep_core::report::Kind::RecursiveLocking);
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn a_lazy_touched_while_holding_a_lock_its_initialiser_takes_panics_before_it_can_block() {
    use lockdep_core::std::sync::LazyLock;
    lockdep_core::set_on_report(OnReport::Panic);
    static L: Mutex<u32> = Mutex::new(5);
    static LAZY: LazyLock<u32> = LazyLock::new(|| *L.lock().unwrap());
    // Initialised on another thread: LAZY -> L.
    std::thread::spawn(|| assert_eq!(*LAZY, 5)).join().unwrap();
    let r = panic::catch_unwind(|| {
        let _g = L.lock().unwrap();
        *LAZY
    });
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().expect("the report as the panic message");
    assert!(msg.contains("circular_dependency"), "{msg}");
    assert_eq!(lockdep_core::held_count(), 0);
    // L was released while unwinding (and poisoned, as std does).
    assert!(matches!(L.try_lock(), Err(TryLockError::Poisoned(_))));
}

lockdep_core::raw_lock_class!(struct PanicRw = "panic_mode_traced_rw");
lockdep_core::raw_lock_class!(struct PanicM = "panic_mode_traced_m");

#[test]
fn a_refused_raw_upgrade_panics_and_lock_api_s_guard_releases_the_lock() {
    use lockdep_core::lock_api::TracedRaw;
    lockdep_core::set_on_report(OnReport::Panic);
    let l = lock_api::RwLock::<TracedRaw<::parking_lot::RawRwLock, PanicRw>, u32>::new(0);
    let b = lock_api::Mutex::<TracedRaw<::parking_lot::RawMutex, PanicM>, u32>::new(0);
    {
        let _r = l.read();
        let _gb = b.lock(); // l(shared) -> b
    }
    let r = panic::catch_unwind(AssertUnwindSafe(|| {
        let u = l.upgradable_read();
        let _gb = b.lock();
        let _w = lock_api::RwLockUpgradableReadGuard::upgrade(u); // b -> l(write): refused
    }));
    let msg = r.unwrap_err();
    let msg = msg.downcast_ref::<String>().map(String::as_str).unwrap_or_default();
    assert!(msg.contains("panic_mode_traced_rw"), "refused at the upgrade: {msg}");
    // The raw lock stayed upgradable until lock_api's guard unwound and released it.
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(!l.is_locked());
    assert!(!b.is_locked());
    assert!(l.try_write().is_some());
}

/// The panic of a refused acquisition (and of a failed assertion) is located at the user's
/// line (`#[track_caller]` through to the panic), and its message starts with that site, not
/// with a file of lockdep's.
#[test]
fn the_panic_points_at_the_users_acquisition_site() {
    use std::sync::{Arc, Mutex as StdMutex};
    lockdep_core::set_on_report(OnReport::Panic);
    // Other tests of this binary panic concurrently: keep only this thread's panics.
    let seen: Arc<StdMutex<Vec<(std::thread::ThreadId, String, u32)>>> = Arc::default();
    let prev = panic::take_hook();
    let record = Arc::clone(&seen);
    panic::set_hook(Box::new(move |info| {
        if let Some(l) = info.location() {
            let me = std::thread::current().id();
            record.lock().unwrap().push((me, l.file().to_string(), l.line()));
        }
    }));
    let message = |r: std::thread::Result<()>| -> String {
        let p = r.unwrap_err();
        p.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let a = lockdep_core::Mutex::new(0);
    let b = lockdep_core::Mutex::new(0);
    {
        let _a = a.lock();
        let _b = b.lock(); // a -> b
    }
    let line = line!() + 3;
    let cycle = message(panic::catch_unwind(AssertUnwindSafe(|| {
        let _b = b.lock();
        let _a = a.lock(); // b -> a: refused here
    })));
    let assertion_line = line!() + 2;
    let assertion = message(panic::catch_unwind(AssertUnwindSafe(|| {
        lockdep_core::assert_held(&a); // fails here
    })));
    panic::set_hook(prev);
    let me = std::thread::current().id();
    let seen: Vec<(String, u32)> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, _, _)| *t == me)
        .map(|(_, f, l)| (f.clone(), *l))
        .collect();
    assert_eq!(
        seen,
        vec![(file!().to_string(), line), (file!().to_string(), assertion_line)],
        "panic locations"
    );
    let site = format!("lockdep: {}:{line}:", file!());
    assert!(cycle.starts_with(&site), "{cycle:?} starts with {site:?}");
    assert!(cycle.contains("possible circular locking dependency detected"), "{cycle}");
    let site = format!("lockdep: {}:{assertion_line}:", file!());
    assert!(assertion.starts_with(&site), "{assertion:?} starts with {site:?}");
    assert!(assertion.contains("assertion failed: lock "), "{assertion}");
    assert_eq!(lockdep_core::held_count(), 0);
}
