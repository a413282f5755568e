//! [`RwSem`]: a traced reader-writer semaphore with non-recursive readers and downgrade, and
//! the read/write guards shared with [`RwLock`](crate::RwLock).

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

use super::NotSend;
use crate::class::LockClassKey;
use crate::hook::{self, LockClass};
use crate::vocab::{Mode, WaitKind};

/// A reader-writer semaphore like the kernel's `rw_semaphore`: readers are non-recursive
/// (a reader queues behind a waiting writer, so read-after-read of one class can deadlock),
/// and a writer can [`downgrade`](WriteGuard::downgrade) to a reader without releasing.
///
/// # Examples
///
/// ```
/// use lockdep_core::RwSem;
///
/// let mmap_lock = RwSem::new(vec![1, 2, 3]);
/// let mut w = mmap_lock.write();
/// w.push(4);
/// let r = w.downgrade(); // still excludes writers and other downgraders
/// assert_eq!(r.len(), 4);
/// ```
///
/// # Differences from `std::sync::RwLock`
/// - `read` is a non-recursive read (validated as such); use [`RwLock`](crate::RwLock) for
///   recursive readers.
/// - `downgrade` turns the write guard into a read guard held in mode "downgraded".
/// - No poisoning; unwind-safe like std's.
///
/// # Cost
/// - Acquisition of a chain already seen: one thread-local access, a hash, one lock-free
///   lookup; no allocation, no global lock.
/// - New chain: a backtrace capture and a graph search under the validator's lock.
/// - With the `off` feature: exactly the raw lock and the data.
pub struct RwSem<T: ?Sized, R = parking_lot::RawRwLock> {
    pub(crate) raw: R,
    pub(crate) class: LockClass,
    pub(crate) data: UnsafeCell<T>,
}

// SAFETY: as for `std::sync::RwLock`: moving the lock moves a `T`.
unsafe impl<T: ?Sized + Send, R: lock_api::RawRwLock + Send> Send for RwSem<T, R> {}
// SAFETY: readers share `&T` across threads (needs `Sync`), writers hand `T` over (`Send`).
unsafe impl<T: ?Sized + Send + Sync, R: lock_api::RawRwLock + Sync> Sync for RwSem<T, R> {}

impl<T> RwSem<T> {
    /// A new unlocked semaphore whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> RwSem<T> {
        RwSem::new_raw(val)
    }

    /// A new unlocked semaphore of the class `key`.
    pub const fn with_key(val: T, key: &'static LockClassKey) -> RwSem<T> {
        RwSem::new_raw_with_key(val, key)
    }
}

impl<T, R: lock_api::RawRwLock> RwSem<T, R> {
    /// A new unlocked semaphore over the raw lock `R`, whose class is the caller's location.
    #[track_caller]
    pub const fn new_raw(val: T) -> RwSem<T, R> {
        RwSem {
            raw: R::INIT,
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(val),
        }
    }

    /// A new unlocked semaphore over the raw lock `R`, of the class `key`.
    pub const fn new_raw_with_key(val: T, key: &'static LockClassKey) -> RwSem<T, R> {
        RwSem {
            raw: R::INIT,
            class: LockClass::keyed(key, WaitKind::Sleeping),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> RwSem<T, R> {
    pub(crate) fn instance(&self) -> usize {
        self.class.instance()
    }

    pub(crate) fn read_guard(&self, mode: Mode, tracked: bool) -> ReadGuard<'_, T, R> {
        ReadGuard {
            raw: &self.raw,
            class: &self.class,
            data: &self.data,
            instance: self.instance(),
            tracked,
            mode,
            _not_send: NotSend::default(),
        }
    }

    pub(crate) fn write_guard(&self, tracked: bool) -> WriteGuard<'_, T, R> {
        WriteGuard {
            raw: &self.raw,
            class: &self.class,
            data: &self.data,
            instance: self.instance(),
            tracked,
            _not_send: NotSend::default(),
        }
    }

    /// Acquires a shared (non-recursive) hold, blocking while a writer holds or waits.
    #[track_caller]
    pub fn read(&self) -> ReadGuard<'_, T, R> {
        self.read_nested(0)
    }

    /// `read` as subclass `subclass`.
    #[track_caller]
    pub fn read_nested(&self, subclass: u32) -> ReadGuard<'_, T, R> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Read, subclass);
        self.raw.lock_shared();
        self.read_guard(Mode::Read, tracked)
    }

    /// Acquires an exclusive hold.
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, T, R> {
        self.write_nested(0)
    }

    /// `write` as subclass `subclass` (e.g. the child mm's lock in fork).
    #[track_caller]
    pub fn write_nested(&self, subclass: u32) -> WriteGuard<'_, T, R> {
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, subclass);
        self.raw.lock_exclusive();
        self.write_guard(tracked)
    }

    /// A shared hold if available now; never waits, so it adds no dependency edge to it.
    #[track_caller]
    pub fn try_read(&self) -> Option<ReadGuard<'_, T, R>> {
        if !self.raw.try_lock_shared() {
            return None;
        }
        let undo = || {
            // SAFETY: the try above took one shared hold and no guard exists yet.
            unsafe { self.raw.unlock_shared() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Read, undo);
        Some(self.read_guard(Mode::Read, tracked))
    }

    /// An exclusive hold if available now.
    #[track_caller]
    pub fn try_write(&self) -> Option<WriteGuard<'_, T, R>> {
        if !self.raw.try_lock_exclusive() {
            return None;
        }
        let undo = || {
            // SAFETY: the try above took the exclusive hold and no guard exists yet.
            unsafe { self.raw.unlock_exclusive() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        Some(self.write_guard(tracked))
    }

    /// Same as [`try_write`](Self::try_write) (the kernel's `down_write_trylock`).
    #[track_caller]
    pub fn try_lock(&self) -> Option<WriteGuard<'_, T, R>> {
        self.try_write()
    }

    /// Mutable access without locking.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The class name.
    pub fn class_name(&self) -> String {
        self.class.name()
    }
}

// Unwind-safe like `std::sync::{Mutex, RwLock}`: code that catches a panic and reads the data
// again sees what the panicking code left (no poisoning here; see the type's docs).
impl<T: ?Sized, R> std::panic::UnwindSafe for RwSem<T, R> {}
impl<T: ?Sized, R> std::panic::RefUnwindSafe for RwSem<T, R> {}

impl<T: ?Sized + fmt::Debug, R: lock_api::RawRwLock> fmt::Debug for RwSem<T, R> {
    /// Never blocks: the data is shown only if a `try_read` succeeds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_read();
        crate::sync::debug_lock(f, "RwSem", data.as_deref())
            .field("class", &self.class.name())
            .finish()
    }
}

/// A shared hold (read, recursive read, or downgraded). `!Send`.
#[must_use = "if unused the lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct ReadGuard<'a, T: ?Sized, R: lock_api::RawRwLock = parking_lot::RawRwLock> {
    raw: &'a R,
    class: &'a LockClass,
    data: &'a UnsafeCell<T>,
    instance: usize,
    tracked: bool,
    mode: Mode,
    _not_send: NotSend,
}

impl<T: ?Sized, R: lock_api::RawRwLock> ReadGuard<'_, T, R> {
    /// The mode of this hold: `Read`, `RecursiveRead` or `Downgraded`.
    pub fn mode(&self) -> Mode {
        self.mode
    }
}

// SAFETY: a shared guard only gives `&T`.
unsafe impl<T: ?Sized + Sync, R: lock_api::RawRwLock + Sync> Sync for ReadGuard<'_, T, R> {}

impl<T: ?Sized, R: lock_api::RawRwLock> Deref for ReadGuard<'_, T, R> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a shared hold excludes writers.
        unsafe { &*self.data.get() }
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> Drop for ReadGuard<'_, T, R> {
    fn drop(&mut self) {
        // SAFETY: this guard owns one shared hold of the raw lock.
        unsafe { self.raw.unlock_shared() };
        if self.tracked {
            hook::release(self.class, self.instance);
        }
    }
}

/// An exclusive hold. `!Send`.
#[must_use = "if unused the lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct WriteGuard<'a, T: ?Sized, R: lock_api::RawRwLock = parking_lot::RawRwLock> {
    raw: &'a R,
    class: &'a LockClass,
    data: &'a UnsafeCell<T>,
    instance: usize,
    tracked: bool,
    _not_send: NotSend,
}

// SAFETY: a shared reference to the guard only gives `&T`.
unsafe impl<T: ?Sized + Sync, R: lock_api::RawRwLock + Sync> Sync for WriteGuard<'_, T, R> {}

impl<'a, T: ?Sized, R: lock_api::RawRwLockDowngrade> WriteGuard<'a, T, R> {
    /// Turns the exclusive hold into a shared one without releasing (the kernel's
    /// `downgrade_write`). The hold is then "downgraded": it excludes writers and other
    /// downgraders, not plain readers.
    #[track_caller]
    pub fn downgrade(self) -> ReadGuard<'a, T, R> {
        let this = std::mem::ManuallyDrop::new(self);
        if this.tracked {
            hook::downgrade(this.class, this.instance, Location::caller());
        }
        // SAFETY: we hold the lock exclusively; the write guard is not dropped (ManuallyDrop),
        // so the raw lock now has exactly one shared hold, owned by the returned guard.
        unsafe { this.raw.downgrade() };
        ReadGuard {
            raw: this.raw,
            class: this.class,
            data: this.data,
            instance: this.instance,
            tracked: this.tracked,
            mode: Mode::Downgraded,
            _not_send: NotSend::default(),
        }
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> Deref for WriteGuard<'_, T, R> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &*self.data.get() }
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> DerefMut for WriteGuard<'_, T, R> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves exclusive ownership.
        unsafe { &mut *self.data.get() }
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> Drop for WriteGuard<'_, T, R> {
    fn drop(&mut self) {
        // SAFETY: this guard owns the exclusive hold.
        unsafe { self.raw.unlock_exclusive() };
        if self.tracked {
            hook::release(self.class, self.instance);
        }
    }
}

impl<T: ?Sized, R: lock_api::RawRwLock> crate::tracked::sealed::Sealed for RwSem<T, R> {}

impl<T: ?Sized, R: lock_api::RawRwLock> crate::TrackedLock for RwSem<T, R> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
