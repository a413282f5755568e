//! [`SpinLock`]: a traced busy-waiting lock, and the raw spin lock behind it.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{Mutex, MutexGuard};
use crate::class::LockClassKey;
use crate::hook::LockClass;
use crate::vocab::WaitKind;

/// A test-and-test-and-set spin lock implementing [`lock_api::RawMutex`].
pub struct RawSpinLock {
    locked: AtomicBool,
}

// SAFETY: `lock` only returns once this thread flipped `locked` from false to true with
// Acquire ordering, and `unlock` stores false with Release: mutual exclusion holds.
unsafe impl lock_api::RawMutex for RawSpinLock {
    const INIT: RawSpinLock = RawSpinLock { locked: AtomicBool::new(false) };
    type GuardMarker = lock_api::GuardNoSend;

    fn lock(&self) {
        while !self.try_lock() {
            while self.locked.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        }
    }

    fn try_lock(&self) -> bool {
        self.locked.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }

    unsafe fn unlock(&self) {
        self.locked.store(false, Ordering::Release);
    }
}

/// A lock that busy-waits. Its class is marked spinning: taking a sleeping lock
/// ([`Mutex`], [`RwSem`](crate::RwSem), [`RwLock`](crate::RwLock)) while holding it is
/// reported as `invalid_wait_context`.
///
/// # Examples
///
/// ```
/// use lockdep_core::SpinLock;
///
/// let s = SpinLock::new(5);
/// *s.lock() += 1;
/// assert_eq!(*s.lock(), 6);
/// ```
///
/// # Cost
/// As [`Mutex`]'s (a chain already seen: one thread-local access, a hash, one lock-free
/// lookup; no allocation), on top of a test-and-test-and-set spin. With the `off` feature:
/// exactly the raw spin lock and the data. Unwind-safe like std's `Mutex`.
pub struct SpinLock<T: ?Sized> {
    inner: Mutex<T, RawSpinLock>,
}

/// Guard of a [`SpinLock`].
pub type SpinLockGuard<'a, T> = MutexGuard<'a, T, RawSpinLock>;

impl<T> SpinLock<T> {
    /// A new unlocked spin lock whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> SpinLock<T> {
        SpinLock {
            inner: Mutex::from_parts(
                <RawSpinLock as lock_api::RawMutex>::INIT,
                LockClass::at_caller(WaitKind::Spinning),
                val,
            ),
        }
    }

    /// A new unlocked spin lock of the class `key`.
    pub const fn with_key(val: T, key: &'static LockClassKey) -> SpinLock<T> {
        SpinLock {
            inner: Mutex::from_parts(
                <RawSpinLock as lock_api::RawMutex>::INIT,
                LockClass::keyed(key, WaitKind::Spinning),
                val,
            ),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> SpinLock<T> {
    /// Acquires the lock, spinning until it is free.
    #[track_caller]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        self.inner.lock_nested(0)
    }

    /// Acquires the lock as subclass `subclass` (e.g. a second page-table lock).
    #[track_caller]
    pub fn lock_nested(&self, subclass: u32) -> SpinLockGuard<'_, T> {
        self.inner.lock_nested(subclass)
    }

    /// Acquires the lock if it is free.
    #[track_caller]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        self.inner.try_lock()
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

impl<T: ?Sized + std::fmt::Debug> std::fmt::Debug for SpinLock<T> {
    /// Never spins: the data is shown only if a `try_lock` succeeds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = self.try_lock();
        crate::sync::debug_lock(f, "SpinLock", data.as_deref())
            .field("class", &self.class_name())
            .finish()
    }
}

impl<T: ?Sized> crate::tracked::sealed::Sealed for SpinLock<T> {}

impl<T: ?Sized> crate::TrackedLock for SpinLock<T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef {
            instance: self.inner.lock_ref().instance,
            class: self.inner.lock_ref().class,
        }
    }
}
