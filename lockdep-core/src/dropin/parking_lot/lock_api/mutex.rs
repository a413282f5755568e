//! [`Mutex`]: `lock_api::Mutex` with validated acquisitions, and its guards.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use lock_api::{RawMutex, RawMutexFair, RawMutexTimed};

use crate::hook::{self, LockClass};
use crate::report::{Mode, WaitKind};
use crate::sync::NotSend;

/// `lock_api::Mutex<R, T>` whose acquisitions are validated; `parking_lot::Mutex<T>` and
/// `FairMutex<T>` are this type over parking_lot's raw mutexes.
///
/// # Examples
///
/// ```
/// use lockdep_core::parking_lot::Mutex;
///
/// let m = Mutex::new(vec![1]);
/// m.lock().push(2);
/// assert_eq!(*m.lock(), [1, 2]);
/// ```
///
/// # Differences from `parking_lot::Mutex`
/// - Acquisitions are checked against every lock order the process has shown.
/// - A timed try (`try_lock_for`, `try_lock_until`) that succeeds is validated as a trylock:
///   it adds no dependency edge, although it may have waited (it cannot wait forever).
///
/// # Cost
/// - `lock` of a chain already seen: one thread-local access, a hash and one lock-free
///   lookup on top of the raw lock; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
/// - With the `off` feature: exactly the raw mutex and the data (same size as
///   `parking_lot::Mutex<T>`).
pub struct Mutex<R, T: ?Sized> {
    raw: R,
    class: LockClass,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one thread at a time; moving it moves a `T`.
unsafe impl<R: RawMutex + Send, T: ?Sized + Send> Send for Mutex<R, T> {}
// SAFETY: access to `T` is serialised by the raw lock, so sharing needs only `T: Send`.
unsafe impl<R: RawMutex + Sync, T: ?Sized + Send> Sync for Mutex<R, T> {}

impl<R: RawMutex, T> Mutex<R, T> {
    /// A new unlocked mutex whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> Mutex<R, T> {
        Mutex::from_raw(R::INIT, val)
    }

    /// A new unlocked mutex over an existing raw mutex, whose class is the caller's location.
    #[track_caller]
    pub const fn from_raw(raw_mutex: R, val: T) -> Mutex<R, T> {
        Mutex {
            raw: raw_mutex,
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R: RawMutex, T: ?Sized> Mutex<R, T> {
    fn instance(&self) -> usize {
        self.class.instance()
    }

    pub(super) fn guard(&self, tracked: bool) -> MutexGuard<'_, R, T> {
        MutexGuard { mutex: self, tracked, _not_send: NotSend::default() }
    }

    #[track_caller]
    fn locked_by_try(&self) -> MutexGuard<'_, R, T> {
        let undo = || {
            // SAFETY: the caller's try took the raw lock and no guard exists yet.
            unsafe { self.raw.unlock() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        self.guard(tracked)
    }

    /// Acquires the mutex, blocking until it is free. Validated before blocking.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, R, T> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, 0);
        self.raw.lock();
        self.guard(tracked)
    }

    /// Acquires the mutex if it is free; a success adds no dependency edge to it.
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, R, T>> {
        if self.raw.try_lock() {
            Some(self.locked_by_try())
        } else {
            None
        }
    }

    /// Whether the mutex is locked (by anyone).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
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

impl<R: RawMutexTimed, T: ?Sized> Mutex<R, T> {
    /// Tries for at most `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_lock_for(&self, timeout: R::Duration) -> Option<MutexGuard<'_, R, T>> {
        if self.raw.try_lock_for(timeout) {
            Some(self.locked_by_try())
        } else {
            None
        }
    }

    /// Tries until `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_lock_until(&self, timeout: R::Instant) -> Option<MutexGuard<'_, R, T>> {
        if self.raw.try_lock_until(timeout) {
            Some(self.locked_by_try())
        } else {
            None
        }
    }
}

impl<R: RawMutex, T: Default> Default for Mutex<R, T> {
    #[track_caller]
    fn default() -> Mutex<R, T> {
        Mutex::new(T::default())
    }
}

impl<R: RawMutex, T> From<T> for Mutex<R, T> {
    #[track_caller]
    fn from(t: T) -> Mutex<R, T> {
        Mutex::new(t)
    }
}

// Unwind-safe like std's `Mutex` (parking_lot's is not, having no poisoning): after a caught
// panic the data is as the panic left it. More permissive than parking_lot, never less.
impl<R, T: ?Sized> std::panic::UnwindSafe for Mutex<R, T> {}
impl<R, T: ?Sized> std::panic::RefUnwindSafe for Mutex<R, T> {}

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for Mutex<R, T> {
    /// Never blocks: the data is shown only if a `try_lock` succeeds, like lock_api.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_lock();
        crate::sync::debug_lock(f, "Mutex", data.as_deref()).finish()
    }
}

/// Proof that a [`Mutex`] is held; releases it on drop. `!Send`.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, R: RawMutex, T: ?Sized> {
    mutex: &'a Mutex<R, T>,
    pub(super) tracked: bool,
    _not_send: NotSend,
}

// SAFETY: a shared guard only gives `&T`.
unsafe impl<R: RawMutex + Sync, T: ?Sized + Sync> Sync for MutexGuard<'_, R, T> {}

impl<'a, R: RawMutex, T: ?Sized> MutexGuard<'a, R, T> {
    /// The mutex this guard holds.
    pub fn mutex(s: &Self) -> &'a Mutex<R, T> {
        s.mutex
    }

    /// Narrows the guard to a part of the data; the lock stays held.
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedMutexGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let s = std::mem::ManuallyDrop::new(s);
        // SAFETY: the guard holds the lock exclusively; it is not dropped (ManuallyDrop), so
        // the mapped guard takes over its hold.
        let data = f(unsafe { &mut *s.mutex.data.get() }) as *mut U;
        MappedMutexGuard::new(&s.mutex.raw, &s.mutex.class, s.mutex.instance(), data, s.tracked)
    }

    /// [`map`](Self::map) when `f` returns `Some`, else the guard back.
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedMutexGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the lock exclusively; the borrow ends before `s` is used.
        let data = match f(unsafe { &mut *s.mutex.data.get() }) {
            Some(data) => data as *mut U,
            None => return Err(s),
        };
        let s = std::mem::ManuallyDrop::new(s);
        Ok(MappedMutexGuard::new(&s.mutex.raw, &s.mutex.class, s.mutex.instance(), data, s.tracked))
    }

    /// Releases the mutex while `f` runs, then re-takes it (validated as a new acquisition).
    #[track_caller]
    pub fn unlocked<F, U>(s: &mut Self, f: F) -> U
    where
        F: FnOnce() -> U,
    {
        s.unlock_for_wait();
        // Re-take the lock even if `f` panics, so the guard stays valid while unwinding.
        struct Relock<'g, 'a, R: RawMutex, T: ?Sized>(&'g mut MutexGuard<'a, R, T>);
        impl<R: RawMutex, T: ?Sized> Drop for Relock<'_, '_, R, T> {
            fn drop(&mut self) {
                self.0.relock_after_wait();
            }
        }
        let _relock = Relock(s);
        f()
    }

    /// For a condition variable: releases the raw lock and its hold in the validator.
    pub(crate) fn unlock_for_wait(&mut self) {
        let tracked = std::mem::replace(&mut self.tracked, false);
        // SAFETY: this guard owns the raw lock; `relock_after_wait` takes it back before the
        // guard is used or dropped.
        unsafe { self.mutex.raw.unlock() };
        if tracked {
            hook::release(&self.mutex.class, self.mutex.instance());
        }
    }

    /// For a condition variable: validates and re-takes the lock after a wait.
    #[track_caller]
    pub(crate) fn relock_after_wait(&mut self) {
        let m = self.mutex;
        self.tracked = crate::dropin::relock(&m.class, m.instance(), Mode::Write, || m.raw.lock());
    }
}

impl<R: RawMutexFair, T: ?Sized> MutexGuard<'_, R, T> {
    /// Releases the mutex with a fair hand-off to a waiter.
    pub fn unlock_fair(s: Self) {
        let s = std::mem::ManuallyDrop::new(s);
        // SAFETY: this guard owns the raw lock; it is not dropped (ManuallyDrop).
        unsafe { s.mutex.raw.unlock_fair() };
        if s.tracked {
            hook::release(&s.mutex.class, s.mutex.instance());
        }
    }
}

impl<R: RawMutex, T: ?Sized> Deref for MutexGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held, so no `&mut T` exists elsewhere.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<R: RawMutex, T: ?Sized> DerefMut for MutexGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<R: RawMutex, T: ?Sized> Drop for MutexGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard acquired the raw lock and releases it exactly once.
        unsafe { self.mutex.raw.unlock() };
        if self.tracked {
            hook::release(&self.mutex.class, self.mutex.instance());
        }
    }
}

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawMutex, T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// A [`MutexGuard`] narrowed to a part of the data by [`MutexGuard::map`]. `!Send`.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MappedMutexGuard<'a, R: RawMutex, T: ?Sized> {
    raw: &'a R,
    class: &'a LockClass,
    instance: usize,
    data: *mut T,
    tracked: bool,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: a shared guard only gives `&T`.
unsafe impl<R: RawMutex + Sync, T: ?Sized + Sync> Sync for MappedMutexGuard<'_, R, T> {}

impl<'a, R: RawMutex, T: ?Sized> MappedMutexGuard<'a, R, T> {
    fn new(raw: &'a R, class: &'a LockClass, instance: usize, data: *mut T, tracked: bool) -> Self {
        MappedMutexGuard { raw, class, instance, data, tracked, _marker: PhantomData }
    }

    /// Narrows the guard further.
    pub fn map<U: ?Sized, F>(s: Self, f: F) -> MappedMutexGuard<'a, R, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let s = std::mem::ManuallyDrop::new(s);
        let ptr = s.data;
        // SAFETY: the guard holds the lock exclusively and hands its hold over.
        let data = f(unsafe { &mut *ptr }) as *mut U;
        MappedMutexGuard::new(s.raw, s.class, s.instance, data, s.tracked)
    }

    /// [`map`](Self::map) when `f` returns `Some`, else the guard back.
    pub fn try_map<U: ?Sized, F>(s: Self, f: F) -> Result<MappedMutexGuard<'a, R, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard holds the lock exclusively; the borrow ends before `s` is used.
        let data = match f(unsafe { &mut *s.data }) {
            Some(data) => data as *mut U,
            None => return Err(s),
        };
        let s = std::mem::ManuallyDrop::new(s);
        Ok(MappedMutexGuard::new(s.raw, s.class, s.instance, data, s.tracked))
    }
}

impl<R: RawMutex, T: ?Sized> Deref for MappedMutexGuard<'_, R, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held.
        unsafe { &*self.data }
    }
}

impl<R: RawMutex, T: ?Sized> DerefMut for MappedMutexGuard<'_, R, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &mut *self.data }
    }
}

impl<R: RawMutex, T: ?Sized> Drop for MappedMutexGuard<'_, R, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the hold taken by the guard it was mapped from.
        unsafe { self.raw.unlock() };
        if self.tracked {
            hook::release(self.class, self.instance);
        }
    }
}

impl<R: RawMutex, T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawMutex, T: ?Sized> crate::tracked::sealed::Sealed for Mutex<R, T> {}

impl<R: RawMutex, T: ?Sized> crate::TrackedLock for Mutex<R, T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
