//! The `lock_api` adaptor: any `lock_api::RawMutex` / `RawRwLock` is traced by wrapping it.
//! Here the raw locks are `spin`'s (crate `spin`, feature `lock_api`), not parking_lot's.

use lockdep_core::{Kind, LockClassKey, Mutex, OnReport, RwSem};

static SPIN_A: LockClassKey = LockClassKey::new("spin_adaptor_a");
static SPIN_B: LockClassKey = LockClassKey::new("spin_adaptor_b");
static SPIN_SEM: LockClassKey = LockClassKey::new("spin_adaptor_sem");
static SPIN_C: LockClassKey = LockClassKey::new("spin_adaptor_c");

type SpinRaw = spin::Mutex<()>;
type SpinRwRaw = spin::RwLock<()>;

fn cycles_between(a: &str, b: &str) -> usize {
    lockdep_core::reports()
        .iter()
        .filter(|r| {
            r.kind == Kind::CircularDependency
                && r.classes.iter().any(|c| c == a)
                && r.classes.iter().any(|c| c == b)
        })
        .count()
}

#[test]
fn abba_on_spin_raw_mutexes_is_reported() {
    lockdep_core::set_on_report(OnReport::Warn);
    let a = Mutex::<u32, SpinRaw>::new_raw_with_key(0, &SPIN_A);
    let b = Mutex::<u32, SpinRaw>::new_raw_with_key(0, &SPIN_B);
    {
        let mut ga = a.lock();
        let mut gb = b.lock();
        *ga += 1;
        *gb += 1;
    }
    assert_eq!(cycles_between("spin_adaptor_a", "spin_adaptor_b"), 0);
    {
        let _gb = b.lock();
        let _ga = a.lock(); // b -> a closes the cycle a -> b -> a
    }
    assert_eq!(cycles_between("spin_adaptor_a", "spin_adaptor_b"), 1);
    assert_eq!(*a.lock(), 1, "the spin lock still guards its data");
}

#[test]
fn spin_raw_rwlock_under_an_rwsem_is_traced() {
    lockdep_core::set_on_report(OnReport::Warn);
    let sem = RwSem::<u32, SpinRwRaw>::new_raw_with_key(0, &SPIN_SEM);
    let c = Mutex::<u32, SpinRaw>::new_raw_with_key(0, &SPIN_C);
    {
        let _r = sem.read();
        let _gc = c.lock();
        assert_eq!(lockdep_core::held_count(), 2);
    }
    {
        let _gc = c.lock();
        let _w = sem.write(); // c -> sem against sem(read) -> c: a real ABBA with a writer
    }
    assert_eq!(lockdep_core::held_count(), 0);
    assert_eq!(cycles_between("spin_adaptor_sem", "spin_adaptor_c"), 1);
}
