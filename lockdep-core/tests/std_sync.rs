//! `lockdep_core::std::sync`: std's API and semantics (poisoning, timed waits), and the
//! validator's view of them (an ABBA between two std-shaped mutexes is reported, its legal
//! twin is not, the condvar pattern is silent).
//!
//! The graph is process-wide and the tests share one process: each test builds its own locks
//! (distinct construction sites, hence distinct classes) and looks only at reports naming
//! them.

use std::panic;
use std::thread;
use std::time::{Duration, Instant};

use lockdep_core::report::{Kind, Report};
use lockdep_core::std::sync::{
    Arc, Barrier, Condvar, LazyLock, Mutex, MutexGuard, Once, OnceLock, PoisonError, RwLock,
    TryLockError,
};
use lockdep_core::OnReport;

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

fn warn() {
    lockdep_core::set_on_report(OnReport::Warn);
}

#[test]
fn mutex_api() {
    warn();
    let m = Mutex::new(1);
    {
        let mut g = m.lock().unwrap();
        *g += 1;
        assert_eq!(lockdep_core::held_count(), 1);
        // Held here: a try fails without blocking (and without a report).
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked>, poisoned: false, .. }");
        assert_eq!(format!("{g:?} {g}"), "2 2");
    }
    assert_eq!(lockdep_core::held_count(), 0);
    assert_eq!(*m.try_lock().unwrap(), 2);
    assert_eq!(format!("{m:?}"), "Mutex { data: 2, poisoned: false, .. }");
    let mut m = m;
    *m.get_mut().unwrap() += 1;
    assert_eq!(m.into_inner().unwrap(), 3);
    let d: Mutex<Vec<u8>> = Mutex::default();
    assert!(d.lock().unwrap().is_empty());
    let f = Mutex::from(7);
    assert_eq!(*f.lock().unwrap(), 7);
    // Class identity is the construction site: two lines, two classes.
    assert_ne!(d.class_name(), f.class_name());
    assert!(reports_naming(&f.class_name()).is_empty());
    // Unsized data works, as with std.
    let s: &Mutex<[u8]> = &Mutex::new([1, 2, 3]);
    assert_eq!(s.lock().unwrap().len(), 3);
}

#[test]
fn a_panic_while_holding_a_mutex_poisons_it() {
    warn();
    let m = Arc::new(Mutex::new(5));
    let m2 = Arc::clone(&m);
    let r = thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison it");
    })
    .join();
    assert!(r.is_err());
    assert!(m.is_poisoned());
    let err = m.lock().unwrap_err();
    assert_eq!(**err.get_ref(), 5, "the poison error carries the guard");
    drop(err);
    assert!(matches!(m.try_lock(), Err(TryLockError::Poisoned(_))));
    assert!(format!("{m:?}").contains("poisoned: true"));
    m.clear_poison();
    assert!(!m.is_poisoned());
    assert_eq!(*m.lock().unwrap(), 5);
    // A panic while *not* holding it does not poison it.
    let m3 = Arc::clone(&m);
    let _ = thread::spawn(move || {
        drop(m3.lock().unwrap());
        panic!("not holding");
    })
    .join();
    assert!(!m.is_poisoned());
    // into_inner and get_mut report poisoning too.
    let p = Mutex::new(1);
    let _ = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _g = p.lock().unwrap();
        panic!("poison");
    }));
    let mut p = p;
    assert_eq!(*p.get_mut().unwrap_err().into_inner(), 1);
    assert_eq!(p.into_inner().unwrap_err().into_inner(), 1);
    assert_eq!(lockdep_core::held_count(), 0, "the guard dropped by the unwind released it");
}

#[test]
fn rwlock_api_and_poisoning() {
    warn();
    let l = RwLock::new(1);
    {
        let r1 = l.read().unwrap();
        assert!(matches!(l.try_write(), Err(TryLockError::WouldBlock)));
        assert_eq!(format!("{l:?}"), "RwLock { data: 1, poisoned: false, .. }");
        assert_eq!(*r1, 1);
    }
    {
        let mut w = l.write().unwrap();
        *w += 1;
        assert!(matches!(l.try_read(), Err(TryLockError::WouldBlock)));
        assert_eq!(format!("{l:?}"), "RwLock { data: <locked>, poisoned: false, .. }");
    }
    assert_eq!(*l.try_read().unwrap(), 2);
    *l.try_write().unwrap() += 1;
    // A panicking reader does not poison; a panicking writer does.
    let _ = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _r = l.read().unwrap();
        panic!("reader");
    }));
    assert!(!l.is_poisoned());
    let _ = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let _w = l.write().unwrap();
        panic!("writer");
    }));
    assert!(l.is_poisoned());
    assert_eq!(*l.read().unwrap_err().into_inner(), 3);
    assert!(matches!(l.try_write(), Err(TryLockError::Poisoned(_))));
    l.clear_poison();
    let mut l = l;
    *l.get_mut().unwrap() += 1;
    assert_eq!(l.into_inner().unwrap(), 4);
    let d: RwLock<u8> = RwLock::default();
    let f = RwLock::from(2u8);
    assert_eq!(*d.read().unwrap() + *f.read().unwrap(), 2);
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn std_read_is_a_non_recursive_read() {
    warn();
    let l = RwLock::new(0);
    let _a = l.read().unwrap();
    let _b = l.read().unwrap(); // would deadlock behind a queued writer
    let rs = reports_naming(&l.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
}

/// Runs `first` to completion on one thread, then `second` on another: the threads never
/// overlap, so nothing can really deadlock.
fn one_after_the_other(
    first: impl FnOnce() + Send + 'static,
    second: impl FnOnce() + Send + 'static,
) {
    thread::Builder::new().name("first".into()).spawn(first).unwrap().join().unwrap();
    thread::Builder::new().name("second".into()).spawn(second).unwrap().join().unwrap();
}

#[test]
fn abba_between_std_mutexes_is_a_circular_dependency() {
    warn();
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _ga = a1.lock().unwrap();
            let _gb = b1.lock().unwrap();
        },
        move || {
            let _gb = b2.lock().unwrap();
            let _ga = a2.lock().unwrap();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].classes.contains(&b.class_name()));
    assert_eq!(rs[0].thread, "second");
}

#[test]
fn same_order_on_two_threads_is_silent() {
    warn();
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _ga = a1.lock().unwrap();
            let _gb = b1.lock().unwrap();
        },
        move || {
            let _ga = a2.lock().unwrap();
            let _gb = b2.lock().unwrap();
        },
    );
    assert!(reports_naming(&a.class_name()).is_empty());
    assert!(reports_naming(&b.class_name()).is_empty());
}

#[test]
fn abba_through_std_rwlocks_with_a_writer_is_reported() {
    warn();
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _r = a1.read().unwrap();
            let _gb = b1.lock().unwrap();
        },
        move || {
            let _gb = b2.lock().unwrap();
            let _w = a2.write().unwrap();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn the_condvar_pattern_is_silent_and_the_wait_releases_the_mutex() {
    warn();
    let outer = Arc::new(Mutex::new(()));
    let state = Arc::new((Mutex::new(0u32), Condvar::new()));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (outer, state) = (outer.clone(), state.clone());
            thread::spawn(move || {
                // An outer lock held across the wait, taken before the condvar's mutex, the
                // same order as the producer: legal.
                let _o = outer.lock().unwrap();
                let (m, cv) = &*state;
                let mut n = m.lock().unwrap();
                while *n == 0 {
                    n = cv.wait(n).unwrap();
                    assert_eq!(lockdep_core::held_count(), 2, "outer and the re-taken mutex");
                }
                *n -= 1;
            })
        })
        .collect();
    for _ in 0..2 {
        thread::sleep(Duration::from_millis(20));
        let (m, cv) = &*state;
        *m.lock().unwrap() += 1;
        cv.notify_one();
        // The consumer holding `outer` waits inside; the producer never takes `outer` while
        // holding `m`, so no order is inverted.
    }
    // The second consumer waits for `outer`; once the first is done it gets it, finds the
    // second increment (or waits for it).
    for c in consumers {
        c.join().unwrap();
    }
    assert_eq!(*state.0.lock().unwrap(), 0);
    assert!(reports_naming(&state.0.class_name()).is_empty(), "{:?}", lockdep_core::reports());
    assert!(reports_naming(&outer.class_name()).is_empty());
}

#[test]
fn a_producer_signalling_under_the_mutex_while_the_waiter_holds_another_lock_is_silent() {
    warn();
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let t = thread::spawn(move || {
        let (m, cv) = &*p;
        let g = m.lock().unwrap();
        let g = cv.wait_while(g, |ready| !*ready).unwrap();
        assert!(*g);
    });
    thread::sleep(Duration::from_millis(10));
    {
        let (m, cv) = &*pair;
        let mut g = m.lock().unwrap();
        *g = true;
        cv.notify_all(); // notify while holding, as is common
    }
    t.join().unwrap();
    assert!(reports_naming(&pair.0.class_name()).is_empty());
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn a_wait_holding_a_lock_taken_after_the_mutex_is_reported_at_the_re_acquisition() {
    warn();
    // m, then a, then wait on m's condvar: the wait releases m and re-takes it while `a` is
    // held (a -> m), against m -> a. A notifier that holds m and wants `a` would deadlock.
    let m = Mutex::new(0);
    let a = Mutex::new(0);
    let cv = Condvar::new();
    let g = m.lock().unwrap();
    let ga = a.lock().unwrap();
    assert!(reports_naming(&m.class_name()).is_empty(), "m -> a alone is fine");
    let (g, _) = cv.wait_timeout(g, Duration::from_millis(1)).unwrap();
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].classes.contains(&a.class_name()));
    assert_eq!(lockdep_core::held_count(), 2);
    drop((ga, g));
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn timed_waits_return() {
    warn();
    let m = Mutex::new(0);
    let cv = Condvar::new();
    let start = Instant::now();
    let (g, r) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(30)).unwrap();
    assert!(r.timed_out());
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(lockdep_core::held_count(), 1, "re-taken after the timeout");
    let start = Instant::now();
    let (g, r) = cv.wait_timeout_while(g, Duration::from_millis(30), |v| *v == 0).unwrap();
    assert!(r.timed_out());
    assert!(start.elapsed() >= Duration::from_millis(30));
    let (g, r) = cv.wait_timeout_while(g, Duration::from_secs(5), |v| *v != 0).unwrap();
    assert!(!r.timed_out(), "condition already false: no wait");
    drop(g);
    // A notification before the timeout ends the wait.
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let t = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        *p.0.lock().unwrap() = true;
        p.1.notify_one();
    });
    let (g, r) = pair
        .1
        .wait_timeout_while(pair.0.lock().unwrap(), Duration::from_secs(10), |v| !*v)
        .unwrap();
    assert!(*g && !r.timed_out());
    drop(g);
    t.join().unwrap();
    // Huge timeouts do not overflow.
    let _ = cv.wait_timeout(m.lock().unwrap(), Duration::from_nanos(1)).unwrap();
    assert!(reports_naming(&m.class_name()).is_empty());
}

#[test]
fn notify_all_wakes_every_waiter() {
    warn();
    // (waiting, go)
    let state = Arc::new((Mutex::new((0u32, false)), Condvar::new()));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let s = state.clone();
            thread::spawn(move || {
                let mut g = s.0.lock().unwrap();
                g.0 += 1;
                drop(s.1.wait_while(g, |(_, go)| !*go).unwrap());
            })
        })
        .collect();
    // A waiter counts itself under the mutex and releases it only inside the wait.
    while state.0.lock().unwrap().0 < 3 {
        thread::sleep(Duration::from_millis(1));
    }
    state.0.lock().unwrap().1 = true;
    state.1.notify_all();
    for w in waiters {
        w.join().unwrap();
    }
    assert!(reports_naming(&state.0.class_name()).is_empty());
}

#[test]
fn a_wait_on_a_poisoned_mutex_returns_the_poison_error() {
    warn();
    let pair = Arc::new((Mutex::new(0), Condvar::new()));
    let p = pair.clone();
    let waiter = thread::spawn(move || {
        let g = p.0.lock().unwrap();
        let r: Result<MutexGuard<'_, i32>, PoisonError<_>> = p.1.wait_while(g, |v| *v == 0);
        r.is_err()
    });
    thread::sleep(Duration::from_millis(20));
    let p = pair.clone();
    let _ = thread::spawn(move || {
        let mut g = p.0.lock().unwrap();
        *g = 1;
        p.1.notify_all();
        panic!("poison while the waiter sleeps");
    })
    .join();
    assert!(waiter.join().unwrap(), "the waiter saw the poison");
}

#[test]
fn once_oncelock_lazylock_and_barrier_are_std_s() {
    static ONCE: Once = Once::new();
    static CELL: OnceLock<u32> = OnceLock::new();
    static LAZY: LazyLock<u32> = LazyLock::new(|| 41 + 1);
    ONCE.call_once(|| {});
    assert!(ONCE.is_completed());
    assert_eq!(*CELL.get_or_init(|| 3), 3);
    assert_eq!(*LAZY, 42);
    assert!(Barrier::new(1).wait().is_leader());
}

#[test]
fn assertions_name_std_locks() {
    warn();
    let m = Mutex::new(0);
    let g = m.lock().unwrap();
    lockdep_core::assert_held(&m);
    drop(g);
    lockdep_core::assert_not_held(&m);
    assert!(reports_naming(&m.class_name()).is_empty());
}
