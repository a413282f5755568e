//! [`TracedRaw`]: a raw lock that validates every acquisition of the raw lock it wraps.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;

use lock_api::{
    GuardNoSend, RawMutex, RawMutexFair, RawMutexTimed, RawRwLock, RawRwLockDowngrade,
    RawRwLockFair, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed, RawRwLockUpgrade,
    RawRwLockUpgradeDowngrade, RawRwLockUpgradeFair, RawRwLockUpgradeTimed,
};

use super::{ByType, RawLockClass};
use crate::hook::{self, LockClass};
use crate::vocab::{Mode, WaitKind};

/// A raw lock (`lock_api::RawMutex`, `RawRwLock` and each optional trait the inner lock `R`
/// has) whose acquisitions are validated: `lock_api::Mutex<TracedRaw<R>, T>` is a validated
/// `lock_api::Mutex<R, T>`. `K` names the class ([`ByType`]: one class per raw type); see the
/// [module docs](crate::lock_api) for the modes and classes.
///
/// ```
/// use lockdep_core::lock_api::TracedRaw;
/// use lockdep_core::{Kind, OnReport};
///
/// lockdep_core::set_on_report(OnReport::Warn);
/// lockdep_core::raw_lock_class!(struct First = "doc_first");
/// lockdep_core::raw_lock_class!(struct Second = "doc_second");
/// let a = lock_api::Mutex::<TracedRaw<parking_lot::RawMutex, First>, ()>::new(());
/// let b = lock_api::Mutex::<TracedRaw<parking_lot::RawMutex, Second>, ()>::new(());
/// drop((a.lock(), b.lock())); // a -> b
/// let _b = b.lock();
/// let _a = a.lock(); // b -> a: reported (warn mode goes on)
/// let cycle = |r: &lockdep_core::report::Report| {
///     r.kind == Kind::CircularDependency && r.classes.iter().any(|c| c == "doc_first")
/// };
/// assert!(lockdep_core::reports().iter().any(cycle));
/// ```
///
/// # Cost
/// Each acquisition validates as the lock types do (a chain already seen: no allocation, no
/// global lock); each release pops the thread's held stack. With the `off` feature it is the
/// size of `R` and costs what `R` costs.
pub struct TracedRaw<R, K = ByType> {
    inner: R,
    class: LockClass,
    _class: PhantomData<fn() -> K>,
}

/// The class name of [`ByType`] locks over `R`.
fn type_class_name<R>() -> String {
    format!("TracedRaw<{}>", std::any::type_name::<R>())
}

impl<R, K: RawLockClass> TracedRaw<R, K> {
    /// Wraps an existing raw lock (`INIT` wraps `R::INIT`).
    pub const fn new(inner: R) -> TracedRaw<R, K> {
        let class = match K::KEY {
            Some(key) => LockClass::keyed(key, WaitKind::Sleeping),
            None => LockClass::of_type(type_class_name::<R>, WaitKind::Sleeping),
        };
        TracedRaw { inner, class, _class: PhantomData }
    }
}

impl<R, K> TracedRaw<R, K> {
    /// The wrapped raw lock: taking it directly bypasses validation.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The class name: the key's name, or `TracedRaw<inner type>` for [`ByType`].
    pub fn class_name(&self) -> String {
        self.class.name()
    }

    fn instance(&self) -> usize {
        self.class.instance()
    }

    /// A blocking acquisition in `mode`: validated (panics in panic mode when refused), then
    /// `raw_lock` runs.
    #[inline]
    #[track_caller]
    fn acquire(&self, mode: Mode, raw_lock: impl FnOnce()) {
        // Whether it is tracked is asked again at the release (`hook::release_if_held`).
        let _tracked = hook::lock(&self.class, self.instance(), mode, 0);
        raw_lock();
    }

    /// After a try that returned `ok`: a success is validated as a trylock in `mode`; when
    /// refused, `undo` releases the raw lock before the panic. Returns `ok`.
    #[inline]
    #[track_caller]
    fn tried(&self, ok: bool, mode: Mode, undo: impl FnOnce()) -> bool {
        if ok {
            let _tracked = hook::locked_by_try(&self.class, self.instance(), mode, undo);
        }
        ok
    }

    /// After the raw lock released a hold: this thread's hold, if tracked, is released.
    #[inline]
    fn released(&self) {
        hook::release_if_held(&self.class, self.instance());
    }

    /// Before a raw downgrade (write to `D`): the tracked hold is downgraded.
    #[track_caller]
    fn downgraded(&self) {
        if hook::holds(self.instance()) {
            hook::downgrade(&self.class, self.instance(), Location::caller());
        }
    }
}

impl<R, K> fmt::Debug for TracedRaw<R, K> {
    /// The class only: raw locks have no `Debug` of their own, as a rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedRaw").field("class", &self.class.name()).finish_non_exhaustive()
    }
}

impl<R: RawMutex, K> TracedRaw<R, K> {
    /// Undoes a try (refused by the validator).
    fn undo_lock(&self) {
        // SAFETY: called right after a try took the lock, before any guard exists.
        unsafe { self.inner.unlock() }
    }
}

// SAFETY: every method forwards to the inner raw mutex, which keeps the contract; the
// validation around it never takes or releases the inner lock on its own.
unsafe impl<R: RawMutex, K: RawLockClass> RawMutex for TracedRaw<R, K> {
    #[allow(clippy::declare_interior_mutable_const, reason = "lock_api's INIT, as in lock_api")]
    const INIT: Self = TracedRaw::new(R::INIT);
    type GuardMarker = GuardNoSend;

    #[track_caller]
    fn lock(&self) {
        self.acquire(Mode::Write, || self.inner.lock());
    }

    #[track_caller]
    fn try_lock(&self) -> bool {
        self.tried(self.inner.try_lock(), Mode::Write, || self.undo_lock())
    }

    unsafe fn unlock(&self) {
        // SAFETY: the caller holds the lock in this context.
        unsafe { self.inner.unlock() };
        self.released();
    }

    fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }
}

// SAFETY: forwards to the inner lock's fair unlock.
unsafe impl<R: RawMutexFair, K: RawLockClass> RawMutexFair for TracedRaw<R, K> {
    unsafe fn unlock_fair(&self) {
        // SAFETY: the caller holds the lock in this context.
        unsafe { self.inner.unlock_fair() };
        self.released();
    }

    unsafe fn bump(&self) {
        // SAFETY: the caller holds the lock; the hold is the same after the bump.
        unsafe { self.inner.bump() }
    }
}

// SAFETY: forwards to the inner lock's timed tries.
unsafe impl<R: RawMutexTimed, K: RawLockClass> RawMutexTimed for TracedRaw<R, K> {
    type Duration = R::Duration;
    type Instant = R::Instant;

    #[track_caller]
    fn try_lock_for(&self, timeout: R::Duration) -> bool {
        let ok = self.inner.try_lock_for(timeout);
        self.tried(ok, Mode::Write, || self.undo_lock())
    }

    #[track_caller]
    fn try_lock_until(&self, timeout: R::Instant) -> bool {
        let ok = self.inner.try_lock_until(timeout);
        self.tried(ok, Mode::Write, || self.undo_lock())
    }
}

impl<R: RawRwLock, K> TracedRaw<R, K> {
    /// Undoes a shared try (refused by the validator).
    fn undo_shared(&self) {
        // SAFETY: called right after a try took one shared hold, before any guard exists.
        unsafe { self.inner.unlock_shared() }
    }

    /// Undoes an exclusive try (refused by the validator).
    fn undo_exclusive(&self) {
        // SAFETY: called right after a try took the exclusive hold, before any guard exists.
        unsafe { self.inner.unlock_exclusive() }
    }
}

// SAFETY: every method forwards to the inner reader-writer lock.
unsafe impl<R: RawRwLock, K: RawLockClass> RawRwLock for TracedRaw<R, K> {
    #[allow(clippy::declare_interior_mutable_const, reason = "lock_api's INIT, as in lock_api")]
    const INIT: Self = TracedRaw::new(R::INIT);
    type GuardMarker = GuardNoSend;

    #[track_caller]
    fn lock_shared(&self) {
        self.acquire(Mode::Read, || self.inner.lock_shared());
    }

    #[track_caller]
    fn try_lock_shared(&self) -> bool {
        self.tried(self.inner.try_lock_shared(), Mode::Read, || self.undo_shared())
    }

    unsafe fn unlock_shared(&self) {
        // SAFETY: the caller holds a shared hold in this context.
        unsafe { self.inner.unlock_shared() };
        self.released();
    }

    #[track_caller]
    fn lock_exclusive(&self) {
        self.acquire(Mode::Write, || self.inner.lock_exclusive());
    }

    #[track_caller]
    fn try_lock_exclusive(&self) -> bool {
        self.tried(self.inner.try_lock_exclusive(), Mode::Write, || self.undo_exclusive())
    }

    unsafe fn unlock_exclusive(&self) {
        // SAFETY: the caller holds the exclusive hold in this context.
        unsafe { self.inner.unlock_exclusive() };
        self.released();
    }

    fn is_locked(&self) -> bool {
        self.inner.is_locked()
    }

    fn is_locked_exclusive(&self) -> bool {
        self.inner.is_locked_exclusive()
    }
}

// SAFETY: forwards to the inner lock's fair unlocks and bumps.
unsafe impl<R: RawRwLockFair, K: RawLockClass> RawRwLockFair for TracedRaw<R, K> {
    unsafe fn unlock_shared_fair(&self) {
        // SAFETY: the caller holds a shared hold in this context.
        unsafe { self.inner.unlock_shared_fair() };
        self.released();
    }

    unsafe fn unlock_exclusive_fair(&self) {
        // SAFETY: the caller holds the exclusive hold in this context.
        unsafe { self.inner.unlock_exclusive_fair() };
        self.released();
    }

    unsafe fn bump_shared(&self) {
        // SAFETY: the caller holds a shared hold; it is the same after the bump.
        unsafe { self.inner.bump_shared() }
    }

    unsafe fn bump_exclusive(&self) {
        // SAFETY: the caller holds the exclusive hold; it is the same after the bump.
        unsafe { self.inner.bump_exclusive() }
    }
}

// SAFETY: forwards to the inner lock's downgrade.
unsafe impl<R: RawRwLockDowngrade, K: RawLockClass> RawRwLockDowngrade for TracedRaw<R, K> {
    #[track_caller]
    unsafe fn downgrade(&self) {
        self.downgraded();
        // SAFETY: the caller holds the exclusive hold in this context.
        unsafe { self.inner.downgrade() }
    }
}

// SAFETY: forwards to the inner lock's timed tries.
unsafe impl<R: RawRwLockTimed, K: RawLockClass> RawRwLockTimed for TracedRaw<R, K> {
    type Duration = R::Duration;
    type Instant = R::Instant;

    #[track_caller]
    fn try_lock_shared_for(&self, timeout: R::Duration) -> bool {
        self.tried(self.inner.try_lock_shared_for(timeout), Mode::Read, || self.undo_shared())
    }

    #[track_caller]
    fn try_lock_shared_until(&self, timeout: R::Instant) -> bool {
        self.tried(self.inner.try_lock_shared_until(timeout), Mode::Read, || self.undo_shared())
    }

    #[track_caller]
    fn try_lock_exclusive_for(&self, timeout: R::Duration) -> bool {
        let ok = self.inner.try_lock_exclusive_for(timeout);
        self.tried(ok, Mode::Write, || self.undo_exclusive())
    }

    #[track_caller]
    fn try_lock_exclusive_until(&self, timeout: R::Instant) -> bool {
        let ok = self.inner.try_lock_exclusive_until(timeout);
        self.tried(ok, Mode::Write, || self.undo_exclusive())
    }
}

// SAFETY: forwards to the inner lock's recursive reads.
unsafe impl<R: RawRwLockRecursive, K: RawLockClass> RawRwLockRecursive for TracedRaw<R, K> {
    #[track_caller]
    fn lock_shared_recursive(&self) {
        self.acquire(Mode::RecursiveRead, || self.inner.lock_shared_recursive());
    }

    #[track_caller]
    fn try_lock_shared_recursive(&self) -> bool {
        let ok = self.inner.try_lock_shared_recursive();
        self.tried(ok, Mode::RecursiveRead, || self.undo_shared())
    }
}

// SAFETY: forwards to the inner lock's timed recursive reads.
unsafe impl<R: RawRwLockRecursiveTimed, K: RawLockClass> RawRwLockRecursiveTimed
    for TracedRaw<R, K>
{
    #[track_caller]
    fn try_lock_shared_recursive_for(&self, timeout: R::Duration) -> bool {
        let ok = self.inner.try_lock_shared_recursive_for(timeout);
        self.tried(ok, Mode::RecursiveRead, || self.undo_shared())
    }

    #[track_caller]
    fn try_lock_shared_recursive_until(&self, timeout: R::Instant) -> bool {
        let ok = self.inner.try_lock_shared_recursive_until(timeout);
        self.tried(ok, Mode::RecursiveRead, || self.undo_shared())
    }
}

impl<R: RawRwLockUpgrade, K> TracedRaw<R, K> {
    /// Undoes an upgradable try (refused by the validator).
    fn undo_upgradable(&self) {
        // SAFETY: called right after a try took the upgradable hold, before any guard exists.
        unsafe { self.inner.unlock_upgradable() }
    }

    /// After a successful raw try-upgrade: the `D` hold becomes a write hold taken by a
    /// trylock. A refusal is reported, not raised (see the module docs). Returns `ok`.
    #[track_caller]
    fn upgraded_by_try(&self, ok: bool) -> bool {
        if ok {
            let held = hook::holds(self.instance());
            let _ = crate::dropin::validate_upgrade(&self.class, self.instance(), held, true);
        }
        ok
    }
}

// SAFETY: forwards to the inner lock's upgradable reads and upgrades.
unsafe impl<R: RawRwLockUpgrade, K: RawLockClass> RawRwLockUpgrade for TracedRaw<R, K> {
    #[track_caller]
    fn lock_upgradable(&self) {
        self.acquire(Mode::Downgraded, || self.inner.lock_upgradable());
    }

    #[track_caller]
    fn try_lock_upgradable(&self) -> bool {
        let ok = self.inner.try_lock_upgradable();
        self.tried(ok, Mode::Downgraded, || self.undo_upgradable())
    }

    unsafe fn unlock_upgradable(&self) {
        // SAFETY: the caller holds the upgradable hold in this context.
        unsafe { self.inner.unlock_upgradable() };
        self.released();
    }

    #[track_caller]
    unsafe fn upgrade(&self) {
        let held = hook::holds(self.instance());
        match crate::dropin::validate_upgrade(&self.class, self.instance(), held, false) {
            // SAFETY: the caller holds the upgradable hold in this context.
            Ok(_) => unsafe { self.inner.upgrade() },
            // The raw lock stays upgradable: the caller's guard releases it while unwinding.
            Err(refused) => refused.raise(),
        }
    }

    #[track_caller]
    unsafe fn try_upgrade(&self) -> bool {
        // SAFETY: the caller holds the upgradable hold in this context.
        self.upgraded_by_try(unsafe { self.inner.try_upgrade() })
    }
}

// SAFETY: forwards to the inner lock's fair upgradable unlock and bump.
unsafe impl<R: RawRwLockUpgradeFair, K: RawLockClass> RawRwLockUpgradeFair for TracedRaw<R, K> {
    unsafe fn unlock_upgradable_fair(&self) {
        // SAFETY: the caller holds the upgradable hold in this context.
        unsafe { self.inner.unlock_upgradable_fair() };
        self.released();
    }

    unsafe fn bump_upgradable(&self) {
        // SAFETY: the caller holds the upgradable hold; it is the same after the bump.
        unsafe { self.inner.bump_upgradable() }
    }
}

// SAFETY: forwards to the inner lock's downgrades.
unsafe impl<R: RawRwLockUpgradeDowngrade, K: RawLockClass> RawRwLockUpgradeDowngrade
    for TracedRaw<R, K>
{
    unsafe fn downgrade_upgradable(&self) {
        // The validator keeps the hold as `D`, as the parking_lot family does.
        // SAFETY: the caller holds the upgradable hold in this context.
        unsafe { self.inner.downgrade_upgradable() }
    }

    #[track_caller]
    unsafe fn downgrade_to_upgradable(&self) {
        self.downgraded();
        // SAFETY: the caller holds the exclusive hold in this context.
        unsafe { self.inner.downgrade_to_upgradable() }
    }
}

// SAFETY: forwards to the inner lock's timed upgradable tries.
unsafe impl<R: RawRwLockUpgradeTimed, K: RawLockClass> RawRwLockUpgradeTimed for TracedRaw<R, K> {
    #[track_caller]
    fn try_lock_upgradable_for(&self, timeout: R::Duration) -> bool {
        let ok = self.inner.try_lock_upgradable_for(timeout);
        self.tried(ok, Mode::Downgraded, || self.undo_upgradable())
    }

    #[track_caller]
    fn try_lock_upgradable_until(&self, timeout: R::Instant) -> bool {
        let ok = self.inner.try_lock_upgradable_until(timeout);
        self.tried(ok, Mode::Downgraded, || self.undo_upgradable())
    }

    #[track_caller]
    unsafe fn try_upgrade_for(&self, timeout: R::Duration) -> bool {
        // SAFETY: the caller holds the upgradable hold in this context.
        self.upgraded_by_try(unsafe { self.inner.try_upgrade_for(timeout) })
    }

    #[track_caller]
    unsafe fn try_upgrade_until(&self, timeout: R::Instant) -> bool {
        // SAFETY: the caller holds the upgradable hold in this context.
        self.upgraded_by_try(unsafe { self.inner.try_upgrade_until(timeout) })
    }
}

impl<R, K> crate::tracked::sealed::Sealed for TracedRaw<R, K> {}

/// A traced raw lock names its hold for assertions and predicates (through
/// `lock_api::Mutex::raw`, say).
impl<R, K> crate::TrackedLock for TracedRaw<R, K> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
