//! [`RwLock`]: a traced reader-writer lock whose readers are recursive.

use std::fmt;

use super::rwsem::{ReadGuard, RwSem, WriteGuard};
use crate::class::LockClassKey;
use crate::hook;
use crate::vocab::Mode;

/// A reader-writer lock with recursive readers (like the kernel's `rwlock_t` read side): a
/// reader never waits for other readers, even with a writer queued, so read-after-read of
/// one class is legal and a cycle through recursive reads is not a deadlock unless it is a
/// strong path.
///
/// # Examples
///
/// ```
/// use lockdep_core::RwLock;
///
/// let l = RwLock::new(1);
/// let a = l.read();
/// let b = l.read(); // recursive read: fine
/// assert_eq!(*a + *b, 2);
/// ```
///
/// # Cost
/// As [`RwSem`](crate::RwSem): a chain already seen costs one thread-local access, a hash and
/// one lock-free lookup on top of the raw lock; a new chain, a backtrace capture and a graph
/// search. With the `off` feature: exactly the raw lock and the data. Unwind-safe like std's.
pub struct RwLock<T: ?Sized, R = parking_lot::RawRwLock> {
    inner: RwSem<T, R>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> RwLock<T> {
        RwLock { inner: RwSem::new_raw(val) }
    }

    /// A new unlocked lock of the class `key`.
    pub const fn with_key(val: T, key: &'static LockClassKey) -> RwLock<T> {
        RwLock { inner: RwSem::new_raw_with_key(val, key) }
    }
}

impl<T, R: lock_api::RawRwLockRecursive> RwLock<T, R> {
    /// A new unlocked lock over the raw lock `R`.
    #[track_caller]
    pub const fn new_raw(val: T) -> RwLock<T, R> {
        RwLock { inner: RwSem::new_raw(val) }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized, R: lock_api::RawRwLockRecursive> RwLock<T, R> {
    /// Acquires a recursive shared hold.
    #[track_caller]
    pub fn read(&self) -> ReadGuard<'_, T, R> {
        let tracked = hook::lock(&self.inner.class, self.inner.instance(), Mode::RecursiveRead, 0);
        self.inner.raw.lock_shared_recursive();
        self.inner.read_guard(Mode::RecursiveRead, tracked)
    }

    /// A recursive shared hold if available now.
    #[track_caller]
    pub fn try_read(&self) -> Option<ReadGuard<'_, T, R>> {
        if !self.inner.raw.try_lock_shared_recursive() {
            return None;
        }
        let undo = || {
            // SAFETY: the try above took one shared hold and no guard exists yet.
            unsafe { self.inner.raw.unlock_shared() }
        };
        let tracked = hook::locked_by_try(
            &self.inner.class,
            self.inner.instance(),
            Mode::RecursiveRead,
            undo,
        );
        Some(self.inner.read_guard(Mode::RecursiveRead, tracked))
    }

    /// Acquires an exclusive hold.
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, T, R> {
        self.inner.write()
    }

    /// An exclusive hold if available now.
    #[track_caller]
    pub fn try_write(&self) -> Option<WriteGuard<'_, T, R>> {
        self.inner.try_write()
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The class name (construction site or key name).
    pub fn class_name(&self) -> String {
        self.inner.class_name()
    }
}

impl<T: ?Sized + fmt::Debug, R: lock_api::RawRwLockRecursive> fmt::Debug for RwLock<T, R> {
    /// Never blocks: the data is shown only if a `try_read` succeeds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_read();
        crate::sync::debug_lock(f, "RwLock", data.as_deref())
            .field("class", &self.inner.class.name())
            .finish()
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> crate::tracked::sealed::Sealed for RwLock<T, R> {}

impl<T: ?Sized, R: lock_api::RawRwLock> crate::TrackedLock for RwLock<T, R> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.inner.instance(), class: &self.inner.class }
    }
}
