//! [`RwLock`]: `std::sync::RwLock` with validated acquisitions.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::thread;

use lock_api::RawRwLock as _;

use super::poison::{self, Flag, LockResult, TryLockError, TryLockResult};
use crate::hook::{self, LockClass};
use crate::report::{Mode, WaitKind};
use crate::sync::NotSend;

/// `std::sync::RwLock` whose acquisitions are validated: the same API, poisoning included.
///
/// `read` is validated as a *non-recursive* read (it may queue behind a waiting writer, as
/// std's does on most platforms), so a thread that takes `read` twice on one lock, or two
/// readers in inverted order against a writer, is reported.
///
/// # Examples
///
/// ```
/// use lockdep_core::std::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r = lock.read().unwrap();
///     assert_eq!(*r, 5);
/// }
/// *lock.write().unwrap() += 1;
/// assert_eq!(*lock.read().unwrap(), 6);
/// ```
///
/// # Differences from `std::sync::RwLock`
/// - The raw lock is parking_lot's (writer-preferring: a reader waits for a queued writer).
/// - Acquisitions are checked against every lock order the process has shown.
///
/// # Cost
/// - `read`/`write` of a chain already seen: one thread-local access, a hash and one
///   lock-free lookup on top of the raw lock; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
/// - With the `off` feature: the raw lock and the poison flag only.
pub struct RwLock<T: ?Sized> {
    raw: parking_lot::RawRwLock,
    poison: Flag,
    class: LockClass,
    data: UnsafeCell<T>,
}

// SAFETY: as for `std::sync::RwLock`: moving the lock moves a `T`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers share `&T` across threads (needs `Sync`), writers hand `T` over (`Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's location.
    #[track_caller]
    pub const fn new(t: T) -> RwLock<T> {
        RwLock {
            raw: parking_lot::RawRwLock::INIT,
            poison: Flag::new(),
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(t),
        }
    }

    /// Consumes the lock and returns the data; an error (still carrying it) if poisoned.
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poison.get();
        poison::result(poisoned, self.data.into_inner())
    }
}

impl<T: ?Sized> RwLock<T> {
    fn instance(&self) -> usize {
        self.class.instance()
    }

    fn read_guard(&self, tracked: bool) -> LockResult<RwLockReadGuard<'_, T>> {
        let guard = RwLockReadGuard { lock: self, tracked, _not_send: NotSend::default() };
        poison::result(self.poison.get(), guard)
    }

    fn write_guard(&self, tracked: bool) -> LockResult<RwLockWriteGuard<'_, T>> {
        let guard = RwLockWriteGuard {
            lock: self,
            tracked,
            panicking: thread::panicking(),
            _not_send: NotSend::default(),
        };
        poison::result(self.poison.get(), guard)
    }

    /// Acquires a shared hold (validated as a non-recursive read), blocking while a writer
    /// holds or waits.
    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Read, 0);
        self.raw.lock_shared();
        self.read_guard(tracked)
    }

    /// A shared hold if available now; adds no dependency edge to it.
    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        if !self.raw.try_lock_shared() {
            return Err(TryLockError::WouldBlock);
        }
        let undo = || {
            // SAFETY: the try above took one shared hold and no guard exists yet.
            unsafe { self.raw.unlock_shared() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Read, undo);
        Ok(self.read_guard(tracked)?)
    }

    /// Acquires the exclusive hold, blocking until there is no other holder.
    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, 0);
        self.raw.lock_exclusive();
        self.write_guard(tracked)
    }

    /// The exclusive hold if available now; adds no dependency edge to it.
    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        if !self.raw.try_lock_exclusive() {
            return Err(TryLockError::WouldBlock);
        }
        let undo = || {
            // SAFETY: the try above took the exclusive hold and no guard exists yet.
            unsafe { self.raw.unlock_exclusive() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        Ok(self.write_guard(tracked)?)
    }

    /// Whether a writer panicked.
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poison flag.
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// Mutable access without locking; an error (still carrying it) if poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        let poisoned = self.poison.get();
        poison::result(poisoned, self.data.get_mut())
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

// Unwind-safe as std's: a panic while writing poisons the lock.
impl<T: ?Sized> std::panic::UnwindSafe for RwLock<T> {}
impl<T: ?Sized> std::panic::RefUnwindSafe for RwLock<T> {}

crate::sync::default_and_from!(RwLock);

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// Never blocks: the data is shown only if a `try_read` succeeds, like std.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get());
        d.finish_non_exhaustive()
    }
}

/// A shared hold of an [`RwLock`]; released on drop. `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    tracked: bool,
    _not_send: NotSend,
}

// SAFETY: a shared guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a shared hold excludes writers.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard owns one shared hold of the raw lock.
        unsafe { self.lock.raw.unlock_shared() };
        if self.tracked {
            hook::release(&self.lock.class, self.lock.instance());
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// The exclusive hold of an [`RwLock`]; released on drop (poisoning the lock if the thread
/// is panicking). `!Send`.
#[must_use = "if unused the RwLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    tracked: bool,
    panicking: bool,
    _not_send: NotSend,
}

// SAFETY: a shared reference to the guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.poison.done(self.panicking);
        // SAFETY: this guard owns the exclusive hold.
        unsafe { self.lock.raw.unlock_exclusive() };
        if self.tracked {
            hook::release(&self.lock.class, self.lock.instance());
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized> crate::tracked::sealed::Sealed for RwLock<T> {}

impl<T: ?Sized> crate::TrackedLock for RwLock<T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
