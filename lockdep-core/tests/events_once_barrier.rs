//! Waits on events (issue 14) for the once-shaped participants and the barrier, on live
//! programs: `LazyLock`, `OnceLock` and `Once` (the initialiser holds the once; every access
//! is a potential wait for it) and `Barrier` (an arrival signals the barrier, then waits for
//! the others). Each deadlock shape is reported and its legal twin is not. Every program is
//! sequenced so that it never really hangs: the side that closes the cycle runs last, after
//! the other side no longer needs the lock.
//!
//! The graph is process-wide and the tests share one process: each test builds its own
//! locks and participants (distinct construction sites, hence distinct classes) and looks
//! only at reports naming its locks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockdep_core::report::{Kind, NodeKind, Report};
use lockdep_core::std::sync::{Arc, Barrier, LazyLock, Mutex, Once, OnceLock};
use lockdep_core::std::thread;

#[expect(dead_code, reason = "each test binary uses part of the shared helpers")]
mod common;
use common::{reports_naming, warn};

/// The one report naming `class`: a two-link cycle `class -> event -> class`, with the event
/// node marked and the scenario showing the wait and the signal that never comes.
fn event_cycle(class: &str) -> Report {
    let rs = reports_naming(class);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    let r = rs.into_iter().next().unwrap();
    assert_eq!(r.kind, Kind::CircularDependency);
    assert_eq!(r.classes.len(), 2, "{r:#?}");
    let lock_to_event = r
        .chain
        .iter()
        .find(|l| l.from.node == NodeKind::Lock && l.to.node == NodeKind::Event)
        .unwrap_or_else(|| panic!("no lock -> event link: {r:#?}"));
    assert_eq!(lock_to_event.from.class, class);
    assert!(r.chain.iter().any(|l| l.from.node == NodeKind::Event && l.to.class == class));
    assert!(r.message.contains(&format!("release {class} before waiting")), "{}", r.message);
    let actions: Vec<&str> = r.scenario.iter().map(|s| s.action.as_str()).collect();
    assert!(actions.iter().any(|s| s.starts_with("wait(")), "{actions:?}");
    assert!(actions.iter().any(|s| s.contains("never reached")), "{actions:?}");
    r
}

#[test]
fn lazy_touched_while_holding_a_lock_its_initialiser_takes_is_reported() {
    warn();
    static L: Mutex<u32> = Mutex::new(0);
    let lazy_site = format!("{}:{}:", file!(), line!() + 1);
    static LAZY: LazyLock<u32> = LazyLock::new(|| *L.lock().unwrap() + 7);
    // Another thread initialises the lazy first (its initialiser takes L): LAZY -> L.
    thread::spawn(|| assert_eq!(*LAZY, 7)).join().unwrap();
    // Touching it while holding L never blocks here (it is initialised), yet on another run
    // this thread would wait for an initialiser that waits for L: L -> LAZY closes the cycle.
    let g = L.lock().unwrap();
    assert_eq!(*LAZY, 7);
    drop(g);
    let r = event_cycle(&L.class_name());
    let event = r.chain.iter().find(|l| l.to.node == NodeKind::Event).unwrap();
    assert!(event.to.class.starts_with("LAZY ("), "named after the static: {r:#?}");
    assert!(event.to.class.contains(&lazy_site), "{r:#?}");
}

#[test]
fn lazy_whose_initialiser_takes_no_lock_of_the_toucher_is_not_reported() {
    warn();
    static L: Mutex<u32> = Mutex::new(0);
    static M: Mutex<u32> = Mutex::new(1);
    static LAZY: LazyLock<u32> = LazyLock::new(|| *M.lock().unwrap() + 1);
    static LAZY2: LazyLock<u32> = LazyLock::new(|| *L.lock().unwrap() + 3);
    // The initialiser takes M; the toucher holds L: LAZY -> M and L -> LAZY, no cycle.
    let g = L.lock().unwrap();
    assert_eq!(*LAZY, 2);
    drop(g);
    // The initialiser takes L, and the toucher released L before touching it.
    drop(L.lock().unwrap());
    assert_eq!(*LAZY2, 3);
    assert!(reports_naming(&L.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
    assert!(reports_naming(&M.class_name()).is_empty());
}

#[test]
fn once_lock_and_once_inits_needing_the_callers_lock_are_reported() {
    warn();
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let cell = Arc::new(OnceLock::new());
    let once = Arc::new(Once::new());
    let (a2, b2, c2, o2) = (Arc::clone(&a), Arc::clone(&b), Arc::clone(&cell), Arc::clone(&once));
    thread::spawn(move || {
        assert_eq!(*c2.get_or_init(|| drop(a2.lock().unwrap())), ());
        o2.call_once(|| drop(b2.lock().unwrap()));
    })
    .join()
    .unwrap();
    assert!(cell.get().is_some() && once.is_completed());
    // `get` never waits: no edge, no report.
    let ga = a.lock().unwrap();
    assert!(cell.get().is_some());
    assert!(reports_naming(&a.class_name()).is_empty());
    // `get_or_init` may wait for an initialiser that needs A.
    cell.get_or_init(|| unreachable!());
    drop(ga);
    event_cycle(&a.class_name());
    let gb = b.lock().unwrap();
    once.call_once(|| unreachable!());
    drop(gb);
    event_cycle(&b.class_name());
}

#[test]
fn once_std_api() {
    warn();
    let once = Once::new();
    let mut n = 0;
    once.call_once_force(|s| {
        assert!(!s.is_poisoned());
        n += 1;
    });
    once.call_once(|| n += 1);
    once.wait();
    once.wait_force();
    assert_eq!(n, 1);
    let poisoned = Once::new();
    let r = std::panic::catch_unwind(|| poisoned.call_once(|| panic!("init failed")));
    assert!(r.is_err() && !poisoned.is_completed());
    poisoned.call_once_force(|s| assert!(s.is_poisoned()));
    assert!(poisoned.is_completed());
    // The held stack is empty again after every call, the panicked one included.
    assert_eq!(lockdep_core::held_count(), 0);

    let cell: OnceLock<Vec<u8>> = OnceLock::default();
    assert_eq!(format!("{cell:?}"), "OnceLock(<uninit>)");
    assert_eq!(cell.set(vec![1]), Ok(()));
    assert_eq!(cell.wait(), &[1]);
    let copy = cell.clone();
    assert_eq!(copy, cell);
    assert_eq!(format!("{copy:?}"), "OnceLock([1])");
    assert_eq!(copy.into_inner(), Some(vec![1]));

    let lazy: LazyLock<String> = LazyLock::default();
    assert_eq!(format!("{lazy:?}"), "LazyLock(<uninit>)");
    assert_eq!(lazy.len(), 0);
    assert_eq!(format!("{lazy:?}"), "LazyLock(\"\")");
    let bad: LazyLock<u8> = LazyLock::new(|| panic!("init failed"));
    assert!(std::panic::catch_unwind(|| *bad).is_err());
    let again = std::panic::catch_unwind(|| *bad).unwrap_err();
    assert_eq!(
        again.downcast_ref::<&str>(),
        Some(&"LazyLock instance has previously been poisoned")
    );
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn barrier_whose_last_participant_needs_a_lock_a_waiter_holds_is_reported() {
    warn();
    let l = Arc::new(Mutex::new(()));
    let barrier = Arc::new(Barrier::new(2));
    let arrived = Arc::new(AtomicBool::new(false));
    let (l2, b2, a2) = (Arc::clone(&l), Arc::clone(&barrier), Arc::clone(&arrived));
    // The other participant needs L before it arrives: barrier -> L.
    let t = thread::spawn(move || {
        drop(l2.lock().unwrap());
        a2.store(true, Ordering::Release);
        b2.wait().is_leader()
    });
    while !arrived.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(1));
    }
    // This participant waits holding L: L -> barrier. Had it come first, the other one could
    // never have arrived.
    let g = l.lock().unwrap();
    let leader = barrier.wait().is_leader();
    drop(g);
    assert_ne!(leader, t.join().unwrap(), "exactly one leader");
    event_cycle(&l.class_name());
}

#[test]
fn normal_barrier_use_is_not_reported() {
    warn();
    let l = Arc::new(Mutex::new(0u32));
    let own = Arc::new(Mutex::new(()));
    let barrier = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let (l, own, b) = (Arc::clone(&l), Arc::clone(&own), Arc::clone(&barrier));
            thread::spawn(move || {
                for _ in 0..3 {
                    // Each takes L and releases it before every wait.
                    *l.lock().unwrap() += 1;
                    if i == 0 {
                        // Participant 0 keeps a lock no other participant needs across the
                        // wait: no report (its own arrival does not need it).
                        let _g = own.lock().unwrap();
                        b.wait();
                    } else {
                        b.wait();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*l.lock().unwrap(), 9);
    assert!(reports_naming(&l.class_name()).is_empty(), "{:#?}", lockdep_core::reports());
    assert!(reports_naming(&own.class_name()).is_empty());
}

#[test]
fn parking_lot_once_init_needing_the_callers_lock_is_reported_and_its_twin_not() {
    use lockdep_core::parking_lot as pl;
    warn();
    let a = Arc::new(pl::Mutex::new(()));
    let b = Arc::new(pl::Mutex::new(()));
    let once = Arc::new(pl::Once::new());
    let (a2, o2) = (Arc::clone(&a), Arc::clone(&once));
    thread::spawn(move || o2.call_once(|| drop(a2.lock()))).join().unwrap();
    assert!(once.state().done());
    // Twin first: B is not taken by the initialiser.
    let gb = b.lock();
    once.call_once(|| unreachable!());
    drop(gb);
    assert!(reports_naming(&b.class_name()).is_empty());
    let ga = a.lock();
    once.call_once_force(|_| unreachable!());
    drop(ga);
    event_cycle(&a.class_name());
}
