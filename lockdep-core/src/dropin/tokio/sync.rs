//! `lockdep_core::tokio::sync`: tokio's [`Mutex`], [`RwLock`] and [`Semaphore`], validated.
//!
//! Each acquisition is validated before the task waits for the lock (so an ABBA between two
//! tasks is reported before it hangs), and the guard releases in the held stack of the task
//! that holds it ([`crate::task`]; use [`crate::tokio::spawn`]). Guards are `Send` where
//! tokio's are. These locks are *async*: holding one across an `.await` is normal, not a
//! `held_across_await` report. `RwLock::read` is a non-recursive read (tokio's lock is fair:
//! a reader queues behind a waiting writer).

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::Arc;

use crate::hook::{self, AsyncClass, Refused};
use crate::report::Mode;

pub use ::tokio::sync::TryLockError;

pub use super::semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// Releases a tracked acquisition whose wait was cancelled (the lock future dropped).
pub(super) struct Acquiring<'a> {
    class: &'a AsyncClass,
    tracked: bool,
}

impl<'a> Acquiring<'a> {
    /// An acquisition left out of the held stack (released by nothing).
    pub(super) fn untracked(class: &'a AsyncClass) -> Acquiring<'a> {
        Acquiring { class, tracked: false }
    }

    pub(super) fn done(mut self) -> bool {
        std::mem::replace(&mut self.tracked, false)
    }
}

impl Drop for Acquiring<'_> {
    fn drop(&mut self) {
        if self.tracked {
            hook::release(self.class.class(), self.class.class().instance());
        }
    }
}

pub(super) fn validate<'a>(
    class: &'a AsyncClass,
    mode: Mode,
    site: &'static Location<'static>,
) -> Acquiring<'a> {
    match hook::acquire_async(class, mode, false, site) {
        Ok(tracked) => Acquiring { class, tracked },
        Err(refused) => refused.raise(),
    }
}

/// After a successful try: validates it; a refusal drops `guard` (unlocking) and panics.
#[track_caller]
pub(super) fn validate_try<G>(class: &AsyncClass, mode: Mode, guard: G) -> (G, bool) {
    match hook::acquire_async(class, mode, true, Location::caller()) {
        Ok(tracked) => (guard, tracked),
        Err(refused) => {
            drop(guard);
            Refused::raise(refused)
        }
    }
}

/// Releases the hook's hold after the inner guard was dropped.
pub(super) fn release(class: &AsyncClass, tracked: bool) {
    if tracked {
        hook::release(class.class(), class.class().instance());
    }
}

/// [`tokio::sync::Mutex`](::tokio::sync::Mutex) with validated acquisitions.
pub struct Mutex<T: ?Sized> {
    class: AsyncClass,
    inner: ::tokio::sync::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new unlocked mutex; its class is the caller's location.
    #[track_caller]
    pub fn new(t: T) -> Mutex<T> {
        Mutex { class: AsyncClass::at_caller(), inner: ::tokio::sync::Mutex::new(t) }
    }

    /// Consumes the mutex, returning its data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks, waiting asynchronously; validated before the task waits.
    #[track_caller]
    pub fn lock(&self) -> impl std::future::Future<Output = MutexGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let acq = validate(&self.class, Mode::Write, site);
            let inner = self.inner.lock().await;
            MutexGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked: acq.done() }
        }
    }

    /// Locks from outside async code (tokio's `blocking_lock`); validated before it blocks.
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        let acq = validate(&self.class, Mode::Write, Location::caller());
        let inner = self.inner.blocking_lock();
        MutexGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked: acq.done() }
    }

    /// Tries to lock without waiting.
    #[track_caller]
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Write, self.inner.try_lock()?);
        Ok(MutexGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked })
    }

    /// The data, through a unique borrow (no locking).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.class().name()
    }
}

impl<T: ?Sized + 'static> Mutex<T> {
    /// Locks an `Arc`ed mutex, returning a guard that owns the `Arc` (unlike tokio's, `T`
    /// must be `'static`: the guard borrows from the `Arc` it owns).
    #[track_caller]
    pub fn lock_owned(self: Arc<Self>) -> impl std::future::Future<Output = OwnedMutexGuard<T>> {
        let site = Location::caller();
        async move {
            let tracked = validate(&self.class, Mode::Write, site);
            let inner = self.inner.lock().await;
            // SAFETY: the guard borrows `*self`, which the `Arc` stored beside it keeps alive
            // at a fixed address; `OwnedMutexGuard`'s drop drops the guard before the `Arc`.
            let inner: ::tokio::sync::MutexGuard<'static, T> =
                unsafe { std::mem::transmute(inner) };
            let tracked = tracked.done();
            OwnedMutexGuard { inner: ManuallyDrop::new(inner), tracked, lock: self }
        }
    }

    /// Tries to lock an `Arc`ed mutex without waiting, returning a guard that owns the `Arc`.
    #[track_caller]
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Write, self.inner.try_lock()?);
        // SAFETY: as in `lock_owned`: the `Arc` stored beside the guard keeps `*self` alive at
        // a fixed address, and the guard is dropped first.
        let inner: ::tokio::sync::MutexGuard<'static, T> = unsafe { std::mem::transmute(inner) };
        Ok(OwnedMutexGuard { inner: ManuallyDrop::new(inner), tracked, lock: self })
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A guard of [`Mutex`]; `Send` when tokio's is.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    inner: ManuallyDrop<::tokio::sync::MutexGuard<'a, T>>,
    class: &'a AsyncClass,
    tracked: bool,
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here; never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        release(self.class, self.tracked);
    }
}

/// An owned guard of an `Arc<Mutex<T>>`.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized + 'static> {
    inner: ManuallyDrop<::tokio::sync::MutexGuard<'static, T>>,
    tracked: bool,
    lock: Arc<Mutex<T>>,
}

impl<T: ?Sized + 'static> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        // SAFETY: dropped once, here, before `lock` (which it borrows) is.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        release(&self.lock.class, self.tracked);
    }
}

/// [`tokio::sync::RwLock`](::tokio::sync::RwLock) with validated acquisitions.
pub struct RwLock<T: ?Sized> {
    class: AsyncClass,
    inner: ::tokio::sync::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock; its class is the caller's location.
    #[track_caller]
    pub fn new(t: T) -> RwLock<T> {
        RwLock { class: AsyncClass::at_caller(), inner: ::tokio::sync::RwLock::new(t) }
    }

    /// Consumes the lock, returning its data.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Shared lock (a non-recursive read: it queues behind a waiting writer).
    #[track_caller]
    pub fn read(&self) -> impl std::future::Future<Output = RwLockReadGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let acq = validate(&self.class, Mode::Read, site);
            let inner = self.inner.read().await;
            RwLockReadGuard {
                inner: ManuallyDrop::new(inner),
                class: &self.class,
                tracked: acq.done(),
            }
        }
    }

    /// Exclusive lock.
    #[track_caller]
    pub fn write(&self) -> impl std::future::Future<Output = RwLockWriteGuard<'_, T>> {
        let site = Location::caller();
        async move {
            let acq = validate(&self.class, Mode::Write, site);
            let inner = self.inner.write().await;
            RwLockWriteGuard {
                inner: ManuallyDrop::new(inner),
                class: &self.class,
                tracked: acq.done(),
            }
        }
    }

    /// Tries a shared lock without waiting.
    #[track_caller]
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Read, self.inner.try_read()?);
        Ok(RwLockReadGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked })
    }

    /// Tries an exclusive lock without waiting.
    #[track_caller]
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Write, self.inner.try_write()?);
        Ok(RwLockWriteGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked })
    }

    /// Shared lock from outside async code (tokio's `blocking_read`); validated before it
    /// blocks.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        let acq = validate(&self.class, Mode::Read, Location::caller());
        let inner = self.inner.blocking_read();
        RwLockReadGuard { inner: ManuallyDrop::new(inner), class: &self.class, tracked: acq.done() }
    }

    /// Exclusive lock from outside async code (tokio's `blocking_write`); validated before it
    /// blocks.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        let acq = validate(&self.class, Mode::Write, Location::caller());
        let inner = self.inner.blocking_write();
        RwLockWriteGuard {
            inner: ManuallyDrop::new(inner),
            class: &self.class,
            tracked: acq.done(),
        }
    }

    /// The data, through a unique borrow (no locking).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    /// The class name (construction site).
    pub fn class_name(&self) -> String {
        self.class.class().name()
    }
}

/// Makes an owned guard of an `Arc`ed lock from a borrowed tokio guard.
macro_rules! owned {
    ($owned:ident, $guard:ident, $lock:expr, $inner:expr, $tracked:expr) => {{
        // SAFETY: the guard borrows `*lock`, which the `Arc` stored beside it keeps alive at a
        // fixed address; the owned guard's drop drops the guard before the `Arc`.
        let inner = unsafe {
            std::mem::transmute::<::tokio::sync::$guard<'_, T>, ::tokio::sync::$guard<'static, T>>(
                $inner,
            )
        };
        $owned { inner: ManuallyDrop::new(inner), tracked: $tracked, lock: $lock }
    }};
}

impl<T: ?Sized + 'static> RwLock<T> {
    /// Shared lock of an `Arc`ed lock, returning a guard that owns the `Arc` (unlike tokio's,
    /// `T` must be `'static`: the guard borrows from the `Arc` it owns).
    #[track_caller]
    pub fn read_owned(
        self: Arc<Self>,
    ) -> impl std::future::Future<Output = OwnedRwLockReadGuard<T>> {
        let site = Location::caller();
        async move {
            let acq = validate(&self.class, Mode::Read, site);
            let inner = self.inner.read().await;
            let tracked = acq.done();
            owned!(OwnedRwLockReadGuard, RwLockReadGuard, self, inner, tracked)
        }
    }

    /// Exclusive lock of an `Arc`ed lock, returning a guard that owns the `Arc`.
    #[track_caller]
    pub fn write_owned(
        self: Arc<Self>,
    ) -> impl std::future::Future<Output = OwnedRwLockWriteGuard<T>> {
        let site = Location::caller();
        async move {
            let acq = validate(&self.class, Mode::Write, site);
            let inner = self.inner.write().await;
            let tracked = acq.done();
            owned!(OwnedRwLockWriteGuard, RwLockWriteGuard, self, inner, tracked)
        }
    }

    /// Tries a shared lock of an `Arc`ed lock without waiting.
    #[track_caller]
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Read, self.inner.try_read()?);
        Ok(owned!(OwnedRwLockReadGuard, RwLockReadGuard, self, inner, tracked))
    }

    /// Tries an exclusive lock of an `Arc`ed lock without waiting.
    #[track_caller]
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        let (inner, tracked) = validate_try(&self.class, Mode::Write, self.inner.try_write()?);
        Ok(owned!(OwnedRwLockWriteGuard, RwLockWriteGuard, self, inner, tracked))
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A shared guard of [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    inner: ManuallyDrop<::tokio::sync::RwLockReadGuard<'a, T>>,
    class: &'a AsyncClass,
    tracked: bool,
}

/// An exclusive guard of [`RwLock`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    inner: ManuallyDrop<::tokio::sync::RwLockWriteGuard<'a, T>>,
    class: &'a AsyncClass,
    tracked: bool,
}

/// An owned shared guard of an `Arc<RwLock<T>>`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized + 'static> {
    inner: ManuallyDrop<::tokio::sync::RwLockReadGuard<'static, T>>,
    tracked: bool,
    lock: Arc<RwLock<T>>,
}

/// An owned exclusive guard of an `Arc<RwLock<T>>`.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized + 'static> {
    inner: ManuallyDrop<::tokio::sync::RwLockWriteGuard<'static, T>>,
    tracked: bool,
    lock: Arc<RwLock<T>>,
}

macro_rules! owned_guard_impls {
    ($($g:ident),*) => {$(
        impl<T: ?Sized + 'static> Drop for $g<T> {
            fn drop(&mut self) {
                // SAFETY: dropped once, here, before `lock` (which it borrows) is.
                unsafe { ManuallyDrop::drop(&mut self.inner) };
                release(&self.lock.class, self.tracked);
            }
        }
        impl<T: ?Sized + 'static> Deref for $g<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.inner
            }
        }
        impl<T: ?Sized + fmt::Debug + 'static> fmt::Debug for $g<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

owned_guard_impls!(OwnedRwLockReadGuard, OwnedRwLockWriteGuard);

impl<T: ?Sized + 'static> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

macro_rules! guard_impls {
    ($($g:ident),*) => {$(
        impl<T: ?Sized> Drop for $g<'_, T> {
            fn drop(&mut self) {
                // SAFETY: dropped once, here; never used again.
                unsafe { ManuallyDrop::drop(&mut self.inner) };
                release(self.class, self.tracked);
            }
        }
        impl<T: ?Sized> Deref for $g<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.inner
            }
        }
        impl<T: ?Sized + fmt::Debug> fmt::Debug for $g<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
    )*};
}

guard_impls!(RwLockReadGuard, RwLockWriteGuard);

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized + 'static> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized + 'static> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}
