//! Real multi-threaded programs on the instrumented lock types. The threads are ordered by
//! barriers or joins so they never actually deadlock, yet the possibility is reported.
//!
//! The graph is process-wide and these tests share one process: each test builds its own
//! locks (distinct construction sites, hence distinct classes) and looks only at reports that
//! name its classes.

use std::sync::{Arc, Barrier};
use std::thread;

use lockdep_core::report::{Kind, Report};
use lockdep_core::{LockClassKey, LockMap, Mode, Mutex, RwLock, RwSem, SpinLock};

fn reports_naming(class: &str) -> Vec<Report> {
    lockdep_core::reports().into_iter().filter(|r| r.classes.iter().any(|c| c == class)).collect()
}

fn named(name: &str, f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::Builder::new().name(name.into()).spawn(f).unwrap()
}

#[test]
fn inverted_mutex_pair_is_reported_without_deadlocking() {
    let a = Arc::new(Mutex::new(0u32));
    let b = Arc::new(Mutex::new(0u32));
    let barrier = Arc::new(Barrier::new(2));
    let (a1, b1, bar1) = (a.clone(), b.clone(), barrier.clone());
    let t1 = named("ab", move || {
        {
            let _ga = a1.lock();
            let _gb = b1.lock();
        }
        bar1.wait(); // T2 inverts only after T1 is done: no real deadlock
    });
    let (a2, b2) = (a.clone(), b.clone());
    let t2 = named("ba", move || {
        barrier.wait();
        let _gb = b2.lock();
        let _ga = a2.lock();
    });
    t1.join().unwrap();
    t2.join().unwrap();
    let rs = reports_naming(&a.class_name());
    assert_eq!(rs.len(), 1, "{rs:?}");
    let r = &rs[0];
    assert_eq!(r.kind, Kind::CircularDependency);
    assert_eq!(r.thread, "ba");
    assert!(r.classes.contains(&b.class_name()));
    assert_eq!(r.chain[1].thread, "ab");
    // Both acquisition sites of the old edge point into this file, with stacks.
    for side in [&r.chain[1].from, &r.chain[1].to] {
        assert!(side.site.as_ref().unwrap().file.ends_with("threads.rs"), "{side:?}");
    }
    assert!(
        r.chain[1].to.stack.iter().any(|f| f.function.contains("inverted_mutex_pair")),
        "the witness stack shows the test's closure: {:?}",
        r.chain[1].to.stack
    );
}

#[test]
fn consistent_order_across_threads_is_silent() {
    let locks: Arc<Vec<Mutex<u32>>> = Arc::new((0..4).map(|_| Mutex::new(0)).collect());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let locks = locks.clone();
            named(&format!("ordered{i}"), move || {
                for _ in 0..200 {
                    let _g0 = locks[0].lock();
                    let _g2 = locks[2].lock();
                    let _g3 = locks[3].lock();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // All four locks share one construction site (the closure above), so nesting them is
    // same-class nesting: judged by the order of the instances (the default
    // `LOCKDEP_SAME_CLASS=instances`), always the same here, so nothing is reported. (Under
    // the strict rule it would be `recursive_locking`: tests/tests/identity.rs.)
    let rs = reports_naming(&locks[0].class_name());
    assert!(rs.is_empty(), "{rs:#?}");
}

static ORDER_A: LockClassKey = LockClassKey::new("threads::order_a");
static ORDER_B: LockClassKey = LockClassKey::new("threads::order_b");
static ORDER_C: LockClassKey = LockClassKey::new("threads::order_c");

#[test]
fn keyed_classes_in_consistent_order_are_silent() {
    let a = Arc::new(Mutex::with_key(0, &ORDER_A));
    let b = Arc::new(RwSem::with_key(0, &ORDER_B));
    let c = Arc::new(SpinLock::with_key(0, &ORDER_C));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let (a, b, c) = (a.clone(), b.clone(), c.clone());
            named(&format!("keyed{i}"), move || {
                for j in 0..500 {
                    let _ga = a.lock();
                    if j % 2 == 0 {
                        let _gb = b.read();
                        *c.lock() += 1;
                    } else {
                        let mut gb = b.write();
                        *gb += 1;
                        let _gd = gb.downgrade();
                        *c.lock() += 1;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    for k in ["threads::order_a", "threads::order_b", "threads::order_c"] {
        assert!(reports_naming(k).is_empty(), "{:?}", reports_naming(k));
    }
    assert_eq!(*c.lock(), 2000);
}

/// The seed's case with real locks: a VMA-like lock described with `LockMap` (read side try-only,
/// write side blocking) and an mmap-like `RwSem`.
mod seed {
    use super::*;

    static VMA: LockClassKey = LockClassKey::new("seed::vma_lock");
    static MMAP: LockClassKey = LockClassKey::new("seed::mmap_lock");
    static VMA2: LockClassKey = LockClassKey::new("seed2::vma_lock");
    static MMAP2: LockClassKey = LockClassKey::new("seed2::mmap_lock");

    #[test]
    fn vma_read_then_blocking_mmap_read_is_reported() {
        let vma = Arc::new(LockMap::with_key(&VMA));
        let mmap = Arc::new(RwSem::with_key((), &MMAP));
        let (v, m) = (vma.clone(), mmap.clone());
        named("fault", move || {
            v.try_acquire(Mode::Read); // lock_vma_under_rcu succeeded
            drop(m.read()); // blocking mmap_read_lock under the VMA read lock: the bug
            v.release();
        })
        .join()
        .unwrap();
        let (v, m) = (vma.clone(), mmap.clone());
        named("munmap", move || {
            let _w = m.write();
            v.acquire(Mode::Write); // vma_start_write waits for VMA readers
            v.release();
        })
        .join()
        .unwrap();
        let rs = reports_naming("seed::vma_lock");
        assert_eq!(rs.len(), 1, "{rs:?}");
        assert_eq!(rs[0].kind, Kind::CircularDependency);
        assert_eq!(rs[0].thread, "munmap");
        let mut classes = rs[0].classes.clone();
        classes.sort();
        assert_eq!(classes, vec!["seed::mmap_lock", "seed::vma_lock"]);
    }

    #[test]
    fn try_read_of_mmap_and_mmap_read_then_vma_are_silent() {
        let vma = Arc::new(LockMap::with_key(&VMA2));
        let mmap = Arc::new(RwSem::with_key((), &MMAP2));
        let (v, m) = (vma.clone(), mmap.clone());
        named("fault", move || {
            v.try_acquire(Mode::Read);
            drop(m.try_read().expect("uncontended")); // mmap_read_trylock: no edge
            v.release();
            let _r = m.read(); // mmap read, then the VMA read lock (a trylock)
            v.try_acquire(Mode::Read);
            v.release();
        })
        .join()
        .unwrap();
        let (v, m) = (vma.clone(), mmap.clone());
        named("munmap", move || {
            let _w = m.write();
            v.acquire(Mode::Write);
            v.release();
        })
        .join()
        .unwrap();
        assert!(
            reports_naming("seed2::vma_lock").is_empty(),
            "{:?}",
            reports_naming("seed2::vma_lock")
        );
    }
}

#[test]
fn recursive_readers_of_rwlock_are_legal_but_rwsem_readers_are_not() {
    let l = RwLock::new(1);
    {
        let _a = l.read();
        let _b = l.read();
    }
    assert!(reports_naming(&l.class_name()).is_empty());

    let s = Arc::new(RwSem::new(1));
    let s2 = s.clone();
    named("rr", move || {
        let _a = s2.read();
        let _b = s2.read(); // non-recursive: a queued writer would deadlock us
    })
    .join()
    .unwrap();
    let rs = reports_naming(&s.class_name());
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
    assert_eq!(rs[0].held[0].mode, Mode::Read);
    assert_eq!(rs[0].acquiring.as_ref().unwrap().mode, Mode::Read);
}

#[test]
fn subclass_annotated_nesting_is_legal() {
    let parent = Arc::new(RwSem::with_key(0, lockdep_core::static_lock_class!("threads::mm")));
    let child = Arc::new(RwSem::with_key(0, lockdep_core::static_lock_class!("threads::mm")));
    let (p, c) = (parent.clone(), child.clone());
    named("fork", move || {
        let _old = p.write();
        let _new = c.write_nested(1);
    })
    .join()
    .unwrap();
    // Two keys made by two macro invocations are two classes with one name but distinct
    // sites; both are silent.
    assert!(reports_naming("threads::mm").is_empty(), "{:?}", reports_naming("threads::mm"));
}

#[test]
fn sleeping_lock_under_spinlock_is_invalid_wait_context() {
    let spin = SpinLock::new(());
    let m = Mutex::new(());
    {
        let _s = spin.lock();
        let _m = m.lock();
    }
    let rs = reports_naming(&m.class_name());
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::InvalidWaitContext);
    assert_eq!(rs[0].scenario.len(), 3);
    assert!(rs[0].scenario[2].action.contains("may sleep"), "{:?}", rs[0].scenario);
    assert_eq!(rs[0].classes, vec![spin.class_name(), m.class_name()]);
}

static RAW_BAD: LockClassKey = LockClassKey::new("threads::raw_bad");

#[test]
fn raw_annotations_report_bad_unlock_wrong_thread_bad_downgrade_and_free_while_held() {
    let map = Arc::new(LockMap::with_key(&RAW_BAD));
    map.release(); // never acquired
    let rs = reports_naming("threads::raw_bad");
    assert_eq!(rs.iter().map(|r| r.kind).collect::<Vec<_>>(), vec![Kind::BadUnlock]);
    assert!(rs[0].acquiring.as_ref().unwrap().site.as_ref().unwrap().file.ends_with("threads.rs"));

    map.acquire(Mode::Read);
    map.downgrade(); // a read hold cannot be downgraded
    map.release();
    map.acquire(Mode::Write);
    map.downgrade(); // legal
    map.release();
    map.acquire(Mode::Write);
    map.free(); // freed while held
    map.release(); // the holder's own release is not a second problem
    let kinds: Vec<Kind> = reports_naming("threads::raw_bad").iter().map(|r| r.kind).collect();
    assert_eq!(kinds, vec![Kind::BadUnlock, Kind::BadDowngrade, Kind::LockFreedWhileHeld]);
}

static RAW_OTHER: LockClassKey = LockClassKey::new("threads::raw_other_thread");

#[test]
fn release_by_another_thread_is_bad_unlock() {
    let map = Arc::new(LockMap::with_key(&RAW_OTHER));
    map.acquire(Mode::Write);
    let m = map.clone();
    named("other", move || m.release()).join().unwrap();
    let rs = reports_naming("threads::raw_other_thread");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::BadUnlock);
    assert_eq!(rs[0].thread, "other");
    assert!(rs[0].held.is_empty());
    map.release(); // the owner's release is legal
    assert_eq!(reports_naming("threads::raw_other_thread").len(), 1);
}

#[test]
fn out_of_order_guard_drops_keep_the_stack_consistent() {
    let a = Mutex::new(());
    let b = Mutex::new(());
    let c = Mutex::new(());
    let before = lockdep_core::held_count();
    let ga = a.lock();
    let gb = b.lock();
    drop(ga);
    let gc = c.lock();
    drop(gb);
    drop(gc);
    assert_eq!(lockdep_core::held_count(), before);
    for l in [&a, &b, &c] {
        assert!(reports_naming(&l.class_name()).is_empty());
    }
}

#[test]
fn a_class_outlives_its_locks() {
    fn make(key: &'static LockClassKey) -> Mutex<u8> {
        Mutex::with_key(0, key)
    }
    static OUTER: LockClassKey = LockClassKey::new("threads::outer_dropped");
    static INNER: LockClassKey = LockClassKey::new("threads::inner_dropped");
    {
        let (o, i) = (make(&OUTER), make(&INNER));
        let _go = o.lock();
        let _gi = i.lock();
    } // both instances dropped: the order outer -> inner stays learned
    let (o, i) = (make(&OUTER), make(&INNER));
    let _gi = i.lock();
    let _go = o.lock();
    let rs = reports_naming("threads::outer_dropped");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}
