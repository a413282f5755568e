//! [`Mutex`]: a traced mutual-exclusion lock.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};

use super::NotSend;
use crate::class::LockClassKey;
use crate::hook::{self, LockClass};
use crate::vocab::{Mode, WaitKind};

/// A mutual-exclusion lock whose acquisitions are validated.
///
/// The lock class is the construction site, or a [`LockClassKey`] given to
/// [`Mutex::with_key`]. `R` is any [`lock_api::RawMutex`] (parking_lot's by default).
///
/// # Examples
///
/// ```
/// use lockdep_core::Mutex;
///
/// static COUNTER: Mutex<u32> = Mutex::new(0); // its own class: this line
/// *COUNTER.lock() += 1;
/// assert_eq!(*COUNTER.lock(), 1);
/// ```
///
/// # Differences from `std::sync::Mutex`
/// - No poisoning: `lock` returns the guard directly. Unwind-safe all the same, like std's
///   (`UnwindSafe` and `RefUnwindSafe`): after a caught panic the data is as the panic left it.
/// - `Debug` never blocks: it shows the data only if a `try_lock` succeeds (validated as one).
/// - Acquisitions are checked against every other lock order the process has shown.
///
/// # Cost
/// - Acquisition of a chain already seen: one thread-local access, a hash, one lock-free
///   lookup; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
pub struct Mutex<T: ?Sized, R = parking_lot::RawMutex> {
    pub(crate) raw: R,
    pub(crate) class: LockClass,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out `&mut T` to one thread at a time; moving it moves a `T`.
unsafe impl<T: ?Sized + Send, R: lock_api::RawMutex + Send> Send for Mutex<T, R> {}
// SAFETY: access to `T` is serialised by the raw lock, so sharing needs only `T: Send`.
unsafe impl<T: ?Sized + Send, R: lock_api::RawMutex + Sync> Sync for Mutex<T, R> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> Mutex<T> {
        Mutex::from_parts(
            <parking_lot::RawMutex as lock_api::RawMutex>::INIT,
            LockClass::at_caller(WaitKind::Sleeping),
            val,
        )
    }

    /// A new unlocked mutex of the class `key`.
    pub const fn with_key(val: T, key: &'static LockClassKey) -> Mutex<T> {
        Mutex::from_parts(
            <parking_lot::RawMutex as lock_api::RawMutex>::INIT,
            LockClass::keyed(key, WaitKind::Sleeping),
            val,
        )
    }
}

impl<T, R: lock_api::RawMutex> Mutex<T, R> {
    /// A new unlocked mutex over the raw lock `R`, whose class is the caller's location.
    #[track_caller]
    pub const fn new_raw(val: T) -> Mutex<T, R> {
        Mutex::from_parts(R::INIT, LockClass::at_caller(WaitKind::Sleeping), val)
    }

    /// A new unlocked mutex over the raw lock `R`, of the class `key`.
    pub const fn new_raw_with_key(val: T, key: &'static LockClassKey) -> Mutex<T, R> {
        Mutex::from_parts(R::INIT, LockClass::keyed(key, WaitKind::Sleeping), val)
    }

    pub(crate) const fn from_parts(raw: R, class: LockClass, val: T) -> Mutex<T, R> {
        Mutex { raw, class, data: UnsafeCell::new(val) }
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized, R: lock_api::RawMutex> Mutex<T, R> {
    pub(crate) fn instance(&self) -> usize {
        self.class.instance()
    }

    /// Acquires the lock, blocking until it is free. Validated before blocking.
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T, R> {
        self.lock_nested(0)
    }

    /// Acquires the lock as subclass `subclass`: deliberate nesting of two locks of one
    /// class (the kernel's `mutex_lock_nested`).
    #[inline]
    #[track_caller]
    pub fn lock_nested(&self, subclass: u32) -> MutexGuard<'_, T, R> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, subclass);
        self.raw.lock();
        MutexGuard { lock: self, tracked, _not_send: NotSend::default() }
    }

    /// Acquires the lock if it is free. A successful trylock adds no dependency edge to it.
    #[track_caller]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T, R>> {
        if !self.raw.try_lock() {
            return None;
        }
        let undo = || {
            // SAFETY: the try above took the raw lock and no guard exists yet.
            unsafe { self.raw.unlock() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        Some(MutexGuard { lock: self, tracked, _not_send: NotSend::default() })
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The class name (construction site or key name).
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

// Unwind-safe like `std::sync::{Mutex, RwLock}`: code that catches a panic and reads the data
// again sees what the panicking code left (no poisoning here; see the type's docs).
impl<T: ?Sized, R> std::panic::UnwindSafe for Mutex<T, R> {}
impl<T: ?Sized, R> std::panic::RefUnwindSafe for Mutex<T, R> {}

impl<T: ?Sized + fmt::Debug, R: lock_api::RawMutex> fmt::Debug for Mutex<T, R> {
    /// Never blocks: the data is shown only if a `try_lock` succeeds, like std's.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_lock();
        crate::sync::debug_lock(f, "Mutex", data.as_deref())
            .field("class", &self.class.name())
            .finish()
    }
}

/// Proof that a [`Mutex`] is held; releases it on drop. `!Send`: the held-lock stack that
/// records it belongs to the acquiring thread.
#[must_use = "if unused the Mutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct MutexGuard<'a, T: ?Sized, R: lock_api::RawMutex = parking_lot::RawMutex> {
    lock: &'a Mutex<T, R>,
    tracked: bool,
    _not_send: NotSend,
}

// SAFETY: a shared guard only gives `&T`, so it may be shared when `T: Sync`.
unsafe impl<T: ?Sized + Sync, R: lock_api::RawMutex + Sync> Sync for MutexGuard<'_, T, R> {}

impl<T: ?Sized, R: lock_api::RawMutex> Deref for MutexGuard<'_, T, R> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves the lock is held, so no `&mut T` exists elsewhere.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized, R: lock_api::RawMutex> DerefMut for MutexGuard<'_, T, R> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership of the lock.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized, R: lock_api::RawMutex> Drop for MutexGuard<'_, T, R> {
    fn drop(&mut self) {
        // SAFETY: this guard acquired the raw lock and releases it exactly once.
        unsafe { self.lock.raw.unlock() };
        if self.tracked {
            hook::release(&self.lock.class, self.lock.instance());
        }
    }
}

impl<T: ?Sized + fmt::Debug, R: lock_api::RawMutex> fmt::Debug for MutexGuard<'_, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, R: lock_api::RawMutex> crate::tracked::sealed::Sealed for Mutex<T, R> {}

impl<T: ?Sized, R: lock_api::RawMutex> crate::TrackedLock for Mutex<T, R> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
