//! [`Mutex`]: `std::sync::Mutex` with validated acquisitions.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::thread;

use lock_api::RawMutex as _;

use super::poison::{self, Flag, LockResult, TryLockError, TryLockResult};
use crate::hook::{self, LockClass};
use crate::report::{Mode, WaitKind};
use crate::sync::NotSend;

/// `std::sync::Mutex` whose acquisitions are validated: the same API, poisoning included.
///
/// The lock class is the construction site (`new`, `default` and `from` are
/// `#[track_caller]`).
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::{Arc, Mutex};
/// use std::thread;
///
/// let counter = Arc::new(Mutex::new(0));
/// let c = Arc::clone(&counter);
/// thread::spawn(move || *c.lock().unwrap() += 1).join().unwrap();
/// assert_eq!(*counter.lock().unwrap(), 1);
/// ```
///
/// # Differences from `std::sync::Mutex`
/// - The raw lock is parking_lot's; a poison flag sits beside it.
/// - `lock` and `try_lock` are checked against every lock order the process has shown.
///
/// # Cost
/// - `lock` of a chain already seen: one thread-local access, a hash and one lock-free
///   lookup on top of the raw lock; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
/// - With the `off` feature: the raw lock and the poison flag only.
pub struct Mutex<T: ?Sized> {
    raw: parking_lot::RawMutex,
    poison: Flag,
    class: LockClass,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one thread at a time; moving it moves a `T`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: access to `T` is serialised by the raw lock, so sharing needs only `T: Send`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's location.
    #[track_caller]
    pub const fn new(t: T) -> Mutex<T> {
        Mutex {
            raw: parking_lot::RawMutex::INIT,
            poison: Flag::new(),
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(t),
        }
    }

    /// Consumes the mutex and returns the data; an error (still carrying it) if poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poison.get();
        poison::result(poisoned, self.data.into_inner())
    }
}

impl<T: ?Sized> Mutex<T> {
    pub(crate) fn instance(&self) -> usize {
        self.class.instance()
    }

    /// Acquires the mutex, blocking until it is free. Validated before blocking. An error
    /// (carrying the guard) if a holder panicked.
    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, 0);
        self.raw.lock();
        MutexGuard::new(self, tracked)
    }

    /// Acquires the mutex if it is free. A successful try adds no dependency edge to it.
    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        if !self.raw.try_lock() {
            return Err(TryLockError::WouldBlock);
        }
        let undo = || {
            // SAFETY: the try above took the raw lock and no guard exists yet.
            unsafe { self.raw.unlock() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        Ok(MutexGuard::new(self, tracked)?)
    }

    /// Whether a holder panicked.
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poison flag.
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// Mutable access without locking: `&mut self` proves no guard exists. An error (still
    /// carrying the reference) if poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.poison.get();
        poison::result(poisoned, self.data.get_mut())
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

// Unwind-safe as std's: a panic while holding poisons the mutex.
impl<T: ?Sized> std::panic::UnwindSafe for Mutex<T> {}
impl<T: ?Sized> std::panic::RefUnwindSafe for Mutex<T> {}

crate::sync::default_and_from!(Mutex);

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    /// Never blocks: the data is shown only if a `try_lock` succeeds, like std.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

/// Proof that a [`Mutex`] is held; releases it on drop (poisoning it if the thread is
/// panicking). `!Send`: the held-lock stack that records it belongs to the acquiring thread.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    lock: &'a Mutex<T>,
    tracked: bool,
    panicking: bool,
    _not_send: NotSend,
}

// SAFETY: a shared guard only gives `&T`, so it may be shared when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(lock: &'a Mutex<T>, tracked: bool) -> LockResult<MutexGuard<'a, T>> {
        let guard = MutexGuard {
            lock,
            tracked,
            panicking: thread::panicking(),
            _not_send: NotSend::default(),
        };
        poison::result(lock.poison.get(), guard)
    }

    /// For a condition variable: releases the raw lock and its hold in the validator.
    pub(super) fn unlock_for_wait(&mut self) {
        let tracked = std::mem::replace(&mut self.tracked, false);
        // SAFETY: this guard owns the raw lock; `relock_after_wait` takes it back before the
        // guard is used or dropped.
        unsafe { self.lock.raw.unlock() };
        if tracked {
            hook::release(&self.lock.class, self.lock.instance());
        }
    }

    /// For a condition variable: validates and re-takes the lock after a wait.
    #[track_caller]
    pub(super) fn relock_after_wait(&mut self) {
        let lock = self.lock;
        self.tracked =
            crate::dropin::relock(&lock.class, lock.instance(), Mode::Write, || lock.raw.lock());
    }

    /// Whether the mutex is poisoned now.
    pub(super) fn poisoned(&self) -> bool {
        self.lock.poison.get()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held, so no `&mut T` exists elsewhere.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.poison.done(self.panicking);
        // SAFETY: this guard acquired the raw lock and releases it exactly once.
        unsafe { self.lock.raw.unlock() };
        if self.tracked {
            hook::release(&self.lock.class, self.lock.instance());
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized> crate::tracked::sealed::Sealed for Mutex<T> {}

impl<T: ?Sized> crate::TrackedLock for Mutex<T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
