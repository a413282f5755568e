//! `lockdep_core::parking_lot`: parking_lot's API (no poisoning, upgradable reads, timed
//! locks, mapped guards, reentrant mutex, condvar) and the validator's view of each mode.
//!
//! The graph is process-wide and the tests share one process: each test builds its own locks
//! (distinct construction sites, hence distinct classes) and looks only at reports naming
//! them.

use std::cell::Cell;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lockdep_core::parking_lot::{
    const_mutex, const_rwlock, Condvar, FairMutex, MappedMutexGuard, Mutex, MutexGuard, Once,
    ReentrantMutex, RwLock, RwLockReadGuard, RwLockUpgradableReadGuard, RwLockWriteGuard,
};
mod common;

use common::{one_after_the_other, reports_naming, warn};
use lockdep_core::report::Kind;
use lockdep_core::Mode;

fn mode_of(lock: &impl lockdep_core::TrackedLock) -> Option<Mode> {
    lockdep_core::with_held(|h| h.mode(lock))
}

#[test]
fn with_off_each_lock_is_its_raw_lock_plus_its_data() {
    use std::mem::size_of;
    let same = [
        size_of::<Mutex<u64>>() == size_of::<parking_lot::Mutex<u64>>(),
        size_of::<FairMutex<u64>>() == size_of::<parking_lot::FairMutex<u64>>(),
        size_of::<RwLock<u64>>() == size_of::<parking_lot::RwLock<u64>>(),
        size_of::<ReentrantMutex<u64>>() == size_of::<parking_lot::ReentrantMutex<u64>>(),
        size_of::<Mutex<[u8; 3]>>() == size_of::<parking_lot::Mutex<[u8; 3]>>(),
    ];
    // Traced, each lock also stores its class; compiled out, nothing else.
    assert_eq!(same, [cfg!(feature = "off"); 5], "{same:?}");
    // A traced condvar also stores its event class (issue 14); compiled out, only its queue.
    assert_eq!(size_of::<Condvar>() == size_of::<u32>(), cfg!(feature = "off"));
}

#[test]
fn mutex_api() {
    warn();
    static GLOBAL: Mutex<u32> = const_mutex(1);
    *GLOBAL.lock() += 1;
    let m = Mutex::new(1);
    {
        let mut g = m.lock();
        *g += 1;
        assert!(m.is_locked());
        assert!(m.try_lock().is_none());
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
        assert_eq!(format!("{g:?} {g}"), "2 2");
        assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
    }
    assert!(!m.is_locked());
    assert_eq!(format!("{m:?}"), "Mutex { data: 2 }");
    assert_eq!(*m.try_lock().unwrap(), 2);
    assert_eq!(*m.try_lock_for(Duration::from_millis(1)).unwrap(), 2);
    assert_eq!(*m.try_lock_until(Instant::now() + Duration::from_millis(1)).unwrap(), 2);
    // SAFETY: no guard exists.
    assert_eq!(unsafe { *m.data_ptr() }, 2);
    let mut m = m;
    *m.get_mut() += 1;
    assert_eq!(m.into_inner(), 3);
    let d: Mutex<String> = Mutex::default();
    let f = Mutex::from(5);
    assert_ne!(d.class_name(), f.class_name(), "class = construction site");
    assert_eq!(*f.lock() + *GLOBAL.lock(), 7);
    let fair = FairMutex::new(0);
    *fair.lock() += 1;
    lockdep_core::parking_lot::FairMutexGuard::unlock_fair(fair.lock());
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(reports_naming(&f.class_name()).is_empty());
}

#[test]
fn timed_tries_time_out_when_held_elsewhere() {
    warn();
    let m = Arc::new(Mutex::new(0));
    let l = Arc::new(RwLock::new(0));
    let (m2, l2) = (m.clone(), l.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        let _g = m2.lock();
        let _w = l2.write();
        tx.send(()).unwrap();
        done_rx.recv().unwrap();
    });
    rx.recv().unwrap();
    let start = Instant::now();
    assert!(m.try_lock_for(Duration::from_millis(20)).is_none());
    assert!(m.try_lock_until(Instant::now() + Duration::from_millis(20)).is_none());
    assert!(l.try_read_for(Duration::from_millis(10)).is_none());
    assert!(l.try_write_for(Duration::from_millis(10)).is_none());
    assert!(l.try_read_recursive_for(Duration::from_millis(10)).is_none());
    assert!(l.try_upgradable_read_for(Duration::from_millis(10)).is_none());
    assert!(l.try_upgradable_read_until(Instant::now() + Duration::from_millis(10)).is_none());
    assert!(start.elapsed() >= Duration::from_millis(90));
    assert_eq!(lockdep_core::held_count(), 0, "a failed try changes nothing");
    done_tx.send(()).unwrap();
    holder.join().unwrap();
}

#[test]
fn a_timed_try_that_succeeds_is_a_trylock_and_adds_no_edge() {
    warn();
    let a = Mutex::new(0);
    let b = Mutex::new(0);
    {
        let _ga = a.lock();
        let _gb = b.lock(); // a -> b
    }
    {
        let _gb = b.lock();
        let _ga = a.try_lock_for(Duration::from_secs(1)).unwrap(); // no b -> a edge
    }
    assert!(reports_naming(&a.class_name()).is_empty());
}

#[test]
fn mapped_mutex_guards() {
    warn();
    let m = Mutex::new((1, vec![2, 3]));
    {
        let mut v: MappedMutexGuard<'_, Vec<i32>> = MutexGuard::map(m.lock(), |t| &mut t.1);
        v.push(4);
        let mut first = MappedMutexGuard::map(v, |v| &mut v[0]);
        *first += 10;
        assert!(m.is_locked());
        assert_eq!(lockdep_core::held_count(), 1);
    }
    assert!(!m.is_locked());
    assert_eq!(lockdep_core::held_count(), 0);
    let g = MutexGuard::try_map(m.lock(), |t| t.1.get_mut(9)).unwrap_err();
    assert_eq!(g.1, [12, 3, 4], "try_map gives the guard back");
    let g = MutexGuard::try_map(g, |t| t.1.get_mut(1)).ok().unwrap();
    let g = MappedMutexGuard::try_map(g, |_| None::<&mut u8>).unwrap_err();
    assert_eq!(*g, 3);
    drop(g);
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn unlocked_releases_and_retakes() {
    warn();
    let m = Mutex::new(0);
    let mut g = m.lock();
    MutexGuard::unlocked(&mut g, || {
        assert!(!m.is_locked());
        assert_eq!(lockdep_core::held_count(), 0);
        *m.lock() += 1; // taking it here is not recursive locking
    });
    assert_eq!(*g, 1);
    assert_eq!(lockdep_core::held_count(), 1);
    drop(g);
    assert!(reports_naming(&m.class_name()).is_empty());
}

#[test]
fn abba_between_parking_lot_mutexes_is_reported_and_its_twin_is_not() {
    warn();
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(FairMutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _ga = a1.lock();
            let _gb = b1.lock();
        },
        move || {
            let _ga = a2.lock();
            let _gb = b2.lock();
        },
    );
    assert!(reports_naming(&a.class_name()).is_empty(), "same order: legal");
    let (a2, b2) = (a.clone(), b.clone());
    one_after_the_other(
        || {},
        move || {
            let _gb = b2.lock();
            let _ga = a2.lock();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].classes.contains(&b.class_name()));
}

#[test]
fn rwlock_modes_as_the_validator_sees_them() {
    warn();
    static GLOBAL: RwLock<u8> = const_rwlock(0);
    drop(GLOBAL.read());
    let l = RwLock::new(1);
    {
        let r = l.read();
        assert_eq!(mode_of(&l), Some(Mode::Read));
        let rr = l.read_recursive(); // recursive under a reader: legal
        assert_eq!(*r + *rr, 2);
        assert!(l.is_locked() && !l.is_locked_exclusive());
        assert_eq!(format!("{l:?}"), "RwLock { data: 1 }");
    }
    {
        let w = l.write();
        assert_eq!(mode_of(&l), Some(Mode::Write));
        assert!(l.is_locked_exclusive());
        assert!(l.try_read().is_none() && l.try_read_recursive().is_none());
        assert_eq!(format!("{l:?}"), "RwLock { data: <locked> }");
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(mode_of(&l), Some(Mode::Downgraded));
        assert_eq!(*r, 1);
    }
    {
        let u = l.upgradable_read();
        assert_eq!(mode_of(&l), Some(Mode::Downgraded));
        assert!(l.try_upgradable_read().is_none(), "upgradable readers exclude each other");
        let r = l.try_read().expect("plain readers share with an upgradable reader");
        assert_eq!(mode_of(&l), Some(Mode::Read));
        let u = RwLockUpgradableReadGuard::try_upgrade(u).unwrap_err(); // a reader is in
        drop(r);
        let mut w = RwLockUpgradableReadGuard::upgrade(u);
        assert_eq!(mode_of(&l), Some(Mode::Write));
        *w += 1;
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        assert_eq!(mode_of(&l), Some(Mode::Downgraded));
        let w = RwLockUpgradableReadGuard::try_upgrade(u).ok().unwrap();
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        let w =
            RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(1)).ok().unwrap();
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        let r = RwLockUpgradableReadGuard::downgrade(u);
        assert_eq!(*r, 2);
        assert_eq!(lockdep_core::held_count(), 1);
    }
    assert_eq!(lockdep_core::held_count(), 0);
    {
        let r = l.try_read_until(Instant::now() + Duration::from_millis(1)).unwrap();
        let rr = l.try_read_recursive_until(Instant::now()).unwrap();
        assert_eq!(mode_of(&l), Some(Mode::RecursiveRead));
        drop((r, rr));
        let w = l.try_write_until(Instant::now()).unwrap();
        drop(w);
        let u = l.try_upgradable_read().unwrap();
        let w = RwLockUpgradableReadGuard::try_upgrade_until(u, Instant::now()).ok().unwrap();
        drop(w);
        assert!(l.try_write().is_some());
    }
    assert!(reports_naming(&l.class_name()).is_empty(), "{:?}", reports_naming(&l.class_name()));
    let mut l = l;
    *l.get_mut() += 1;
    assert_eq!(l.into_inner(), 3);
    let d: RwLock<u8> = RwLock::default();
    let f = RwLock::from(1u8);
    assert_eq!(*d.read() + *f.read(), 1);
}

#[test]
fn read_is_non_recursive_read_recursive_is_not() {
    warn();
    let l = RwLock::new(0);
    {
        let _a = l.read_recursive();
        let _b = l.read_recursive();
    }
    assert!(reports_naming(&l.class_name()).is_empty());
    {
        let _a = l.read();
        let _b = l.read(); // may wait behind a queued writer: recursive locking
    }
    let rs = reports_naming(&l.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
}

#[test]
fn mapped_rwlock_guards() {
    warn();
    let l = RwLock::new((1, 2));
    {
        let r = RwLockReadGuard::map(l.read(), |t| &t.0);
        assert_eq!(*r, 1);
        let r2 = RwLockReadGuard::try_map(l.read(), |t| Some(&t.1)).ok().unwrap();
        assert_eq!(*r2, 2);
        assert!(RwLockReadGuard::try_map(l.read(), |_| None::<&u8>).is_err());
        assert_eq!(lockdep_core::held_count(), 2);
    }
    {
        let mut w = RwLockWriteGuard::map(l.write(), |t| &mut t.1);
        *w += 1;
    }
    let w = RwLockWriteGuard::try_map(l.write(), |_| None::<&mut u8>).unwrap_err();
    let mut w = RwLockWriteGuard::try_map(w, |t| Some(&mut t.0)).ok().unwrap();
    *w += 1;
    drop(w);
    assert_eq!(*l.read(), (2, 3));
    assert_eq!(lockdep_core::held_count(), 0);
}

#[test]
fn upgradable_vs_recursive_read_inverted_is_no_cycle() {
    warn();
    // T1: upgradable(a) then b. T2: b then read_recursive(a). An upgradable reader does not
    // exclude readers, and a recursive reader never queues behind a waiting writer, so T2
    // never waits for T1: no deadlock.
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _u = a1.upgradable_read();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _r = a2.read_recursive();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert!(rs.is_empty(), "{rs:#?}");
}

#[test]
fn upgradable_vs_plain_read_inverted_is_a_cycle_through_a_queued_writer() {
    warn();
    // The same with a plain (non-recursive) `read`: T1 holds upgradable(a) and waits for b;
    // a third thread queues for write(a) behind T1; T2 holds b and its `read` of a queues
    // behind that writer (parking_lot's `read` blocks while a writer waits). A real
    // deadlock, and the report's scenario shows the queued writer.
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _u = a1.upgradable_read();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _r = a2.read();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].scenario.iter().any(|s| s.action.contains("queued writer")), "{rs:#?}");
}

#[test]
fn upgradable_vs_upgradable_inverted_is_a_cycle() {
    warn();
    // T1: upgradable(a) then b. T2: b then upgradable(a). Upgradable readers exclude each
    // other: T1 waits for b, T2 waits for a. A real deadlock.
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _u = a1.upgradable_read();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _u = a2.upgradable_read();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn upgradable_vs_write_inverted_is_a_cycle() {
    warn();
    // T1: upgradable(a) then b. T2: b then write(a). A writer waits for the upgradable
    // holder, which waits for b: a real deadlock.
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _u = a1.upgradable_read();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _w = a2.write();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn recursive_read_then_upgradable_inverted_is_a_cycle_through_a_queued_writer() {
    warn();
    // T1: read_recursive(a) then b. T2: b then upgradable(a). An upgradable read does not
    // wait for a reader by itself, but parking_lot blocks it behind a writer that queued for
    // a behind T1's reader (the writer bit is set while readers drain): T1 waits for b, the
    // writer for T1, T2 (holding b) for the writer. A real deadlock: the upgradable waiter
    // is non-recursive (`SN` from T1's shared hold).
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _r = a1.read_recursive();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _u = a2.upgradable_read();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn an_upgrade_after_taking_another_lock_orders_them() {
    warn();
    // T1: upgradable(a), then b, then upgrade a (waits for a's readers while holding b).
    // T2: read(a) then b. T2 holds a reader of a and waits for b: T1's upgrade waits for
    // T2's reader. A real deadlock, seen through the upgrade's write acquisition.
    let a = Arc::new(RwLock::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let u = a1.upgradable_read();
            let _gb = b1.lock();
            let _w = RwLockUpgradableReadGuard::upgrade(u);
        },
        move || {
            let _r = a2.read();
            let _gb = b2.lock();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn reentrant_mutex_re_entry_is_not_recursive_locking() {
    warn();
    let m = ReentrantMutex::new(Cell::new(0));
    {
        let outer = m.lock();
        let inner = m.lock();
        let tried = m.try_lock().unwrap();
        let timed = m.try_lock_for(Duration::from_millis(1)).unwrap();
        inner.set(outer.get() + tried.get() + timed.get() + 1);
        assert_eq!(lockdep_core::held_count(), 1, "only the outermost acquisition is held");
        assert!(m.is_owned_by_current_thread());
        // Drop the outermost first: the hold lasts until the last guard.
        drop(outer);
        assert_eq!(lockdep_core::held_count(), 1);
        drop((inner, tried));
        assert_eq!(lockdep_core::held_count(), 1);
        drop(timed);
        assert_eq!(lockdep_core::held_count(), 0);
    }
    assert!(!m.is_locked());
    assert_eq!(format!("{m:?}"), "ReentrantMutex { data: Cell { value: 1 } }");
    assert!(reports_naming(&m.class_name()).is_empty());
    let m = Arc::new(m);
    let m2 = m.clone();
    let g = m.lock();
    thread::spawn(move || {
        assert!(m2.try_lock().is_none());
        assert!(m2.try_lock_until(Instant::now() + Duration::from_millis(5)).is_none());
    })
    .join()
    .unwrap();
    drop(g);
    let m = Arc::try_unwrap(m).ok().unwrap();
    assert_eq!(m.into_inner().get(), 1);
}

#[test]
fn reentrant_mutex_abba_is_reported() {
    warn();
    let a = Arc::new(ReentrantMutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _ga = a1.lock();
            let _ga2 = a1.lock();
            let _gb = b1.lock();
        },
        move || {
            let _gb = b2.lock();
            let _ga = a2.lock();
        },
    );
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn condvar_waits_and_notifications() {
    warn();
    let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
    assert!(!pair.1.notify_one(), "nobody waits");
    assert_eq!(pair.1.notify_all(), 0);
    // Timed waits return.
    {
        let mut g = pair.0.lock();
        let start = Instant::now();
        assert!(pair.1.wait_for(&mut g, Duration::from_millis(20)).timed_out());
        assert!(pair.1.wait_until(&mut g, Instant::now() + Duration::from_millis(20)).timed_out());
        assert!(start.elapsed() >= Duration::from_millis(40));
        assert_eq!(lockdep_core::held_count(), 1, "re-taken after the timeout");
        let r = pair.1.wait_while_for(&mut g, |v| *v == 0, Duration::from_millis(20));
        assert!(r.timed_out());
        let r = pair.1.wait_while_until(&mut g, |v| *v != 0, Instant::now());
        assert!(!r.timed_out(), "condition false: no wait");
    }
    // A producer and consumers: the normal pattern, no report.
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let p = pair.clone();
            thread::spawn(move || {
                let mut g = p.0.lock();
                p.1.wait_while(&mut g, |v| *v == 0);
                *g -= 1;
            })
        })
        .collect();
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(5));
        *pair.0.lock() += 1;
        pair.1.notify_one();
    }
    for c in consumers {
        c.join().unwrap();
    }
    // notify_all wakes a waiter counted under the mutex.
    let p = pair.clone();
    let waiter = thread::spawn(move || {
        let mut g = p.0.lock();
        *g = 100;
        p.1.wait_while(&mut g, |v| *v == 100);
    });
    while *pair.0.lock() != 100 {
        thread::sleep(Duration::from_millis(1));
    }
    *pair.0.lock() = 0;
    let mut woken = 0;
    while woken == 0 && !waiter.is_finished() {
        woken += pair.1.notify_all();
    }
    waiter.join().unwrap();
    assert!(reports_naming(&pair.0.class_name()).is_empty(), "{:?}", lockdep_core::reports());
}

#[test]
fn parking_lot_once_is_re_exported() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {});
    assert_eq!(ONCE.state(), lockdep_core::parking_lot::OnceState::Done);
}

#[test]
fn arc_guards_hold_like_their_borrowed_guards() {
    use lockdep_core::parking_lot::lock_api::{
        ArcMutexGuard, ArcRwLockReadGuard, ArcRwLockUpgradableReadGuard, ArcRwLockWriteGuard,
    };
    warn();
    let m = Arc::new(Mutex::new(1));
    let mut g = m.lock_arc();
    *g += 1;
    assert!(Arc::ptr_eq(ArcMutexGuard::mutex(&g), &m));
    assert_eq!(mode_of(&*m), Some(Mode::Write));
    assert!(m.try_lock_arc().is_none());
    // `'static`: it can outlive the borrow of `m` it was made from.
    let keep: ArcMutexGuard<_, u32> = g;
    drop(keep);
    assert_eq!(lockdep_core::held_count(), 0);
    let g = m.try_lock_arc_for(Duration::from_millis(1)).unwrap();
    assert_eq!((*g, lockdep_core::held_count()), (2, 1));
    drop(g);
    drop(m.try_lock_arc_until(Instant::now()).unwrap());

    let l = Arc::new(RwLock::new(1));
    {
        let r = l.read_arc();
        assert_eq!(mode_of(&*l), Some(Mode::Read));
        let rr = l.read_recursive_arc();
        assert_eq!(mode_of(&*l), Some(Mode::RecursiveRead));
        assert!(l.try_write_arc().is_none());
        let r2 = l.try_read_arc().unwrap();
        assert_eq!(*r + *rr + *r2, 3);
    }
    let u = l.upgradable_read_arc();
    assert_eq!(mode_of(&*l), Some(Mode::Downgraded));
    assert!(l.try_upgradable_read_arc().is_none());
    // A blocking `read` here could queue behind a writer waiting for `u`: a try.
    let r = l.try_read_arc().expect("plain readers share with an upgradable reader");
    let u = ArcRwLockUpgradableReadGuard::try_upgrade(u).unwrap_err(); // a reader is in
    drop(r);
    let mut w = ArcRwLockUpgradableReadGuard::upgrade(u);
    assert_eq!(mode_of(&*l), Some(Mode::Write));
    *w += 1;
    drop(w);
    let u = l.try_upgradable_read_arc().unwrap();
    drop(ArcRwLockUpgradableReadGuard::try_upgrade(u).ok().unwrap());
    // Downgrades keep the hold (no window for a writer), as the borrowed guards' do.
    let r = ArcRwLockWriteGuard::downgrade(l.write_arc());
    assert_eq!(mode_of(&*l), Some(Mode::Downgraded));
    assert!(l.try_write_arc().is_none() && l.try_upgradable_read_arc().is_some());
    assert!(Arc::ptr_eq(ArcRwLockReadGuard::rwlock(&r), &l));
    drop(r);
    let u = ArcRwLockWriteGuard::downgrade_to_upgradable(l.write_arc());
    assert_eq!(mode_of(&*l), Some(Mode::Downgraded));
    assert!(l.try_upgradable_read_arc().is_none());
    let r = ArcRwLockUpgradableReadGuard::downgrade(u);
    assert_eq!((*r, lockdep_core::held_count()), (2, 1));
    assert!(l.try_upgradable_read_arc().is_some(), "a plain reader again");
    drop(r);
    *l.write_arc() += 1;
    assert_eq!(*l.try_write_arc().unwrap(), 3);
    assert_eq!(lockdep_core::held_count(), 0);
    assert!(!l.is_locked() && !m.is_locked());
    assert!(reports_naming(&l.class_name()).is_empty());
    assert!(reports_naming(&m.class_name()).is_empty());
}

#[test]
fn a_downgraded_arc_guard_excludes_writers_not_recursive_readers() {
    use lockdep_core::parking_lot::lock_api::ArcRwLockWriteGuard;
    warn();
    // T1: write(a), downgrade, then b. T2: b then a again. A downgraded reader excludes a
    // writer (D-W: a cycle) but not a recursive reader (D-R: none).
    let (a, b) = (Arc::new(RwLock::new(0)), Arc::new(Mutex::new(0)));
    let first = |a: Arc<RwLock<u8>>, b: Arc<Mutex<u8>>| {
        move || {
            let _d = ArcRwLockWriteGuard::downgrade(a.write_arc());
            let _gb = b.lock_arc();
        }
    };
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(first(a1, b1), move || {
        let _gb = b2.lock();
        let _r = a2.read_recursive_arc();
    });
    assert!(reports_naming(&a.class_name()).is_empty(), "{:#?}", reports_naming(&a.class_name()));

    let (c, d) = (Arc::new(RwLock::new(0)), Arc::new(Mutex::new(0)));
    let (c1, d1, c2, d2) = (c.clone(), d.clone(), c.clone(), d.clone());
    one_after_the_other(first(c1, d1), move || {
        let _gd = d2.lock();
        let _w = c2.write_arc();
    });
    let rs = reports_naming(&c.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    let modes: Vec<_> = rs[0].chain.iter().flat_map(|l| [l.from.mode, l.to.mode]).collect();
    assert!(modes.contains(&Mode::Downgraded) && modes.contains(&Mode::Write), "{rs:#?}");
}

#[test]
fn abba_through_arc_guards_is_reported() {
    warn();
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(RwLock::new(0));
    {
        let _ga = a.lock_arc();
        let _gb = b.write_arc();
    }
    assert!(reports_naming(&a.class_name()).is_empty());
    {
        let _gb = b.read_arc();
        let _ga = a.lock_arc();
    }
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}
