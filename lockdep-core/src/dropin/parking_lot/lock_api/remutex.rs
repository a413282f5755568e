//! [`ReentrantMutex`]: `lock_api::ReentrantMutex` with validated acquisitions.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::Deref;

use lock_api::{GetThreadId, RawMutex, RawMutexTimed, RawReentrantMutex};

use crate::hook::{self, LockClass};
use crate::report::{Mode, WaitKind};
use crate::sync::NotSend;

/// `lock_api::ReentrantMutex<R, G, T>` whose acquisitions are validated;
/// `parking_lot::ReentrantMutex<T>` is this type over parking_lot's raw mutex.
///
/// Re-entry by the owning thread is not recursive locking: only the outermost acquisition
/// is validated and held in the held-lock stack, and the hold ends when the thread's last
/// guard is dropped.
///
/// # Examples
///
/// ```
/// use lockdep_core::parking_lot::ReentrantMutex;
/// use std::cell::Cell;
///
/// let m = ReentrantMutex::new(Cell::new(0));
/// let outer = m.lock();
/// let inner = m.lock(); // re-entry: no report
/// inner.set(outer.get() + 1);
/// assert_eq!(lockdep_core::held_count(), 1);
/// ```
///
/// # Differences from `parking_lot::ReentrantMutex`
/// - The outermost acquisition is checked against every lock order the process has shown.
/// - A timed try that succeeds is validated as a trylock (no edge).
///
/// # Cost
/// - Outermost `lock` of a chain already seen: one thread-local access, a hash and one
///   lock-free lookup on top of the raw lock.
/// - Re-entry: a search of this thread's held-lock stack (its depth).
/// - With the `off` feature: exactly the raw reentrant mutex and the data.
pub struct ReentrantMutex<R, G, T: ?Sized> {
    raw: RawReentrantMutex<R, G>,
    class: LockClass,
    data: UnsafeCell<T>,
}

// Unwind-safe as std's `ReentrantLock`: only shared access is handed out.
impl<R, G, T: ?Sized + std::panic::UnwindSafe> std::panic::UnwindSafe for ReentrantMutex<R, G, T> {}
impl<R, G, T: ?Sized + std::panic::RefUnwindSafe> std::panic::RefUnwindSafe
    for ReentrantMutex<R, G, T>
{
}

// SAFETY: as lock_api's: the data moves with the mutex.
unsafe impl<R: RawMutex + Send, G: GetThreadId + Send, T: ?Sized + Send> Send
    for ReentrantMutex<R, G, T>
{
}
// SAFETY: only `&T` is handed out, to the owning thread; `T: Send` lets it change owner.
unsafe impl<R: RawMutex + Sync, G: GetThreadId + Sync, T: ?Sized + Send> Sync
    for ReentrantMutex<R, G, T>
{
}

impl<R: RawMutex, G: GetThreadId, T> ReentrantMutex<R, G, T> {
    /// A new unlocked mutex whose class is the caller's location.
    #[track_caller]
    pub const fn new(val: T) -> ReentrantMutex<R, G, T> {
        ReentrantMutex {
            raw: RawReentrantMutex::INIT,
            class: LockClass::at_caller(WaitKind::Sleeping),
            data: UnsafeCell::new(val),
        }
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    fn instance(&self) -> usize {
        self.class.instance()
    }

    fn guard(&self, tracked: bool) -> ReentrantMutexGuard<'_, R, G, T> {
        ReentrantMutexGuard { remutex: self, tracked, _not_send: NotSend::default() }
    }

    /// Whether the validator holds this mutex for this thread (a re-entry's guard then
    /// shares the outermost hold).
    fn held_here(&self) -> bool {
        matches!(hook::hold_of(self.instance()), Some(Some(_)))
    }

    #[track_caller]
    fn locked_by_try(&self, reentry: bool) -> ReentrantMutexGuard<'_, R, G, T> {
        if reentry {
            return self.guard(self.held_here());
        }
        let undo = || {
            // SAFETY: the caller's try took the (outermost) hold and no guard exists yet.
            unsafe { self.raw.unlock() }
        };
        let tracked = hook::locked_by_try(&self.class, self.instance(), Mode::Write, undo);
        self.guard(tracked)
    }

    /// Acquires the mutex, blocking unless this thread owns it. The outermost acquisition is
    /// validated before blocking; a re-entry is not.
    #[track_caller]
    pub fn lock(&self) -> ReentrantMutexGuard<'_, R, G, T> {
        if self.raw.is_owned_by_current_thread() {
            self.raw.lock();
            return self.guard(self.held_here());
        }
        let tracked = hook::lock(&self.class, self.instance(), Mode::Write, 0);
        self.raw.lock();
        self.guard(tracked)
    }

    /// Acquires the mutex if this thread owns it or it is free (no edge).
    #[track_caller]
    pub fn try_lock(&self) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        let reentry = self.raw.is_owned_by_current_thread();
        self.raw.try_lock().then(|| self.locked_by_try(reentry))
    }

    /// Whether the mutex is locked (by anyone).
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Whether this thread owns the mutex.
    pub fn is_owned_by_current_thread(&self) -> bool {
        self.raw.is_owned_by_current_thread()
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

impl<R: RawMutexTimed, G: GetThreadId, T: ?Sized> ReentrantMutex<R, G, T> {
    /// Tries for at most `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_lock_for(&self, timeout: R::Duration) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        let reentry = self.raw.is_owned_by_current_thread();
        self.raw.try_lock_for(timeout).then(|| self.locked_by_try(reentry))
    }

    /// Tries until `timeout`; a success is validated as a trylock (no edge).
    #[track_caller]
    pub fn try_lock_until(&self, timeout: R::Instant) -> Option<ReentrantMutexGuard<'_, R, G, T>> {
        let reentry = self.raw.is_owned_by_current_thread();
        self.raw.try_lock_until(timeout).then(|| self.locked_by_try(reentry))
    }
}

impl<R: RawMutex, G: GetThreadId, T: Default> Default for ReentrantMutex<R, G, T> {
    #[track_caller]
    fn default() -> Self {
        ReentrantMutex::new(T::default())
    }
}

impl<R: RawMutex, G: GetThreadId, T> From<T> for ReentrantMutex<R, G, T> {
    #[track_caller]
    fn from(t: T) -> Self {
        ReentrantMutex::new(t)
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + fmt::Debug> fmt::Debug for ReentrantMutex<R, G, T> {
    /// Never blocks: the data is shown only if a `try_lock` succeeds, like lock_api.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.try_lock();
        crate::sync::debug_lock(f, "ReentrantMutex", data.as_deref()).finish()
    }
}

/// A hold of a [`ReentrantMutex`]; released on drop. Gives `&T` only. `!Send`.
#[must_use = "if unused the ReentrantMutex will immediately unlock"]
#[clippy::has_significant_drop]
pub struct ReentrantMutexGuard<'a, R: RawMutex, G: GetThreadId, T: ?Sized> {
    remutex: &'a ReentrantMutex<R, G, T>,
    tracked: bool,
    _not_send: NotSend,
}

// SAFETY: a shared guard only gives `&T`.
unsafe impl<R: RawMutex + Sync, G: GetThreadId + Sync, T: ?Sized + Sync> Sync
    for ReentrantMutexGuard<'_, R, G, T>
{
}

impl<'a, R: RawMutex, G: GetThreadId, T: ?Sized> ReentrantMutexGuard<'a, R, G, T> {
    /// The mutex this guard holds.
    pub fn remutex(s: &Self) -> &'a ReentrantMutex<R, G, T> {
        s.remutex
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> Deref for ReentrantMutexGuard<'_, R, G, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the owning thread is the only one with guards; they only give `&T`.
        unsafe { &*self.remutex.data.get() }
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> Drop for ReentrantMutexGuard<'_, R, G, T> {
    fn drop(&mut self) {
        let m = self.remutex;
        // SAFETY: this guard owns one level of the hold.
        unsafe { m.raw.unlock() };
        // The validator's hold ends with the thread's last level, whichever guard that is.
        if self.tracked && !m.raw.is_owned_by_current_thread() {
            hook::release(&m.class, m.instance());
        }
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized + fmt::Debug> fmt::Debug
    for ReentrantMutexGuard<'_, R, G, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> crate::tracked::sealed::Sealed
    for ReentrantMutex<R, G, T>
{
}

impl<R: RawMutex, G: GetThreadId, T: ?Sized> crate::TrackedLock for ReentrantMutex<R, G, T> {
    fn lock_ref(&self) -> crate::tracked::LockRef<'_> {
        crate::tracked::LockRef { instance: self.instance(), class: &self.class }
    }
}
