//! `lockdep_core::lock_api::TracedRaw`: any `lock_api::Mutex<R, T>` / `RwLock<R, T>` is
//! validated by changing `R`. Each raw method in the validator's view (the same modes as the
//! parking_lot family), the class identity, reports with their legal twins.
//!
//! The tests share one process and its graph: each test names its locks' classes with keys of
//! its own (`raw_lock_class!`) and looks only at reports naming them.

use std::sync::Arc;
use std::thread;

mod common;
use std::time::{Duration, Instant};

use common::{one_after_the_other, reports_naming, warn};
use lock_api::{RwLockUpgradableReadGuard, RwLockWriteGuard};
use lockdep_core::lock_api::{ByType, RawLockClass, TracedRaw};
use lockdep_core::report::Kind;
use lockdep_core::Mode;

type Mutex<K, T> = lock_api::Mutex<TracedRaw<parking_lot::RawMutex, K>, T>;
type RwLock<K, T> = lock_api::RwLock<TracedRaw<parking_lot::RawRwLock, K>, T>;

/// The mode in which this thread holds the lock whose raw lock is `raw`.
fn mode_of<R, K>(raw: &TracedRaw<R, K>) -> Option<Mode> {
    lockdep_core::with_held(|h| h.mode(raw))
}

fn raw_of<K: RawLockClass, T>(l: &RwLock<K, T>) -> &TracedRaw<parking_lot::RawRwLock, K> {
    // SAFETY: only read, never locked or unlocked through this reference.
    unsafe { l.raw() }
}

#[test]
fn with_off_a_traced_raw_lock_is_its_inner_lock() {
    use std::mem::size_of;
    let same = [
        size_of::<TracedRaw<parking_lot::RawMutex>>() == size_of::<parking_lot::RawMutex>(),
        size_of::<TracedRaw<parking_lot::RawRwLock>>() == size_of::<parking_lot::RawRwLock>(),
    ];
    assert_eq!(same, [cfg!(feature = "off"); 2]);
}

lockdep_core::raw_lock_class!(struct MutexApi = "lock_api_mutex_api");

#[test]
fn mutex_methods_and_their_holds() {
    warn();
    let m = Mutex::<MutexApi, u32>::new(1);
    // SAFETY: only read.
    let raw = unsafe { m.raw() };
    {
        let mut g = m.lock();
        *g += 1;
        assert_eq!(mode_of(raw), Some(Mode::Write));
        assert!(m.is_locked() && m.try_lock().is_none());
        assert_eq!(lockdep_core::held_count(), 1);
        lock_api::MutexGuard::bump(&mut g); // fair hand-off and back: still held
        assert_eq!(mode_of(raw), Some(Mode::Write));
        lock_api::MutexGuard::unlock_fair(g);
    }
    assert_eq!((lockdep_core::held_count(), mode_of(raw)), (0, None));
    let g = m.try_lock().unwrap();
    assert_eq!(mode_of(raw), Some(Mode::Write));
    drop(g);
    let g = m.try_lock_for(Duration::from_millis(1)).unwrap();
    assert_eq!(lockdep_core::held_count(), 1);
    drop(g);
    let g = m.try_lock_until(Instant::now() + Duration::from_millis(1)).unwrap();
    let g = lock_api::MutexGuard::map(g, |v| v);
    assert_eq!((*g, lockdep_core::held_count()), (2, 1));
    drop(g);
    assert_eq!(lockdep_core::held_count(), 0);
    assert_eq!(raw.class_name(), "lock_api_mutex_api");
    assert!(reports_naming("lock_api_mutex_api").is_empty());
}

lockdep_core::raw_lock_class!(struct AbbaA = "lock_api_abba_a");
lockdep_core::raw_lock_class!(struct AbbaB = "lock_api_abba_b");

#[test]
fn abba_through_lock_api_mutexes_is_reported_and_its_twin_is_not() {
    warn();
    let a = Arc::new(Mutex::<AbbaA, u32>::new(0));
    let b = Arc::new(Mutex::<AbbaB, u32>::new(0));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a.clone(), b.clone());
    one_after_the_other(
        move || {
            let _ga = a1.lock();
            *b1.lock() += 1;
        },
        move || {
            let _ga = a2.lock();
            *b2.lock() += 1;
        },
    );
    assert!(reports_naming("lock_api_abba_a").is_empty(), "same order: legal");
    one_after_the_other(
        || {},
        move || {
            let _gb = b.lock();
            *a.lock() += 1;
        },
    );
    let rs = reports_naming("lock_api_abba_a");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
    assert!(rs[0].classes.iter().any(|c| c == "lock_api_abba_b"));
    // lock_api's entry points are `#[track_caller]`, and so are the traced raw methods: the
    // acquisition site is this file's line, not lock_api's.
    let site = rs[0].acquiring.as_ref().and_then(|a| a.site.as_ref()).expect("a site");
    assert!(site.file.ends_with("lock_api_traced.rs"), "{site:?}");
}

lockdep_core::raw_lock_class!(struct RwModes = "lock_api_rw_modes");

#[test]
fn rwlock_methods_map_to_the_parking_lot_family_modes() {
    warn();
    let l = RwLock::<RwModes, u32>::new(1);
    let raw = raw_of(&l);
    {
        let r = l.read();
        assert_eq!(mode_of(raw), Some(Mode::Read));
        let rr = l.read_recursive();
        assert_eq!(mode_of(raw), Some(Mode::RecursiveRead));
        assert_eq!(*r + *rr, 2);
        assert_eq!(lockdep_core::held_count(), 2);
    }
    {
        let w = l.write();
        assert_eq!(mode_of(raw), Some(Mode::Write));
        assert!(l.try_read().is_none() && l.try_upgradable_read().is_none());
        let r = RwLockWriteGuard::downgrade(w);
        assert_eq!(mode_of(raw), Some(Mode::Downgraded));
        drop(r);
    }
    {
        let u = l.upgradable_read();
        assert_eq!(mode_of(raw), Some(Mode::Downgraded));
        assert!(l.try_upgradable_read().is_none(), "upgradable readers exclude each other");
        let r = l.try_read().expect("plain readers share with an upgradable reader");
        let u = RwLockUpgradableReadGuard::try_upgrade(u).unwrap_err(); // a reader is in
        drop(r);
        let mut w = RwLockUpgradableReadGuard::upgrade(u);
        assert_eq!(mode_of(raw), Some(Mode::Write));
        *w += 1;
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        assert_eq!(mode_of(raw), Some(Mode::Downgraded));
        let w = RwLockUpgradableReadGuard::try_upgrade(u).ok().unwrap();
        assert_eq!(mode_of(raw), Some(Mode::Write));
        let u = RwLockWriteGuard::downgrade_to_upgradable(w);
        let w = RwLockUpgradableReadGuard::try_upgrade_for(u, Duration::from_millis(1));
        let u = RwLockWriteGuard::downgrade_to_upgradable(w.ok().unwrap());
        let r = RwLockUpgradableReadGuard::downgrade(u);
        assert_eq!(mode_of(raw), Some(Mode::Downgraded), "kept as D, as the family does");
        assert_eq!((*r, lockdep_core::held_count()), (2, 1));
    }
    assert_eq!(lockdep_core::held_count(), 0);
    {
        let soon = || Instant::now() + Duration::from_millis(1);
        let r = l.try_read_for(Duration::from_millis(1)).unwrap();
        assert_eq!(mode_of(raw), Some(Mode::Read));
        let rr = l.try_read_recursive_until(soon()).unwrap();
        assert_eq!(mode_of(raw), Some(Mode::RecursiveRead));
        let rr2 = l.try_read_recursive().unwrap();
        drop((r, rr, rr2));
        let w = l.try_write_until(soon()).unwrap();
        assert_eq!(mode_of(raw), Some(Mode::Write));
        RwLockWriteGuard::unlock_fair(w);
        let u = l.try_upgradable_read_for(Duration::from_millis(1)).unwrap();
        assert_eq!(mode_of(raw), Some(Mode::Downgraded));
        let w = RwLockUpgradableReadGuard::try_upgrade_until(u, soon()).ok().unwrap();
        drop(w);
        let u = l.try_upgradable_read_until(soon()).unwrap();
        RwLockUpgradableReadGuard::unlock_fair(u);
        let r = l.try_read_until(soon()).unwrap();
        lock_api::RwLockReadGuard::unlock_fair(r);
        let w = l.try_write_for(Duration::from_millis(1)).unwrap();
        drop(w);
        let w = l.try_write().unwrap();
        drop(w);
    }
    assert_eq!(lockdep_core::held_count(), 0);
    let rs = reports_naming("lock_api_rw_modes");
    assert!(rs.is_empty(), "{rs:#?}");
}

lockdep_core::raw_lock_class!(struct ReadTwice = "lock_api_read_twice");

#[test]
fn read_is_non_recursive_and_read_recursive_is_not() {
    warn();
    let l = RwLock::<ReadTwice, u32>::new(0);
    {
        let _a = l.read_recursive();
        let _b = l.read_recursive();
    }
    assert!(reports_naming("lock_api_read_twice").is_empty());
    {
        let _a = l.read();
        let _b = l.read(); // may wait behind a queued writer
    }
    let rs = reports_naming("lock_api_read_twice");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
}

/// Thread 1 holds `a` (taken by `first`) and takes `b`; later thread 2 holds `b` and takes
/// `a` with `second`. Returns the kinds of the reports naming `a`'s class.
fn inverted<K1: RawLockClass, K2: RawLockClass>(
    first: fn(&RwLock<K1, u32>, &dyn Fn()),
    second: fn(&RwLock<K1, u32>),
) -> Vec<Kind> {
    let a = Arc::new(RwLock::<K1, u32>::new(0));
    let b = Arc::new(Mutex::<K2, u32>::new(0));
    let name = raw_of(&a).class_name();
    let (a1, b1) = (a.clone(), b.clone());
    one_after_the_other(
        move || first(&a1, &|| drop(b1.lock())),
        move || {
            let _gb = b.lock();
            second(&a);
        },
    );
    reports_naming(&name).into_iter().map(|r| r.kind).collect()
}

lockdep_core::raw_lock_class!(struct UpRrA = "lock_api_up_rr_a");
lockdep_core::raw_lock_class!(struct UpRrB = "lock_api_up_rr_b");
lockdep_core::raw_lock_class!(struct UpRA = "lock_api_up_r_a");
lockdep_core::raw_lock_class!(struct UpRB = "lock_api_up_r_b");
lockdep_core::raw_lock_class!(struct UpUpA = "lock_api_up_up_a");
lockdep_core::raw_lock_class!(struct UpUpB = "lock_api_up_up_b");
lockdep_core::raw_lock_class!(struct UpgA = "lock_api_upgrade_a");
lockdep_core::raw_lock_class!(struct UpgB = "lock_api_upgrade_b");

#[test]
fn upgradable_and_upgrade_inverted_against_each_reader_kind() {
    warn();
    fn upgradable<K: RawLockClass>(l: &RwLock<K, u32>, then: &dyn Fn()) {
        let _u = l.upgradable_read();
        then();
    }
    // An upgradable reader does not exclude readers, and a recursive reader never queues
    // behind a waiting writer: no deadlock.
    let none = inverted::<UpRrA, UpRrB>(upgradable, |l| drop(l.read_recursive()));
    assert_eq!(none, []);
    // A plain read queues behind a writer waiting for the upgradable holder: a deadlock.
    let read = inverted::<UpRA, UpRB>(upgradable, |l| drop(l.read()));
    assert_eq!(read, [Kind::CircularDependency]);
    // Upgradable readers exclude each other: a deadlock.
    let up = inverted::<UpUpA, UpUpB>(upgradable, |l| drop(l.upgradable_read()));
    assert_eq!(up, [Kind::CircularDependency]);
    // An upgrade waits for the readers: a reader of c waiting for d, against
    // upgradable(c), d, upgrade(c) is a deadlock, seen through the upgrade's write hold.
    let c = RwLock::<UpgA, u32>::new(0);
    let d = Mutex::<UpgB, u32>::new(0);
    {
        let _r = c.read();
        let _gd = d.lock(); // c(shared) -> d
    }
    let u = c.upgradable_read();
    let gd = d.lock();
    let w = RwLockUpgradableReadGuard::upgrade(u); // d -> c(write)
    assert_eq!(mode_of(raw_of(&c)), Some(Mode::Write));
    drop((w, gd));
    let rs = reports_naming("lock_api_upgrade_a");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

#[test]
fn by_type_is_one_class_per_raw_type_judged_by_instance_order() {
    warn();
    assert_eq!(<ByType as RawLockClass>::KEY.map(|k| k.name()), None);
    type Shard = lock_api::RwLock<TracedRaw<parking_lot::RawRwLock>, Vec<u32>>;
    let shards: Arc<Vec<Shard>> = Arc::new((0..4).map(|_| Shard::new(Vec::new())).collect());
    let name = raw_of(&shards[0]).class_name();
    assert_eq!(name, "TracedRaw<parking_lot::raw_rwlock::RawRwLock>");
    assert_eq!(raw_of(&shards[3]).class_name(), name, "one class for the type");
    for w in shards.windows(2) {
        let mut first = w[0].write();
        first.push(w[1].read().len() as u32); // index order, every time
    }
    assert!(reports_naming(&name).is_empty(), "locks of one class taken in one order");
    let s = shards.clone();
    thread::spawn(move || {
        let _last = s[3].write();
        let _first = s[0].write(); // 0 -> 1 -> 2 -> 3 -> 0: a cycle among the instances
    })
    .join()
    .unwrap();
    let rs = reports_naming(&name);
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

lockdep_core::raw_lock_class!(struct Bypassed = "lock_api_bypassed");

#[test]
fn a_hold_taken_around_the_validator_is_released_silently() {
    warn();
    let m = Mutex::<Bypassed, u32>::new(0);
    // SAFETY: only read.
    let raw = unsafe { m.raw() };
    lock_api::RawMutex::lock(raw.inner()); // not through the traced lock: untracked
    assert_eq!(lockdep_core::held_count(), 0);
    // SAFETY: this thread holds the raw lock.
    unsafe { m.force_unlock() }; // through the traced unlock: nothing held, nothing to say
    assert!(!m.is_locked());
    assert!(reports_naming("lock_api_bypassed").is_empty());
    let _g = m.lock();
    assert_eq!(lockdep_core::held_count(), 1);
}

lockdep_core::raw_lock_class!(struct SpinA = "lock_api_spin_a");
lockdep_core::raw_lock_class!(struct SpinB = "lock_api_spin_b");

#[test]
fn another_crates_raw_lock_is_traced_the_same_way() {
    warn();
    type SpinMutex<K> = lock_api::Mutex<TracedRaw<spin::Mutex<()>, K>, u32>;
    let a = SpinMutex::<SpinA>::new(0);
    let b = SpinMutex::<SpinB>::new(0);
    drop((a.lock(), b.lock()));
    assert!(reports_naming("lock_api_spin_a").is_empty());
    {
        let _gb = b.lock();
        let _ga = a.lock();
    }
    let rs = reports_naming("lock_api_spin_a");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::CircularDependency);
}

lockdep_core::raw_lock_class!(struct Strict = strict "lock_api_strict");

#[test]
fn a_strict_key_makes_a_strict_class() {
    warn();
    let a = Mutex::<Strict, u32>::new(0);
    let b = Mutex::<Strict, u32>::new(0);
    {
        let _ga = a.lock();
        let _gb = b.lock(); // two locks of one strict class, no subclass
    }
    let rs = reports_naming("lock_api_strict");
    assert_eq!(rs.len(), 1, "{rs:#?}");
    assert_eq!(rs[0].kind, Kind::RecursiveLocking);
    assert!(<Strict as RawLockClass>::KEY.unwrap().is_strict());
}
