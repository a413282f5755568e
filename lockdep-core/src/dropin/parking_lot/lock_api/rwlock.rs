//! [`RwLock`]: `lock_api::RwLock` with validated acquisitions, and its guards.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

use lock_api::{
    RawRwLock, RawRwLockDowngrade, RawRwLockRecursive, RawRwLockRecursiveTimed, RawRwLockTimed,
    RawRwLockUpgrade, RawRwLockUpgradeDowngrade, RawRwLockUpgradeTimed,
};

use crate::hook::{self, LockClass};
use crate::report::{Mode, WaitKind};
use crate::sync::NotSend;

/// `lock_api::RwLock<R, T>` whose acquisitions are validated; `parking_lot::RwLock<T>` is
/// this type over parking_lot's raw reader-writer lock.
///
/// | method | validated as |
/// |---|---|
/// | `read`, `try_read*` | non-recursive read (waits for a queued writer) |
/// | `read_recursive`, `try_read_recursive*` | recursive read |
/// | `upgradable_read`, `try_upgradable_read*` | downgraded (`D`): excludes writers and other upgradable readers, not plain readers |
/// | `write`, `try_write*`, `upgrade` | write |
///
/// # Examples
///
/// ```
/// use lockdep_core::parking_lot::{RwLock, RwLockUpgradableReadGuard};
///
/// let lock = RwLock::new(1);
/// let up = lock.upgradable_read();
/// let r = lock.read(); // plain readers may share with an upgradable reader
/// assert_eq!(*up + *r, 2);
/// drop(r);
/// let mut w = RwLockUpgradableReadGuard::upgrade(up);
/// *w += 1;
/// assert_eq!(*w, 2);
/// ```
///
/// # Differences from `parking_lot::RwLock`
/// - Acquisitions are checked against every lock order the process has shown.
/// - A timed try that succeeds is validated as a trylock: it adds no dependency edge.
/// - `upgrade` is validated as a release of the upgradable hold and a new write acquisition
///   (so locks taken since the upgradable read get edges to this lock, as they should: the
///   upgrade waits for the readers).
/// - After `RwLockWriteGuard::downgrade`, and after an upgradable guard's `downgrade`, the
///   validator keeps the hold as downgraded (`D`), which is stricter than a plain read for
///   held-lock assertions only (deadlock search treats `D` as shared).
///
/// # Cost
/// - Acquisition of a chain already seen: one thread-local access, a hash and one lock-free
///   lookup on top of the raw lock; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
/// - With the `off` feature: exactly the raw lock and the data (same size as
///   `parking_lot::RwLock<T>`).
pub struct RwLock<R, T: ?Sized> {
    raw: R,
    class: LockClass,
    data: UnsafeCell<T>,
}

// SAFETY: as for `std::sync::RwLock`: moving the lock moves a `T`.
unsafe impl<R: RawRwLock + Send, T: ?Sized + Send> Send for RwLock<R, T> {}
// SAFETY: readers share `&T` across threads (needs `Sync`), writers hand `T` over (`Send`).
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Send + Sync> Sync for RwLock<R, T> {}

impl<R: RawRwLock, T> RwLock<R, T> {
    /// A new unlocked lock whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> RwLock<R, T> {
        RwLock::from_raw(R::INIT, val)
    }

    /// A new unlocked lock over an existing raw lock, whose class is the caller's location.
    #[track_caller]
    pub const fn from_raw(raw_rwlock: R, val: T) -> RwLock<R, T> {
        RwLock {
            raw: raw_rwlock,
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R: RawRwLock, T: ?Sized> RwLock<R, T> {
    fn instance(&self) -> usize {
        self.class.instance()
    }

    pub(super) fn read_guard(&self, tracked: bool) -> RwLockReadGuard<'_, R, T> {
        RwLockReadGuard { rwlock: self, tracked, _not_send: NotSend::default() }
    }

    pub(super) fn write_guard(&self, tracked: bool) -> RwLockWriteGuard<'_, R, T> {
        RwLockWriteGuard { rwlock: self, tracked, _not_send: NotSend::default() }
    }

    /// After a successful shared try: validated as a trylock in `mode`.
    #[track_caller]
    fn shared_by_try(&self, mode: Mode) -> RwLockReadGuard<'_, R, T> {
        let undo = || {
            // SAFETY: the caller's try took one shared hold and no guard exists yet.
            unsafe { self.raw.unlock_shared() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), mode, undo);
        self.read_guard(tracked)
    }

    /// After a successful exclusive try: validated as a trylock.
    #[track_caller]
    fn exclusive_by_try(&self) -> RwLockWriteGuard<'_, R, T> {
        let undo = || {
            // SAFETY: the caller's try took the exclusive hold and no guard exists yet.
            unsafe { self.raw.unlock_exclusive() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        self.write_guard(tracked)
    }

    /// A shared hold, validated as a non-recursive read: it waits for a queued writer, so
    /// read-after-read of one lock can deadlock and is reported.
    #[track_caller]
    pub fn read(&self) -> RwLockReadGuard<'_, R, T> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Read, 0);
        self.raw.lock_shared();
        self.read_guard(tracked)
    }

    /// A shared hold if available now (no edge).
    #[track_caller]
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw.try_lock_shared().then(|| self.shared_by_try(Mode::Read))
    }

    /// The exclusive hold.
    #[track_caller]
    pub fn write(&self) -> RwLockWriteGuard<'_, R, T> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, 0);
        self.raw.lock_exclusive();
        self.write_guard(tracked)
    }

    /// The exclusive hold if available now (no edge).
    #[track_caller]
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, R, T>> {
        self.raw.try_lock_exclusive().then(|| self.exclusive_by_try())
    }

    /// Whether the lock is held in any mode (by anyone).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether the lock is held exclusively (by anyone).
    pub fn is_locked_exclusive(&self) -> bool {
        self.raw.is_locked_exclusive()
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// A raw pointer to the data (unsynchronised).
    pub fn data_ptr(&self) -> *mut T {
        self.data.get()
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

impl<R: RawRwLockRecursive, T: ?Sized> RwLock<R, T> {
    /// A shared hold that never waits for a queued writer (validated as a recursive read).
    #[track_caller]
    pub fn read_recursive(&self) -> RwLockReadGuard<'_, R, T> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::RecursiveRead, 0);
        self.raw.lock_shared_recursive();
        self.read_guard(tracked)
    }

    /// A recursive shared hold if available now (no edge).
    #[track_caller]
    pub fn try_read_recursive(&self) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw.try_lock_shared_recursive().then(|| self.shared_by_try(Mode::RecursiveRead))
    }
}

impl<R: RawRwLockTimed, T: ?Sized> RwLock<R, T> {
    /// `try_read` for at most `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_read_for(&self, timeout: R::Duration) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw.try_lock_shared_for(timeout).then(|| self.shared_by_try(Mode::Read))
    }

    /// `try_read` until `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_read_until(&self, timeout: R::Instant) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw.try_lock_shared_until(timeout).then(|| self.shared_by_try(Mode::Read))
    }

    /// `try_write` for at most `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_write_for(&self, timeout: R::Duration) -> Option<RwLockWriteGuard<'_, R, T>> {
        self.raw.try_lock_exclusive_for(timeout).then(|| self.exclusive_by_try())
    }

    /// `try_write` until `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_write_until(&self, timeout: R::Instant) -> Option<RwLockWriteGuard<'_, R, T>> {
        self.raw.try_lock_exclusive_until(timeout).then(|| self.exclusive_by_try())
    }
}

impl<R: RawRwLockRecursiveTimed, T: ?Sized> RwLock<R, T> {
    /// `try_read_recursive` for at most `timeout` (no edge on success).
    #[track_caller]
    pub fn try_read_recursive_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw
            .try_lock_shared_recursive_for(timeout)
            .then(|| self.shared_by_try(Mode::RecursiveRead))
    }

    /// `try_read_recursive` until `timeout` (no edge on success).
    #[track_caller]
    pub fn try_read_recursive_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockReadGuard<'_, R, T>> {
        self.raw
            .try_lock_shared_recursive_until(timeout)
            .then(|| self.shared_by_try(Mode::RecursiveRead))
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> RwLock<R, T> {
    pub(super) fn upgradable_guard(&self, tracked: bool) -> RwLockUpgradableReadGuard<'_, R, T> {
        RwLockUpgradableReadGuard { rwlock: self, tracked, _not_send: NotSend::default() }
    }

    #[track_caller]
    fn upgradable_by_try(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        let undo = || {
            // SAFETY: the caller's try took the upgradable hold and no guard exists yet.
            unsafe { self.raw.unlock_upgradable() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Downgraded, undo);
        self.upgradable_guard(tracked)
    }

    /// An upgradable shared hold, validated as downgraded (`D`): it excludes writers and
    /// other upgradable readers, not plain readers.
    #[track_caller]
    pub fn upgradable_read(&self) -> RwLockUpgradableReadGuard<'_, R, T> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Downgraded, 0);
        self.raw.lock_upgradable();
        self.upgradable_guard(tracked)
    }

    /// An upgradable hold if available now (no edge).
    #[track_caller]
    pub fn try_upgradable_read(&self) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        self.raw.try_lock_upgradable().then(|| self.upgradable_by_try())
    }
}

impl<R: RawRwLockUpgradeTimed, T: ?Sized> RwLock<R, T> {
    /// `try_upgradable_read` for at most `timeout` (no edge on success).
    #[track_caller]
    pub fn try_upgradable_read_for(
        &self,
        timeout: R::Duration,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        self.raw.try_lock_upgradable_for(timeout).then(|| self.upgradable_by_try())
    }

    /// `try_upgradable_read` until `timeout` (no edge on success).
    #[track_caller]
    pub fn try_upgradable_read_until(
        &self,
        timeout: R::Instant,
    ) -> Option<RwLockUpgradableReadGuard<'_, R, T>> {
        self.raw.try_lock_upgradable_until(timeout).then(|| self.upgradable_by_try())
    }
}

impl<R: RawRwLock, T: Default> Default for RwLock<R, T> {
    #[track_caller]
    fn default() -> RwLock<R, T> {
        RwLock::new(T::default())
    }
}

impl<R: RawRwLock, T> From<T> for RwLock<R, T> {
    #[track_caller]
    fn from(t: T) -> RwLock<R, T> {
        RwLock::new(t)
    }
}

// Unwind-safe like std's `RwLock` (see `Mutex`'s impls).
impl<R, T: ?Sized> std::panic::UnwindSafe for RwLock<R, T> {}
impl<R, T: ?Sized> std::panic::RefUnwindSafe for RwLock<R, T> {}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLock<R, T> {
    /// Never blocks: the data is shown only if a `try_read` succeeds, like lock_api.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_read();
        crate::sync::debug_lock(f, "RwLock", data.as_deref()).finish()
    }
}

/// A shared hold of an [`RwLock`]; released on drop. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    pub(super) tracked: bool,
    _not_send: NotSend,
}

/// The exclusive hold of an [`RwLock`]; released on drop. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    pub(super) tracked: bool,
    _not_send: NotSend,
}

/// An upgradable shared hold of an [`RwLock`]; released on drop. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockUpgradableReadGuard<'a, R: RawRwLockUpgrade, T: ?Sized> {
    rwlock: &'a RwLock<R, T>,
    pub(super) tracked: bool,
    _not_send: NotSend,
}

// SAFETY: shared guards only give `&T`.
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Sync> Sync for RwLockReadGuard<'_, R, T> {}
// SAFETY: a shared reference to the guard only gives `&T`.
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, R, T> {}
// SAFETY: shared guards only give `&T`.
unsafe impl<R: RawRwLockUpgrade + Sync, T: ?Sized + Sync> Sync
    for RwLockUpgradableReadGuard<'_, R, T>
{
}

impl<'a, R: RawRwLock, T: ?Sized> RwLockReadGuard<'a, R, T> {
    /// The lock this guard holds.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    /// Narrows the guard to a part of the data; the hold stays.
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockReadGuard<'a, R, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let s = ManuallyDrop::new(s);
        // SAFETY: a shared hold gives `&T`; the hold is handed over (ManuallyDrop).
        let data = f(unsafe { &*s.rwlock.data.get() }) as *const U;
        let l = s.rwlock;
        MappedRwLockReadGuard {
            raw: &l.raw,
            class: &l.class,
            instance: l.instance(),
            data,
            tracked: s.tracked,
            _marker: PhantomData,
        }
    }

    /// [`map`](Self::map) when `f` returns `Some`, else the guard back.
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockReadGuard<'a, R, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: a shared hold gives `&T`.
        let data = match f(unsafe { &*s.rwlock.data.get() }) {
            Some(data) => data as *const U,
            None => return Err(s),
        };
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        Ok(MappedRwLockReadGuard {
            raw: &l.raw,
            class: &l.class,
            instance: l.instance(),
            data,
            tracked: s.tracked,
            _marker: PhantomData,
        })
    }
}

impl<'a, R: RawRwLock, T: ?Sized> RwLockWriteGuard<'a, R, T> {
    /// The lock this guard holds.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    /// Narrows the guard to a part of the data; the hold stays.
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedRwLockWriteGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let s = ManuallyDrop::new(s);
        // SAFETY: the exclusive hold gives `&mut T`; it is handed over (ManuallyDrop).
        let data = f(unsafe { &mut *s.rwlock.data.get() }) as *mut U;
        let l = s.rwlock;
        MappedRwLockWriteGuard {
            raw: &l.raw,
            class: &l.class,
            instance: l.instance(),
            data,
            tracked: s.tracked,
            _marker: PhantomData,
        }
    }

    /// [`map`](Self::map) when `f` returns `Some`, else the guard back.
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedRwLockWriteGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the exclusive hold gives `&mut T`; the borrow ends before `s` is used.
        let data = match f(unsafe { &mut *s.rwlock.data.get() }) {
            Some(data) => data as *mut U,
            None => return Err(s),
        };
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        Ok(MappedRwLockWriteGuard {
            raw: &l.raw,
            class: &l.class,
            instance: l.instance(),
            data,
            tracked: s.tracked,
            _marker: PhantomData,
        })
    }
}

impl<'a, R: RawRwLockDowngrade, T: ?Sized> RwLockWriteGuard<'a, R, T> {
    /// Turns the exclusive hold into a shared one without releasing. The validator keeps it
    /// as downgraded (`D`).
    #[track_caller]
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        if s.tracked {
            hook::downgrade(&l.class, l.instance(), Location::caller());
        }
        // SAFETY: we hold the lock exclusively and hand the hold over (ManuallyDrop).
        unsafe { l.raw.downgrade() };
        l.read_guard(s.tracked)
    }
}

impl<'a, R: RawRwLockUpgradeDowngrade, T: ?Sized> RwLockWriteGuard<'a, R, T> {
    /// Turns the exclusive hold into an upgradable one without releasing (validated as a
    /// downgrade to `D`).
    #[track_caller]
    pub fn downgrade_to_upgradable(s: Self) -> RwLockUpgradableReadGuard<'a, R, T> {
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        if s.tracked {
            hook::downgrade(&l.class, l.instance(), Location::caller());
        }
        // SAFETY: we hold the lock exclusively and hand the hold over (ManuallyDrop).
        unsafe { l.raw.downgrade_to_upgradable() };
        l.upgradable_guard(s.tracked)
    }
}

impl<'a, R: RawRwLockUpgrade, T: ?Sized> RwLockUpgradableReadGuard<'a, R, T> {
    /// The lock this guard holds.
    pub fn rwlock(s: &Self) -> &'a RwLock<R, T> {
        s.rwlock
    }

    /// Upgrades to the exclusive hold, waiting for the readers to leave. Validated as a
    /// release of the upgradable hold and a new (blocking) write acquisition.
    #[track_caller]
    pub fn upgrade(s: Self) -> RwLockWriteGuard<'a, R, T> {
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        match crate::dropin::validate_upgrade(&l.class, l.instance(), s.tracked, false) {
            Ok(tracked) => {
                // SAFETY: we hold the upgradable hold and hand it over (ManuallyDrop).
                unsafe { l.raw.upgrade() };
                l.write_guard(tracked)
            }
            Err(refused) => {
                // SAFETY: the upgradable hold is ours and no guard owns it any more.
                unsafe { l.raw.unlock_upgradable() };
                refused.raise()
            }
        }
    }

    /// Upgrades if no reader holds the lock now (validated as a trylock), else gives the
    /// guard back.
    #[track_caller]
    pub fn try_upgrade(s: Self) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: we hold the upgradable hold.
        if unsafe { s.rwlock.raw.try_upgrade() } {
            Ok(Self::upgraded_by_try(s))
        } else {
            Err(s)
        }
    }

    /// After a successful try-upgrade: the upgradable hold is now exclusive.
    #[track_caller]
    fn upgraded_by_try(s: Self) -> RwLockWriteGuard<'a, R, T> {
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        match crate::dropin::validate_upgrade(&l.class, l.instance(), s.tracked, true) {
            Ok(tracked) => l.write_guard(tracked),
            Err(refused) => {
                // SAFETY: the try-upgrade made the hold exclusive; no guard owns it any more.
                unsafe { l.raw.unlock_exclusive() };
                refused.raise()
            }
        }
    }
}

impl<'a, R: RawRwLockUpgradeDowngrade, T: ?Sized> RwLockUpgradableReadGuard<'a, R, T> {
    /// Turns the upgradable hold into a plain shared one. The validator keeps it as
    /// downgraded (`D`).
    pub fn downgrade(s: Self) -> RwLockReadGuard<'a, R, T> {
        let s = ManuallyDrop::new(s);
        let l = s.rwlock;
        // SAFETY: we hold the upgradable hold and hand it over (ManuallyDrop).
        unsafe { l.raw.downgrade_upgradable() };
        l.read_guard(s.tracked)
    }
}

impl<'a, R: RawRwLockUpgradeTimed, T: ?Sized> RwLockUpgradableReadGuard<'a, R, T> {
    /// [`try_upgrade`](Self::try_upgrade) for at most `timeout` (a trylock on success).
    #[track_caller]
    pub fn try_upgrade_for(
        s: Self,
        timeout: R::Duration,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: we hold the upgradable hold.
        if unsafe { s.rwlock.raw.try_upgrade_for(timeout) } {
            Ok(Self::upgraded_by_try(s))
        } else {
            Err(s)
        }
    }

    /// [`try_upgrade`](Self::try_upgrade) until `timeout` (a trylock on success).
    #[track_caller]
    pub fn try_upgrade_until(
        s: Self,
        timeout: R::Instant,
    ) -> Result<RwLockWriteGuard<'a, R, T>, Self> {
        // SAFETY: we hold the upgradable hold.
        if unsafe { s.rwlock.raw.try_upgrade_until(timeout) } {
            Ok(Self::upgraded_by_try(s))
        } else {
            Err(s)
        }
    }
}

impl<R: RawRwLock, T: ?Sized> Deref for RwLockReadGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a shared hold excludes writers.
        unsafe { &*self.rwlock.data.get() }
    }
}

impl<R: RawRwLock, T: ?Sized> Deref for RwLockWriteGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &*self.rwlock.data.get() }
    }
}

impl<R: RawRwLock, T: ?Sized> DerefMut for RwLockWriteGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &mut *self.rwlock.data.get() }
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> Deref for RwLockUpgradableReadGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: an upgradable hold excludes writers.
        unsafe { &*self.rwlock.data.get() }
    }
}

impl<R: RawRwLock, T: ?Sized> Drop for RwLockReadGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns one shared hold of the raw lock.
        unsafe { self.rwlock.raw.unlock_shared() };
        if self.tracked {
            hook::release(&self.rwlock.class, self.rwlock.instance());
        }
    }
}

impl<R: RawRwLock, T: ?Sized> Drop for RwLockWriteGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the exclusive hold.
        unsafe { self.rwlock.raw.unlock_exclusive() };
        if self.tracked {
            hook::release(&self.rwlock.class, self.rwlock.instance());
        }
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized> Drop for RwLockUpgradableReadGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the upgradable hold.
        unsafe { self.rwlock.raw.unlock_upgradable() };
        if self.tracked {
            hook::release(&self.rwlock.class, self.rwlock.instance());
        }
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawRwLockUpgrade, T: ?Sized + fmt::Debug> fmt::Debug
    for RwLockUpgradableReadGuard<'_, R, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A read guard narrowed by [`RwLockReadGuard::map`]. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MappedRwLockReadGuard<'a, R: RawRwLock, T: ?Sized> {
    raw: &'a R,
    class: &'a LockClass,
    instance: usize,
    data: *const T,
    tracked: bool,
    _marker: PhantomData<&'a T>,
}

/// A write guard narrowed by [`RwLockWriteGuard::map`]. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MappedRwLockWriteGuard<'a, R: RawRwLock, T: ?Sized> {
    raw: &'a R,
    class: &'a LockClass,
    instance: usize,
    data: *mut T,
    tracked: bool,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: shared guards only give `&T`.
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Sync> Sync for MappedRwLockReadGuard<'_, R, T> {}
// SAFETY: a shared reference to the guard only gives `&T`.
unsafe impl<R: RawRwLock + Sync, T: ?Sized + Sync> Sync for MappedRwLockWriteGuard<'_, R, T> {}

impl<R: RawRwLock, T: ?Sized> Deref for MappedRwLockReadGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves a shared hold.
        unsafe { &*self.data }
    }
}

impl<R: RawRwLock, T: ?Sized> Deref for MappedRwLockWriteGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the exclusive hold.
        unsafe { &*self.data }
    }
}

impl<R: RawRwLock, T: ?Sized> DerefMut for MappedRwLockWriteGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves the exclusive hold.
        unsafe { &mut *self.data }
    }
}

impl<R: RawRwLock, T: ?Sized> Drop for MappedRwLockReadGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the shared hold of the guard it was mapped from.
        unsafe { self.raw.unlock_shared() };
        if self.tracked {
            hook::release(self.class, self.instance);
        }
    }
}

impl<R: RawRwLock, T: ?Sized> Drop for MappedRwLockWriteGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the exclusive hold of the guard it was mapped from.
        unsafe { self.raw.unlock_exclusive() };
        if self.tracked {
            hook::release(self.class, self.instance);
        }
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for MappedRwLockReadGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawRwLock, T: ?Sized + fmt::Debug> fmt::Debug for MappedRwLockWriteGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawRwLock, T: ?Sized> crate::tracked::sealed::Sealed for RwLock<R, T> {}

impl<R: RawRwLock, T: ?Sized> crate::TrackedLock for RwLock<R, T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
